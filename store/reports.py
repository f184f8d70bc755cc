"""Read-only queries for operations: the review queue with each case's SLA deadline, the
application list, and the audit trails the funnel report is computed from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from domain.enums import ApplicationStatus
from domain.products import PRODUCTS
from store.tables import Application, AuditEvent

REVIEW_OPENED = "REVIEW_OPENED"
ESCALATED_SUFFIX = "_ESCALATED"


@dataclass(frozen=True)
class QueuedReview:
    application: Application
    opened_at: datetime
    sla_deadline: datetime

    @property
    def escalated(self) -> bool:
        return (self.application.review_queue or "").endswith(ESCALATED_SUFFIX)


def review_queue(
    session: Session, queue: str | None = None, limit: int = 100
) -> list[QueuedReview]:
    """Applications waiting for a reviewer, the oldest SLA deadline first. The deadline is the
    latest review round's opening plus the product's review SLA."""
    opened = (
        select(AuditEvent.application_id, func.max(AuditEvent.at).label("opened_at"))
        .where(col(AuditEvent.event) == REVIEW_OPENED)
        .group_by(col(AuditEvent.application_id))
        .subquery()
    )
    stmt = (
        select(Application, opened.c.opened_at)
        .join(opened, opened.c.application_id == Application.id, isouter=True)
        .where(col(Application.status) == ApplicationStatus.MANUAL_REVIEW.value)
    )
    if queue:
        stmt = stmt.where(col(Application.review_queue) == queue)
    rows = []
    for application, opened_at in session.exec(stmt):  # type: ignore[call-overload]
        at = _aware(opened_at or application.updated_at)
        product = PRODUCTS.get(application.product_code)
        sla = product.timeouts.review_sla if product else timedelta(hours=4)
        rows.append(QueuedReview(application, at, at + sla))
    rows.sort(key=lambda r: (r.sla_deadline, r.application.id))
    return rows[:limit]


def list_applications(
    session: Session, status: str | None = None, limit: int = 100
) -> list[Application]:
    """The newest applications first, optionally of one status."""
    stmt = select(Application)
    if status:
        stmt = stmt.where(col(Application.status) == status)
    stmt = stmt.order_by(col(Application.created_at).desc(), col(Application.id)).limit(limit)
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class Trail:
    application_id: str
    reasons: list[str]
    steps: list[tuple[str, datetime]]
    """(status, when it was entered), consecutive duplicates removed, in order."""


def trails(session: Session, since: datetime | None = None) -> list[Trail]:
    """Every application's path through the statuses, from its audit trail."""
    apps = select(Application)
    if since is not None:
        apps = apps.where(col(Application.created_at) >= since)
    applications = {a.id: a for a in session.scalars(apps)}
    events = select(AuditEvent).order_by(col(AuditEvent.application_id), col(AuditEvent.seq))
    if since is not None:
        events = events.where(col(AuditEvent.application_id).in_(list(applications)))
    steps: dict[str, list[tuple[str, datetime]]] = {}
    for event in session.scalars(events):
        if event.application_id not in applications:
            continue
        path = steps.setdefault(event.application_id, [])
        if not path or path[-1][0] != event.status:
            path.append((event.status, _aware(event.at)))
    return [
        Trail(app_id, list(applications[app_id].reasons), path) for app_id, path in steps.items()
    ]


def _aware(at: datetime) -> datetime:
    # SQLite returns naive datetimes; every time the store writes is UTC.
    return at if at.tzinfo else at.replace(tzinfo=UTC)
