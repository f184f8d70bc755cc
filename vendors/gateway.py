"""Payment gateway client (代付).

Money moves exactly once because the gateway keeps one order per idempotency key: a
resubmission while the order is pending or paid returns it unchanged, and only a failed or
returned order starts a new attempt. Callbacks are signed with HMAC-SHA256 over a timestamp, a
nonce and the raw body (`domain.signing`).
"""

from __future__ import annotations

from urllib.parse import quote

from pydantic import BaseModel, TypeAdapter

from domain.line_messages import DebitInput, DebitOrder
from domain.payout import GatewayOrder, SubmitPayoutInput
from vendors.base import VendorClient, VendorError

IDEMPOTENCY_HEADER = "Idempotency-Key"
ORDER_NOT_FOUND = "ORDER_NOT_FOUND"


class ChannelStatus(BaseModel):
    channel: str
    healthy: bool
    success_rate: float
    supported: bool


_CHANNELS = TypeAdapter(list[ChannelStatus])


class PaymentGatewayClient(VendorClient):
    vendor = "gateway"

    async def channels(self, bank_code: str) -> list[ChannelStatus]:
        route = "GET /gateway/v1/channels"
        response = await self.request(
            "GET", "/gateway/v1/channels", route=route, params={"bank_code": bank_code}
        )
        try:
            return _CHANNELS.validate_python(response.json())
        except ValueError:
            raise VendorError(
                f"{self.vendor} {route} sent a malformed body",
                retryable=False,
                status_code=response.status_code,
            ) from None

    async def submit(self, payout: SubmitPayoutInput, notify_url: str) -> GatewayOrder:
        route = "POST /gateway/v1/payouts"
        response = await self.request(
            "POST",
            "/gateway/v1/payouts",
            route=route,
            accept=(200, 201),
            headers={IDEMPOTENCY_HEADER: payout.idempotency_key},
            json={
                "amount": payout.amount,
                "account_name": payout.account_name,
                "card_number": payout.card_number,
                "bank_code": payout.bank_code,
                "channel": payout.channel,
                "notify_url": notify_url,
            },
        )
        return self.parse(GatewayOrder, route, response)

    async def query(self, idempotency_key: str) -> GatewayOrder | None:
        """The order, or None when the gateway has none for the key."""
        route = "GET /gateway/v1/payouts/{key}"
        try:
            response = await self.request(
                "GET", f"/gateway/v1/payouts/{quote(idempotency_key, safe='')}", route=route
            )
        except VendorError as exc:
            if exc.code == ORDER_NOT_FOUND:
                return None
            raise
        return self.parse(GatewayOrder, route, response)

    async def debit(self, debit: DebitInput) -> DebitOrder:
        """Collect from the borrower's card (代扣); one order per key, final once settled."""
        route = "POST /gateway/v1/debits"
        response = await self.request(
            "POST",
            "/gateway/v1/debits",
            route=route,
            accept=(200, 201),
            headers={IDEMPOTENCY_HEADER: debit.idempotency_key},
            json={
                "amount": debit.amount,
                "account_name": debit.account_name,
                "card_number": debit.card_number,
                "bank_code": debit.bank_code,
            },
        )
        return self.parse(DebitOrder, route, response)

    async def query_debit(self, idempotency_key: str) -> DebitOrder | None:
        route = "GET /gateway/v1/debits/{key}"
        try:
            response = await self.request(
                "GET", f"/gateway/v1/debits/{quote(idempotency_key, safe='')}", route=route
            )
        except VendorError as exc:
            if exc.code == ORDER_NOT_FOUND:
                return None
            raise
        return self.parse(DebitOrder, route, response)
