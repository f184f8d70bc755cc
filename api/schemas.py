"""Request and response bodies of the HTTP API. Workflow messages are the domain models
themselves; what is defined here is what the frontend, ops and vendors see at the edge."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from domain.application import Consents, Device
from domain.decision import Offer
from domain.enums import ApplicationStatus, BlacklistKind, NextAction, OpsRole, ReviewOutcome
from domain.identity import LivenessChallenge
from domain.pricing import Schedule
from domain.products import PRODUCTS
from domain.reasons import ApplicantReason, Language, ReasonCode, applicant_reasons
from domain.status import ApplicationView
from store.tables import Application

PHONE_PATTERN = r"^1\d{10}$"

# ---------------------------------------------------------------- applicant


class StartApplicationRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "client_request_id": "7d0c6a52-2f1e-4b8e-9a3b-0c1d2e3f4a5b",
                    "product_code": "CASH_STD",
                    "phone": "13800138000",
                    "requested_amount": 300000,
                    "term_months": 12,
                    "device": {"fingerprint": "fp-0123456789", "ip": "10.0.0.8", "os": "iOS 18"},
                    "consents": {
                        "privacy_policy": True,
                        "credit_inquiry": True,
                        "carrier_data": True,
                    },
                }
            ]
        }
    )

    client_request_id: str = Field(
        min_length=1,
        max_length=128,
        description="the client's id for this attempt: a retried "
        "POST with the same id and phone returns the same application",
    )
    product_code: str = Field(min_length=1, max_length=32)
    phone: str = Field(pattern=PHONE_PATTERN)
    requested_amount: int = Field(gt=0, description="fen")
    term_months: int = Field(
        gt=0,
        validation_alias=AliasChoices("term_months", "requested_term"),
        description="months; `requested_term` is accepted as a deprecated alias",
    )
    device: Device
    consents: Consents

    def problems(self) -> list[dict[str, Any]]:
        """Business checks against the product, in the shape of request validation errors."""
        found: list[dict[str, Any]] = []

        def problem(field: str, msg: str, kind: str) -> None:
            found.append({"loc": ["body", field], "msg": msg, "type": kind})

        product = PRODUCTS.get(self.product_code)
        if product is None:
            problem("product_code", f"unknown product; one of {sorted(PRODUCTS)}", "unknown")
        else:
            if not product.min_amount <= self.requested_amount <= product.max_amount:
                problem(
                    "requested_amount",
                    f"must be between {product.min_amount} and {product.max_amount} fen",
                    "out_of_range",
                )
            if self.term_months not in product.terms:
                problem("term_months", f"must be one of {product.terms}", "not_allowed")
        refused = [name for name, given in self.consents.model_dump().items() if not given]
        if refused:
            problem("consents", f"every consent is required; missing: {refused}", "required")
        return found


class ApplicantTokensOut(BaseModel):
    applicant_token: str = Field(description="send as `Authorization: Bearer <token>`")
    expires_at: datetime = Field(description="refresh before this with the refresh token")
    refresh_token: str = Field(description="for `POST /v1/applications/{id}/token`")


class StartApplicationResponse(ApplicantTokensOut):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "application_id": "a1b2c3d4e5f60718",
                    "applicant_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhMWIyIn0.c2lnbmF0dXJl",
                    "expires_at": "2026-11-30T10:30:00Z",
                    "refresh_token": "eyJhbGciOiJIUzI1NiJ9.eyJzY29wZSI6InJlZnJlc2gifQ.c2ln",
                    "status": "AWAITING_DOCUMENTS",
                    "liveness_challenge": {
                        "nonce": "0f8e7d6c",
                        "windows": [
                            {"action": "BLINK", "start_s": 0.0, "end_s": 2.5},
                            {"action": "NOD", "start_s": 2.5, "end_s": 5.0},
                        ],
                    },
                }
            ]
        }
    )

    application_id: str
    status: ApplicationStatus
    liveness_challenge: LivenessChallenge | None


class TokenRefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=2048)


class ApplicantView(BaseModel):
    """What the applicant may see of the live application: no personal data, no internal keys.
    The offer stays readable after it is accepted."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "application_id": "a1b2c3d4e5f60718",
                    "status": "REJECTED",
                    "next_action": "NONE",
                    "reasons": [{"code": "R007", "message": "很抱歉，我们目前无法为您提供贷款。"}],
                    "reapply_after": "2027-02-28",
                    "contract_available": False,
                    "live": True,
                }
            ]
        }
    )

    application_id: str
    status: ApplicationStatus
    next_action: NextAction
    deadline: datetime | None = None
    liveness_challenge: LivenessChallenge | None = None
    document_attempts_left: int | None = None
    carrier_attempts_left: int | None = None
    esign_attempts_left: int | None = None
    offer: Offer | None = None
    accepted_amount: int | None = Field(default=None, description="fen")
    accepted_term_months: int | None = None
    schedule: Schedule | None = None
    reasons: list[ApplicantReason] = []
    reapply_after: date | None = None
    contract_available: bool = False
    live: bool = Field(
        default=True, description="false: the workflow did not answer; last recorded state"
    )

    @classmethod
    def of(cls, view: ApplicationView, language: Language = Language.ZH) -> ApplicantView:
        skip = {"contract_available", "live", "reasons"}
        fields = view.model_dump(include=set(cls.model_fields) - skip)
        reasons = applicant_reasons([r.code for r in view.reasons], language)
        return cls(
            **fields, reasons=reasons, contract_available=view.signed_contract_key is not None
        )

    @classmethod
    def from_record(cls, row: Application, language: Language = Language.ZH) -> ApplicantView:
        codes = [ReasonCode(code) for code in row.reasons]
        status = ApplicationStatus(row.status)
        return cls(
            application_id=row.id,
            status=status,
            next_action=NextAction.NONE if status.is_terminal else NextAction.WAIT,
            offer=Offer.model_validate(row.offer) if row.offer else None,
            accepted_amount=row.accepted_amount,
            accepted_term_months=row.accepted_term,
            reasons=applicant_reasons(codes, language) if status.is_terminal else [],
            reapply_after=row.reapply_after,
            live=False,
        )


class DocumentUploaded(BaseModel):
    kind: str
    sha256: str
    size: int


class SubmitDocumentsRequest(BaseModel):
    full_name: str = Field(min_length=1, max_length=64)
    id_number: str = Field(pattern=r"^\d{17}[\dXx]$")


class CarrierAuthorized(BaseModel):
    accepted: bool
    attempts_left: int
    status: ApplicationStatus = Field(description="the application's status after the step")


class OfferAccepted(BaseModel):
    accepted: bool
    schedule: Schedule | None = Field(description="the repayment schedule the contract will hold")
    status: ApplicationStatus = Field(description="the application's status after the step")


class ContractSigned(BaseModel):
    signed: bool
    attempts_left: int
    status: ApplicationStatus = Field(description="the application's status after the step")


class NewBankCardAccepted(BaseModel):
    accepted: bool
    status: ApplicationStatus = Field(
        description="the application's status after the step: `DISBURSING` while the payout "
        "is tried again on the new card, `DISBURSED` once it is paid"
    )


# ---------------------------------------------------------------- quotes


class QuoteRequest(BaseModel):
    """A price to quote, or `application_id` to quote against that application's offer."""

    amount: int = Field(gt=0, le=100_000_000, description="principal, fen")
    term_months: int = Field(gt=0, le=60)
    annual_rate: float | None = Field(default=None, ge=0, le=10)
    monthly_fee_rate: float = Field(default=0.0, ge=0, le=1)
    upfront_fee: int = Field(default=0, ge=0, description="fen")
    application_id: str | None = Field(default=None, max_length=64)


# ---------------------------------------------------------------- ops


class OpsSignIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class OpsSessionOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"]
    expires_at: datetime
    username: str
    role: OpsRole


class ReviewRequest(BaseModel):
    """A review outcome. The reviewer is the signed-in person; a `reviewer` field sent by older
    clients is accepted and ignored."""

    outcome: ReviewOutcome
    approved_limit: int | None = Field(default=None, gt=0, description="lower the limit, fen")
    reason_code: ReasonCode | None = None
    note: str = Field(default="", max_length=2000)
    reviewer: str | None = Field(
        default=None, max_length=64, deprecated=True, description="ignored: taken from sign-in"
    )


class _Row(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# The store's column is `requested_term`; the API's name for a term is `term_months` everywhere.
_TERM_FROM_STORE = AliasChoices("term_months", "requested_term")


class ReviewItem(_Row):
    id: str
    product_code: str
    requested_amount: int
    term_months: int = Field(validation_alias=_TERM_FROM_STORE, description="requested, months")
    risk_grade: str | None
    approved_limit: int | None
    review_queue: str | None
    reasons: list[str]
    updated_at: datetime
    opened_at: datetime | None = Field(default=None, description="the review round's opening")
    sla_deadline: datetime | None = Field(default=None, description="escalated after this")
    escalated: bool = False


class ApplicationSummary(_Row):
    id: str
    status: str
    product_code: str
    requested_amount: int
    term_months: int = Field(validation_alias=_TERM_FROM_STORE, description="requested, months")
    risk_grade: str | None
    approved_limit: int | None
    review_queue: str | None
    reasons: list[str]
    created_at: datetime
    updated_at: datetime


class OpsWithdrawRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=200, description="why ops withdraws it")


class FunnelRow(BaseModel):
    """One stage of the funnel: what became of the applications that entered it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "stage": "MANUAL_REVIEW",
                    "entered": 12,
                    "passed": 7,
                    "rejected": 4,
                    "rejected_by_reason": {"V001": 3, "V002": 1},
                    "expired": 0,
                    "withdrawn": 0,
                    "failed": 0,
                    "waiting": 1,
                    "median_seconds": 5400.0,
                }
            ]
        }
    )

    stage: ApplicationStatus
    entered: int
    passed: int
    rejected: int
    rejected_by_reason: dict[str, int] = Field(description="reason code: applications")
    expired: int
    withdrawn: int
    failed: int
    waiting: int = Field(description="still in this stage")
    median_seconds: float | None = Field(description="median time spent here; None if none left")


class BlacklistRemoval(BaseModel):
    kind: BlacklistKind
    value: str = Field(min_length=1, max_length=128)


class BlacklistRemoved(BaseModel):
    kind: BlacklistKind
    removed: bool = Field(description="False when the value was not listed")


class ApplicationRecord(ReviewItem):
    client_request_id: str
    status: str
    phone_masked: str
    device_fingerprint: str
    ip: str
    decision_outcome: str | None
    reapply_after: date | None
    last_seq: int
    created_at: datetime


class DocumentRecord(_Row):
    kind: str
    blob_key: str
    sha256: str
    size: int
    content_type: str
    uploaded_at: datetime


class DecisionRecordOut(_Row):
    stage: str
    outcome: str
    policy_version: str
    policy_hash: str
    input_snapshot: dict[str, Any]
    rules_fired: list[str]
    reasons: list[str]
    score: int | None
    grade: str | None
    approved_limit: int | None
    annual_rate: float | None
    duration_ms: float
    created_at: datetime


class DisbursementOut(_Row):
    idempotency_key: str
    order_id: str
    amount: int
    channel: str
    card_last4: str
    status: str
    created_at: datetime
    updated_at: datetime


class AuditOut(_Row):
    seq: int
    event: str
    status: str
    at: datetime
    data: dict[str, Any]


class EvidenceResponse(BaseModel):
    application: ApplicationRecord | None = Field(
        description="the store's row; None until the workflow has recorded it"
    )
    documents: list[DocumentRecord]
    decisions: list[DecisionRecordOut]
    disbursement: DisbursementOut | None
    audit: list[AuditOut]
    live: ApplicationView | None = Field(description="the status query; None if unreachable")


class BlacklistRequest(BaseModel):
    kind: BlacklistKind
    value: str = Field(min_length=1, max_length=128)
    reason: str = Field(default="", max_length=200)


class BlacklistResponse(BaseModel):
    kind: BlacklistKind
    added: bool = Field(description="False when the value was already listed")


# ---------------------------------------------------------------- callbacks and codec


class CallbackAck(BaseModel):
    status: Literal["accepted", "recorded", "ignored"]


class CodecPayload(BaseModel):
    """A Temporal payload in its protobuf JSON form: bytes are base64."""

    metadata: dict[str, str] = {}
    data: str = ""


class CodecPayloads(BaseModel):
    # Protobuf JSON leaves out an empty list: the `temporal` CLI sends `{}` for no payloads.
    payloads: list[CodecPayload] = []
