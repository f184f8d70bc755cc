"""Repayments: debit orders against the borrower's bound card through the payment gateway,
under keys the line workflow derives (per instalment and attempt, or per borrower reference),
and the poll that waits for the gateway's final answer."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.vendor_errors import to_application_error
from domain.line_messages import AwaitDebitInput, DebitInput, DebitOrder, DebitStatus
from domain.naming import ActivityName, ErrorType
from vendors.base import VendorError
from vendors.gateway import PaymentGatewayClient


class RepaymentActivities:
    def __init__(self, client: PaymentGatewayClient) -> None:
        self._client = client

    @activity.defn(name=ActivityName.DEBIT_SUBMIT)
    async def debit(self, inp: DebitInput) -> DebitOrder:
        try:
            order = await self._client.debit(inp)
        except VendorError as exc:
            raise to_application_error(exc) from exc
        activity.logger.info("debit %s for line %s: %s", order.order_id, inp.line_id, order.status)
        return order

    @activity.defn(name=ActivityName.DEBIT_AWAIT)
    async def await_debit(self, inp: AwaitDebitInput) -> DebitOrder:
        """Fails with DEBIT_PENDING until the order settles: the retry policy is the poll."""
        try:
            order = await self._client.query_debit(inp.idempotency_key)
        except VendorError as exc:
            raise to_application_error(exc) from exc
        if order is None:
            raise ApplicationError(
                "the gateway has no debit for this key",
                type=ErrorType.NOT_FOUND,
                non_retryable=True,
            )
        if order.status == DebitStatus.PENDING:
            raise ApplicationError("debit not settled yet", type=ErrorType.DEBIT_PENDING)
        return order
