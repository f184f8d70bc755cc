"""Messages between the API, workflows and activities: one input and one result model per
workflow, update, signal and activity. Money is integer fen; times are timezone-aware UTC."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from domain.enums import (
    ApplicationStatus,
    DecisionOutcome,
    DocumentKind,
    LivenessAction,
    NextAction,
    PayoutFailure,
    PayoutResultKind,
    PayoutStatus,
    ReviewOutcome,
)
from domain.naming import VISION_TASK_QUEUE
from domain.pricing import Schedule
from domain.products import FACE_MATCH_THRESHOLD, Product
from domain.reasons import ApplicantReason, ReasonCode

# ---------------------------------------------------------------- start


class Device(BaseModel):
    fingerprint: str = Field(min_length=8, max_length=128)
    ip: str = Field(max_length=64)
    os: str = Field(max_length=64)
    is_emulator: bool = False
    is_rooted: bool = False
    ip_province: str | None = Field(
        default=None,
        pattern=r"^\d{2}$",
        description="GB/T 2260 province code the client IP resolves to; None when unknown",
    )


class Consents(BaseModel):
    privacy_policy: bool
    credit_inquiry: bool
    carrier_data: bool


class ActionWindow(BaseModel):
    action: LivenessAction
    start_s: float
    end_s: float


class LivenessChallenge(BaseModel):
    nonce: str
    windows: list[ActionWindow]


class StartApplicationInput(BaseModel):
    application_id: str
    client_request_id: str
    product: Product
    phone: str
    requested_amount: int
    requested_term: int
    device: Device
    consents: Consents
    submitted_at: datetime
    vision_task_queue: str = Field(
        default=VISION_TASK_QUEUE, description="queue of the CPU-bound identity checks"
    )
    upsert_search_attributes: bool = Field(
        default=True,
        description="off only on servers that cannot register custom search attributes",
    )


# ---------------------------------------------------------------- documents and identity


class DocumentRef(BaseModel):
    """Claim check for an uploaded file: the bytes stay in the blob store."""

    kind: DocumentKind
    blob_key: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int
    content_type: str


class Applicant(BaseModel):
    """The person an application is about, as entered and checked: what every vendor call and
    the contract need to name them."""

    full_name: str
    id_number: str
    phone: str


class SubmitDocumentsInput(BaseModel):
    documents: list[DocumentRef]
    full_name: str = Field(min_length=1, max_length=64)
    id_number: str = Field(min_length=18, max_length=18)


class IdCardInput(BaseModel):
    application_id: str
    front: DocumentRef
    back: DocumentRef
    application_date: date
    claimed_name: str | None = Field(default=None, description="as the applicant entered it")
    claimed_id_number: str | None = None


class IdCardFields(BaseModel):
    name: str | None = None
    sex: str | None = None
    ethnicity: str | None = None
    birth_date: date | None = None
    address: str | None = None
    id_number: str | None = None
    issuing_authority: str | None = None
    valid_from: date | None = None
    valid_until: date | None = Field(default=None, description="None with long_term = 长期")
    long_term: bool = False
    confidence: dict[str, float] = Field(
        default={}, description="recognition score 0..1 of each field read, by field name"
    )


class IdCardResult(BaseModel):
    passed: bool
    reasons: list[ReasonCode] = []
    portrait_found: bool = False
    detail: str = ""


class LivenessInput(BaseModel):
    application_id: str
    video: DocumentRef
    challenge: LivenessChallenge
    same_person_threshold: float = FACE_MATCH_THRESHOLD


class LivenessResult(BaseModel):
    passed: bool
    reasons: list[ReasonCode] = []
    frames_sampled: int = 0
    frames_with_one_face: int = 0
    actions_seen: list[LivenessAction] = []
    spoof_score: float | None = Field(
        default=None, description="1 - mean probability of a live face over sampled frames"
    )
    detail: str = ""


class IdentityCheckInput(BaseModel):
    application_id: str
    applicant: Applicant


class IdentityCheckResult(BaseModel):
    matched: bool
    reference_portrait: DocumentRef | None = None
    detail: str = ""


class FaceMatchInput(BaseModel):
    application_id: str
    selfie: DocumentRef
    id_front: DocumentRef
    reference_portrait: DocumentRef | None
    video: DocumentRef | None = None
    threshold: float = FACE_MATCH_THRESHOLD


class FaceMatchResult(BaseModel):
    passed: bool
    reasons: list[ReasonCode] = []
    distance_card: float | None = None
    distance_reference: float | None = None
    distance_video: float | None = None
    detail: str = ""


class IdentityOutcome(BaseModel):
    """Stage 3 summary kept by the workflow and given to the policy."""

    passed: bool
    reasons: list[ReasonCode] = []
    age: int | None = None
    is_male: bool | None = None
    face_distance: float | None = None
    liveness_passed: bool = False


# ---------------------------------------------------------------- carrier


class CarrierSmsInput(BaseModel):
    application_id: str
    phone: str


class CarrierSmsResult(BaseModel):
    sent: bool
    detail: str = ""


class CarrierCodeInput(BaseModel):
    code: str = Field(pattern=r"^\d{4,8}$")


class CarrierAuthorizeInput(BaseModel):
    application_id: str
    applicant: Applicant
    code: str


class CarrierAuthorizeResult(BaseModel):
    accepted: bool
    task_id: str | None = None
    attempts_left: int = 0
    detail: str = ""


class CarrierReportInput(BaseModel):
    application_id: str
    task_id: str


class CarrierReport(BaseModel):
    months_on_network: int
    real_name_match: bool
    contacts_in_call_log: int
    night_call_ratio: float
    monthly_bill_avg: int = Field(description="fen")
    numbers_in_name: int | None = Field(
        default=None, description="phone numbers this carrier holds under the applicant's ID"
    )
    emergency_contacts_in_call_log: int | None = Field(
        default=None,
        description="of the applicant's emergency contacts, how many the 6-month call log shows",
    )
    device_changes_6m: int | None = Field(
        default=None, description="handsets the number was used in over 6 months, less one"
    )
    home_province: str | None = Field(
        default=None, description="GB/T 2260 province code where the number is registered"
    )


# ---------------------------------------------------------------- bureau and decision


class BureauInput(BaseModel):
    application_id: str
    applicant: Applicant


class BureauReport(BaseModel):
    has_record: bool
    score: int | None = Field(default=None, description="300-900, None for a thin file")
    current_overdue_amount: int = 0
    overdue_count_24m: int = 0
    max_overdue_days_24m: int = 0
    inquiries_1m: int = 0
    inquiries_3m: int = 0
    inquiries_6m: int = 0
    lenders_6m: int = 0
    lenders_1m: int | None = None
    lenders_3m: int | None = None
    monthly_income: int = 0
    income_stable_months: int | None = Field(
        default=None, description="months of unbroken payroll / social-insurance record, of 60"
    )
    monthly_debt_payment: int = 0
    card_utilisation: float = 0.0
    on_court_blacklist: bool = False
    fetched_at: datetime


class DecisionInput(BaseModel):
    application_id: str
    product: Product
    requested_amount: int
    requested_term: int
    decided_on: date
    identity: IdentityOutcome
    bureau: BureauReport
    carrier: CarrierReport | None
    device: Device | None = Field(
        default=None, description="the device the application came from (location signals)"
    )


class Offer(BaseModel):
    limit: int = Field(description="fen")
    min_amount: int
    terms: list[int]
    annual_rate: float
    monthly_fee_rate: float
    apr_cap: float
    grade: str
    expires_at: datetime | None = None


class Decision(BaseModel):
    outcome: DecisionOutcome
    reasons: list[ReasonCode] = []
    score: int | None = None
    grade: str | None = None
    offer: Offer | None = None
    policy_version: str
    policy_hash: str
    rules_fired: list[str] = []
    review_queue: str | None = None
    reapply_after: date | None = Field(
        default=None, description="on REJECT: the earliest re-application date"
    )
    score_points: dict[str, float] = Field(
        default={}, description="scorecard points by characteristic: why the score is what it is"
    )


class PrescreenInput(BaseModel):
    application_id: str
    phone: str
    device: Device
    submitted_at: datetime


class PrescreenResult(BaseModel):
    passed: bool
    reasons: list[ReasonCode] = []
    reapply_after: date | None = None


class IdBlacklistInput(BaseModel):
    application_id: str
    id_number: str
    phone: str
    device_fingerprint: str


class PrePayoutInput(BaseModel):
    application_id: str
    applicant: Applicant
    device_fingerprint: str
    bureau_fetched_at: datetime
    max_bureau_age_seconds: float


class PrePayoutResult(BaseModel):
    outcome: DecisionOutcome
    reasons: list[ReasonCode] = []
    bureau_refreshed: bool = False


# ---------------------------------------------------------------- review


class ReviewInput(BaseModel):
    reviewer: str = Field(min_length=1, max_length=64)
    outcome: ReviewOutcome
    approved_limit: int | None = Field(default=None, gt=0, description="lower the limit, fen")
    reason_code: ReasonCode | None = None
    note: str = Field(default="", max_length=2000)


class ReviewResult(BaseModel):
    status: ApplicationStatus


# ---------------------------------------------------------------- offer, card, contract


class BankCard(BaseModel):
    number: str = Field(pattern=r"^\d{12,19}$")
    bank_code: str = Field(min_length=2, max_length=16)
    reserved_phone: str = Field(pattern=r"^1\d{10}$")


class AcceptOfferInput(BaseModel):
    amount: int = Field(gt=0, description="fen")
    term_months: int = Field(gt=0)
    bank_card: BankCard


class BankCardCheckInput(BaseModel):
    application_id: str
    applicant: Applicant
    card: BankCard


class BankCardCheckResult(BaseModel):
    verified: bool
    detail: str = ""


class AcceptOfferResult(BaseModel):
    accepted: bool
    detail: str = ""
    schedule: Schedule | None = None


class ContractInput(BaseModel):
    application_id: str
    applicant: Applicant
    product_name: str
    schedule: Schedule
    generated_at: datetime


class ContractDocument(BaseModel):
    blob_key: str
    sha256: str
    pages: int


class EsignEnvelopeInput(BaseModel):
    application_id: str
    applicant: Applicant
    contract: ContractDocument


class EsignEnvelope(BaseModel):
    envelope_id: str


class SignContractInput(BaseModel):
    otp: str = Field(pattern=r"^\d{4,8}$")


class EsignSignInput(BaseModel):
    application_id: str
    envelope_id: str
    otp: str


class EsignSignResult(BaseModel):
    signed: bool
    signed_contract: ContractDocument | None = None
    detail: str = ""


class SealInput(BaseModel):
    application_id: str
    contract: ContractDocument


class SignContractResult(BaseModel):
    signed: bool
    attempts_left: int
    detail: str = ""


# ---------------------------------------------------------------- payout


class PayoutInput(BaseModel):
    application_id: str
    amount: int
    account_name: str
    card: BankCard
    max_attempts: int
    callback_wait_seconds: float
    new_card_timeout_seconds: float
    total_timeout_seconds: float


class RouteInput(BaseModel):
    application_id: str
    bank_code: str
    amount: int
    exclude: list[str] = []


class RouteResult(BaseModel):
    channels: list[str]


class SubmitPayoutInput(BaseModel):
    application_id: str
    idempotency_key: str
    amount: int
    account_name: str
    card_number: str
    bank_code: str
    channel: str


class QueryPayoutInput(BaseModel):
    application_id: str
    idempotency_key: str


class GatewayOrder(BaseModel):
    order_id: str
    idempotency_key: str
    status: PayoutStatus
    channel: str
    failure: PayoutFailure | None = None
    attempt: int = 1
    detail: str = ""


class PaymentNotification(BaseModel):
    """The payment gateway's callback, verified by the API and signalled to PayoutWorkflow."""

    order_id: str
    idempotency_key: str
    status: PayoutStatus
    channel: str
    attempt: int = 1
    failure: PayoutFailure | None = None


class NewBankCardInput(BaseModel):
    bank_card: BankCard


class NewBankCardResult(BaseModel):
    accepted: bool
    detail: str = ""


class PayoutOutcome(BaseModel):
    kind: PayoutResultKind
    order_id: str | None = None
    channel: str | None = None
    attempts: int = 0
    detail: str = ""


class DisbursementRecord(BaseModel):
    application_id: str
    idempotency_key: str
    order_id: str
    amount: int
    channel: str
    card_last4: str
    status: PayoutStatus


# ---------------------------------------------------------------- projection and status


class ProjectionInput(BaseModel):
    """One stage change, written to the application store and the audit trail."""

    application_id: str
    seq: int = Field(description="per-workflow counter: makes the audit append idempotent")
    status: ApplicationStatus
    event: str
    at: datetime
    decision_outcome: DecisionOutcome | None = None
    risk_grade: str | None = None
    approved_limit: int | None = None
    review_queue: str | None = None
    reasons: list[ReasonCode] = []
    reapply_after: date | None = None
    id_number: str | None = Field(default=None, description="stored as a digest for look-ups")
    data: dict[str, str | int | float | bool | None] = {}


class PayoutNeedsCard(BaseModel):
    """PayoutWorkflow to its parent: the card was refused; the applicant must give another."""

    reason: str
    deadline: datetime


class WithdrawInput(BaseModel):
    reason: str = Field(default="", max_length=500)


class ApplicationView(BaseModel):
    """The `status` query: what the applicant and ops see of the live workflow."""

    application_id: str
    status: ApplicationStatus
    next_action: NextAction
    deadline: datetime | None = None
    liveness_challenge: LivenessChallenge | None = None
    carrier_attempts_left: int | None = None
    esign_attempts_left: int | None = None
    decision_outcome: DecisionOutcome | None = None
    offer: Offer | None = None
    accepted_amount: int | None = None
    accepted_term: int | None = None
    schedule: Schedule | None = None
    reasons: list[ApplicantReason] = []
    reapply_after: date | None = None
    review_queue: str | None = None
    payout_order_id: str | None = None
    document_attempts_left: int | None = None
    signed_contract_key: str | None = Field(default=None, description="internal: blob key")
    history: list[str] = Field(default=[], description="statuses passed through, in order")
