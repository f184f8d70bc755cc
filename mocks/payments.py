"""The payment gateway's ledger: one order per idempotency key, asynchronous settlement and
HMAC-signed callbacks.

Settlement is scheduled, not performed by a worker: each attempt knows when it settles and to
what. Reads advance the order lazily once that time has passed, so the ledger is correct even
where no background task survives the request (httpx's ASGITransport in tests); a background
task on the serving loop additionally delivers the callbacks when the time comes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx

from domain.enums import PayoutFailure, PayoutStatus
from mocks.personas import PayoutFault, luhn_valid, payout_fault_for
from mocks.settings import MockSettings
from mocks.webhooks import push_signed

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Channel:
    name: str
    success_rate: float
    banks: frozenset[str] | None = None

    def supports(self, bank_code: str) -> bool:
        return self.banks is None or bank_code in self.banks


CHANNELS = {
    c.name: c
    for c in (
        Channel("DIRECT", 0.998, frozenset({"ICBC", "CMB"})),
        Channel("NUCC", 0.995),
        Channel("CUP", 0.990),
    )
}


@dataclass
class PayoutRequest:
    amount: int
    account_name: str
    card_number: str
    bank_code: str
    channel: str
    notify_url: str


@dataclass
class Attempt:
    number: int
    request: PayoutRequest
    settle_at: float
    outcome: PayoutStatus
    failure: PayoutFailure | None
    returned_at: float | None
    callbacks: bool
    status: PayoutStatus = PayoutStatus.PENDING

    def advance(self, now: float) -> None:
        if self.status is PayoutStatus.PENDING and now >= self.settle_at:
            self.status = self.outcome
        if (
            self.status is PayoutStatus.SUCCEEDED
            and self.returned_at is not None
            and now >= self.returned_at
        ):
            self.status = PayoutStatus.RETURNED


@dataclass
class Order:
    order_id: str
    idempotency_key: str
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def current(self) -> Attempt:
        return self.attempts[-1]

    def wire(self) -> dict[str, object]:
        attempt = self.current
        failure = attempt.failure if attempt.status is PayoutStatus.FAILED else None
        return {
            "order_id": self.order_id,
            "idempotency_key": self.idempotency_key,
            "status": attempt.status.value,
            "channel": attempt.request.channel,
            "failure": failure.value if failure else None,
            "attempt": attempt.number,
            "amount": attempt.request.amount,
        }


class IdempotencyConflict(ValueError):
    """The key was used before for a different amount."""


class PaymentLedger:
    def __init__(
        self,
        settings: MockSettings,
        lock: threading.RLock,
        callback_transport: httpx.AsyncBaseTransport | None,
    ) -> None:
        self.settings = settings
        self.lock = lock
        self.callback_transport = callback_transport
        self.orders: dict[str, Order] = {}
        self.deliveries: list[dict[str, object]] = []
        self.down_channels: set[str] = set()
        self.settle_delay_seconds = settings.settle_delay_seconds
        self.returned_delay_seconds = settings.returned_delay_seconds
        self._tasks: set[asyncio.Task[None]] = set()

    def reset(self) -> None:
        with self.lock:
            for task in self._tasks:
                task.cancel()
            self._tasks.clear()
            self.orders.clear()
            self.deliveries.clear()
            self.down_channels.clear()
            self.settle_delay_seconds = self.settings.settle_delay_seconds
            self.returned_delay_seconds = self.settings.returned_delay_seconds

    async def aclose(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # ------------------------------------------------------------ channels

    def channels(self, bank_code: str) -> list[dict[str, object]]:
        with self.lock:
            return [
                {
                    "channel": c.name,
                    "healthy": c.name not in self.down_channels,
                    "success_rate": c.success_rate,
                    "supported": c.supports(bank_code),
                }
                for c in CHANNELS.values()
            ]

    # ------------------------------------------------------------ orders

    def submit(
        self, key: str, request: PayoutRequest, fault: PayoutFault | None
    ) -> tuple[dict[str, object], bool]:
        """Returns (order, created). Never a second attempt while one is pending or paid."""
        now = time.monotonic()
        with self.lock:
            order = self.orders.get(key)
            if order is not None:
                order.current.advance(now)
                if order.current.request.amount != request.amount:
                    raise IdempotencyConflict(key)
                if order.current.status in (PayoutStatus.PENDING, PayoutStatus.SUCCEEDED):
                    return order.wire(), False
            else:
                order = Order(order_id="PO" + uuid.uuid4().hex[:24].upper(), idempotency_key=key)
                self.orders[key] = order
            attempt = self._plan(len(order.attempts) + 1, request, fault, now)
            order.attempts.append(attempt)
            self._schedule(order, attempt)
            return order.wire(), True

    def query(self, key: str) -> dict[str, object] | None:
        with self.lock:
            order = self.orders.get(key)
            if order is None:
                return None
            order.current.advance(time.monotonic())
            return order.wire()

    def _plan(
        self, number: int, request: PayoutRequest, fault: PayoutFault | None, now: float
    ) -> Attempt:
        fault = fault or payout_fault_for(request.card_number)
        settle_at = now + self.settle_delay_seconds
        failure: PayoutFailure | None = None
        if request.channel in self.down_channels:
            failure = PayoutFailure.CHANNEL_ERROR
        elif fault is PayoutFault.INVALID_CARD or not luhn_valid(request.card_number):
            failure = PayoutFailure.INVALID_CARD
        elif fault is PayoutFault.FIRST_ATTEMPT_FAILS and number == 1:
            failure = PayoutFailure.CHANNEL_ERROR
        returns = failure is None and fault is PayoutFault.RETURNED
        return Attempt(
            number=number,
            request=request,
            settle_at=settle_at,
            outcome=PayoutStatus.FAILED if failure else PayoutStatus.SUCCEEDED,
            failure=failure,
            returned_at=settle_at + self.returned_delay_seconds if returns else None,
            callbacks=fault is not PayoutFault.LOST_CALLBACK,
        )

    def admin_view(self) -> list[dict[str, object]]:
        now = time.monotonic()
        with self.lock:
            views = []
            for order in self.orders.values():
                for attempt in order.attempts:
                    attempt.advance(now)
                statuses = [a.status for a in order.attempts]
                views.append(
                    {
                        **order.wire(),
                        "succeeded_attempts": statuses.count(PayoutStatus.SUCCEEDED),
                        "returned_attempts": statuses.count(PayoutStatus.RETURNED),
                        "attempts": [
                            {
                                "attempt": a.number,
                                "channel": a.request.channel,
                                "status": a.status.value,
                                "failure": a.failure.value if a.failure else None,
                                "amount": a.request.amount,
                                "card_last4": a.request.card_number[-4:],
                                "callbacks": a.callbacks,
                            }
                            for a in order.attempts
                        ],
                    }
                )
            return views

    # ------------------------------------------------------------ settlement and callbacks

    def _schedule(self, order: Order, attempt: Attempt) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self._settle(order, attempt))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _settle(self, order: Order, attempt: Attempt) -> None:
        events = [(attempt.settle_at, attempt.outcome)]
        if attempt.returned_at is not None:
            events.append((attempt.returned_at, PayoutStatus.RETURNED))
        for at, status in events:
            await asyncio.sleep(max(0.0, at - time.monotonic()))
            with self.lock:
                attempt.advance(time.monotonic())
            if attempt.callbacks:
                failure = attempt.failure if status is PayoutStatus.FAILED else None
                await self._deliver(
                    attempt.request.notify_url,
                    {
                        "order_id": order.order_id,
                        "idempotency_key": order.idempotency_key,
                        "status": status.value,
                        "channel": attempt.request.channel,
                        "attempt": attempt.number,
                        "failure": failure.value if failure else None,
                    },
                )

    async def _deliver(self, url: str, event: dict[str, object]) -> None:
        record: dict[str, object] = {**event, "tries": 0, "delivered": False, "last_error": None}
        with self.lock:
            self.deliveries.append(record)
        secret = self.settings.payment_callback_secret
        await push_signed(url, event, secret, self.settings, self.callback_transport, record)
        if not record["delivered"]:
            logger.warning(
                "callback for order %s not delivered: %s", event["order_id"], record["last_error"]
            )
