"""Schema migrations of the application store (Alembic). Processes never change the schema:
`loanflow db upgrade` (the compose job `migrate`), or `python -m store.migrations upgrade`
(`make demo`; the test fixtures call `upgrade`), brings a database to the newest revision once,
before the services start; `loanflow db current` prints where a database stands.

Adding a revision after a change to `store/tables.py`:

    .venv/bin/python -m store.migrations revision -m "add credit lines"

autogenerates `store/migrations/versions/NNNN_<slug>.py` by comparing the models with a scratch
SQLite database upgraded to head; read it (indexes, server defaults, data moves), then run
`pytest tests/store/test_migrations.py`, which fails while the revisions and the models differ.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from config.settings import get_settings
from store.db import make_engine

HERE = Path(__file__).resolve().parent


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(HERE / "versions"))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    # a URL may hold % (encoded passwords, PostgreSQL options): ConfigParser would read it
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    # new revisions come out ruff-formatted, like the rest of the tree
    ruff = Path(sys.executable).parent / "ruff"
    config.set_section_option("post_write_hooks", "hooks", "lint, format")
    for hook, options in (("lint", "check --fix -q"), ("format", "format -q")):
        config.set_section_option("post_write_hooks", f"{hook}.type", "exec")
        config.set_section_option("post_write_hooks", f"{hook}.executable", str(ruff))
        config.set_section_option(
            "post_write_hooks", f"{hook}.options", f"{options} REVISION_SCRIPT_FILENAME"
        )
    return config


# any constant: two upgrades started at once on PostgreSQL take turns instead of racing
_PG_LOCK_KEY = 7_311_905_001


def _run(url: str, action: Callable[[Config], None]) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
            config = alembic_config(url)
            config.attributes["connection"] = connection
            action(config)
    finally:
        engine.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at url to `revision` (idempotent: nothing to do at head)."""
    _run(url, lambda config: command.upgrade(config, revision))


def downgrade(url: str, revision: str) -> None:
    _run(url, lambda config: command.downgrade(config, revision))


def configured_url() -> str:
    """The store of the settings: `DATABASE_URL`, or the SQLite file of the data dir."""
    return get_settings().resolved_database_url


def upgrade_configured(revision: str = "head") -> str:
    """`upgrade` on the configured store; the line saying where it now stands."""
    url = configured_url()
    upgrade(url, revision)
    return f"database at revision {current(url)}"


def current_configured() -> str:
    """The configured store's revision, as a line to print."""
    return current(configured_url()) or "empty (no revision)"


def log_progress() -> None:
    """Alembic's INFO lines (each revision applied) on stderr."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")


def current(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
