"""The e-sign simulator: envelope, OTP, and a signed PDF that extends the original."""

from __future__ import annotations

import base64
from io import BytesIO

import httpx
from pyhanko.pdf_utils.reader import PdfFileReader
from reportlab.pdfgen import canvas

from mocks.personas import DEMO_APPROVE


def contract_pdf(pages: int = 2) -> bytes:
    buffer = BytesIO()
    pdf = canvas.Canvas(buffer)
    for page in range(pages):
        pdf.drawString(72, 720, f"Loan contract, page {page + 1}")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _envelope_body(document: bytes, phone: str = DEMO_APPROVE.phone, **extra: object) -> dict:
    return {
        "document_pdf_b64": base64.b64encode(document).decode(),
        "signer": {"name": DEMO_APPROVE.name, "id_number": DEMO_APPROVE.id_number, "phone": phone},
        **extra,
    }


async def test_sign_with_otp_and_download_evidence(client: httpx.AsyncClient) -> None:
    original = contract_pdf(pages=3)
    created = await client.post("/esign/v1/envelopes", json=_envelope_body(original))
    assert created.status_code == 201
    envelope_id = created.json()["envelope_id"]

    early = await client.get(f"/esign/v1/envelopes/{envelope_id}/document")
    assert early.status_code == 409 and early.json()["error"] == "NOT_SIGNED"
    wrong = await client.post(f"/esign/v1/envelopes/{envelope_id}/sign", json={"otp": "000000"})
    assert wrong.status_code == 400 and wrong.json()["error"] == "WRONG_OTP"
    signed = await client.post(f"/esign/v1/envelopes/{envelope_id}/sign", json={"otp": "135790"})
    assert signed.status_code == 200 and signed.json()["status"] == "SIGNED"
    again = await client.post(f"/esign/v1/envelopes/{envelope_id}/sign", json={"otp": "135790"})
    assert again.json() == signed.json()

    document = await client.get(f"/esign/v1/envelopes/{envelope_id}/document")
    assert document.headers["content-type"] == "application/pdf"
    data = document.content
    assert data != original and data.startswith(original)
    reader = PdfFileReader(BytesIO(data))
    assert int(reader.root["/Pages"]["/Count"]) == 3
    info = reader.trailer_view["/Info"].get_object()
    assert info["/EsignEnvelope"] == envelope_id
    assert info["/EsignOtpVerified"].value is True
    assert info["/EsignSignedAt"] == signed.json()["signed_at"]
    assert DEMO_APPROVE.id_number not in str(info["/EsignSigner"])


async def test_registered_otp_and_biz_no_idempotency(client: httpx.AsyncClient) -> None:
    await client.post("/admin/v1/esign-profiles", json={"phone": "13600000003", "otp": "4321"})
    document = contract_pdf()
    body = _envelope_body(document, phone="13600000003", biz_no="esign-app-1")
    first = (await client.post("/esign/v1/envelopes", json=body)).json()["envelope_id"]
    second = (await client.post("/esign/v1/envelopes", json=body)).json()["envelope_id"]
    assert first == second
    conflict = await client.post(
        "/esign/v1/envelopes",
        json=_envelope_body(contract_pdf(pages=1), phone="13600000003", biz_no="esign-app-1"),
    )
    assert conflict.status_code == 409
    default_otp = await client.post(f"/esign/v1/envelopes/{first}/sign", json={"otp": "135790"})
    assert default_otp.status_code == 400
    ok = await client.post(f"/esign/v1/envelopes/{first}/sign", json={"otp": "4321"})
    assert ok.status_code == 200


async def test_rejects_what_is_not_a_pdf(client: httpx.AsyncClient) -> None:
    not_pdf = await client.post("/esign/v1/envelopes", json=_envelope_body(b"hello"))
    assert not_pdf.status_code == 400 and not_pdf.json()["error"] == "INVALID_DOCUMENT"
    truncated = await client.post("/esign/v1/envelopes", json=_envelope_body(b"%PDF-1.4 junk"))
    assert truncated.status_code == 400
    missing = await client.post("/esign/v1/envelopes/EVNOPE/sign", json={"otp": "135790"})
    assert missing.status_code == 404 and missing.json()["error"] == "ENVELOPE_NOT_FOUND"
