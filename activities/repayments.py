"""Repayments: debit orders against the borrower's bound card through the payment gateway,
under keys the line workflow derives (per instalment and attempt, or per borrower reference),
and the poll that waits for the gateway's final answer."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.vendor_errors import vendor_call
from domain.line_messages import AwaitDebitInput, DebitInput, DebitOrder, DebitStatus
from domain.naming import ActivityName, ErrorType
from vendors.gateway import PaymentGatewayClient


class RepaymentActivities:
    def __init__(self, client: PaymentGatewayClient) -> None:
        self._client = client

    @activity.defn(name=ActivityName.DEBIT_SUBMIT)
    @vendor_call
    async def debit(self, inp: DebitInput) -> DebitOrder:
        order = await self._client.debit(inp)
        activity.logger.info("debit %s for line %s: %s", order.order_id, inp.line_id, order.status)
        return order

    @activity.defn(name=ActivityName.DEBIT_AWAIT)
    @vendor_call
    async def await_debit(self, inp: AwaitDebitInput) -> DebitOrder:
        """Fails with DEBIT_PENDING until the order settles: the retry policy is the poll."""
        order = await self._client.query_debit(inp.idempotency_key)
        if order is None:
            raise ApplicationError(
                "the gateway has no debit for this key",
                type=ErrorType.NOT_FOUND,
                non_retryable=True,
            )
        if order.status == DebitStatus.PENDING:
            raise ApplicationError("debit not settled yet", type=ErrorType.DEBIT_PENDING)
        return order
