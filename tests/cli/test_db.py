"""`loanflow db upgrade|current`: the deployment's migration job through the ops command line.
On an empty store the upgrade leaves the models' tables at the head revision and `current`
prints it; the installed script finds the checkout's migrations without PYTHONPATH, and says
where to run it when there is no source tree to find."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

from cli.main import main
from config.settings import get_settings
from store import lines, precredit, tables  # noqa: F401  (the models' tables)
from store.migrations import alembic_config, current
from tests.store.test_migrations import table_names

ROOT = Path(__file__).resolve().parents[2]
HEAD = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty SQLite file, the store of the settings (`DATABASE_URL`)."""
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_db_upgrade_brings_an_empty_store_to_head(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert table_names(store_url) == set()
    main(["db", "upgrade"])
    assert capsys.readouterr().out == f"database at revision {HEAD}\n"
    assert current(store_url) == HEAD
    assert table_names(store_url) == set(SQLModel.metadata.tables)
    main(["db", "upgrade"])  # at head already: nothing to do
    assert capsys.readouterr().out == f"database at revision {HEAD}\n"


def test_db_current_prints_the_revision_and_upgrade_takes_one(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["db", "current"])
    assert capsys.readouterr().out == "empty (no revision)\n"
    main(["db", "upgrade", "0001"])
    main(["db", "current"])
    assert capsys.readouterr().out.splitlines() == ["database at revision 0001", "0001"]
    main(["db", "upgrade"])
    main(["db", "current"])
    assert capsys.readouterr().out.splitlines()[-1] == HEAD


def run_installed(site: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The console script's situation: `cli` importable from `site`, and neither the working
    directory nor PYTHONPATH on the path (-I), so `store` is not importable at the start."""
    code = (
        f"import sys, importlib.util; sys.path.insert(0, {str(site)!r}); "
        "assert importlib.util.find_spec('store') is None; "
        "from cli.main import main; main()"
    )
    return subprocess.run(
        [sys.executable, "-I", "-c", code, *args],
        cwd=site, env=os.environ | {"DATABASE_URL": url},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_script_of_an_editable_install_finds_the_checkout(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "cli").symlink_to(ROOT / "cli")  # what `pip install -e .` maps `cli` to
    url = f"sqlite:///{tmp_path / 'script.db'}"
    upgraded = run_installed(site, url, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout == f"database at revision {HEAD}\n"
    shown = run_installed(site, url, "db", "current")
    assert (shown.returncode, shown.stdout) == (0, f"{HEAD}\n"), shown.stderr
    assert table_names(url) == set(SQLModel.metadata.tables)


def test_without_the_source_tree_the_script_says_where_to_run(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(ROOT / "cli", site / "cli", ignore=shutil.ignore_patterns("__pycache__"))
    refused = run_installed(site, f"sqlite:///{tmp_path / 'none.db'}", "db", "upgrade")
    assert refused.returncode == 1 and not refused.stdout
    assert "run it from the checkout" in refused.stderr and "loanflow image" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (tmp_path / "none.db").exists()
