"""Stand-ins for the credit line's own activities (audit trail, debits), next to the real
monitoring policy; the draw stages reuse the application's stand-ins in `fakes.py`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from temporalio import activity

from decisioning.monitoring import load_monitoring_policy
from domain.identity import Applicant
from domain.line_messages import (
    AwaitDebitInput,
    DebitInput,
    DebitOrder,
    DebitStatus,
    LimitDecision,
    LineEventInput,
    MonitoringInput,
)
from domain.lines import Borrower, LinePricing, LineState, open_line_state
from domain.naming import ActivityName
from domain.pricing import build_schedule
from domain.products import PRODUCTS
from tests.workflows.fakes import GOOD_CARD, ID_NUMBER


@dataclass
class LineScenario:
    scheduled_debits_fail: bool = False


@dataclass
class LineFakes:
    s: LineScenario = field(default_factory=LineScenario)
    events: list[LineEventInput] = field(default_factory=list)
    debits: dict[str, DebitInput] = field(default_factory=dict)
    debit_calls: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.policy = load_monitoring_policy()

    @activity.defn(name=ActivityName.LINE_RECORD)
    async def record(self, inp: LineEventInput) -> None:
        if all(e.seq != inp.seq for e in self.events):
            self.events.append(inp)

    @activity.defn(name=ActivityName.LINE_EVALUATE)
    async def evaluate(self, inp: MonitoringInput) -> LimitDecision:
        return self.policy.evaluate(inp)

    @activity.defn(name=ActivityName.DEBIT_SUBMIT)
    async def debit(self, inp: DebitInput) -> DebitOrder:
        """One order per key, like the gateway: a repeat returns the first answer."""
        self.debit_calls.append(inp.idempotency_key)
        self.debits.setdefault(inp.idempotency_key, inp)
        return DebitOrder(
            order_id=f"do-{inp.idempotency_key}",
            idempotency_key=inp.idempotency_key,
            status=DebitStatus.PENDING,
            amount=self.debits[inp.idempotency_key].amount,
        )

    @activity.defn(name=ActivityName.DEBIT_AWAIT)
    async def await_debit(self, inp: AwaitDebitInput) -> DebitOrder:
        debit = self.debits[inp.idempotency_key]
        fails = self.s.scheduled_debits_fail and inp.idempotency_key.startswith("debit-")
        return DebitOrder(
            order_id=f"do-{inp.idempotency_key}",
            idempotency_key=inp.idempotency_key,
            status=DebitStatus.FAILED if fails else DebitStatus.SUCCEEDED,
            amount=debit.amount,
            failure="INSUFFICIENT_FUNDS" if fails else None,
        )

    def activities(self) -> list:
        return [self.record, self.evaluate, self.debit, self.await_debit]

    def settled(self) -> int:
        """Fen actually collected: each key once."""
        fails = self.s.scheduled_debits_fail
        return sum(
            d.amount for key, d in self.debits.items() if not (fails and key.startswith("debit-"))
        )


BORROWER = Borrower(
    customer_id="cust-1",
    applicant=Applicant(full_name="欧阳明", id_number=ID_NUMBER, phone="13800138000"),
    device_fingerprint="device-fp-0001",
    card=GOOD_CARD,
)
PRICING = LinePricing(
    annual_rate=0.18, monthly_fee_rate=0.0, apr_cap=0.24, terms=[3, 6, 12], grade="C"
)


def line_state(
    line_id: str,
    now: datetime,
    limit: int = 1_000_000,
    first_draw: int | None = None,
    continue_as_new_after: int = 2_000,
    first_term: int = 3,
    customer_id: str | None = None,
) -> LineState:
    first = None
    if first_draw is not None:
        first = (f"{line_id}-app", build_schedule(first_draw, first_term, PRICING.annual_rate))
    state = open_line_state(
        line_id=line_id,
        borrower=BORROWER.model_copy(update={"customer_id": customer_id or BORROWER.customer_id}),
        product=PRODUCTS["CASH_LINE"],
        pricing=PRICING,
        limit=limit,
        opened_at=now,
        bureau_fetched_at=now,
        first_draw=first,
        upsert_search_attributes=False,
    )
    return state.model_copy(update={"continue_as_new_after": continue_as_new_after})
