"""The payment gateway simulator: one order per idempotency key, settlement, fault personas and
signed callbacks. Money must move at most once per key, whatever the caller resubmits."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

import httpx
import pytest
from fastapi import FastAPI

from domain.signing import signature_matches
from mocks.payments import PayoutRequest
from mocks.personas import make_card_number

if TYPE_CHECKING:
    from conftest import Inbox

NOTIFY_URL = "http://api.test/v1/callbacks/payments"


def payout(card_number: str | None = None, channel: str = "NUCC", amount: int = 500_000) -> dict:
    return {
        "amount": amount,
        "account_name": "张三",
        "card_number": card_number or make_card_number("8888"),
        "bank_code": "ICBC",
        "channel": channel,
        "notify_url": NOTIFY_URL,
    }


async def submit(client: httpx.AsyncClient, key: str, body: dict) -> httpx.Response:
    return await client.post("/gateway/v1/payouts", json=body, headers={"Idempotency-Key": key})


async def settled(client: httpx.AsyncClient, key: str, timeout: float = 3.0) -> dict:
    async with asyncio.timeout(timeout):
        while True:
            order = (await client.get(f"/gateway/v1/payouts/{key}")).json()
            if order["status"] != "PENDING":
                return order
            await asyncio.sleep(0.02)


async def ledger(client: httpx.AsyncClient, key: str) -> dict:
    orders = (await client.get("/admin/v1/payouts")).json()["orders"]
    return next(o for o in orders if o["idempotency_key"] == key)


def events(inbox: Inbox) -> list[dict]:
    return [json.loads(c.body) for c in inbox.received]


async def test_channels_by_bank_and_health(client: httpx.AsyncClient) -> None:
    icbc = {
        c["channel"]: c for c in (await client.get("/gateway/v1/channels?bank_code=ICBC")).json()
    }
    other = {
        c["channel"]: c for c in (await client.get("/gateway/v1/channels?bank_code=ABC")).json()
    }
    assert icbc["DIRECT"]["supported"] and not other["DIRECT"]["supported"]
    assert all(c["healthy"] for c in icbc.values())
    knobs = await client.patch("/admin/v1/gateway", json={"down_channels": ["NUCC"]})
    assert knobs.json()["down_channels"] == ["NUCC"]
    icbc = {
        c["channel"]: c for c in (await client.get("/gateway/v1/channels?bank_code=ICBC")).json()
    }
    assert not icbc["NUCC"]["healthy"] and icbc["CUP"]["healthy"]
    missing = await client.get("/gateway/v1/channels")
    assert missing.status_code == 400


async def test_payout_settles_and_sends_a_signed_callback(
    client: httpx.AsyncClient, inbox: Inbox, callback_secret: str
) -> None:
    created = await submit(client, "payout-a1", payout())
    assert created.status_code == 201
    order = created.json()
    assert order["status"] == "PENDING" and order["attempt"] == 1
    assert order["idempotency_key"] == "payout-a1"
    assert (await settled(client, "payout-a1"))["status"] == "SUCCEEDED"

    (callback,) = await inbox.wait_for(1)
    assert callback.url == NOTIFY_URL
    assert signature_matches(
        callback_secret, callback.timestamp, callback.nonce, callback.body, callback.signature
    )
    assert not signature_matches(
        "another-secret", callback.timestamp, callback.nonce, callback.body, callback.signature
    )
    assert not signature_matches(
        callback_secret,
        callback.timestamp,
        callback.nonce,
        callback.body.replace(b"SUCCEEDED", b"FAILED"),
        callback.signature,
    )
    assert json.loads(callback.body) == {
        "order_id": order["order_id"],
        "idempotency_key": "payout-a1",
        "status": "SUCCEEDED",
        "channel": "NUCC",
        "attempt": 1,
        "failure": None,
    }


async def test_concurrent_resubmissions_pay_once(client: httpx.AsyncClient, inbox: Inbox) -> None:
    responses = await asyncio.gather(*(submit(client, "payout-a2", payout()) for _ in range(25)))
    assert sorted(r.status_code for r in responses) == [200] * 24 + [201]
    assert len({r.json()["order_id"] for r in responses}) == 1
    await settled(client, "payout-a2")
    after = await submit(client, "payout-a2", payout(channel="CUP"))
    assert after.status_code == 200
    assert after.json()["status"] == "SUCCEEDED" and after.json()["channel"] == "NUCC"
    entry = await ledger(client, "payout-a2")
    assert entry["succeeded_attempts"] == 1 and len(entry["attempts"]) == 1
    await inbox.wait_for(1)
    await asyncio.sleep(0.1)
    assert len(inbox.received) == 1


async def test_invalid_card_fails_then_a_new_card_is_a_new_attempt(
    client: httpx.AsyncClient, inbox: Inbox, callback_secret: str
) -> None:
    await submit(client, "payout-a3", payout(make_card_number("0000")))
    failed = await settled(client, "payout-a3")
    assert failed["status"] == "FAILED" and failed["failure"] == "INVALID_CARD"
    retry = await submit(client, "payout-a3", payout(make_card_number("5555"), channel="CUP"))
    assert retry.status_code == 201 and retry.json()["attempt"] == 2
    assert retry.json()["order_id"] == failed["order_id"]
    done = await settled(client, "payout-a3")
    assert done["status"] == "SUCCEEDED" and done["channel"] == "CUP"
    received = await inbox.wait_for(2)
    assert [(e["attempt"], e["status"], e["failure"]) for e in events(inbox)] == [
        (1, "FAILED", "INVALID_CARD"),
        (2, "SUCCEEDED", None),
    ]
    assert all(
        signature_matches(callback_secret, c.timestamp, c.nonce, c.body, c.signature)
        for c in received
    )


async def test_first_attempt_fails_with_channel_error(client: httpx.AsyncClient) -> None:
    card = make_card_number("1111")
    await submit(client, "payout-a4", payout(card, channel="DIRECT"))
    first = await settled(client, "payout-a4")
    assert first["failure"] == "CHANNEL_ERROR" and first["attempt"] == 1
    await submit(client, "payout-a4", payout(card, channel="NUCC"))
    second = await settled(client, "payout-a4")
    assert second["status"] == "SUCCEEDED" and second["attempt"] == 2


async def test_lost_callback_is_found_by_polling(client: httpx.AsyncClient, inbox: Inbox) -> None:
    await submit(client, "payout-a5", payout(make_card_number("2222")))
    assert (await settled(client, "payout-a5"))["status"] == "SUCCEEDED"
    await asyncio.sleep(0.2)
    assert inbox.received == []
    (entry,) = list((await client.get("/admin/v1/payouts")).json()["orders"])
    assert entry["succeeded_attempts"] == 1 and entry["attempts"][0]["callbacks"] is False


async def test_success_then_returned(client: httpx.AsyncClient, inbox: Inbox) -> None:
    await submit(client, "payout-a6", payout(make_card_number("3333")))
    await inbox.wait_for(2)
    assert [e["status"] for e in events(inbox)] == ["SUCCEEDED", "RETURNED"]
    assert (await settled(client, "payout-a6"))["status"] == "RETURNED"
    entry = await ledger(client, "payout-a6")
    assert entry["succeeded_attempts"] == 0 and entry["returned_attempts"] == 1
    again = await submit(client, "payout-a6", payout(make_card_number("4444")))
    assert again.status_code == 201 and again.json()["attempt"] == 2


async def test_down_channel_fails_orders(client: httpx.AsyncClient) -> None:
    await client.patch("/admin/v1/gateway", json={"down_channels": ["CUP"]})
    await submit(client, "payout-a7", payout(channel="CUP"))
    order = await settled(client, "payout-a7")
    assert order["status"] == "FAILED" and order["failure"] == "CHANNEL_ERROR"


async def test_registered_card_fault_overrides_the_digits(client: httpx.AsyncClient) -> None:
    card = make_card_number("8888", serial=77)
    await client.post(
        "/admin/v1/bank-cards", json={"card_number": card, "payout_fault": "INVALID_CARD"}
    )
    await submit(client, "payout-a8", payout(card))
    assert (await settled(client, "payout-a8"))["failure"] == "INVALID_CARD"


async def test_callback_is_retried_until_accepted(client: httpx.AsyncClient, inbox: Inbox) -> None:
    inbox.refuse = 2
    await submit(client, "payout-a9", payout())
    await inbox.wait_for(1)
    deliveries = (await client.get("/admin/v1/callbacks")).json()["deliveries"]
    assert deliveries[0]["tries"] == 3 and deliveries[0]["delivered"] is True


async def test_bad_requests(client: httpx.AsyncClient) -> None:
    no_key = await client.post("/gateway/v1/payouts", json=payout())
    assert no_key.status_code == 400 and no_key.json()["error"] == "MISSING_IDEMPOTENCY_KEY"
    unknown = await submit(client, "k", payout(channel="SWIFT"))
    assert unknown.json()["error"] == "UNKNOWN_CHANNEL"
    direct_abc = {**payout(channel="DIRECT"), "bank_code": "ABC"}
    assert (await submit(client, "k", direct_abc)).json()["error"] == "CHANNEL_NOT_SUPPORTED"
    await submit(client, "payout-b1", payout(amount=100))
    conflict = await submit(client, "payout-b1", payout(amount=200))
    assert conflict.status_code == 409 and conflict.json()["error"] == "IDEMPOTENCY_KEY_REUSED"
    missing = await client.get("/gateway/v1/payouts/payout-nope")
    assert missing.status_code == 404 and missing.json()["error"] == "ORDER_NOT_FOUND"


async def test_settlement_is_lazy_without_a_serving_loop(mocks_app: FastAPI) -> None:
    """Where no background task can run (a submit outside any event loop), reads still see the
    order settle once its time has come; only the callback is missing."""
    ledger = mocks_app.state.mocks.payments
    request = PayoutRequest(500, "张三", make_card_number("8888"), "ICBC", "NUCC", NOTIFY_URL)
    order, created = await asyncio.to_thread(ledger.submit, "payout-c1", request, None)
    assert created and order["status"] == "PENDING"
    await asyncio.sleep(0.1)
    assert ledger.query("payout-c1")["status"] == "SUCCEEDED"
    assert ledger.deliveries == []


@pytest.mark.parametrize("delay", [0.0, 0.2])
async def test_settle_delay_knob(client: httpx.AsyncClient, delay: float) -> None:
    await client.patch("/admin/v1/gateway", json={"settle_delay_seconds": delay})
    await submit(client, "payout-d1", payout())
    await asyncio.sleep(0.1)
    status = (await client.get("/gateway/v1/payouts/payout-d1")).json()["status"]
    assert status == ("SUCCEEDED" if delay == 0 else "PENDING")
