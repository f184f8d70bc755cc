"""Retention of personal data for ended applications (`python -m workers.retention`).

Once an application has ended (REJECTED, EXPIRED, CANCELLED, FAILED) and its retention period
has passed, its identity documents (ID card sides, selfie, liveness video, the identity vendor's
reference portrait) are deleted from the blob store, their rows removed, and the application row
anonymised (masked phone, device, IP and client request id cleared). A DISBURSED application is
a loan: its documents are kept for the longer period customer-due-diligence rules require.
Signed contracts are kept (they are the loan's legal record). Hashes used by the blacklist,
velocity and cool-down checks stay: they hold no readable personal data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, select

from domain.enums import ApplicationStatus, DocumentKind
from store.queries import insert_ignoring_conflict, utc
from store.tables import Application, AuditEvent, Document

IDENTITY_DOCUMENTS = frozenset(
    {
        DocumentKind.ID_FRONT,
        DocumentKind.ID_BACK,
        DocumentKind.SELFIE,
        DocumentKind.LIVENESS_VIDEO,
        DocumentKind.REFERENCE_PORTRAIT,
    }
)
NOT_DISBURSED_ENDS = frozenset(
    {
        ApplicationStatus.REJECTED,
        ApplicationStatus.EXPIRED,
        ApplicationStatus.CANCELLED,
        ApplicationStatus.FAILED,
    }
)
PURGED = "[purged]"
# Above any sequence number a workflow writes: the purge is one more audit event.
RETENTION_SEQ = 1_000_000_000


@dataclass
class RetentionReport:
    applications: list[str] = field(default_factory=list)
    blobs_deleted: int = 0


def due_for_purge(
    session: Session, now: datetime, ended_days: int, disbursed_days: int, limit: int = 500
) -> list[str]:
    """Ended applications past their period that still hold identity documents or personal
    fields."""
    ended_before = utc(now) - timedelta(days=ended_days)
    disbursed_before = utc(now) - timedelta(days=disbursed_days)
    stmt = (
        select(Application.id)
        .where(col(Application.client_request_id) != PURGED)
        .where(
            (
                col(Application.status).in_([s.value for s in NOT_DISBURSED_ENDS])
                & (col(Application.updated_at) < ended_before)
            )
            | (
                (col(Application.status) == ApplicationStatus.DISBURSED.value)
                & (col(Application.updated_at) < disbursed_before)
            )
        )
        .limit(limit)
    )
    return list(session.scalars(stmt))


def purge_application(
    session: Session, application_id: str, delete_blob: Callable[[str], bool], now: datetime
) -> int:
    """Delete the identity documents (blobs first, so a crash leaves rows to retry from) and
    anonymise the row; returns how many blobs were deleted."""
    rows = session.scalars(
        select(Document)
        .where(col(Document.application_id) == application_id)
        .where(col(Document.kind).in_([k.value for k in IDENTITY_DOCUMENTS]))
    ).all()
    deleted = sum(1 for row in rows if delete_blob(row.blob_key))
    session.execute(delete(Document).where(col(Document.id).in_([row.id for row in rows])))
    application = session.get(Application, application_id)
    if application is not None:
        application.client_request_id = PURGED
        application.phone_masked = PURGED
        application.device_fingerprint = PURGED
        application.ip = ""
        session.add(application)
    insert_ignoring_conflict(
        session,
        AuditEvent,
        {
            "application_id": application_id,
            "seq": RETENTION_SEQ,
            "event": "RETENTION_PURGED",
            "status": application.status if application else "UNKNOWN",
            "at": utc(now),
            "data": {"documents_deleted": len(rows)},
        },
        ["application_id", "seq"],
    )
    return deleted
