"""Pre-credit: a batch chunk scored by the real policy against the bureau simulator, bad rows
counted not fatal, retries writing nothing twice; an application of a pre-approved customer
reuses the fresh bureau report and is decided against the pre-approval; and the batch as a
Temporal Schedule on the dev server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import Client
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker

from activities.bureau import BureauActivities
from activities.decisioning import DecisioningActivities
from activities.precredit import PreCreditActivities
from activities.precredit_scoring import PRE_APPROVED_RULE
from activities.records import RecordsActivities
from decisioning.evaluator import PolicyEvaluator
from domain.application import Consents, Device, StartApplicationInput
from domain.decision import BureauInput, DecisionInput
from domain.enums import ApplicationStatus, DecisionOutcome
from domain.identity import Applicant, IdentityOutcome
from domain.idnumber import parse_id_number
from domain.precredit import PreCreditBatchInput, ScoreChunkInput
from domain.products import PRODUCTS
from domain.status import ProjectionInput
from mocks.app import create_app
from mocks.settings import MockSettings
from store.precredit import PreApproval, batch_counts, valid_pre_approval
from synthetic.precredit import customers, write_csv
from vendors.bureau import BureauClient
from workers.schedules import ensure_precredit_schedule
from workflows.precredit import PreCreditBatchWorkflow

POLICY = Path(__file__).resolve().parents[2] / "policies" / "2026.11-std"
BASE = "http://mocks"


@pytest.fixture(scope="module")
def policies() -> PolicyEvaluator:
    return PolicyEvaluator(POLICY)


@pytest.fixture
async def bureau() -> AsyncIterator[BureauClient]:
    app: FastAPI = create_app(MockSettings())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        yield BureauClient(BASE, client=http)
    await app.state.mocks.aclose()


def chunk(source: Path, batch: str, offset: int = 0, limit: int = 1000) -> ScoreChunkInput:
    return ScoreChunkInput(
        batch_id=batch,
        source=str(source),
        offset=offset,
        limit=limit,
        validity_days=15,
        scored_at=datetime.now(UTC),
    )


async def test_a_chunk_approves_good_files_declines_bad_ones_and_survives_bad_rows(
    tmp_path: Path, engine: Engine, bureau: BureauClient, policies: PolicyEvaluator
) -> None:
    people = customers(60, seed=1)
    bad = [
        {"customer_id": "x1", "full_name": "王五", "id_number": "110101198001019999",
         "phone": "13800000000", "product_code": "CASH_LINE"},
        {"customer_id": "x2", "full_name": "王六", "id_number": people[0].id_number,
         "phone": "13800000000", "product_code": "NO_SUCH_PRODUCT"},
    ]  # fmt: skip
    source = write_csv(tmp_path / "customers.csv", people, bad)
    acts = PreCreditActivities(engine, bureau, policies)
    batch = f"batch-{uuid.uuid4().hex[:8]}"
    result = await ActivityEnvironment().run(acts.score_chunk, chunk(source, batch))
    assert result.scored == 60 and result.failed == 2
    assert result.approved + result.declined == 60
    assert 10 < result.approved < 55  # the buckets mix good and bad files
    again = await ActivityEnvironment().run(acts.score_chunk, chunk(source, batch))
    assert again == result
    with Session(engine) as session:
        assert batch_counts(session, batch) == (60, result.approved)
        rows = list(session.exec(select(PreApproval).where(PreApproval.batch_id == batch)))
    for row in rows:
        bucket = int(next(p for p in people if p.customer_id == row.customer_id).id_number[14:16])
        if row.approved:
            assert row.credit_limit > 0 and row.annual_rate is not None
            assert row.expires_at - row.created_at == timedelta(days=15)
            assert bucket < 80  # never an overdue, thin, multi-lending or blacklisted file
        if 80 <= bucket:
            assert not row.approved and row.reasons
        assert row.policy_version == "2026.11-std"


async def test_an_application_of_a_pre_approved_customer_reuses_the_report_and_the_limit(
    tmp_path: Path, engine: Engine, bureau: BureauClient, policies: PolicyEvaluator
) -> None:
    good = next(c for c in customers(40, seed=2) if int(c.id_number[14:16]) < 60)
    source = write_csv(tmp_path / "one.csv", [good])
    batch = f"batch-{uuid.uuid4().hex[:8]}"
    await ActivityEnvironment().run(
        PreCreditActivities(engine, bureau, policies).score_chunk, chunk(source, batch)
    )
    now = datetime.now(UTC)
    with Session(engine) as session:
        pre = valid_pre_approval(session, good.id_number, "CASH_LINE", now)
    assert pre is not None and pre.approved

    class NoBureau:
        async def fetch_report(self, name: str, id_number: str):  # type: ignore[no-untyped-def]
            raise AssertionError("the fresh pre-credit report must be reused")

    report = await ActivityEnvironment().run(
        BureauActivities(NoBureau(), engine).fetch_report,  # type: ignore[arg-type]
        BureauInput(
            application_id="a",
            applicant=Applicant(
                full_name=good.full_name, id_number=good.id_number, phone="13800138000"
            ),
        ),
    )
    assert report.fetched_at == pre.bureau_fetched_at

    app_id = f"app_{uuid.uuid4().hex[:24]}"
    records = RecordsActivities(engine)
    await ActivityEnvironment().run(
        records.register_application,
        StartApplicationInput(
            application_id=app_id,
            client_request_id=uuid.uuid4().hex,
            product=PRODUCTS["CASH_LINE"],
            phone=good.phone,
            requested_amount=500_000,
            requested_term=12,
            device=Device(fingerprint=f"dev-{uuid.uuid4().hex}", ip="10.0.0.1", os="iOS 19"),
            consents=Consents(privacy_policy=True, credit_inquiry=True, carrier_data=True),
            submitted_at=now,
        ),
    )
    await ActivityEnvironment().run(
        records.project,
        ProjectionInput(
            application_id=app_id,
            seq=2,
            status=ApplicationStatus.VERIFYING_IDENTITY,
            event="VERIFYING_IDENTITY",
            at=now,
            id_number=good.id_number,
        ),
    )
    parsed = parse_id_number(good.id_number)
    decision = await ActivityEnvironment().run(
        DecisioningActivities(engine, NoBureau(), policies).decide,  # type: ignore[arg-type]
        DecisionInput(
            application_id=app_id,
            product=PRODUCTS["CASH_LINE"],
            requested_amount=500_000,
            requested_term=12,
            decided_on=now.date(),
            identity=IdentityOutcome(
                passed=True,
                age=parsed.age_on(now.date()),
                is_male=parsed.is_male,
                face_distance=0.3,
                liveness_passed=True,
            ),
            bureau=report,
            carrier=None,
        ),
    )
    assert decision.outcome == DecisionOutcome.APPROVE
    assert PRE_APPROVED_RULE in decision.rules_fired
    assert decision.offer is not None and decision.offer.limit == pre.credit_limit
    assert decision.offer.annual_rate == pre.annual_rate


async def test_the_batch_runs_as_a_temporal_schedule(
    tmp_path: Path,
    engine: Engine,
    local_env: WorkflowEnvironment,
    bureau: BureauClient,
    policies: PolicyEvaluator,
) -> None:
    client: Client = local_env.client
    source = write_csv(tmp_path / "batch.csv", customers(25, seed=3))
    queue = f"precredit-{uuid.uuid4()}"
    schedule_id = f"precredit-{uuid.uuid4().hex[:8]}"
    acts = PreCreditActivities(engine, bureau, policies)
    async with Worker(
        client,
        task_queue=queue,
        workflows=[PreCreditBatchWorkflow],
        activities=[acts.count, acts.score_chunk],
    ):
        handle = await ensure_precredit_schedule(
            client,
            PreCreditBatchInput(source=str(source), chunk_size=10),
            timedelta(days=1),
            task_queue=queue,
            schedule_id=schedule_id,
        )
        try:
            again = await ensure_precredit_schedule(
                client, PreCreditBatchInput(source=str(source)), timedelta(days=1),
                task_queue=queue, schedule_id=schedule_id,
            )  # fmt: skip
            assert again.id == handle.id
            await handle.trigger()
            run_id = None
            for _ in range(200):
                actions = (await handle.describe()).info.recent_actions
                if actions:
                    run_id = actions[-1].action.workflow_id  # type: ignore[attr-defined]
                    break
                await asyncio.sleep(0.05)
            assert run_id is not None
            summary = await client.get_workflow_handle(run_id).result()
        finally:
            await handle.delete()
    assert summary["customers"] == 25 and summary["scored"] == 25 and summary["failed"] == 0
    with Session(engine) as session:
        assert batch_counts(session, summary["batch_id"]) == (25, summary["approved"])
