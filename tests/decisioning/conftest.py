"""One policy engine for the decisioning tests (as one per worker), the default policy loaded,
and a clean applicant each test changes only where it is about."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from decisioning.evaluator import PolicyEvaluator
from decisioning.loader import Policy
from domain.application import Device
from domain.carrier import CarrierReport
from domain.decision import BureauReport, DecisionInput
from domain.identity import IdentityOutcome
from domain.products import PRODUCTS, Product

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_POLICY = ROOT / "policies" / "2026.11-std"
NOW = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)
STD = PRODUCTS["CASH_STD"]


@pytest.fixture(scope="session")
def policy_evaluator() -> PolicyEvaluator:
    return PolicyEvaluator(DEFAULT_POLICY)


@pytest.fixture(scope="session")
def policy(policy_evaluator: PolicyEvaluator) -> Policy:
    return policy_evaluator.active


def make_input(
    *,
    identity: dict[str, Any] | None = None,
    bureau: dict[str, Any] | None = None,
    carrier: dict[str, Any] | None = None,
    device: dict[str, Any] | None = None,
    no_carrier: bool = False,
    product: Product = STD,
) -> DecisionInput:
    """A clean applicant scoring 600 (grade B under the default policy)."""
    bureau_fields: dict[str, Any] = {
        "has_record": True,
        "score": 760,
        "monthly_income": 1_200_000,
        "monthly_debt_payment": 180_000,
        "inquiries_1m": 0,
        "inquiries_3m": 1,
        "inquiries_6m": 2,
        "lenders_1m": 0,
        "lenders_3m": 1,
        "lenders_6m": 1,
        "card_utilisation": 0.2,
        "income_stable_months": 36,
        "fetched_at": NOW - timedelta(minutes=5),
    }
    bureau_fields.update(bureau or {})
    carrier_fields: dict[str, Any] = {
        "months_on_network": 48,
        "real_name_match": True,
        "contacts_in_call_log": 150,
        "night_call_ratio": 0.05,
        "monthly_bill_avg": 8_800,
        "numbers_in_name": 1,
        "emergency_contacts_in_call_log": 2,
        "device_changes_6m": 0,
        "home_province": "11",
    }
    carrier_fields.update(carrier or {})
    identity_fields: dict[str, Any] = {
        "passed": True,
        "age": 30,
        "face_distance": 0.3,
        "liveness_passed": True,
    }
    identity_fields.update(identity or {})
    device_obj = None
    if device is not None:
        device_obj = Device(
            **({"fingerprint": "dev-0123456789", "ip": "203.0.113.7", "os": "Android 15"} | device)
        )
    return DecisionInput(
        application_id="app-1",
        product=product,
        requested_amount=1_000_000,
        requested_term=12,
        decided_on=NOW.date(),
        identity=IdentityOutcome(**identity_fields),
        bureau=BureauReport(**bureau_fields),
        carrier=None if no_carrier else CarrierReport(**carrier_fields),
        device=device_obj,
    )
