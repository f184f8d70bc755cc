"""Loan products: amounts, terms, age window, the timeout of every wait and, after approval,
what the approval is (a revolving line or a single-use loan), how long it stays valid and what
lateness costs."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from pydantic import BaseModel, Field

# Face distance on face_recognition's scale at or under which two faces are one person: the
# default of every product; the vision activities receive the product's value with each call.
FACE_MATCH_THRESHOLD = 0.6


class ApprovalKind(StrEnum):
    """单次额度: the approval pays out once. 循环额度: repaid principal can be drawn again."""

    SINGLE_USE = "SINGLE_USE"
    REVOLVING = "REVOLVING"


class LateFeeRule(BaseModel):
    """Late fee on an overdue instalment: a daily rate on its unpaid principal after a grace
    period, capped (with the interest) so the cost stays within the product's APR cap."""

    grace_days: int = Field(default=3, ge=0)
    daily_rate: float = Field(default=0.0005, ge=0, le=0.001, description="of overdue principal")
    max_fraction: float = Field(
        default=0.1, ge=0, le=0.24, description="cap on one instalment's late fee / principal"
    )


class LineTerms(BaseModel):
    """How a revolving line lives: validity of an unused approval, of the line, and the
    policy's room to move the limit."""

    unused_validity: timedelta = Field(
        default=timedelta(days=15), description="an approval never drawn on expires after this"
    )
    line_validity: timedelta = timedelta(days=365)
    min_draw: int = Field(default=50_000, description="fen")
    max_limit: int = Field(default=5_000_000, description="ceiling a raise can reach, fen")
    signature_timeout: timedelta = timedelta(minutes=30)
    debit_retry_days: int = Field(default=30, description="days a missed debit is retried")


class Timeouts(BaseModel):
    documents: timedelta = timedelta(minutes=30)
    carrier_auth: timedelta = timedelta(minutes=15)
    carrier_report: timedelta = timedelta(minutes=10)
    review_sla: timedelta = timedelta(hours=4)
    review_final: timedelta = timedelta(hours=72)
    offer: timedelta = timedelta(days=7)
    signature: timedelta = timedelta(minutes=30)
    new_bank_card: timedelta = timedelta(hours=24)
    payout_callback: timedelta = timedelta(seconds=30)
    payout_total: timedelta = timedelta(hours=2)


class Product(BaseModel):
    code: str
    name: str
    min_amount: int = Field(description="fen")
    max_amount: int = Field(description="fen")
    terms: list[int] = Field(description="allowed terms in months")
    min_age: int = 22
    max_age: int = 55
    carrier_sms_attempts: int = 3
    esign_otp_attempts: int = 3
    payout_max_attempts: int = 4
    document_attempts: int = 3
    review_rounds: int = 3
    face_match_threshold: float = Field(
        default=FACE_MATCH_THRESHOLD,
        description="face distance policy: at most this is the same person",
    )
    bureau_max_age: timedelta = timedelta(days=7)
    timeouts: Timeouts = Timeouts()
    approval: ApprovalKind = ApprovalKind.SINGLE_USE
    line: LineTerms = LineTerms()
    late_fee: LateFeeRule = LateFeeRule()

    @property
    def is_revolving(self) -> bool:
        return self.approval == ApprovalKind.REVOLVING


PRODUCTS: dict[str, Product] = {
    "CASH_STD": Product(
        code="CASH_STD",
        name="Standard cash loan",
        min_amount=50_000,
        max_amount=5_000_000,
        terms=[3, 6, 12, 24],
    ),
    "CASH_SMALL": Product(
        code="CASH_SMALL",
        name="Small instalment loan",
        min_amount=10_000,
        max_amount=500_000,
        terms=[3, 6],
    ),
    "CASH_LINE": Product(
        code="CASH_LINE",
        name="Revolving cash line",
        min_amount=50_000,
        max_amount=5_000_000,
        terms=[3, 6, 12],
        approval=ApprovalKind.REVOLVING,
    ),
}
