"""Identity vendor client (公安二要素): name + ID number, and the reference portrait on a match."""

from __future__ import annotations

import base64
import binascii
from enum import StrEnum

from pydantic import BaseModel

from vendors.base import VendorClient, VendorError


class IdentityResult(StrEnum):
    MATCH = "MATCH"
    MISMATCH = "MISMATCH"
    NO_RECORD = "NO_RECORD"


class _VerifyBody(BaseModel):
    request_id: str
    result: IdentityResult
    portrait_jpeg_b64: str | None = None


class IdentityVerification(BaseModel):
    request_id: str
    result: IdentityResult
    portrait_jpeg: bytes | None = None


class IdentityClient(VendorClient):
    vendor = "identity"

    async def verify(self, name: str, id_number: str) -> IdentityVerification:
        route = "POST /identity/v1/verify"
        response = await self.request(
            "POST",
            "/identity/v1/verify",
            route=route,
            json={"name": name, "id_number": id_number},
        )
        body = self.parse(_VerifyBody, route, response)
        portrait = None
        if body.result is IdentityResult.MATCH and body.portrait_jpeg_b64:
            try:
                portrait = base64.b64decode(body.portrait_jpeg_b64, validate=True)
            except (binascii.Error, ValueError):
                raise VendorError(
                    f"{self.vendor} {route} sent a portrait that is not base64", retryable=False
                ) from None
        return IdentityVerification(
            request_id=body.request_id, result=body.result, portrait_jpeg=portrait
        )
