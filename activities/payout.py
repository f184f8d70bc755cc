"""Stage 10, disbursement: route to a payment channel, submit and query gateway orders under
the application's idempotency key, and record the disbursement in the application store.

The activities never invent keys or retry on their own: the key comes from the workflow and
the gateway keeps one order per key, so any retry of these activities is safe.
"""

from __future__ import annotations

from sqlalchemy import Engine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.storage import store_call
from activities.vendor_errors import to_application_error
from domain.models import (
    DisbursementRecord,
    GatewayOrder,
    QueryPayoutInput,
    RouteInput,
    RouteResult,
    SubmitPayoutInput,
)
from domain.naming import ActivityName, ErrorType
from store import queries
from vendors.base import VendorError
from vendors.gateway import PaymentGatewayClient

CALLBACK_PATH = "/v1/callbacks/payments"


class PayoutActivities:
    def __init__(self, client: PaymentGatewayClient, engine: Engine, api_url: str) -> None:
        """`api_url` is where the gateway can reach the API that receives its callbacks."""
        self._client = client
        self._engine = engine
        self._notify_url = api_url.rstrip("/") + CALLBACK_PATH

    @activity.defn(name=ActivityName.PAYOUT_ROUTE)
    async def route(self, inp: RouteInput) -> RouteResult:
        try:
            channels = await self._client.channels(inp.bank_code)
        except VendorError as exc:
            raise to_application_error(exc) from exc
        usable = [c for c in channels if c.healthy and c.supported and c.channel not in inp.exclude]
        usable.sort(key=lambda c: c.success_rate, reverse=True)
        return RouteResult(channels=[c.channel for c in usable])

    @activity.defn(name=ActivityName.PAYOUT_SUBMIT)
    async def submit(self, inp: SubmitPayoutInput) -> GatewayOrder:
        try:
            order = await self._client.submit(inp, self._notify_url)
        except VendorError as exc:
            raise to_application_error(exc) from exc
        activity.logger.info(
            "payout %s attempt %d on %s: %s",
            order.order_id,
            order.attempt,
            order.channel,
            order.status,
        )
        return order

    @activity.defn(name=ActivityName.PAYOUT_QUERY)
    async def query(self, inp: QueryPayoutInput) -> GatewayOrder:
        try:
            order = await self._client.query(inp.idempotency_key)
        except VendorError as exc:
            raise to_application_error(exc) from exc
        if order is None:
            raise ApplicationError(
                "the gateway has no order for this key",
                type=ErrorType.NOT_FOUND,
                non_retryable=True,
            )
        return order

    @activity.defn(name=ActivityName.PAYOUT_RECORD)
    async def record(self, inp: DisbursementRecord) -> None:
        await store_call(self._engine, queries.record_disbursement, inp)
