"""Stage 1 and every stage change: record the application and project the workflow's state into
the application store (the store is a projection; the workflow stays the source of truth)."""

from __future__ import annotations

from sqlalchemy import Engine
from temporalio import activity

from activities.storage import store_call
from domain.models import ProjectionInput, StartApplicationInput
from domain.naming import ActivityName
from store import queries


class RecordsActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @activity.defn(name=ActivityName.REGISTER_APPLICATION)
    async def register_application(self, inp: StartApplicationInput) -> None:
        created = await store_call(self._engine, queries.register_application, inp)
        activity.logger.info(
            "application %s %s", inp.application_id, "registered" if created else "already known"
        )

    @activity.defn(name=ActivityName.PROJECT)
    async def project(self, inp: ProjectionInput) -> None:
        outcome = await store_call(self._engine, queries.apply_projection, inp)
        if not outcome.advanced and outcome.audit_added:
            # The audit row went in but the application row did not move: either the row is
            # missing (registration lost) or a later event already landed. Worth a trace, not a
            # retry: retrying cannot create the row, and the workflow is the source of truth.
            activity.logger.warning(
                "application %s: event %s (seq %d) did not advance the stored row",
                inp.application_id,
                inp.event,
                inp.seq,
            )
