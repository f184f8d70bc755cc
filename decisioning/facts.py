"""What the policy graphs and the scorecard see: flat features and nested JSON contexts built
from the domain models. One place, so training (on generated applicants), run time and replay
describe an applicant the same way."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from domain.decision import DecisionInput

Feature = int | float | None


def debt_to_income(monthly_debt_payment: int, monthly_income: int) -> float | None:
    """None when no income is known: no ratio, rather than an infinite one."""
    if monthly_income <= 0:
        return None
    return monthly_debt_payment / monthly_income


def scorecard_features(inp: DecisionInput) -> dict[str, Feature]:
    """The characteristics a scorecard may use; absent signals are None (its missing bin)."""
    b, c = inp.bureau, inp.carrier
    features: dict[str, Feature] = {
        "bureau_score": b.score if b.has_record else None,
        "card_utilisation": b.card_utilisation if b.has_record else None,
        "debt_to_income": debt_to_income(b.monthly_debt_payment, b.monthly_income),
        "inquiries_1m": b.inquiries_1m,
        "inquiries_3m": b.inquiries_3m,
        "inquiries_6m": b.inquiries_6m,
        "lenders_6m": b.lenders_6m,
        "overdue_count_24m": b.overdue_count_24m,
        "max_overdue_days_24m": b.max_overdue_days_24m,
        "monthly_income": b.monthly_income,
        "income_stable_months": b.income_stable_months,
        "age": inp.identity.age,
    }
    features.update(
        {
            "months_on_network": c.months_on_network if c else None,
            "contacts_in_call_log": c.contacts_in_call_log if c else None,
            "night_call_ratio": c.night_call_ratio if c else None,
            "numbers_in_name": c.numbers_in_name if c else None,
            "emergency_contacts_in_call_log": c.emergency_contacts_in_call_log if c else None,
            "device_changes_6m": c.device_changes_6m if c else None,
        }
    )
    return features


FEATURES = (
    "bureau_score",
    "card_utilisation",
    "debt_to_income",
    "inquiries_1m",
    "inquiries_3m",
    "inquiries_6m",
    "lenders_6m",
    "overdue_count_24m",
    "max_overdue_days_24m",
    "monthly_income",
    "income_stable_months",
    "age",
    "months_on_network",
    "contacts_in_call_log",
    "night_call_ratio",
    "numbers_in_name",
    "emergency_contacts_in_call_log",
    "device_changes_6m",
)
"""Every name `scorecard_features` produces: a scorecard using any other is refused at load."""


def decision_context(
    inp: DecisionInput,
    score: int | None,
    bad_probability: float | None,
) -> dict[str, Any]:
    """The main graph's input: the application as the workflow gave it, plus the score."""
    b = inp.bureau
    device = inp.device
    return {
        "application": {
            "requested_amount": inp.requested_amount,
            "requested_term": inp.requested_term,
        },
        "product": {
            "code": inp.product.code,
            "min_amount": inp.product.min_amount,
            "max_amount": inp.product.max_amount,
            "min_age": inp.product.min_age,
            "max_age": inp.product.max_age,
            "face_match_threshold": inp.product.face_match_threshold,
        },
        "identity": inp.identity.model_dump(mode="json"),
        "bureau": b.model_dump(mode="json", exclude={"fetched_at"}),
        "carrier": inp.carrier.model_dump(mode="json") if inp.carrier else None,
        # Fingerprint and IP stay out: the rules need only what they judge.
        "device": None
        if device is None
        else {
            "is_emulator": device.is_emulator,
            "is_rooted": device.is_rooted,
            "ip_province": device.ip_province,
        },
        "derived": {
            "debt_to_income": debt_to_income(b.monthly_debt_payment, b.monthly_income),
            "thin_file": not b.has_record or b.score is None,
        },
        "score": {"value": score, "bad_probability": bad_probability},
    }


class ScreeningSignals(BaseModel):
    """What the pre-screen (stage 1) and the ID check (stage 3) know of an applicant: the
    device, the platform's blacklist and history. Counts are None where the stage cannot know
    them yet (no ID number before stage 3)."""

    stage: str = Field(description="PRESCREEN or ID_CHECK")
    is_emulator: bool = False
    is_rooted: bool = False
    blacklisted_phone: bool = False
    blacklisted_device: bool = False
    blacklisted_id_number: bool = False
    applications_24h_device: int | None = None
    applications_24h_phone: int | None = None
    cool_down_days_left: int = Field(default=0, description="until the latest reapply date")
    days_since_credit_rejection: int | None = None
    phones_per_id_180d: int | None = None
    devices_per_id_30d: int | None = None
    ids_per_device_30d: int | None = None


def screening_context(signals: ScreeningSignals) -> dict[str, Any]:
    return signals.model_dump(mode="json")


def pre_payout_context(
    blacklisted: bool, bureau_refreshed: bool, bureau: dict[str, Any] | None
) -> dict[str, Any]:
    """Stage 9: the platform blacklist now, and the bureau report if it was fetched again."""
    report = None if bureau is None else {k: v for k, v in bureau.items() if k != "fetched_at"}
    return {
        "blacklisted": blacklisted,
        "bureau_refreshed": bureau_refreshed,
        "bureau": report,
        "derived": {
            "debt_to_income": None
            if report is None
            else debt_to_income(
                int(report.get("monthly_debt_payment") or 0), int(report.get("monthly_income") or 0)
            ),
        },
    }
