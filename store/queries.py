"""Small query functions over the application store: the projection written by activities,
documents, decisions, disbursements, the review queue and the ops evidence. The risk look-ups
(velocity, cool-down, blacklist) are in `store.screening`.

Every function takes an open Session and leaves the commit to its caller (`in_session`), so one
unit of work can combine several. Conflicts are settled by the database with
INSERT ... ON CONFLICT, which SQLite and PostgreSQL both support, so a retried activity or two
racing writers never produce duplicates.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Connection, Engine, literal_column, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from domain.application import StartApplicationInput
from domain.enums import ApplicationStatus, DocumentKind, PayoutStatus
from domain.identity import DocumentRef
from domain.idnumber import mask_phone
from domain.payout import DisbursementRecord
from domain.status import ProjectionInput
from store.db import digest
from store.tables import Application, AuditEvent, DecisionRecord, Disbursement, Document

P = ParamSpec("P")
T = TypeVar("T")


# ---------------------------------------------------------------- sessions


def in_session(
    engine: Engine, fn: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """Run one unit of work and commit it. Rows returned stay readable after the session closes
    (no expiry on commit), so callers can hand them to response models."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            result = fn(session, *args, **kwargs)
            session.commit()
        except Exception:
            session.rollback()
            raise
        return result


async def in_thread(
    engine: Engine, fn: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """`in_session` off the event loop: the drivers are blocking, the API and activities async."""
    return await asyncio.to_thread(lambda: in_session(engine, fn, *args, **kwargs))


def utc(value: datetime) -> datetime:
    """Aware UTC, which the timestamp columns require; a naive value is taken as UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _insert(session: Session, model: Any) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(f"the store supports SQLite and PostgreSQL, not {dialect}")


def insert_ignoring_conflict(
    session: Session, model: Any, values: Mapping[str, Any], conflict: list[str]
) -> bool:
    """Insert unless a row with the same conflict key exists; True when a row was added.

    RETURNING tells the two apart: rowcount is not reliable for this statement on psycopg."""
    stmt = (
        _insert(session, model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=conflict)
        .returning(literal_column("1"))
    )
    return session.execute(stmt).first() is not None


# ---------------------------------------------------------------- applications and projection


def register_application(session: Session, inp: StartApplicationInput) -> bool:
    """Insert the application row once; a retry never resets a row a projection has moved on."""
    at = utc(inp.submitted_at)
    return insert_ignoring_conflict(
        session,
        Application,
        {
            "id": inp.application_id,
            "client_request_id": inp.client_request_id,
            "product_code": inp.product.code,
            "phone_hash": digest(inp.phone),
            "phone_masked": mask_phone(inp.phone),
            "device_fingerprint": inp.device.fingerprint,
            "ip": inp.device.ip,
            "requested_amount": inp.requested_amount,
            "requested_term": inp.requested_term,
            "status": ApplicationStatus.SUBMITTED.value,
            "reasons": [],
            "last_seq": 0,
            "created_at": at,
            "updated_at": at,
        },
        ["id"],
    )


def get_application(session: Session, application_id: str) -> Application | None:
    return session.get(Application, application_id)


def last_seqs(db: Session | Connection, application_ids: list[str]) -> dict[str, int]:
    """Each stored application's last projected sequence number, by id; on a bare connection
    too, a third of a session's cost for a watcher that asks twenty times a second."""
    stmt = select(col(Application.id), col(Application.last_seq)).where(
        col(Application.id).in_(application_ids)
    )
    return {row.id: row.last_seq for row in db.execute(stmt)}


@dataclass(frozen=True)
class ProjectionOutcome:
    audit_added: bool
    advanced: bool


def _audit_data(inp: ProjectionInput) -> dict[str, Any]:
    data: dict[str, Any] = dict(inp.data)
    extra = {
        "decision_outcome": inp.decision_outcome,
        "risk_grade": inp.risk_grade,
        "approved_limit": inp.approved_limit,
        "review_queue": inp.review_queue,
        "reapply_after": inp.reapply_after.isoformat() if inp.reapply_after else None,
    }
    data.update({k: v for k, v in extra.items() if v is not None})
    if inp.reasons:
        data["reasons"] = [r.value for r in inp.reasons]
    return data


def apply_projection(session: Session, inp: ProjectionInput) -> ProjectionOutcome:
    """Append the audit event and move the application row to this stage.

    (application_id, seq) is unique, so a retried activity appends nothing. The row only moves
    forward: an event older than `last_seq` (a late retry) leaves the current state alone.
    Fields left None keep their stored value (a known fact is never erased), except the review
    queue, which only holds while the application is in MANUAL_REVIEW.
    """
    at = utc(inp.at)
    audit_added = insert_ignoring_conflict(
        session,
        AuditEvent,
        {
            "application_id": inp.application_id,
            "seq": inp.seq,
            "event": inp.event,
            "status": inp.status.value,
            "at": at,
            "data": _audit_data(inp),
        },
        ["application_id", "seq"],
    )
    values: dict[str, Any] = {
        "status": inp.status.value,
        "last_seq": inp.seq,
        "updated_at": at,
        # The queue names where the application waits now; leaving review empties it.
        "review_queue": inp.review_queue if inp.status == ApplicationStatus.MANUAL_REVIEW else None,
    }
    optional = {
        "decision_outcome": inp.decision_outcome.value if inp.decision_outcome else None,
        "risk_grade": inp.risk_grade,
        "approved_limit": inp.approved_limit,
        "offer": inp.offer.model_dump(mode="json") if inp.offer else None,
        "accepted_amount": inp.accepted_amount,
        "accepted_term": inp.accepted_term,
        "reapply_after": inp.reapply_after,
        "id_number_hash": digest(inp.id_number) if inp.id_number else None,
    }
    values.update({k: v for k, v in optional.items() if v is not None})
    if inp.reasons:
        values["reasons"] = [r.value for r in inp.reasons]
    stmt = (
        update(Application)
        .where(col(Application.id) == inp.application_id, col(Application.last_seq) < inp.seq)
        .values(**values)
        .returning(col(Application.id))
        .execution_options(synchronize_session=False)
    )
    advanced = session.execute(stmt).first() is not None
    return ProjectionOutcome(audit_added=audit_added, advanced=advanced)


# ---------------------------------------------------------------- documents


def upsert_document(session: Session, application_id: str, ref: DocumentRef) -> None:
    """One row per (application, kind): a re-upload replaces the earlier file's reference."""
    values = {
        "blob_key": ref.blob_key,
        "sha256": ref.sha256,
        "size": ref.size,
        "content_type": ref.content_type,
        "uploaded_at": datetime.now(UTC),
    }
    stmt = (
        _insert(session, Document)
        .values(application_id=application_id, kind=ref.kind.value, **values)
        .on_conflict_do_update(index_elements=["application_id", "kind"], set_=values)
    )
    session.execute(stmt)


def list_documents(session: Session, application_id: str) -> list[Document]:
    stmt = (
        select(Document)
        .where(col(Document.application_id) == application_id)
        .order_by(col(Document.kind))
    )
    return list(session.scalars(stmt))


def document_refs(session: Session, application_id: str) -> dict[DocumentKind, DocumentRef]:
    return {
        DocumentKind(row.kind): DocumentRef(
            kind=DocumentKind(row.kind),
            blob_key=row.blob_key,
            sha256=row.sha256,
            size=row.size,
            content_type=row.content_type,
        )
        for row in list_documents(session, application_id)
    }


# ---------------------------------------------------------------- decisions and disbursements


def record_decision(
    session: Session, record: DecisionRecord, match_keys: Iterable[str] | None = None
) -> bool:
    """Insert a decision unless this stage already holds one for the same input.

    The same input means an identical `input_snapshot`, or identical values under `match_keys`
    when part of the snapshot is gathered during the attempt (a re-fetched report). The
    application row is locked first (PostgreSQL; SQLite serialises writers) so two attempts of
    one activity cannot both insert. Returns True when a record was added.
    """
    session.execute(
        select(col(Application.id))
        .where(col(Application.id) == record.application_id)
        .with_for_update()
    )
    keys = list(match_keys) if match_keys is not None else None

    def same(existing: dict[str, Any]) -> bool:
        if keys is None:
            return existing == record.input_snapshot
        return all(existing.get(k) == record.input_snapshot.get(k) for k in keys)

    stmt = select(col(DecisionRecord.input_snapshot)).where(
        col(DecisionRecord.application_id) == record.application_id,
        col(DecisionRecord.stage) == record.stage,
    )
    if any(same(snapshot) for snapshot in session.scalars(stmt)):
        return False
    record.created_at = utc(record.created_at)
    session.add(record)
    session.flush()
    return True


def list_decisions(session: Session, application_id: str) -> list[DecisionRecord]:
    stmt = (
        select(DecisionRecord)
        .where(col(DecisionRecord.application_id) == application_id)
        .order_by(col(DecisionRecord.created_at), col(DecisionRecord.id))
    )
    return list(session.scalars(stmt))


def decision_records(
    session: Session, since: date | None = None, until: date | None = None, limit: int | None = None
) -> list[DecisionRecord]:
    """Stage-5 decisions, oldest first, created in [since, until)."""
    stmt = select(DecisionRecord).where(
        col(DecisionRecord.stage) == ApplicationStatus.DECISIONING.value
    )
    if since is not None:
        stmt = stmt.where(col(DecisionRecord.created_at) >= utc(datetime.combine(since, time())))
    if until is not None:
        stmt = stmt.where(col(DecisionRecord.created_at) < utc(datetime.combine(until, time())))
    stmt = stmt.order_by(col(DecisionRecord.created_at), col(DecisionRecord.id))
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def record_disbursement(session: Session, rec: DisbursementRecord) -> None:
    """One row per application (the idempotency key is derived from it); later gateway states
    overwrite earlier ones, except that a success only ever gives way to its return: a late,
    out-of-order write must not hide money that has left."""
    now = datetime.now(UTC)
    changes = {
        "order_id": rec.order_id,
        "amount": rec.amount,
        "channel": rec.channel,
        "card_last4": rec.card_last4,
        "status": rec.status.value,
        "updated_at": now,
    }
    insert = _insert(session, Disbursement).values(
        application_id=rec.application_id,
        idempotency_key=rec.idempotency_key,
        created_at=now,
        **changes,
    )
    stored = col(Disbursement.status)
    stmt = insert.on_conflict_do_update(
        index_elements=["application_id"],
        set_=changes,
        where=or_(
            stored != PayoutStatus.SUCCEEDED.value,
            insert.excluded.status == PayoutStatus.RETURNED.value,
        ),
    )
    session.execute(stmt)


def mark_disbursement_returned(session: Session, idempotency_key: str, order_id: str) -> bool:
    """A success the bank sent back after the payout workflow finished: the row shows RETURNED
    so ops see money that did not arrive. False when there was no such success."""
    row = get_disbursement_by_key(session, idempotency_key)
    if row is None or row.order_id != order_id or row.status != PayoutStatus.SUCCEEDED.value:
        return False
    row.status = PayoutStatus.RETURNED.value
    row.updated_at = datetime.now(UTC)
    session.add(row)
    return True


def get_disbursement(session: Session, application_id: str) -> Disbursement | None:
    stmt = select(Disbursement).where(col(Disbursement.application_id) == application_id)
    return session.scalars(stmt).first()


def get_disbursement_by_key(session: Session, idempotency_key: str) -> Disbursement | None:
    stmt = select(Disbursement).where(col(Disbursement.idempotency_key) == idempotency_key)
    return session.scalars(stmt).first()


# ---------------------------------------------------------------- ops


def list_reviews(session: Session, queue: str | None = None, limit: int = 100) -> list[Application]:
    """Applications waiting for a reviewer, longest waiting first."""
    stmt = select(Application).where(
        col(Application.status) == ApplicationStatus.MANUAL_REVIEW.value
    )
    if queue:
        stmt = stmt.where(col(Application.review_queue) == queue)
    stmt = stmt.order_by(col(Application.updated_at), col(Application.id)).limit(limit)
    return list(session.scalars(stmt))


def list_audit(session: Session, application_id: str) -> list[AuditEvent]:
    stmt = (
        select(AuditEvent)
        .where(col(AuditEvent.application_id) == application_id)
        .order_by(col(AuditEvent.seq))
    )
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class EvidenceBundle:
    application: Application
    documents: list[Document]
    decisions: list[DecisionRecord]
    disbursement: Disbursement | None
    audit: list[AuditEvent]


def evidence_bundle(session: Session, application_id: str) -> EvidenceBundle | None:
    """Everything the store knows about one application, for an ops reviewer."""
    application = get_application(session, application_id)
    if application is None:
        return None
    return EvidenceBundle(
        application=application,
        documents=list_documents(session, application_id),
        decisions=list_decisions(session, application_id),
        disbursement=get_disbursement(session, application_id),
        audit=list_audit(session, application_id),
    )
