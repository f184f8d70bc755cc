"""What Temporal itself knows about a run's workflows, read after the run: each execution's
status, whether its workflow task keeps failing, and the schedule-to-start latency of every
activity on a task queue (the time a task waited for a worker slot, from the history's
ActivityTaskScheduled and ActivityTaskStarted event times; for a retried activity the start is
the last attempt's)."""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.converter import DataConverter

SCHEDULED = EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
STARTED = EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
WFT_FAILED = EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
WFT_TIMED_OUT = EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT
WFT_COMPLETED = EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED


@dataclass
class WorkflowFacts:
    workflow_id: str
    execution: str  # RUNNING, COMPLETED, FAILED, TERMINATED, ...
    pending_task_attempt: int = 0  # attempt of a workflow task not yet completed; 0 = none
    task_failures: int = 0  # WorkflowTaskFailed events in the history
    last_task_failed: bool = False  # the newest workflow task outcome is a failure
    schedule_to_start: dict[str, list[float]] = field(default_factory=dict)  # by task queue


async def collect(address: str, prefix: str = "") -> list[WorkflowFacts]:
    """Every workflow of the namespace whose id starts with `prefix`."""
    client = await Client.connect(address)
    facts = []
    async for execution in client.list_workflows():
        if not execution.id.startswith(prefix):
            continue
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        described = await handle.describe()
        status = described.status.name if described.status else "UNKNOWN"
        fact = WorkflowFacts(execution.id, status)
        pending = described.raw_description.pending_workflow_task
        if described.raw_description.HasField("pending_workflow_task"):
            fact.pending_task_attempt = pending.attempt
        scheduled: dict[int, tuple[float, str]] = {}
        async for event in handle.fetch_history_events():
            if event.event_type == SCHEDULED:
                queue = event.activity_task_scheduled_event_attributes.task_queue.name
                scheduled[event.event_id] = (event.event_time.ToNanoseconds() / 1e9, queue)
            elif event.event_type == STARTED:
                attrs = event.activity_task_started_event_attributes
                at, queue = scheduled[attrs.scheduled_event_id]
                waited = event.event_time.ToNanoseconds() / 1e9 - at
                fact.schedule_to_start.setdefault(queue, []).append(waited)
            elif event.event_type in (WFT_FAILED, WFT_TIMED_OUT):
                fact.task_failures += event.event_type == WFT_FAILED
                fact.last_task_failed = event.event_type == WFT_FAILED
            elif event.event_type == WFT_COMPLETED:
                fact.last_task_failed = False
        facts.append(fact)
    return facts


async def unreplayable(address: str, converter: DataConverter) -> list[str]:
    """Ids of the workflows whose whole history does not replay with the workflow code of this
    checkout: what a restarted worker, or a query for a workflow out of the cache, would meet."""
    from temporalio.worker import Replayer

    from workflows.application import LoanApplicationWorkflow
    from workflows.credit_line import CreditLineWorkflow
    from workflows.draw import DrawWorkflow
    from workflows.payout import PayoutWorkflow
    from workflows.precredit import PreCreditBatchWorkflow

    client = await Client.connect(address, data_converter=converter)
    replayer = Replayer(
        workflows=[LoanApplicationWorkflow, PayoutWorkflow, CreditLineWorkflow, DrawWorkflow,
                   PreCreditBatchWorkflow],
        data_converter=converter,
    )  # fmt: skip
    failed = []
    async for execution in client.list_workflows():
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        history = await handle.fetch_history()
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        if result.replay_failure is not None:
            failed.append(execution.id)
    return failed
