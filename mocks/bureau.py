"""Credit bureau (征信): one report per request, by ID number; and post-loan monitoring, whose
alerts (new loans at other lenders) the bureau pushes to the lender's webhook, signed with the
bureau's own secret. The admin route makes the bureau emit an alert for a person now."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from domain.alerts import BureauAlert, BureauAlertType
from domain.decision import BureauReport
from mocks.errors import require_id_number
from mocks.personas import bureau_report_for
from mocks.state import StateDep
from mocks.webhooks import push_signed

router = APIRouter(prefix="/bureau/v1", tags=["bureau"])
admin_router = APIRouter(prefix="/admin/v1", tags=["admin"])


class ReportRequest(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    id_number: str = Field(min_length=1, max_length=32)


@router.post("/reports")
async def report(body: ReportRequest, state: StateDep) -> BureauReport:
    id_number = require_id_number(body.id_number)
    with state.lock:
        overrides = dict(state.bureau_profiles.get(id_number, {}))
    fields = {**bureau_report_for(id_number, datetime.now(UTC)), **overrides}
    return BureauReport.model_validate(fields)


class AlertIn(BaseModel):
    id_number: str = Field(min_length=1, max_length=32)
    new_loans: int = Field(default=1, ge=1, le=100)
    notify_url: str | None = Field(
        default=None, description="default: the lender's /v1/callbacks/bureau-alerts"
    )


class AlertPushed(BaseModel):
    alert_id: str
    delivered: bool
    tries: int
    last_error: str | None


@admin_router.post("/bureau/alerts", status_code=201)
async def push_alert(body: AlertIn, state: StateDep) -> AlertPushed:
    """Post-loan monitoring (贷后监控): the bureau saw new loans in this person's file and
    pushes a signed alert to the lender now (retried like the gateway's callbacks)."""
    alert = BureauAlert(
        alert_id="BA" + uuid.uuid4().hex[:22].upper(),
        alert_type=BureauAlertType.NEW_LOANS,
        id_number=require_id_number(body.id_number),
        new_loans=body.new_loans,
        occurred_at=datetime.now(UTC),
    )
    settings = state.settings
    url = body.notify_url or f"{settings.lender_url}/v1/callbacks/bureau-alerts"
    record = await push_signed(
        url,
        alert.model_dump(mode="json"),
        settings.bureau_callback_secret,
        settings,
        state.callback_transport,
    )
    with state.lock:
        state.alerts.append({"vendor": "bureau", "alert_id": alert.alert_id, **record})
    return AlertPushed.model_validate({"alert_id": alert.alert_id, **record})
