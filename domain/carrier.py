"""Stage 4: carrier data authorized by SMS code, and the carrier's report.

One input and one result model per workflow, update, signal and activity. Money is integer
fen; times are timezone-aware UTC."""

from __future__ import annotations

from pydantic import BaseModel, Field

from domain.identity import Applicant


class CarrierSmsInput(BaseModel):
    application_id: str
    phone: str


class CarrierSmsResult(BaseModel):
    sent: bool
    detail: str = ""


class CarrierCodeInput(BaseModel):
    code: str = Field(pattern=r"^\d{4,8}$")


class CarrierAuthorizeInput(BaseModel):
    application_id: str
    applicant: Applicant
    code: str


class CarrierAuthorizeResult(BaseModel):
    accepted: bool
    task_id: str | None = None
    attempts_left: int = 0
    detail: str = ""


class CarrierReportInput(BaseModel):
    application_id: str
    task_id: str


class CarrierReport(BaseModel):
    months_on_network: int
    real_name_match: bool
    contacts_in_call_log: int
    night_call_ratio: float
    monthly_bill_avg: int = Field(description="fen")
    numbers_in_name: int | None = Field(
        default=None, description="phone numbers this carrier holds under the applicant's ID"
    )
    emergency_contacts_in_call_log: int | None = Field(
        default=None,
        description="of the applicant's emergency contacts, how many the 6-month call log shows",
    )
    device_changes_6m: int | None = Field(
        default=None, description="handsets the number was used in over 6 months, less one"
    )
    home_province: str | None = Field(
        default=None, description="GB/T 2260 province code where the number is registered"
    )
