"""Temporal Schedules the system runs on its own: the pre-credit batch (预授信), which scores the
customer source with the active policy every `--every` hours and writes pre-approvals.

    python -m workers.schedules --source data/customers.csv --every 24 [--trigger]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleHandle,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)

from config.settings import get_settings
from config.temporal import connect
from domain.naming import APPLICATION_TASK_QUEUE, PRECREDIT_SCHEDULE_ID, WorkflowName
from domain.precredit import PreCreditBatchInput


async def ensure_precredit_schedule(
    client: Client,
    inp: PreCreditBatchInput,
    every: timedelta,
    task_queue: str = APPLICATION_TASK_QUEUE,
    schedule_id: str = PRECREDIT_SCHEDULE_ID,
) -> ScheduleHandle:
    """Create the schedule, or leave the existing one as it is. One batch at a time: a batch
    still running when the next is due makes the next one skip."""
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            WorkflowName.PRECREDIT_BATCH, inp, id=f"{schedule_id}-run", task_queue=task_queue
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )
    try:
        return await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:
        return client.get_schedule_handle(schedule_id)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, help="customer CSV readable by the workers")
    parser.add_argument("--every", type=float, default=24.0, help="hours between batches")
    parser.add_argument("--validity-days", type=int, default=15)
    parser.add_argument("--trigger", action="store_true", help="also run one batch now")
    args = parser.parse_args()
    client = await connect(get_settings())
    handle = await ensure_precredit_schedule(
        client,
        PreCreditBatchInput(source=args.source, validity_days=args.validity_days),
        timedelta(hours=args.every),
    )
    if args.trigger:
        await handle.trigger()
    print(f"schedule {handle.id} ready")


def run() -> None:
    """Run the command and end the process without finalizing the interpreter: the Temporal
    SDK's Rust threads can still hold Python objects while it finalizes, which crashed about one
    exit in twenty of this short-lived command (SIGSEGV after the work was done)."""
    asyncio.run(main())
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    run()
