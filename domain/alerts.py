"""Behaviour alerts that outside parties push after the loan, as their webhooks carry them: the
credit bureau's post-loan monitoring (贷后监控: new loans opened elsewhere, by ID number) and
the device-risk vendor's events (by the account id the app gives its SDK: our customer id).

Both are signed like the payment gateway's callbacks (`domain.signing`), each vendor with its own
secret. The API turns an alert into a `MonitoringSignal` for each live line of the customer; the
signal carries the alert's id as its reference and no personal data.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from domain.line_messages import MonitoringSignal
from domain.lines import MonitoringEventKind

ALERT_ID = r"^[A-Za-z0-9_-]{4,64}$"


class BureauAlertType(StrEnum):
    NEW_LOANS = "NEW_LOANS"


class BureauAlert(BaseModel):
    """The bureau's push: the person (PII, never passed on) and what changed in their file."""

    alert_id: str = Field(pattern=ALERT_ID, description="the bureau's id: a re-delivery repeats it")
    alert_type: BureauAlertType
    id_number: str = Field(min_length=15, max_length=18)
    new_loans: int = Field(ge=1, le=100, description="loans opened at other lenders")
    occurred_at: datetime

    def signal(self) -> MonitoringSignal:
        return MonitoringSignal(
            kind=MonitoringEventKind.BUREAU_ALERT, reference=self.alert_id, new_loans=self.new_loans
        )


class DeviceRiskType(StrEnum):
    NEW_DEVICE = "NEW_DEVICE"
    EMULATOR = "EMULATOR"
    ROOTED = "ROOTED"
    LOCATION_JUMP = "LOCATION_JUMP"


class DeviceRiskEvent(BaseModel):
    """The device-risk vendor's push about one account of the app."""

    event_id: str = Field(pattern=ALERT_ID, description="the vendor's id: a re-delivery repeats it")
    account_id: str = Field(min_length=1, max_length=64, description="our customer id")
    risk_type: DeviceRiskType
    occurred_at: datetime

    def signal(self) -> MonitoringSignal:
        kind = (
            MonitoringEventKind.LOCATION_ANOMALY
            if self.risk_type == DeviceRiskType.LOCATION_JUMP
            else MonitoringEventKind.DEVICE_ANOMALY
        )
        return MonitoringSignal(kind=kind, reference=self.event_id, detail=self.risk_type.value)
