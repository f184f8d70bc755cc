"""Early settlement of a credit line (提前结清): what the borrower owes to pay a draw, or the
whole line, off today, and booking that payment on the ledger.

The payoff is the outstanding principal, what is already due in full (instalments due on or
before the day, with their late fees accrued to the day), and for an instalment not yet due the
interest and fee of its period accrued to the day, pro rata by days:

    accrued = scheduled x elapsed / days, rounded half up to the fen (integer arithmetic)

where the period runs from the previous due date (the disbursement date for the first period)
to the instalment's due date, `days` is its length and `elapsed` the days of it that have passed
(0 before it starts). The scheduled interest of a period is the product's price on the reducing
balance (`domain.pricing`), so pro rata by days is interest to date at that price. The rest of
the scheduled charges is waived. Charges the borrower already paid in advance (a partial
repayment reaches later instalments' charges first) are kept, never refunded: an instalment
keeps the larger of its accrued and its paid amount of each charge.

For every instalment in the quote: owed + waived = its outstanding, to the fen. Principal is
never reduced: every fen paid out is still repaid exactly once.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from domain.lines import (
    Instalment,
    LedgerError,
    LineLedger,
    Repayment,
    RepaymentSource,
    add_months,
)
from domain.products import LateFeeRule


class PayoffLine(BaseModel):
    """What one instalment adds to the payoff."""

    instalment: str = Field(description="the instalment's key: {draw_id}-p{period}")
    draw_id: str
    period: int
    due_on: date
    principal: int
    interest: int = Field(description="interest owed to the day, after what is paid")
    fee: int
    late_fee: int
    waived: int = Field(description="scheduled interest and fee not owed when paid off today")

    @property
    def total(self) -> int:
        return self.principal + self.interest + self.fee + self.late_fee


class PayoffQuote(BaseModel):
    as_of: date
    draw_id: str | None = Field(description="the draw paid off; None: the whole line")
    principal: int
    interest: int
    fee: int
    late_fee: int
    waived: int
    total: int = Field(description="fen to pay: principal + interest + fee + late fee")
    lines: list[PayoffLine]


def payoff_quote(
    ledger: LineLedger, on: date, late_fee: LateFeeRule, draw_id: str | None = None
) -> PayoffQuote:
    """The payoff as of `on`, of one draw or of everything lent; the ledger is not changed."""
    books = ledger.model_copy(deep=True)
    books.accrue_late_fees(on, late_fee)
    started = {d.draw_id: d.disbursed_on for d in books.draws if d.disbursed_on is not None}
    rows = sorted(
        (i for i in books.instalments if i.outstanding > 0 and draw_id in (None, i.draw_id)),
        key=lambda i: (i.due_on, i.draw_id, i.period),
    )
    lines = [_line(row, started, on) for row in rows]
    return PayoffQuote(
        as_of=on,
        draw_id=draw_id,
        principal=sum(x.principal for x in lines),
        interest=sum(x.interest for x in lines),
        fee=sum(x.fee for x in lines),
        late_fee=sum(x.late_fee for x in lines),
        waived=sum(x.waived for x in lines),
        total=sum(x.total for x in lines),
        lines=lines,
    )


def settle_early(ledger: LineLedger, reference: str, quote: PayoffQuote) -> Repayment:
    """Book the payment of `quote` (money received): each quoted instalment keeps the charges
    owed to the quote's day, the rest is waived, and it is paid in full. The same reference
    books once."""
    seen = ledger.repayment(reference)
    if seen is not None:
        return seen
    if quote.total <= 0:
        raise LedgerError("nothing is owed")
    rows = {i.key: i for i in ledger.instalments}
    for line in quote.lines:
        row = rows.get(line.instalment)
        if row is None or row.unpaid_principal != line.principal:
            raise LedgerError(f"the payoff of {line.instalment} is out of date")
    for line in quote.lines:
        row = rows[line.instalment]
        paid_late, paid_fee, paid_interest = _paid(row)
        row.late_fee = paid_late + line.late_fee
        row.fee = paid_fee + line.fee
        row.interest = paid_interest + line.interest
        row.paid_charges = row.charges
        row.paid_principal = row.principal
    return ledger.book(
        Repayment(
            reference=reference,
            amount=quote.total,
            principal=quote.principal,
            charges=quote.total - quote.principal,
            on=quote.as_of,
            source=RepaymentSource.EARLY_SETTLEMENT,
            waived=quote.waived,
        )
    )


def _line(row: Instalment, started: dict[str, date], on: date) -> PayoffLine:
    paid_late, paid_fee, paid_interest = _paid(row)
    interest, fee = row.interest, row.fee
    if row.due_on > on:
        if row.draw_id not in started:
            raise LedgerError(f"draw {row.draw_id} has instalments but no disbursement date")
        start = add_months(started[row.draw_id], row.period - 1)
        days = (row.due_on - start).days
        elapsed = min(max((on - start).days, 0), days)
        interest = max(_pro_rata(row.interest, elapsed, days), paid_interest)
        fee = max(_pro_rata(row.fee, elapsed, days), paid_fee)
    return PayoffLine(
        instalment=row.key,
        draw_id=row.draw_id,
        period=row.period,
        due_on=row.due_on,
        principal=row.unpaid_principal,
        interest=interest - paid_interest,
        fee=fee - paid_fee,
        late_fee=row.late_fee - paid_late,
        waived=(row.interest - interest) + (row.fee - fee),
    )


def _paid(row: Instalment) -> tuple[int, int, int]:
    """The instalment's paid charges split as `LineLedger.apply` pays them: late fee, then fee,
    then interest."""
    left = row.paid_charges
    late = min(left, row.late_fee)
    fee = min(left - late, row.fee)
    return late, fee, left - late - fee


def _pro_rata(amount: int, elapsed: int, days: int) -> int:
    """amount x elapsed / days, half up, in integers (no float rounding at .5)."""
    return (2 * amount * elapsed + days) // (2 * days)
