"""The start of an application and the applicant's withdrawal.

One input and one result model per workflow, update, signal and activity. Money is integer
fen; times are timezone-aware UTC."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from domain.naming import VISION_TASK_QUEUE
from domain.products import Product


class Device(BaseModel):
    fingerprint: str = Field(min_length=8, max_length=128)
    ip: str = Field(max_length=64)
    os: str = Field(max_length=64)
    is_emulator: bool = False
    is_rooted: bool = False
    ip_province: str | None = Field(
        default=None,
        pattern=r"^\d{2}$",
        description="GB/T 2260 province code the client IP resolves to; None when unknown",
    )


class Consents(BaseModel):
    privacy_policy: bool
    credit_inquiry: bool
    carrier_data: bool


class StartApplicationInput(BaseModel):
    application_id: str
    client_request_id: str
    product: Product
    phone: str
    requested_amount: int
    requested_term: int
    device: Device
    consents: Consents
    submitted_at: datetime
    vision_task_queue: str = Field(
        default=VISION_TASK_QUEUE, description="queue of the CPU-bound identity checks"
    )
    upsert_search_attributes: bool = Field(
        default=True,
        description="off only on servers that cannot register custom search attributes",
    )


class WithdrawInput(BaseModel):
    reason: str = Field(default="", max_length=500)
