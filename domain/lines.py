"""A credit line's books, as pure logic: the limit, draws reserved and paid out, each draw's
instalments with their due dates, repayments allocated to them, overdue days and late fees.

The ledger is the state a `CreditLineWorkflow` carries (whole, across continue-as-new), so
everything here is deterministic: dates come in as arguments, never from a clock. Money is
integer fen. The invariant the property tests hold it to: available + outstanding principal +
reserved = limit (while the limit is not lowered below what is owed), and every fen paid out
is scheduled for repayment exactly once.
"""

from __future__ import annotations

import calendar
import hashlib
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, model_validator

from domain.identity import Applicant
from domain.offer import BankCard
from domain.pricing import Schedule
from domain.products import LateFeeRule, Product
from domain.reasons import ReasonCode


class LineStatus(StrEnum):
    ACTIVE = "ACTIVE"
    FROZEN = "FROZEN"
    CLOSED = "CLOSED"
    EXPIRED = "EXPIRED"


class DrawStatus(StrEnum):
    PENDING = "PENDING"
    DISBURSED = "DISBURSED"
    REPAID = "REPAID"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    FAILED = "FAILED"


RESERVING = frozenset({DrawStatus.PENDING})
LENT = frozenset({DrawStatus.DISBURSED, DrawStatus.REPAID})


class RepaymentSource(StrEnum):
    SCHEDULED_DEBIT = "SCHEDULED_DEBIT"
    BORROWER = "BORROWER"
    EARLY_SETTLEMENT = "EARLY_SETTLEMENT"


class LimitAction(StrEnum):
    """What the monitoring policy (or an operator) does to a line."""

    NONE = "NONE"
    LOWER = "LOWER"
    RAISE = "RAISE"
    FREEZE = "FREEZE"
    UNFREEZE = "UNFREEZE"
    ADJUST = "ADJUST"
    CLOSE = "CLOSE"


class MonitoringEventKind(StrEnum):
    BUREAU_ALERT = "BUREAU_ALERT"
    DEVICE_ANOMALY = "DEVICE_ANOMALY"
    LOCATION_ANOMALY = "LOCATION_ANOMALY"
    MISSED_REPAYMENT = "MISSED_REPAYMENT"
    REPAID = "REPAID"
    PERIODIC_REVIEW = "PERIODIC_REVIEW"


class LedgerError(ValueError):
    """A ledger operation that the line must refuse (over the limit, over what is owed)."""


def add_months(start: date, months: int) -> date:
    """Same day `months` later, clamped to the month's last day (Jan 31 + 1 = Feb 28/29)."""
    month0 = start.month - 1 + months
    year, month = start.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


class Instalment(BaseModel):
    draw_id: str
    period: int
    due_on: date
    principal: int
    interest: int
    fee: int
    late_fee: int = 0
    paid_principal: int = 0
    paid_charges: int = Field(default=0, description="late fee, fee and interest paid")

    @property
    def charges(self) -> int:
        return self.late_fee + self.fee + self.interest

    @property
    def unpaid_principal(self) -> int:
        return self.principal - self.paid_principal

    @property
    def unpaid_charges(self) -> int:
        return self.charges - self.paid_charges

    @property
    def outstanding(self) -> int:
        return self.unpaid_principal + self.unpaid_charges

    @property
    def key(self) -> str:
        return f"{self.draw_id}-p{self.period}"


class DrawRecord(BaseModel):
    draw_id: str
    amount: int
    term_months: int
    status: DrawStatus = DrawStatus.PENDING
    reference: str = Field(description="the borrower's request reference: a retry draws once")
    requested_at: datetime
    disbursed_on: date | None = None
    schedule: Schedule | None = None
    reasons: list[ReasonCode] = []


class Repayment(BaseModel):
    reference: str
    amount: int
    principal: int
    charges: int
    on: date
    source: RepaymentSource
    waived: int = Field(default=0, description="early settlement: scheduled charges not owed")


class LineLedger(BaseModel):
    limit: int = Field(ge=0)
    draws: list[DrawRecord] = []
    instalments: list[Instalment] = []
    repayments: list[Repayment] = []

    # ------------------------------------------------------------ amounts

    @property
    def reserved(self) -> int:
        return sum(d.amount for d in self.draws if d.status in RESERVING)

    @property
    def outstanding_principal(self) -> int:
        return sum(i.unpaid_principal for i in self.instalments)

    @property
    def outstanding(self) -> int:
        return sum(i.outstanding for i in self.instalments)

    @property
    def available(self) -> int:
        return max(0, self.limit - self.outstanding_principal - self.reserved)

    @property
    def paid_out(self) -> int:
        return sum(d.amount for d in self.draws if d.status in LENT)

    def due(self, today: date) -> list[Instalment]:
        """Instalments due on or before `today` and not fully paid, oldest first."""
        rows = [i for i in self.instalments if i.due_on <= today and i.outstanding > 0]
        return sorted(rows, key=lambda i: (i.due_on, i.draw_id, i.period))

    def overdue_days(self, today: date) -> int:
        late = [(today - i.due_on).days for i in self.instalments if i.outstanding > 0]
        return max([d for d in late if d > 0], default=0)

    def next_due_on(self) -> date | None:
        return min((i.due_on for i in self.instalments if i.outstanding > 0), default=None)

    def draw(self, draw_id: str) -> DrawRecord | None:
        return next((d for d in self.draws if d.draw_id == draw_id), None)

    def by_reference(self, reference: str) -> DrawRecord | None:
        return next((d for d in self.draws if d.reference == reference), None)

    def repayment(self, reference: str) -> Repayment | None:
        return next((r for r in self.repayments if r.reference == reference), None)

    # ------------------------------------------------------------ draws

    def reserve(
        self, draw_id: str, amount: int, term_months: int, reference: str, at: datetime
    ) -> DrawRecord:
        if amount <= 0:
            raise LedgerError("a draw must be positive")
        if amount > self.available:
            raise LedgerError(f"amount above the available {self.available} fen")
        record = DrawRecord(
            draw_id=draw_id,
            amount=amount,
            term_months=term_months,
            reference=reference,
            requested_at=at,
        )
        self.draws.append(record)
        return record

    def disburse(self, draw_id: str, schedule: Schedule, on: date) -> None:
        """The draw's money left: its schedule becomes instalments, one per period."""
        record = self._pending(draw_id)
        if schedule.principal != record.amount:
            raise LedgerError("schedule principal differs from the draw")
        record.status, record.disbursed_on, record.schedule = DrawStatus.DISBURSED, on, schedule
        self.instalments.extend(
            Instalment(
                draw_id=draw_id,
                period=row.period,
                due_on=add_months(on, row.period),
                principal=row.principal,
                interest=row.interest,
                fee=row.fee,
            )
            for row in schedule.installments
        )

    def release(self, draw_id: str, status: DrawStatus, reasons: list[ReasonCode]) -> None:
        """The draw ended without paying out: its reservation returns to the available limit."""
        record = self._pending(draw_id)
        record.status, record.reasons = status, reasons

    def _pending(self, draw_id: str) -> DrawRecord:
        record = self.draw(draw_id)
        if record is None or record.status != DrawStatus.PENDING:
            raise LedgerError(f"draw {draw_id} is not pending")
        return record

    # ------------------------------------------------------------ repayments

    def apply(
        self,
        reference: str,
        amount: int,
        on: date,
        source: RepaymentSource,
        only: str | None = None,
    ) -> Repayment:
        """Allocate money received: oldest instalment first, charges before principal. The
        same reference applies once. `only` limits a scheduled debit to its own instalment."""
        seen = self.repayment(reference)
        if seen is not None:
            return seen
        rows = sorted(
            (i for i in self.instalments if i.outstanding > 0 and only in (None, i.key)),
            key=lambda i: (i.due_on, i.draw_id, i.period),
        )
        if amount <= 0 or amount > sum(i.outstanding for i in rows):
            raise LedgerError("amount must be positive and at most what is owed")
        left, principal, charges = amount, 0, 0
        for row in rows:
            part = min(left, row.unpaid_charges)
            row.paid_charges += part
            charges += part
            left -= part
            part = min(left, row.unpaid_principal)
            row.paid_principal += part
            principal += part
            left -= part
            if left == 0:
                break
        return self.book(
            Repayment(
                reference=reference,
                amount=amount,
                principal=principal,
                charges=charges,
                on=on,
                source=source,
            )
        )

    def book(self, repayment: Repayment) -> Repayment:
        """Keep the repayment (its reference is spent) and mark the draws it paid off."""
        for record in self.draws:
            if record.status == DrawStatus.DISBURSED and not any(
                i.outstanding for i in self.instalments if i.draw_id == record.draw_id
            ):
                record.status = DrawStatus.REPAID
        self.repayments.append(repayment)
        return repayment

    def accrue_late_fees(self, today: date, rule: LateFeeRule) -> int:
        """Late fee of each overdue instalment as of `today`: never decreases, capped."""
        added = 0
        for row in self.instalments:
            late = (today - row.due_on).days
            if row.unpaid_principal <= 0 or late <= rule.grace_days:
                continue
            fee = round(row.unpaid_principal * rule.daily_rate * late)
            fee = min(fee, round(row.principal * rule.max_fraction))
            if fee > row.late_fee:
                added += fee - row.late_fee
                row.late_fee = fee
        return added


# ---------------------------------------------------------------- the line's contracts


class Borrower(BaseModel):
    """Who the line belongs to; PII, carried only in encrypted payloads."""

    customer_id: str
    applicant: Applicant
    device_fingerprint: str
    card: BankCard

    @model_validator(mode="before")
    @classmethod
    def _flat_identity(cls, data: Any) -> Any:
        """Lines opened before the borrower held an `Applicant` carry name, number and phone
        beside the other fields: read them into one."""
        if isinstance(data, dict) and "applicant" not in data and "full_name" in data:
            data = dict(data)
            data["applicant"] = {k: data.pop(k) for k in ("full_name", "id_number", "phone")}
        return data


class LinePricing(BaseModel):
    annual_rate: float
    monthly_fee_rate: float
    apr_cap: float
    terms: list[int]
    grade: str


class LineState(BaseModel):
    """Everything a CreditLineWorkflow knows: its input when it starts and when it continues
    as new, so nothing is lost between runs."""

    line_id: str
    borrower: Borrower
    product: Product
    pricing: LinePricing
    ledger: LineLedger
    status: LineStatus = LineStatus.ACTIVE
    reasons: list[ReasonCode] = Field(default=[], description="why the line is as it is")
    frozen_by: str | None = Field(default=None, description="POLICY or OPS")
    opened_at: datetime
    expires_at: datetime
    unused_expires_at: datetime | None
    bureau_fetched_at: datetime
    draw_counter: int = 0
    seq: int = Field(default=0, description="audit counter: makes each append idempotent")
    debit_attempts: dict[str, int] = Field(
        default={}, description="failed scheduled debits per instalment: the next key's suffix"
    )
    last_debit_on: dict[str, date] = {}
    on_time_debits: int = Field(
        default=0, description="instalments collected on their due date: the policy's history"
    )
    signal_references: list[str] = Field(
        default=[], description="latest outside signals' references: each is evaluated once"
    )
    runs: int = Field(default=1, description="how many runs (continue-as-new) so far")
    continue_as_new_after: int = Field(
        default=2_000, description="history events before continuing as new"
    )
    upsert_search_attributes: bool = True


def open_line_state(
    *,
    line_id: str,
    borrower: Borrower,
    product: Product,
    pricing: LinePricing,
    limit: int,
    opened_at: datetime,
    bureau_fetched_at: datetime,
    first_draw: tuple[str, Schedule] | None = None,
    upsert_search_attributes: bool = True,
) -> LineState:
    """A new line; `first_draw` is the application's own payout, already made, which the line
    books as its first draw (its instalments are the line's from day one)."""
    ledger = LineLedger(limit=limit)
    if first_draw is not None:
        draw_id, schedule = first_draw
        ledger.reserve(draw_id, schedule.principal, schedule.term_months, draw_id, opened_at)
        ledger.disburse(draw_id, schedule, opened_at.date())
    return LineState(
        line_id=line_id,
        borrower=borrower,
        product=product,
        pricing=pricing,
        ledger=ledger,
        opened_at=opened_at,
        expires_at=opened_at + product.line.line_validity,
        unused_expires_at=None if first_draw else opened_at + product.line.unused_validity,
        bureau_fetched_at=bureau_fetched_at,
        upsert_search_attributes=upsert_search_attributes,
    )


def customer_id_for(id_number: str) -> str:
    """A stable, non-reversible customer id: the same person has the same id across
    applications, lines and pre-approvals, without the ID number itself."""
    return "C" + hashlib.sha256(id_number.strip().upper().encode()).hexdigest()[:23]
