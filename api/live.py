"""Reads that survive a worker restart or a Temporal outage: the live `status` query is given a
short head start; if it has not answered by then, the store's projection answers instead (when
the application has been recorded), so a frontend polling GET never hangs on a missing worker.
With the store down too, the live answer is the only one, and it is awaited."""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy import Engine
from temporalio.service import RPCError

from api.application_workflows import ApplicationWorkflows
from api.errors import UNAVAILABLE_ERRORS, Unavailable, UpstreamTimeout
from domain.status import ApplicationView
from store import queries
from store.tables import Application

# How long the live view may take before the recorded one is used instead.
LIVE_WAIT_SECONDS = 0.3


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


def _unreachable(task: asyncio.Future[ApplicationView]) -> bool:
    return isinstance(task.exception(), Unavailable | UpstreamTimeout | RPCError | RuntimeError)
