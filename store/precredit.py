"""Pre-approvals (预授信) in the store, a block of their own: one row per customer, product and
batch, with the policy version that scored it, the bureau report it used (reused by a later
application while fresh) and its expiry."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, col, select

from store.db import digest
from store.queries import insert_ignoring_conflict, utc
from store.tables import Application


def utcnow() -> datetime:
    return datetime.now(UTC)


class PreApproval(SQLModel, table=True):
    __tablename__ = "pre_approvals"
    __table_args__ = (UniqueConstraint("id_number_hash", "product_code", "batch_id"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: str = Field(index=True, max_length=64)
    id_number_hash: str = Field(index=True, max_length=64)
    product_code: str = Field(max_length=32)
    batch_id: str = Field(index=True, max_length=128)
    approved: bool
    credit_limit: int = 0
    grade: str | None = Field(default=None, max_length=8)
    annual_rate: float | None = None
    monthly_fee_rate: float | None = None
    apr_cap: float | None = None
    terms: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    score: int | None = None
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    policy_version: str = Field(max_length=32)
    policy_hash: str = Field(max_length=64)
    bureau: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    bureau_fetched_at: datetime
    bureau_fresh_until: datetime
    expires_at: datetime = Field(index=True)
    created_at: datetime = Field(default_factory=utcnow)


def record_pre_approval(session: Session, row: PreApproval) -> bool:
    values = row.model_dump(exclude={"id"})
    return insert_ignoring_conflict(
        session, PreApproval, values, ["id_number_hash", "product_code", "batch_id"]
    )


def record_pre_approvals(session: Session, rows: list[PreApproval]) -> int:
    return sum(record_pre_approval(session, row) for row in rows)


def valid_pre_approval(
    session: Session, id_number: str, product_code: str, now: datetime
) -> PreApproval | None:
    """The newest unexpired approval of this person for this product."""
    query = (
        select(PreApproval)
        .where(
            PreApproval.id_number_hash == digest(id_number),
            PreApproval.product_code == product_code,
            col(PreApproval.approved).is_(True),
            col(PreApproval.expires_at) > utc(now),
        )
        .order_by(col(PreApproval.created_at).desc())
    )
    return session.exec(query).first()


def pre_approval_for_application(
    session: Session, application_id: str, product_code: str, now: datetime
) -> PreApproval | None:
    app = session.get(Application, application_id)
    if app is None or app.id_number_hash is None:
        return None
    query = (
        select(PreApproval)
        .where(
            PreApproval.id_number_hash == app.id_number_hash,
            PreApproval.product_code == product_code,
            col(PreApproval.approved).is_(True),
            col(PreApproval.expires_at) > utc(now),
        )
        .order_by(col(PreApproval.created_at).desc())
    )
    return session.exec(query).first()


def fresh_bureau(session: Session, id_number: str, now: datetime) -> dict | None:
    """A bureau report a pre-approval fetched that is still within its freshness window."""
    query = (
        select(PreApproval)
        .where(
            PreApproval.id_number_hash == digest(id_number),
            col(PreApproval.bureau_fresh_until) > utc(now),
        )
        .order_by(col(PreApproval.bureau_fetched_at).desc())
    )
    row = session.exec(query).first()
    return dict(row.bureau) if row else None


def batch_counts(session: Session, batch_id: str) -> tuple[int, int]:
    rows = list(session.exec(select(PreApproval).where(PreApproval.batch_id == batch_id)))
    return len(rows), sum(1 for r in rows if r.approved)
