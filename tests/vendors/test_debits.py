"""The gateway's debit orders (代扣): the vendor client and the simulator speak the same protocol,
one order per idempotency key, settlement read by polling, and the repayment activities'
poll-by-retry contract."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.repayments import RepaymentActivities
from domain.line_messages import AwaitDebitInput, DebitInput, DebitStatus
from domain.naming import ErrorType
from mocks.app import create_app
from mocks.personas import make_card_number
from mocks.settings import MockSettings
from vendors.base import VendorError
from vendors.gateway import PaymentGatewayClient

GOOD = make_card_number("8888", serial=7)
BROKE = make_card_number("4444", serial=7)


@pytest.fixture
async def gateway() -> AsyncIterator[tuple[PaymentGatewayClient, httpx.AsyncClient]]:
    app = create_app(MockSettings(settle_delay_seconds=0.05))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m") as h:
        yield PaymentGatewayClient("http://m", client=h), h
    await app.state.mocks.aclose()


def debit(key: str, amount: int = 10_000, card: str = GOOD) -> DebitInput:
    return DebitInput(
        line_id="L1",
        idempotency_key=key,
        amount=amount,
        account_name="王五",
        card_number=card,
        bank_code="ICBC",
    )


async def settled(client: PaymentGatewayClient, key: str):  # type: ignore[no-untyped-def]
    for _ in range(100):
        order = await client.query_debit(key)
        assert order is not None
        if order.status != DebitStatus.PENDING:
            return order
        await asyncio.sleep(0.01)
    raise AssertionError("debit never settled")


async def test_one_debit_per_key_settled_by_polling(gateway) -> None:  # type: ignore[no-untyped-def]
    client, http = gateway
    first = await client.debit(debit("debit-L1-a-p1-1"))
    assert first.status == DebitStatus.PENDING
    again = await client.debit(debit("debit-L1-a-p1-1"))
    assert again.order_id == first.order_id
    done = await settled(client, "debit-L1-a-p1-1")
    assert done.status == DebitStatus.SUCCEEDED and done.amount == 10_000
    with pytest.raises(VendorError) as refused:
        await client.debit(debit("debit-L1-a-p1-1", amount=9_999))
    assert refused.value.code == "IDEMPOTENCY_KEY_REUSED" and not refused.value.retryable
    assert await client.query_debit("no-such-key") is None
    total = (await http.get(f"/admin/v1/debits/{GOOD}")).json()["settled_total"]
    assert total == 10_000  # the repeat took nothing


async def test_insufficient_funds_and_admin_faults(gateway) -> None:  # type: ignore[no-untyped-def]
    client, http = gateway
    await client.debit(debit("k-broke", card=BROKE))
    failed = await settled(client, "k-broke")
    assert failed.status == DebitStatus.FAILED and failed.failure == "INSUFFICIENT_FUNDS"
    response = await http.put("/admin/v1/debit-faults", json={"card_number": GOOD, "failures": 1})
    assert response.status_code == 200
    await client.debit(debit("k-fault-1"))
    await client.debit(debit("k-fault-2"))
    assert (await settled(client, "k-fault-1")).status == DebitStatus.FAILED
    assert (await settled(client, "k-fault-2")).status == DebitStatus.SUCCEEDED


async def test_the_await_activity_fails_pending_until_settled(gateway) -> None:  # type: ignore[no-untyped-def]
    client, _ = gateway
    acts, env = RepaymentActivities(client), ActivityEnvironment()
    order = await env.run(acts.debit, debit("k-act"))
    assert order.status == DebitStatus.PENDING
    with pytest.raises(ApplicationError) as pending:
        await env.run(acts.await_debit, AwaitDebitInput(line_id="L1", idempotency_key="k-act"))
    assert pending.value.type == ErrorType.DEBIT_PENDING and not pending.value.non_retryable
    await asyncio.sleep(0.08)
    done = await env.run(acts.await_debit, AwaitDebitInput(line_id="L1", idempotency_key="k-act"))
    assert done.status == DebitStatus.SUCCEEDED
    with pytest.raises(ApplicationError) as missing:
        await env.run(acts.await_debit, AwaitDebitInput(line_id="L1", idempotency_key="nope"))
    assert missing.value.non_retryable
