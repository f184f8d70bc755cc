"""Ops people and revoked tokens: the store side of signing in. Password hashing and token
signing happen in `api.identity`; this module only reads and writes rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session, col, select

from domain.enums import OpsRole
from store.tables import OpsUser, RevokedToken, utcnow


class UnknownUser(LookupError):
    pass


def get_user(session: Session, username: str) -> OpsUser | None:
    return session.get(OpsUser, username)


def upsert_user(session: Session, username: str, password_hash: str, role: OpsRole) -> bool:
    """Create the user, or reset the password and role of an existing one (and re-activate it).
    True when the user is new."""
    user = session.get(OpsUser, username)
    created = user is None
    if user is None:
        user = OpsUser(username=username, password_hash=password_hash, role=role.value)
    else:
        user.password_hash, user.role, user.active = password_hash, role.value, True
        user.updated_at = utcnow()
    session.add(user)
    return created


def add_user_if_missing(session: Session, username: str, password_hash: str, role: OpsRole) -> bool:
    if session.get(OpsUser, username) is not None:
        return False
    session.add(OpsUser(username=username, password_hash=password_hash, role=role.value))
    return True


def set_active(session: Session, username: str, active: bool) -> None:
    user = session.get(OpsUser, username)
    if user is None:
        raise UnknownUser(username)
    user.active, user.updated_at = active, utcnow()
    session.add(user)


def list_users(session: Session) -> list[OpsUser]:
    return list(session.exec(select(OpsUser).order_by(col(OpsUser.username))))


def revoke_token(session: Session, jti: str, expires_at: datetime) -> None:
    if session.get(RevokedToken, jti) is None:
        session.add(RevokedToken(jti=jti, expires_at=expires_at))


def is_revoked(session: Session, jti: str) -> bool:
    return session.get(RevokedToken, jti) is not None


def purge_expired_revocations(session: Session, now: datetime | None = None) -> int:
    result = session.execute(
        delete(RevokedToken).where(col(RevokedToken.expires_at) < (now or utcnow()))
    )
    return int(getattr(result, "rowcount", 0) or 0)


def active_role(session: Session, username: str, jti: str) -> OpsRole | None:
    """The user's current role if the user is active and this token is not revoked: one read
    per ops request, so disabling a user or signing out takes effect at once."""
    user = session.get(OpsUser, username)
    if user is None or not user.active or session.get(RevokedToken, jti) is not None:
        return None
    return OpsRole(user.role)
