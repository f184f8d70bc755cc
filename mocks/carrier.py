"""Carrier data vendor (运营商授权): an SMS code authorizes a report task, produced
asynchronously and polled by task id."""

from __future__ import annotations

import time

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from mocks.errors import VendorHTTPError, require_id_number
from mocks.state import StateDep

router = APIRouter(prefix="/carrier/v1", tags=["carrier"])

PHONE_PATTERN = r"^1\d{10}$"
SMS_TTL_SECONDS = 300


class SmsRequest(BaseModel):
    phone: str = Field(pattern=PHONE_PATTERN)


class SmsResponse(BaseModel):
    sent: bool
    expires_in: int


class AuthorizeRequest(BaseModel):
    phone: str = Field(pattern=PHONE_PATTERN)
    name: str = Field(min_length=1, max_length=64)
    id_number: str = Field(min_length=1, max_length=32)
    code: str = Field(min_length=1, max_length=16)


class AuthorizeResponse(BaseModel):
    task_id: str


@router.post("/sms")
async def send_sms(body: SmsRequest) -> SmsResponse:
    return SmsResponse(sent=True, expires_in=SMS_TTL_SECONDS)


@router.post("/authorize")
async def authorize(body: AuthorizeRequest, state: StateDep) -> AuthorizeResponse:
    require_id_number(body.id_number)
    if body.code != state.carrier_profile(body.phone).sms_code:
        raise VendorHTTPError(400, "WRONG_CODE", "the SMS code does not match")
    return AuthorizeResponse(task_id=state.start_carrier_task(body.phone))


@router.get("/reports/{task_id}", response_model=None)
async def report(task_id: str, state: StateDep) -> JSONResponse:
    with state.lock:
        task = state.carrier_tasks.get(task_id)
    if task is None:
        raise VendorHTTPError(404, "TASK_NOT_FOUND", "no such report task")
    if time.monotonic() < task.ready_at:
        return JSONResponse({"task_id": task_id, "status": "PENDING"}, status_code=202)
    return JSONResponse({"task_id": task_id, "status": "DONE", **task.report})
