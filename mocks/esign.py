"""E-sign provider: an envelope holds one PDF for one signer, who signs with the OTP sent to
their phone; the signed PDF carries the signing evidence as an incremental update."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import UTC, datetime
from io import BytesIO

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field
from pyhanko import stamp
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from domain.idnumber import mask_id_number, mask_phone
from mocks.errors import VendorHTTPError, require_id_number
from mocks.state import Envelope, StateDep

router = APIRouter(prefix="/esign/v1", tags=["esign"])

OTP_TTL_SECONDS = 600
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


class Signer(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    id_number: str = Field(min_length=1, max_length=32)
    phone: str = Field(pattern=r"^1\d{10}$")


class EnvelopeRequest(BaseModel):
    document_pdf_b64: str = Field(min_length=1)
    signer: Signer
    biz_no: str | None = Field(
        default=None, max_length=100, description="caller's reference; same value, same envelope"
    )


class EnvelopeResponse(BaseModel):
    envelope_id: str
    status: str
    otp_expires_in: int


class SignRequest(BaseModel):
    otp: str = Field(min_length=1, max_length=16)


class SignResponse(BaseModel):
    envelope_id: str
    status: str
    signed_at: str | None


def _decode_pdf(b64: str) -> bytes:
    try:
        data = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise VendorHTTPError(400, "INVALID_DOCUMENT", "document is not base64") from exc
    if len(data) > MAX_DOCUMENT_BYTES or not data.startswith(b"%PDF-"):
        raise VendorHTTPError(400, "INVALID_DOCUMENT", "document is not a PDF")
    try:
        PdfFileReader(BytesIO(data)).root["/Pages"]
    except Exception as exc:
        raise VendorHTTPError(400, "INVALID_DOCUMENT", "document cannot be read") from exc
    return data


def seal_evidence(envelope: Envelope, signed_at: str) -> bytes:
    """Append the signing evidence without touching the original bytes: an incremental update
    adds a visible stamp on the last page and the evidence to the document info dictionary."""
    writer = IncrementalPdfFileWriter(BytesIO(envelope.document))
    info = generic.DictionaryObject()
    previous = writer.prev.trailer_view.get("/Info")
    if previous is not None:
        info.update(previous.get_object())
    evidence = {
        "/EsignEnvelope": envelope.envelope_id,
        "/EsignSigner": mask_id_number(envelope.signer_id_number),
        "/EsignSignerPhone": mask_phone(envelope.signer_phone),
        "/EsignSignedAt": signed_at,
        "/EsignMethod": "SMS_OTP",
    }
    for key, value in evidence.items():
        info[generic.pdf_name(key)] = generic.TextStringObject(value)
    info[generic.pdf_name("/EsignOtpVerified")] = generic.BooleanObject(True)
    writer.set_info(info)
    pages = int(writer.root["/Pages"]["/Count"])
    text = (
        "Electronically signed (SMS OTP verified)\n"
        "Signer ID: %(signer)s\nEnvelope: %(envelope)s\nSigned at: %(at)s"
    )
    stamp.TextStamp(
        writer,
        stamp.TextStampStyle(stamp_text=text, border_width=1),
        text_params={
            "signer": evidence["/EsignSigner"],
            "envelope": envelope.envelope_id,
            "at": signed_at,
        },
    ).apply(dest_page=pages - 1, x=300, y=30)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


@router.post("/envelopes", status_code=201)
async def create_envelope(body: EnvelopeRequest, state: StateDep) -> EnvelopeResponse:
    id_number = require_id_number(body.signer.id_number)
    document = _decode_pdf(body.document_pdf_b64)
    with state.lock:
        existing_id = state.envelopes_by_biz_no.get(body.biz_no) if body.biz_no else None
        if existing_id is not None:
            existing = state.envelopes[existing_id]
            if existing.document != document:
                raise VendorHTTPError(409, "BIZ_NO_REUSED", "biz_no used for another document")
            return EnvelopeResponse(
                envelope_id=existing_id, status=existing.status, otp_expires_in=OTP_TTL_SECONDS
            )
        envelope = Envelope(
            envelope_id="EV" + uuid.uuid4().hex[:20].upper(),
            biz_no=body.biz_no,
            document=document,
            signer_name=body.signer.name,
            signer_id_number=id_number,
            signer_phone=body.signer.phone,
        )
        state.envelopes[envelope.envelope_id] = envelope
        if body.biz_no:
            state.envelopes_by_biz_no[body.biz_no] = envelope.envelope_id
    return EnvelopeResponse(
        envelope_id=envelope.envelope_id, status=envelope.status, otp_expires_in=OTP_TTL_SECONDS
    )


def _envelope(state: StateDep, envelope_id: str) -> Envelope:
    with state.lock:
        envelope = state.envelopes.get(envelope_id)
    if envelope is None:
        raise VendorHTTPError(404, "ENVELOPE_NOT_FOUND", "no such envelope")
    return envelope


@router.post("/envelopes/{envelope_id}/sign")
async def sign(envelope_id: str, body: SignRequest, state: StateDep) -> SignResponse:
    envelope = _envelope(state, envelope_id)
    if envelope.status == "SIGNED":
        return SignResponse(envelope_id=envelope_id, status="SIGNED", signed_at=envelope.signed_at)
    if body.otp != state.esign_otp(envelope.signer_phone):
        raise VendorHTTPError(400, "WRONG_OTP", "the one-time password does not match")
    signed_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    signed = seal_evidence(envelope, signed_at)
    with state.lock:
        if envelope.status != "SIGNED":
            envelope.signed_document, envelope.signed_at = signed, signed_at
            envelope.status = "SIGNED"
    return SignResponse(envelope_id=envelope_id, status="SIGNED", signed_at=envelope.signed_at)


@router.get("/envelopes/{envelope_id}/document", response_class=Response)
async def document(envelope_id: str, state: StateDep) -> Response:
    envelope = _envelope(state, envelope_id)
    if envelope.signed_document is None:
        raise VendorHTTPError(409, "NOT_SIGNED", "the envelope is not signed yet")
    return Response(envelope.signed_document, media_type="application/pdf")
