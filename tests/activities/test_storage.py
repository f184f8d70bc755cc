"""Data the store refuses fails the step for good (non-retryable, no personal data in the
reason); the database being unreachable stays retryable."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.records import RecordsActivities
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
