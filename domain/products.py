"""Loan products: amounts, terms, age window and the timeout of every wait."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field

# Face distance on face_recognition's scale at or under which two faces are one person: the
# default of every product; the vision activities receive the product's value with each call.
FACE_MATCH_THRESHOLD = 0.6


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
}
