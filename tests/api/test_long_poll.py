"""A held GET (`?since=…&wait=…`, long polling): it answers once the status moves, or with the
status as it is when its time is up; waiting, it asks the workflow again only when the store's
projection moved; with the workflow unanswering (no worker, Temporal down) the store's row
answers, and the request still ends when its time is up; bad parameters are refused with a
reason."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import Engine

from api import watch as store_watch
from api.application_workflows import QUERY_TIMEOUT, ApplicationWorkflows
from api.errors import Unavailable, UpstreamTimeout
from api.live import HELD_LIVE_WAIT_SECONDS
from api.watch import StoreWatch
from domain.enums import ApplicationStatus, NextAction
from domain.status import ApplicationView, ProjectionInput
from store import queries
from tests.api.test_api import ID_BODY, seed_review, start, upload_all


async def test_a_held_get_answers_when_the_status_moves(api) -> None:
    app_id, auth = await start(api)
    await upload_all(api, app_id, auth)
    path = f"/v1/applications/{app_id}"
    params = {"since": "AWAITING_DOCUMENTS", "wait": "20"}
    held = asyncio.create_task(api.get(path, headers=auth, params=params))
    await asyncio.sleep(0.3)
    assert not held.done()
    submitted = await api.post(f"{path}/documents/submit", headers=auth, json=ID_BODY)
    assert submitted.status_code == 202, submitted.text
    answer = await asyncio.wait_for(held, 5)
    assert (answer.status_code, answer.json()["status"]) == (200, "OFFERED")


async def test_a_held_get_answers_at_once_or_when_its_time_is_up(api) -> None:
    app_id, auth = await start(api)
    path = f"/v1/applications/{app_id}"
    began = time.monotonic()
    moved = await api.get(path, headers=auth, params={"since": "OFFERED", "wait": "20"})
    assert (moved.status_code, moved.json()["status"]) == (200, "AWAITING_DOCUMENTS")
    assert time.monotonic() - began < 3
    began = time.monotonic()
    unmoved = await api.get(path, headers=auth, params={"since": "AWAITING_DOCUMENTS", "wait": "1"})
    assert (unmoved.status_code, unmoved.json()["status"]) == (200, "AWAITING_DOCUMENTS")
    assert 1 <= time.monotonic() - began < 4


async def test_held_get_parameters_are_checked(api) -> None:
    app_id, auth = await start(api)
    path = f"/v1/applications/{app_id}"
    for params, field in (
        ({"since": "NOT_A_STATUS", "wait": "5"}, "since"),
        ({"since": "OFFERED", "wait": "26"}, "wait"),
        ({"since": "OFFERED", "wait": "-1"}, "wait"),
        ({"since": "OFFERED", "wait": "soon"}, "wait"),
    ):
        response = await api.get(path, headers=auth, params=params)
        assert response.status_code == 422, (params, response.text)
        assert field in response.text


class Counted(ApplicationWorkflows):
    """The workflow's answers, counted: AWAITING_DOCUMENTS until `moved`, then VERIFYING."""

    def __init__(self, watch: StoreWatch) -> None:
        super().__init__(None, watch)  # type: ignore[arg-type]
        self.reads = 0
        self.moved = False

    async def status_or_none(self, application_id: str) -> ApplicationView | None:
        self.reads += 1
        status = ApplicationStatus.AWAITING_DOCUMENTS
        if self.moved:
            status = ApplicationStatus.VERIFYING_IDENTITY
        return ApplicationView(
            application_id=application_id, status=status, next_action=NextAction.WAIT
        )


async def test_waiting_asks_the_workflow_again_only_when_the_projection_moved(engine) -> None:
    await seed_review(engine, "app_watched")
    watch = StoreWatch(engine, recheck=30)
    workflows = Counted(watch)

    async def move_after(seconds: float) -> None:
        await asyncio.sleep(seconds)
        workflows.moved = True
        projection = ProjectionInput(
            application_id="app_watched", seq=8, status=ApplicationStatus.VERIFYING_IDENTITY,
            event="VERIFYING_IDENTITY", at=datetime.now(UTC),
        )  # fmt: skip
        await queries.in_thread(engine, queries.apply_projection, projection)

    mover = asyncio.create_task(move_after(0.3))
    began = time.monotonic()
    view = await workflows.status_after("app_watched", ApplicationStatus.AWAITING_DOCUMENTS, 10)
    waited = time.monotonic() - began
    await mover
    await watch.aclose()
    assert view is not None and view.status == ApplicationStatus.VERIFYING_IDENTITY
    # One read before waiting, one as soon as the row moved (not at the deadline, nor at the
    # recheck): not one every 0.1 s.
    assert workflows.reads == 2
    assert waited < 3, waited


async def test_waiting_asks_the_workflow_every_second_while_the_store_is_dark(
    engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The projection is the signal that the workflow moved; with the store not answering the
    watch, nobody would see it move, so the waiter asks the workflow every `degraded_recheck`
    seconds instead of every `recheck`."""
    await seed_review(engine, "app_dark")
    read = store_watch._read
    calls = 0

    def dark_after_first(engine_: Engine, ids: list[str]) -> dict[str, int]:
        nonlocal calls
        calls += 1
        if calls > 1:
            raise OSError("connection refused")
        return read(engine_, ids)

    for dark, wanted in ((False, range(2, 3)), (True, range(5, 12))):
        calls = 0
        if dark:
            monkeypatch.setattr(store_watch, "_read", dark_after_first)
        watch = StoreWatch(engine, recheck=30, degraded_recheck=0.2)
        workflows = Counted(watch)
        view = await workflows.status_after("app_dark", ApplicationStatus.AWAITING_DOCUMENTS, 1.5)
        await watch.aclose()
        assert view is not None and view.status == ApplicationStatus.AWAITING_DOCUMENTS
        # healthy: one read before waiting and one when the time is up (none at 30 s); dark: one
        # every 0.2 s besides
        assert workflows.reads in wanted, (dark, workflows.reads)
        assert watch.healthy is not dark


async def test_with_the_store_down_from_the_start_waiting_asks_the_workflow_every_second(
    engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No row could be read (the store is down): not the ten reads a second kept for an
    application whose first projection has not landed yet, but one every `degraded_recheck`."""

    def down(engine_: Engine, ids: list[str]) -> dict[str, int]:
        raise OSError("connection refused")

    monkeypatch.setattr(store_watch, "_read", down)
    watch = StoreWatch(engine, degraded_recheck=0.5)
    workflows = Counted(watch)
    view = await workflows.status_after("app_dark", ApplicationStatus.AWAITING_DOCUMENTS, 1.6)
    await watch.aclose()
    assert view is not None and view.status == ApplicationStatus.AWAITING_DOCUMENTS
    assert 3 <= workflows.reads <= 6, workflows.reads


async def test_without_a_stored_row_waiting_asks_the_workflow(engine) -> None:
    watch = StoreWatch(engine)
    workflows = Counted(watch)
    asyncio.get_running_loop().call_later(0.5, setattr, workflows, "moved", True)
    view = await workflows.status_after("app_unrecorded", ApplicationStatus.AWAITING_DOCUMENTS, 5)
    await watch.aclose()
    assert view is not None and view.status == ApplicationStatus.VERIFYING_IDENTITY
    assert workflows.reads >= 3


class Unanswered(ApplicationWorkflows):
    """A workflow nobody answers for: with no worker the query runs into its timeout (`hangs`);
    with Temporal down it is refused at once."""

    def __init__(self, watch: StoreWatch | None, *, hangs: bool) -> None:
        super().__init__(None, watch)  # type: ignore[arg-type]
        self.hangs = hangs

    async def status(self, application_id: str, *, just_started: bool = False) -> ApplicationView:
        if self.hangs:
            await asyncio.sleep(QUERY_TIMEOUT.total_seconds())
            raise UpstreamTimeout("the application did not answer in time")
        raise Unavailable("the workflow service is unavailable")


@contextlib.asynccontextmanager
async def unanswered(
    api: httpx.AsyncClient, *, hangs: bool = True, watched: bool = True
) -> AsyncIterator[None]:
    services = api.app.state.services
    watch = StoreWatch(services.engine)
    workflows = Unanswered(watch if watched else None, hangs=hangs)
    api.app.state.services = dataclasses.replace(services, workflows=workflows)
    try:
        yield
    finally:
        api.app.state.services = services
        await watch.aclose()


async def held_get(
    api: httpx.AsyncClient, app_id: str, auth: dict[str, str], since: str, wait: float
) -> tuple[dict, float]:
    began = time.monotonic()
    response = await api.get(
        f"/v1/applications/{app_id}", headers=auth, params={"since": since, "wait": str(wait)}
    )
    assert response.status_code == 200, response.text
    return response.json(), time.monotonic() - began


@pytest.mark.parametrize("hangs", [True, False], ids=["no-worker", "temporal-down"])
async def test_unanswered_a_held_get_answers_from_the_store_when_its_time_is_up(
    api, hangs: bool
) -> None:
    app_id, auth = await start(api)
    await seed_review(api.app.state.services.engine, app_id)
    async with unanswered(api, hangs=hangs):
        body, took = await held_get(api, app_id, auth, "MANUAL_REVIEW", 2)
    assert (body["status"], body["live"]) == ("MANUAL_REVIEW", False)
    # Held for its time (not answered at once, which would have the app ask again at once), and
    # not for the query's timeout on top.
    assert 2 <= took < 2.6, took


async def test_unanswered_a_held_get_answers_at_once_when_the_stored_status_moved_on(
    api,
) -> None:
    app_id, auth = await start(api)
    await seed_review(api.app.state.services.engine, app_id)
    async with unanswered(api):
        body, took = await held_get(api, app_id, auth, "AWAITING_DOCUMENTS", 20)
    assert (body["status"], body["live"]) == ("MANUAL_REVIEW", False)
    # one live read's bound, then the row: not the query's timeout, nor the 20 s
    assert took < HELD_LIVE_WAIT_SECONDS + 0.7, took


@pytest.mark.parametrize("watched", [True, False], ids=["watch", "no-watch"])
async def test_unanswered_a_held_get_answers_when_the_stored_row_moves(api, watched: bool) -> None:
    engine = api.app.state.services.engine
    app_id, auth = await start(api)
    await seed_review(engine, app_id)
    back = ProjectionInput(
        application_id=app_id, seq=8, status=ApplicationStatus.AWAITING_DOCUMENTS,
        event="REVIEW_MORE_INFO", at=datetime.now(UTC),
    )  # fmt: skip
    async with unanswered(api, watched=watched):
        loop = asyncio.get_running_loop()
        loop.call_later(0.5, queries.in_session, engine, queries.apply_projection, back)
        body, took = await held_get(api, app_id, auth, "MANUAL_REVIEW", 20)
    assert (body["status"], body["live"]) == ("AWAITING_DOCUMENTS", False)
    assert 0.5 <= took < 2, took
