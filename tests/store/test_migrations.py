"""The Alembic revisions produce exactly the models' tables (SQLite and PostgreSQL), from an empty
database and from every earlier revision; processes never create the schema themselves."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlmodel import SQLModel

from config.settings import Settings
from store import lines, precredit, tables  # noqa: F401  (the models compared against)
from store.db import make_engine
from store.migrations import alembic_config, current, downgrade, upgrade
from tests.conftest import isolated_database
from workers.main import Deps


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with isolated_database(tmp_path, require_postgres=request.param == "postgres") as url:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'migrations.db'}"
        yield url


def differences(url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()


def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def revisions() -> list[tuple[str, str | None]]:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [(r.revision, r.down_revision) for r in script.walk_revisions()]  # type: ignore[misc]


def test_upgrade_from_empty_gives_exactly_the_models_tables(empty_url: str) -> None:
    assert table_names(empty_url) == set()
    upgrade(empty_url)
    assert differences(empty_url) == []
    assert table_names(empty_url) == set(SQLModel.metadata.tables)
    head = ScriptDirectory.from_config(alembic_config(empty_url)).get_current_head()
    assert current(empty_url) == head
    upgrade(empty_url)  # at head: nothing to do, nothing fails
    assert current(empty_url) == head


def test_upgrade_from_every_previous_revision(empty_url: str) -> None:
    history = revisions()
    assert history, "no revisions"
    for revision, previous in history:
        upgrade(empty_url)
        downgrade(empty_url, previous or "base")
        if previous is None:
            assert table_names(empty_url) == set()
        upgrade(empty_url)
        assert differences(empty_url) == [], f"upgrade from {previous or 'empty'}"
        assert current(empty_url) == history[0][0], revision


def test_revisions_form_one_line_with_numbered_ids() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1, "two heads: merge or renumber the newest revision"
    ids = [revision for revision, _ in reversed(revisions())]
    assert ids == [f"{n:04d}" for n in range(1, len(ids) + 1)]


def test_a_worker_starting_on_an_empty_database_does_not_create_tables(tmp_path: Path) -> None:
    settings = Settings(
        environment="test", data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'empty.db'}"
    )
    deps = Deps.from_settings(settings)
    try:
        assert table_names(settings.resolved_database_url) == set()
    finally:
        deps.engine.dispose()


def test_a_new_revision_is_numbered_and_empty_while_the_models_match(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    import store.migrations as migrations
    from store.migrations.__main__ import new_revision

    copy = tmp_path / "migrations"
    shutil.copytree(migrations.HERE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrations, "HERE", copy)
    number = len(revisions()) + 1
    path = new_revision("nothing changed")
    assert path.parent == copy / "versions"
    assert path.name == f"{number:04d}_nothing_changed.py"
    source = path.read_text()
    assert re.search(rf"^revision: str = ['\"]{number:04d}['\"]$", source, re.M)
    body = source.split("def upgrade() -> None:")[1].split("def downgrade")[0]
    assert "op." not in body  # the models and the revisions agree: nothing to migrate
