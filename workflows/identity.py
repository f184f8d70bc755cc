"""Stages 2 and 3: wait for the documents, then verify the applicant's identity.

The CPU-bound checks run on the vision task queue, in parallel with the identity vendor's
two-factor check; problems the applicant can fix (no face, blur, failed liveness) send them back
to upload again, within the product's attempt limit.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.enums import ApplicationStatus, DocumentKind, LivenessAction, NextAction
    from domain.evidence import card_evidence, liveness_evidence
    from domain.idnumber import parse_id_number
    from domain.models import (
        ActionWindow,
        FaceMatchInput,
        FaceMatchResult,
        IdBlacklistInput,
        IdCardInput,
        IdCardResult,
        IdentityCheckInput,
        IdentityCheckResult,
        IdentityOutcome,
        LivenessChallenge,
        LivenessInput,
        LivenessResult,
        PrescreenResult,
    )
    from domain.naming import ActivityName
    from domain.reasons import RETAKE_REASONS, ReasonCode
    from workflows import options
    from workflows.lifecycle import ApplicationLifecycle, unique

CHALLENGE_ACTIONS = 3
CHALLENGE_WINDOW_SECONDS = 2.5


class IdentityStages(ApplicationLifecycle):
    async def _documents_and_identity(self) -> None:
        while True:
            await self._await_documents()
            reasons = await self._verify_identity()
            if not reasons:
                return
            retake = set(reasons) <= RETAKE_REASONS
            if retake and self._document_attempts_left > 0:
                self._retake_reasons = reasons
                await self._project("DOCUMENTS_RETAKE_REQUESTED", reasons=reasons)
                continue
            await self._reject(reasons, "IDENTITY_REJECTED")

    async def _await_documents(self) -> None:
        self._docs = None
        timeout = self._inp.product.timeouts.documents
        await self._enter(
            ApplicationStatus.AWAITING_DOCUMENTS,
            NextAction.UPLOAD_DOCUMENTS,
            "AWAITING_DOCUMENTS",
            timeout,
        )
        await self._wait_for(lambda: self._docs is not None, timeout, "DOCUMENTS_TIMED_OUT")

    async def _verify_identity(self) -> list[ReasonCode]:
        docs = self._docs
        assert docs is not None
        self._document_attempts_left -= 1
        self._retake_reasons = []
        await self._enter(
            ApplicationStatus.VERIFYING_IDENTITY,
            NextAction.WAIT,
            "VERIFYING_IDENTITY",
            id_number=docs.id_number,
        )
        app_id = self._inp.application_id
        id_number = parse_id_number(docs.id_number)
        listed = await self._call(
            ActivityName.CHECK_ID_BLACKLIST,
            IdBlacklistInput(
                application_id=app_id,
                id_number=id_number.value,
                phone=self._inp.phone,
                device_fingerprint=self._inp.device.fingerprint,
            ),
            PrescreenResult,
            options.STORE,
        )
        if not listed.passed:
            await self._reject(listed.reasons, "ID_BLACKLISTED", listed.reapply_after)
        refs = {d.kind: d for d in docs.documents}
        card, liveness, identity = await asyncio.gather(
            self._call(
                ActivityName.INSPECT_ID_CARD,
                IdCardInput(
                    application_id=app_id,
                    front=refs[DocumentKind.ID_FRONT],
                    back=refs[DocumentKind.ID_BACK],
                    application_date=self._inp.submitted_at.date(),
                    claimed_name=docs.full_name,
                    claimed_id_number=id_number.value,
                ),
                IdCardResult,
                options.VISION,
            ),
            self._call(
                ActivityName.CHECK_LIVENESS,
                LivenessInput(
                    application_id=app_id,
                    video=refs[DocumentKind.LIVENESS_VIDEO],
                    challenge=self._challenge,
                ),
                LivenessResult,
                options.VISION,
            ),
            self._call(
                ActivityName.VERIFY_IDENTITY,
                IdentityCheckInput(
                    application_id=app_id, full_name=docs.full_name, id_number=id_number.value
                ),
                IdentityCheckResult,
                options.VENDOR,
            ),
        )
        reasons: list[ReasonCode] = []
        if not identity.matched:
            reasons.append(ReasonCode.I002_IDENTITY_MISMATCH)
        reasons += [] if card.passed else card.reasons or [ReasonCode.I006_IMAGE_UNREADABLE]
        reasons += [] if liveness.passed else liveness.reasons or [ReasonCode.I007_LIVENESS_FAILED]
        if reasons:
            return unique(reasons)
        match = await self._call(
            ActivityName.MATCH_FACES,
            FaceMatchInput(
                application_id=app_id,
                selfie=refs[DocumentKind.SELFIE],
                id_front=refs[DocumentKind.ID_FRONT],
                reference_portrait=identity.reference_portrait,
                video=refs[DocumentKind.LIVENESS_VIDEO],
                threshold=self._inp.product.face_match_threshold,
            ),
            FaceMatchResult,
            options.VISION,
        )
        if not match.passed:
            return unique(match.reasons or [ReasonCode.I003_FACE_MISMATCH])
        self._identity = IdentityOutcome(
            passed=True,
            age=id_number.age_on(self._inp.submitted_at.date()),
            is_male=id_number.is_male,
            face_distance=match.distance_reference,
            liveness_passed=True,
        )
        await self._project(
            "IDENTITY_VERIFIED",
            data={
                "face_distance_card": match.distance_card,
                "face_distance_reference": match.distance_reference,
                "face_distance_video": match.distance_video,
            }
            | card_evidence(card)
            | liveness_evidence(liveness, self._challenge),
        )
        return []

    def _make_challenge(self) -> LivenessChallenge:
        rng = workflow.random()
        actions = rng.sample(list(LivenessAction), CHALLENGE_ACTIONS)
        return LivenessChallenge(
            nonce=str(workflow.uuid4()),
            windows=[
                ActionWindow(
                    action=action,
                    start_s=i * CHALLENGE_WINDOW_SECONDS,
                    end_s=(i + 1) * CHALLENGE_WINDOW_SECONDS,
                )
                for i, action in enumerate(actions)
            ],
        )
