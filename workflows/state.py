"""What one loan application workflow knows: one owned object, read by the stages, the message
handlers and the `status` query, changed only by the workflow's own code."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.application import StartApplicationInput, WithdrawInput
    from domain.carrier import CarrierReport
    from domain.contract import ContractDocument
    from domain.decision import BureauReport, Decision, Offer, ReviewInput
    from domain.enums import ApplicationStatus, NextAction
    from domain.identity import Applicant, IdentityOutcome, LivenessChallenge, SubmitDocumentsInput
    from domain.offer import AcceptOfferInput, BankCard
    from domain.payout import PayoutNeedsCard
    from domain.pricing import Schedule
    from domain.reasons import ReasonCode, applicant_reasons
    from domain.status import ApplicationView

WAITING_FOR = {
    NextAction.UPLOAD_DOCUMENTS: "the applicant's ID card, selfie and liveness video",
    NextAction.AUTHORIZE_CARRIER: "the applicant's carrier SMS code",
    NextAction.AWAIT_REVIEW: "an ops reviewer's outcome",
    NextAction.ACCEPT_OFFER: "the applicant to accept the offer",
    NextAction.SIGN_CONTRACT: "the applicant's e-signature OTP",
    NextAction.PROVIDE_NEW_BANK_CARD: "a new bank card from the applicant",
}


@dataclass
class ApplicationState:
    inp: StartApplicationInput
    challenge: LivenessChallenge
    document_attempts_left: int
    carrier_attempts_left: int
    esign_attempts_left: int
    # where the application is
    status: ApplicationStatus = ApplicationStatus.SUBMITTED
    history: list[ApplicationStatus] = field(default_factory=list)
    next_action: NextAction = NextAction.WAIT
    deadline: datetime | None = None
    seq: int = 0
    # identity
    docs: SubmitDocumentsInput | None = None
    retake_reasons: list[ReasonCode] = field(default_factory=list)
    identity: IdentityOutcome | None = None
    identity_evidence: dict[str, str | int | float | bool | None] = field(default_factory=dict)
    # carrier, bureau, decision and review
    carrier_task_id: str | None = None
    carrier_report: CarrierReport | None = None
    bureau: BureauReport | None = None
    decision: Decision | None = None
    offer: Offer | None = None
    review: ReviewInput | None = None
    review_queue: str | None = None
    # offer, signature, payout
    accepted: AcceptOfferInput | None = None
    card: BankCard | None = None
    schedule: Schedule | None = None
    envelope_id: str | None = None
    signed_contract: ContractDocument | None = None
    sealed_contract: ContractDocument | None = None
    payout_order_id: str | None = None
    needs_card: PayoutNeedsCard | None = None
    # the end
    withdrawn: WithdrawInput | None = None
    reasons: list[ReasonCode] = field(default_factory=list)
    reapply_after: date | None = None

    @classmethod
    def start(cls, inp: StartApplicationInput, challenge: LivenessChallenge) -> ApplicationState:
        return cls(
            inp=inp,
            challenge=challenge,
            document_attempts_left=inp.product.document_attempts,
            carrier_attempts_left=inp.product.carrier_sms_attempts,
            esign_attempts_left=inp.product.esign_otp_attempts,
        )

    def applicant(self) -> Applicant:
        """The person the submitted documents name (ID number canonical), with the phone they
        applied from."""
        assert self.docs is not None
        return Applicant(
            full_name=self.docs.full_name, id_number=self.docs.id_number, phone=self.inp.phone
        )

    def set_next(self, action: NextAction, deadline: datetime | None) -> None:
        self.next_action = action
        self.deadline = deadline
        if workflow.in_workflow():
            workflow.set_current_details(self.current_details())

    def current_details(self) -> str:
        """The Web UI's "current details": the stage, what it waits for and until when."""
        line = f"**{self.status.value}**"
        if self.status.is_terminal:
            codes = ", ".join(r.value for r in self.reasons)
            return line + (f" — reasons {codes}" if codes else "")
        waiting_for = WAITING_FOR.get(self.next_action)
        if waiting_for:
            line += f" — waiting for {waiting_for}"
        if self.deadline is not None:
            line += f" until {self.deadline.isoformat(timespec='seconds')}"
        return line

    def view(self) -> ApplicationView:
        """The `status` query: what the applicant must do next, by when, and what is known."""
        status = self.status
        waiting_docs = status == ApplicationStatus.AWAITING_DOCUMENTS
        return ApplicationView(
            application_id=self.inp.application_id,
            status=status,
            next_action=self.next_action,
            deadline=self.deadline,
            liveness_challenge=self.challenge if not status.is_terminal else None,
            carrier_attempts_left=self.carrier_attempts_left
            if status == ApplicationStatus.AWAITING_CARRIER_AUTH
            else None,
            esign_attempts_left=self.esign_attempts_left
            if status == ApplicationStatus.AWAITING_SIGNATURE
            else None,
            decision_outcome=self.decision.outcome if self.decision else None,
            # the accepted offer stays readable after acceptance
            offer=self.offer if status == ApplicationStatus.OFFERED or self.accepted else None,
            accepted_amount=self.accepted.amount if self.accepted else None,
            accepted_term_months=self.accepted.term_months if self.accepted else None,
            schedule=self.schedule,
            reasons=applicant_reasons(
                self.reasons or (self.retake_reasons if waiting_docs else [])
            ),
            reapply_after=self.reapply_after,
            review_queue=self.review_queue if status == ApplicationStatus.MANUAL_REVIEW else None,
            payout_order_id=self.payout_order_id,
            document_attempts_left=self.document_attempts_left if waiting_docs else None,
            signed_contract_key=self.sealed_contract.blob_key if self.sealed_contract else None,
            history=list(self.history),
        )
