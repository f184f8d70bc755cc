"""Reads that survive a worker restart or a Temporal outage: the live `status` query is given a
short head start; if it has not answered by then, the store's projection answers instead (when
the application has been recorded), so a frontend polling GET never hangs on a missing worker.
A held GET (long polling) waits on the projection instead of the workflow then, and still ends
when its time is up. With the store down too, the live answer is the only one, and it is
awaited."""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy import Engine

from api.application_workflows import UNREACHABLE, ApplicationWorkflows
from api.errors import UNAVAILABLE_ERRORS
from api.watch import StoreWatch
from domain.enums import ApplicationStatus
from domain.status import ApplicationView
from store import queries
from store.tables import Application

# How long the live view may take before the recorded one is used instead.
LIVE_WAIT_SECONDS = 0.3
# How long each live read of a held GET may take before the stored row is used: longer than the
# plain GET's head start, because a held GET's live answer carries the next action (the row's
# says only "wait") and a busy worker may take some hundreds of milliseconds to answer.
HELD_LIVE_WAIT_SECONDS = 1.0


async def live_or_recorded(
    workflows: ApplicationWorkflows, engine: Engine, application_id: str
) -> ApplicationView | Application:
    """The live view, or the stored row when the workflow is slow or unreachable. Raises what
    the query raised when there is no row to fall back on."""
    query = asyncio.ensure_future(workflows.status(application_id))
    done, _ = await asyncio.wait({query}, timeout=LIVE_WAIT_SECONDS)
    if query in done and not _unreachable(query):
        return query.result()
    try:
        row = await queries.in_thread(engine, queries.get_application, application_id)
    except UNAVAILABLE_ERRORS:
        return await query
    if row is not None:
        query.cancel()
        with contextlib.suppress(BaseException):
            await query
        return row
    return await query


async def moved_or_recorded(
    workflows: ApplicationWorkflows,
    engine: Engine,
    application_id: str,
    since: ApplicationStatus,
    wait_seconds: float,
) -> ApplicationView | Application:
    """A held GET's answer: the live view once its status is no longer `since`, or as it is when
    `wait_seconds` are up. A live read slower than `HELD_LIVE_WAIT_SECONDS` hands over to the stored
    row: at once when the row has moved on from `since`; otherwise once the row moves or the
    time is up, with the live view given its head start once more (`live_or_recorded`). Without
    a row, what `live_or_recorded` answers."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    view = await workflows.status_after(
        application_id, since, wait_seconds, live_wait=HELD_LIVE_WAIT_SECONDS
    )
    if view is not None:
        return view
    row = await _recorded(engine, application_id)
    if row is not None and row.status != since:
        return row
    if row is not None:
        await _row_moved(workflows.watch, engine, row, deadline - loop.time())
    return await live_or_recorded(workflows, engine, application_id)


async def _recorded(engine: Engine, application_id: str) -> Application | None:
    try:
        return await queries.in_thread(engine, queries.get_application, application_id)
    except UNAVAILABLE_ERRORS:
        return None


async def _row_moved(
    watch: StoreWatch | None, engine: Engine, row: Application, timeout: float
) -> None:
    """Until the stored row is past the one read, or `timeout` seconds; a watch of its own
    when the workflows were built without one."""
    if watch is not None:
        await watch.moved(row.id, row.last_seq, timeout)
        return
    own = StoreWatch(engine)
    try:
        await own.moved(row.id, row.last_seq, timeout)
    finally:
        await own.aclose()


def _unreachable(task: asyncio.Future[ApplicationView]) -> bool:
    return isinstance(task.exception(), UNREACHABLE)
