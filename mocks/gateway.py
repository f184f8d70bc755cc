"""Payment gateway (代付): channel health, payout orders keyed by the caller's idempotency key,
asynchronous settlement reported by signed callbacks. Ledger rules live in `mocks.payments`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from mocks.errors import VendorHTTPError
from mocks.payments import CHANNELS, IdempotencyConflict, PayoutRequest
from mocks.state import StateDep

router = APIRouter(prefix="/gateway/v1", tags=["gateway"])


class ChannelView(BaseModel):
    channel: str
    healthy: bool
    success_rate: float
    supported: bool


class PayoutBody(BaseModel):
    amount: int = Field(gt=0, description="fen")
    account_name: str = Field(min_length=1, max_length=64)
    card_number: str = Field(pattern=r"^\d{12,19}$")
    bank_code: str = Field(min_length=2, max_length=16)
    channel: str = Field(min_length=1, max_length=32)
    notify_url: str = Field(pattern=r"^https?://", max_length=500)


class OrderView(BaseModel):
    order_id: str
    idempotency_key: str
    status: str
    channel: str
    failure: str | None
    attempt: int
    amount: int


@router.get("/channels")
async def channels(
    bank_code: Annotated[str, Query(min_length=2, max_length=16)], state: StateDep
) -> list[ChannelView]:
    return [ChannelView.model_validate(c) for c in state.payments.channels(bank_code)]


@router.post("/payouts", response_model=OrderView)
async def submit(
    body: PayoutBody,
    state: StateDep,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> JSONResponse:
    if not idempotency_key:
        raise VendorHTTPError(400, "MISSING_IDEMPOTENCY_KEY", "Idempotency-Key header required")
    channel = CHANNELS.get(body.channel)
    if channel is None:
        raise VendorHTTPError(400, "UNKNOWN_CHANNEL", "no such channel")
    if not channel.supports(body.bank_code):
        raise VendorHTTPError(400, "CHANNEL_NOT_SUPPORTED", "channel does not serve this bank")
    with state.lock:
        card = state.cards.get(body.card_number)
    request = PayoutRequest(**body.model_dump())
    try:
        order, created = state.payments.submit(
            idempotency_key, request, card.payout_fault if card else None
        )
    except IdempotencyConflict as exc:
        raise VendorHTTPError(
            409, "IDEMPOTENCY_KEY_REUSED", "key already used for a different amount"
        ) from exc
    return JSONResponse(order, status_code=201 if created else 200)


@router.get("/payouts/{idempotency_key}")
async def query(idempotency_key: str, state: StateDep) -> OrderView:
    order = state.payments.query(idempotency_key)
    if order is None:
        raise VendorHTTPError(404, "ORDER_NOT_FOUND", "no order for this key")
    return OrderView.model_validate(order)
