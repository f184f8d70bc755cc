"""Admin API of the simulators: register people and cards, turn fault knobs, inspect the
payment ledger and reset. For tests, demos and load generators; no vendor has this."""

from __future__ import annotations

import base64
import binascii

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from domain.decision import BureauReport
from mocks.errors import VendorHTTPError, require_id_number
from mocks.payments import CHANNELS
from mocks.personas import BUILT_IN_PERSONAS, CardResult, PayoutFault
from mocks.state import CardProfile, CarrierProfile, Citizen, StateDep

router = APIRouter(prefix="/admin/v1", tags=["admin"])

BUREAU_FIELDS = set(BureauReport.model_fields) - {"fetched_at"}
CARRIER_REPORT_FIELDS = (
    "months_on_network",
    "real_name_match",
    "contacts_in_call_log",
    "night_call_ratio",
    "monthly_bill_avg",
)


class CitizenIn(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    id_number: str
    portrait_jpeg_b64: str | None = None


class BureauProfileIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    id_number: str


class CarrierProfileIn(BaseModel):
    phone: str = Field(pattern=r"^1\d{10}$")
    sms_code: str | None = Field(default=None, pattern=r"^\d{4,8}$")
    report_delay_seconds: float | None = Field(default=None, ge=0)
    months_on_network: int | None = Field(default=None, ge=0)
    real_name_match: bool | None = None
    contacts_in_call_log: int | None = Field(default=None, ge=0)
    night_call_ratio: float | None = Field(default=None, ge=0, le=1)
    monthly_bill_avg: int | None = Field(default=None, ge=0)


class BankCardIn(BaseModel):
    card_number: str = Field(pattern=r"^\d{12,19}$")
    four_factor: CardResult | None = None
    payout_fault: PayoutFault | None = None
    bank_code: str | None = None


class EsignProfileIn(BaseModel):
    phone: str = Field(pattern=r"^1\d{10}$")
    otp: str = Field(pattern=r"^\d{4,8}$")


class GatewayKnobs(BaseModel):
    settle_delay_seconds: float | None = Field(default=None, ge=0)
    returned_delay_seconds: float | None = Field(default=None, ge=0)
    down_channels: list[str] | None = None


class Registered(BaseModel):
    registered: bool = True


@router.post("/citizens", status_code=201)
async def register_citizen(body: CitizenIn, state: StateDep) -> Registered:
    id_number = require_id_number(body.id_number)
    portrait = None
    if body.portrait_jpeg_b64:
        try:
            portrait = base64.b64decode(body.portrait_jpeg_b64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise VendorHTTPError(400, "INVALID_PORTRAIT", "portrait is not base64") from exc
    with state.lock:
        state.citizens[id_number] = Citizen(body.name.strip(), id_number, portrait)
    return Registered()


@router.post("/bureau-profiles", status_code=201)
async def register_bureau_profile(body: BureauProfileIn, state: StateDep) -> Registered:
    id_number = require_id_number(body.id_number)
    overrides = dict(body.model_extra or {})
    unknown = set(overrides) - BUREAU_FIELDS
    if unknown:
        raise VendorHTTPError(400, "UNKNOWN_FIELDS", ", ".join(sorted(unknown)))
    probe = {"has_record": True, "fetched_at": "2000-01-01T00:00:00Z", **overrides}
    try:
        BureauReport.model_validate(probe)
    except ValueError as exc:
        raise VendorHTTPError(400, "INVALID_PROFILE", "bureau fields do not validate") from exc
    with state.lock:
        state.bureau_profiles[id_number] = overrides
    return Registered()


@router.post("/carrier-profiles", status_code=201)
async def register_carrier_profile(body: CarrierProfileIn, state: StateDep) -> Registered:
    profile = CarrierProfile()
    if body.sms_code is not None:
        profile.sms_code = body.sms_code
    if body.report_delay_seconds is not None:
        profile.report_delay_seconds = body.report_delay_seconds
    profile.report_overrides = {
        name: getattr(body, name)
        for name in CARRIER_REPORT_FIELDS
        if getattr(body, name) is not None
    }
    with state.lock:
        state.carrier_profiles[body.phone] = profile
    return Registered()


@router.post("/bank-cards", status_code=201)
async def register_bank_card(body: BankCardIn, state: StateDep) -> Registered:
    with state.lock:
        state.cards[body.card_number] = CardProfile(
            four_factor=body.four_factor, payout_fault=body.payout_fault, bank_code=body.bank_code
        )
    return Registered()


@router.post("/esign-profiles", status_code=201)
async def register_esign_profile(body: EsignProfileIn, state: StateDep) -> Registered:
    with state.lock:
        state.esign_otps[body.phone] = body.otp
    return Registered()


def _knobs(state: StateDep) -> GatewayKnobs:
    ledger = state.payments
    return GatewayKnobs(
        settle_delay_seconds=ledger.settle_delay_seconds,
        returned_delay_seconds=ledger.returned_delay_seconds,
        down_channels=sorted(ledger.down_channels),
    )


@router.get("/gateway")
async def gateway_knobs(state: StateDep) -> GatewayKnobs:
    return _knobs(state)


@router.patch("/gateway")
async def set_gateway_knobs(body: GatewayKnobs, state: StateDep) -> GatewayKnobs:
    unknown = set(body.down_channels or ()) - set(CHANNELS)
    if unknown:
        raise VendorHTTPError(400, "UNKNOWN_CHANNEL", ", ".join(sorted(unknown)))
    ledger = state.payments
    with state.lock:
        if body.settle_delay_seconds is not None:
            ledger.settle_delay_seconds = body.settle_delay_seconds
        if body.returned_delay_seconds is not None:
            ledger.returned_delay_seconds = body.returned_delay_seconds
        if body.down_channels is not None:
            ledger.down_channels = set(body.down_channels)
    return _knobs(state)


@router.get("/payouts")
async def payouts(state: StateDep) -> dict[str, list[dict[str, object]]]:
    return {"orders": state.payments.admin_view()}


@router.get("/callbacks")
async def callbacks(state: StateDep) -> dict[str, list[dict[str, object]]]:
    with state.lock:
        return {"deliveries": [dict(d) for d in state.payments.deliveries]}


@router.get("/alerts")
async def alerts(state: StateDep) -> dict[str, list[dict[str, object]]]:
    """The bureau alerts and device-risk events pushed so far, with their delivery."""
    with state.lock:
        return {"alerts": [dict(a) for a in state.alerts]}


@router.get("/personas")
async def personas() -> dict[str, list[dict[str, str]]]:
    return {
        "personas": [
            {
                "key": p.key,
                "name": p.name,
                "id_number": p.id_number,
                "phone": p.phone,
                "card_number": p.card_number,
                "bank_code": p.bank_code,
            }
            for p in BUILT_IN_PERSONAS
        ]
    }


@router.post("/reset")
async def reset(state: StateDep) -> dict[str, bool]:
    state.reset()
    return {"reset": True}
