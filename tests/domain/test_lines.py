"""The credit line's books: limits, allocation, overdue and late fees, and the two invariants
under any sequence of draws and repayments."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.lines import (
    DrawStatus,
    LedgerError,
    LineLedger,
    RepaymentSource,
    add_months,
)
from domain.pricing import build_schedule
from domain.products import LateFeeRule

START = date(2026, 1, 31)
AT = datetime(2026, 1, 31, 9, tzinfo=UTC)


def lend(ledger: LineLedger, draw_id: str, amount: int, term: int, on: date = START) -> None:
    ledger.reserve(draw_id, amount, term, f"ref-{draw_id}", AT)
    ledger.disburse(draw_id, build_schedule(amount, term, 0.18, 0.001), on)


def test_due_dates_clamp_to_the_month_end() -> None:
    assert add_months(START, 1) == date(2026, 2, 28)
    assert add_months(START, 3) == date(2026, 4, 30)
    assert add_months(date(2026, 11, 15), 2) == date(2027, 1, 15)


def test_a_draw_above_the_available_amount_is_refused() -> None:
    ledger = LineLedger(limit=1_000_000)
    lend(ledger, "d1", 800_000, 3)
    assert ledger.available == 200_000
    with pytest.raises(LedgerError):
        ledger.reserve("d2", 200_001, 3, "ref-d2", AT)


def test_repaid_principal_restores_the_limit_and_charges_do_not() -> None:
    ledger = LineLedger(limit=1_000_000)
    lend(ledger, "d1", 600_000, 3)
    first = ledger.instalments[0]
    paid = ledger.apply("r1", first.outstanding, date(2026, 2, 28), RepaymentSource.BORROWER)
    assert paid.principal == first.principal
    assert paid.charges == first.interest + first.fee
    assert ledger.available == 400_000 + first.principal


def test_the_same_reference_applies_once() -> None:
    ledger = LineLedger(limit=1_000_000)
    lend(ledger, "d1", 600_000, 3)
    one = ledger.apply("r1", 100_000, START, RepaymentSource.BORROWER)
    again = ledger.apply("r1", 100_000, START, RepaymentSource.BORROWER)
    assert one == again
    assert len(ledger.repayments) == 1


def test_paying_everything_marks_the_draw_repaid_and_frees_the_whole_limit() -> None:
    ledger = LineLedger(limit=1_000_000)
    lend(ledger, "d1", 600_000, 3)
    ledger.apply("all", ledger.outstanding, START, RepaymentSource.BORROWER)
    assert ledger.draw("d1").status == DrawStatus.REPAID
    assert ledger.available == 1_000_000
    with pytest.raises(LedgerError):
        ledger.apply("more", 1, START, RepaymentSource.BORROWER)


def test_overdue_days_and_late_fees_after_grace() -> None:
    ledger = LineLedger(limit=1_000_000)
    lend(ledger, "d1", 600_000, 3)
    due = ledger.instalments[0].due_on
    assert ledger.overdue_days(due) == 0
    assert ledger.overdue_days(due + timedelta(days=5)) == 5
    rule = LateFeeRule(grace_days=3, daily_rate=0.0005, max_fraction=0.1)
    assert ledger.accrue_late_fees(due + timedelta(days=3), rule) == 0
    added = ledger.accrue_late_fees(due + timedelta(days=10), rule)
    principal = ledger.instalments[0].principal
    assert added == round(principal * 0.0005 * 10)
    ledger.accrue_late_fees(due + timedelta(days=400), rule)
    assert ledger.instalments[0].late_fee == round(principal * 0.1)
    # a late fee is a charge: it is paid before the instalment's principal
    row = ledger.instalments[0]
    paid = ledger.apply("late", row.late_fee, due, RepaymentSource.BORROWER)
    assert paid.principal == 0 and paid.charges == row.late_fee


def test_a_failed_draw_gives_back_its_reservation() -> None:
    ledger = LineLedger(limit=1_000_000)
    ledger.reserve("d1", 700_000, 3, "ref", AT)
    assert ledger.available == 300_000
    ledger.release("d1", DrawStatus.FAILED, [])
    assert ledger.available == 1_000_000


operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("draw"),
            st.integers(min_value=1, max_value=1_500_000),
            st.sampled_from([3, 6, 12]),
            st.booleans(),
        ),
        st.tuples(st.just("repay"), st.integers(min_value=1, max_value=2_000_000)),
        st.tuples(st.just("late"), st.integers(min_value=0, max_value=200)),
    ),
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(limit=st.integers(min_value=100_000, max_value=3_000_000), ops=operations)
def test_available_plus_outstanding_is_the_limit_and_every_fen_is_scheduled_once(
    limit: int, ops: list[tuple]
) -> None:
    ledger = LineLedger(limit=limit)
    today, n = START, 0
    for op in ops:
        if op[0] == "draw":
            _, amount, term, pays_out = op
            n += 1
            if amount > ledger.available:
                with pytest.raises(LedgerError):
                    ledger.reserve(f"d{n}", amount, term, f"r{n}", AT)
                continue
            ledger.reserve(f"d{n}", amount, term, f"r{n}", AT)
            if pays_out:
                ledger.disburse(f"d{n}", build_schedule(amount, term, 0.18, 0.001), today)
            else:
                ledger.release(f"d{n}", DrawStatus.FAILED, [])
        elif op[0] == "repay":
            amount = min(op[1], ledger.outstanding)
            if amount > 0:
                ledger.apply(f"p{len(ledger.repayments)}", amount, today, RepaymentSource.BORROWER)
        else:
            today += timedelta(days=op[1])
            ledger.accrue_late_fees(today, LateFeeRule())
        assert ledger.available + ledger.outstanding_principal + ledger.reserved == limit
        assert ledger.available >= 0
    for record in ledger.draws:
        rows = [i for i in ledger.instalments if i.draw_id == record.draw_id]
        scheduled = sum(i.principal for i in rows)
        assert scheduled == (
            record.amount if record.status in (DrawStatus.DISBURSED, DrawStatus.REPAID) else 0
        )
        assert len({i.period for i in rows}) == len(rows)
    assert sum(i.principal for i in ledger.instalments) == ledger.paid_out
    repaid = sum(r.principal for r in ledger.repayments)
    assert repaid == ledger.paid_out - ledger.outstanding_principal
