"""The HTTP API process: applicant, ops, vendor callbacks and the Web UI's codec endpoint.

`create_app` builds the app; its lifespan connects Temporal (unless a client is given, as tests
do), the application store and the blob store, and keeps them in `app.state.services`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from prometheus_client import CollectorRegistry
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.client import Client

from api.application_workflows import ApplicationWorkflows
from api.deps import Services
from api.errors import error_docs, error_response, install_error_handlers
from api.examples import examples_for
from api.hygiene import refuse_control_characters
from api.limits import build_limiter
from api.ops_users import seed_dev_users
from api.routes import (
    applicant,
    callbacks,
    codec,
    console,
    lines,
    ops,
    ops_tools,
    quotes,
    sessions,
)
from api.telemetry import ApiMetrics, RequestTelemetry, StoreCollector, bind_application_id
from api.telemetry import router as operations_router
from api.watch import StoreWatch
from config.codec import EncryptionCodec
from config.settings import Settings, get_settings
from config.temporal import connect
from store.blobs import open_blob_store
from store.db import make_engine
from vendors.gateway import PaymentGatewayClient

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"

# Room for the multipart envelope around the largest file a route accepts.
MULTIPART_OVERHEAD = 64 * 1024


class BodySizeLimit:
    """Refuses a request whose declared Content-Length is above any route's limit before the
    body is read: the multipart parser would otherwise spool all of it to disk first."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            declared = dict(scope["headers"]).get(b"content-length", b"")
            if declared.isdigit() and int(declared) > self.max_bytes:
                response = error_response(413, "too_large", f"at most {self.max_bytes} bytes")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def operation_id(route: APIRoute) -> str:
    """Stable, generator-friendly operation ids from the route function: `startApplication`."""
    head, *rest = route.name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def _finish_openapi(app: FastAPI) -> None:
    """Three touches FastAPI does not make: an error status a route declares by description only
    gets the one `ErrorBody` model, file fields (`contentMediaType` in OpenAPI 3.1) also get
    the 3.0 `format: binary` that client generators look for (else they send text), and every
    model gets its example (`api/examples.py`)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = build()
            error_ref = {"$ref": "#/components/schemas/ErrorBody"}
            for operations in spec.get("paths", {}).values():
                for operation in operations.values():
                    for code, answer in operation.get("responses", {}).items():
                        if code[0] in "45" and "content" not in answer:
                            answer["content"] = {"application/json": {"schema": error_ref}}
            for schema in spec.get("components", {}).get("schemas", {}).values():
                for field in schema.get("properties", {}).values():
                    if field.get("contentMediaType") == "application/octet-stream":
                        field["format"] = "binary"
            examples_for(spec.get("components", {}).get("schemas", {}))
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(settings: Settings | None = None, temporal_client: Client | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = temporal_client or await connect(settings)
        engine = make_engine(settings.resolved_database_url)
        watch = StoreWatch(engine)
        if settings.seed_dev_users:
            created = await asyncio.to_thread(seed_dev_users, engine)
            if created:
                logger.warning("development ops users created: %s", ", ".join(created))
        if not settings.codec_requires_sign_in:
            logger.warning(
                "codec endpoint open without sign-in (LOANFLOW_CODEC_REQUIRES_SIGN_IN=false): "
                "decoded payloads hold personal data; local demos only"
            )
        app.state.services = Services(
            settings=settings,
            client=client,
            engine=engine,
            blobs=open_blob_store(settings),
            workflows=ApplicationWorkflows(client, watch, app.state.metrics.status_queries),
            payments=PaymentGatewayClient(
                settings.mocks_url, timeout=settings.vendor_timeout_seconds
            ),
            limiter=build_limiter(
                settings.redis_url, settings.redis_prefix, settings.rate_limit_overrides
            ),
            codec=EncryptionCodec(
                settings.payload_encryption_key,
                settings.payload_key_id,
                settings.payload_previous_keys,
            ),
        )
        try:
            yield
        finally:
            await app.state.services.limiter.counters.aclose()
            await app.state.services.payments.aclose()
            await watch.aclose()
            engine.dispose()

    # Swagger UI and ReDoc assets come from the fastapi-offline wheel, not a CDN.
    app = FastAPIOffline(
        title="loanflow",
        summary="Consumer-loan applications from submission to payout, on Temporal",
        version="1",
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        dependencies=[Depends(refuse_control_characters), Depends(bind_application_id)],
    )
    install_error_handlers(app)
    for module in (applicant, quotes, sessions, ops, ops_tools, callbacks, codec):
        # Every route may answer 422 and 5xx in the one error model; routes add their own.
        app.include_router(module.router, responses=error_docs(422, 500))
    app.include_router(lines.router, responses=error_docs(422, 500))
    app.include_router(lines.ops_router, responses=error_docs(422, 500))
    app.include_router(console.router)
    app.mount("/console/static", StaticFiles(directory=STATIC_DIR), name="console-static")
    app.include_router(operations_router)
    _finish_openapi(app)
    # a registry per app: tests build many apps in one process
    registry = CollectorRegistry()
    registry.register(StoreCollector(lambda: app.state.services.engine))
    app.state.metrics = metrics = ApiMetrics(registry)
    largest = max(settings.max_image_bytes, settings.max_video_bytes) + MULTIPART_OVERHEAD
    app.add_middleware(BodySizeLimit, max_bytes=largest)
    # The Web UI calls the codec endpoint from its own origin, with the user's credentials.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.codec_cors_origins,
        allow_credentials=True,
        allow_methods=["POST"],
        allow_headers=["content-type", "x-namespace", "authorization"],
    )
    # outermost: every answer, refusals of the middlewares above included, is counted and tagged
    app.add_middleware(RequestTelemetry, metrics=metrics)
    return app
