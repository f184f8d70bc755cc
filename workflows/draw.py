"""A draw on a credit line: the application's last stages again, for one amount.

Pre-payout check (blacklist, fraud signals, bureau freshness), the contract generated from the
very schedule the borrower was quoted, e-sign with an OTP, the platform seal, then the existing
`PayoutWorkflow` as a child. The same activities as the application, under the draw's own id:
the payout workflow is `payout-{draw workflow id}` and so is its idempotency key, so a draw pays
out at most once whatever retries or crashes happen.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError, ChildWorkflowError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from domain.contract import (
        ContractDocument,
        ContractInput,
        EsignEnvelope,
        EsignEnvelopeInput,
        EsignSignInput,
        EsignSignResult,
        SealInput,
        SignContractInput,
        SignContractResult,
    )
    from domain.decision import PrePayoutInput, PrePayoutResult
    from domain.enums import DecisionOutcome, PayoutResultKind
    from domain.line_messages import DrawInput, DrawOutcome, DrawStage, DrawView
    from domain.lines import DrawStatus
    from domain.naming import (
        ErrorType,
        QueryName,
        SignalName,
        UpdateName,
        WorkflowName,
        payout_workflow_id,
    )
    from domain.payout import PayoutInput, PayoutNeedsCard, PayoutOutcome
    from domain.reasons import ReasonCode, applicant_reasons
    from workflows import calls, options


class DrawEnded(Exception):
    """Unwinds the stages once the draw has its outcome."""


@workflow.defn(name=WorkflowName.DRAW)
class DrawWorkflow:
    @workflow.init
    def __init__(self, inp: DrawInput) -> None:
        self._inp = inp
        self._stage = DrawStage.PRE_PAYOUT_CHECK
        self._attempts_left = inp.product.esign_otp_attempts
        self._envelope_id: str | None = None
        self._contract: ContractDocument | None = None
        self._signed: ContractDocument | None = None
        self._deadline: datetime | None = None
        self._reasons: list[ReasonCode] = []
        self._lock = asyncio.Lock()

    @workflow.run
    async def run(self, inp: DrawInput) -> DrawOutcome:
        try:
            await self._pre_payout()
            await self._contract_and_signature()
            outcome = await self._payout()
        except DrawEnded as ended:
            outcome = ended.args[0]
        await workflow.wait_condition(workflow.all_handlers_finished)
        return outcome

    def _end(self, stage: DrawStage, status: DrawStatus, reasons: list[ReasonCode]) -> DrawEnded:
        self._stage, self._reasons, self._deadline = stage, reasons, None
        return DrawEnded(
            DrawOutcome(
                draw_id=self._inp.draw_id,
                status=status,
                schedule=self._inp.schedule,
                reasons=reasons,
            )
        )

    async def _pre_payout(self) -> None:
        inp, who = self._inp, self._inp.borrower
        check: PrePayoutResult = await calls.pre_payout_check(
            PrePayoutInput(
                application_id=inp.draw_id,
                applicant=who.applicant,
                device_fingerprint=who.device_fingerprint,
                bureau_fetched_at=inp.bureau_fetched_at,
                max_bureau_age_seconds=inp.product.bureau_max_age.total_seconds(),
            ),
            opts=options.VENDOR,
        )
        if check.outcome != DecisionOutcome.APPROVE:
            # A draw has no review queue: a risk hit refuses this draw; the line's monitoring
            # decides about the line itself.
            reasons = check.reasons or [ReasonCode.D001_PRE_PAYOUT_RISK]
            raise self._end(DrawStage.REJECTED, DrawStatus.REJECTED, reasons)

    async def _contract_and_signature(self) -> None:
        inp, who = self._inp, self._inp.borrower
        self._contract = await calls.contract_generate(
            ContractInput(
                application_id=inp.draw_id,
                applicant=who.applicant,
                product_name=inp.product.name,
                schedule=inp.schedule,
                generated_at=workflow.now(),
            ),
            opts=options.LOCAL,
        )
        envelope: EsignEnvelope = await calls.esign_create_envelope(
            EsignEnvelopeInput(
                application_id=inp.draw_id,
                applicant=who.applicant,
                contract=self._contract,
            ),
            opts=options.VENDOR,
        )
        self._envelope_id = envelope.envelope_id
        timeout = inp.product.line.signature_timeout
        self._stage, self._deadline = DrawStage.AWAITING_SIGNATURE, workflow.now() + timeout
        try:
            await workflow.wait_condition(
                lambda: self._signed is not None or self._attempts_left <= 0, timeout=timeout
            )
        except TimeoutError:
            raise self._end(DrawStage.EXPIRED, DrawStatus.EXPIRED, []) from None
        if self._signed is None:
            raise self._end(
                DrawStage.REJECTED, DrawStatus.REJECTED, [ReasonCode.S001_SIGNATURE_FAILED]
            )
        await calls.contract_seal(
            SealInput(application_id=inp.draw_id, contract=self._signed), opts=options.LOCAL
        )

    async def _payout(self) -> DrawOutcome:
        inp, who = self._inp, self._inp.borrower
        self._stage, self._deadline = DrawStage.DISBURSING, None
        timeouts = inp.product.timeouts
        try:
            payout: PayoutOutcome = await workflow.execute_child_workflow(
                WorkflowName.PAYOUT,
                PayoutInput(
                    application_id=inp.draw_id,
                    amount=inp.schedule.principal,
                    account_name=who.applicant.full_name,
                    card=who.card,
                    max_attempts=inp.product.payout_max_attempts,
                    callback_wait_seconds=timeouts.payout_callback.total_seconds(),
                    new_card_timeout_seconds=timeouts.new_bank_card.total_seconds(),
                    total_timeout_seconds=timeouts.payout_total.total_seconds(),
                    card_replaceable=False,
                ),
                id=payout_workflow_id(inp.draw_id),
                result_type=PayoutOutcome,
                parent_close_policy=ParentClosePolicy.ABANDON,
            )
        except ChildWorkflowError:
            workflow.logger.exception("draw payout failed")
            raise self._end(
                DrawStage.FAILED, DrawStatus.FAILED, [ReasonCode.D002_PAYOUT_FAILED]
            ) from None
        if payout.kind == PayoutResultKind.CARD_REFUSED:
            raise self._end(DrawStage.FAILED, DrawStatus.FAILED, [ReasonCode.D003_CARD_REFUSED])
        if payout.kind != PayoutResultKind.DISBURSED:
            raise self._end(DrawStage.FAILED, DrawStatus.FAILED, [ReasonCode.D002_PAYOUT_FAILED])
        self._stage = DrawStage.DISBURSED
        return DrawOutcome(
            draw_id=inp.draw_id,
            status=DrawStatus.DISBURSED,
            schedule=inp.schedule,
            disbursed_on=workflow.now().date(),
            order_id=payout.order_id,
        )

    # ------------------------------------------------------------------ messages

    @workflow.query(name=QueryName.STATUS)
    def status(self) -> DrawView:
        return DrawView(
            draw_id=self._inp.draw_id,
            stage=self._stage,
            schedule=self._inp.schedule,
            esign_attempts_left=self._attempts_left,
            deadline=self._deadline,
            contract_sha256=self._contract.sha256 if self._contract else None,
            reasons=applicant_reasons(self._reasons),
        )

    @workflow.update(name=UpdateName.SIGN_CONTRACT)
    async def sign_contract(self, inp: SignContractInput) -> SignContractResult:
        async with self._lock:
            self._validate_sign(inp)
            result: EsignSignResult = await calls.esign_sign(
                EsignSignInput(
                    application_id=self._inp.draw_id,
                    envelope_id=self._envelope_id or "",
                    otp=inp.otp,
                ),
                opts=options.interactive(timedelta(minutes=2)),
            )
            if result.signed and result.signed_contract is not None:
                self._signed = result.signed_contract
            else:
                self._attempts_left -= 1
            return SignContractResult(
                signed=self._signed is not None,
                attempts_left=self._attempts_left,
                detail=result.detail,
            )

    @sign_contract.validator
    def _validate_sign(self, inp: SignContractInput) -> None:
        if self._stage != DrawStage.AWAITING_SIGNATURE or self._signed is not None:
            raise ApplicationError(
                f"not accepted in stage {self._stage}",
                str(self._stage),
                type=ErrorType.WRONG_STAGE,
                non_retryable=True,
            )
        if self._attempts_left <= 0:
            raise ApplicationError(
                "no signing attempts left", type=ErrorType.INVALID_INPUT, non_retryable=True
            )

    @workflow.signal(name=SignalName.PAYOUT_NEEDS_CARD)
    def payout_needs_card(self, inp: PayoutNeedsCard) -> None:
        # Only payouts started before `card_replaceable` existed still ask: a draw pays to the
        # line's verified card only, so such a payout waits out its card timeout and fails.
        workflow.logger.warning("draw payout refused the line's card: %s", inp.reason)
