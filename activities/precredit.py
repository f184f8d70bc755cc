"""Pre-credit (预授信): count a customer source and score one chunk of it with the active credit
policy and scorecard, writing each customer's pre-approval (limit, price, expiry) to the store.

Only file references and counts cross into Temporal. A retried chunk writes nothing twice (one
row per customer, product and batch). A bad row or a bureau failure counts as one failure.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from pydantic import ValidationError
from sqlalchemy import Engine
from temporalio import activity

from activities import precredit_scoring as precredit
from decisioning.evaluator import PolicyEvaluationError, PolicyEvaluator
from domain.idnumber import InvalidIdNumber
from domain.naming import ActivityName
from domain.precredit import ChunkResult, CountCustomersInput, PreCreditCustomer, ScoreChunkInput
from domain.products import PRODUCTS
from store import precredit as store
from store import queries
from store.precredit import PreApproval
from vendors.base import VendorError
from vendors.bureau import BureauClient

BUREAU_CONCURRENCY = 16


class PreCreditActivities:
    def __init__(self, engine: Engine, bureau: BureauClient, policies: PolicyEvaluator) -> None:
        self._engine = engine
        self._bureau = bureau
        self._policies = policies

    @activity.defn(name=ActivityName.PRECREDIT_COUNT)
    async def count(self, inp: CountCustomersInput) -> int:
        return await asyncio.to_thread(precredit.count_customers, inp.source)

    @activity.defn(name=ActivityName.PRECREDIT_SCORE_CHUNK)
    async def score_chunk(self, inp: ScoreChunkInput) -> ChunkResult:
        rows = await asyncio.to_thread(precredit.read_customers, inp.source, inp.offset, inp.limit)
        gate = asyncio.Semaphore(BUREAU_CONCURRENCY)
        outcomes = await asyncio.gather(*(self._one(row, inp, gate) for row in rows))
        approvals = [o for o in outcomes if o is not None]
        # one transaction per chunk: a row per customer, ignored on a retry
        await queries.in_thread(self._engine, store.record_pre_approvals, approvals)
        result = ChunkResult(
            scored=len(approvals),
            approved=sum(1 for o in approvals if o.approved),
            declined=sum(1 for o in approvals if not o.approved),
            failed=len(outcomes) - len(approvals),
        )
        activity.logger.info("pre-credit %s @%d: %s", inp.batch_id, inp.offset, result)
        return result

    async def _one(
        self, row: dict[str, str], inp: ScoreChunkInput, gate: asyncio.Semaphore
    ) -> PreApproval | None:
        try:
            customer = PreCreditCustomer.model_validate(row)
            product = PRODUCTS[customer.product_code]
            async with gate:
                bureau = await self._bureau.fetch_report(customer.full_name, customer.id_number)
            return precredit.score_customer(
                self._policies,
                customer,
                product,
                bureau,
                inp.batch_id,
                inp.scored_at,
                timedelta(days=inp.validity_days),
            )
        except (ValidationError, KeyError, InvalidIdNumber, VendorError, PolicyEvaluationError):
            # Never the row itself in the log: it holds a name and an ID number.
            activity.logger.warning("pre-credit %s: one customer not scored", inp.batch_id)
            return None
