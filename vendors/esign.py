"""E-sign provider client: envelope, OTP signature, signed document."""

from __future__ import annotations

import base64

from pydantic import BaseModel

from vendors.base import VendorClient, VendorError

WRONG_OTP = "WRONG_OTP"


class _EnvelopeBody(BaseModel):
    envelope_id: str


class _SignBody(BaseModel):
    status: str


class EsignClient(VendorClient):
    vendor = "esign"

    async def create_envelope(
        self,
        document_pdf: bytes,
        *,
        name: str,
        id_number: str,
        phone: str,
        biz_no: str | None = None,
    ) -> str:
        """Envelope id; the vendor sends the OTP to the signer. The same `biz_no` returns the
        same envelope, which makes a retried call safe."""
        route = "POST /esign/v1/envelopes"
        payload: dict[str, object] = {
            "document_pdf_b64": base64.b64encode(document_pdf).decode(),
            "signer": {"name": name, "id_number": id_number, "phone": phone},
        }
        if biz_no:
            payload["biz_no"] = biz_no
        response = await self.request(
            "POST", "/esign/v1/envelopes", route=route, accept=(200, 201), json=payload
        )
        return self.parse(_EnvelopeBody, route, response).envelope_id

    async def sign(self, envelope_id: str, otp: str) -> bool:
        """True once signed (also when it already was); False for a wrong OTP."""
        route = "POST /esign/v1/envelopes/{id}/sign"
        try:
            response = await self.request(
                "POST", f"/esign/v1/envelopes/{envelope_id}/sign", route=route, json={"otp": otp}
            )
        except VendorError as exc:
            if exc.code == WRONG_OTP:
                return False
            raise
        return self.parse(_SignBody, route, response).status == "SIGNED"

    async def download(self, envelope_id: str) -> bytes:
        route = "GET /esign/v1/envelopes/{id}/document"
        response = await self.request(
            "GET", f"/esign/v1/envelopes/{envelope_id}/document", route=route
        )
        if not response.content.startswith(b"%PDF-"):
            raise VendorError(
                f"{self.vendor} {route} sent something else than a PDF",
                retryable=False,
                status_code=response.status_code,
            )
        return response.content
