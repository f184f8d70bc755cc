"""`python -m mocks` as a real process: the gateway's background settlement delivers a signed
callback over the network to a receiver, with the secret taken from the environment."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
import uvicorn

from domain.signing import signature_matches
from mocks.__main__ import parse_args
from mocks.personas import DEMO_APPROVE

if TYPE_CHECKING:
    from conftest import Inbox

ROOT = Path(__file__).resolve().parents[2]
SECRET = "secret-from-the-environment"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_command_line_defaults() -> None:
    args = parse_args([])
    assert (args.host, args.port) == ("127.0.0.1", 8100)
    assert parse_args(["--port", "9100", "--host", "0.0.0.0"]).port == 9100


@pytest.fixture
def mocks_url() -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "LOANFLOW_PAYMENT_CALLBACK_SECRET": SECRET,
        "LOANFLOW_MOCKS_SETTLE_DELAY_SECONDS": "0.05",
        "PYTHONPATH": str(ROOT),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "mocks", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
        assert b"Traceback" not in stderr, stderr.decode(errors="replace")


@pytest.fixture
async def receiver_url(inbox: Inbox) -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            inbox.app(), host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="none"
        )
    )
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:
            await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


async def _wait_until_up(client: httpx.AsyncClient) -> None:
    async with asyncio.timeout(20):
        while True:
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)


@pytest.mark.slow
async def test_served_gateway_calls_back(mocks_url: str, receiver_url: str, inbox: Inbox) -> None:
    async with httpx.AsyncClient(base_url=mocks_url, timeout=5) as client:
        await _wait_until_up(client)
        response = await client.post(
            "/gateway/v1/payouts",
            headers={"Idempotency-Key": "payout-served-1"},
            json={
                "amount": 100_000,
                "account_name": DEMO_APPROVE.name,
                "card_number": DEMO_APPROVE.card_number,
                "bank_code": "ICBC",
                "channel": "DIRECT",
                "notify_url": receiver_url + "/v1/callbacks/payments",
            },
        )
        assert response.status_code == 201
        (callback,) = await inbox.wait_for(1)
        assert callback.url.endswith("/v1/callbacks/payments")
        assert signature_matches(
            SECRET, callback.timestamp, callback.nonce, callback.body, callback.signature
        )
        order = (await client.get("/gateway/v1/payouts/payout-served-1")).json()
        assert order["status"] == "SUCCEEDED"
