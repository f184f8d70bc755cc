"""Risk look-ups behind the pre-screen, the ID check and the pre-payout check: velocity
(applications per device or phone in a window), the re-application cool-down after a
rejection, and the platform blacklist. Phones and ID numbers are compared by digest only."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlmodel import Session, col

from domain.enums import ApplicationStatus
from store.db import digest
from store.queries import insert_ignoring_conflict, utc
from store.tables import Application, BlacklistEntry


class BlacklistKind(StrEnum):
    ID_NUMBER = "id_number"
    PHONE = "phone"
    DEVICE = "device"


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
    matches = []
    if phone:
        matches.append(col(Application.phone_hash) == digest(phone))
    if id_number:
        matches.append(col(Application.id_number_hash) == digest(id_number))
    if not matches:
        return None
    stmt = select(func.max(Application.reapply_after)).where(
        or_(*matches),
        col(Application.status) == ApplicationStatus.REJECTED.value,
        col(Application.id) != exclude_id,
        col(Application.reapply_after) > on,
    )
    return session.scalar(stmt)


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
    stmt = select(BlacklistEntry.kind).where(or_(*wanted))
    return {BlacklistKind(kind) for kind in session.scalars(stmt)}
