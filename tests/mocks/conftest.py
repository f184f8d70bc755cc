"""The simulators in-process: the app behind httpx's ASGITransport and an inbox that receives
the gateway's callbacks the same way, so no port is opened."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from mocks.app import create_app
from mocks.settings import MockSettings

SECRET = "test-callback-secret"


@dataclass
class Callback:
    url: str
    body: bytes
    signature: str | None
    timestamp: str = ""
    nonce: str = ""


@dataclass
class Inbox:
    """Collects callbacks; `refuse` answers that many deliveries with 500 first."""

    received: list[Callback] = field(default_factory=list)
    refuse: int = 0
    refused: int = 0

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/{path:path}")
        async def receive(request: Request) -> Response:
            if self.refused < self.refuse:
                self.refused += 1
                return Response(status_code=500)
            headers = request.headers
            self.received.append(
                Callback(
                    str(request.url),
                    await request.body(),
                    headers.get("x-signature"),
                    headers.get("x-timestamp", ""),
                    headers.get("x-nonce", ""),
                )
            )
            return Response(status_code=204)

        return app

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[Callback]:
        async with asyncio.timeout(timeout):
            while len(self.received) < count:
                await asyncio.sleep(0.01)
        return self.received


@pytest.fixture
def callback_secret() -> str:
    return SECRET


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
async def mocks_app(inbox: Inbox) -> AsyncIterator[FastAPI]:
    settings = MockSettings(
        payment_callback_secret=SECRET,
        settle_delay_seconds=0.05,
        returned_delay_seconds=0.1,
        callback_backoff_seconds=0.01,
    )
    app = create_app(settings, callback_transport=httpx.ASGITransport(app=inbox.app()))
    yield app
    await app.state.mocks.aclose()


@pytest.fixture
async def client(mocks_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=mocks_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mocks") as http:
        yield http
