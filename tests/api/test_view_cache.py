"""Status reads answered from the last view while the workflow's history has not grown: the
server is asked for the history length (no worker involved), the worker is queried only when
the history moved on."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from temporalio.service import RPCError, RPCStatusCode

from api.application_workflows import ApplicationWorkflows, ViewCache
from domain.enums import ApplicationStatus, NextAction
from domain.status import ApplicationView


def _view(status: ApplicationStatus) -> ApplicationView:
    return ApplicationView(application_id="a-1", status=status, next_action=NextAction.WAIT)


class FakeHandle:
    """A workflow whose history length and state the test moves on together."""

    def __init__(self) -> None:
        self.length = 7
        self.status = ApplicationStatus.AWAITING_DOCUMENTS
        self.queries = 0
        self.server_down = False

    async def describe(self, rpc_timeout=None):
        if self.server_down:
            raise RPCError("unavailable", RPCStatusCode.UNAVAILABLE, b"")
        info = SimpleNamespace(history_length=self.length)
        return SimpleNamespace(raw_description=SimpleNamespace(workflow_execution_info=info))

    async def query(self, name, result_type=None, rpc_timeout=None):
        self.queries += 1
        return _view(self.status)


class FakeClient:
    def __init__(self, handle: FakeHandle) -> None:
        self.handle = handle

    def get_workflow_handle(self, workflow_id: str) -> FakeHandle:
        return self.handle


async def test_an_unchanged_history_is_answered_without_a_query() -> None:
    handle = FakeHandle()
    workflows = ApplicationWorkflows(FakeClient(handle))  # type: ignore[arg-type]
    for _ in range(5):
        view = await workflows.status("a-1")
        assert view.status == ApplicationStatus.AWAITING_DOCUMENTS
    assert handle.queries == 1
    # the workflow moves on: its history grows, and the next read sees the new state
    handle.length, handle.status = 12, ApplicationStatus.VERIFYING_IDENTITY
    assert (await workflows.status("a-1")).status == ApplicationStatus.VERIFYING_IDENTITY
    assert handle.queries == 2


async def test_without_the_history_length_every_read_is_a_query() -> None:
    handle = FakeHandle()
    handle.server_down = True
    workflows = ApplicationWorkflows(FakeClient(handle))  # type: ignore[arg-type]
    await workflows.status("a-1")
    await workflows.status("a-1")
    assert handle.queries == 2
    # the POST that started the workflow always asks the workflow itself
    handle.server_down = False
    await workflows.status("a-1", just_started=True)
    await workflows.status("a-1", just_started=True)
    assert handle.queries == 4


@pytest.mark.parametrize("size", [1, 3])
def test_the_cache_keeps_the_newest_views(size: int) -> None:
    cache = ViewCache(size)
    for n in range(5):
        cache.put(f"a-{n}", 1, _view(ApplicationStatus.AWAITING_DOCUMENTS))
    kept = [n for n in range(5) if cache.get(f"a-{n}", 1) is not None]
    assert kept == list(range(5 - size, 5))
    assert cache.get("a-4", 2) is None  # another length: not that view
