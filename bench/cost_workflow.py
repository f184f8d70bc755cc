"""The workflow `bench.temporal_cost` prices Temporal's steps with: a chosen number of regular or
local activities (each after an optional search-attribute upsert), updates and queries, and
nothing else. In a module of its own so that the worker's sandbox imports it as it imports the
application's workflows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import SearchAttributeKey

STATUS = SearchAttributeKey.for_keyword("ApplicationStatus")
TIMEOUT = timedelta(seconds=30)


@dataclass
class Steps:
    activities: int = 0
    local: bool = False
    upsert: bool = False
    updates: int = 0


@activity.defn(name="bench-step")
async def step(n: int) -> int:
    return n + 1


@workflow.defn(name="bench-steps")
class StepsWorkflow:
    def __init__(self) -> None:
        self.pokes = 0

    @workflow.update(name="poke")
    async def poke(self) -> int:
        self.pokes += 1
        return self.pokes

    @workflow.query(name="pokes")
    def seen(self) -> int:
        return self.pokes

    @workflow.run
    async def run(self, steps: Steps) -> int:
        await workflow.wait_condition(lambda: self.pokes >= steps.updates)
        n = 0
        for i in range(steps.activities):
            if steps.upsert:
                workflow.upsert_search_attributes([STATUS.value_set(f"S{i}")])
            if steps.local:
                n = await workflow.execute_local_activity(step, n, start_to_close_timeout=TIMEOUT)
            else:
                n = await workflow.execute_activity(step, n, start_to_close_timeout=TIMEOUT)
        return n
