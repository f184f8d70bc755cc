"""Admin API: issue a ready test applicant — registered with the identity simulator, with both
ID card sides, a selfie and, for a given liveness challenge, a video of the person performing it —
so a frontend or QA team can drive the loan API end to end from any language:

    POST /admin/v1/test-applicants {"outcome": "review"}           → the person and documents
    POST /admin/v1/test-applicants/{id_number}/liveness-video       → MP4 for the challenge
         {"windows": [{"action": "BLINK", "start_s": 0, "end_s": 2.5}, ...]}

Files come base64 in JSON (the video as `video/mp4` bytes). The serial picks the person:
the same serial and outcome give the same person, so a test can repeat itself."""

from __future__ import annotations

import asyncio
import base64
import itertools
import threading

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from domain.identity import ActionWindow
from mocks.errors import VendorHTTPError, require_id_number
from mocks.state import Citizen, StateDep
from synthetic.test_applicants import OUTCOMES, SERIALS, challenge_video, make_test_applicant

router = APIRouter(prefix="/admin/v1/test-applicants", tags=["admin"])

_next_serial = itertools.count(1)
_issued: dict[str, tuple[str, int]] = {}
_issued_lock = threading.Lock()


class TestApplicantRequest(BaseModel):
    outcome: str = Field(default="approve", description=f"one of {sorted(OUTCOMES)}")
    serial: int | None = Field(
        default=None, ge=0, lt=SERIALS, description="pick the person; default: the next one"
    )


class TestApplicantOut(BaseModel):
    outcome: str
    serial: int
    full_name: str
    id_number: str
    phone: str
    bank_card: dict[str, str] = Field(description="number, bank_code, reserved_phone")
    carrier_sms_code: str = "246810"
    esign_otp: str = "135790"
    documents: dict[str, str] = Field(
        description="base64 JPEGs: id_front, id_back, selfie (upload with content type image/jpeg)"
    )


class ChallengeIn(BaseModel):
    windows: list[ActionWindow] = Field(min_length=1, max_length=6)


@router.post("", status_code=201)
async def issue_test_applicant(body: TestApplicantRequest, state: StateDep) -> TestApplicantOut:
    if body.outcome not in OUTCOMES:
        raise VendorHTTPError(422, "UNKNOWN_OUTCOME", f"outcome: one of {sorted(OUTCOMES)}")
    serial = body.serial if body.serial is not None else next(_next_serial) % SERIALS
    person = await asyncio.to_thread(make_test_applicant, body.outcome, serial)
    with state.lock:
        state.citizens[person.id_number] = Citizen(
            person.name, person.id_number, person.reference_portrait_jpeg
        )
    with _issued_lock:
        _issued[person.id_number] = (body.outcome, serial)
    b64 = lambda data: base64.b64encode(data).decode()  # noqa: E731
    return TestApplicantOut(
        outcome=body.outcome,
        serial=serial,
        full_name=person.name,
        id_number=person.id_number,
        phone=person.phone,
        bank_card={
            "number": person.card_number,
            "bank_code": person.bank_code,
            "reserved_phone": person.phone,
        },
        documents={
            "id_front": b64(person.id_front_jpeg),
            "id_back": b64(person.id_back_jpeg),
            "selfie": b64(person.selfie_jpeg),
        },
    )


@router.post(
    "/{id_number}/liveness-video",
    response_class=Response,
    responses={200: {"content": {"video/mp4": {"schema": {"type": "string", "format": "binary"}}}}},
)
async def liveness_video(id_number: str, body: ChallengeIn) -> Response:
    """The issued applicant performing the challenge the loan API gave their application."""
    id_number = require_id_number(id_number)
    with _issued_lock:
        issued = _issued.get(id_number)
    if issued is None:
        raise VendorHTTPError(404, "NOT_ISSUED", "issue the test applicant first")
    person = await asyncio.to_thread(make_test_applicant, *issued)
    video = await asyncio.to_thread(challenge_video, person, body.windows)
    return Response(video, media_type="video/mp4")
