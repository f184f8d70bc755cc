"""Data the store refuses fails the step for good (non-retryable, no personal data in the
reason); the database being unreachable stays retryable, and is counted once the step is stuck."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest
from sqlalchemy.exc import OperationalError
from temporalio.exceptions import ApplicationError
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.testing import ActivityEnvironment

from activities.records import RecordsActivities
from activities.storage import STUCK_AFTER_ATTEMPTS, STUCK_METRIC
from devtools.stack import Ports
from domain.naming import ErrorType
from store import queries
from store.db import make_engine
from tests.activities.test_records_decisioning import start


async def test_refused_data_is_not_retried_and_not_echoed(engine) -> None:
    bad = start().model_copy(update={"client_request_id": "crid-\ud800-13800138000"})
    with pytest.raises(ApplicationError) as refused:
        await ActivityEnvironment().run(RecordsActivities(engine).register_application, bad)
    assert refused.value.non_retryable and refused.value.type == ErrorType.DATA_REFUSED
    assert "13800138000" not in str(refused.value)
    assert queries.in_session(engine, queries.get_application, bad.application_id) is None


async def test_an_unreachable_database_stays_retryable(tmp_path) -> None:
    dead = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    with pytest.raises(OperationalError):
        await ActivityEnvironment().run(RecordsActivities(dead).register_application, start())
    dead.dispose()


async def test_a_stuck_store_step_is_counted_on_the_worker_metrics() -> None:
    port = Ports.free().api
    runtime = Runtime(
        telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=f"127.0.0.1:{port}"))
    )
    dead = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    activities = RecordsActivities(dead)
    for attempt in (1, STUCK_AFTER_ATTEMPTS - 1, STUCK_AFTER_ATTEMPTS, STUCK_AFTER_ATTEMPTS + 1):
        env = ActivityEnvironment()
        env.info = replace(env.info, attempt=attempt, activity_type="register_application")
        env.metric_meter = runtime.metric_meter
        with pytest.raises(OperationalError):
            await env.run(activities.register_application, start())
    dead.dispose()
    scraped = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    (line,) = [s for s in scraped.splitlines() if s.startswith(STUCK_METRIC)]
    assert 'activity_type="register_application"' in line
    assert line.rsplit(" ", 1)[1] == "2"  # the fifth and sixth attempts, not the first four
