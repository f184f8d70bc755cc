"""Ops: the second-review queue, the full evidence of one application, review outcomes and the
platform blacklist. Every route needs a sign-in: reading for any ops role, review outcomes for a
reviewer (a senior for an escalated review), the blacklist for an admin."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import (
    AdminPrincipal,
    EngineDep,
    InspectorPrincipal,
    OpsPrincipal,
    ReviewerPrincipal,
    WorkflowsDep,
)
from api.errors import Forbidden, NotFound, error_docs
from api.schemas import (
    ApplicationRecord,
    AuditOut,
    BlacklistRequest,
    BlacklistResponse,
    DecisionRecordOut,
    DisbursementOut,
    DocumentRecord,
    EvidenceResponse,
    ReviewItem,
    ReviewRequest,
)
from domain.decision import ReviewInput, ReviewResult
from domain.enums import OpsRole
from domain.naming import UpdateName
from store import queries, reports, screening

logger = logging.getLogger(__name__)

router = APIRouter(
    prefix="/v1/ops",
    tags=["ops"],
    responses=error_docs(
        401,
        403,
        422,
        503,
        _401="not signed in, or the session has ended",
        _403="the role does not allow this",
        _503="the store or the workflow service is unavailable; try again",
    ),
)

ESCALATED_SUFFIX = "_ESCALATED"


@router.get("/reviews")
async def list_reviews(
    principal: InspectorPrincipal,
    engine: EngineDep,
    queue: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ReviewItem]:
    """The queue, the oldest SLA deadline first; escalated cases are marked."""
    rows = await queries.in_thread(engine, reports.review_queue, queue, limit)
    return [
        ReviewItem.model_validate(row.application).model_copy(
            update={
                "opened_at": row.opened_at,
                "sla_deadline": row.sla_deadline,
                "escalated": row.escalated,
            }
        )
        for row in rows
    ]


@router.get("/applications/{application_id}", responses=error_docs(404))
async def get_evidence(
    application_id: str, principal: InspectorPrincipal, engine: EngineDep, workflows: WorkflowsDep
) -> EvidenceResponse:
    bundle = await queries.in_thread(engine, queries.evidence_bundle, application_id)
    live = await workflows.status_or_none(application_id)
    if bundle is None:
        if live is None:
            raise NotFound("no such application")
        return EvidenceResponse(
            application=None, documents=[], decisions=[], disbursement=None, audit=[], live=live
        )
    disbursement = bundle.disbursement
    return EvidenceResponse(
        application=ApplicationRecord.model_validate(bundle.application),
        documents=[DocumentRecord.model_validate(d) for d in bundle.documents],
        decisions=[DecisionRecordOut.model_validate(d) for d in bundle.decisions],
        disbursement=DisbursementOut.model_validate(disbursement) if disbursement else None,
        audit=[AuditOut.model_validate(e) for e in bundle.audit],
        live=live,
    )


@router.post(
    "/reviews/{application_id}",
    responses=error_docs(
        404, 409, 503, 504, _409="not in review, or this review round is already decided"
    ),
)
async def record_review(
    application_id: str,
    body: ReviewRequest,
    principal: ReviewerPrincipal,
    engine: EngineDep,
    workflows: WorkflowsDep,
) -> ReviewResult:
    """The reviewer recorded in the workflow and the audit trail is the signed-in person.
    Answers with the application's status after the outcome (`OFFERED`, `REJECTED`, or
    `AWAITING_DOCUMENTS` when more information is asked for)."""
    return await review_as(application_id, body, principal, engine, workflows)


async def review_as(
    application_id: str,
    body: ReviewRequest,
    principal: OpsPrincipal,
    engine: EngineDep,
    workflows: WorkflowsDep,
) -> ReviewResult:
    """Record an outcome as `principal` (the ops API and the review console)."""
    row = await queries.in_thread(engine, queries.get_application, application_id)
    queue = row.review_queue if row is not None else None
    if queue and queue.endswith(ESCALATED_SUFFIX) and not principal.role.grants(OpsRole.SENIOR):
        raise Forbidden("an escalated review needs a senior reviewer")
    message = ReviewInput(
        reviewer=principal.username,
        outcome=body.outcome,
        approved_limit=body.approved_limit,
        reason_code=body.reason_code,
        note=body.note,
    )
    result = await workflows.update(application_id, UpdateName.RECORD_REVIEW, message, ReviewResult)
    after = await workflows.status_after(application_id, result.status)
    return ReviewResult(status=after.status) if after else result


@router.post("/blacklist", status_code=201)
async def add_to_blacklist(
    body: BlacklistRequest, principal: AdminPrincipal, engine: EngineDep
) -> BlacklistResponse:
    added = await queries.in_thread(
        engine, screening.add_to_blacklist, body.kind, body.value, body.reason
    )
    logger.info("blacklist %s entry added by %s (new: %s)", body.kind, principal.username, added)
    return BlacklistResponse(kind=body.kind, added=added)
