"""Credit lines in the store, a block of their own: one projection row per line (lists and
ops read it; live state comes from the workflow's query) and the append-only audit trail of
every change to a line (limit, status, draws, repayments, policy and operator actions)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from domain.line_messages import LineEventInput
from domain.lines import LineStatus
from store.queries import insert_ignoring_conflict, utc

LIVE_STATUSES = (LineStatus.ACTIVE.value, LineStatus.FROZEN.value)


def utcnow() -> datetime:
    return datetime.now(UTC)


class CreditLine(SQLModel, table=True):
    __tablename__ = "credit_lines"

    id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(index=True, max_length=64)
    product_code: str = Field(max_length=32)
    status: str = Field(index=True, max_length=16)
    credit_limit: int
    available: int
    outstanding_principal: int
    overdue_days: int = Field(default=0, index=True)
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    expires_at: datetime
    last_seq: int = 0
    updated_at: datetime = Field(default_factory=utcnow)


class LineEvent(SQLModel, table=True):
    __tablename__ = "line_events"
    __table_args__ = (UniqueConstraint("line_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    line_id: str = Field(index=True, max_length=64)
    seq: int
    event: str = Field(max_length=48)
    actor: str = Field(max_length=64)
    status: str = Field(max_length=16)
    credit_limit: int
    available: int
    outstanding_principal: int
    overdue_days: int
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    data: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime


def record_line_event(session: Session, inp: LineEventInput) -> bool:
    """Append the event (once per seq) and move the projection forward; False on a repeat."""
    added = insert_ignoring_conflict(
        session,
        LineEvent,
        {
            "line_id": inp.line_id,
            "seq": inp.seq,
            "event": inp.event,
            "actor": inp.actor,
            "status": inp.status,
            "credit_limit": inp.limit,
            "available": inp.available,
            "outstanding_principal": inp.outstanding_principal,
            "overdue_days": inp.overdue_days,
            "reasons": [str(r) for r in inp.reasons],
            "data": dict(inp.data),
            "at": utc(inp.at),
        },
        ["line_id", "seq"],
    )
    row = session.get(CreditLine, inp.line_id, with_for_update=True)
    if row is None:
        # The line's first events can be recorded concurrently (its opening and a first draw):
        # one creates the row, the other finds it, instead of failing on the key and retrying.
        try:
            with session.begin_nested():
                session.add(
                    CreditLine(
                        id=inp.line_id,
                        customer_id=inp.customer_id,
                        product_code=inp.product_code,
                        status=inp.status,
                        credit_limit=inp.limit,
                        available=inp.available,
                        outstanding_principal=inp.outstanding_principal,
                        expires_at=utc(inp.expires_at),
                    )
                )
        except IntegrityError:
            pass
        row = session.get(CreditLine, inp.line_id, with_for_update=True, populate_existing=True)
        assert row is not None
    if inp.seq >= row.last_seq:
        row.status, row.credit_limit, row.available = inp.status, inp.limit, inp.available
        row.outstanding_principal, row.overdue_days = inp.outstanding_principal, inp.overdue_days
        row.reasons, row.last_seq, row.updated_at = [str(r) for r in inp.reasons], inp.seq, utcnow()
    session.add(row)
    return added


def get_line(session: Session, line_id: str) -> CreditLine | None:
    return session.get(CreditLine, line_id)


def list_line_events(session: Session, line_id: str) -> list[LineEvent]:
    query = select(LineEvent).where(LineEvent.line_id == line_id).order_by(col(LineEvent.seq))
    return list(session.exec(query))


def live_lines_of_customer(session: Session, customer_id: str) -> list[str]:
    """Ids of the customer's lines that a behaviour signal can still change."""
    query = select(CreditLine.id).where(
        CreditLine.customer_id == customer_id, col(CreditLine.status).in_(LIVE_STATUSES)
    )
    return list(session.exec(query))
