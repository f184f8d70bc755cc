"""Contracts of the credit line and its draws: one input and one result model per workflow,
update, signal, query and activity. Money is integer fen; times are timezone-aware UTC."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from domain.lines import (
    Borrower,
    DrawStatus,
    Instalment,
    LimitAction,
    LinePricing,
    LineStatus,
    MonitoringEventKind,
)
from domain.pricing import Schedule
from domain.products import Product
from domain.reasons import ApplicantReason, ReasonCode

# ---------------------------------------------------------------- line messages


class DrawRequest(BaseModel):
    amount: int = Field(gt=0, description="fen")
    term_months: int = Field(gt=0)
    reference: str = Field(
        pattern=r"^[A-Za-z0-9_-]{4,64}$", description="the client's request id: a retry draws once"
    )


class DrawAccepted(BaseModel):
    draw_id: str
    status: DrawStatus
    schedule: Schedule | None
    available: int


class RepayRequest(BaseModel):
    amount: int = Field(gt=0, description="fen")
    reference: str = Field(
        pattern=r"^[A-Za-z0-9_-]{4,64}$", description="the client's payment id: pays once"
    )


class RepayResult(BaseModel):
    reference: str
    accepted: bool
    amount: int = 0
    principal: int = 0
    charges: int = 0
    available: int = 0
    detail: str = ""


class PayoffRequest(BaseModel):
    """The `payoff` query: what paying off costs on a day (the caller's today)."""

    on: date
    draw_id: str | None = Field(default=None, description="one draw; None: the whole line")


class SettleRequest(BaseModel):
    """Early settlement: pay a draw, or the whole line, off today at its payoff quote."""

    amount: int = Field(
        gt=0, description="the payoff quoted for today, fen: what the borrower agreed"
    )
    reference: str = Field(
        pattern=r"^[A-Za-z0-9_-]{4,64}$", description="the client's payment id: pays once"
    )
    draw_id: str | None = Field(default=None, description="one draw; None: the whole line")


class SettleResult(BaseModel):
    reference: str
    accepted: bool
    amount: int = 0
    principal: int = 0
    charges: int = Field(default=0, description="interest and fee to date, late fees")
    waived: int = Field(default=0, description="scheduled interest and fee not charged")
    available: int = 0
    detail: str = ""


class MonitoringSignal(BaseModel):
    """A behaviour signal from outside (bureau alert, device or location anomaly)."""

    kind: MonitoringEventKind
    reference: str = Field(min_length=1, max_length=64)
    new_loans: int = Field(default=0, ge=0, description="bureau alert: loans opened elsewhere")
    detail: str = Field(default="", max_length=200)


class OpsLineAction(BaseModel):
    operator: str = Field(default="", max_length=64, description="set from the ops sign-in")
    action: LimitAction
    new_limit: int | None = Field(default=None, gt=0, description="ADJUST: the new limit, fen")
    note: str = Field(default="", max_length=2000)


class DrawSummary(BaseModel):
    draw_id: str
    amount: int
    term_months: int
    status: DrawStatus
    disbursed_on: date | None = None
    reasons: list[ApplicantReason] = Field(default=[], description="why a draw did not pay out")


class LineView(BaseModel):
    """The `status` query: what the borrower and ops see of the live line."""

    line_id: str
    status: LineStatus
    limit: int
    available: int
    outstanding_principal: int
    outstanding: int
    overdue_days: int
    next_due_on: date | None
    expires_at: datetime
    pricing: LinePricing
    min_draw: int
    reasons: list[ApplicantReason] = []
    reason_codes: list[ReasonCode] = []
    frozen_by: str | None = None
    draws: list[DrawSummary] = []
    instalments: list[Instalment] = []
    runs: int = 1
    repayments: int = 0


# ---------------------------------------------------------------- draw workflow


class DrawStage(StrEnum):
    PRE_PAYOUT_CHECK = "PRE_PAYOUT_CHECK"
    AWAITING_SIGNATURE = "AWAITING_SIGNATURE"
    DISBURSING = "DISBURSING"
    DISBURSED = "DISBURSED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    FAILED = "FAILED"


class DrawInput(BaseModel):
    line_id: str
    draw_id: str = Field(description="also the draw's workflow id")
    borrower: Borrower
    product: Product
    schedule: Schedule = Field(description="the quote the borrower saw: the contract's schedule")
    bureau_fetched_at: datetime


class DrawOutcome(BaseModel):
    draw_id: str
    status: DrawStatus
    schedule: Schedule
    disbursed_on: date | None = None
    order_id: str | None = None
    reasons: list[ReasonCode] = []


class DrawView(BaseModel):
    draw_id: str
    stage: DrawStage
    schedule: Schedule
    esign_attempts_left: int
    deadline: datetime | None = None
    contract_sha256: str | None = None
    reasons: list[ApplicantReason] = []


# ---------------------------------------------------------------- activities


class LineEventInput(BaseModel):
    """One change of a line, projected into the store and appended to its audit trail."""

    line_id: str
    seq: int
    event: str
    status: LineStatus
    limit: int
    available: int
    outstanding_principal: int
    overdue_days: int
    reasons: list[ReasonCode] = []
    actor: str = Field(default="system", description="system, policy or the operator")
    customer_id: str
    product_code: str
    expires_at: datetime
    at: datetime
    data: dict[str, str | int | float | bool | None] = {}


class MonitoringInput(BaseModel):
    line_id: str
    kind: MonitoringEventKind
    status: LineStatus
    frozen_by: str | None
    reasons: list[ReasonCode]
    limit: int
    outstanding_principal: int
    overdue_days: int
    new_loans: int = 0
    repayments_on_time: int = 0


class LimitDecision(BaseModel):
    action: LimitAction
    factor: float = Field(default=1.0, description="LOWER / RAISE: new limit = limit x factor")
    reasons: list[ReasonCode] = []
    rule: str = ""
    policy_version: str
    policy_hash: str


class DebitStatus(StrEnum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class DebitInput(BaseModel):
    line_id: str
    idempotency_key: str
    amount: int
    account_name: str
    card_number: str
    bank_code: str


class AwaitDebitInput(BaseModel):
    line_id: str
    idempotency_key: str


class DebitOrder(BaseModel):
    order_id: str
    idempotency_key: str
    status: DebitStatus
    amount: int
    failure: str | None = None
