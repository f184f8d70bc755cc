"""Stages 1-11 of a loan application: one durable workflow from submission to money paid out.

The workflow only orchestrates. Applicant steps and review outcomes arrive as validated updates
(`workflows/steps.py`); every wait has a timer; every stage change is projected into the store
and the search attributes (`workflows/lifecycle.py`).
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError, ChildWorkflowError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from domain.enums import (
        ApplicationStatus,
        DecisionOutcome,
        NextAction,
        PayoutResultKind,
        ReviewOutcome,
    )
    from domain.lines import Borrower, customer_id_for
    from domain.models import (
        BureauInput,
        BureauReport,
        CarrierReport,
        CarrierReportInput,
        ContractDocument,
        ContractInput,
        Decision,
        DecisionInput,
        EsignEnvelope,
        EsignEnvelopeInput,
        PayoutInput,
        PayoutOutcome,
        PrePayoutInput,
        PrePayoutResult,
        PrescreenInput,
        PrescreenResult,
        SealInput,
        StartApplicationInput,
    )
    from domain.naming import (
        ActivityName,
        WorkflowName,
        credit_line_workflow_id,
        payout_workflow_id,
    )
    from domain.reasons import ReasonCode
    from workflows import options
    from workflows.credit_line import line_for_application
    from workflows.identity import IdentityStages
    from workflows.lifecycle import Finished


@workflow.defn(name=WorkflowName.APPLICATION)
class LoanApplicationWorkflow(IdentityStages):
    @workflow.init
    def __init__(self, inp: StartApplicationInput) -> None:
        super().__init__(inp)
        self._challenge = self._make_challenge()

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
        return self._status

    async def _stages(self) -> None:
        inp = self._inp
        await self._call(ActivityName.REGISTER_APPLICATION, inp, None, options.STORE)
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
        if inp.product.is_revolving:
            await self._open_credit_line()

    # ------------------------------------------------------------------ stage 1

    async def _prescreen(self) -> None:
        inp = self._inp
        result = await self._call(
            ActivityName.PRESCREEN,
            PrescreenInput(
                application_id=inp.application_id,
                phone=inp.phone,
                device=inp.device,
                submitted_at=inp.submitted_at,
            ),
            PrescreenResult,
            options.STORE,
        )
        if not result.passed:
            await self._reject(result.reasons, "PRESCREEN_REJECTED", result.reapply_after)

    # ------------------------------------------------------------------ stage 4

    async def _carrier(self) -> None:
        timeouts = self._inp.product.timeouts
        await self._enter(
            ApplicationStatus.AWAITING_CARRIER_AUTH,
            NextAction.AUTHORIZE_CARRIER,
            "AWAITING_CARRIER_AUTH",
            timeouts.carrier_auth,
        )
        await self._wait_for(
            lambda: self._carrier_task_id is not None or self._carrier_attempts_left <= 0,
            timeouts.carrier_auth,
            "CARRIER_AUTH_TIMED_OUT",
        )
        if self._carrier_task_id is None:
            await self._reject([ReasonCode.C001_CARRIER_AUTH_FAILED], "CARRIER_AUTH_FAILED")
        self._set_next(NextAction.WAIT, None)
        try:
            self._carrier_report = await self._call(
                ActivityName.CARRIER_FETCH_REPORT,
                CarrierReportInput(
                    application_id=self._inp.application_id, task_id=self._carrier_task_id or ""
                ),
                CarrierReport,
                options.carrier_report_poll(timeouts.carrier_report),
            )
        except ActivityError:
            await self._reject(
                [ReasonCode.C002_CARRIER_REPORT_UNAVAILABLE], "CARRIER_REPORT_MISSING"
            )

    # ------------------------------------------------------------------ stage 5

    async def _decide(self) -> Decision:
        inp, docs = self._inp, self._docs
        assert docs is not None and self._identity is not None
        await self._enter(ApplicationStatus.DECISIONING, NextAction.WAIT, "DECISIONING")
        self._bureau = await self._call(
            ActivityName.BUREAU_FETCH_REPORT,
            BureauInput(
                application_id=inp.application_id,
                full_name=docs.full_name,
                id_number=docs.id_number,
            ),
            BureauReport,
            options.VENDOR,
        )
        decision = await self._call(
            ActivityName.DECIDE,
            DecisionInput(
                application_id=inp.application_id,
                product=inp.product,
                requested_amount=inp.requested_amount,
                requested_term=inp.requested_term,
                decided_on=workflow.now().date(),
                identity=self._identity,
                bureau=self._bureau,
                carrier=self._carrier_report,
                device=inp.device,
            ),
            Decision,
            options.LOCAL,
        )
        self._decision = decision
        self._offer = decision.offer
        self._upsert(
            options.OUTCOME_KEY.value_set(decision.outcome),
            options.GRADE_KEY.value_set(decision.grade or ""),
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

    # ------------------------------------------------------------------ stage 6

    async def _manual_review(self, queue: str) -> None:
        product = self._inp.product
        for _ in range(product.review_rounds):
            self._review = None
            self._review_queue = queue
            final = product.timeouts.review_final
            await self._enter(
                ApplicationStatus.MANUAL_REVIEW,
                NextAction.AWAIT_REVIEW,
                "REVIEW_OPENED",
                final,
                review_queue=queue,
            )
            self._upsert(options.QUEUE_KEY.value_set(queue))
            sla = min(product.timeouts.review_sla, final)
            if not await self._wait_for(lambda: self._review is not None, sla, None):
                self._review_queue = f"{queue}_ESCALATED"
                self._upsert(options.QUEUE_KEY.value_set(self._review_queue))
                await self._project("REVIEW_SLA_BREACHED", review_queue=self._review_queue)
                await self._wait_for(
                    lambda: self._review is not None,
                    final - sla,
                    "REVIEW_TIMED_OUT",
                    timeout_status=ApplicationStatus.REJECTED,
                    timeout_reasons=[ReasonCode.V002_REVIEW_TIMED_OUT],
                )
            review = self._review
            assert review is not None
            self._upsert(options.QUEUE_KEY.value_set(""))
            if review.outcome == ReviewOutcome.APPROVE:
                if review.approved_limit is not None and self._offer is not None:
                    limit = min(self._offer.limit, review.approved_limit)
                    self._offer = self._offer.model_copy(update={"limit": limit})
                await self._project(
                    "REVIEW_APPROVED",
                    decision_outcome=DecisionOutcome.APPROVE,
                    approved_limit=self._offer.limit if self._offer else None,
                    data={"reviewer": review.reviewer},
                )
                self._upsert(options.OUTCOME_KEY.value_set(DecisionOutcome.APPROVE))
                return
            if review.outcome == ReviewOutcome.REJECT:
                await self._reject(
                    [review.reason_code or ReasonCode.V001_REVIEW_REJECTED], "REVIEW_REJECTED"
                )
            await self._project("REVIEW_MORE_INFO", data={"reviewer": review.reviewer})
            self._document_attempts_left = max(self._document_attempts_left, 1)
            await self._documents_and_identity()
        await self._reject([ReasonCode.V001_REVIEW_REJECTED], "REVIEW_ROUNDS_EXHAUSTED")

    # ------------------------------------------------------------------ stages 7 and 8

    async def _offer_stage(self) -> None:
        offer = self._offer
        assert offer is not None
        expires = workflow.now() + self._inp.product.timeouts.offer
        self._offer = offer.model_copy(update={"expires_at": expires})
        await self._enter(
            ApplicationStatus.OFFERED,
            NextAction.ACCEPT_OFFER,
            "OFFERED",
            self._inp.product.timeouts.offer,
        )
        await self._wait_for(
            lambda: self._accepted is not None, expires - workflow.now(), "OFFER_EXPIRED"
        )

    async def _signature_stage(self) -> None:
        inp, docs, accepted = self._inp, self._docs, self._accepted
        assert docs is not None and accepted is not None and self._schedule is not None
        contract = await self._call(
            ActivityName.CONTRACT_GENERATE,
            ContractInput(
                application_id=inp.application_id,
                full_name=docs.full_name,
                id_number=docs.id_number,
                phone=inp.phone,
                product_name=inp.product.name,
                schedule=self._schedule,
                generated_at=workflow.now(),
            ),
            ContractDocument,
            options.LOCAL,
        )
        envelope = await self._call(
            ActivityName.ESIGN_CREATE_ENVELOPE,
            EsignEnvelopeInput(
                application_id=inp.application_id,
                full_name=docs.full_name,
                id_number=docs.id_number,
                phone=inp.phone,
                contract=contract,
            ),
            EsignEnvelope,
            options.VENDOR,
        )
        self._envelope_id = envelope.envelope_id
        timeout = inp.product.timeouts.signature
        await self._enter(
            ApplicationStatus.AWAITING_SIGNATURE,
            NextAction.SIGN_CONTRACT,
            "AWAITING_SIGNATURE",
            timeout,
            data={"contract_sha256": contract.sha256},
        )
        await self._wait_for(
            lambda: self._signed_contract is not None or self._esign_attempts_left <= 0,
            timeout,
            "SIGNATURE_TIMED_OUT",
        )
        if self._signed_contract is None:
            await self._reject([ReasonCode.S001_SIGNATURE_FAILED], "SIGNATURE_FAILED")
        assert self._signed_contract is not None
        sealed = await self._call(
            ActivityName.CONTRACT_SEAL,
            SealInput(application_id=inp.application_id, contract=self._signed_contract),
            ContractDocument,
            options.LOCAL,
        )
        self._sealed_contract = sealed
        await self._project("CONTRACT_SIGNED", data={"sealed_sha256": sealed.sha256})

    # ------------------------------------------------------------------ stages 9 and 10

    async def _pre_payout(self) -> None:
        inp, docs = self._inp, self._docs
        assert docs is not None and self._bureau is not None
        await self._enter(ApplicationStatus.PRE_PAYOUT_CHECK, NextAction.WAIT, "PRE_PAYOUT_CHECK")
        check = await self._call(
            ActivityName.PRE_PAYOUT_CHECK,
            PrePayoutInput(
                application_id=inp.application_id,
                full_name=docs.full_name,
                id_number=docs.id_number,
                phone=inp.phone,
                device_fingerprint=inp.device.fingerprint,
                bureau_fetched_at=self._bureau.fetched_at,
                max_bureau_age_seconds=inp.product.bureau_max_age.total_seconds(),
            ),
            PrePayoutResult,
            options.VENDOR,
        )
        if check.outcome == DecisionOutcome.REJECT:
            await self._reject(
                check.reasons or [ReasonCode.D001_PRE_PAYOUT_RISK], "PRE_PAYOUT_REJECTED"
            )
        if check.outcome == DecisionOutcome.REVIEW:
            await self._manual_review("PRE_PAYOUT")

    async def _disburse(self) -> None:
        inp, docs, accepted = self._inp, self._docs, self._accepted
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
                    id_number=docs.id_number,
                    card=self._card or accepted.bank_card,
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
        self._payout_order_id = outcome.order_id
        if outcome.kind == PayoutResultKind.CARD_TIMEOUT:
            await self._finish(ApplicationStatus.EXPIRED, "NEW_CARD_TIMED_OUT")
        if outcome.kind != PayoutResultKind.DISBURSED:
            await self._finish(
                ApplicationStatus.FAILED, "PAYOUT_FAILED", [ReasonCode.D002_PAYOUT_FAILED]
            )

    # ------------------------------------------------------------------ revolving products

    async def _open_credit_line(self) -> None:
        """A revolving approval becomes a credit line that outlives this application; the
        payout just made is its first draw."""
        inp, docs, accepted = self._inp, self._docs, self._accepted
        assert docs is not None and accepted is not None and self._offer is not None
        assert self._schedule is not None and self._bureau is not None
        state = line_for_application(
            application_id=inp.application_id,
            borrower=Borrower(
                customer_id=customer_id_for(docs.id_number),
                full_name=docs.full_name,
                id_number=docs.id_number,
                phone=inp.phone,
                device_fingerprint=inp.device.fingerprint,
                card=self._card or accepted.bank_card,
            ),
            product=inp.product,
            offer=self._offer,
            schedule=self._schedule,
            bureau_fetched_at=self._bureau.fetched_at,
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
