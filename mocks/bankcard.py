"""Bank-card four-factor check (银行卡四要素): name, ID number, card number and the phone the
card holder reserved at the bank."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from pydantic import BaseModel, Field

from mocks.errors import require_id_number
from mocks.personas import CardResult, bank_code_for, luhn_valid
from mocks.state import StateDep

router = APIRouter(prefix="/bankcard/v1", tags=["bankcard"])


class VerifyRequest(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    id_number: str = Field(min_length=1, max_length=32)
    card_number: str = Field(pattern=r"^\d{12,19}$")
    phone: str = Field(pattern=r"^1\d{10}$")


class VerifyResponse(BaseModel):
    request_id: str
    result: CardResult
    bank_code: str | None = None


@router.post("/verify")
async def verify(body: VerifyRequest, state: StateDep) -> VerifyResponse:
    require_id_number(body.id_number)
    request_id = "BC" + uuid.uuid4().hex[:20].upper()
    with state.lock:
        profile = state.cards.get(body.card_number)
    if profile is not None and profile.four_factor is not None:
        result = profile.four_factor
    else:
        result = CardResult.MATCH if luhn_valid(body.card_number) else CardResult.CARD_INVALID
    if result is CardResult.CARD_INVALID:
        return VerifyResponse(request_id=request_id, result=result)
    bank_code = (profile.bank_code if profile else None) or bank_code_for(body.card_number)
    return VerifyResponse(request_id=request_id, result=result, bank_code=bank_code)
