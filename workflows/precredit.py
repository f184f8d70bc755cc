"""Pre-credit (预授信): one batch of existing customers scored with the current policy, started
by a Temporal Schedule. The batch is split into chunks scored in parallel; each chunk is one
activity that writes its pre-approvals, so a crash resumes at the chunks not yet done.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.naming import WorkflowName
    from domain.precredit import (
        BatchSummary,
        ChunkResult,
        CountCustomersInput,
        PreCreditBatchInput,
        ScoreChunkInput,
    )
    from workflows import calls, options
    from workflows.options import CallOptions

# A chunk calls the bureau for each customer: minutes at most; transient failures retry.
CHUNK = CallOptions(
    start_to_close=timedelta(minutes=10),
    schedule_to_close=timedelta(hours=2),
    retry=RetryPolicy(
        initial_interval=timedelta(seconds=2),
        maximum_interval=timedelta(minutes=1),
        non_retryable_error_types=options.NON_RETRYABLE,
    ),
)


@workflow.defn(name=WorkflowName.PRECREDIT_BATCH)
class PreCreditBatchWorkflow:
    @workflow.run
    async def run(self, inp: PreCreditBatchInput) -> BatchSummary:
        batch_id = workflow.info().workflow_id
        total: int = await calls.precredit_count(
            CountCustomersInput(source=inp.source), opts=options.STORE
        )
        scored_at = workflow.now()
        offsets = list(range(0, total, inp.chunk_size))
        gate = asyncio.Semaphore(inp.parallel_chunks)

        async def chunk(offset: int) -> ChunkResult:
            async with gate:
                result: ChunkResult = await calls.precredit_score_chunk(
                    ScoreChunkInput(
                        batch_id=batch_id,
                        source=inp.source,
                        offset=offset,
                        limit=inp.chunk_size,
                        validity_days=inp.validity_days,
                        scored_at=scored_at,
                    ),
                    opts=CHUNK,
                )
                return result

        results = await asyncio.gather(*(chunk(o) for o in offsets))
        return BatchSummary(
            batch_id=batch_id,
            customers=total,
            scored=sum(r.scored for r in results),
            approved=sum(r.approved for r in results),
            declined=sum(r.declined for r in results),
            failed=sum(r.failed for r in results),
        )
