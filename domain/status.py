"""What the store and the `status` query show of an application.

One input and one result model per workflow, update, signal and activity. Money is integer
fen; times are timezone-aware UTC."""

from __future__ import annotations

from datetime import date, datetime
from typing import TypedDict

from pydantic import AliasChoices, BaseModel, Field

from domain.decision import Offer
from domain.enums import (
    ApplicationStatus,
    DecisionOutcome,
    NextAction,
)
from domain.identity import LivenessChallenge
from domain.pricing import Schedule
from domain.reasons import ApplicantReason, ReasonCode


class ProjectionInput(BaseModel):
    """One stage change, written to the application store and the audit trail."""

    application_id: str
    seq: int = Field(description="per-workflow counter: makes the audit append idempotent")
    status: ApplicationStatus
    event: str
    at: datetime
    decision_outcome: DecisionOutcome | None = None
    risk_grade: str | None = None
    approved_limit: int | None = None
    offer: Offer | None = None
    accepted_amount: int | None = None
    accepted_term: int | None = None
    review_queue: str | None = None
    reasons: list[ReasonCode] = []
    reapply_after: date | None = None
    id_number: str | None = Field(default=None, description="stored as a digest for look-ups")
    data: dict[str, str | int | float | bool | None] = {}


class StageFields(TypedDict, total=False):
    """What a stage change may add to its `ProjectionInput`, beyond the workflow's own id,
    counter, status, event and time (mypy checks the workflow's keyword arguments with it)."""

    decision_outcome: DecisionOutcome | None
    risk_grade: str | None
    approved_limit: int | None
    offer: Offer | None
    accepted_amount: int | None
    accepted_term: int | None
    review_queue: str | None
    reasons: list[ReasonCode]
    reapply_after: date | None
    id_number: str | None
    data: dict[str, str | int | float | bool | None]


class ApplicationView(BaseModel):
    """The `status` query: what the applicant and ops see of the live workflow."""

    application_id: str
    status: ApplicationStatus
    next_action: NextAction
    deadline: datetime | None = None
    liveness_challenge: LivenessChallenge | None = None
    carrier_attempts_left: int | None = None
    esign_attempts_left: int | None = None
    decision_outcome: DecisionOutcome | None = None
    offer: Offer | None = None
    accepted_amount: int | None = None
    # `accepted_term` from a worker still running the release before this name
    accepted_term_months: int | None = Field(
        default=None, validation_alias=AliasChoices("accepted_term_months", "accepted_term")
    )
    schedule: Schedule | None = None
    reasons: list[ApplicantReason] = []
    reapply_after: date | None = None
    review_queue: str | None = None
    payout_order_id: str | None = None
    document_attempts_left: int | None = None
    signed_contract_key: str | None = Field(default=None, description="internal: blob key")
    history: list[str] = Field(default=[], description="statuses passed through, in order")
