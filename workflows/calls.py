"""One typed call per activity: what the workflows may ask of the activity workers.

Each call names the registered activity, its input and result types and the call preset it runs
with (`workflows/options.py`), so a workflow passing the wrong input or reading the wrong result
is a mypy error, and `tests/workflows/test_calls.py` checks that every call agrees with the
activity registered under its name. The workflows never import the activity classes themselves:
those hold vendor clients and database sessions that do not belong in the workflow sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar, cast

from pydantic import BaseModel
from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, TimeoutError

with workflow.unsafe.imports_passed_through():
    from domain.application import StartApplicationInput
    from domain.carrier import (
        CarrierAuthorizeInput,
        CarrierAuthorizeResult,
        CarrierReport,
        CarrierReportInput,
        CarrierSmsInput,
        CarrierSmsResult,
    )
    from domain.contract import (
        ContractDocument,
        ContractInput,
        EsignEnvelope,
        EsignEnvelopeInput,
        EsignSignInput,
        EsignSignResult,
        SealInput,
    )
    from domain.decision import (
        BureauInput,
        BureauReport,
        Decision,
        DecisionInput,
        IdBlacklistInput,
        PrePayoutInput,
        PrePayoutResult,
        PrescreenInput,
        PrescreenResult,
    )
    from domain.identity import (
        FaceEncodeInput,
        FaceEncodeResult,
        FaceMatchInput,
        FaceMatchResult,
        IdCardInput,
        IdCardResult,
        IdentityCheckInput,
        IdentityCheckResult,
        LivenessInput,
        LivenessResult,
    )
    from domain.line_messages import (
        AwaitDebitInput,
        DebitInput,
        DebitOrder,
        LimitDecision,
        LineEventInput,
        MonitoringInput,
    )
    from domain.naming import ActivityName
    from domain.offer import BankCardCheckInput, BankCardCheckResult
    from domain.payout import (
        DisbursementRecord,
        GatewayOrder,
        QueryPayoutInput,
        RouteInput,
        RouteResult,
        SubmitPayoutInput,
    )
    from domain.precredit import ChunkResult, CountCustomersInput, ScoreChunkInput
    from domain.status import ProjectionInput
    from workflows import options
    from workflows.options import CallOptions

I = TypeVar("I", bound=BaseModel)  # noqa: E741
R = TypeVar("R")


@dataclass(frozen=True)
class ActivityCall(Generic[I, R]):
    """A registered activity as the workflows see it."""

    name: str
    input: type[I]
    result: type[R]
    opts: CallOptions

    async def __call__(
        self,
        arg: I,
        *,
        opts: CallOptions | None = None,
        vision_queue: str | None = None,
        local: bool = False,
    ) -> R:
        """Run the activity; `opts` overrides the preset for a call with its own limit,
        `vision_queue` is where a vision call goes (the application carries its queue), and
        `local` runs a quick step as a local activity in the workflow's own worker (no round trip
        through the task queue; the caller guards the switch with `workflow.patched`)."""
        preset = opts or self.opts
        result_type: type | None = self.result
        if local and not preset.vision:
            try:
                local_result = await workflow.execute_local_activity(
                    self.name,
                    arg,
                    result_type=None if result_type is NONE else result_type,
                    start_to_close_timeout=preset.start_to_close,
                    schedule_to_close_timeout=preset.schedule_to_close,
                    retry_policy=preset.retry,
                    local_retry_threshold=options.LOCAL_RETRY_THRESHOLD,
                    summary=_summary(self.name),
                )
            except (ApplicationError, TimeoutError) as failure:
                # A local activity's failure reaches the workflow unwrapped: give it the same
                # shape as a regular activity's, so a step that failed for good is handled alike.
                raise ActivityError(
                    f"local activity {self.name} failed",
                    scheduled_event_id=0,
                    started_event_id=0,
                    identity="",
                    activity_type=self.name,
                    activity_id="",
                    retry_state=None,
                ) from failure
            return cast(R, local_result)
        result = await workflow.execute_activity(
            self.name,
            arg,
            result_type=None if result_type is NONE else result_type,
            task_queue=vision_queue if preset.vision else None,
            start_to_close_timeout=preset.start_to_close,
            schedule_to_close_timeout=preset.schedule_to_close,
            heartbeat_timeout=preset.heartbeat,
            retry_policy=preset.retry,
            summary=_summary(self.name),
        )
        return cast(R, result)


NONE = type(None)


def _summary(name: str) -> str:
    """What the Web UI shows for the call: the stage it serves (a workflow that has stages
    exposes `stage`), then the activity."""
    stage = getattr(workflow.instance(), "stage", None)
    return f"{stage}: {name}" if stage else name


# records
register_application = ActivityCall(
    ActivityName.REGISTER_APPLICATION, StartApplicationInput, NONE, options.STORE
)
project = ActivityCall(ActivityName.PROJECT, ProjectionInput, NONE, options.STORE)

# decisioning
prescreen = ActivityCall(ActivityName.PRESCREEN, PrescreenInput, PrescreenResult, options.STORE)
check_id_blacklist = ActivityCall(
    ActivityName.CHECK_ID_BLACKLIST, IdBlacklistInput, PrescreenResult, options.STORE
)
decide = ActivityCall(ActivityName.DECIDE, DecisionInput, Decision, options.LOCAL)
pre_payout_check = ActivityCall(
    ActivityName.PRE_PAYOUT_CHECK, PrePayoutInput, PrePayoutResult, options.VENDOR
)

# identity: the vision queue and the identity vendor
inspect_id_card = ActivityCall(
    ActivityName.INSPECT_ID_CARD, IdCardInput, IdCardResult, options.VISION
)
check_liveness = ActivityCall(
    ActivityName.CHECK_LIVENESS, LivenessInput, LivenessResult, options.VISION
)
match_faces = ActivityCall(
    ActivityName.MATCH_FACES, FaceMatchInput, FaceMatchResult, options.VISION
)
encode_faces = ActivityCall(
    ActivityName.ENCODE_FACES, FaceEncodeInput, FaceEncodeResult, options.VISION
)
verify_identity = ActivityCall(
    ActivityName.VERIFY_IDENTITY, IdentityCheckInput, IdentityCheckResult, options.VENDOR
)

# carrier and bureau; the applicant waits on the SMS and the code
carrier_send_sms = ActivityCall(
    ActivityName.CARRIER_SEND_SMS,
    CarrierSmsInput,
    CarrierSmsResult,
    options.interactive(options.MINUTE),
)
carrier_authorize = ActivityCall(
    ActivityName.CARRIER_AUTHORIZE,
    CarrierAuthorizeInput,
    CarrierAuthorizeResult,
    options.interactive(options.MINUTE),
)
carrier_fetch_report = ActivityCall(
    ActivityName.CARRIER_FETCH_REPORT,
    CarrierReportInput,
    CarrierReport,
    options.carrier_report_poll(options.MINUTE),
)
bureau_fetch_report = ActivityCall(
    ActivityName.BUREAU_FETCH_REPORT, BureauInput, BureauReport, options.VENDOR
)

# offer, contract and signature
bankcard_verify = ActivityCall(
    ActivityName.BANKCARD_VERIFY,
    BankCardCheckInput,
    BankCardCheckResult,
    options.interactive(options.MINUTE),
)
contract_generate = ActivityCall(
    ActivityName.CONTRACT_GENERATE, ContractInput, ContractDocument, options.LOCAL
)
contract_seal = ActivityCall(ActivityName.CONTRACT_SEAL, SealInput, ContractDocument, options.LOCAL)
esign_create_envelope = ActivityCall(
    ActivityName.ESIGN_CREATE_ENVELOPE, EsignEnvelopeInput, EsignEnvelope, options.VENDOR
)
esign_sign = ActivityCall(
    ActivityName.ESIGN_SIGN,
    EsignSignInput,
    EsignSignResult,
    options.interactive(2 * options.MINUTE),
)

# payout
payout_route = ActivityCall(ActivityName.PAYOUT_ROUTE, RouteInput, RouteResult, options.PAYMENT)
payout_submit = ActivityCall(
    ActivityName.PAYOUT_SUBMIT, SubmitPayoutInput, GatewayOrder, options.PAYMENT
)
payout_query = ActivityCall(
    ActivityName.PAYOUT_QUERY, QueryPayoutInput, GatewayOrder, options.PAYMENT
)
payout_record = ActivityCall(ActivityName.PAYOUT_RECORD, DisbursementRecord, NONE, options.STORE)

# credit lines: repayments by debit, monitoring, the audit trail; pre-credit batches
debit_submit = ActivityCall(ActivityName.DEBIT_SUBMIT, DebitInput, DebitOrder, options.PAYMENT)
debit_await = ActivityCall(ActivityName.DEBIT_AWAIT, AwaitDebitInput, DebitOrder, options.PAYMENT)
line_evaluate = ActivityCall(
    ActivityName.LINE_EVALUATE, MonitoringInput, LimitDecision, options.LOCAL
)
line_record = ActivityCall(ActivityName.LINE_RECORD, LineEventInput, NONE, options.STORE)
precredit_count = ActivityCall(
    ActivityName.PRECREDIT_COUNT, CountCustomersInput, int, options.STORE
)
precredit_score_chunk = ActivityCall(
    ActivityName.PRECREDIT_SCORE_CHUNK, ScoreChunkInput, ChunkResult, options.STORE
)
