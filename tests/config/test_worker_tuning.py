"""The main worker's tuning comes from settings, and every option it sets is one the SDK's
Worker takes (a misspelt option would only fail when a worker starts in production)."""

from __future__ import annotations

import inspect

from temporalio.worker import Worker

from config.settings import Settings
from workers.main import tuning


def test_unset_tuning_keeps_the_sdk_defaults() -> None:
    assert tuning(Settings()) == {}


def test_tuning_from_the_environment(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for name, value in {
        "WORKFLOW_SLOTS": "50",
        "ACTIVITY_SLOTS": "200",
        "LOCAL_ACTIVITY_SLOTS": "100",
        "POLLERS": "4",
        "CACHED_WORKFLOWS": "2000",
    }.items():
        monkeypatch.setenv(f"LOANFLOW_WORKER_{name}", value)
    chosen = tuning(Settings())
    assert chosen == {
        "max_concurrent_workflow_tasks": 50,
        "max_concurrent_activities": 200,
        "max_concurrent_local_activities": 100,
        "max_concurrent_workflow_task_polls": 4,
        "max_concurrent_activity_task_polls": 4,
        "max_cached_workflows": 2000,
    }
    assert set(chosen) <= set(inspect.signature(Worker.__init__).parameters)
