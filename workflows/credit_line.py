"""After the first loan: one revolving credit line per borrower and approval, for as long as
it lives (`credit-line-{line_id}`), continuing as new with its whole state when history grows.

It holds the limit, the available amount and the status. Draws are validated updates that
reserve the amount and start a child `DrawWorkflow`; the schedule's instalments are durable
timers that debit the borrower's card on the due date through the payment gateway (one key per
instalment and attempt, so no double debit); the borrower can repay early or pay a draw or the
line off with interest to date (idempotent by reference); repaid principal becomes available
again. Overdue days, late fees, behaviour
signals and ops overrides go through the monitoring policy or the operator, and every change is
appended to the line's audit trail.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NoReturn

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey
from temporalio.exceptions import ApplicationError, ChildWorkflowError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from domain.decision import Offer
    from domain.line_messages import (
        AwaitDebitInput,
        DebitInput,
        DebitOrder,
        DebitStatus,
        DrawAccepted,
        DrawInput,
        DrawOutcome,
        DrawRequest,
        DrawSummary,
        LimitDecision,
        LineEventInput,
        LineView,
        MonitoringInput,
        MonitoringSignal,
        OpsLineAction,
        PayoffRequest,
        RepayRequest,
        RepayResult,
        SettleRequest,
        SettleResult,
    )
    from domain.lines import (
        Borrower,
        DrawStatus,
        LedgerError,
        LimitAction,
        LinePricing,
        LineState,
        LineStatus,
        MonitoringEventKind,
        RepaymentSource,
        open_line_state,
    )
    from domain.naming import (
        ErrorType,
        QueryName,
        SearchAttributeName,
        SignalName,
        UpdateName,
        WorkflowName,
        debit_idempotency_key,
        draw_workflow_id,
        repayment_idempotency_key,
    )
    from domain.payoff import PayoffQuote, payoff_quote, settle_early
    from domain.pricing import PriceAboveCap, Schedule, build_schedule
    from domain.products import Product
    from domain.reasons import ReasonCode, applicant_reasons
    from workflows import calls, options
    from workflows.options import CallOptions

LINE_STATUS_KEY = SearchAttributeKey.for_keyword(SearchAttributeName.LINE_STATUS)
OVERDUE_DAYS_KEY = SearchAttributeKey.for_int(SearchAttributeName.OVERDUE_DAYS)
LINE_SEARCH_ATTRIBUTE_KEYS = (LINE_STATUS_KEY, OVERDUE_DAYS_KEY)

# A debit settles asynchronously: the await activity fails with DEBIT_PENDING until the gateway
# has a final answer, and this policy is the poll loop (a day at most, then the attempt counts
# as missed and tomorrow's retry uses a new key).
DEBIT_POLL = CallOptions(
    start_to_close=timedelta(seconds=20),
    schedule_to_close=timedelta(days=1),
    retry=RetryPolicy(
        initial_interval=timedelta(milliseconds=200),
        backoff_coefficient=1.5,
        maximum_interval=timedelta(seconds=30),
        non_retryable_error_types=options.NON_RETRYABLE,
    ),
)
RAISE_STEP = 10_000  # limits move in whole hundreds of yuan
LIVE = frozenset({LineStatus.ACTIVE, LineStatus.FROZEN})
SIGNAL_ONCE_PATCH = "monitoring-signal-once-per-reference"
KEEP_SIGNAL_REFERENCES = 500


def _refuse(kind: str, detail: str) -> NoReturn:
    raise ApplicationError(detail, type=kind, non_retryable=True)


@workflow.defn(name=WorkflowName.CREDIT_LINE)
class CreditLineWorkflow:
    @workflow.init
    def __init__(self, state: LineState) -> None:
        self._s = state.model_copy(deep=True)
        self._events: list[MonitoringSignal] = []
        self._draws: dict[str, asyncio.Task[None]] = {}
        self._lock = asyncio.Lock()
        self._wake = False
        self._evaluated_overdue = 0

    @workflow.run
    async def run(self, state: LineState) -> LineStatus:
        if self._s.seq == 0:
            await self._record("LINE_OPENED")
        self._upsert()
        while True:
            await self._tick()
            if self._finished():
                break
            if self._history_is_long():
                await workflow.wait_condition(
                    lambda: not self._draws and workflow.all_handlers_finished()
                )
                if not self._events:
                    workflow.continue_as_new(self._s.model_copy(update={"runs": self._s.runs + 1}))
                continue
            try:
                await workflow.wait_condition(
                    lambda: bool(self._events) or self._wake, timeout=self._until_next_wake()
                )
            except TimeoutError:
                pass
            self._wake = False
        await workflow.wait_condition(lambda: not self._draws and workflow.all_handlers_finished())
        return self._s.status

    # ------------------------------------------------------------------ the loop

    async def _tick(self) -> None:
        s = self._s
        while self._events:
            await self._evaluate(self._events.pop(0))
        now = workflow.now()
        if s.status in LIVE and now >= s.expires_at:
            await self._set_status(LineStatus.EXPIRED, [ReasonCode.M009_LINE_EXPIRED], "EXPIRED")
        unused = s.unused_expires_at
        if s.status in LIVE and unused and now >= unused and not s.ledger.draws:
            await self._set_status(LineStatus.EXPIRED, [ReasonCode.M010_UNUSED_EXPIRED], "EXPIRED")
        await self._scheduled_debits()
        today = now.date()
        overdue = s.ledger.overdue_days(today)
        if s.ledger.accrue_late_fees(today, s.product.late_fee):
            await self._record("LATE_FEE_ACCRUED")
        if overdue != self._evaluated_overdue:
            previous, self._evaluated_overdue = self._evaluated_overdue, overdue
            self._upsert()
            if overdue > previous and s.status == LineStatus.ACTIVE:
                await self._evaluate(self._internal(MonitoringEventKind.MISSED_REPAYMENT))
        if (
            overdue == 0
            and s.status == LineStatus.FROZEN
            and s.frozen_by == "POLICY"
            and ReasonCode.M001_OVERDUE in s.reasons
        ):
            await self._evaluate(self._internal(MonitoringEventKind.REPAID))

    def _finished(self) -> bool:
        s = self._s
        if s.status == LineStatus.CLOSED:
            return True
        return s.status == LineStatus.EXPIRED and s.ledger.outstanding == 0 and not self._draws

    def _history_is_long(self) -> bool:
        info = workflow.info()
        length = info.get_current_history_length()
        return length > self._s.continue_as_new_after or info.is_continue_as_new_suggested()

    def _until_next_wake(self) -> timedelta | None:
        """Time to the next thing the line must do by itself; None when only a message can
        move it (an expired line with nothing due waits for repayments)."""
        s, now = self._s, workflow.now()
        today = now.date()
        wakes: list[datetime] = []
        if s.status in LIVE:
            wakes.append(s.expires_at)
            if s.unused_expires_at and not s.ledger.draws:
                wakes.append(s.unused_expires_at)
        next_due = s.ledger.next_due_on()
        if next_due is not None:
            # due today or earlier and still unpaid: try again (and count overdue) tomorrow
            wakes.append(_midnight(max(next_due, today + timedelta(days=1))))
        if not wakes:
            return None
        return max(min(wakes) - now, timedelta(seconds=1))

    def _internal(self, kind: MonitoringEventKind) -> MonitoringSignal:
        return MonitoringSignal(kind=kind, reference=f"internal-{self._s.seq}")

    # ------------------------------------------------------------------ repayments

    async def _scheduled_debits(self) -> None:
        s = self._s
        today = workflow.now().date()
        async with self._lock:
            for row in s.ledger.due(today):
                if s.last_debit_on.get(row.key) == today:
                    continue
                failed = s.debit_attempts.get(row.key, 0)
                if failed > s.product.line.debit_retry_days:
                    continue
                key = debit_idempotency_key(s.line_id, row.key, failed + 1)
                amount = row.outstanding
                s.last_debit_on[row.key] = today
                order = await self._debit(key, amount)
                if order.status == DebitStatus.SUCCEEDED:
                    paid = s.ledger.apply(
                        key, amount, today, RepaymentSource.SCHEDULED_DEBIT, only=row.key
                    )
                    await self._record(
                        "INSTALMENT_DEBITED",
                        data={"instalment": row.key, "amount": paid.amount},
                    )
                    if row.due_on >= today:
                        s.on_time_debits += 1
                        self._events.append(self._internal(MonitoringEventKind.PERIODIC_REVIEW))
                else:
                    s.debit_attempts[row.key] = failed + 1
                    await self._record(
                        "DEBIT_FAILED",
                        data={"instalment": row.key, "failure": order.failure or ""},
                    )

    async def _debit(self, key: str, amount: int) -> DebitOrder:
        who = self._s.borrower
        order: DebitOrder = await calls.debit_submit(
            DebitInput(
                line_id=self._s.line_id,
                idempotency_key=key,
                amount=amount,
                account_name=who.applicant.full_name,
                card_number=who.card.number,
                bank_code=who.card.bank_code,
            ),
            opts=options.PAYMENT,
        )
        if order.status == DebitStatus.PENDING:
            order = await calls.debit_await(
                AwaitDebitInput(line_id=self._s.line_id, idempotency_key=key), opts=DEBIT_POLL
            )
        return order

    @workflow.update(name=UpdateName.REPAY)
    async def repay(self, req: RepayRequest) -> RepayResult:
        s = self._s
        key = repayment_idempotency_key(s.line_id, req.reference)
        async with self._lock:
            seen = s.ledger.repayment(key)
            if seen is None:
                if req.amount > s.ledger.outstanding:
                    return self._repaid(req, None, "more than is owed")
                order = await self._debit(key, req.amount)
                if order.status != DebitStatus.SUCCEEDED:
                    return self._repaid(req, None, order.failure or "debit failed")
                seen = s.ledger.apply(
                    key, req.amount, workflow.now().date(), RepaymentSource.BORROWER
                )
                await self._record("REPAID", actor="borrower", data={"amount": seen.amount})
                self._wake = True
            return self._repaid(req, seen.model_dump(), "")

    def _repaid(self, req: RepayRequest, paid: dict[str, Any] | None, detail: str) -> RepayResult:
        return RepayResult(
            reference=req.reference,
            accepted=paid is not None,
            amount=paid["amount"] if paid else 0,
            principal=paid["principal"] if paid else 0,
            charges=paid["charges"] if paid else 0,
            available=self._s.ledger.available,
            detail=detail,
        )

    @repay.validator
    def _validate_repay(self, req: RepayRequest) -> None:
        s = self._s
        if s.status == LineStatus.CLOSED:
            _refuse(ErrorType.WRONG_STAGE, "the line is closed")
        if s.ledger.repayment(repayment_idempotency_key(s.line_id, req.reference)) is not None:
            return
        if s.ledger.outstanding == 0:
            _refuse(ErrorType.INVALID_INPUT, "nothing is owed")
        if req.amount > s.ledger.outstanding:
            _refuse(ErrorType.INVALID_INPUT, f"at most {s.ledger.outstanding} fen is owed")

    @workflow.update(name=UpdateName.SETTLE)
    async def settle(self, req: SettleRequest) -> SettleResult:
        """Pay off a draw or the whole line today: principal plus interest and fee to date
        (`domain.payoff`), one debit of the agreed amount under the reference's key."""
        s = self._s
        key = repayment_idempotency_key(s.line_id, req.reference)
        async with self._lock:
            seen = s.ledger.repayment(key)
            if seen is None:
                quote = self._payoff(req.draw_id)
                if quote.total != req.amount:
                    # the day turned while the update waited for the lock
                    return self._settled(req, None, f"the payoff is now {quote.total} fen")
                order = await self._debit(key, quote.total)
                if order.status != DebitStatus.SUCCEEDED:
                    return self._settled(req, None, order.failure or "debit failed")
                seen = settle_early(s.ledger, key, quote)
                await self._record(
                    "SETTLED_EARLY",
                    actor="borrower",
                    data={"amount": seen.amount, "waived": seen.waived, "draw_id": req.draw_id},
                )
                self._wake = True
            return self._settled(req, seen.model_dump(), "")

    @settle.validator
    def _validate_settle(self, req: SettleRequest) -> None:
        s = self._s
        if s.status == LineStatus.CLOSED:
            _refuse(ErrorType.WRONG_STAGE, "the line is closed")
        if s.ledger.repayment(repayment_idempotency_key(s.line_id, req.reference)) is not None:
            return
        quote = self._payoff(req.draw_id)
        if quote.total == 0:
            _refuse(ErrorType.INVALID_INPUT, "nothing is owed")
        if req.amount != quote.total:
            _refuse(
                ErrorType.INVALID_INPUT,
                f"the payoff on {quote.as_of} is {quote.total} fen, not {req.amount}",
            )

    def _payoff(self, draw_id: str | None) -> PayoffQuote:
        s = self._s
        return payoff_quote(s.ledger, workflow.now().date(), s.product.late_fee, draw_id)

    def _settled(
        self, req: SettleRequest, paid: dict[str, Any] | None, detail: str
    ) -> SettleResult:
        return SettleResult(
            reference=req.reference,
            accepted=paid is not None,
            amount=paid["amount"] if paid else 0,
            principal=paid["principal"] if paid else 0,
            charges=paid["charges"] if paid else 0,
            waived=paid["waived"] if paid else 0,
            available=self._s.ledger.available,
            detail=detail,
        )

    @workflow.query(name=QueryName.PAYOFF)
    def payoff(self, req: PayoffRequest) -> PayoffQuote:
        """The payoff on the caller's day: a query's clock is the last task's, not today."""
        s = self._s
        return payoff_quote(s.ledger, req.on, s.product.late_fee, req.draw_id)

    # ------------------------------------------------------------------ draws

    @workflow.update(name=UpdateName.DRAW)
    async def draw(self, req: DrawRequest) -> DrawAccepted:
        s = self._s
        existing = s.ledger.by_reference(req.reference)
        if existing is not None:
            return self._accepted(existing.draw_id)
        s.draw_counter += 1
        draw_id = draw_workflow_id(s.line_id, s.draw_counter)
        schedule = self._quote(req)
        s.ledger.reserve(draw_id, req.amount, req.term_months, req.reference, workflow.now())
        handle = await workflow.start_child_workflow(
            WorkflowName.DRAW,
            DrawInput(
                line_id=s.line_id,
                draw_id=draw_id,
                borrower=s.borrower,
                product=s.product,
                schedule=schedule,
                bureau_fetched_at=s.bureau_fetched_at,
            ),
            id=draw_id,
            result_type=DrawOutcome,
            parent_close_policy=ParentClosePolicy.ABANDON,
        )
        self._draws[draw_id] = asyncio.create_task(self._follow(draw_id, handle))
        await self._record("DRAW_REQUESTED", data={"draw_id": draw_id, "amount": req.amount})
        return self._accepted(draw_id, schedule)

    @draw.validator
    def _validate_draw(self, req: DrawRequest) -> None:
        s = self._s
        if s.ledger.by_reference(req.reference) is not None:
            return
        if s.status != LineStatus.ACTIVE:
            _refuse(ErrorType.WRONG_STAGE, f"the line is {s.status}")
        if workflow.now() >= s.expires_at:
            _refuse(ErrorType.WRONG_STAGE, "the line has expired")
        if s.ledger.overdue_days(workflow.now().date()) > 0:
            _refuse(ErrorType.WRONG_STAGE, "an instalment is overdue")
        if not s.product.line.min_draw <= req.amount <= s.ledger.available:
            _refuse(
                ErrorType.INVALID_INPUT,
                f"amount must be between {s.product.line.min_draw} and the available "
                f"{s.ledger.available} fen",
            )
        if req.term_months not in s.pricing.terms:
            _refuse(ErrorType.INVALID_INPUT, f"term must be one of {s.pricing.terms}")
        self._quote(req)

    def _quote(self, req: DrawRequest) -> Schedule:
        p = self._s.pricing
        try:
            return build_schedule(
                req.amount, req.term_months, p.annual_rate, p.monthly_fee_rate, apr_cap=p.apr_cap
            )
        except (ValueError, PriceAboveCap) as exc:
            _refuse(ErrorType.INVALID_INPUT, str(exc))

    def _accepted(self, draw_id: str, schedule: Schedule | None = None) -> DrawAccepted:
        record = self._s.ledger.draw(draw_id)
        assert record is not None
        return DrawAccepted(
            draw_id=draw_id,
            status=record.status,
            schedule=record.schedule or schedule,
            available=self._s.ledger.available,
        )

    async def _follow(self, draw_id: str, handle: workflow.ChildWorkflowHandle) -> None:
        try:
            outcome: DrawOutcome = await handle
        except ChildWorkflowError:
            workflow.logger.exception("draw %s failed", draw_id)
            outcome = None  # type: ignore[assignment]
        ledger = self._s.ledger
        try:
            if outcome is not None and outcome.status == DrawStatus.DISBURSED:
                ledger.disburse(
                    draw_id, outcome.schedule, outcome.disbursed_on or workflow.now().date()
                )
                await self._record("DRAW_DISBURSED", data={"draw_id": draw_id})
            else:
                status = outcome.status if outcome else DrawStatus.FAILED
                reasons = outcome.reasons if outcome else [ReasonCode.D002_PAYOUT_FAILED]
                ledger.release(draw_id, status, reasons)
                await self._record(f"DRAW_{status}", reasons=reasons, data={"draw_id": draw_id})
        except LedgerError:
            workflow.logger.exception("draw %s outcome could not be booked", draw_id)
        finally:
            del self._draws[draw_id]
            self._wake = True

    # ------------------------------------------------------------------ monitoring

    @workflow.signal(name=SignalName.MONITORING_EVENT)
    def monitoring_event(self, event: MonitoringSignal) -> None:
        # A vendor re-delivers an alert it has no answer for; the patch keeps lines that saw a
        # reference twice before this check replaying as they ran.
        if workflow.patched(SIGNAL_ONCE_PATCH):
            seen = self._s.signal_references
            if event.reference in seen:
                workflow.logger.info("monitoring signal %s already received", event.reference)
                return
            self._s.signal_references = [*seen, event.reference][-KEEP_SIGNAL_REFERENCES:]
        self._events.append(event)

    async def _evaluate(self, event: MonitoringSignal) -> None:
        s = self._s
        if s.status not in LIVE:
            return
        today = workflow.now().date()
        decision: LimitDecision = await calls.line_evaluate(
            MonitoringInput(
                line_id=s.line_id,
                kind=event.kind,
                status=s.status,
                frozen_by=s.frozen_by,
                reasons=s.reasons,
                limit=s.ledger.limit,
                outstanding_principal=s.ledger.outstanding_principal,
                overdue_days=s.ledger.overdue_days(today),
                new_loans=event.new_loans,
                repayments_on_time=s.on_time_debits,
            ),
            opts=options.LOCAL,
        )
        data: dict[str, str | int | float | bool | None] = {
            "signal": event.kind,
            "signal_reference": event.reference,
            "rule": decision.rule,
            "policy_version": decision.policy_version,
            "policy_hash": decision.policy_hash[:16],
            "previous_limit": s.ledger.limit,
        }
        action = decision.action
        if action == LimitAction.FREEZE and s.status == LineStatus.ACTIVE:
            s.status, s.frozen_by, s.reasons = LineStatus.FROZEN, "POLICY", decision.reasons
        elif action == LimitAction.UNFREEZE and s.frozen_by == "POLICY":
            s.status, s.frozen_by, s.reasons = LineStatus.ACTIVE, None, decision.reasons
        elif action == LimitAction.LOWER:
            s.ledger.limit = _step(s.ledger.limit * decision.factor)
            s.reasons = decision.reasons
        elif action == LimitAction.RAISE:
            ceiling = s.product.line.max_limit
            s.ledger.limit = min(ceiling, _step(s.ledger.limit * decision.factor))
            s.reasons = decision.reasons
        else:
            action = LimitAction.NONE
        self._upsert()
        await self._record(f"POLICY_{action}", reasons=decision.reasons, actor="policy", data=data)

    @workflow.update(name=UpdateName.OPS_LINE_ACTION)
    async def ops_action(self, inp: OpsLineAction) -> LineView:
        s = self._s
        previous = s.ledger.limit
        if inp.action == LimitAction.FREEZE:
            s.status, s.frozen_by, s.reasons = (
                LineStatus.FROZEN,
                "OPS",
                [ReasonCode.M007_OPS_FROZEN],
            )
        elif inp.action == LimitAction.UNFREEZE:
            s.status, s.frozen_by, s.reasons = LineStatus.ACTIVE, None, []
        elif inp.action == LimitAction.CLOSE:
            s.status, s.reasons = LineStatus.CLOSED, [ReasonCode.M008_OPS_ADJUSTED]
        else:
            assert inp.new_limit is not None
            s.ledger.limit, s.reasons = inp.new_limit, [ReasonCode.M008_OPS_ADJUSTED]
        self._upsert()
        self._wake = True
        await self._record(
            f"OPS_{inp.action}",
            reasons=s.reasons,
            actor=inp.operator,
            data={"note": inp.note, "previous_limit": previous},
        )
        return self.status()

    @ops_action.validator
    def _validate_ops(self, inp: OpsLineAction) -> None:
        s = self._s
        allowed = {
            LimitAction.FREEZE: {LineStatus.ACTIVE},
            LimitAction.UNFREEZE: {LineStatus.FROZEN},
            LimitAction.ADJUST: set(LIVE),
            LimitAction.CLOSE: set(LIVE) | {LineStatus.EXPIRED},
        }
        if inp.action not in allowed:
            _refuse(ErrorType.INVALID_INPUT, "action must be FREEZE, UNFREEZE, ADJUST or CLOSE")
        if s.status not in allowed[inp.action]:
            _refuse(ErrorType.WRONG_STAGE, f"the line is {s.status}")
        if inp.action == LimitAction.CLOSE and (s.ledger.outstanding or s.ledger.reserved):
            _refuse(ErrorType.INVALID_INPUT, "a line is closed once nothing is owed or pending")
        if inp.action == LimitAction.ADJUST:
            if inp.new_limit is None:
                _refuse(ErrorType.INVALID_INPUT, "ADJUST needs new_limit")
            if inp.new_limit > s.product.line.max_limit:
                _refuse(ErrorType.INVALID_INPUT, f"at most {s.product.line.max_limit} fen")

    # ------------------------------------------------------------------ status and records

    @workflow.query(name=QueryName.STATUS)
    def status(self) -> LineView:
        s, ledger = self._s, self._s.ledger
        today = workflow.now().date()
        return LineView(
            line_id=s.line_id,
            status=s.status,
            limit=ledger.limit,
            available=ledger.available if s.status == LineStatus.ACTIVE else 0,
            outstanding_principal=ledger.outstanding_principal,
            outstanding=ledger.outstanding,
            overdue_days=ledger.overdue_days(today),
            next_due_on=ledger.next_due_on(),
            expires_at=s.expires_at,
            pricing=s.pricing,
            min_draw=s.product.line.min_draw,
            reasons=applicant_reasons(s.reasons),
            reason_codes=s.reasons,
            frozen_by=s.frozen_by,
            draws=[
                DrawSummary(
                    draw_id=d.draw_id,
                    amount=d.amount,
                    term_months=d.term_months,
                    status=d.status,
                    disbursed_on=d.disbursed_on,
                    reasons=applicant_reasons(d.reasons),
                )
                for d in ledger.draws
            ],
            instalments=ledger.instalments,
            runs=s.runs,
            repayments=len(ledger.repayments),
        )

    async def _set_status(self, status: LineStatus, reasons: list[ReasonCode], event: str) -> None:
        self._s.status, self._s.reasons = status, reasons
        self._upsert()
        await self._record(event, reasons=reasons)

    async def _record(
        self,
        event: str,
        reasons: list[ReasonCode] | None = None,
        actor: str = "system",
        data: dict[str, str | int | float | bool | None] | None = None,
    ) -> None:
        s = self._s
        s.seq += 1
        await calls.line_record(
            LineEventInput(
                line_id=s.line_id,
                seq=s.seq,
                event=event,
                status=s.status,
                limit=s.ledger.limit,
                available=s.ledger.available,
                outstanding_principal=s.ledger.outstanding_principal,
                overdue_days=s.ledger.overdue_days(workflow.now().date()),
                reasons=reasons if reasons is not None else s.reasons,
                actor=actor,
                customer_id=s.borrower.customer_id,
                product_code=s.product.code,
                expires_at=s.expires_at,
                at=workflow.now(),
                data=data or {},
            ),
            opts=options.STORE,
        )

    def _upsert(self) -> None:
        if self._s.upsert_search_attributes:
            workflow.upsert_search_attributes(
                [
                    LINE_STATUS_KEY.value_set(self._s.status),
                    OVERDUE_DAYS_KEY.value_set(self._s.ledger.overdue_days(workflow.now().date())),
                ]
            )


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _step(amount: float) -> int:
    return int(amount // RAISE_STEP) * RAISE_STEP


def line_for_application(
    *,
    application_id: str,
    borrower: Borrower,
    product: Product,
    offer: Offer,
    schedule: Schedule,
    bureau_fetched_at: datetime,
    opened_at: datetime,
    upsert_search_attributes: bool,
) -> LineState:
    """The line a revolving product's approval becomes: the offer's limit and price, and the
    application's own payout booked as the first draw (id = the application id)."""
    return open_line_state(
        line_id=application_id,
        borrower=borrower,
        product=product,
        pricing=LinePricing(
            annual_rate=offer.annual_rate,
            monthly_fee_rate=offer.monthly_fee_rate,
            apr_cap=offer.apr_cap,
            terms=offer.terms,
            grade=offer.grade,
        ),
        limit=offer.limit,
        opened_at=opened_at,
        bureau_fetched_at=bureau_fetched_at,
        first_draw=(application_id, schedule),
        upsert_search_attributes=upsert_search_attributes,
    )
