"""Stage 3, identity: the name + ID number two-factor check with the identity vendor, keeping
the registry's reference portrait for the face match."""

from __future__ import annotations

import asyncio

from temporalio import activity

from activities.vendor_errors import vendor_call
from domain.enums import DocumentKind
from domain.identity import DocumentRef, IdentityCheckInput, IdentityCheckResult
from domain.naming import ActivityName
from store.blobs import BlobStore
from vendors.identity import IdentityClient, IdentityResult


class IdentityActivities:
    def __init__(self, client: IdentityClient, blobs: BlobStore) -> None:
        self._client = client
        self._blobs = blobs

    @activity.defn(name=ActivityName.VERIFY_IDENTITY)
    @vendor_call
    async def verify(self, inp: IdentityCheckInput) -> IdentityCheckResult:
        answer = await self._client.verify(inp.applicant.full_name, inp.applicant.id_number)
        activity.logger.info(
            "identity check of %s: %s (request %s)",
            inp.application_id,
            answer.result,
            answer.request_id,
        )
        if answer.result is not IdentityResult.MATCH:
            return IdentityCheckResult(matched=False, detail=answer.result.value)
        portrait = None
        if answer.portrait_jpeg:
            key, digest = await asyncio.to_thread(
                self._blobs.put,
                f"documents/{inp.application_id}/reference_portrait",
                answer.portrait_jpeg,
            )
            portrait = DocumentRef(
                kind=DocumentKind.REFERENCE_PORTRAIT,
                blob_key=key,
                sha256=digest,
                size=len(answer.portrait_jpeg),
                content_type="image/jpeg",
            )
        return IdentityCheckResult(
            matched=True, reference_portrait=portrait, detail=answer.result.value
        )
