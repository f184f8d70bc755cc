"""In-memory state of the simulators: registrations made through the admin API, carrier tasks,
e-sign envelopes and the payment ledger.

All handlers are async and never await while holding the lock, so one re-entrant thread lock
keeps check-then-act sequences atomic under the event loop and under a threadpool alike.
Registration always wins over the deterministic personas of `mocks.personas`.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Annotated

import httpx
from fastapi import Depends, Request

from mocks.payments import PaymentLedger
from mocks.personas import (
    BUILT_IN_PERSONAS,
    DEFAULT_ESIGN_OTP,
    DEFAULT_REPORT_DELAY_SECONDS,
    DEFAULT_SMS_CODE,
    CardResult,
    PayoutFault,
    carrier_report_for,
)
from mocks.settings import MockSettings


@dataclass
class Citizen:
    name: str
    id_number: str
    portrait_jpeg: bytes | None


@dataclass
class CarrierProfile:
    sms_code: str = DEFAULT_SMS_CODE
    report_delay_seconds: float = DEFAULT_REPORT_DELAY_SECONDS
    report_overrides: dict[str, object] = field(default_factory=dict)


@dataclass
class CarrierTask:
    task_id: str
    ready_at: float
    report: dict[str, object]


@dataclass
class CardProfile:
    four_factor: CardResult | None = None
    payout_fault: PayoutFault | None = None
    bank_code: str | None = None


@dataclass
class Envelope:
    envelope_id: str
    biz_no: str | None
    document: bytes
    signer_name: str
    signer_id_number: str
    signer_phone: str
    status: str = "SENT"
    signed_document: bytes | None = None
    signed_at: str | None = None


class MockState:
    """Everything one simulator app remembers; `reset()` returns it to the built-in personas."""

    def __init__(
        self,
        settings: MockSettings | None = None,
        callback_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings or MockSettings()
        self.lock = threading.RLock()
        self.callback_transport = callback_transport
        self.alerts: list[dict[str, object]] = []
        self.payments = PaymentLedger(self.settings, self.lock, callback_transport)
        self.citizens: dict[str, Citizen] = {}
        self.bureau_profiles: dict[str, dict[str, object]] = {}
        self.carrier_profiles: dict[str, CarrierProfile] = {}
        self.carrier_tasks: dict[str, CarrierTask] = {}
        self.cards: dict[str, CardProfile] = {}
        self.esign_otps: dict[str, str] = {}
        self.envelopes: dict[str, Envelope] = {}
        self.envelopes_by_biz_no: dict[str, str] = {}
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.citizens.clear()
            self.bureau_profiles.clear()
            self.carrier_profiles.clear()
            self.carrier_tasks.clear()
            self.cards.clear()
            self.esign_otps.clear()
            self.envelopes.clear()
            self.envelopes_by_biz_no.clear()
            self.alerts.clear()
            self.payments.reset()
            for persona in BUILT_IN_PERSONAS:
                self.citizens[persona.id_number] = Citizen(
                    persona.name, persona.id_number, persona.portrait_bytes()
                )

    async def aclose(self) -> None:
        await self.payments.aclose()

    # ------------------------------------------------------------ carrier

    def carrier_profile(self, phone: str) -> CarrierProfile:
        with self.lock:
            return self.carrier_profiles.get(phone) or CarrierProfile()

    def start_carrier_task(self, phone: str) -> str:
        profile = self.carrier_profile(phone)
        report = {**carrier_report_for(phone), **profile.report_overrides}
        task = CarrierTask(
            task_id="CT" + uuid.uuid4().hex[:20].upper(),
            ready_at=time.monotonic() + profile.report_delay_seconds,
            report=report,
        )
        with self.lock:
            self.carrier_tasks[task.task_id] = task
        return task.task_id

    # ------------------------------------------------------------ e-sign

    def esign_otp(self, phone: str) -> str:
        with self.lock:
            return self.esign_otps.get(phone, DEFAULT_ESIGN_OTP)


def get_state(request: Request) -> MockState:
    state: MockState = request.app.state.mocks
    return state


StateDep = Annotated[MockState, Depends(get_state)]
