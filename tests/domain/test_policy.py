"""The first decision policy: every rule, reason code, boundary and the price guard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from domain.enums import DecisionOutcome
from domain.models import BureauReport, CarrierReport, DecisionInput, IdentityOutcome
from domain.policy import (
    DEFAULT_POLICY,
    GradeBand,
    PolicyParameters,
    RuleId,
    by_severity,
    evaluate,
    pre_payout,
)
from domain.pricing import PriceAboveCap, build_schedule
from domain.products import PRODUCTS, Product
from domain.reasons import ReasonCode as RC

NOW = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)
STD = PRODUCTS["CASH_STD"]


def make_input(
    *,
    identity: dict[str, Any] | None = None,
    bureau: dict[str, Any] | None = None,
    carrier: dict[str, Any] | None = None,
    no_carrier: bool = False,
    product: Product = STD,
) -> DecisionInput:
    """A clean grade-B applicant; each test changes only what it is about."""
    bureau_fields: dict[str, Any] = {
        "has_record": True,
        "score": 700,
        "monthly_income": 1_200_000,
        "monthly_debt_payment": 200_000,
        "inquiries_3m": 1,
        "lenders_6m": 1,
        "fetched_at": NOW - timedelta(minutes=5),
    }
    bureau_fields.update(bureau or {})
    carrier_fields: dict[str, Any] = {
        "months_on_network": 48,
        "real_name_match": True,
        "contacts_in_call_log": 120,
        "night_call_ratio": 0.05,
        "monthly_bill_avg": 8_800,
    }
    carrier_fields.update(carrier or {})
    identity_fields: dict[str, Any] = {"passed": True, "age": 30, "liveness_passed": True}
    identity_fields.update(identity or {})
    return DecisionInput(
        application_id="app-1",
        product=product,
        requested_amount=1_000_000,
        requested_term=12,
        decided_on=NOW.date(),
        identity=IdentityOutcome(**identity_fields),
        bureau=BureauReport(**bureau_fields),
        carrier=None if no_carrier else CarrierReport(**carrier_fields),
    )


def test_clean_applicant_is_approved_with_a_priced_offer() -> None:
    decision = evaluate(make_input(), NOW)
    assert decision.outcome == DecisionOutcome.APPROVE
    assert decision.reasons == []
    assert decision.rules_fired == []
    assert decision.grade == "B" and decision.score == 700
    offer = decision.offer
    assert offer is not None
    # grade B: 4 x 12,000 yuan income = 48,000 yuan, under the product's 50,000 maximum
    assert offer.limit == 4_800_000
    assert offer.annual_rate == 0.14 and offer.monthly_fee_rate == 0.0 and offer.apr_cap == 0.24
    assert offer.terms == STD.terms and offer.min_amount == STD.min_amount
    assert offer.expires_at == NOW + STD.timeouts.offer
    assert decision.policy_version == DEFAULT_POLICY.version
    assert decision.policy_hash == DEFAULT_POLICY.policy_hash
    assert decision.review_queue is None


# (case, changes, outcome, reasons, rules fired)
HARD_RULES = [
    ("age below window", {"identity": {"age": 21}}, [RC.R001_AGE_OUT_OF_RANGE],
     [RuleId.AGE_OUT_OF_RANGE]),
    ("age above window", {"identity": {"age": 56}}, [RC.R001_AGE_OUT_OF_RANGE],
     [RuleId.AGE_OUT_OF_RANGE]),
    ("age unknown", {"identity": {"age": None}}, [RC.R001_AGE_OUT_OF_RANGE],
     [RuleId.AGE_OUT_OF_RANGE]),
    ("court blacklist", {"bureau": {"on_court_blacklist": True}}, [RC.P001_BLACKLISTED],
     [RuleId.COURT_BLACKLIST]),
    ("current overdue 1 fen", {"bureau": {"current_overdue_amount": 1}},
     [RC.R002_CURRENT_OVERDUE], [RuleId.CURRENT_OVERDUE]),
    ("overdue 91 days", {"bureau": {"max_overdue_days_24m": 91}}, [RC.R003_OVERDUE_HISTORY],
     [RuleId.OVERDUE_DAYS]),
    ("3 overdues", {"bureau": {"overdue_count_24m": 3}}, [RC.R003_OVERDUE_HISTORY],
     [RuleId.OVERDUE_COUNT]),
    ("both overdue rules, one reason",
     {"bureau": {"overdue_count_24m": 4, "max_overdue_days_24m": 120}},
     [RC.R003_OVERDUE_HISTORY], [RuleId.OVERDUE_DAYS, RuleId.OVERDUE_COUNT]),
    ("7 inquiries", {"bureau": {"inquiries_3m": 7}}, [RC.R004_TOO_MANY_INQUIRIES],
     [RuleId.INQUIRIES]),
    ("6 lenders", {"bureau": {"lenders_6m": 6}}, [RC.R005_MULTI_LENDING], [RuleId.LENDERS]),
    ("debt-to-income above 0.6", {"bureau": {"monthly_debt_payment": 720_001}},
     [RC.R006_HIGH_DEBT_TO_INCOME], [RuleId.DEBT_TO_INCOME]),
    ("no income", {"bureau": {"monthly_income": 0, "monthly_debt_payment": 0}},
     [RC.R006_HIGH_DEBT_TO_INCOME], [RuleId.DEBT_TO_INCOME]),
    ("phone 5 months old", {"carrier": {"months_on_network": 5}}, [RC.R010_CARRIER_TENURE],
     [RuleId.CARRIER_TENURE]),
    ("phone in another name", {"carrier": {"real_name_match": False}},
     [RC.R010_CARRIER_TENURE], [RuleId.CARRIER_REAL_NAME]),
    ("score 549", {"bureau": {"score": 549}}, [RC.R007_LOW_SCORE], [RuleId.LOW_SCORE]),
    ("limit under the product minimum", {"bureau": {"monthly_income": 12_499,
                                                     "monthly_debt_payment": 0}},
     [RC.R006_HIGH_DEBT_TO_INCOME], [RuleId.LIMIT_BELOW_MINIMUM]),
]


@pytest.mark.parametrize(
    ("changes", "reasons", "rules"),
    [case[1:] for case in HARD_RULES],
    ids=[case[0] for case in HARD_RULES],
)
def test_each_hard_rule_rejects_with_its_reason(
    changes: dict[str, Any], reasons: list[RC], rules: list[RuleId]
) -> None:
    decision = evaluate(make_input(**changes), NOW)
    assert decision.outcome == DecisionOutcome.REJECT
    assert decision.reasons == reasons
    assert decision.rules_fired == rules
    assert decision.offer is None and decision.review_queue is None


# Values exactly on a cut-off that must not fire.
BOUNDARIES_THAT_PASS = [
    ("age 22", {"identity": {"age": 22}}),
    ("age 55", {"identity": {"age": 55}}),
    ("overdue exactly 90 days", {"bureau": {"max_overdue_days_24m": 90}}),
    ("2 overdues", {"bureau": {"overdue_count_24m": 2}}),
    ("6 inquiries", {"bureau": {"inquiries_3m": 6}}),
    ("5 lenders", {"bureau": {"lenders_6m": 5}}),
    ("debt-to-income exactly 0.6", {"bureau": {"monthly_debt_payment": 720_000}}),
    ("phone 6 months old", {"carrier": {"months_on_network": 6}}),
    ("score 620", {"bureau": {"score": 620}}),
    ("no carrier report collected", {"no_carrier": True}),
]


@pytest.mark.parametrize(
    "changes", [c[1] for c in BOUNDARIES_THAT_PASS], ids=[c[0] for c in BOUNDARIES_THAT_PASS]
)
def test_values_on_the_cut_off_are_approved(changes: dict[str, Any]) -> None:
    decision = evaluate(make_input(**changes), NOW)
    assert decision.outcome == DecisionOutcome.APPROVE, decision.rules_fired
    assert decision.rules_fired == []


@pytest.mark.parametrize(
    ("score", "outcome", "grade", "rate", "multiple"),
    [
        (549, DecisionOutcome.REJECT, "D", None, None),
        (550, DecisionOutcome.REVIEW, "D", 0.22, 2),
        (619, DecisionOutcome.REVIEW, "D", 0.22, 2),
        (620, DecisionOutcome.APPROVE, "C", 0.18, 3),
        (689, DecisionOutcome.APPROVE, "C", 0.18, 3),
        (690, DecisionOutcome.APPROVE, "B", 0.14, 4),
        (749, DecisionOutcome.APPROVE, "B", 0.14, 4),
        (750, DecisionOutcome.APPROVE, "A", 0.10, 6),
        (900, DecisionOutcome.APPROVE, "A", 0.10, 6),
    ],
)
def test_score_bands_grades_and_prices(
    score: int, outcome: DecisionOutcome, grade: str, rate: float | None, multiple: int | None
) -> None:
    income = 500_000  # small enough that no grade reaches the product maximum
    decision = evaluate(make_input(bureau={"score": score, "monthly_income": income,
                                           "monthly_debt_payment": 0}), NOW)
    assert decision.outcome == outcome
    assert decision.grade == grade
    if rate is None:
        assert decision.offer is None
        return
    assert decision.offer is not None
    assert decision.offer.annual_rate == rate
    assert decision.offer.limit == multiple * income


def test_grey_zone_goes_to_review_with_a_provisional_offer() -> None:
    decision = evaluate(make_input(bureau={"score": 600}), NOW)
    assert decision.outcome == DecisionOutcome.REVIEW
    assert decision.reasons == [RC.R008_GREY_ZONE]
    assert decision.review_queue == "GREY_ZONE"
    assert decision.rules_fired == [RuleId.GREY_ZONE]
    assert decision.offer is not None and decision.offer.grade == "D"
    assert decision.offer.limit == 2_400_000
    assert decision.offer.expires_at == NOW + STD.timeouts.offer


def test_thin_file_goes_to_review_unless_a_hard_rule_rejects() -> None:
    thin = {"has_record": False, "score": None}
    decision = evaluate(make_input(bureau=thin), NOW)
    assert decision.outcome == DecisionOutcome.REVIEW
    assert decision.reasons == [RC.R009_THIN_FILE]
    assert decision.review_queue == "THIN_FILE"
    assert decision.offer is not None and decision.offer.grade == "D"

    rejected = evaluate(make_input(bureau=thin, identity={"age": 60}), NOW)
    assert rejected.outcome == DecisionOutcome.REJECT
    assert rejected.reasons == [RC.R001_AGE_OUT_OF_RANGE]
    assert rejected.rules_fired == [RuleId.AGE_OUT_OF_RANGE, RuleId.THIN_FILE]
    assert rejected.offer is None and rejected.review_queue is None


def test_record_without_a_score_is_a_thin_file() -> None:
    decision = evaluate(make_input(bureau={"score": None}), NOW)
    assert decision.outcome == DecisionOutcome.REVIEW
    assert decision.reasons == [RC.R009_THIN_FILE]


def test_failed_identity_rejects_with_its_own_reasons() -> None:
    decision = evaluate(
        make_input(identity={"passed": False, "reasons": [RC.I007_LIVENESS_FAILED,
                                                          RC.I003_FACE_MISMATCH]}),
        NOW,
    )
    assert decision.outcome == DecisionOutcome.REJECT
    assert decision.reasons == [RC.I003_FACE_MISMATCH, RC.I007_LIVENESS_FAILED]
    assert decision.rules_fired == [RuleId.IDENTITY_NOT_PASSED]


def test_failed_identity_without_reasons_still_names_one() -> None:
    decision = evaluate(make_input(identity={"passed": False}), NOW)
    assert decision.reasons == [RC.I002_IDENTITY_MISMATCH]


def test_every_fired_rule_is_listed_and_reasons_are_ordered_by_severity() -> None:
    decision = evaluate(
        make_input(
            identity={"age": 19},
            bureau={"current_overdue_amount": 5_000, "inquiries_3m": 9, "lenders_6m": 8,
                    "on_court_blacklist": True, "score": 500},
            carrier={"months_on_network": 2},
        ),
        NOW,
    )
    assert decision.outcome == DecisionOutcome.REJECT
    # P001 bars for a year, R001 for 180 days, the rest for 90 in the order they fired.
    assert decision.reasons == [
        RC.P001_BLACKLISTED, RC.R001_AGE_OUT_OF_RANGE, RC.R002_CURRENT_OVERDUE,
        RC.R004_TOO_MANY_INQUIRIES, RC.R005_MULTI_LENDING, RC.R010_CARRIER_TENURE,
        RC.R007_LOW_SCORE,
    ]
    assert set(decision.rules_fired) == {
        RuleId.AGE_OUT_OF_RANGE, RuleId.COURT_BLACKLIST, RuleId.CURRENT_OVERDUE,
        RuleId.INQUIRIES, RuleId.LENDERS, RuleId.CARRIER_TENURE, RuleId.LOW_SCORE,
    }


def test_by_severity_dedupes_and_keeps_ties_in_firing_order() -> None:
    codes = [RC.R005_MULTI_LENDING, RC.R002_CURRENT_OVERDUE, RC.R005_MULTI_LENDING,
             RC.P001_BLACKLISTED, RC.I003_FACE_MISMATCH]
    assert by_severity(codes) == [RC.P001_BLACKLISTED, RC.R005_MULTI_LENDING,
                                  RC.R002_CURRENT_OVERDUE, RC.I003_FACE_MISMATCH]


@pytest.mark.parametrize(
    ("income", "limit"),
    [
        (12_345_678, 5_000_000),  # capped by the product maximum
        (1_234_567, 4_930_000),  # 4 x 1,234,567 = 4,938,268 fen -> down to 49,300 yuan
        (12_500, 50_000),  # exactly the product minimum after rounding
    ],
)
def test_limit_is_capped_and_rounded_down_to_100_yuan(income: int, limit: int) -> None:
    decision = evaluate(make_input(bureau={"monthly_income": income,
                                           "monthly_debt_payment": 0}), NOW)
    assert decision.offer is not None
    assert decision.offer.limit == limit


def test_offer_is_priced_within_the_cap_on_every_term() -> None:
    offer = evaluate(make_input(bureau={"score": 560}), NOW).offer
    assert offer is not None
    for term in offer.terms:
        for amount in (offer.min_amount, offer.limit):
            schedule = build_schedule(amount, term, offer.annual_rate, offer.monthly_fee_rate)
            assert schedule.apr <= offer.apr_cap


def test_same_input_gives_the_same_decision() -> None:
    assert evaluate(make_input(), NOW) == evaluate(make_input(), NOW)


def test_policy_hash_follows_the_parameters() -> None:
    assert DEFAULT_POLICY.policy_hash == PolicyParameters().policy_hash
    assert len(DEFAULT_POLICY.policy_hash) == 64
    stricter = PolicyParameters(max_inquiries_3m=4)
    assert stricter.policy_hash != DEFAULT_POLICY.policy_hash
    decision = evaluate(make_input(bureau={"inquiries_3m": 5}), NOW, stricter)
    assert decision.outcome == DecisionOutcome.REJECT
    assert decision.policy_hash == stricter.policy_hash


def _refused_for_price(**fields: Any) -> bool:
    with pytest.raises(ValidationError) as refused:
        PolicyParameters(**fields)
    return isinstance(refused.value.errors()[0]["ctx"]["error"], PriceAboveCap)


def test_a_price_above_the_cap_is_refused_at_construction() -> None:
    greedy = DEFAULT_POLICY.grades[:3] + (
        GradeBand(grade="D", min_score=0, limit_multiple=2.0, annual_rate=0.25),
    )
    assert _refused_for_price(grades=greedy)
    assert _refused_for_price(monthly_fee_rate=0.01)  # 12% a year of flat fees on top of 22%
    assert _refused_for_price(apr_cap=0.20)  # grade D's 22% no longer fits


def test_a_cap_above_the_legal_ceiling_is_refused() -> None:
    with pytest.raises(ValueError, match="legal cap"):
        PolicyParameters(apr_cap=0.37)


def test_incoherent_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="reject_below_score"):
        PolicyParameters(reject_below_score=700)
    with pytest.raises(ValueError, match="best first"):
        PolicyParameters(grades=tuple(reversed(DEFAULT_POLICY.grades)))


def test_a_product_with_an_unpriced_term_is_refused_when_offered() -> None:
    # A flat monthly fee makes the APR peak at middle terms: at 5% + 0.8% a month, 16 months
    # costs about 22.11% while the catalogue's 12 and 24 months stay under 22.03%.
    tight = PolicyParameters(
        monthly_fee_rate=0.008,
        apr_cap=0.2208,
        grades=tuple(b.model_copy(update={"annual_rate": 0.05}) for b in DEFAULT_POLICY.grades),
    )
    assert evaluate(make_input(), NOW, tight).offer is not None
    sixteen = STD.model_copy(update={"code": "CASH_16", "terms": [16]})
    with pytest.raises(PriceAboveCap):
        evaluate(make_input(product=sixteen), NOW, tight)


# ---------------------------------------------------------------- pre-payout


def fresh_bureau(**changes: Any) -> BureauReport:
    fields: dict[str, Any] = {"has_record": True, "score": 700, "monthly_income": 1_000_000,
                              "monthly_debt_payment": 100_000, "fetched_at": NOW}
    fields.update(changes)
    return BureauReport(**fields)


def test_pre_payout_passes_when_nothing_changed() -> None:
    assert pre_payout(None, blacklisted=False).outcome == DecisionOutcome.APPROVE
    verdict = pre_payout(fresh_bureau(), blacklisted=False)
    assert verdict.outcome == DecisionOutcome.APPROVE
    assert verdict.reasons == [] and verdict.rules_fired == []


@pytest.mark.parametrize(
    ("bureau", "blacklisted", "outcome", "reasons", "rules"),
    [
        (None, True, DecisionOutcome.REJECT, [RC.P001_BLACKLISTED],
         [RuleId.PLATFORM_BLACKLIST]),
        (fresh_bureau(on_court_blacklist=True), False, DecisionOutcome.REJECT,
         [RC.P001_BLACKLISTED], [RuleId.COURT_BLACKLIST]),
        (fresh_bureau(current_overdue_amount=100), False, DecisionOutcome.REJECT,
         [RC.D001_PRE_PAYOUT_RISK], [RuleId.NEW_CURRENT_OVERDUE]),
        (fresh_bureau(overdue_count_24m=3), False, DecisionOutcome.REJECT,
         [RC.D001_PRE_PAYOUT_RISK], [RuleId.NEW_OVERDUE_HISTORY]),
        (fresh_bureau(inquiries_3m=7), False, DecisionOutcome.REVIEW,
         [RC.D001_PRE_PAYOUT_RISK], [RuleId.NEW_INQUIRIES]),
        (fresh_bureau(lenders_6m=6), False, DecisionOutcome.REVIEW,
         [RC.D001_PRE_PAYOUT_RISK], [RuleId.NEW_LENDERS]),
        (fresh_bureau(monthly_debt_payment=600_001), False, DecisionOutcome.REVIEW,
         [RC.D001_PRE_PAYOUT_RISK], [RuleId.NEW_DEBT_TO_INCOME]),
        (fresh_bureau(lenders_6m=9, current_overdue_amount=1), True, DecisionOutcome.REJECT,
         [RC.P001_BLACKLISTED, RC.D001_PRE_PAYOUT_RISK],
         [RuleId.PLATFORM_BLACKLIST, RuleId.NEW_CURRENT_OVERDUE, RuleId.NEW_LENDERS]),
    ],
)
def test_pre_payout_rules(
    bureau: BureauReport | None, blacklisted: bool, outcome: DecisionOutcome,
    reasons: list[RC], rules: list[RuleId],
) -> None:
    verdict = pre_payout(bureau, blacklisted)
    assert verdict.outcome == outcome
    assert verdict.reasons == reasons
    assert verdict.rules_fired == rules
    assert verdict.review_queue == ("PRE_PAYOUT" if outcome == DecisionOutcome.REVIEW else None)

