"""Pre-credit (预授信) contracts: a batch of existing customers scored with the current policy
before they ask, and the pre-approved limits it writes. Batches carry only file references and
counts through Temporal: the customers' personal data stays in the source and the store."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class PreCreditCustomer(BaseModel):
    """One row of the customer source (CSV columns of the same names)."""

    customer_id: str = Field(min_length=1, max_length=64)
    full_name: str = Field(min_length=1, max_length=64)
    id_number: str = Field(min_length=18, max_length=18)
    phone: str = Field(pattern=r"^1\d{10}$")
    product_code: str = Field(min_length=1, max_length=32)


class PreCreditBatchInput(BaseModel):
    source: str = Field(description="path of the customer CSV, readable by the workers")
    validity_days: int = Field(default=15, ge=1, le=90)
    chunk_size: int = Field(default=200, ge=1, le=5_000)
    parallel_chunks: int = Field(default=4, ge=1, le=32)


class CountCustomersInput(BaseModel):
    source: str


class ScoreChunkInput(BaseModel):
    batch_id: str
    source: str
    offset: int = Field(ge=0)
    limit: int = Field(ge=1)
    validity_days: int
    scored_at: datetime = Field(description="the batch's time: expiry counts from it")


class ChunkResult(BaseModel):
    scored: int = 0
    approved: int = 0
    declined: int = 0
    failed: int = Field(default=0, description="rows refused (bad data) or vendor failures")


class BatchSummary(BaseModel):
    batch_id: str
    customers: int
    scored: int
    approved: int
    declined: int
    failed: int
    policy_version: str | None = None
