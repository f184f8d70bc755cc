"""Every branch of LoanApplicationWorkflow and PayoutWorkflow, with stand-in activities.

Long timers run on the time-skipping server (it skips time only while a test awaits a result,
so driving the applicant steps is not raced by timers). Each test replays its own history at
the end, which proves the branch is deterministic.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from api.application_workflows import update_refusal
from api.errors import WrongStage
from domain.application import WithdrawInput
from domain.carrier import CarrierAuthorizeResult, CarrierCodeInput, CarrierSmsResult
from domain.contract import SignContractInput, SignContractResult
from domain.decision import ReviewInput, ReviewResult
from domain.enums import ApplicationStatus, DecisionOutcome, NextAction, ReviewOutcome
from domain.identity import LivenessChallenge
from domain.naming import (
    ActivityName,
    ErrorType,
    QueryName,
    UpdateName,
    WorkflowName,
    application_workflow_id,
    payout_workflow_id,
)
from domain.offer import AcceptOfferResult
from domain.payout import NewBankCardInput, NewBankCardResult
from domain.reasons import ReasonCode
from domain.status import ApplicationView
from tests.workflows.corpus import save_for_replay_corpus
from tests.workflows.fakes import (
    GOOD_CARD,
    OTHER_CARD,
    FakeActivities,
    Scenario,
    acceptance,
    documents,
    start_input,
)
from workflows.application import LoanApplicationWorkflow
from workflows.messages import check_review
from workflows.payout import PayoutWorkflow
from workflows.state import ApplicationState

WORKFLOWS = [LoanApplicationWorkflow, PayoutWorkflow]


@dataclass
class Run:
    client: Client
    fakes: FakeActivities
    task_queue: str
    vision_queue: str
    search_attributes: bool

    async def start(self, **overrides: object) -> WorkflowHandle:
        inp = start_input(search_attributes=self.search_attributes, vision_queue=self.vision_queue)
        inp = inp.model_copy(update=overrides)
        return await self.client.start_workflow(
            WorkflowName.APPLICATION,
            inp,
            id=application_workflow_id(inp.application_id),
            task_queue=self.task_queue,
        )


@asynccontextmanager
async def running(
    env: WorkflowEnvironment, scenario: Scenario, search_attributes: bool = False
) -> AsyncIterator[Run]:
    fakes = FakeActivities(scenario, env.client)
    queue, vision = f"apps-{uuid.uuid4()}", f"vision-{uuid.uuid4()}"
    run = Run(env.client, fakes, queue, vision, search_attributes)
    async with (
        Worker(
            env.client, task_queue=queue, workflows=WORKFLOWS, activities=fakes.main_activities()
        ),
        Worker(env.client, task_queue=vision, activities=fakes.vision_activities()),
    ):
        yield run


async def view(handle: WorkflowHandle) -> ApplicationView:
    return await handle.query(QueryName.STATUS, result_type=ApplicationView)


async def reach(
    handle: WorkflowHandle, status: ApplicationStatus, next_action: NextAction | None = None
) -> ApplicationView:
    for _ in range(400):
        current = await view(handle)
        if current.status == status and (next_action is None or current.next_action == next_action):
            return current
        assert not current.status.is_terminal, (
            f"ended {current.status}, wanted {status}: {current.reasons}"
        )
        await asyncio.sleep(0.025)
    raise AssertionError(f"never reached {status}; at {current.status}")


async def passed(handle: WorkflowHandle, status: ApplicationStatus, times: int) -> None:
    """Wait until the application has entered ``status`` ``times`` times, however briefly."""
    for _ in range(400):
        current = await view(handle)
        if current.history.count(status) >= times:
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"entered {status} fewer than {times} times: {current.history}")


async def finish(handle: WorkflowHandle) -> ApplicationView:
    final = await handle.result()
    current = await view(handle)
    assert current.status == final
    history = await handle.fetch_history()
    await Replayer(
        workflows=WORKFLOWS, data_converter=handle._client.data_converter
    ).replay_workflow(history)
    await save_for_replay_corpus(handle, history)
    return current


async def to_carrier(handle: WorkflowHandle) -> None:
    await reach(handle, ApplicationStatus.AWAITING_DOCUMENTS)
    await handle.execute_update(
        UpdateName.SUBMIT_DOCUMENTS, documents(), result_type=ApplicationView
    )
    await reach(handle, ApplicationStatus.AWAITING_CARRIER_AUTH)


async def authorize(handle: WorkflowHandle) -> None:
    sms = await handle.execute_update(UpdateName.REQUEST_CARRIER_SMS, result_type=CarrierSmsResult)
    assert sms.sent
    ok = await handle.execute_update(
        UpdateName.AUTHORIZE_CARRIER,
        CarrierCodeInput(code="246810"),
        result_type=CarrierAuthorizeResult,
    )
    assert ok.accepted


async def to_offer(handle: WorkflowHandle) -> ApplicationView:
    await to_carrier(handle)
    await authorize(handle)
    return await reach(handle, ApplicationStatus.OFFERED)


async def accept_and_sign(handle: WorkflowHandle, card=GOOD_CARD) -> None:
    result = await handle.execute_update(
        UpdateName.ACCEPT_OFFER, acceptance(card=card), result_type=AcceptOfferResult
    )
    assert result.accepted and result.schedule is not None
    at_signature = await reach(handle, ApplicationStatus.AWAITING_SIGNATURE)
    assert at_signature.offer is not None, "the accepted offer stays readable"
    signed = await handle.execute_update(
        UpdateName.SIGN_CONTRACT, SignContractInput(otp="135790"), result_type=SignContractResult
    )
    assert signed.signed


def events(fakes: FakeActivities) -> list[str]:
    return [p.event for p in sorted(fakes.rec.projections, key=lambda p: p.seq)]


# ---------------------------------------------------------------- the happy path


async def test_approved_application_is_disbursed_once(time_env: WorkflowEnvironment) -> None:
    async with running(time_env, Scenario()) as run:
        handle = await run.start()
        offered = await to_offer(handle)
        assert offered.offer is not None and offered.offer.limit == 2_000_000
        assert offered.next_action == NextAction.ACCEPT_OFFER and offered.deadline is not None
        await accept_and_sign(handle)
        final = await finish(handle)
    assert final.status == ApplicationStatus.DISBURSED
    assert final.history == [
        ApplicationStatus.SUBMITTED,
        ApplicationStatus.AWAITING_DOCUMENTS,
        ApplicationStatus.VERIFYING_IDENTITY,
        ApplicationStatus.AWAITING_CARRIER_AUTH,
        ApplicationStatus.DECISIONING,
        ApplicationStatus.OFFERED,
        ApplicationStatus.AWAITING_SIGNATURE,
        ApplicationStatus.PRE_PAYOUT_CHECK,
        ApplicationStatus.DISBURSING,
        ApplicationStatus.DISBURSED,
    ]
    assert (
        final.schedule is not None
        and sum(i.principal for i in final.schedule.installments) == 1_000_000
    )
    assert final.signed_contract_key and "sealed" in final.signed_contract_key
    assert len(run.fakes.rec.disbursements) == 1
    assert sum(run.fakes.rec.gateway_successes.values()) == 1
    assert events(run.fakes)[-1] == "DISBURSED"
    assert [p.seq for p in sorted(run.fakes.rec.projections, key=lambda p: p.seq)] == list(
        range(1, len(run.fakes.rec.projections) + 1)
    )
    # The store keeps the offer as made and what was accepted, for reads answered from it.
    stored = {p.event: p for p in run.fakes.rec.projections}
    assert stored["OFFERED"].offer == offered.offer
    assert (stored["OFFERED"].accepted_amount, stored["OFFERED"].accepted_term) == (None, None)
    signing = stored["AWAITING_SIGNATURE"]
    assert signing.offer == offered.offer
    assert (signing.accepted_amount, signing.accepted_term) == (1_000_000, 12)


async def test_quick_steps_are_local_and_the_bureau_is_fetched_during_carrier_auth(
    time_env: WorkflowEnvironment,
) -> None:
    """The decision does not wait for what it could have had earlier: the bureau report is
    fetched while the applicant is still at the carrier step, and the store writes, reads and the
    rule evaluation run as local activities (no task-queue round trip)."""
    async with running(time_env, Scenario()) as run:
        handle = await run.start()
        await to_carrier(handle)
        for _ in range(200):
            if ActivityName.BUREAU_FETCH_REPORT in run.fakes.rec.calls:
                break
            await asyncio.sleep(0.025)
        assert ActivityName.BUREAU_FETCH_REPORT in run.fakes.rec.calls
        assert ActivityName.CARRIER_AUTHORIZE not in run.fakes.rec.calls
        await authorize(handle)
        await reach(handle, ApplicationStatus.OFFERED)
        await handle.execute_update(
            UpdateName.WITHDRAW, WithdrawInput(), result_type=ApplicationView
        )
        await finish(handle)
        history = await handle.fetch_history()
    scheduled = {
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    }
    markers = [
        e.marker_recorded_event_attributes.marker_name
        for e in history.events
        if e.HasField("marker_recorded_event_attributes")
    ]
    assert ActivityName.BUREAU_FETCH_REPORT in scheduled
    for quick in (ActivityName.PROJECT, ActivityName.DECIDE, ActivityName.PRESCREEN):
        assert quick not in scheduled, f"{quick} went through the task queue"
    assert markers.count("core_local_activity") >= 5
    assert run.fakes.rec.calls.count(ActivityName.BUREAU_FETCH_REPORT) == 1
    # the still faces were encoded ahead (beside the card read), then matched
    calls = run.fakes.rec.calls
    assert calls.index(ActivityName.ENCODE_FACES) < calls.index(ActivityName.MATCH_FACES)


# ---------------------------------------------------------------- rejections


async def test_prescreen_hit_rejects_at_once(time_env: WorkflowEnvironment) -> None:
    async with running(
        time_env, Scenario(prescreen_reasons=[ReasonCode.P002_VELOCITY_DEVICE])
    ) as run:
        final = await finish(await run.start())
    assert final.status == ApplicationStatus.REJECTED
    assert [r.code for r in final.reasons] == [ReasonCode.P002_VELOCITY_DEVICE]
    assert final.reapply_after is not None
    assert ApplicationStatus.AWAITING_DOCUMENTS not in final.history


async def test_blacklisted_id_is_rejected(time_env: WorkflowEnvironment) -> None:
    async with running(time_env, Scenario(id_blacklisted=True)) as run:
        handle = await run.start()
        await reach(handle, ApplicationStatus.AWAITING_DOCUMENTS)
        await handle.execute_update(
            UpdateName.SUBMIT_DOCUMENTS, documents(), result_type=ApplicationView
        )
        final = await finish(handle)
    assert final.status == ApplicationStatus.REJECTED
    assert [r.code for r in final.reasons] == [ReasonCode.P001_BLACKLISTED]
    assert ActivityName.INSPECT_ID_CARD not in run.fakes.rec.calls


async def test_identity_mismatch_rejects(time_env: WorkflowEnvironment) -> None:
    async with running(time_env, Scenario(identity_matched=False)) as run:
        handle = await run.start()
        await reach(handle, ApplicationStatus.AWAITING_DOCUMENTS)
        await handle.execute_update(
            UpdateName.SUBMIT_DOCUMENTS, documents(), result_type=ApplicationView
        )
        final = await finish(handle)
    assert final.status == ApplicationStatus.REJECTED
    assert [r.code for r in final.reasons] == [ReasonCode.I002_IDENTITY_MISMATCH]


async def test_face_mismatch_rejects(time_env: WorkflowEnvironment) -> None:
    async with running(time_env, Scenario(face_match=False)) as run:
        handle = await run.start()
        await reach(handle, ApplicationStatus.AWAITING_DOCUMENTS)
        await handle.execute_update(
            UpdateName.SUBMIT_DOCUMENTS, documents(), result_type=ApplicationView
        )
        final = await finish(handle)
    assert [r.code for r in final.reasons] == [ReasonCode.I003_FACE_MISMATCH]


async def test_failed_liveness_asks_for_a_retake_then_passes(time_env: WorkflowEnvironment) -> None:
    scenario = Scenario(
        liveness_reasons=[ReasonCode.I007_LIVENESS_FAILED], liveness_failures_left=1
    )
    async with running(time_env, scenario) as run:
        handle = await run.start()
        await reach(handle, ApplicationStatus.AWAITING_DOCUMENTS)
        await handle.execute_update(
            UpdateName.SUBMIT_DOCUMENTS, documents(), result_type=ApplicationView
        )
        for _ in range(200):
            current = await view(handle)
            if current.history.count(ApplicationStatus.AWAITING_DOCUMENTS) == 2:
                break
            await asyncio.sleep(0.025)
        assert [r.code for r in current.reasons] == [ReasonCode.I007_LIVENESS_FAILED]
        assert current.document_attempts_left == 2
        await handle.execute_update(
            UpdateName.SUBMIT_DOCUMENTS, documents(), result_type=ApplicationView
        )
        await reach(handle, ApplicationStatus.AWAITING_CARRIER_AUTH)
        await handle.execute_update(
            UpdateName.WITHDRAW, WithdrawInput(reason="test done"), result_type=ApplicationView
        )
        final = await finish(handle)
    assert final.status == ApplicationStatus.CANCELLED


async def test_retakes_are_limited(time_env: WorkflowEnvironment) -> None:
    scenario = Scenario(liveness_reasons=[ReasonCode.I004_NO_FACE], liveness_failures_left=-1)
    async with running(time_env, scenario) as run:
        handle = await run.start()
        for attempt in range(1, 4):
            await reach(handle, ApplicationStatus.AWAITING_DOCUMENTS, NextAction.UPLOAD_DOCUMENTS)
            await handle.execute_update(
                UpdateName.SUBMIT_DOCUMENTS, documents(), result_type=ApplicationView
            )
            # VERIFYING_IDENTITY may last less than a poll: wait for it in the history instead.
            await passed(handle, ApplicationStatus.VERIFYING_IDENTITY, times=attempt)
        final = await finish(handle)
    assert final.status == ApplicationStatus.REJECTED
    assert [r.code for r in final.reasons] == [ReasonCode.I004_NO_FACE]


async def test_bad_bureau_profile_is_rejected_at_decision(time_env: WorkflowEnvironment) -> None:
    async with running(time_env, Scenario(decision=DecisionOutcome.REJECT)) as run:
        handle = await run.start()
        await to_carrier(handle)
        await authorize(handle)
        final = await finish(handle)
    assert final.status == ApplicationStatus.REJECTED
    assert [r.code for r in final.reasons] == [ReasonCode.R002_CURRENT_OVERDUE]
    assert (
        final.reapply_after is not None
        and final.reapply_after > run.fakes.rec.projections[0].at.date()
    )


async def test_carrier_code_attempts_are_limited(time_env: WorkflowEnvironment) -> None:
    async with running(time_env, Scenario()) as run:
        handle = await run.start()
        await to_carrier(handle)
        left = []
        for _ in range(3):
            result = await handle.execute_update(
                UpdateName.AUTHORIZE_CARRIER,
                CarrierCodeInput(code="000000"),
                result_type=CarrierAuthorizeResult,
            )
            assert not result.accepted
            left.append(result.attempts_left)
        final = await finish(handle)
    assert left == [2, 1, 0]
    assert final.status == ApplicationStatus.REJECTED
    assert [r.code for r in final.reasons] == [ReasonCode.C001_CARRIER_AUTH_FAILED]


async def test_a_step_that_fails_for_good_ends_failed_for_ops(
    time_env: WorkflowEnvironment,
) -> None:
    async with running(time_env, Scenario(policy_error=True)) as run:
        handle = await run.start()
        await to_carrier(handle)
        await authorize(handle)
        final = await finish(handle)
    assert final.status == ApplicationStatus.FAILED
    assert final.history[-2:] == [ApplicationStatus.DECISIONING, ApplicationStatus.FAILED]
    assert events(run.fakes)[-1] == "STEP_FAILED"


# ---------------------------------------------------------------- manual review


async def test_review_approved_with_a_lower_limit(time_env: WorkflowEnvironment) -> None:
    async with running(time_env, Scenario(decision=DecisionOutcome.REVIEW)) as run:
        handle = await run.start()
        await to_carrier(handle)
        await authorize(handle)
        in_review = await reach(handle, ApplicationStatus.MANUAL_REVIEW)
        assert in_review.review_queue == "GREY_ZONE"
        assert in_review.next_action == NextAction.AWAIT_REVIEW
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(
                UpdateName.RECORD_REVIEW,
                ReviewInput(
                    reviewer="ops-1", outcome=ReviewOutcome.APPROVE, approved_limit=9_000_000
                ),
                result_type=ReviewResult,
            )
        assert isinstance(refused.value.cause, ApplicationError)
        assert refused.value.cause.type == ErrorType.INVALID_INPUT
        await handle.execute_update(
            UpdateName.RECORD_REVIEW,
            ReviewInput(reviewer="ops-1", outcome=ReviewOutcome.APPROVE, approved_limit=1_500_000),
            result_type=ReviewResult,
        )
        offered = await reach(handle, ApplicationStatus.OFFERED)
        assert offered.offer is not None and offered.offer.limit == 1_500_000
        await accept_and_sign(handle)
        final = await finish(handle)
    assert final.status == ApplicationStatus.DISBURSED
    assert "REVIEW_APPROVED" in events(run.fakes)


async def test_review_rejected(time_env: WorkflowEnvironment) -> None:
    async with running(time_env, Scenario(decision=DecisionOutcome.REVIEW)) as run:
        handle = await run.start()
        await to_carrier(handle)
        await authorize(handle)
        await reach(handle, ApplicationStatus.MANUAL_REVIEW)
        await handle.execute_update(
            UpdateName.RECORD_REVIEW,
            ReviewInput(
                reviewer="ops-1",
                outcome=ReviewOutcome.REJECT,
                reason_code=ReasonCode.R005_MULTI_LENDING,
            ),
            result_type=ReviewResult,
        )
        final = await finish(handle)
    assert final.status == ApplicationStatus.REJECTED
    assert [r.code for r in final.reasons] == [ReasonCode.R005_MULTI_LENDING]


async def test_review_times_out_after_escalation(time_env: WorkflowEnvironment) -> None:
    async with running(time_env, Scenario(decision=DecisionOutcome.REVIEW)) as run:
        handle = await run.start()
        await to_carrier(handle)
        await authorize(handle)
        await reach(handle, ApplicationStatus.MANUAL_REVIEW)
        final = await finish(handle)
    assert final.status == ApplicationStatus.REJECTED
    assert [r.code for r in final.reasons] == [ReasonCode.V002_REVIEW_TIMED_OUT]
    names = events(run.fakes)
    assert names.index("REVIEW_SLA_BREACHED") < names.index("REVIEW_TIMED_OUT")
    breached = next(p for p in run.fakes.rec.projections if p.event == "REVIEW_SLA_BREACHED")
    opened = next(p for p in run.fakes.rec.projections if p.event == "REVIEW_OPENED")
    timed_out = next(p for p in run.fakes.rec.projections if p.event == "REVIEW_TIMED_OUT")
    assert round((breached.at - opened.at).total_seconds()) == 4 * 3600
    assert round((timed_out.at - opened.at).total_seconds()) == 72 * 3600
    assert breached.review_queue == "GREY_ZONE_ESCALATED"


async def test_review_can_ask_for_more_documents(time_env: WorkflowEnvironment) -> None:
    async with running(time_env, Scenario(decision=DecisionOutcome.REVIEW)) as run:
        handle = await run.start()
        await to_carrier(handle)
        await authorize(handle)
        await reach(handle, ApplicationStatus.MANUAL_REVIEW)
        await handle.execute_update(
            UpdateName.RECORD_REVIEW,
            ReviewInput(
                reviewer="ops-1", outcome=ReviewOutcome.REQUEST_MORE_INFO, note="blurred selfie"
            ),
            result_type=ReviewResult,
        )
        await reach(handle, ApplicationStatus.AWAITING_DOCUMENTS)
        await handle.execute_update(
            UpdateName.SUBMIT_DOCUMENTS, documents(), result_type=ApplicationView
        )
        for _ in range(200):
            current = await view(handle)
            if current.history.count(ApplicationStatus.MANUAL_REVIEW) == 2:
                break
            await asyncio.sleep(0.025)
        assert current.status == ApplicationStatus.MANUAL_REVIEW
        await handle.execute_update(
            UpdateName.RECORD_REVIEW,
            ReviewInput(reviewer="ops-2", outcome=ReviewOutcome.REJECT),
            result_type=ReviewResult,
        )
        final = await finish(handle)
    assert [r.code for r in final.reasons] == [ReasonCode.V001_REVIEW_REJECTED]


def test_a_second_review_of_a_decided_round_is_a_conflict() -> None:
    """Between the handler taking an outcome and the main line leaving MANUAL_REVIEW, a second
    outcome is refused as a wrong stage (the API's 409 with the status), not as bad input."""
    inp = start_input(search_attributes=False, vision_queue="vision")
    state = ApplicationState.start(inp, LivenessChallenge(nonce="n", windows=[]))
    state.status = ApplicationStatus.MANUAL_REVIEW
    first = ReviewInput(reviewer="ops-1", outcome=ReviewOutcome.APPROVE)
    check_review(state, first)
    state.review = first
    second = ReviewInput(reviewer="ops-2", outcome=ReviewOutcome.REJECT)
    with pytest.raises(ApplicationError) as refused:
        check_review(state, second)
    assert refused.value.type == ErrorType.WRONG_STAGE
    assert list(refused.value.details) == [ApplicationStatus.MANUAL_REVIEW.value]
    answer = update_refusal(refused.value)
    assert isinstance(answer, WrongStage) and answer.status_code == 409


async def test_pre_payout_risk_sends_back_to_review(time_env: WorkflowEnvironment) -> None:
    async with running(time_env, Scenario(pre_payout=DecisionOutcome.REVIEW)) as run:
        handle = await run.start()
        await to_offer(handle)
        await accept_and_sign(handle)
        in_review = await reach(handle, ApplicationStatus.MANUAL_REVIEW)
        assert in_review.review_queue == "PRE_PAYOUT"
        await handle.execute_update(
            UpdateName.RECORD_REVIEW,
            ReviewInput(reviewer="ops-1", outcome=ReviewOutcome.APPROVE),
            result_type=ReviewResult,
        )
        final = await finish(handle)
    assert final.status == ApplicationStatus.DISBURSED


async def test_pre_payout_rejection_moves_no_money(time_env: WorkflowEnvironment) -> None:
    async with running(time_env, Scenario(pre_payout=DecisionOutcome.REJECT)) as run:
        handle = await run.start()
        await to_offer(handle)
        await accept_and_sign(handle)
        final = await finish(handle)
    assert final.status == ApplicationStatus.REJECTED
    assert [r.code for r in final.reasons] == [ReasonCode.D001_PRE_PAYOUT_RISK]
    assert run.fakes.rec.payouts == []


# ---------------------------------------------------------------- timeouts and withdrawal


async def test_documents_timeout_expires(time_env: WorkflowEnvironment) -> None:
    async with running(time_env, Scenario()) as run:
        final = await finish(await run.start())
    assert final.status == ApplicationStatus.EXPIRED
    assert events(run.fakes)[-1] == "DOCUMENTS_TIMED_OUT"


async def test_carrier_auth_timeout_expires(time_env: WorkflowEnvironment) -> None:
    async with running(time_env, Scenario()) as run:
        handle = await run.start()
        await to_carrier(handle)
        final = await finish(handle)
    assert final.status == ApplicationStatus.EXPIRED
    assert events(run.fakes)[-1] == "CARRIER_AUTH_TIMED_OUT"


async def test_offer_expires(time_env: WorkflowEnvironment) -> None:
    async with running(time_env, Scenario()) as run:
        handle = await run.start()
        await to_offer(handle)
        final = await finish(handle)
    assert final.status == ApplicationStatus.EXPIRED
    offered = next(p for p in run.fakes.rec.projections if p.event == "OFFERED")
    expired = next(p for p in run.fakes.rec.projections if p.event == "OFFER_EXPIRED")
    assert round((expired.at - offered.at).total_seconds()) == 7 * 24 * 3600


async def test_signature_timeout_expires(time_env: WorkflowEnvironment) -> None:
    async with running(time_env, Scenario()) as run:
        handle = await run.start()
        await to_offer(handle)
        await handle.execute_update(
            UpdateName.ACCEPT_OFFER, acceptance(), result_type=AcceptOfferResult
        )
        await reach(handle, ApplicationStatus.AWAITING_SIGNATURE)
        final = await finish(handle)
    assert final.status == ApplicationStatus.EXPIRED
    assert events(run.fakes)[-1] == "SIGNATURE_TIMED_OUT"


async def test_new_card_timeout_expires(time_env: WorkflowEnvironment) -> None:
    async with running(time_env, Scenario(invalid_card=GOOD_CARD.number)) as run:
        handle = await run.start()
        await to_offer(handle)
        await accept_and_sign(handle)
        await reach(handle, ApplicationStatus.DISBURSING, NextAction.PROVIDE_NEW_BANK_CARD)
        final = await finish(handle)
    assert final.status == ApplicationStatus.EXPIRED
    assert run.fakes.rec.disbursements == []


async def test_withdrawal_cancels(time_env: WorkflowEnvironment) -> None:
    async with running(time_env, Scenario()) as run:
        handle = await run.start()
        await to_offer(handle)
        await handle.execute_update(
            UpdateName.WITHDRAW,
            WithdrawInput(reason="changed my mind"),
            result_type=ApplicationView,
        )
        final = await finish(handle)
    assert final.status == ApplicationStatus.CANCELLED
    assert events(run.fakes)[-1] == "WITHDRAWN"


# ---------------------------------------------------------------- payout


async def test_channel_error_then_success_on_another_channel(time_env: WorkflowEnvironment) -> None:
    async with running(time_env, Scenario(channel_errors=1)) as run:
        handle = await run.start()
        await to_offer(handle)
        await accept_and_sign(handle)
        final = await finish(handle)
    assert final.status == ApplicationStatus.DISBURSED
    assert [p.channel for p in run.fakes.rec.payouts] == ["UNIONPAY", "NETSUNION"]
    assert {p.idempotency_key for p in run.fakes.rec.payouts} == {f"payout-{final.application_id}"}
    assert len(run.fakes.rec.disbursements) == 1


async def test_invalid_card_then_a_new_card(time_env: WorkflowEnvironment) -> None:
    async with running(time_env, Scenario(invalid_card=GOOD_CARD.number)) as run:
        handle = await run.start()
        await to_offer(handle)
        await accept_and_sign(handle)
        waiting = await reach(
            handle, ApplicationStatus.DISBURSING, NextAction.PROVIDE_NEW_BANK_CARD
        )
        assert waiting.deadline is not None
        result = await handle.execute_update(
            UpdateName.PROVIDE_NEW_BANK_CARD,
            NewBankCardInput(bank_card=OTHER_CARD),
            result_type=NewBankCardResult,
        )
        assert result.accepted
        final = await finish(handle)
    assert final.status == ApplicationStatus.DISBURSED
    assert [p.card_number[-4:] for p in run.fakes.rec.payouts] == [
        GOOD_CARD.number[-4:],
        OTHER_CARD.number[-4:],
    ]
    assert run.fakes.rec.disbursements[0].card_last4 == OTHER_CARD.number[-4:]


async def test_lost_callback_falls_back_to_polling(time_env: WorkflowEnvironment) -> None:
    async with running(time_env, Scenario(send_callbacks=False)) as run:
        handle = await run.start()
        await to_offer(handle)
        await accept_and_sign(handle)
        final = await finish(handle)
    assert final.status == ApplicationStatus.DISBURSED
    assert "payout.query" in run.fakes.rec.calls
    assert len(run.fakes.rec.payouts) == 1


# ---------------------------------------------------------------- refused messages


async def test_updates_in_the_wrong_stage_are_refused_with_the_stage(
    time_env: WorkflowEnvironment,
) -> None:
    async with running(time_env, Scenario()) as run:
        handle = await run.start()
        await reach(handle, ApplicationStatus.AWAITING_DOCUMENTS)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(
                UpdateName.ACCEPT_OFFER, acceptance(), result_type=AcceptOfferResult
            )
        cause = refused.value.cause
        assert isinstance(cause, ApplicationError) and cause.type == ErrorType.WRONG_STAGE
        assert cause.details == ("AWAITING_DOCUMENTS",)
        with pytest.raises(WorkflowUpdateFailedError) as invalid:
            await handle.execute_update(
                UpdateName.SUBMIT_DOCUMENTS,
                documents(id_number="110101198506150118"),
                result_type=ApplicationView,
            )
        assert isinstance(invalid.value.cause, ApplicationError)
        assert invalid.value.cause.type == ErrorType.INVALID_INPUT
        await to_offer_after_documents(handle)
        with pytest.raises(WorkflowUpdateFailedError) as too_much:
            await handle.execute_update(
                UpdateName.ACCEPT_OFFER, acceptance(amount=9_000_000), result_type=AcceptOfferResult
            )
        assert too_much.value.cause.type == ErrorType.INVALID_INPUT  # type: ignore[union-attr]
        await handle.execute_update(
            UpdateName.WITHDRAW, WithdrawInput(), result_type=ApplicationView
        )
        final = await finish(handle)
        history = await handle.fetch_history()
    assert final.status == ApplicationStatus.CANCELLED
    refused_updates = [
        e
        for e in history.events
        if e.HasField("workflow_execution_update_accepted_event_attributes")
    ]
    assert all(
        e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
        != UpdateName.ACCEPT_OFFER
        for e in refused_updates
    )


async def to_offer_after_documents(handle: WorkflowHandle) -> None:
    await handle.execute_update(
        UpdateName.SUBMIT_DOCUMENTS, documents(), result_type=ApplicationView
    )
    await reach(handle, ApplicationStatus.AWAITING_CARRIER_AUTH)
    await authorize(handle)
    await reach(handle, ApplicationStatus.OFFERED)


# ---------------------------------------------------------------- search attributes (dev server)


async def test_search_attributes_follow_the_stages(local_env: WorkflowEnvironment) -> None:
    async with running(local_env, Scenario(), search_attributes=True) as run:
        handle = await run.start()
        await to_offer(handle)
        await accept_and_sign(handle)
        final = await finish(handle)
        described = await handle.describe()
    assert final.status == ApplicationStatus.DISBURSED
    attributes = {
        k.name: v for k, v in ((p.key, p.value) for p in described.typed_search_attributes)
    }
    assert attributes["ApplicationStatus"] == "DISBURSED"
    assert attributes["DecisionOutcome"] == "APPROVE"
    assert attributes["RiskGrade"] == "C"


async def test_the_web_ui_activity_summaries_name_the_stage(local_env: WorkflowEnvironment) -> None:
    async with running(local_env, Scenario(), search_attributes=True) as run:
        handle = await run.start()
        await to_offer(handle)
        await accept_and_sign(handle)
        await finish(handle)
        history = await handle.fetch_history()
    calls = [
        e
        for e in history.events
        if e.event_type
        in (EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, EventType.EVENT_TYPE_MARKER_RECORDED)
        and e.marker_recorded_event_attributes.marker_name in ("", "core_local_activity")
    ]
    assert calls and all(e.user_metadata.HasField("summary") for e in calls)
    converter = handle._client.data_converter
    summaries = await converter.decode([e.user_metadata.summary for e in calls])
    assert {
        "VERIFYING_IDENTITY: vision.inspect_id_card",
        "AWAITING_CARRIER_AUTH: carrier.authorize",
        "DECISIONING: decisioning.decide",
        "PRE_PAYOUT_CHECK: decisioning.pre_payout_check",
    } <= set(summaries)


def readme_saved_queries() -> dict[str, list[str]]:
    """The README's saved queries for the Web UI: each row's description and its queries."""
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    table = text.split("Saved queries", 1)[1].split("From a shell", 1)[0]
    rows = [line.strip() for line in table.splitlines() if line.strip().startswith("| ")]
    found = {}
    for row in rows[1:]:
        what, query = row.strip("|").rsplit(" | ", 1)
        found[what.strip()] = re.findall(r"`([^`]+)`", query)
    return found


def _placeholders(query: str) -> str:
    # "now − 2 h" is a minute from now here, so that an application in review this minute counts.
    soon = (datetime.now(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    query = re.sub(r'"<now − 2 h[^>]*>"', f'"{soon}"', query)
    return query.replace("<today>", datetime.now(UTC).strftime("%Y-%m-%d"))


async def test_the_readme_saved_queries_find_what_they_say(local_env: WorkflowEnvironment) -> None:
    rows = readme_saved_queries()
    in_review = next(what for what in rows if what.startswith("in review"))
    failed = next(what for what in rows if what.startswith("failed after approval"))
    handles: dict[str, WorkflowHandle] = {}
    async with running(local_env, Scenario(), search_attributes=True) as run:
        handles["paid"] = await run.start()
        await to_offer(handles["paid"])
        await accept_and_sign(handles["paid"])
        await finish(handles["paid"])
    async with running(local_env, Scenario(channels=()), search_attributes=True) as run:
        handles["payout_failed"] = await run.start()
        await to_offer(handles["payout_failed"])
        await accept_and_sign(handles["payout_failed"])
        assert (await finish(handles["payout_failed"])).status == ApplicationStatus.FAILED
    async with running(
        local_env, Scenario(decision=DecisionOutcome.REVIEW), search_attributes=True
    ) as run:
        handles["reviewing"] = await run.start()
        await to_carrier(handles["reviewing"])
        await authorize(handles["reviewing"])
        await reach(handles["reviewing"], ApplicationStatus.MANUAL_REVIEW)
        names = {handle.id: name for name, handle in handles.items()}
        names |= {payout_workflow_id(h.id.removeprefix("loan-application-")): "a payout"
                  for h in handles.values()}  # fmt: skip
        ours = ", ".join(f'"{workflow_id}"' for workflow_id in names)
        expected = {in_review: {"reviewing"}, failed: {"payout_failed"}}
        for what, queries in rows.items():
            for query in queries:
                scoped = f"({_placeholders(query)}) AND WorkflowId IN ({ours})"
                found: set[str] = set()
                for _ in range(40):  # visibility follows the upserts within moments
                    found = {names[w.id] async for w in local_env.client.list_workflows(scoped)}
                    if found == expected.get(what, set()):
                        break
                    await asyncio.sleep(0.1)
                assert found == expected.get(what, set()), (what, query)
        await handles["reviewing"].terminate("the test is over")
