"""PreCreditBatchWorkflow on the time-skipping server, with stand-ins for counting the source
and scoring a chunk: the batch is cut into chunks of its size, no more than `parallel_chunks`
scored at once, each with the batch's id and time; a chunk whose scoring fails is tried again;
the summary adds the chunks up. The history replays, and is saved to the replay corpus when it
is being recorded (corpus.py)."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field

from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from domain.naming import ActivityName, WorkflowName
from domain.precredit import (
    BatchSummary,
    ChunkResult,
    CountCustomersInput,
    PreCreditBatchInput,
    ScoreChunkInput,
)
from tests.workflows.corpus import save_histories
from workflows.precredit import PreCreditBatchWorkflow


@dataclass
class Chunks:
    """The source holds `customers` rows; every third is declined, the first row of the file
    is bad data; the chunk at `failing_offset` fails at its first attempt (the bureau down)."""

    customers: int
    failing_offset: int | None = None
    scored: list[ScoreChunkInput] = field(default_factory=list)
    attempts: list[int] = field(default_factory=list)
    running: int = 0
    most_at_once: int = 0

    @activity.defn(name=ActivityName.PRECREDIT_COUNT)
    async def count(self, inp: CountCustomersInput) -> int:
        return self.customers

    @activity.defn(name=ActivityName.PRECREDIT_SCORE_CHUNK)
    async def score_chunk(self, inp: ScoreChunkInput) -> ChunkResult:
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            await asyncio.sleep(0.05)  # long enough for the others to start, if allowed
            self.attempts.append(inp.offset)
            if inp.offset == self.failing_offset and activity.info().attempt == 1:
                raise RuntimeError("bureau unavailable")
            self.scored.append(inp)
            return self.result(inp)
        finally:
            self.running -= 1

    def result(self, inp: ScoreChunkInput) -> ChunkResult:
        rows = range(inp.offset, min(inp.offset + inp.limit, self.customers))
        failed = 1 if inp.offset == 0 else 0
        declined = sum(1 for row in rows if row % 3 == 2)
        return ChunkResult(
            scored=len(rows) - failed,
            approved=len(rows) - failed - declined,
            declined=declined,
            failed=failed,
        )


async def test_a_batch_scores_every_chunk_once_a_few_at_a_time_and_sums_them(
    time_env: WorkflowEnvironment,
) -> None:
    chunks = Chunks(customers=25, failing_offset=10)
    queue, batch_id = f"precredit-{uuid.uuid4()}", f"precredit-batch-{uuid.uuid4().hex[:8]}"
    async with Worker(
        time_env.client,
        task_queue=queue,
        workflows=[PreCreditBatchWorkflow],
        activities=[chunks.count, chunks.score_chunk],
    ):
        handle = await time_env.client.start_workflow(
            WorkflowName.PRECREDIT_BATCH,
            PreCreditBatchInput(source="customers.csv", chunk_size=10, parallel_chunks=2),
            id=batch_id,
            task_queue=queue,
            result_type=BatchSummary,
        )
        summary = await handle.result()

    assert summary == BatchSummary(
        batch_id=batch_id, customers=25, scored=24, approved=16, declined=8, failed=1
    )
    assert sorted(c.offset for c in chunks.scored) == [0, 10, 20]
    assert sorted(chunks.attempts) == [0, 10, 10, 20]  # the failed chunk once more, no other
    assert chunks.most_at_once == 2
    assert {(c.batch_id, c.limit, c.validity_days) for c in chunks.scored} == {(batch_id, 10, 15)}
    assert len({c.scored_at for c in chunks.scored}) == 1  # expiry counts from the batch's time

    history = await handle.fetch_history()
    replayer = Replayer(
        workflows=[PreCreditBatchWorkflow], data_converter=time_env.client.data_converter
    )
    await replayer.replay_workflow(history)
    save_histories(history)
