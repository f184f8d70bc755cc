"""The messages a loan application accepts: applicant steps and ops review outcomes as updates
with validators, the payout child's call for a new card as a signal, and the `status` query.

A validator refuses a message in the wrong stage or with invalid content synchronously, so it
never enters history; the API maps WRONG_STAGE to 409 and INVALID_INPUT to 422. Handlers that
call a vendor hold a lock and re-check the stage, because two requests may pass the validator
together.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import NoReturn

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.enums import APPLICANT_DOCUMENTS, ApplicationStatus, NextAction
    from domain.idnumber import InvalidIdNumber, parse_id_number
    from domain.models import (
        AcceptOfferInput,
        AcceptOfferResult,
        ApplicationView,
        BankCard,
        BankCardCheckInput,
        BankCardCheckResult,
        BureauReport,
        CarrierAuthorizeInput,
        CarrierAuthorizeResult,
        CarrierCodeInput,
        CarrierReport,
        CarrierSmsInput,
        CarrierSmsResult,
        ContractDocument,
        Decision,
        EsignSignInput,
        EsignSignResult,
        IdentityOutcome,
        LivenessChallenge,
        NewBankCardInput,
        NewBankCardResult,
        Offer,
        PayoutNeedsCard,
        ReviewInput,
        ReviewResult,
        SignContractInput,
        SignContractResult,
        StartApplicationInput,
        SubmitDocumentsInput,
        WithdrawInput,
    )
    from domain.naming import (
        ActivityName,
        ErrorType,
        QueryName,
        SignalName,
        UpdateName,
        payout_workflow_id,
    )
    from domain.pricing import PriceAboveCap, Schedule, build_schedule
    from domain.reasons import ReasonCode, applicant_reasons
    from workflows import options

WITHDRAWABLE = frozenset(
    {
        ApplicationStatus.SUBMITTED,
        ApplicationStatus.AWAITING_DOCUMENTS,
        ApplicationStatus.VERIFYING_IDENTITY,
        ApplicationStatus.AWAITING_CARRIER_AUTH,
        ApplicationStatus.DECISIONING,
        ApplicationStatus.MANUAL_REVIEW,
        ApplicationStatus.OFFERED,
        ApplicationStatus.AWAITING_SIGNATURE,
    }
)
DOCUMENT_STAGES = frozenset({ApplicationStatus.SUBMITTED, ApplicationStatus.AWAITING_DOCUMENTS})


def _invalid(detail: str) -> NoReturn:
    raise ApplicationError(detail, type=ErrorType.INVALID_INPUT, non_retryable=True)


class ApplicantSteps:
    """State of one application and every message handler; the stages live in the subclass."""

    _challenge: LivenessChallenge  # issued by the subclass when the application starts

    def __init__(self, inp: StartApplicationInput) -> None:
        self._inp = inp
        self._status = ApplicationStatus.SUBMITTED
        self._history: list[ApplicationStatus] = []
        self._next_action = NextAction.WAIT
        self._deadline: datetime | None = None
        self._seq = 0
        self._lock = asyncio.Lock()
        self._docs: SubmitDocumentsInput | None = None
        self._document_attempts_left = inp.product.document_attempts
        self._retake_reasons: list[ReasonCode] = []
        self._identity: IdentityOutcome | None = None
        self._carrier_task_id: str | None = None
        self._carrier_attempts_left = inp.product.carrier_sms_attempts
        self._carrier_report: CarrierReport | None = None
        self._bureau: BureauReport | None = None
        self._decision: Decision | None = None
        self._offer: Offer | None = None
        self._review: ReviewInput | None = None
        self._review_queue: str | None = None
        self._accepted: AcceptOfferInput | None = None
        self._card: BankCard | None = None
        self._schedule: Schedule | None = None
        self._envelope_id: str | None = None
        self._esign_attempts_left = inp.product.esign_otp_attempts
        self._signed_contract: ContractDocument | None = None
        self._sealed_contract: ContractDocument | None = None
        self._payout_order_id: str | None = None
        self._needs_card: PayoutNeedsCard | None = None
        self._withdrawn: WithdrawInput | None = None
        self._reasons: list[ReasonCode] = []
        self._reapply_after: date | None = None

    # ------------------------------------------------------------------ query

    @workflow.query(name=QueryName.STATUS)
    def status(self) -> ApplicationView:
        waiting_docs = self._status == ApplicationStatus.AWAITING_DOCUMENTS
        return ApplicationView(
            application_id=self._inp.application_id,
            status=self._status,
            next_action=self._next_action,
            deadline=self._deadline,
            liveness_challenge=self._challenge if not self._status.is_terminal else None,
            carrier_attempts_left=self._carrier_attempts_left
            if self._status == ApplicationStatus.AWAITING_CARRIER_AUTH
            else None,
            esign_attempts_left=self._esign_attempts_left
            if self._status == ApplicationStatus.AWAITING_SIGNATURE
            else None,
            decision_outcome=self._decision.outcome if self._decision else None,
            offer=self._offer
            if self._status == ApplicationStatus.OFFERED or self._accepted
            else None,
            accepted_amount=self._accepted.amount if self._accepted else None,
            accepted_term=self._accepted.term_months if self._accepted else None,
            schedule=self._schedule,
            reasons=applicant_reasons(
                self._reasons or (self._retake_reasons if waiting_docs else [])
            ),
            reapply_after=self._reapply_after,
            review_queue=self._review_queue
            if self._status == ApplicationStatus.MANUAL_REVIEW
            else None,
            payout_order_id=self._payout_order_id,
            document_attempts_left=self._document_attempts_left if waiting_docs else None,
            signed_contract_key=self._sealed_contract.blob_key if self._sealed_contract else None,
            history=list(self._history),
        )

    # ------------------------------------------------------------------ stage guard

    def _require(self, *statuses: ApplicationStatus) -> None:
        if self._status not in statuses:
            raise ApplicationError(
                f"not accepted in stage {self._status}",
                str(self._status),
                type=ErrorType.WRONG_STAGE,
                non_retryable=True,
            )

    # ------------------------------------------------------------------ documents

    @workflow.update(name=UpdateName.SUBMIT_DOCUMENTS)
    async def submit_documents(self, inp: SubmitDocumentsInput) -> ApplicationView:
        canonical = parse_id_number(inp.id_number).value
        self._docs = inp.model_copy(update={"id_number": canonical})
        return self.status()

    @submit_documents.validator
    def _validate_documents(self, inp: SubmitDocumentsInput) -> None:
        self._require(ApplicationStatus.AWAITING_DOCUMENTS)
        kinds = [d.kind for d in inp.documents]
        missing = [k.value for k in APPLICANT_DOCUMENTS if k not in kinds]
        if missing or len(kinds) != len(set(kinds)):
            _invalid(f"exactly one of each document is needed; missing: {missing}")
        try:
            parse_id_number(inp.id_number)
        except InvalidIdNumber as exc:
            _invalid(f"ID number: {exc}")

    # ------------------------------------------------------------------ carrier

    @workflow.update(name=UpdateName.REQUEST_CARRIER_SMS)
    async def request_carrier_sms(self) -> CarrierSmsResult:
        result: CarrierSmsResult = await options.execute(
            ActivityName.CARRIER_SEND_SMS,
            CarrierSmsInput(application_id=self._inp.application_id, phone=self._inp.phone),
            CarrierSmsResult,
            options.interactive(timedelta(minutes=1)),
        )
        return result

    @request_carrier_sms.validator
    def _validate_sms(self) -> None:
        self._require(ApplicationStatus.AWAITING_CARRIER_AUTH)
        if self._carrier_task_id is not None:
            _invalid("carrier data is already authorized")

    @workflow.update(name=UpdateName.AUTHORIZE_CARRIER)
    async def authorize_carrier(self, inp: CarrierCodeInput) -> CarrierAuthorizeResult:
        async with self._lock:
            self._require(ApplicationStatus.AWAITING_CARRIER_AUTH)
            if self._carrier_task_id is not None or self._carrier_attempts_left <= 0:
                _invalid("carrier authorization is closed")
            assert self._docs is not None
            result: CarrierAuthorizeResult = await options.execute(
                ActivityName.CARRIER_AUTHORIZE,
                CarrierAuthorizeInput(
                    application_id=self._inp.application_id,
                    phone=self._inp.phone,
                    full_name=self._docs.full_name,
                    id_number=self._docs.id_number,
                    code=inp.code,
                ),
                CarrierAuthorizeResult,
                options.interactive(timedelta(minutes=1)),
            )
            if result.accepted:
                self._carrier_task_id = result.task_id
            else:
                self._carrier_attempts_left -= 1
            return result.model_copy(update={"attempts_left": self._carrier_attempts_left})

    @authorize_carrier.validator
    def _validate_carrier_code(self, inp: CarrierCodeInput) -> None:
        self._require(ApplicationStatus.AWAITING_CARRIER_AUTH)
        if self._carrier_task_id is not None:
            _invalid("carrier data is already authorized")
        if self._carrier_attempts_left <= 0:
            _invalid("no authorization attempts left")

    # ------------------------------------------------------------------ review

    @workflow.update(name=UpdateName.RECORD_REVIEW)
    async def record_review(self, inp: ReviewInput) -> ReviewResult:
        self._review = inp
        return ReviewResult(status=self._status)

    @record_review.validator
    def _validate_review(self, inp: ReviewInput) -> None:
        self._require(ApplicationStatus.MANUAL_REVIEW)
        if self._review is not None:
            # A decided round is a conflict with the current state, not a malformed message.
            raise ApplicationError(
                "this review round already has an outcome",
                str(self._status),
                type=ErrorType.WRONG_STAGE,
                non_retryable=True,
            )
        if inp.approved_limit is not None and self._offer is not None:
            if inp.approved_limit > self._offer.limit:
                _invalid("a reviewer may lower the limit, not raise it")
            if inp.approved_limit < self._inp.product.min_amount:
                _invalid("approved limit is below the product minimum")

    # ------------------------------------------------------------------ offer

    @workflow.update(name=UpdateName.ACCEPT_OFFER)
    async def accept_offer(self, inp: AcceptOfferInput) -> AcceptOfferResult:
        async with self._lock:
            self._require(ApplicationStatus.OFFERED)
            if self._accepted is not None:
                _invalid("the offer is already accepted")
            offer = self._offer
            assert offer is not None
            schedule = self._quote(inp, offer)
            check = await self._verify_card(inp.bank_card)
            if not check.verified:
                return AcceptOfferResult(accepted=False, detail=check.detail or "card refused")
            self._schedule = schedule
            self._card = inp.bank_card
            self._accepted = inp
            return AcceptOfferResult(accepted=True, schedule=schedule)

    @accept_offer.validator
    def _validate_accept(self, inp: AcceptOfferInput) -> None:
        self._require(ApplicationStatus.OFFERED)
        offer = self._offer
        assert offer is not None
        if self._accepted is not None:
            _invalid("the offer is already accepted")
        if offer.expires_at is not None and workflow.now() >= offer.expires_at:
            _invalid("the offer has expired")
        if not offer.min_amount <= inp.amount <= offer.limit:
            _invalid(f"amount must be between {offer.min_amount} and {offer.limit} fen")
        if inp.term_months not in offer.terms:
            _invalid(f"term must be one of {offer.terms}")
        self._quote(inp, offer)

    def _quote(self, inp: AcceptOfferInput, offer: Offer) -> Schedule:
        try:
            return build_schedule(
                inp.amount,
                inp.term_months,
                offer.annual_rate,
                offer.monthly_fee_rate,
                apr_cap=offer.apr_cap,
            )
        except (ValueError, PriceAboveCap) as exc:
            _invalid(str(exc))

    async def _verify_card(self, card: BankCard) -> BankCardCheckResult:
        assert self._docs is not None
        result: BankCardCheckResult = await options.execute(
            ActivityName.BANKCARD_VERIFY,
            BankCardCheckInput(
                application_id=self._inp.application_id,
                full_name=self._docs.full_name,
                id_number=self._docs.id_number,
                card=card,
            ),
            BankCardCheckResult,
            options.interactive(timedelta(minutes=1)),
        )
        return result

    # ------------------------------------------------------------------ signature

    @workflow.update(name=UpdateName.SIGN_CONTRACT)
    async def sign_contract(self, inp: SignContractInput) -> SignContractResult:
        async with self._lock:
            self._require(ApplicationStatus.AWAITING_SIGNATURE)
            if self._signed_contract is not None or self._esign_attempts_left <= 0:
                _invalid("signing is closed")
            result: EsignSignResult = await options.execute(
                ActivityName.ESIGN_SIGN,
                EsignSignInput(
                    application_id=self._inp.application_id,
                    envelope_id=self._envelope_id or "",
                    otp=inp.otp,
                ),
                EsignSignResult,
                options.interactive(timedelta(minutes=2)),
            )
            if result.signed and result.signed_contract is not None:
                self._signed_contract = result.signed_contract
            else:
                self._esign_attempts_left -= 1
            return SignContractResult(
                signed=self._signed_contract is not None,
                attempts_left=self._esign_attempts_left,
                detail=result.detail,
            )

    @sign_contract.validator
    def _validate_sign(self, inp: SignContractInput) -> None:
        self._require(ApplicationStatus.AWAITING_SIGNATURE)
        if self._envelope_id is None or self._signed_contract is not None:
            _invalid("the contract is not waiting for a signature")
        if self._esign_attempts_left <= 0:
            _invalid("no signing attempts left")

    # ------------------------------------------------------------------ withdrawal

    @workflow.update(name=UpdateName.WITHDRAW)
    async def withdraw(self, inp: WithdrawInput) -> ApplicationView:
        self._withdrawn = inp
        return self.status()

    @withdraw.validator
    def _validate_withdraw(self, inp: WithdrawInput) -> None:
        self._require(*WITHDRAWABLE)

    # ------------------------------------------------------------------ payout: a new card

    @workflow.signal(name=SignalName.PAYOUT_NEEDS_CARD)
    def payout_needs_card(self, inp: PayoutNeedsCard) -> None:
        self._needs_card = inp
        self._next_action = NextAction.PROVIDE_NEW_BANK_CARD
        self._deadline = inp.deadline

    @workflow.update(name=UpdateName.PROVIDE_NEW_BANK_CARD)
    async def provide_new_bank_card(self, inp: NewBankCardInput) -> NewBankCardResult:
        async with self._lock:
            self._require(ApplicationStatus.DISBURSING)
            if self._needs_card is None:
                _invalid("no new card is needed")
            check = await self._verify_card(inp.bank_card)
            if not check.verified:
                return NewBankCardResult(accepted=False, detail=check.detail or "card refused")
            self._card = inp.bank_card
            self._needs_card = None
            self._next_action = NextAction.WAIT
            self._deadline = None
            child = workflow.get_external_workflow_handle(
                payout_workflow_id(self._inp.application_id)
            )
            await child.signal(SignalName.NEW_BANK_CARD, inp.bank_card)
            return NewBankCardResult(accepted=True)

    @provide_new_bank_card.validator
    def _validate_new_card(self, inp: NewBankCardInput) -> None:
        self._require(ApplicationStatus.DISBURSING)
        if self._needs_card is None:
            _invalid("no new card is needed")
