"""Table tests of the default policy's decision graph (policies/2026.11-std/decide.json):
every rule fires alone with its reason code and outcome, values on a cut-off do not fire, and
no rule of the graph is left without a row here."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from decisioning import evaluate
from decisioning.evaluate import Scored
from decisioning.evaluator import PolicyEvaluator
from decisioning.loader import Policy
from domain.enums import DecisionOutcome as O
from domain.reasons import ReasonCode as RC
from tests.decisioning.conftest import NOW, STD, make_input

# fmt: off
# (rule, changes, outcome, reasons, review queue)
DECIDE_RULES: list[tuple[str, dict[str, Any], O, list[RC], str | None]] = [
    ("I000_identity_not_passed",
     {"identity": {"passed": False, "reasons": [RC.I007_LIVENESS_FAILED, RC.I003_FACE_MISMATCH]}},
     O.REJECT, [RC.I003_FACE_MISMATCH, RC.I007_LIVENESS_FAILED], None),
    ("I003_face_distance", {"identity": {"face_distance": 0.61}}, O.REJECT,
     [RC.I003_FACE_MISMATCH], None),
    ("I007_liveness_not_passed", {"identity": {"liveness_passed": False}}, O.REJECT,
     [RC.I007_LIVENESS_FAILED], None),
    ("R001_age_out_of_range", {"identity": {"age": 21}}, O.REJECT, [RC.R001_AGE_OUT_OF_RANGE],
     None),
    ("P008_court_dishonest_debtor", {"bureau": {"on_court_blacklist": True}}, O.REJECT,
     [RC.P008_COURT_DISHONEST_DEBTOR], None),
    ("R002_current_overdue", {"bureau": {"current_overdue_amount": 1}}, O.REJECT,
     [RC.R002_CURRENT_OVERDUE], None),
    ("R003_overdue_days_24m", {"bureau": {"max_overdue_days_24m": 91}}, O.REJECT,
     [RC.R003_OVERDUE_HISTORY], None),
    ("R003_overdue_count_24m", {"bureau": {"overdue_count_24m": 3}}, O.REJECT,
     [RC.R003_OVERDUE_HISTORY], None),
    ("R004_inquiries_1m", {"bureau": {"inquiries_1m": 4}}, O.REJECT,
     [RC.R004_TOO_MANY_INQUIRIES], None),
    ("R004_inquiries_3m", {"bureau": {"inquiries_3m": 7}}, O.REJECT,
     [RC.R004_TOO_MANY_INQUIRIES], None),
    ("R004_inquiries_6m", {"bureau": {"inquiries_6m": 13}}, O.REJECT,
     [RC.R004_TOO_MANY_INQUIRIES], None),
    ("R005_lenders_1m", {"bureau": {"lenders_1m": 3}}, O.REJECT, [RC.R005_MULTI_LENDING], None),
    ("R005_lenders_3m", {"bureau": {"lenders_3m": 5}}, O.REJECT, [RC.R005_MULTI_LENDING], None),
    ("R005_lenders_6m", {"bureau": {"lenders_6m": 6}}, O.REJECT, [RC.R005_MULTI_LENDING], None),
    ("R006_debt_to_income", {"bureau": {"monthly_debt_payment": 720_001}}, O.REJECT,
     [RC.R006_HIGH_DEBT_TO_INCOME], None),
    ("R011_card_utilisation", {"bureau": {"card_utilisation": 0.91}}, O.REJECT,
     [RC.R011_HIGH_CARD_UTILISATION], None),
    ("R012_income_unstable", {"bureau": {"income_stable_months": 5}}, O.REJECT,
     [RC.R012_INCOME_UNSTABLE], None),
    ("R010_carrier_tenure", {"carrier": {"months_on_network": 5}}, O.REJECT,
     [RC.R010_CARRIER_TENURE], None),
    ("R010_carrier_real_name", {"carrier": {"real_name_match": False}}, O.REJECT,
     [RC.R010_CARRIER_TENURE], None),
    ("P006_numbers_in_name", {"carrier": {"numbers_in_name": 6}}, O.REJECT,
     [RC.P006_MULTIPLE_ACCOUNTS], None),
    ("R013_no_emergency_contact", {"carrier": {"emergency_contacts_in_call_log": 0}}, O.REJECT,
     [RC.R013_CARRIER_BEHAVIOUR], None),
    ("R013_few_contacts", {"carrier": {"contacts_in_call_log": 14}}, O.REJECT,
     [RC.R013_CARRIER_BEHAVIOUR], None),
    ("R013_night_calls", {"carrier": {"night_call_ratio": 0.36}}, O.REJECT,
     [RC.R013_CARRIER_BEHAVIOUR], None),
    ("P005_device_changes_6m", {"carrier": {"device_changes_6m": 5}}, O.REJECT,
     [RC.P005_DEVICE_RISK], None),
    ("P005_emulator_or_rooted", {"device": {"is_rooted": True}}, O.REJECT,
     [RC.P005_DEVICE_RISK], None),
    ("P007_ip_far_from_phone_region", {"device": {"ip_province": "44"}}, O.REVIEW,
     [RC.P007_LOCATION_RISK], "FRAUD_CHECK"),
    ("R009_thin_file", {"bureau": {"has_record": False, "score": None}}, O.REVIEW,
     [RC.R009_THIN_FILE], "THIN_FILE"),
    ("R007_low_score", {"bureau": {"score": 450, "card_utilisation": 0.85}}, O.REJECT,
     [RC.R007_LOW_SCORE], None),
    ("R008_grey_zone", {"bureau": {"score": 585, "card_utilisation": 0.5}}, O.REVIEW,
     [RC.R008_GREY_ZONE], "GREY_ZONE"),
    ("R006_limit_below_min_amount", {"bureau": {"monthly_income": 8_000,
                                                "monthly_debt_payment": 0}},
     O.REJECT, [RC.R006_HIGH_DEBT_TO_INCOME], None),
]

# Values exactly on a cut-off, or signals that are unknown: no rule may fire.
DECIDE_PASSES: list[tuple[str, dict[str, Any]]] = [
    ("face distance 0.6", {"identity": {"face_distance": 0.6}}),
    ("age 22", {"identity": {"age": 22}}),
    ("age 55", {"identity": {"age": 55}}),
    ("overdue exactly 90 days", {"bureau": {"max_overdue_days_24m": 90}}),
    ("2 overdues", {"bureau": {"overdue_count_24m": 2}}),
    ("3 inquiries in a month", {"bureau": {"inquiries_1m": 3}}),
    ("6 inquiries in 3 months", {"bureau": {"inquiries_3m": 6}}),
    ("12 inquiries in 6 months", {"bureau": {"inquiries_6m": 12}}),
    ("2 lenders in a month", {"bureau": {"lenders_1m": 2}}),
    ("4 lenders in 3 months", {"bureau": {"lenders_3m": 4}}),
    ("5 lenders in 6 months", {"bureau": {"lenders_6m": 5}}),
    ("lenders by month unknown", {"bureau": {"lenders_1m": None, "lenders_3m": None}}),
    ("debt-to-income exactly 0.6", {"bureau": {"monthly_debt_payment": 720_000}}),
    ("utilisation 0.9", {"bureau": {"card_utilisation": 0.9}}),
    ("6 stable months", {"bureau": {"income_stable_months": 6}}),
    ("income stability unknown", {"bureau": {"income_stable_months": None}}),
    ("phone 6 months old", {"carrier": {"months_on_network": 6}}),
    ("5 numbers in the name", {"carrier": {"numbers_in_name": 5}}),
    ("1 emergency contact in the log", {"carrier": {"emergency_contacts_in_call_log": 1}}),
    ("15 contacts", {"carrier": {"contacts_in_call_log": 15}}),
    ("night calls 0.35", {"carrier": {"night_call_ratio": 0.35}}),
    ("4 handset changes", {"carrier": {"device_changes_6m": 4}}),
    ("IP in the phone's province", {"device": {"ip_province": "11"}}),
    ("IP province unknown", {"device": {}}),
    ("no carrier report collected", {"no_carrier": True}),
]
# fmt: on


@pytest.fixture
def decide(policy_evaluator: PolicyEvaluator, policy: Policy):  # type: ignore[no-untyped-def]
    return lambda inp, scored=None: evaluate.decide(policy_evaluator, policy, inp, scored)


def test_clean_applicant_is_approved_with_a_priced_offer(decide, policy: Policy) -> None:
    decision = decide(make_input())
    assert decision.outcome == O.APPROVE
    assert decision.reasons == [] and decision.rules_fired == [] and decision.review_queue is None
    assert decision.score == 600 and decision.grade == "B"
    assert decision.score_points and set(decision.score_points) <= set(policy.scorecard.features)
    offer = decision.offer
    assert offer is not None
    # grade B: 4 x 12,000 yuan income = 48,000 yuan, under the product's 50,000 maximum
    assert offer.limit == 4_800_000
    assert (offer.annual_rate, offer.monthly_fee_rate, offer.apr_cap) == (0.14, 0.0, 0.24)
    assert offer.terms == STD.terms and offer.min_amount == STD.min_amount
    assert offer.expires_at is None  # dated by the workflow when it is offered
    assert (decision.policy_version, decision.policy_hash) == (policy.version, policy.hash)


@pytest.mark.parametrize(
    ("rule", "changes", "outcome", "reasons", "queue"),
    DECIDE_RULES,
    ids=[r[0] for r in DECIDE_RULES],
)
def test_each_rule_fires_alone_with_its_reason(
    decide, rule: str, changes: dict[str, Any], outcome: O, reasons: list[RC], queue: str | None
) -> None:
    decision = decide(make_input(**changes))
    assert decision.rules_fired == [rule]
    assert (decision.outcome, decision.reasons, decision.review_queue) == (outcome, reasons, queue)
    if outcome == O.REJECT:
        assert decision.offer is None
        assert decision.reapply_after is not None and decision.reapply_after >= NOW.date()
    else:
        assert decision.offer is not None and decision.reapply_after is None


@pytest.mark.parametrize(
    "changes", [c[1] for c in DECIDE_PASSES], ids=[c[0] for c in DECIDE_PASSES]
)
def test_values_on_the_cut_off_are_approved(decide, changes: dict[str, Any]) -> None:
    decision = decide(make_input(**changes))
    assert (decision.outcome, decision.rules_fired) == (O.APPROVE, [])


@pytest.mark.parametrize(
    ("score", "outcome", "grade", "rate", "multiple"),
    [
        (459, O.REJECT, "D", None, None),
        (460, O.REVIEW, "D", 0.22, 2),
        (524, O.REVIEW, "D", 0.22, 2),
        (525, O.APPROVE, "D", 0.22, 2),
        (555, O.APPROVE, "C", 0.18, 3),
        (585, O.APPROVE, "B", 0.14, 4),
        (609, O.APPROVE, "B", 0.14, 4),
        (610, O.APPROVE, "A", 0.10, 6),
    ],
)
def test_score_cut_offs_grades_limits_and_prices(
    decide, score: int, outcome: O, grade: str, rate: float | None, multiple: int | None
) -> None:
    income = 500_000  # small enough that no grade reaches a largest limit
    inp = make_input(bureau={"monthly_income": income, "monthly_debt_payment": 0})
    decision = decide(inp, Scored(score, {}, 0.05))
    assert (decision.outcome, decision.grade, decision.score) == (outcome, grade, score)
    if rate is None:
        assert decision.offer is None
        return
    assert decision.offer is not None
    assert (decision.offer.annual_rate, decision.offer.limit) == (rate, multiple * income)


def test_limits_are_capped_and_rounded_down_to_100_yuan(decide) -> None:
    assert decide(make_input(bureau={"monthly_income": 12_345_678})).offer.limit == 5_000_000
    # 4 x 1,234,567 = 4,938,268 fen -> 49,300 yuan
    assert decide(make_input(bureau={"monthly_income": 1_234_567})).offer.limit == 4_930_000
    thin = decide(
        make_input(bureau={"has_record": False, "score": None, "monthly_income": 3_000_000})
    )
    assert thin.grade == "D" and thin.offer.limit == 2_000_000  # the thin-file largest limit


def test_every_fired_rule_is_listed_and_the_top_three_reasons_shown(decide) -> None:
    decision = decide(
        make_input(
            identity={"age": 19},
            bureau={"current_overdue_amount": 5_000, "inquiries_3m": 9, "on_court_blacklist": True},
            carrier={"months_on_network": 2},
        )
    )
    assert decision.outcome == O.REJECT
    assert set(decision.rules_fired) >= {
        "R001_age_out_of_range",
        "P008_court_dishonest_debtor",
        "R002_current_overdue",
        "R004_inquiries_3m",
        "R010_carrier_tenure",
    }
    # P008 bars for a year, R001 for 180 days, then the 90-day reasons in firing order.
    assert decision.reasons == [
        RC.P008_COURT_DISHONEST_DEBTOR,
        RC.R001_AGE_OUT_OF_RANGE,
        RC.R002_CURRENT_OVERDUE,
    ]
    assert decision.reapply_after == NOW.date() + timedelta(days=365)


def test_failed_identity_without_reasons_still_names_one(decide) -> None:
    assert decide(make_input(identity={"passed": False})).reasons == [RC.I002_IDENTITY_MISMATCH]


def test_same_input_gives_the_same_decision(decide) -> None:
    assert decide(make_input()) == decide(make_input())


def test_every_rule_of_the_decision_graph_has_a_table_row(policy: Policy) -> None:
    assert sorted(policy.rule_ids["decide"]) == sorted(r[0] for r in DECIDE_RULES)
