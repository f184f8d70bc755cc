"""The simulators of every outside party as one FastAPI app, a router per vendor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from mocks import (
    admin,
    bankcard,
    bureau,
    carrier,
    debits,
    devicerisk,
    esign,
    gateway,
    identity,
    test_applicants,
)
from mocks.errors import install_error_handlers
from mocks.settings import MockSettings
from mocks.state import MockState


def create_app(
    settings: MockSettings | None = None,
    callback_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """`callback_transport` lets tests receive the gateway's callbacks in-process."""
    state = MockState(settings, callback_transport)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await state.aclose()

    app = FastAPIOffline(title="loanflow outside-party simulators", version="1", lifespan=lifespan)
    app.state.mocks = state
    install_error_handlers(app)
    for module in (
        identity,
        carrier,
        bureau,
        bankcard,
        esign,
        gateway,
        debits,
        admin,
        test_applicants,
    ):
        app.include_router(module.router)
    app.include_router(bureau.admin_router)
    app.include_router(devicerisk.admin_router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
