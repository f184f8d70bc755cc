"""Platform signals of the pre-screen and the ID check, read from the application store:
rejections that open the re-application window, and how many phones, devices and ID numbers
have been seen together (several accounts per ID, device changes, shared devices)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlmodel import Session, col

from domain.enums import ApplicationStatus
from domain.reasons import CREDIT_REASONS
from store.db import digest
from store.queries import utc
from store.tables import Application

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
    matches = []
    if phone:
        matches.append(col(Application.phone_hash) == digest(phone))
    if id_number:
        matches.append(col(Application.id_number_hash) == digest(id_number))
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


def days_until(day: date | None, on: date) -> int:
    return max(0, (day - on).days) if day is not None else 0
