"""Table tests of the default policy's pre-screen graph (stage 1 and the ID check) and
pre-payout graph (stage 9): every rule fires alone with its reason and outcome, cut-offs pass,
and no rule is left without a row here."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from decisioning import evaluate
from decisioning.evaluator import PolicyEvaluator
from decisioning.facts import ScreeningSignals
from decisioning.loader import Policy
from domain.enums import DecisionOutcome as O
from domain.reasons import ReasonCode as RC
from tests.decisioning.conftest import NOW

SCREEN_RULES: list[tuple[str, dict[str, Any], list[RC], int]] = [
    ("P005_emulator_or_rooted", {"is_emulator": True}, [RC.P005_DEVICE_RISK], 30),
    ("P001_blacklist_phone", {"blacklisted_phone": True}, [RC.P001_BLACKLISTED], 365),
    ("P001_blacklist_device", {"blacklisted_device": True}, [RC.P001_BLACKLISTED], 365),
    ("P001_blacklist_id_number", {"blacklisted_id_number": True}, [RC.P001_BLACKLISTED], 365),
    ("P002_velocity_device_24h", {"applications_24h_device": 4}, [RC.P002_VELOCITY_DEVICE], 7),
    ("P003_velocity_phone_24h", {"applications_24h_phone": 4}, [RC.P003_VELOCITY_PHONE], 7),
    ("P004_cool_down", {"cool_down_days_left": 41}, [RC.P004_COOL_DOWN], 41),
    ("P004_reapply_within_90d", {"days_since_credit_rejection": 30}, [RC.P004_COOL_DOWN], 60),
    ("P006_phones_per_id_180d", {"phones_per_id_180d": 4}, [RC.P006_MULTIPLE_ACCOUNTS], 90),
    ("P006_ids_per_device_30d", {"ids_per_device_30d": 3}, [RC.P006_MULTIPLE_ACCOUNTS], 90),
    ("P005_devices_per_id_30d", {"devices_per_id_30d": 4}, [RC.P005_DEVICE_RISK], 30),
]
SCREEN_PASSES = [
    {"applications_24h_device": 3, "applications_24h_phone": 3},
    {"days_since_credit_rejection": 90},
    {"phones_per_id_180d": 3, "ids_per_device_30d": 2, "devices_per_id_30d": 3},
    {},
]


@pytest.mark.parametrize(
    ("rule", "signals", "reasons", "days"), SCREEN_RULES, ids=[r[0] for r in SCREEN_RULES]
)
def test_each_screening_rule(
    policy_evaluator: PolicyEvaluator,
    policy: Policy,
    rule: str,
    signals: dict[str, Any],
    reasons: list[RC],
    days: int,
) -> None:
    screened = evaluate.screen(
        policy_evaluator, policy, ScreeningSignals(stage="ID_CHECK", **signals), NOW.date()
    )
    assert screened.rules_fired == [rule]
    assert not screened.result.passed and screened.result.reasons == reasons
    assert screened.result.reapply_after == NOW.date() + timedelta(days=days)


@pytest.mark.parametrize("signals", SCREEN_PASSES)
def test_screening_cut_offs_pass(
    policy_evaluator: PolicyEvaluator, policy: Policy, signals: dict[str, Any]
) -> None:
    screened = evaluate.screen(
        policy_evaluator, policy, ScreeningSignals(stage="PRESCREEN", **signals), NOW.date()
    )
    assert screened.result.passed and screened.rules_fired == []


# ---------------------------------------------------------------- pre-payout

BUREAU = {
    "has_record": True,
    "score": 700,
    "monthly_income": 1_000_000,
    "monthly_debt_payment": 100_000,
    "inquiries_3m": 1,
    "lenders_6m": 1,
    "current_overdue_amount": 0,
    "max_overdue_days_24m": 0,
    "overdue_count_24m": 0,
    "on_court_blacklist": False,
}
PRE_PAYOUT_RULES: list[tuple[str, bool, dict[str, Any], O, list[RC]]] = [
    ("P001_platform_blacklist", True, {}, O.REJECT, [RC.P001_BLACKLISTED]),
    (
        "P008_court_dishonest_debtor",
        False,
        {"on_court_blacklist": True},
        O.REJECT,
        [RC.P008_COURT_DISHONEST_DEBTOR],
    ),
    (
        "D001_new_current_overdue",
        False,
        {"current_overdue_amount": 100},
        O.REJECT,
        [RC.D001_PRE_PAYOUT_RISK],
    ),
    (
        "D001_new_overdue_history",
        False,
        {"overdue_count_24m": 3},
        O.REJECT,
        [RC.D001_PRE_PAYOUT_RISK],
    ),
    ("D001_new_inquiries_3m", False, {"inquiries_3m": 7}, O.REVIEW, [RC.D001_PRE_PAYOUT_RISK]),
    ("D001_new_lenders_6m", False, {"lenders_6m": 6}, O.REVIEW, [RC.D001_PRE_PAYOUT_RISK]),
    (
        "D001_new_debt_to_income",
        False,
        {"monthly_debt_payment": 600_001},
        O.REVIEW,
        [RC.D001_PRE_PAYOUT_RISK],
    ),
]


@pytest.mark.parametrize(
    ("rule", "blacklisted", "changes", "outcome", "reasons"),
    PRE_PAYOUT_RULES,
    ids=[r[0] for r in PRE_PAYOUT_RULES],
)
def test_each_pre_payout_rule(
    policy_evaluator: PolicyEvaluator,
    policy: Policy,
    rule: str,
    blacklisted: bool,
    changes: dict[str, Any],
    outcome: O,
    reasons: list[RC],
) -> None:
    bureau = None if blacklisted else BUREAU | changes
    verdict = evaluate.pre_payout(policy_evaluator, policy, blacklisted, bureau)
    assert (verdict.outcome, verdict.reasons, verdict.rules_fired) == (outcome, reasons, [rule])
    assert verdict.review_queue == ("PRE_PAYOUT" if outcome == O.REVIEW else None)


def test_pre_payout_passes_when_nothing_changed(
    policy_evaluator: PolicyEvaluator, policy: Policy
) -> None:
    for bureau in (None, BUREAU):
        verdict = evaluate.pre_payout(policy_evaluator, policy, False, bureau)
        assert (verdict.outcome, verdict.rules_fired) == (O.APPROVE, [])


def test_pre_payout_reject_outweighs_review(
    policy_evaluator: PolicyEvaluator, policy: Policy
) -> None:
    bureau = BUREAU | {"lenders_6m": 9, "current_overdue_amount": 1}
    verdict = evaluate.pre_payout(policy_evaluator, policy, True, bureau)
    assert verdict.outcome == O.REJECT
    assert verdict.reasons == [RC.P001_BLACKLISTED, RC.D001_PRE_PAYOUT_RISK]
    assert verdict.rules_fired == [
        "P001_platform_blacklist",
        "D001_new_current_overdue",
        "D001_new_lenders_6m",
    ]


def test_every_rule_of_both_graphs_has_a_table_row(policy: Policy) -> None:
    assert sorted(policy.rule_ids["prescreen"]) == sorted(r[0] for r in SCREEN_RULES)
    assert sorted(policy.rule_ids["pre_payout"]) == sorted(r[0] for r in PRE_PAYOUT_RULES)
