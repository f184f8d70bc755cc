"""Stage 7: the offer accepted with an amount and term, and the bank card bound.

One input and one result model per workflow, update, signal and activity. Money is integer
fen; times are timezone-aware UTC."""

from __future__ import annotations

from pydantic import BaseModel, Field

from domain.identity import Applicant
from domain.pricing import Schedule


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
