"""Risk signals read from the application store for the pre-screen, the ID check and the
pre-payout check: velocity (applications per device or phone in a window), the re-application
cool-down and the latest credit rejection, how many phones, devices and ID numbers have been seen
together (several accounts per ID, device changes, shared devices), and the platform blacklist.
Phones and ID numbers are compared by digest only."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlmodel import Session, col

from domain.enums import ApplicationStatus, BlacklistKind
from domain.reasons import CREDIT_REASONS
from store.db import digest
from store.queries import insert_ignoring_conflict, utc
from store.tables import Application, BlacklistEntry

# ---------------------------------------------------------------- velocity and cool-down


def _count_recent(
    session: Session, column: Any, value: str, since: datetime, until: datetime, exclude_id: str
) -> int:
    stmt = select(func.count()).where(
        column == value,
        col(Application.id) != exclude_id,
        col(Application.created_at) >= utc(since),
        col(Application.created_at) <= utc(until),
    )
    return int(session.scalar(stmt) or 0)


def count_recent_by_device(
    session: Session, fingerprint: str, since: datetime, until: datetime, exclude_id: str
) -> int:
    """Applications from this device submitted in [since, until], other than `exclude_id`."""
    return _count_recent(
        session, col(Application.device_fingerprint), fingerprint, since, until, exclude_id
    )


def count_recent_by_phone(
    session: Session, phone: str, since: datetime, until: datetime, exclude_id: str
) -> int:
    """Applications for this phone submitted in [since, until], other than `exclude_id`."""
    return _count_recent(
        session, col(Application.phone_hash), digest(phone), since, until, exclude_id
    )


def active_cool_down(
    session: Session,
    *,
    on: date,
    exclude_id: str,
    phone: str | None = None,
    id_number: str | None = None,
) -> date | None:
    """The latest re-application date still ahead of `on`, over rejected applications for this
    phone or ID number; None when the applicant may apply."""
    matches = _same_person(phone, id_number)
    if not matches:
        return None
    stmt = select(func.max(Application.reapply_after)).where(
        or_(*matches),
        col(Application.status) == ApplicationStatus.REJECTED.value,
        col(Application.id) != exclude_id,
        col(Application.reapply_after) > on,
    )
    return session.scalar(stmt)


def _same_person(phone: str | None, id_number: str | None) -> list[Any]:
    """Conditions matching applications of this phone or this ID number (by digest)."""
    matches = []
    if phone:
        matches.append(col(Application.phone_hash) == digest(phone))
    if id_number:
        matches.append(col(Application.id_number_hash) == digest(id_number))
    return matches


# ---------------------------------------------------------------- accounts and rejections

REJECTION_LOOKBACK = timedelta(days=365)


def days_since_credit_rejection(
    session: Session,
    *,
    at: datetime,
    exclude_id: str,
    phone: str | None = None,
    id_number: str | None = None,
) -> int | None:
    """Days since the latest rejection for a credit reason of this phone or ID number within a
    year; None when there is none."""
    matches = _same_person(phone, id_number)
    if not matches:
        return None
    stmt = select(col(Application.updated_at), col(Application.reasons)).where(
        or_(*matches),
        col(Application.status) == ApplicationStatus.REJECTED.value,
        col(Application.id) != exclude_id,
        col(Application.updated_at) >= utc(at - REJECTION_LOOKBACK),
    )
    credit = {c.value for c in CREDIT_REASONS}
    days = [
        (at.date() - utc(updated).date()).days
        for updated, reasons in session.execute(stmt)
        if credit.intersection(reasons or [])
    ]
    return max(0, min(days)) if days else None


def _distinct(session: Session, column: Any, where: Any, since: datetime) -> set[str]:
    stmt = select(column).where(where, col(Application.created_at) >= utc(since)).distinct()
    return {str(v) for v in session.scalars(stmt) if v}


def phones_per_id(session: Session, id_number: str, phone: str, since: datetime) -> int:
    """Distinct phones that applied with this ID number since `since`, this one included."""
    seen = _distinct(
        session,
        col(Application.phone_hash),
        col(Application.id_number_hash) == digest(id_number),
        since,
    )
    return len(seen | {digest(phone)})


def devices_per_id(session: Session, id_number: str, device: str, since: datetime) -> int:
    """Distinct devices this ID number applied from since `since`, this one included."""
    seen = _distinct(
        session,
        col(Application.device_fingerprint),
        col(Application.id_number_hash) == digest(id_number),
        since,
    )
    return len(seen | {device})


def ids_per_device(session: Session, device: str, id_number: str, since: datetime) -> int:
    """Distinct ID numbers seen on this device since `since`, this one included."""
    seen = _distinct(
        session,
        col(Application.id_number_hash),
        col(Application.device_fingerprint) == device,
        since,
    )
    return len(seen | {digest(id_number)})


# ---------------------------------------------------------------- blacklist


def add_to_blacklist(session: Session, kind: BlacklistKind, value: str, reason: str = "") -> bool:
    """True when the entry is new; the list keeps only the digest of the value."""
    return insert_ignoring_conflict(
        session,
        BlacklistEntry,
        {
            "kind": kind.value,
            "value_hash": digest(value),
            "reason": reason[:200],
            "created_at": datetime.now(UTC),
        },
        ["kind", "value_hash"],
    )


def remove_from_blacklist(session: Session, kind: BlacklistKind, value: str) -> bool:
    """True when the entry was listed (and is now removed)."""
    stmt = select(BlacklistEntry).where(
        col(BlacklistEntry.kind) == kind.value, col(BlacklistEntry.value_hash) == digest(value)
    )
    entry = session.scalars(stmt).first()
    if entry is None:
        return False
    session.delete(entry)
    return True


def blacklist_hits(session: Session, values: Mapping[BlacklistKind, str]) -> set[BlacklistKind]:
    """Which of the given identifiers are on the blacklist (empty values are skipped)."""
    wanted = [
        and_(col(BlacklistEntry.kind) == kind.value, col(BlacklistEntry.value_hash) == digest(v))
        for kind, v in values.items()
        if v
    ]
    if not wanted:
        return set()
    stmt = select(col(BlacklistEntry.kind)).where(or_(*wanted))
    return {BlacklistKind(kind) for kind in session.scalars(stmt)}
