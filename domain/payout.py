"""Stage 10: the payout child workflow, the payment gateway's orders and callbacks.

One input and one result model per workflow, update, signal and activity. Money is integer
fen; times are timezone-aware UTC."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from domain.enums import (
    PayoutFailure,
    PayoutResultKind,
    PayoutStatus,
)
from domain.offer import BankCard


class PayoutInput(BaseModel):
    application_id: str
    amount: int
    account_name: str
    card: BankCard
    max_attempts: int
    callback_wait_seconds: float
    new_card_timeout_seconds: float
    total_timeout_seconds: float
    card_replaceable: bool = Field(
        default=True,
        description="False: a refused card ends the payout at once (CARD_REFUSED) instead of "
        "asking the parent for another card",
    )


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


class PayoutNeedsCard(BaseModel):
    """PayoutWorkflow to its parent: the card was refused; the applicant must give another."""

    reason: str
    deadline: datetime
