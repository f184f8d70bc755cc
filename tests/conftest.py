"""Shared fixtures: Temporal environments from the installed binaries (nothing is downloaded),
settings pointing at tmp folders, and a database engine (SQLite, or PostgreSQL at DATABASE_URL)."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from config.temporal import data_converter
from devtools.stack import DEV_SERVER_TUNING
from domain.naming import SearchAttributeKeys
from store.blobs import LocalBlobStore
from store.db import make_engine
from store.migrations import upgrade
from tests.workflows.corpus import recording
from workflows.credit_line import LINE_SEARCH_ATTRIBUTE_KEYS

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def session_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The settings of the session-wide Temporal environments (modules may override
    `settings` with their own without touching these)."""
    data = tmp_path_factory.mktemp("data")
    return Settings(
        environment="test", data_dir=data, database_url=os.environ.get("DATABASE_URL", "")
    )


@pytest.fixture(scope="session")
def settings(session_settings: Settings) -> Settings:
    return session_settings


def _converter(settings: Settings) -> DataConverter:
    """Encrypted payloads as in production, except while recording the replay corpus, which
    must replay without the key."""
    return pydantic_data_converter if recording() else data_converter(settings)


@pytest.fixture(scope="session")
async def time_env(session_settings: Settings) -> AsyncIterator[WorkflowEnvironment]:
    """Time-skipping server: long timers pass at once. It cannot register search attributes,
    so workflows started here set upsert_search_attributes=False."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(BIN / "temporal-test-server"),
        data_converter=_converter(session_settings),
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def local_env(session_settings: Settings) -> AsyncIterator[WorkflowEnvironment]:
    """The real dev server with the custom search attributes registered."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(BIN / "temporal"),
        search_attributes=[*SearchAttributeKeys.ALL, *LINE_SEARCH_ATTRIBUTE_KEYS],
        data_converter=_converter(session_settings),
        dev_server_extra_args=["--log-level", "error", *DEV_SERVER_TUNING],
    )
    yield env
    await env.shutdown()


@contextmanager
def isolated_database(fallback_dir: Path, require_postgres: bool = False) -> Iterator[str]:
    """A database URL of its own: a fresh schema on the PostgreSQL at DATABASE_URL (the shared
    database may hold tables of other model versions, and suites must not see each other's
    rows), else a SQLite file in `fallback_dir`."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        if require_postgres:
            pytest.skip("DATABASE_URL does not point at PostgreSQL")
        yield f"sqlite:///{fallback_dir / 'loanflow.db'}"
        return
    schema, admin = f"t_{uuid.uuid4().hex[:12]}", make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh database of its own, migrated to the newest revision once."""
    with isolated_database(tmp_path_factory.mktemp("db")) as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="module")
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def blobs(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")
