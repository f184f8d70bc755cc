"""The replay corpus: histories recorded from the workflow branch tests, replayed by
`test_replay_corpus.py` with the current workflow classes so that a change to a workflow that
would break running applications is caught before it ships.

Recording: `python -m tests.workflows.corpus` runs the branch tests with
`LOANFLOW_RECORD_HISTORIES` pointing at `tests/workflows/histories/`; each test that ends with
`finish()` writes its application history (and its payout child's, when there is one) as
`<test name>.json` / `<test name>.payout.json`, and each credit line, draw and pre-credit test
writes the histories it replays at its end as `<test name>.<role>.json` (`line`, `draw`,
`draw-2`, `payout`, `batch`; an application's is plain `<test name>.json`). Histories are
recorded with the plain pydantic converter (no payload encryption), so the corpus replays
without a key and holds only the stand-in test data of `fakes.py` and `line_fakes.py`.

`python -m tests.workflows.corpus TEST...` (test files or ids) records only those tests, next to
the histories already recorded: nothing is deleted, and a test whose history file exists fails
instead of writing over it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from temporalio.client import WorkflowHandle, WorkflowHistory
from temporalio.service import RPCError

from domain.naming import WorkflowName

HISTORIES = Path(__file__).resolve().parent / "histories"
RECORD_ENV = "LOANFLOW_RECORD_HISTORIES"
ROLES = {
    WorkflowName.APPLICATION: "",
    WorkflowName.PAYOUT: "payout",
    WorkflowName.CREDIT_LINE: "line",
    WorkflowName.DRAW: "draw",
    WorkflowName.PRECREDIT_BATCH: "batch",
}


def recording() -> bool:
    return bool(os.environ.get(RECORD_ENV))


def _test_name() -> str:
    current = os.environ.get("PYTEST_CURRENT_TEST", "unknown")
    return re.sub(r"[^A-Za-z0-9_]+", "_", current.split("::")[-1].split(" ")[0]).strip("_")


async def save_for_replay_corpus(handle: WorkflowHandle, history: WorkflowHistory) -> None:
    """An application's history, and its payout child's when there is one."""
    if not recording():
        return
    payout_id = handle.id.replace("loan-application-", "payout-", 1)
    try:
        payout = [await handle._client.get_workflow_handle(payout_id).fetch_history()]
    except RPCError:
        payout = []
    save_histories(history, *payout)


def workflow_type(history: WorkflowHistory) -> str:
    return history.events[0].workflow_execution_started_event_attributes.workflow_type.name


def save_histories(*histories: WorkflowHistory) -> None:
    """Write histories of one test as `<test name>.<role>.json`, the role from the workflow type
    (a second one of a type: `draw-2`); never over a file already recorded."""
    if not recording():
        return
    folder = Path(os.environ[RECORD_ENV])
    folder.mkdir(parents=True, exist_ok=True)
    name = _test_name().removeprefix("test_")
    seen: dict[str, int] = {}
    for history in histories:
        role = ROLES[workflow_type(history)]
        seen[role] = seen.get(role, 0) + 1
        label = role if seen[role] == 1 else f"{role}-{seen[role]}"
        stem = f"{name}.{label}" if label else name
        with (folder / f"{stem}.json").open("x") as out:
            out.write(history.to_json())


def load_corpus() -> list[tuple[str, WorkflowHistory]]:
    histories = []
    for path in sorted(HISTORIES.glob("*.json")):
        workflow_id = "payout-corpus" if path.name.endswith(".payout.json") else "app-corpus"
        histories.append((path.stem, WorkflowHistory.from_json(workflow_id, path.read_text())))
    return histories


def record(tests: list[str]) -> int:
    """No tests named: the whole corpus again, from scratch. Tests named: only their histories,
    added to the corpus."""
    if not tests:
        for old in HISTORIES.glob("*.json"):
            old.unlink()
        tests = ["tests/workflows", "--ignore=tests/workflows/test_replay_corpus.py"]
    env = os.environ | {RECORD_ENV: str(HISTORIES)}
    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    return subprocess.call([*pytest, *tests], env=env)


if __name__ == "__main__":
    sys.exit(record(sys.argv[1:]))
