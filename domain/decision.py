"""Stages 1, 5, 6 and 9: pre-screen, bureau and decision, review, pre-payout check.

One input and one result model per workflow, update, signal and activity. Money is integer
fen; times are timezone-aware UTC."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from domain.application import Device
from domain.carrier import CarrierReport
from domain.enums import (
    ApplicationStatus,
    DecisionOutcome,
    ReviewOutcome,
)
from domain.identity import Applicant, IdentityOutcome
from domain.products import Product
from domain.reasons import ReasonCode


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


class ReviewInput(BaseModel):
    reviewer: str = Field(min_length=1, max_length=64)
    outcome: ReviewOutcome
    approved_limit: int | None = Field(default=None, gt=0, description="lower the limit, fen")
    reason_code: ReasonCode | None = None
    note: str = Field(default="", max_length=2000)


class ReviewResult(BaseModel):
    status: ApplicationStatus
