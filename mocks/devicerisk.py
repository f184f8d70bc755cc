"""Device-risk vendor (设备指纹): its SDK in the lender's app watches the device and where it is,
tagged with the account id the app gives it (our customer id), and the vendor pushes risk
events (a new device, an emulator, a rooted phone, a jump in location) to the lender's webhook,
signed with the vendor's own secret. The SDK side is not simulated: the admin route makes the
vendor emit an event for an account now."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from domain.alerts import DeviceRiskEvent, DeviceRiskType
from mocks.bureau import AlertPushed
from mocks.state import StateDep
from mocks.webhooks import push_signed

admin_router = APIRouter(prefix="/admin/v1", tags=["admin"])


class DeviceEventIn(BaseModel):
    account_id: str = Field(min_length=1, max_length=64)
    risk_type: DeviceRiskType
    notify_url: str | None = Field(
        default=None, description="default: the lender's /v1/callbacks/device-risk"
    )


@admin_router.post("/device-risk/events", status_code=201)
async def push_event(body: DeviceEventIn, state: StateDep) -> AlertPushed:
    event = DeviceRiskEvent(
        event_id="DR" + uuid.uuid4().hex[:22].upper(),
        account_id=body.account_id,
        risk_type=body.risk_type,
        occurred_at=datetime.now(UTC),
    )
    settings = state.settings
    url = body.notify_url or f"{settings.lender_url}/v1/callbacks/device-risk"
    record = await push_signed(
        url,
        event.model_dump(mode="json"),
        settings.device_risk_callback_secret,
        settings,
        state.callback_transport,
    )
    with state.lock:
        state.alerts.append({"vendor": "device-risk", "alert_id": event.event_id, **record})
    return AlertPushed.model_validate({"alert_id": event.event_id, **record})
