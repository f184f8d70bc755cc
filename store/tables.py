"""SQLModel tables of the application store. PII columns hold what the business needs;
lookups for velocity and blacklist use salted-free SHA-256 digests of normalised values."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class Application(SQLModel, table=True):
    __tablename__ = "applications"

    id: str = Field(primary_key=True, max_length=64)
    client_request_id: str = Field(index=True, max_length=128)
    product_code: str = Field(max_length=32)
    phone_hash: str = Field(index=True, max_length=64)
    phone_masked: str = Field(max_length=16)
    id_number_hash: str | None = Field(default=None, index=True, max_length=64)
    device_fingerprint: str = Field(index=True, max_length=128)
    ip: str = Field(max_length=64)
    requested_amount: int
    requested_term: int
    status: str = Field(index=True, max_length=32)
    decision_outcome: str | None = Field(default=None, max_length=16)
    risk_grade: str | None = Field(default=None, max_length=8)
    approved_limit: int | None = None
    offer: dict | None = Field(
        default=None,
        sa_column=Column(JSON, nullable=True),
        description="the offer as made (limit, terms, prices, expiry); kept once accepted",
    )
    accepted_amount: int | None = None
    accepted_term: int | None = None
    review_queue: str | None = Field(default=None, index=True, max_length=32)
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    reapply_after: date | None = None
    last_seq: int = 0
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)


class Document(SQLModel, table=True):
    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("application_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: str = Field(index=True, max_length=64)
    kind: str = Field(max_length=32)
    blob_key: str = Field(max_length=200)
    sha256: str = Field(max_length=64)
    size: int
    content_type: str = Field(max_length=64)
    uploaded_at: datetime = Field(default_factory=utcnow)


class DecisionRecord(SQLModel, table=True):
    __tablename__ = "decisions"

    id: int | None = Field(default=None, primary_key=True)
    application_id: str = Field(index=True, max_length=64)
    stage: str = Field(max_length=32, description="DECISIONING or PRE_PAYOUT_CHECK")
    outcome: str = Field(max_length=16)
    policy_version: str = Field(max_length=32)
    policy_hash: str = Field(max_length=64)
    input_snapshot: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    rules_fired: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    score: int | None = None
    grade: str | None = Field(default=None, max_length=8)
    approved_limit: int | None = None
    annual_rate: float | None = None
    monthly_fee_rate: float | None = None
    apr_cap: float | None = None
    review_queue: str | None = Field(default=None, max_length=32)
    score_points: dict | None = Field(
        default=None,
        sa_column=Column(JSON, nullable=True),
        description="scorecard points by characteristic",
    )
    duration_ms: float = 0.0
    created_at: datetime = Field(default_factory=utcnow)


class Disbursement(SQLModel, table=True):
    __tablename__ = "disbursements"

    id: int | None = Field(default=None, primary_key=True)
    application_id: str = Field(unique=True, max_length=64)
    idempotency_key: str = Field(unique=True, max_length=100)
    order_id: str = Field(max_length=64)
    amount: int
    channel: str = Field(max_length=32)
    card_last4: str = Field(max_length=4)
    status: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class AuditEvent(SQLModel, table=True):
    """Append-only trail; (application_id, seq) makes a retried append a no-op."""

    __tablename__ = "audit_events"
    __table_args__ = (UniqueConstraint("application_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: str = Field(index=True, max_length=64)
    seq: int
    event: str = Field(max_length=64)
    status: str = Field(max_length=32)
    at: datetime
    data: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class BlacklistEntry(SQLModel, table=True):
    __tablename__ = "blacklist"
    __table_args__ = (UniqueConstraint("kind", "value_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16, description="id_number, phone or device")
    value_hash: str = Field(max_length=64)
    reason: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class OpsUser(SQLModel, table=True):
    """A person who signs in to ops: reviewers, seniors, admins, engineers."""

    __tablename__ = "ops_users"

    username: str = Field(primary_key=True, max_length=64)
    password_hash: str = Field(max_length=256)
    role: str = Field(max_length=16)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class RevokedToken(SQLModel, table=True):
    """Signed tokens revoked before they expire (sign-out); a row can go once `expires_at` has
    passed, since the token is refused then anyway."""

    __tablename__ = "revoked_tokens"

    jti: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = Field(index=True)
    revoked_at: datetime = Field(default_factory=utcnow)
