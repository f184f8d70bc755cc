"""What the dev server's flags in `devtools.stack` buy: the transfer queue read without its
default limit of 20 reads a second (`DEV_SERVER_TUNING`) and SQLite in write-ahead-log mode
(`DEV_SERVER_SQLITE`), against the dev server started without them.

    .venv/bin/python -m bench.dev_server_tuning --workflows 40

For each configuration, the stack's dev server (SQLite file, search attributes registered) and
one worker in this process run `--workflows` workflows of 8 regular activities in a row
(`bench.cost_workflow`), first one at a time, then four at a time. Reports the wall time per
workflow, the dev server's CPU per workflow, and the mean wait of a workflow task between
scheduled and started in their histories (what the limit on transfer queue reads costs each
step). Prints the table and writes it to BENCHMARKS.md (section `dev-server-tuning`).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.worker import Worker

from bench.cost_workflow import Steps, StepsWorkflow, step
from bench.report import update_section
from devtools.procstat import session_cpu_seconds
from devtools.stack import Ports, Stack

QUEUE = "bench-dev-server-tuning"
STEPS = Steps(activities=8)
AT_ONCE = 4


@dataclass(frozen=True)
class Figures:
    one_ms: float  # wall per workflow, one at a time
    four_ms: float  # wall per workflow, four at a time
    server_ms: float  # dev server CPU per workflow, both runs
    dispatch_ms: float  # mean workflow task scheduled -> started


async def _run(client: Client, workflows: int, at_once: int) -> list[str]:
    ids: list[str] = []

    async def lane(count: int) -> None:
        for _ in range(count):
            workflow_id = f"bench-tuning-{uuid.uuid4().hex}"
            ids.append(workflow_id)
            await client.execute_workflow(
                StepsWorkflow.run, STEPS, id=workflow_id, task_queue=QUEUE
            )

    share, extra = divmod(workflows, at_once)
    await asyncio.gather(*(lane(share + (i < extra)) for i in range(at_once)))
    return ids


async def _dispatch_ms(client: Client, workflow_ids: list[str]) -> float:
    waits = []
    for workflow_id in workflow_ids:
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        scheduled = None
        for event in history.events:
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
                scheduled = event.event_time.ToDatetime()
            elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED and scheduled:
                waits.append((event.event_time.ToDatetime() - scheduled).total_seconds())
    return 1000 * statistics.mean(waits)


async def measure(stack: Stack, workflows: int) -> Figures:
    session = stack.processes["temporal"].pid
    client = await Client.connect(stack.temporal_address)
    async with Worker(client, task_queue=QUEUE, workflows=[StepsWorkflow], activities=[step]):
        await _run(client, 8, AT_ONCE)  # warm: sandbox, caches, the server's tables
        cpu0 = session_cpu_seconds({session})[session]
        start = time.monotonic()
        one = await _run(client, workflows, 1)
        one_s = time.monotonic() - start
        start = time.monotonic()
        await _run(client, workflows, AT_ONCE)
        four_s = time.monotonic() - start
        server = session_cpu_seconds({session})[session] - cpu0
        dispatch = await _dispatch_ms(client, one[:10])
    return Figures(
        one_ms=1000 * one_s / workflows,
        four_ms=1000 * four_s / workflows,
        server_ms=1000 * server / (2 * workflows),
        dispatch_ms=dispatch,
    )


def run_configuration(tuned: bool, workflows: int) -> Figures:
    with tempfile.TemporaryDirectory() as data:
        stack = Stack(data_dir=Path(data), ports=Ports.free(), ui=False, tuned=tuned)
        stack.start("temporal")
        try:
            return asyncio.run(measure(stack, workflows))
        finally:
            stack.stop()


def report(workflows: int, found: dict[str, Figures]) -> str:
    lines = [
        f"{workflows} workflows of {STEPS.activities} regular activities in a row per "
        f"configuration, one at a time, then {AT_ONCE} at a time; the stack's dev server "
        "(SQLite file) and one worker.",
        "",
        f"| dev server | ms per workflow, one at a time | ms per workflow, {AT_ONCE} at a time "
        "| dev server CPU ms per workflow | workflow task wait ms (scheduled → started) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, f in found.items():
        lines.append(
            f"| {name} | {f.one_ms:.0f} | {f.four_ms:.0f} | {f.server_ms:.1f} "
            f"| {f.dispatch_ms:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workflows", type=int, default=40)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    found = {
        "defaults (`--log-level warn` only)": run_configuration(False, args.workflows),
        "the stack's (`DEV_SERVER_TUNING`, `DEV_SERVER_SQLITE`)": run_configuration(
            True, args.workflows
        ),
    }
    text = report(args.workflows, found)
    print(text)
    if not args.no_write:
        update_section(
            "dev-server-tuning",
            "Orchestration cost: the dev server's flags",
            text,
            f"python -m bench.dev_server_tuning --workflows {args.workflows}",
        )


if __name__ == "__main__":
    main()
