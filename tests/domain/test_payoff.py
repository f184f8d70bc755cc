"""Early settlement: principal plus interest and fee to the day, the rest waived, fen-exact;
and the line's invariants under any sequence of draws, repayments and settlements."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.lines import DrawStatus, LedgerError, LineLedger, RepaymentSource
from domain.payoff import _pro_rata, payoff_quote, settle_early
from domain.pricing import build_schedule
from domain.products import LateFeeRule
from tests.domain.test_lines import AT, START, lend

RULE = LateFeeRule()


def test_paid_off_on_the_day_of_payout_costs_the_principal_only() -> None:
    ledger = LineLedger(limit=1_000_000)
    lend(ledger, "d1", 600_000, 3)
    quote = payoff_quote(ledger, START, RULE)
    assert quote.total == quote.principal == 600_000
    assert quote.interest == quote.fee == quote.late_fee == 0
    assert quote.waived == ledger.outstanding - 600_000


def test_interest_and_fee_accrue_by_the_days_of_the_current_period() -> None:
    ledger = LineLedger(limit=1_000_000)
    lend(ledger, "d1", 600_000, 3)  # 18 % a year, fee 0.1 % a month, paid out on Jan 31
    first = ledger.instalments[0]
    assert first.due_on == date(2026, 2, 28) and first.interest == 9_000 and first.fee == 600
    quote = payoff_quote(ledger, date(2026, 2, 14), RULE)  # 14 of the period's 28 days
    assert (quote.interest, quote.fee) == (4_500, 300)
    assert quote.total == 600_000 + 4_500 + 300
    assert [x.period for x in quote.lines] == [1, 2, 3]
    assert quote.lines[1].interest == 0 and quote.lines[2].interest == 0
    assert quote.total + quote.waived == ledger.outstanding
    assert _pro_rata(1, 14, 28) == 1 and _pro_rata(1, 13, 28) == 0  # half a fen rounds up


def test_a_due_instalment_is_owed_whole_with_its_late_fee() -> None:
    ledger = LineLedger(limit=1_000_000)
    lend(ledger, "d1", 600_000, 3)
    first, second = ledger.instalments[0], ledger.instalments[1]
    on = first.due_on + timedelta(days=10)  # second period: Feb 28 -> Mar 31, 10 of 31 days
    quote = payoff_quote(ledger, on, RULE)
    assert ledger.instalments[0].late_fee == 0  # the quote does not change the ledger
    late = quote.lines[0]
    assert late.interest == first.interest and late.fee == first.fee and late.late_fee > 0
    assert quote.lines[1].interest == (2 * second.interest * 10 + 31) // 62
    settled = settle_early(ledger, "settle-1", quote)
    assert settled.amount == quote.total and settled.principal == 600_000
    assert settled.source == RepaymentSource.EARLY_SETTLEMENT
    assert ledger.outstanding == 0 and ledger.available == 1_000_000
    assert ledger.draw("d1").status == DrawStatus.REPAID
    assert settle_early(ledger, "settle-1", quote) == settled  # the same reference books once
    assert len(ledger.repayments) == 1


def test_charges_paid_in_advance_are_kept_not_refunded() -> None:
    ledger = LineLedger(limit=1_000_000)
    lend(ledger, "d1", 600_000, 3)
    rows = ledger.instalments
    # pays instalment 1 whole and the charges of instalment 2 ahead of time
    ledger.apply("ahead", rows[0].outstanding + rows[1].charges, START, RepaymentSource.BORROWER)
    quote = payoff_quote(ledger, START + timedelta(days=1), RULE)
    assert [x.period for x in quote.lines] == [2, 3]
    assert quote.lines[0].interest == quote.lines[0].fee == 0
    assert quote.total + quote.waived == ledger.outstanding
    settle_early(ledger, "rest", quote)
    assert ledger.outstanding == 0


def test_one_draw_is_paid_off_and_the_other_runs_on() -> None:
    ledger = LineLedger(limit=1_000_000)
    lend(ledger, "d1", 300_000, 3)
    lend(ledger, "d2", 400_000, 6)
    quote = payoff_quote(ledger, START + timedelta(days=5), RULE, draw_id="d1")
    assert {x.draw_id for x in quote.lines} == {"d1"}
    settle_early(ledger, "d1-off", quote)
    assert ledger.draw("d1").status == DrawStatus.REPAID
    assert ledger.outstanding_principal == 400_000 and ledger.available == 600_000


def test_a_stale_quote_is_refused() -> None:
    ledger = LineLedger(limit=1_000_000)
    lend(ledger, "d1", 300_000, 3)
    quote = payoff_quote(ledger, START, RULE)
    ledger.apply("p1", 150_000, START, RepaymentSource.BORROWER)
    with pytest.raises(LedgerError):
        settle_early(ledger, "late", quote)
    with pytest.raises(LedgerError):
        settle_early(ledger, "none", payoff_quote(LineLedger(limit=1), START, RULE))


operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("draw"),
            st.integers(min_value=1, max_value=1_500_000),
            st.sampled_from([3, 6, 12]),
        ),
        st.tuples(st.just("repay"), st.integers(min_value=1, max_value=2_000_000)),
        st.tuples(st.just("days"), st.integers(min_value=0, max_value=120)),
        st.tuples(st.just("settle"), st.integers(min_value=0, max_value=8)),
    ),
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(limit=st.integers(min_value=100_000, max_value=3_000_000), ops=operations)
def test_settlements_keep_the_limit_and_schedule_every_fen_once(
    limit: int, ops: list[tuple]
) -> None:
    ledger = LineLedger(limit=limit)
    today, n = START, 0
    for op in ops:
        if op[0] == "draw":
            if op[1] > ledger.available:
                continue
            n += 1
            ledger.reserve(f"d{n}", op[1], op[2], f"r{n}", AT)
            ledger.disburse(f"d{n}", build_schedule(op[1], op[2], 0.18, 0.001), today)
        elif op[0] == "repay":
            amount = min(op[1], ledger.outstanding)
            if amount > 0:
                ledger.apply(f"p{len(ledger.repayments)}", amount, today, RepaymentSource.BORROWER)
        elif op[0] == "days":
            today += timedelta(days=op[1])
            ledger.accrue_late_fees(today, RULE)
        else:
            draw = f"d{op[1]}" if op[1] else None
            quote = payoff_quote(ledger, today, RULE, draw_id=draw)
            scope = [i for i in ledger.instalments if draw in (None, i.draw_id)]
            ledger.accrue_late_fees(today, RULE)
            owed = sum(i.outstanding for i in scope)
            assert quote.total + quote.waived == owed
            assert quote.total == quote.principal + quote.interest + quote.fee + quote.late_fee
            assert quote.principal == sum(i.unpaid_principal for i in scope)
            if quote.total > 0:
                settle_early(ledger, f"s{len(ledger.repayments)}", quote)
                assert not any(i.outstanding for i in scope)
        assert ledger.available + ledger.outstanding_principal + ledger.reserved == limit
    for record in ledger.draws:
        rows = [i for i in ledger.instalments if i.draw_id == record.draw_id]
        assert sum(i.principal for i in rows) == record.amount
    assert sum(i.principal for i in ledger.instalments) == ledger.paid_out
    repaid = sum(r.principal for r in ledger.repayments)
    assert repaid == ledger.paid_out - ledger.outstanding_principal
