"""Stage 10: move the money, exactly once.

Every attempt uses the same idempotency key `payout-{application_id}`; the gateway keeps one
order per key and refuses a second payment while one is pending or succeeded, so a retried
activity, a replayed workflow or a restarted worker can never pay twice. The workflow routes to
a channel by health, waits for the gateway's signed callback (a signal) and falls back to
polling when the callback is late or lost; a channel error moves to the next channel, an invalid
or returned card asks the applicant (through the parent) for another card, or ends the payout
at once when the parent has no other card to give (`card_replaceable`: a credit line's draw).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.enums import PayoutFailure, PayoutResultKind, PayoutStatus
    from domain.naming import (
        QueryName,
        SignalName,
        WorkflowName,
        payout_idempotency_key,
    )
    from domain.offer import BankCard
    from domain.payout import (
        DisbursementRecord,
        GatewayOrder,
        PaymentNotification,
        PayoutInput,
        PayoutNeedsCard,
        PayoutOutcome,
        QueryPayoutInput,
        RouteInput,
        SubmitPayoutInput,
    )
    from workflows import calls

MAX_POLL_INTERVAL = timedelta(minutes=10)
FINAL = frozenset({PayoutStatus.SUCCEEDED, PayoutStatus.FAILED, PayoutStatus.RETURNED})
# The channel list read and the disbursement written to the store as local activities (no round
# trip through the task queue); asked at the start of the run, payouts already open replay with
# regular ones. Submitting and querying the order stay regular activities.
ROUTE_AND_RECORD_LOCAL = "route-and-record-as-local-activities"


@workflow.defn(name=WorkflowName.PAYOUT)
class PayoutWorkflow:
    def __init__(self) -> None:
        self._notifications: list[PaymentNotification] = []
        self._new_card: BankCard | None = None
        self._order: GatewayOrder | None = None
        self._awaiting_card = False
        self._route_and_record_local = False

    @workflow.run
    async def run(self, inp: PayoutInput) -> PayoutOutcome:
        self._route_and_record_local = workflow.patched(ROUTE_AND_RECORD_LOCAL)
        key = payout_idempotency_key(inp.application_id)
        card = inp.card
        failed_channels: list[str] = []
        attempts = 0
        while attempts < inp.max_attempts:
            channel = await self._route(inp, card, failed_channels)
            if channel is None:
                return self._outcome(PayoutResultKind.FAILED, attempts, "no payment channel")
            attempts += 1
            order = await self._settle(inp, await self._submit(inp, key, card, channel))
            self._order = order
            if order.status == PayoutStatus.SUCCEEDED:
                await self._record(inp, order, card)
                return self._outcome(PayoutResultKind.DISBURSED, attempts)
            if order.status == PayoutStatus.RETURNED or order.failure == PayoutFailure.INVALID_CARD:
                if not inp.card_replaceable:
                    refusal = str(order.failure or order.status)
                    return self._outcome(PayoutResultKind.CARD_REFUSED, attempts, refusal)
                new_card = await self._ask_for_card(inp, order)
                if new_card is None:
                    return self._outcome(PayoutResultKind.CARD_TIMEOUT, attempts, "no new card")
                card, failed_channels = new_card, []
                continue
            if order.failure == PayoutFailure.CHANNEL_ERROR:
                failed_channels.append(channel)
                await workflow.sleep(timedelta(seconds=2**attempts))
                continue
            return self._outcome(PayoutResultKind.FAILED, attempts, order.detail or "refused")
        return self._outcome(PayoutResultKind.FAILED, attempts, "attempts exhausted")

    @workflow.signal(name=SignalName.PAYMENT_NOTIFICATION)
    def payment_notification(self, notification: PaymentNotification) -> None:
        self._notifications.append(notification)

    @workflow.signal(name=SignalName.NEW_BANK_CARD)
    def new_bank_card(self, card: BankCard) -> None:
        if self._awaiting_card:
            self._new_card = card

    @workflow.query(name=QueryName.STATUS)
    def status(self) -> GatewayOrder | None:
        return self._order

    async def _route(self, inp: PayoutInput, card: BankCard, failed: list[str]) -> str | None:
        routes = await calls.payout_route(
            RouteInput(
                application_id=inp.application_id,
                bank_code=card.bank_code,
                amount=inp.amount,
                exclude=failed,
            ),
            local=self._route_and_record_local,
        )
        if not routes.channels and failed:
            # every healthy channel failed once: start the rotation again rather than give up
            failed.clear()
            return await self._route(inp, card, failed)
        return routes.channels[0] if routes.channels else None

    async def _submit(
        self, inp: PayoutInput, key: str, card: BankCard, channel: str
    ) -> GatewayOrder:
        return await calls.payout_submit(
            SubmitPayoutInput(
                application_id=inp.application_id,
                idempotency_key=key,
                amount=inp.amount,
                account_name=inp.account_name,
                card_number=card.number,
                bank_code=card.bank_code,
                channel=channel,
            )
        )

    async def _settle(self, inp: PayoutInput, order: GatewayOrder) -> GatewayOrder:
        """Wait for the callback of this attempt; poll when it does not come in time."""
        wait = timedelta(seconds=inp.callback_wait_seconds)
        while order.status not in FINAL:
            attempt = order.attempt
            try:
                await workflow.wait_condition(self._notice_arrived(attempt), timeout=wait)
            except TimeoutError:
                order = await calls.payout_query(
                    QueryPayoutInput(
                        application_id=inp.application_id, idempotency_key=order.idempotency_key
                    )
                )
                wait = min(wait * 2, MAX_POLL_INTERVAL)
                continue
            notice = self._final_notice(attempt)
            assert notice is not None
            order = order.model_copy(
                update={
                    "status": notice.status,
                    "failure": notice.failure,
                    "channel": notice.channel,
                }
            )
        return order

    def _notice_arrived(self, attempt: int) -> Callable[[], bool]:
        return lambda: self._final_notice(attempt) is not None

    def _final_notice(self, attempt: int) -> PaymentNotification | None:
        for notice in reversed(self._notifications):
            if notice.attempt == attempt and notice.status in FINAL:
                return notice
        return None

    async def _ask_for_card(self, inp: PayoutInput, order: GatewayOrder) -> BankCard | None:
        parent = workflow.info().parent
        if parent is None:
            return None
        timeout = timedelta(seconds=inp.new_card_timeout_seconds)
        self._new_card, self._awaiting_card = None, True
        await workflow.get_external_workflow_handle(parent.workflow_id).signal(
            SignalName.PAYOUT_NEEDS_CARD,
            PayoutNeedsCard(
                reason=str(order.failure or order.status), deadline=workflow.now() + timeout
            ),
        )
        try:
            await workflow.wait_condition(lambda: self._new_card is not None, timeout=timeout)
        except TimeoutError:
            return None
        finally:
            self._awaiting_card = False
        return self._new_card

    async def _record(self, inp: PayoutInput, order: GatewayOrder, card: BankCard) -> None:
        await calls.payout_record(
            DisbursementRecord(
                application_id=inp.application_id,
                idempotency_key=order.idempotency_key,
                order_id=order.order_id,
                amount=inp.amount,
                channel=order.channel,
                card_last4=card.number[-4:],
                status=order.status,
            ),
            local=self._route_and_record_local,
        )

    def _outcome(self, kind: PayoutResultKind, attempts: int, detail: str = "") -> PayoutOutcome:
        order = self._order
        return PayoutOutcome(
            kind=kind,
            order_id=order.order_id if order else None,
            channel=order.channel if order else None,
            attempts=attempts,
            detail=detail,
        )
