"""Stages 2 and 3: documents, the person they name, and the identity checks.

One input and one result model per workflow, update, signal and activity. Money is integer
fen; times are timezone-aware UTC."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from domain.enums import (
    DocumentKind,
    LivenessAction,
)
from domain.products import FACE_MATCH_THRESHOLD
from domain.reasons import ReasonCode


class ActionWindow(BaseModel):
    action: LivenessAction
    start_s: float
    end_s: float


class LivenessChallenge(BaseModel):
    nonce: str
    windows: list[ActionWindow]


class DocumentRef(BaseModel):
    """Claim check for an uploaded file: the bytes stay in the blob store."""

    kind: DocumentKind
    blob_key: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int
    content_type: str


class Applicant(BaseModel):
    """The person an application is about, as entered and checked: what every vendor call and
    the contract need to name them."""

    full_name: str
    id_number: str
    phone: str


class SubmitDocumentsInput(BaseModel):
    documents: list[DocumentRef]
    full_name: str = Field(min_length=1, max_length=64)
    id_number: str = Field(min_length=18, max_length=18)


class IdCardInput(BaseModel):
    application_id: str
    front: DocumentRef
    back: DocumentRef
    application_date: date
    claimed_name: str | None = Field(default=None, description="as the applicant entered it")
    claimed_id_number: str | None = None


class IdCardFields(BaseModel):
    name: str | None = None
    sex: str | None = None
    ethnicity: str | None = None
    birth_date: date | None = None
    address: str | None = None
    id_number: str | None = None
    issuing_authority: str | None = None
    valid_from: date | None = None
    valid_until: date | None = Field(default=None, description="None with long_term = 长期")
    long_term: bool = False
    confidence: dict[str, float] = Field(
        default={}, description="recognition score 0..1 of each field read, by field name"
    )


class IdCardResult(BaseModel):
    passed: bool
    reasons: list[ReasonCode] = []
    portrait_found: bool = False
    detail: str = ""
    evidence: dict[str, str | int | float | bool | None] = {}
    """What the reviewer's case page shows of the card, name and ID number masked
    (`domain.evidence.card_evidence`); the fields themselves stay in the vision activity."""


class LivenessInput(BaseModel):
    application_id: str
    video: DocumentRef
    challenge: LivenessChallenge
    same_person_threshold: float = FACE_MATCH_THRESHOLD


class LivenessResult(BaseModel):
    passed: bool
    reasons: list[ReasonCode] = []
    frames_sampled: int = 0
    frames_with_one_face: int = 0
    actions_seen: list[LivenessAction] = []
    spoof_score: float | None = Field(
        default=None, description="1 - mean probability of a live face over sampled frames"
    )
    detail: str = ""


class IdentityCheckInput(BaseModel):
    application_id: str
    applicant: Applicant


class IdentityCheckResult(BaseModel):
    matched: bool
    reference_portrait: DocumentRef | None = None
    detail: str = ""


class FaceEncodeInput(BaseModel):
    """The still pictures of a face match, encoded ahead of it while the card is still read."""

    application_id: str
    selfie: DocumentRef
    reference_portrait: DocumentRef | None = None


class FaceEncodeResult(BaseModel):
    selfie_encoded: bool
    reference_encoded: bool | None = None


class FaceMatchInput(BaseModel):
    application_id: str
    selfie: DocumentRef
    id_front: DocumentRef
    reference_portrait: DocumentRef | None
    video: DocumentRef | None = None
    threshold: float = FACE_MATCH_THRESHOLD


class FaceMatchResult(BaseModel):
    passed: bool
    reasons: list[ReasonCode] = []
    distance_card: float | None = None
    distance_reference: float | None = None
    distance_video: float | None = None
    detail: str = ""


class IdentityOutcome(BaseModel):
    """Stage 3 summary kept by the workflow and given to the policy."""

    passed: bool
    reasons: list[ReasonCode] = []
    age: int | None = None
    is_male: bool | None = None
    face_distance: float | None = None
    liveness_passed: bool = False
