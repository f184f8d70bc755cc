"""The baseline of `bench/baseline.py`: one application through the activity code with no
workflow engine, against the simulators in their own process, ends DISBURSED with the store, the
audit trail and the gateway's ledger agreeing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from bench.baseline import Actions, render_video
from bench.no_temporal import InProcess
from bench.no_temporal_application import Result, run_application
from bench.system import make_applicant
from config.settings import Settings
from devtools.stack import Ports, Stack
from domain.enums import ApplicationStatus
from domain.naming import payout_idempotency_key
from store import queries
from store.blobs import open_blob_store
from store.db import make_engine
from store.migrations import upgrade
from tests.conftest import isolated_database
from workers.vision import VisionWorkerDeps

pytestmark = pytest.mark.slow


class RenderedOnDemand(dict[Actions, bytes]):
    """The challenge video, rendered for whichever challenge the application issues."""

    def __init__(self, photo: str) -> None:
        super().__init__()
        self.photo = photo

    def __missing__(self, actions: Actions) -> bytes:
        self[actions] = video = render_video(self.photo, actions)
        return video


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    """A schema of its own (not the shared database's), migrated."""
    with isolated_database(tmp_path) as url:
        upgrade(url)
        yield url


@pytest.fixture
def mocks(tmp_path: Path, database: str) -> Iterator[Stack]:
    stack = Stack(data_dir=tmp_path, ports=Ports.free(), ui=False)
    try:
        stack.start("mocks")
        yield stack
    finally:
        stack.stop()


async def test_one_application_without_temporal_is_disbursed(mocks: Stack, database: str) -> None:
    people = mocks.data_dir / "people"
    people.mkdir()
    person = await asyncio.to_thread(make_applicant, 0, people, mocks.mocks_url)
    assert person.video_photo is not None
    settings = Settings(
        environment="test",
        data_dir=mocks.data_dir,
        mocks_url=mocks.mocks_url,
        database_url=database,
    )
    with ThreadPoolExecutor(2) as executor:
        vision = VisionWorkerDeps(open_blob_store(settings), settings, executor=executor)
        async with InProcess.open(settings, vision) as system:
            result = await run_application(system, person, RenderedOnDemand(person.video_photo), 1)
    engine = make_engine(database)  # the system's own engine is disposed with it
    try:
        check_records(engine, mocks, result)
    finally:
        engine.dispose()


def check_records(engine: Engine, mocks: Stack, result: Result) -> None:
    assert result.status == ApplicationStatus.DISBURSED
    assert set(result.timings) == {"start", "identity", "decision", "contract", "payout"}
    row = queries.in_session(engine, queries.get_application, result.application_id)
    assert row is not None and row.status == ApplicationStatus.DISBURSED
    events = [e.event for e in queries.in_session(
        engine, queries.list_audit, result.application_id
    )]  # fmt: skip
    assert events[0] == "SUBMITTED" and events[-1] == "DISBURSED"
    assert "IDENTITY_VERIFIED" in events and "CONTRACT_SIGNED" in events
    paid = queries.in_session(engine, queries.get_disbursement, result.application_id)
    assert paid is not None and paid.status == "SUCCEEDED"
    ledger = httpx.get(f"{mocks.mocks_url}/admin/v1/payouts", timeout=10).json()["orders"]
    key = payout_idempotency_key(result.application_id)
    [order] = [o for o in ledger if o["idempotency_key"] == key]
    assert order["succeeded_attempts"] == 1
