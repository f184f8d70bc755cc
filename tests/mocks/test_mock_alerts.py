"""The bureau's post-loan alerts and the device-risk vendor's events: pushed on demand to the
lender's webhook, each signed with its own vendor's secret, retried until answered."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from domain.alerts import BureauAlert, DeviceRiskEvent, DeviceRiskType
from domain.lines import MonitoringEventKind
from domain.signing import signature_matches
from tests.mocks.conftest import SECRET, Callback, Inbox

PERSON = "11010519491231002X"


def signed_by(secret: str, callback: Callback) -> bool:
    return signature_matches(
        secret, callback.timestamp, callback.nonce, callback.body, callback.signature
    )


async def test_the_bureau_pushes_a_signed_alert_and_retries_until_answered(
    client: httpx.AsyncClient, inbox: Inbox, mocks_app: FastAPI
) -> None:
    inbox.refuse = 1
    pushed = await client.post(
        "/admin/v1/bureau/alerts", json={"id_number": PERSON, "new_loans": 2}
    )
    assert pushed.status_code == 201
    assert pushed.json()["delivered"] and pushed.json()["tries"] == 2
    [callback] = await inbox.wait_for(1)
    assert callback.url == "http://127.0.0.1:8000/v1/callbacks/bureau-alerts"
    settings = mocks_app.state.mocks.settings
    assert signed_by(settings.bureau_callback_secret, callback)
    assert not signed_by(SECRET, callback)  # not the payment gateway's key
    alert = BureauAlert.model_validate_json(callback.body)
    assert alert.alert_id == pushed.json()["alert_id"] and alert.new_loans == 2
    assert alert.signal().kind == MonitoringEventKind.BUREAU_ALERT
    assert alert.signal().reference == alert.alert_id
    bad = await client.post("/admin/v1/bureau/alerts", json={"id_number": "123"})
    assert bad.status_code == 400


async def test_the_device_risk_vendor_pushes_events_for_an_account(
    client: httpx.AsyncClient, inbox: Inbox, mocks_app: FastAPI
) -> None:
    for risk in (DeviceRiskType.LOCATION_JUMP, DeviceRiskType.EMULATOR):
        pushed = await client.post(
            "/admin/v1/device-risk/events",
            json={"account_id": "C0123", "risk_type": risk, "notify_url": "http://lender/hook"},
        )
        assert pushed.json()["delivered"]
    first, second = await inbox.wait_for(2)
    assert first.url == "http://lender/hook"
    assert signed_by(mocks_app.state.mocks.settings.device_risk_callback_secret, first)
    kinds = [DeviceRiskEvent.model_validate_json(c.body).signal().kind for c in (first, second)]
    assert kinds == [MonitoringEventKind.LOCATION_ANOMALY, MonitoringEventKind.DEVICE_ANOMALY]
    log = (await client.get("/admin/v1/alerts")).json()["alerts"]
    assert [(a["vendor"], a["delivered"]) for a in log] == [("device-risk", True)] * 2
