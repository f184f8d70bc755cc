"""Ops tools beside the review: the application list, a withdrawal on the applicant's behalf,
removal from the platform blacklist, and the funnel report (JSON and PNG chart)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import AdminPrincipal, EngineDep, InspectorPrincipal, SeniorPrincipal, WorkflowsDep
from api.errors import error_docs
from api.schemas import (
    ApplicationSummary,
    BlacklistRemoval,
    BlacklistRemoved,
    FunnelRow,
    OpsWithdrawRequest,
)
from domain.application import WithdrawInput
from domain.enums import ApplicationStatus
from domain.naming import UpdateName
from domain.status import ApplicationView
from reports import funnel as funnel_report
from store import queries, reports, screening

logger = logging.getLogger(__name__)

router = APIRouter(
    prefix="/v1/ops",
    tags=["ops"],
    responses=error_docs(
        401,
        403,
        503,
        _401="not signed in, or the session has ended",
        _503="the store or the workflow service is unavailable; try again",
    ),
)


@router.get("/applications")
async def list_applications(
    principal: InspectorPrincipal,
    engine: EngineDep,
    status: Annotated[ApplicationStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[ApplicationSummary]:
    """The newest applications first, from the store (a projection of the workflows)."""
    rows = await queries.in_thread(engine, reports.list_applications, status, limit)
    return [ApplicationSummary.model_validate(row) for row in rows]


@router.post("/applications/{application_id}/withdraw", responses=error_docs(404, 409, 503, 504))
async def withdraw_application(
    application_id: str,
    body: OpsWithdrawRequest,
    principal: SeniorPrincipal,
    workflows: WorkflowsDep,
) -> ApplicationView:
    """Withdraw on the applicant's behalf (e.g. they asked support); answers with the status
    after the step."""
    message = WithdrawInput(reason=f"ops {principal.username}: {body.reason}")
    view = await workflows.update(application_id, UpdateName.WITHDRAW, message, ApplicationView)
    logger.info("application %s withdrawn by %s", application_id, principal.username)
    return await workflows.status_after(application_id, view.status) or view


@router.post("/blacklist/remove")
async def remove_from_blacklist(
    body: BlacklistRemoval, principal: AdminPrincipal, engine: EngineDep
) -> BlacklistRemoved:
    removed = await queries.in_thread(
        engine, screening.remove_from_blacklist, body.kind, body.value
    )
    logger.info("blacklist %s entry removed by %s (%s)", body.kind, principal.username, removed)
    return BlacklistRemoved(kind=body.kind, removed=removed)


async def funnel_rows(engine: EngineDep, days: float | None) -> list[funnel_report.StageRow]:
    """The funnel of the applications created in the last `days` days (all when None)."""
    since = datetime.now(UTC) - timedelta(days=days) if days else None
    trails = await queries.in_thread(engine, reports.trails, since)
    return funnel_report.funnel(trails)


Days = Annotated[float | None, Query(gt=0, le=366, description="only the last N days")]


@router.get("/funnel")
async def funnel(
    principal: InspectorPrincipal, engine: EngineDep, days: Days = None
) -> list[FunnelRow]:
    """Per stage: entered, passed, rejected (by reason), expired, withdrawn, failed, still
    waiting, and the median time spent there (seconds)."""
    return [FunnelRow.model_validate(row.as_dict()) for row in await funnel_rows(engine, days)]


@router.get(
    "/funnel.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}}},
)
async def funnel_chart(
    principal: InspectorPrincipal, engine: EngineDep, days: Days = None
) -> Response:
    rows = await funnel_rows(engine, days)
    png = await asyncio.to_thread(funnel_report.chart_png, rows)
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})
