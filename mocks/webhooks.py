"""How the simulated vendors push to the lender: a JSON body signed over a fresh timestamp and
nonce on every try (`domain.signing`), retried with backoff while the lender does not answer
2xx. The payment gateway's callbacks, the bureau's alerts and the device-risk events all go
through here, each vendor with its own secret."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import httpx

from domain.signing import signed_headers
from mocks.settings import MockSettings


async def push_signed(
    url: str,
    event: dict[str, Any],
    secret: str,
    settings: MockSettings,
    transport: httpx.AsyncBaseTransport | None,
    record: dict[str, object] | None = None,
) -> dict[str, object]:
    """Deliver `event`; `record` (tries, delivered, last_error) is updated as it goes, so an
    admin view can show a delivery still in progress."""
    body = json.dumps(event, separators=(",", ":"), default=str).encode()
    record = record if record is not None else {}
    record.update(tries=0, delivered=False, last_error=None)
    async with httpx.AsyncClient(
        transport=transport, timeout=settings.callback_timeout_seconds
    ) as client:
        for tries in range(1, settings.callback_max_tries + 1):
            record["tries"] = tries
            try:
                headers = {
                    "Content-Type": "application/json",
                    **signed_headers(secret, body, int(time.time()), uuid.uuid4().hex),
                }
                response = await client.post(url, content=body, headers=headers)
                if response.is_success:
                    record["delivered"] = True
                    return record
                record["last_error"] = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                record["last_error"] = type(exc).__name__
            if tries < settings.callback_max_tries:
                await asyncio.sleep(settings.callback_backoff_seconds * 2 ** (tries - 1))
    return record
