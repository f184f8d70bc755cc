"""Properties of equal-installment schedules and of APR as the IRR of every cash flow."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.pricing import PriceAboveCap, build_schedule, irr_apr

principals = st.integers(min_value=1, max_value=50_000_000)
terms = st.integers(min_value=1, max_value=60)
rates = st.sampled_from([0.0, 0.036, 0.08, 0.10, 0.14, 0.18, 0.22, 0.24, 0.30, 0.35])
fee_rates = st.sampled_from([0.0, 0.0005, 0.001, 0.002])
NO_CAP = 100.0


@given(principals, terms, rates, fee_rates)
def test_schedule_repays_the_principal_exactly(
    principal: int, term: int, rate: float, fee_rate: float
) -> None:
    schedule = build_schedule(principal, term, rate, fee_rate, apr_cap=NO_CAP)
    rows = schedule.installments
    assert [row.period for row in rows] == list(range(1, term + 1))
    assert sum(row.principal for row in rows) == principal
    assert rows[-1].remaining_principal == 0
    remaining = principal
    for row in rows:
        assert row.principal >= 0 and row.interest >= 0
        assert row.payment == row.principal + row.interest + row.fee
        remaining -= row.principal
        assert row.remaining_principal == remaining
    assert schedule.total_interest == sum(row.interest for row in rows)
    assert schedule.total_fees == sum(row.fee for row in rows) + schedule.upfront_fee
    assert schedule.total_repayment == principal + schedule.total_interest + sum(
        row.fee for row in rows
    )


@given(st.integers(min_value=10_000, max_value=50_000_000), terms, rates)
def test_installments_are_level_but_for_the_last(principal: int, term: int, rate: float) -> None:
    payments = [
        row.payment for row in build_schedule(principal, term, rate, apr_cap=NO_CAP).installments
    ]
    assert len(set(payments[:-1])) <= 1
    # The last one absorbs the rounding: at most one fen per period (half from the level
    # payment, half from the interest), carried forward at the loan's own rate.
    monthly = rate / 12
    carried = term if monthly == 0 else ((1 + monthly) ** term - 1) / monthly
    assert abs(payments[-1] - payments[0]) <= carried + 1


@given(principals, terms, rates, fee_rates, st.integers(min_value=0, max_value=1_000_000))
def test_same_inputs_give_the_identical_schedule(
    principal: int, term: int, rate: float, fee_rate: float, upfront: int
) -> None:
    upfront = upfront % principal
    first = build_schedule(principal, term, rate, fee_rate, upfront, apr_cap=NO_CAP)
    second = build_schedule(principal, term, rate, fee_rate, upfront, apr_cap=NO_CAP)
    assert first == second
    assert first.model_dump_json() == second.model_dump_json()


@given(
    st.integers(min_value=10_000, max_value=50_000_000),
    terms,
    rates,
    fee_rates,
    st.sampled_from([0.20, 0.24, 0.36]),
)
def test_the_cap_refuses_exactly_the_prices_above_it(
    principal: int, term: int, rate: float, fee_rate: float, cap: float
) -> None:
    apr = build_schedule(principal, term, rate, fee_rate, apr_cap=NO_CAP).apr
    if apr > cap:
        with pytest.raises(PriceAboveCap):
            build_schedule(principal, term, rate, fee_rate, apr_cap=cap)
    else:
        assert build_schedule(principal, term, rate, fee_rate, apr_cap=cap).apr == apr


@given(
    st.integers(min_value=10_000, max_value=50_000_000),
    terms,
    st.floats(min_value=0.245, max_value=2.0),
)
def test_a_nominal_rate_above_the_cap_raises(principal: int, term: int, rate: float) -> None:
    with pytest.raises(PriceAboveCap):
        build_schedule(principal, term, rate, apr_cap=0.24)


@given(
    st.integers(min_value=10_000, max_value=50_000_000),
    terms,
    rates,
    st.integers(min_value=50, max_value=1_000),
)
def test_an_upfront_fee_lifts_the_apr_above_the_nominal_rate(
    principal: int, term: int, rate: float, fee_bps: int
) -> None:
    upfront = principal * fee_bps // 10_000  # 0.5% to 10% kept back at disbursement
    plain = build_schedule(principal, term, rate, apr_cap=NO_CAP)
    with_fee = build_schedule(principal, term, rate, upfront_fee=upfront, apr_cap=NO_CAP)
    assert with_fee.apr > rate
    assert with_fee.apr > plain.apr
    assert with_fee.installments == plain.installments
    assert with_fee.total_fees == upfront


@given(
    st.integers(min_value=1_000_000, max_value=50_000_000),
    terms,
    st.sampled_from([0.06, 0.12, 0.24, 0.36]),
)
def test_irr_of_an_exact_annuity_is_its_rate(principal: int, term: int, rate: float) -> None:
    monthly = rate / 12
    level = principal * monthly / (1 - (1 + monthly) ** -term)
    # from 10,000 yuan up, half a fen of rounding per payment moves the IRR by < 0.01%
    assert irr_apr(principal, [round(level)] * term) == pytest.approx(rate, abs=1e-4)


def test_a_zero_rate_loan_without_fees_has_zero_apr() -> None:
    schedule = build_schedule(1_000_000, 12, 0.0)
    assert schedule.apr == 0.0 and schedule.total_interest == 0
    assert schedule.total_repayment == 1_000_000


def test_a_known_schedule() -> None:
    # 10,000 yuan over 12 months at 18%: the textbook 916.80 yuan installment
    schedule = build_schedule(1_000_000, 12, 0.18)
    assert schedule.installments[0].payment == 91_680
    assert schedule.installments[0].interest == 15_000
    assert schedule.total_interest == 100_161
    assert schedule.apr == pytest.approx(0.18, abs=1e-5)


@pytest.mark.parametrize(
    ("principal", "term", "rate", "fee_rate", "upfront"),
    [
        (0, 12, 0.1, 0.0, 0),
        (1_000, 0, 0.1, 0.0, 0),
        (1_000, 12, -0.1, 0.0, 0),
        (1_000, 12, 0.1, -0.001, 0),
        (1_000, 12, 0.1, 0.0, -1),
        (1_000, 12, 0.1, 0.0, 1_000),
    ],
)
def test_nonsense_is_refused(
    principal: int, term: int, rate: float, fee_rate: float, upfront: int
) -> None:
    with pytest.raises(ValueError):
        build_schedule(principal, term, rate, fee_rate, upfront, apr_cap=NO_CAP)


def test_a_rate_too_small_to_tell_from_zero_is_priced_as_zero() -> None:
    """Found by schemathesis: `annual_rate=3e-209` made 1 - (1 + r)^-n exactly 0 (a 500)."""
    tiny = build_schedule(1, 1, 3.266782444747466e-209)
    assert [i.principal for i in tiny.installments] == [1]
    assert (
        build_schedule(120_000, 12, 1e-300).installments
        == build_schedule(120_000, 12, 0).installments
    )
