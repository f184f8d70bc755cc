"""Stage 8, signature: send the generated contract to the e-sign provider and sign it with the
applicant's OTP; the signed PDF goes to the blob store for sealing and download."""

from __future__ import annotations

import asyncio
from io import BytesIO

from pyhanko.pdf_utils.reader import PdfFileReader
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.documents import read_blob
from activities.vendor_errors import vendor_call
from domain.contract import (
    ContractDocument,
    EsignEnvelope,
    EsignEnvelopeInput,
    EsignSignInput,
    EsignSignResult,
)
from domain.naming import ActivityName, ErrorType
from store.blobs import BlobStore
from vendors.esign import EsignClient


def page_count(pdf: bytes) -> int:
    return int(PdfFileReader(BytesIO(pdf)).root["/Pages"]["/Count"])


class EsignActivities:
    def __init__(self, client: EsignClient, blobs: BlobStore) -> None:
        self._client = client
        self._blobs = blobs

    @activity.defn(name=ActivityName.ESIGN_CREATE_ENVELOPE)
    @vendor_call
    async def create_envelope(self, inp: EsignEnvelopeInput) -> EsignEnvelope:
        pdf = await asyncio.to_thread(read_blob, self._blobs, inp.contract.blob_key, "contract PDF")
        # Same application and same contract bytes, same envelope: a retried call after a lost
        # response must not send the applicant a second OTP for a second envelope.
        biz_no = f"esign-{inp.application_id}-{inp.contract.sha256[:16]}"
        envelope_id = await self._client.create_envelope(
            pdf,
            name=inp.applicant.full_name,
            id_number=inp.applicant.id_number,
            phone=inp.applicant.phone,
            biz_no=biz_no,
        )
        activity.logger.info("envelope %s created for %s", envelope_id, inp.application_id)
        return EsignEnvelope(envelope_id=envelope_id)

    @activity.defn(name=ActivityName.ESIGN_SIGN)
    @vendor_call
    async def sign(self, inp: EsignSignInput) -> EsignSignResult:
        signed = await self._client.sign(inp.envelope_id, inp.otp)
        if not signed:
            activity.logger.info("e-sign OTP refused for %s", inp.application_id)
            return EsignSignResult(signed=False, detail="WRONG_OTP")
        pdf = await self._client.download(inp.envelope_id)
        try:
            pages = await asyncio.to_thread(page_count, pdf)
        except Exception as exc:
            raise ApplicationError(
                "signed contract is not a readable PDF",
                type=ErrorType.BAD_DOCUMENT,
                non_retryable=True,
            ) from exc
        key, digest = await asyncio.to_thread(
            self._blobs.put, f"documents/{inp.application_id}/contract_signed", pdf
        )
        return EsignSignResult(
            signed=True,
            signed_contract=ContractDocument(blob_key=key, sha256=digest, pages=pages),
            detail="SIGNED",
        )
