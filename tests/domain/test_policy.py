"""What every policy shares: rule hits folded into an outcome, reasons by severity, the
re-application date, the price table's cap check and the offer guard. The rules themselves are
data and are tested in tests/decisioning."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from domain.enums import DecisionOutcome
from domain.policy import (
    PriceBand,
    PriceTable,
    RuleAction,
    RuleHit,
    by_severity,
    fold,
    make_offer,
    reapply_date,
    verify_price,
)
from domain.pricing import PriceAboveCap, build_schedule
from domain.products import PRODUCTS
from domain.reasons import REASONS
from domain.reasons import ReasonCode as RC

NOW = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)
TODAY = NOW.date()
STD = PRODUCTS["CASH_STD"]
BANDS = (
    PriceBand(grade="A", limit_multiple=6, max_limit=5_000_000, annual_rate=0.10),
    PriceBand(grade="D", limit_multiple=2, max_limit=3_000_000, annual_rate=0.22),
)


def hit(
    rule: str,
    *codes: RC,
    action: RuleAction = RuleAction.REJECT,
    queue: str | None = None,
    days: int | None = None,
) -> RuleHit:
    return RuleHit(rule=rule, reasons=codes, action=action, queue=queue, reapply_in_days=days)


def test_no_hit_approves() -> None:
    verdict = fold([], TODAY)
    assert verdict.outcome == DecisionOutcome.APPROVE
    assert verdict.reasons == [] and verdict.review_queue is None and verdict.reapply_after is None


def test_a_reject_outweighs_every_review() -> None:
    verdict = fold(
        [
            hit("grey", RC.R008_GREY_ZONE, action=RuleAction.REVIEW, queue="GREY_ZONE"),
            hit("overdue", RC.R002_CURRENT_OVERDUE),
        ],
        TODAY,
    )
    assert verdict.outcome == DecisionOutcome.REJECT
    assert verdict.reasons == [RC.R002_CURRENT_OVERDUE]
    assert verdict.review_queue is None
    assert verdict.reapply_after == TODAY + timedelta(days=90)


def test_review_takes_the_queue_of_its_most_severe_reason() -> None:
    verdict = fold(
        [
            hit("grey", RC.R008_GREY_ZONE, action=RuleAction.REVIEW, queue="GREY_ZONE"),
            hit("thin", RC.R009_THIN_FILE, action=RuleAction.REVIEW, queue="THIN_FILE"),
        ],
        TODAY,
    )
    assert verdict.outcome == DecisionOutcome.REVIEW
    assert verdict.reasons == [RC.R009_THIN_FILE, RC.R008_GREY_ZONE]
    assert verdict.review_queue == "THIN_FILE" and verdict.reapply_after is None


def test_top_reasons_keep_the_most_severe() -> None:
    verdict = fold(
        [
            hit("a", RC.R004_TOO_MANY_INQUIRIES),
            hit("b", RC.R001_AGE_OUT_OF_RANGE),
            hit("c", RC.P001_BLACKLISTED),
            hit("d", RC.R005_MULTI_LENDING),
        ],
        TODAY,
    )
    assert verdict.top_reasons(2) == [RC.P001_BLACKLISTED, RC.R001_AGE_OUT_OF_RANGE]
    # The earliest re-application date follows every reason, shown or not.
    assert verdict.reapply_after == TODAY + timedelta(days=365)


def test_by_severity_dedupes_and_keeps_ties_in_firing_order() -> None:
    codes = [
        RC.R005_MULTI_LENDING,
        RC.R002_CURRENT_OVERDUE,
        RC.R005_MULTI_LENDING,
        RC.P001_BLACKLISTED,
        RC.I003_FACE_MISMATCH,
    ]
    assert by_severity(codes) == [
        RC.P001_BLACKLISTED,
        RC.R005_MULTI_LENDING,
        RC.R002_CURRENT_OVERDUE,
        RC.I003_FACE_MISMATCH,
    ]


@pytest.mark.parametrize(
    ("hits", "days"),
    [
        ([hit("retake", RC.I004_NO_FACE)], 0),
        ([hit("cool", RC.P004_COOL_DOWN, days=41)], 41),
        ([hit("cool", RC.P004_COOL_DOWN, days=10), hit("score", RC.R007_LOW_SCORE)], 90),
        ([hit("list", RC.P001_BLACKLISTED), hit("cool", RC.P004_COOL_DOWN, days=400)], 400),
    ],
)
def test_reapply_date_is_the_latest_cool_down(hits: list[RuleHit], days: int) -> None:
    assert reapply_date(hits, date(2026, 1, 31)) == date(2026, 1, 31) + timedelta(days=days)


def test_every_reason_has_a_message_and_a_cool_down() -> None:
    for code in RC:
        info = REASONS[code]
        assert info.code == code and info.applicant_message and info.internal
        assert info.cool_down_days >= 0 and info.name == code.name.split("_", 1)[1]


def test_a_price_table_within_the_cap_is_accepted() -> None:
    table = PriceTable(bands=BANDS, apr_cap=0.24, products=tuple(PRODUCTS.values()))
    assert table.apr_cap == 0.24


@pytest.mark.parametrize(
    ("band", "cap"),
    [
        (PriceBand(grade="D", limit_multiple=2, max_limit=1, annual_rate=0.25), 0.24),
        (
            PriceBand(
                grade="D", limit_multiple=2, max_limit=1, annual_rate=0.22, monthly_fee_rate=0.01
            ),
            0.24,
        ),  # 12% a year of flat fees on top of 22%
        (PriceBand(grade="D", limit_multiple=2, max_limit=1, annual_rate=0.22), 0.20),
    ],
)
def test_a_price_above_the_cap_is_refused(band: PriceBand, cap: float) -> None:
    with pytest.raises(ValidationError) as refused:
        PriceTable(bands=(band,), apr_cap=cap, products=tuple(PRODUCTS.values()))
    assert isinstance(refused.value.errors()[0]["ctx"]["error"], PriceAboveCap)
    assert "grade D" in str(refused.value)


def test_a_cap_above_the_legal_ceiling_is_refused() -> None:
    with pytest.raises(ValidationError, match="legal cap"):
        PriceTable(bands=BANDS, apr_cap=0.37, products=tuple(PRODUCTS.values()))


def test_the_offer_carries_the_price_and_expires_with_the_product() -> None:
    offer = make_offer(STD, BANDS[1], 2_400_000, 0.24)
    assert (offer.limit, offer.grade, offer.annual_rate, offer.monthly_fee_rate) == (
        2_400_000,
        "D",
        0.22,
        0.0,
    )
    assert offer.terms == STD.terms and offer.min_amount == STD.min_amount
    assert offer.apr_cap == 0.24 and offer.expires_at is None  # dated by the workflow
    for term in offer.terms:
        for amount in (offer.min_amount, offer.limit):
            assert build_schedule(amount, term, offer.annual_rate).apr <= offer.apr_cap


def test_no_offer_is_made_above_the_cap_or_outside_the_product() -> None:
    with pytest.raises(PriceAboveCap):
        make_offer(STD, BANDS[1], 2_400_000, 0.20)
    with pytest.raises(ValueError, match="outside"):
        make_offer(STD, BANDS[0], STD.max_amount + 1, 0.24)
    with pytest.raises(ValueError, match="outside"):
        make_offer(STD, BANDS[0], STD.min_amount - 1, 0.24)


def test_a_term_the_table_was_not_checked_on_is_refused_when_offered() -> None:
    # A flat monthly fee makes the APR peak at middle terms: at 5% + 0.8% a month, 16 months
    # costs about 22.11% while the catalogue's 12 and 24 months stay under 22.03%.
    band = PriceBand(
        grade="A", limit_multiple=2, max_limit=5_000_000, annual_rate=0.05, monthly_fee_rate=0.008
    )
    verify_price(band, STD, 0.2208)
    sixteen = STD.model_copy(update={"code": "CASH_16", "terms": [16]})
    with pytest.raises(PriceAboveCap, match="CASH_16, 16 months"):
        make_offer(sixteen, band, 1_000_000, 0.2208)
