"""Stages 1-11 of a loan application: one durable workflow from submission to money paid out.

The workflow only orchestrates and reads top to bottom: the stages in order, then the messages
it accepts, then how it moves between stages. Its state is one `ApplicationState`
(`workflows/state.py`); what a message may do is decided in `workflows/messages.py`; every
activity is called through its typed call in `workflows/calls.py`. Every wait has a timer, every
stage change is projected into the store and the search attributes, and business outcomes
(rejections, expiries) end the run through `Finished`, a control-flow exception caught in `run`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ChildWorkflowError
from temporalio.workflow import ParentClosePolicy
from typing_extensions import Unpack

with workflow.unsafe.imports_passed_through():
    from domain.application import StartApplicationInput, WithdrawInput
    from domain.carrier import (
        CarrierAuthorizeInput,
        CarrierAuthorizeResult,
        CarrierCodeInput,
        CarrierReportInput,
        CarrierSmsInput,
        CarrierSmsResult,
    )
    from domain.contract import (
        ContractDocument,
        ContractInput,
        EsignEnvelopeInput,
        EsignSignInput,
        SealInput,
        SignContractInput,
        SignContractResult,
    )
    from domain.decision import (
        BureauInput,
        BureauReport,
        Decision,
        DecisionInput,
        IdBlacklistInput,
        PrePayoutInput,
        PrescreenInput,
        ReviewInput,
        ReviewResult,
    )
    from domain.enums import (
        ApplicationStatus,
        DecisionOutcome,
        DocumentKind,
        LivenessAction,
        NextAction,
        PayoutResultKind,
        ReviewOutcome,
    )
    from domain.evidence import liveness_evidence
    from domain.identity import (
        ActionWindow,
        DocumentRef,
        FaceEncodeInput,
        FaceMatchInput,
        IdCardInput,
        IdentityCheckInput,
        IdentityCheckResult,
        IdentityOutcome,
        LivenessChallenge,
        LivenessInput,
        SubmitDocumentsInput,
    )
    from domain.idnumber import IdNumber, parse_id_number
    from domain.lines import Borrower, customer_id_for
    from domain.naming import (
        QueryName,
        SearchAttributeKeys,
        SignalName,
        UpdateName,
        WorkflowName,
        credit_line_workflow_id,
        payout_workflow_id,
    )
    from domain.offer import (
        AcceptOfferInput,
        AcceptOfferResult,
        BankCard,
        BankCardCheckInput,
        BankCardCheckResult,
    )
    from domain.payout import (
        NewBankCardInput,
        NewBankCardResult,
        PayoutInput,
        PayoutNeedsCard,
        PayoutOutcome,
    )
    from domain.reasons import RETAKE_REASONS, ReasonCode, reapply_after
    from domain.status import ApplicationView, ProjectionInput, StageFields
    from workflows import calls, messages
    from workflows.credit_line import line_for_application
    from workflows.options import carrier_report_poll
    from workflows.state import ApplicationState

CHALLENGE_ACTIONS = 3
CHALLENGE_WINDOW_SECONDS = 2.5

# Changes to the commands an application issues, guarded by `workflow.patched` so applications
# already open replay with the commands they were started with. Every patch is asked for at the
# start of the run, before any local activity: a patch marker asked for right after a local
# activity can be recorded in a later workflow task than the local activity's own marker, and
# replay then refuses the history (a nondeterminism error found by bench.chaos).
QUICK_STEPS_LOCAL = "quick-steps-as-local-activities"  # store writes and reads, the decision
BUREAU_DURING_CARRIER = "bureau-fetched-during-carrier-authorization"
FACES_ENCODED_AHEAD = "faces-encoded-while-the-card-is-read"
OFFER_IN_STORE = "offer-and-acceptance-projected-to-the-store"
# The identity vendor's check, the pre-payout check and the contract's rendering and seal: each a
# regular activity cost the dev server ~10 ms of CPU and the worker ~4 ms (`bench.temporal_cost`);
# none runs while an applicant waits on an update, so holding the workflow task is harmless.
STEPS_LOCAL = "vendor-reads-and-contract-steps-as-local-activities"


class Finished(Exception):
    """Unwinds the stages once a terminal status has been recorded."""


@workflow.defn(name=WorkflowName.APPLICATION)
class LoanApplicationWorkflow:
    @workflow.init
    def __init__(self, inp: StartApplicationInput) -> None:
        self._inp = inp
        self._lock = asyncio.Lock()
        self._s = ApplicationState.start(inp, _make_challenge())
        self._bureau: asyncio.Task[BureauReport] | None = None
        # decided at the start of the run (`_stages`)
        self._bureau_early = self._faces_ahead = self._offer_in_store = self._steps_local = False

    @property
    def stage(self) -> str:
        """The current status, named in the Web UI's activity summaries."""
        return self._s.status.value

    @workflow.run
    async def run(self, inp: StartApplicationInput) -> ApplicationStatus:
        try:
            await self._stages()
            await self._finish(ApplicationStatus.DISBURSED, "DISBURSED")
        except Finished:
            pass
        except ActivityError as failure:
            # A step failed for good (a policy error, a vendor refusing our request, retries
            # exhausted): the application ends FAILED, visible to ops, instead of the run failing
            # with the store still showing the last stage.
            workflow.logger.error("application failed: %s", failure.cause or failure)
            try:
                await self._finish(ApplicationStatus.FAILED, "STEP_FAILED")
            except Finished:
                pass
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._s.status

    async def _stages(self) -> None:
        self._bureau_early = workflow.patched(BUREAU_DURING_CARRIER)
        self._faces_ahead = workflow.patched(FACES_ENCODED_AHEAD)
        self._offer_in_store = workflow.patched(OFFER_IN_STORE)
        self._steps_local = workflow.patched(STEPS_LOCAL)
        await calls.register_application(self._inp, local=self._quick())
        await self._enter(ApplicationStatus.SUBMITTED, NextAction.WAIT, "SUBMITTED")
        await self._prescreen()
        await self._documents_and_identity()
        await self._carrier()
        decision = await self._decide()
        if decision.outcome == DecisionOutcome.REVIEW:
            await self._manual_review(decision.review_queue or "GREY_ZONE")
        await self._offer_stage()
        await self._signature_stage()
        await self._pre_payout()
        await self._disburse()
        if self._inp.product.is_revolving:
            await self._open_credit_line()

    # ================================================================ stage 1: pre-screen

    async def _prescreen(self) -> None:
        inp = self._inp
        result = await calls.prescreen(
            PrescreenInput(
                application_id=inp.application_id,
                phone=inp.phone,
                device=inp.device,
                submitted_at=inp.submitted_at,
            ),
            local=self._quick(),
        )
        if not result.passed:
            await self._reject(result.reasons, "PRESCREEN_REJECTED", result.reapply_after)

    # ================================================================ stages 2 and 3: identity

    async def _documents_and_identity(self) -> None:
        """Documents, then their checks; a problem the applicant can fix (no face, blur, failed
        liveness) sends them back to upload again, within the product's attempt limit."""
        while True:
            await self._await_documents()
            reasons = await self._verify_identity()
            if not reasons:
                return
            retake = set(reasons) <= RETAKE_REASONS
            if retake and self._s.document_attempts_left > 0:
                self._s.retake_reasons = reasons
                await self._project("DOCUMENTS_RETAKE_REQUESTED", reasons=reasons)
                continue
            await self._reject(reasons, "IDENTITY_REJECTED")

    async def _await_documents(self) -> None:
        self._s.docs = None
        timeout = self._inp.product.timeouts.documents
        await self._enter(
            ApplicationStatus.AWAITING_DOCUMENTS,
            NextAction.UPLOAD_DOCUMENTS,
            "AWAITING_DOCUMENTS",
            timeout,
        )
        await self._wait_for(lambda: self._s.docs is not None, timeout, "DOCUMENTS_TIMED_OUT")

    async def _verify_identity(self) -> list[ReasonCode]:
        """The checks of one upload; the reasons it fails for, or none."""
        docs = self._s.docs
        assert docs is not None
        self._s.document_attempts_left -= 1
        self._s.retake_reasons = []
        await self._enter(
            ApplicationStatus.VERIFYING_IDENTITY,
            NextAction.WAIT,
            "VERIFYING_IDENTITY",
            id_number=docs.id_number,
        )
        id_number = parse_id_number(docs.id_number)
        await self._check_id_blacklist(id_number)
        refs = {d.kind: d for d in docs.documents}
        reasons, reference_portrait = await self._check_documents_and_person(docs, id_number, refs)
        if reasons:
            return reasons
        return await self._match_faces(id_number, refs, reference_portrait)

    async def _check_id_blacklist(self, id_number: IdNumber) -> None:
        listed = await calls.check_id_blacklist(
            IdBlacklistInput(
                application_id=self._inp.application_id,
                id_number=id_number.value,
                phone=self._inp.phone,
                device_fingerprint=self._inp.device.fingerprint,
            ),
            local=self._quick(),
        )
        if not listed.passed:
            await self._reject(listed.reasons, "ID_BLACKLISTED", listed.reapply_after)

    async def _check_documents_and_person(
        self,
        docs: SubmitDocumentsInput,
        id_number: IdNumber,
        refs: dict[DocumentKind, DocumentRef],
    ) -> tuple[list[ReasonCode], DocumentRef | None]:
        """In parallel: the ID card read and checked and the liveness video on the vision
        queue, the name and ID number with the identity vendor (who returns its portrait)."""
        app_id, queue = self._inp.application_id, self._inp.vision_task_queue
        card, liveness, identity = await asyncio.gather(
            calls.inspect_id_card(
                IdCardInput(
                    application_id=app_id,
                    front=refs[DocumentKind.ID_FRONT],
                    back=refs[DocumentKind.ID_BACK],
                    application_date=self._inp.submitted_at.date(),
                    claimed_name=docs.full_name,
                    claimed_id_number=id_number.value,
                ),
                vision_queue=queue,
            ),
            calls.check_liveness(
                LivenessInput(
                    application_id=app_id,
                    video=refs[DocumentKind.LIVENESS_VIDEO],
                    challenge=self._s.challenge,
                    same_person_threshold=self._inp.product.face_match_threshold,
                ),
                vision_queue=queue,
            ),
            self._check_identity_and_encode_faces(refs),
        )
        self._s.identity_evidence = card.evidence | liveness_evidence(liveness, self._s.challenge)
        reasons: list[ReasonCode] = []
        if not identity.matched:
            reasons.append(ReasonCode.I002_IDENTITY_MISMATCH)
        reasons += [] if card.passed else card.reasons or [ReasonCode.I006_IMAGE_UNREADABLE]
        reasons += [] if liveness.passed else liveness.reasons or [ReasonCode.I007_LIVENESS_FAILED]
        return unique(reasons), identity.reference_portrait

    async def _check_identity_and_encode_faces(
        self, refs: dict[DocumentKind, DocumentRef]
    ) -> IdentityCheckResult:
        """The identity vendor's check; then, while the card is still being read, the selfie and
        the vendor's portrait encoded on the vision queue, so the face match only compares."""
        identity = await calls.verify_identity(
            IdentityCheckInput(
                application_id=self._inp.application_id, applicant=self._s.applicant()
            ),
            local=self._steps_local,
        )
        if identity.matched and self._faces_ahead:
            try:
                await calls.encode_faces(
                    FaceEncodeInput(
                        application_id=self._inp.application_id,
                        selfie=refs[DocumentKind.SELFIE],
                        reference_portrait=identity.reference_portrait,
                    ),
                    vision_queue=self._inp.vision_task_queue,
                )
            except ActivityError:
                # Only a head start: the match encodes what is missing and says why it failed.
                workflow.logger.warning("faces not encoded ahead; the match will encode them")
        return identity

    async def _match_faces(
        self,
        id_number: IdNumber,
        refs: dict[DocumentKind, DocumentRef],
        reference_portrait: DocumentRef | None,
    ) -> list[ReasonCode]:
        """The selfie against the card portrait, the vendor's portrait and the video."""
        match = await calls.match_faces(
            FaceMatchInput(
                application_id=self._inp.application_id,
                selfie=refs[DocumentKind.SELFIE],
                id_front=refs[DocumentKind.ID_FRONT],
                reference_portrait=reference_portrait,
                video=refs[DocumentKind.LIVENESS_VIDEO],
                threshold=self._inp.product.face_match_threshold,
            ),
            vision_queue=self._inp.vision_task_queue,
        )
        if not match.passed:
            return unique(match.reasons or [ReasonCode.I003_FACE_MISMATCH])
        self._s.identity = IdentityOutcome(
            passed=True,
            age=id_number.age_on(self._inp.submitted_at.date()),
            is_male=id_number.is_male,
            face_distance=match.distance_reference,
            liveness_passed=True,
        )
        distances: dict[str, str | int | float | bool | None] = {
            "face_distance_card": match.distance_card,
            "face_distance_reference": match.distance_reference,
            "face_distance_video": match.distance_video,
        }
        await self._project("IDENTITY_VERIFIED", data=distances | self._s.identity_evidence)
        return []

    # ================================================================ stage 4: carrier data

    async def _carrier(self) -> None:
        timeouts = self._inp.product.timeouts
        await self._enter(
            ApplicationStatus.AWAITING_CARRIER_AUTH,
            NextAction.AUTHORIZE_CARRIER,
            "AWAITING_CARRIER_AUTH",
            timeouts.carrier_auth,
        )
        if self._bureau_early:
            # The bureau report does not depend on the carrier step: fetch it while the
            # applicant types the SMS code, so the decision does not wait for it afterwards.
            self._bureau = asyncio.create_task(self._fetch_bureau())
        try:
            await self._authorize_carrier_and_fetch_report()
        except BaseException:
            if self._bureau is not None and not self._bureau.done():
                self._bureau.cancel()
            raise

    async def _authorize_carrier_and_fetch_report(self) -> None:
        timeouts = self._inp.product.timeouts
        await self._wait_for(
            lambda: self._s.carrier_task_id is not None or self._s.carrier_attempts_left <= 0,
            timeouts.carrier_auth,
            "CARRIER_AUTH_TIMED_OUT",
        )
        if self._s.carrier_task_id is None:
            await self._reject([ReasonCode.C001_CARRIER_AUTH_FAILED], "CARRIER_AUTH_FAILED")
        self._s.set_next(NextAction.WAIT, None)
        try:
            self._s.carrier_report = await calls.carrier_fetch_report(
                CarrierReportInput(
                    application_id=self._inp.application_id, task_id=self._s.carrier_task_id or ""
                ),
                opts=carrier_report_poll(timeouts.carrier_report),
            )
        except ActivityError:
            await self._reject(
                [ReasonCode.C002_CARRIER_REPORT_UNAVAILABLE], "CARRIER_REPORT_MISSING"
            )

    # ================================================================ stage 5: decision

    async def _fetch_bureau(self) -> BureauReport:
        return await calls.bureau_fetch_report(
            BureauInput(application_id=self._inp.application_id, applicant=self._s.applicant())
        )

    async def _decide(self) -> Decision:
        inp = self._inp
        assert self._s.identity is not None
        await self._enter(ApplicationStatus.DECISIONING, NextAction.WAIT, "DECISIONING")
        self._s.bureau = await (self._bureau or self._fetch_bureau())
        decision = await calls.decide(
            DecisionInput(
                application_id=inp.application_id,
                product=inp.product,
                requested_amount=inp.requested_amount,
                requested_term=inp.requested_term,
                decided_on=workflow.now().date(),
                identity=self._s.identity,
                bureau=self._s.bureau,
                carrier=self._s.carrier_report,
                device=inp.device,
            ),
            local=self._quick(),
        )
        self._s.decision = decision
        self._s.offer = decision.offer
        self._upsert(
            SearchAttributeKeys.OUTCOME.value_set(decision.outcome),
            SearchAttributeKeys.GRADE.value_set(decision.grade or ""),
        )
        await self._project(
            "DECIDED",
            decision_outcome=decision.outcome,
            risk_grade=decision.grade,
            approved_limit=decision.offer.limit if decision.offer else None,
            reasons=decision.reasons,
        )
        if decision.outcome == DecisionOutcome.REJECT or decision.offer is None:
            await self._reject(
                decision.reasons or [ReasonCode.R007_LOW_SCORE],
                "DECISION_REJECTED",
                decision.reapply_after,
            )
        return decision

    # ================================================================ stage 6: manual review

    async def _manual_review(self, queue: str) -> None:
        """Rounds of review: each ends approved, rejected, or with more documents asked for."""
        for _ in range(self._inp.product.review_rounds):
            review = await self._await_review(queue)
            self._upsert(SearchAttributeKeys.REVIEW_QUEUE.value_set(""))
            if review.outcome == ReviewOutcome.APPROVE:
                await self._approve_after_review(review)
                return
            if review.outcome == ReviewOutcome.REJECT:
                await self._reject(
                    [review.reason_code or ReasonCode.V001_REVIEW_REJECTED], "REVIEW_REJECTED"
                )
            await self._project("REVIEW_MORE_INFO", data={"reviewer": review.reviewer})
            self._s.document_attempts_left = max(self._s.document_attempts_left, 1)
            await self._documents_and_identity()
        await self._reject([ReasonCode.V001_REVIEW_REJECTED], "REVIEW_ROUNDS_EXHAUSTED")

    async def _await_review(self, queue: str) -> ReviewInput:
        """Open a round; past the SLA the case moves to the escalated queue, past the final
        timeout the application is rejected."""
        timeouts = self._inp.product.timeouts
        self._s.review = None
        self._s.review_queue = queue
        final = timeouts.review_final
        await self._enter(
            ApplicationStatus.MANUAL_REVIEW,
            NextAction.AWAIT_REVIEW,
            "REVIEW_OPENED",
            final,
            review_queue=queue,
        )
        self._upsert(SearchAttributeKeys.REVIEW_QUEUE.value_set(queue))
        sla = min(timeouts.review_sla, final)
        if not await self._wait_for(lambda: self._s.review is not None, sla, None):
            self._s.review_queue = f"{queue}_ESCALATED"
            self._upsert(SearchAttributeKeys.REVIEW_QUEUE.value_set(self._s.review_queue))
            await self._project("REVIEW_SLA_BREACHED", review_queue=self._s.review_queue)
            await self._wait_for(
                lambda: self._s.review is not None,
                final - sla,
                "REVIEW_TIMED_OUT",
                timeout_status=ApplicationStatus.REJECTED,
                timeout_reasons=[ReasonCode.V002_REVIEW_TIMED_OUT],
            )
        assert self._s.review is not None
        return self._s.review

    async def _approve_after_review(self, review: ReviewInput) -> None:
        offer = self._s.offer
        if review.approved_limit is not None and offer is not None:
            limit = min(offer.limit, review.approved_limit)
            self._s.offer = offer = offer.model_copy(update={"limit": limit})
        await self._project(
            "REVIEW_APPROVED",
            decision_outcome=DecisionOutcome.APPROVE,
            approved_limit=offer.limit if offer else None,
            data={"reviewer": review.reviewer},
        )
        self._upsert(SearchAttributeKeys.OUTCOME.value_set(DecisionOutcome.APPROVE))

    # ================================================================ stage 7: offer

    async def _offer_stage(self) -> None:
        offer = self._s.offer
        assert offer is not None
        expires = workflow.now() + self._inp.product.timeouts.offer
        self._s.offer = offer.model_copy(update={"expires_at": expires})
        await self._enter(
            ApplicationStatus.OFFERED,
            NextAction.ACCEPT_OFFER,
            "OFFERED",
            self._inp.product.timeouts.offer,
            **self._offer_projection(),
        )
        await self._wait_for(
            lambda: self._s.accepted is not None, expires - workflow.now(), "OFFER_EXPIRED"
        )

    def _offer_projection(self) -> StageFields:
        """The offer and its acceptance for the store, so that a read answered from the store
        still shows them (applications started since OFFER_IN_STORE)."""
        if not self._offer_in_store:
            return StageFields()
        accepted = self._s.accepted
        return StageFields(
            offer=self._s.offer,
            accepted_amount=accepted.amount if accepted else None,
            accepted_term=accepted.term_months if accepted else None,
        )

    # ================================================================ stage 8: signature

    async def _signature_stage(self) -> None:
        contract = await self._send_contract_for_signature()
        timeout = self._inp.product.timeouts.signature
        await self._enter(
            ApplicationStatus.AWAITING_SIGNATURE,
            NextAction.SIGN_CONTRACT,
            "AWAITING_SIGNATURE",
            timeout,
            **self._offer_projection() | StageFields(data={"contract_sha256": contract.sha256}),
        )
        await self._wait_for(
            lambda: self._s.signed_contract is not None or self._s.esign_attempts_left <= 0,
            timeout,
            "SIGNATURE_TIMED_OUT",
        )
        if self._s.signed_contract is None:
            await self._reject([ReasonCode.S001_SIGNATURE_FAILED], "SIGNATURE_FAILED")
        assert self._s.signed_contract is not None
        sealed = await calls.contract_seal(
            SealInput(application_id=self._inp.application_id, contract=self._s.signed_contract),
            local=self._steps_local,
        )
        self._s.sealed_contract = sealed
        await self._project("CONTRACT_SIGNED", data={"sealed_sha256": sealed.sha256})

    async def _send_contract_for_signature(self) -> ContractDocument:
        inp, schedule = self._inp, self._s.schedule
        assert self._s.accepted is not None and schedule is not None
        contract = await calls.contract_generate(
            ContractInput(
                application_id=inp.application_id,
                applicant=self._s.applicant(),
                product_name=inp.product.name,
                schedule=schedule,
                generated_at=workflow.now(),
            ),
            local=self._steps_local,
        )
        envelope = await calls.esign_create_envelope(
            EsignEnvelopeInput(
                application_id=inp.application_id,
                applicant=self._s.applicant(),
                contract=contract,
            )
        )
        self._s.envelope_id = envelope.envelope_id
        return contract

    # ================================================================ stages 9 and 10: payout

    async def _pre_payout(self) -> None:
        inp = self._inp
        assert self._s.bureau is not None
        await self._enter(ApplicationStatus.PRE_PAYOUT_CHECK, NextAction.WAIT, "PRE_PAYOUT_CHECK")
        check = await calls.pre_payout_check(
            PrePayoutInput(
                application_id=inp.application_id,
                applicant=self._s.applicant(),
                device_fingerprint=inp.device.fingerprint,
                bureau_fetched_at=self._s.bureau.fetched_at,
                max_bureau_age_seconds=inp.product.bureau_max_age.total_seconds(),
            ),
            local=self._steps_local,
        )
        if check.outcome == DecisionOutcome.REJECT:
            await self._reject(
                check.reasons or [ReasonCode.D001_PRE_PAYOUT_RISK], "PRE_PAYOUT_REJECTED"
            )
        if check.outcome == DecisionOutcome.REVIEW:
            await self._manual_review("PRE_PAYOUT")

    async def _disburse(self) -> None:
        inp, docs, accepted = self._inp, self._s.docs, self._s.accepted
        assert docs is not None and accepted is not None
        await self._enter(ApplicationStatus.DISBURSING, NextAction.WAIT, "DISBURSING")
        timeouts = inp.product.timeouts
        try:
            outcome: PayoutOutcome = await workflow.execute_child_workflow(
                WorkflowName.PAYOUT,
                PayoutInput(
                    application_id=inp.application_id,
                    amount=accepted.amount,
                    account_name=docs.full_name,
                    card=self._s.card or accepted.bank_card,
                    max_attempts=inp.product.payout_max_attempts,
                    callback_wait_seconds=timeouts.payout_callback.total_seconds(),
                    new_card_timeout_seconds=timeouts.new_bank_card.total_seconds(),
                    total_timeout_seconds=timeouts.payout_total.total_seconds(),
                ),
                id=payout_workflow_id(inp.application_id),
                result_type=PayoutOutcome,
                parent_close_policy=ParentClosePolicy.ABANDON,
            )
        except ChildWorkflowError:
            workflow.logger.exception("payout workflow failed")
            await self._finish(
                ApplicationStatus.FAILED, "PAYOUT_FAILED", [ReasonCode.D002_PAYOUT_FAILED]
            )
        self._s.payout_order_id = outcome.order_id
        if outcome.kind == PayoutResultKind.CARD_TIMEOUT:
            await self._finish(ApplicationStatus.EXPIRED, "NEW_CARD_TIMED_OUT")
        if outcome.kind != PayoutResultKind.DISBURSED:
            await self._finish(
                ApplicationStatus.FAILED, "PAYOUT_FAILED", [ReasonCode.D002_PAYOUT_FAILED]
            )

    # ================================================================ messages

    @workflow.query(name=QueryName.STATUS)
    def status(self) -> ApplicationView:
        return self._s.view()

    @workflow.update(name=UpdateName.SUBMIT_DOCUMENTS)
    async def submit_documents(self, inp: SubmitDocumentsInput) -> ApplicationView:
        canonical = parse_id_number(inp.id_number).value
        self._s.docs = inp.model_copy(update={"id_number": canonical})
        return self._s.view()

    @submit_documents.validator
    def _validate_documents(self, inp: SubmitDocumentsInput) -> None:
        messages.check_documents(self._s, inp)

    @workflow.update(name=UpdateName.REQUEST_CARRIER_SMS)
    async def request_carrier_sms(self) -> CarrierSmsResult:
        return await calls.carrier_send_sms(
            CarrierSmsInput(application_id=self._inp.application_id, phone=self._inp.phone)
        )

    @request_carrier_sms.validator
    def _validate_sms(self) -> None:
        messages.check_carrier_sms(self._s)

    @workflow.update(name=UpdateName.AUTHORIZE_CARRIER)
    async def authorize_carrier(self, inp: CarrierCodeInput) -> CarrierAuthorizeResult:
        async with self._lock:
            messages.check_carrier_code(self._s)
            result = await calls.carrier_authorize(
                CarrierAuthorizeInput(
                    application_id=self._inp.application_id,
                    applicant=self._s.applicant(),
                    code=inp.code,
                )
            )
            if result.accepted:
                self._s.carrier_task_id = result.task_id
            else:
                self._s.carrier_attempts_left -= 1
            return result.model_copy(update={"attempts_left": self._s.carrier_attempts_left})

    @authorize_carrier.validator
    def _validate_carrier_code(self, inp: CarrierCodeInput) -> None:
        messages.check_carrier_code(self._s)

    @workflow.update(name=UpdateName.RECORD_REVIEW)
    async def record_review(self, inp: ReviewInput) -> ReviewResult:
        self._s.review = inp
        return ReviewResult(status=self._s.status)

    @record_review.validator
    def _validate_review(self, inp: ReviewInput) -> None:
        messages.check_review(self._s, inp)

    @workflow.update(name=UpdateName.ACCEPT_OFFER)
    async def accept_offer(self, inp: AcceptOfferInput) -> AcceptOfferResult:
        async with self._lock:
            schedule = messages.check_accept(self._s, inp, workflow.now())
            check = await self._verify_card(inp.bank_card)
            if not check.verified:
                return AcceptOfferResult(accepted=False, detail=check.detail or "card refused")
            self._s.schedule = schedule
            self._s.card = inp.bank_card
            self._s.accepted = inp
            return AcceptOfferResult(accepted=True, schedule=schedule)

    @accept_offer.validator
    def _validate_accept(self, inp: AcceptOfferInput) -> None:
        messages.check_accept(self._s, inp, workflow.now())

    @workflow.update(name=UpdateName.SIGN_CONTRACT)
    async def sign_contract(self, inp: SignContractInput) -> SignContractResult:
        async with self._lock:
            messages.check_sign(self._s)
            result = await calls.esign_sign(
                EsignSignInput(
                    application_id=self._inp.application_id,
                    envelope_id=self._s.envelope_id or "",
                    otp=inp.otp,
                )
            )
            if result.signed and result.signed_contract is not None:
                self._s.signed_contract = result.signed_contract
            else:
                self._s.esign_attempts_left -= 1
            return SignContractResult(
                signed=self._s.signed_contract is not None,
                attempts_left=self._s.esign_attempts_left,
                detail=result.detail,
            )

    @sign_contract.validator
    def _validate_sign(self, inp: SignContractInput) -> None:
        messages.check_sign(self._s)

    @workflow.update(name=UpdateName.WITHDRAW)
    async def withdraw(self, inp: WithdrawInput) -> ApplicationView:
        self._s.withdrawn = inp
        return self._s.view()

    @withdraw.validator
    def _validate_withdraw(self, inp: WithdrawInput) -> None:
        messages.check_withdraw(self._s)

    @workflow.signal(name=SignalName.PAYOUT_NEEDS_CARD)
    def payout_needs_card(self, inp: PayoutNeedsCard) -> None:
        self._s.needs_card = inp
        self._s.set_next(NextAction.PROVIDE_NEW_BANK_CARD, inp.deadline)

    @workflow.update(name=UpdateName.PROVIDE_NEW_BANK_CARD)
    async def provide_new_bank_card(self, inp: NewBankCardInput) -> NewBankCardResult:
        async with self._lock:
            messages.check_new_card(self._s)
            check = await self._verify_card(inp.bank_card)
            if not check.verified:
                return NewBankCardResult(accepted=False, detail=check.detail or "card refused")
            self._s.card = inp.bank_card
            self._s.needs_card = None
            self._s.set_next(NextAction.WAIT, None)
            child = workflow.get_external_workflow_handle(
                payout_workflow_id(self._inp.application_id)
            )
            await child.signal(SignalName.NEW_BANK_CARD, inp.bank_card)
            return NewBankCardResult(accepted=True)

    @provide_new_bank_card.validator
    def _validate_new_card(self, inp: NewBankCardInput) -> None:
        messages.check_new_card(self._s)

    async def _verify_card(self, card: BankCard) -> BankCardCheckResult:
        return await calls.bankcard_verify(
            BankCardCheckInput(
                application_id=self._inp.application_id, applicant=self._s.applicant(), card=card
            )
        )

    # ================================================================ revolving products

    async def _open_credit_line(self) -> None:
        """A revolving approval becomes a credit line that outlives this application; the
        payout just made is its first draw."""
        s, inp = self._s, self._inp
        accepted, applicant = s.accepted, s.applicant()
        assert accepted is not None and s.offer is not None
        assert s.schedule is not None and s.bureau is not None
        state = line_for_application(
            application_id=inp.application_id,
            borrower=Borrower(
                customer_id=customer_id_for(applicant.id_number),
                applicant=applicant,
                device_fingerprint=inp.device.fingerprint,
                card=s.card or accepted.bank_card,
            ),
            product=inp.product,
            offer=s.offer,
            schedule=s.schedule,
            bureau_fetched_at=s.bureau.fetched_at,
            opened_at=workflow.now(),
            upsert_search_attributes=inp.upsert_search_attributes,
        )
        await workflow.start_child_workflow(
            WorkflowName.CREDIT_LINE,
            state,
            id=credit_line_workflow_id(inp.application_id),
            parent_close_policy=ParentClosePolicy.ABANDON,
        )
        await self._project("CREDIT_LINE_OPENED", data={"line_id": inp.application_id})

    # ================================================================ moving between stages

    async def _enter(
        self,
        status: ApplicationStatus,
        next_action: NextAction,
        event: str,
        timeout: timedelta | None = None,
        **projection: Unpack[StageFields],
    ) -> None:
        """Checkpoint for withdrawal, then move to a stage and tell the store and visibility."""
        if self._s.withdrawn is not None and not status.is_terminal:
            await self._finish(ApplicationStatus.CANCELLED, "WITHDRAWN")
        self._s.status = status
        self._s.history.append(status)
        self._s.set_next(next_action, workflow.now() + timeout if timeout else None)
        self._upsert(SearchAttributeKeys.STATUS.value_set(status))
        await self._project(event, **projection)

    async def _wait_for(
        self,
        condition: Callable[[], bool],
        timeout: timedelta,
        timeout_event: str | None,
        timeout_status: ApplicationStatus = ApplicationStatus.EXPIRED,
        timeout_reasons: list[ReasonCode] | None = None,
    ) -> bool:
        """Wait for an applicant or reviewer; withdrawal cancels, a timeout ends the run unless
        `timeout_event` is None (then the caller handles it)."""
        try:
            await workflow.wait_condition(
                lambda: bool(condition()) or self._s.withdrawn is not None,
                timeout=max(timeout, timedelta(seconds=1)),
            )
        except TimeoutError:
            if timeout_event is None:
                return False
            await self._finish(timeout_status, timeout_event, timeout_reasons or [])
        if self._s.withdrawn is not None:
            await self._finish(ApplicationStatus.CANCELLED, "WITHDRAWN")
        return True

    async def _reject(
        self, reasons: list[ReasonCode], event: str, after: date | None = None
    ) -> None:
        self._s.reapply_after = after or reapply_after(reasons, workflow.now().date())
        await self._finish(ApplicationStatus.REJECTED, event, reasons)

    async def _finish(
        self, status: ApplicationStatus, event: str, reasons: list[ReasonCode] | None = None
    ) -> None:
        self._s.status = status
        self._s.reasons = unique(reasons or [])
        self._s.history.append(status)
        self._s.set_next(NextAction.NONE, None)
        self._upsert(SearchAttributeKeys.STATUS.value_set(status))
        await self._project(event, reasons=self._s.reasons, reapply_after=self._s.reapply_after)
        raise Finished(status)

    def _upsert(self, *updates: SearchAttributeUpdate[Any]) -> None:
        if self._inp.upsert_search_attributes:
            workflow.upsert_search_attributes(list(updates))

    async def _project(self, event: str, **fields: Unpack[StageFields]) -> None:
        self._s.seq += 1
        in_review = self._s.status == ApplicationStatus.MANUAL_REVIEW
        stage = StageFields(review_queue=self._s.review_queue if in_review else None) | fields
        projection = ProjectionInput(
            application_id=self._inp.application_id,
            seq=self._s.seq,
            status=self._s.status,
            event=event,
            at=workflow.now(),
            **stage,
        )
        await calls.project(projection, local=self._quick())

    def _quick(self) -> bool:
        """Whether the quick steps (store writes and reads, the rule evaluation) run as local
        activities: yes for applications started since that change."""
        return workflow.patched(QUICK_STEPS_LOCAL)


def _make_challenge() -> LivenessChallenge:
    """The liveness challenge issued at the start: random actions, in order, in their windows."""
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


def unique(reasons: list[ReasonCode]) -> list[ReasonCode]:
    return list(dict.fromkeys(reasons))
