"""What an operator sees of the API: Prometheus metrics, health and readiness, a request id.

- `RequestTelemetry` (ASGI middleware): takes `X-Request-ID` from the caller (or makes one),
  returns it on the response, puts it on every log line of the request, and counts requests and
  latencies per method, route template (`/v1/applications/{application_id}`, never the concrete
  path) and status.
- `StoreCollector`: gauges read from the application store at scrape time: applications per
  status, reviews waiting per queue, disbursements per status.
- `/healthz` answers while the process runs; `/readyz` answers 200 only when Temporal, the
  database and the blob store all answer within a short timeout, else 503 naming the failing one.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select
from sqlmodel import col
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from config.health import readiness
from config.logs import application_id_var, request_id_var
from domain.enums import ApplicationStatus
from store.tables import Application, Disbursement

logger = logging.getLogger(__name__)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class ApiMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Counter(
            "loanflow_http_requests",
            "HTTP requests by method, route template and status",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "loanflow_http_request_duration_seconds",
            "HTTP request latency by method and route template",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        )
        self.status_queries = Counter(
            "loanflow_status_queries",
            "live `status` queries the API asked of application workflows (each a round trip "
            "through Temporal to a worker)",
            registry=registry,
        )
        self.applications_started = Counter(
            "loanflow_applications_started",
            "applications started (a repeated request for the same application is not counted)",
            registry=registry,
        )


class StoreCollector(Collector):
    """Counts from the store's projection, read when Prometheus scrapes."""

    def __init__(self, engine_of: Callable[[], Engine]) -> None:
        self._engine_of = engine_of

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("loanflow_store_up", "1 if the store answered this scrape")
        try:
            with self._engine_of().connect() as conn:
                statuses = conn.execute(
                    select(col(Application.status), func.count()).group_by(Application.status)
                ).all()
                reviews = conn.execute(
                    select(col(Application.review_queue), func.count())
                    .where(col(Application.status) == ApplicationStatus.MANUAL_REVIEW.value)
                    .group_by(Application.review_queue)
                ).all()
                payouts = conn.execute(
                    select(col(Disbursement.status), func.count()).group_by(Disbursement.status)
                ).all()
        except Exception as exc:  # noqa: BLE001  (a scrape reports the store down, never fails)
            logger.warning("store metrics unavailable: %s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        for name, doc, label, rows in (
            ("loanflow_applications", "applications by current status", "status", statuses),
            ("loanflow_reviews_waiting", "applications in manual review", "queue", reviews),
            ("loanflow_disbursements", "disbursements by status", "status", payouts),
        ):
            family = GaugeMetricFamily(name, doc, labels=[label])
            for value, count in rows:
                family.add_metric([str(value or "")], count)
            yield family


class RequestTelemetry:
    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        app_token = application_id_var.set(None)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "<unmatched>"
            method = scope["method"]
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(elapsed)
            if method == "POST" and route == "/v1/applications" and status == 201:
                self.metrics.applications_started.inc()
            logger.info(
                "%s %s %d %.1f ms",
                method,
                route,
                status,
                elapsed * 1000,
                extra={"route": route, "status": status, "duration_ms": round(elapsed * 1000, 1)},
            )
            application_id_var.reset(app_token)
            request_id_var.reset(token)


async def bind_application_id(request: Request) -> None:
    """App-wide dependency: log lines of a route about one application carry its id."""
    application_id = request.path_params.get("application_id")
    if isinstance(application_id, str):
        application_id_var.set(application_id)


router = APIRouter(tags=["operations"], include_in_schema=False)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    services = request.app.state.services
    report = await readiness(services.client, services.engine, services.blobs)
    return JSONResponse(report, status_code=200 if report["ready"] else 503)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    from prometheus_client import generate_latest

    registry: CollectorRegistry = request.app.state.metrics.registry
    body = await asyncio.to_thread(generate_latest, registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
