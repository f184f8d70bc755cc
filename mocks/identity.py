"""Identity vendor (公安二要素): name + ID number against the citizen registry, with the
registry's reference portrait on a match."""

from __future__ import annotations

import base64
import uuid

from fastapi import APIRouter
from pydantic import BaseModel, Field

from mocks.errors import require_id_number
from mocks.personas import IdentityResult
from mocks.state import StateDep

router = APIRouter(prefix="/identity/v1", tags=["identity"])


class VerifyRequest(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    id_number: str = Field(min_length=1, max_length=32)


class VerifyResponse(BaseModel):
    request_id: str
    result: IdentityResult
    portrait_jpeg_b64: str | None = None


@router.post("/verify")
async def verify(body: VerifyRequest, state: StateDep) -> VerifyResponse:
    id_number = require_id_number(body.id_number)
    request_id = "ID" + uuid.uuid4().hex[:20].upper()
    with state.lock:
        citizen = state.citizens.get(id_number)
    if citizen is None:
        return VerifyResponse(request_id=request_id, result=IdentityResult.NO_RECORD)
    if citizen.name != body.name.strip():
        return VerifyResponse(request_id=request_id, result=IdentityResult.MISMATCH)
    portrait = base64.b64encode(citizen.portrait_jpeg).decode() if citizen.portrait_jpeg else None
    return VerifyResponse(
        request_id=request_id, result=IdentityResult.MATCH, portrait_jpeg_b64=portrait
    )
