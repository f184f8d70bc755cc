"""Waiting for an application to move without asking the workflow over and over.

A frontend waiting for the next stage, and a step's call waiting for the stage after it, used to
ask the workflow's `status` query every 0.1 s: each query a round trip through the Temporal
server to the worker holding the workflow, about 6.5 ms of CPU across the three processes, some
seventy per application. Every stage change is also projected to the store (the workflow's
`_project`, which advances the row's `last_seq`), so one query per API process, over every
application being waited on, every `INTERVAL` seconds, sees the move for a fraction of that; the
live query is asked again only when the row moved, or after `RECHECK` seconds as a safety net (a
projection still retrying). While the store does not answer the watch, the projection cannot be
seen moving: waiters ask the workflow every `DEGRADED_RECHECK` seconds instead. An application
with no row is waited on by asking the workflow as before.

The safety net used to be one second: a thousand applicants waiting on a slow stage cost a
thousand live queries a second, exactly when the workers were busiest (a chaos run's API answered
45 status reads a second and took 60 % of a core).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import Engine

from api.errors import UNAVAILABLE_ERRORS
from store.queries import last_seqs

logger = logging.getLogger(__name__)

INTERVAL = 0.05
RECHECK = 10.0
DEGRADED_RECHECK = 1.0


def _read(engine: Engine, application_ids: list[str]) -> dict[str, int]:
    with engine.connect() as connection:
        return last_seqs(connection, application_ids)


class StoreWatch:
    """Tells waiters when an application's stored projection advances past the `last_seq` they
    saw. One polling task per process while anyone waits; it stops when nobody does."""

    def __init__(
        self,
        engine: Engine,
        interval: float = INTERVAL,
        recheck: float = RECHECK,
        degraded_recheck: float = DEGRADED_RECHECK,
    ) -> None:
        self._engine = engine
        self._interval = interval
        self.recheck = recheck
        self.degraded_recheck = degraded_recheck
        # False from a poll the store did not answer until the next one it does.
        self.healthy = True
        self._waiters: dict[str, list[tuple[int, asyncio.Future[int]]]] = {}
        self._task: asyncio.Task[None] | None = None

    async def seq(self, application_id: str) -> int | None:
        """The row's `last_seq` now; None when there is no row or the store does not answer."""
        try:
            seqs = await asyncio.to_thread(_read, self._engine, [application_id])
        except UNAVAILABLE_ERRORS:
            self.healthy = False
            return None
        self.healthy = True
        return seqs.get(application_id)

    async def advanced(self, application_id: str, seen: int, timeout: float) -> int | None:
        """The row's `last_seq` once it is past `seen`; None when `timeout` passed first, or
        after `degraded_recheck` seconds while the store does not answer the watch."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        entry = (seen, future)
        self._waiters.setdefault(application_id, []).append(entry)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._poll(), name="store-watch")
        deadline = loop.time() + timeout
        try:
            while (left := deadline - loop.time()) > 0:
                done, _ = await asyncio.wait({future}, timeout=min(left, self.degraded_recheck))
                if done:
                    return future.result()
                if not self.healthy:
                    return None
            return None
        finally:
            waiting = self._waiters.get(application_id, [])
            with contextlib.suppress(ValueError):
                waiting.remove(entry)
            if not waiting:
                self._waiters.pop(application_id, None)

    async def moved(self, application_id: str, seen: int, timeout: float) -> int | None:
        """As `advanced`, but waits out `timeout` while the store does not answer: for a
        waiter that has only the row to go by, no workflow to ask in the meantime."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (left := deadline - loop.time()) > 0:
            if (seq := await self.advanced(application_id, seen, left)) is not None:
                return seq
        return None

    async def _poll(self) -> None:
        while self._waiters:
            await asyncio.sleep(self._interval)
            watched = list(self._waiters)
            if not watched:
                break
            try:
                seqs = await asyncio.to_thread(_read, self._engine, watched)
            except UNAVAILABLE_ERRORS as exc:
                # The waiters ask the workflow every `degraded_recheck` seconds meanwhile.
                if self.healthy:
                    logger.warning("store watch: %s", type(exc).__name__)
                self.healthy = False
                continue
            self.healthy = True
            for application_id, seq in seqs.items():
                for seen, future in self._waiters.get(application_id, []):
                    if seq > seen and not future.done():
                        future.set_result(seq)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
