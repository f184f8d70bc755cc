"""Stage 8: the loan contract generated, signed through the e-sign vendor and sealed.

One input and one result model per workflow, update, signal and activity. Money is integer
fen; times are timezone-aware UTC."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from domain.identity import Applicant
from domain.pricing import Schedule


class ContractInput(BaseModel):
    application_id: str
    applicant: Applicant
    product_name: str
    schedule: Schedule
    generated_at: datetime


class ContractDocument(BaseModel):
    blob_key: str
    sha256: str
    pages: int


class EsignEnvelopeInput(BaseModel):
    application_id: str
    applicant: Applicant
    contract: ContractDocument


class EsignEnvelope(BaseModel):
    envelope_id: str


class SignContractInput(BaseModel):
    otp: str = Field(pattern=r"^\d{4,8}$")


class EsignSignInput(BaseModel):
    application_id: str
    envelope_id: str
    otp: str


class EsignSignResult(BaseModel):
    signed: bool
    signed_contract: ContractDocument | None = None
    detail: str = ""


class SealInput(BaseModel):
    application_id: str
    contract: ContractDocument


class SignContractResult(BaseModel):
    signed: bool
    attempts_left: int
    detail: str = ""
