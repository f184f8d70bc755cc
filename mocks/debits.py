"""Payment gateway, collection side (代扣): debit orders against a borrower's bound card, one
order per idempotency key, settled asynchronously and read by polling.

A key is final once its order has settled: a repeat returns the same order whatever happened,
so a retried or replayed debit can never take money twice; a new attempt needs a new key.
Settlement is lazy (computed on read once the settle time has passed), so the ledger is right
without a background task. Faults: a card whose digits [-5:-1] are `4444` has insufficient
funds; the admin route makes any card fail its next N debits.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, Field

from mocks.errors import VendorHTTPError

router = APIRouter(tags=["gateway"])

INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
CARD_INVALID = "CARD_INVALID"


@dataclass
class DebitOrder:
    order_id: str
    idempotency_key: str
    amount: int
    card_number: str
    settle_at: float
    failure: str | None

    def wire(self, now: float) -> dict[str, object]:
        status = "PENDING"
        if now >= self.settle_at:
            status = "FAILED" if self.failure else "SUCCEEDED"
        return {
            "order_id": self.order_id,
            "idempotency_key": self.idempotency_key,
            "status": status,
            "amount": self.amount,
            "failure": self.failure if status == "FAILED" else None,
        }


class DebitLedger:
    def __init__(self, settle_delay_seconds: float) -> None:
        self.lock = threading.Lock()
        self.orders: dict[str, DebitOrder] = {}
        self.fail_next: dict[str, int] = {}
        self.settle_delay_seconds = settle_delay_seconds

    def submit(self, key: str, amount: int, card_number: str) -> tuple[dict[str, object], bool]:
        now = time.monotonic()
        with self.lock:
            order = self.orders.get(key)
            if order is not None:
                if order.amount != amount or order.card_number != card_number:
                    raise ValueError(key)
                return order.wire(now), False
            failure = None
            if card_number[-5:-1] == "4444":
                failure = INSUFFICIENT_FUNDS
            elif self.fail_next.get(card_number, 0) > 0:
                self.fail_next[card_number] -= 1
                failure = INSUFFICIENT_FUNDS
            order = DebitOrder(
                order_id="DO" + uuid.uuid4().hex[:24].upper(),
                idempotency_key=key,
                amount=amount,
                card_number=card_number,
                settle_at=now + self.settle_delay_seconds,
                failure=failure,
            )
            self.orders[key] = order
            return order.wire(now), True

    def query(self, key: str) -> dict[str, object] | None:
        with self.lock:
            order = self.orders.get(key)
            return order.wire(time.monotonic()) if order else None

    def settled_total(self, card_number: str) -> int:
        now = time.monotonic()
        with self.lock:
            return sum(
                o.amount
                for o in self.orders.values()
                if o.card_number == card_number and o.wire(now)["status"] == "SUCCEEDED"
            )


def get_ledger(request: Request) -> DebitLedger:
    state = request.app.state
    if not hasattr(state, "debits"):
        settle = getattr(getattr(state, "mocks", None), "payments", None)
        delay = settle.settle_delay_seconds if settle is not None else 0.05
        state.debits = DebitLedger(delay)
    ledger: DebitLedger = state.debits
    return ledger


LedgerDep = Annotated[DebitLedger, Depends(get_ledger)]


class DebitBody(BaseModel):
    amount: int = Field(gt=0, description="fen")
    account_name: str = Field(min_length=1, max_length=64)
    card_number: str = Field(pattern=r"^\d{12,19}$")
    bank_code: str = Field(min_length=2, max_length=16)


class DebitView(BaseModel):
    order_id: str
    idempotency_key: str
    status: str
    amount: int
    failure: str | None


class DebitFault(BaseModel):
    card_number: str = Field(pattern=r"^\d{12,19}$")
    failures: int = Field(ge=0, le=1000, description="the card's next N debits fail")


class CardDebits(BaseModel):
    card_number: str
    settled_total: int


@router.post("/gateway/v1/debits", response_model=DebitView, status_code=201)
async def submit_debit(
    body: DebitBody,
    ledger: LedgerDep,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> dict[str, object]:
    if not idempotency_key:
        raise VendorHTTPError(400, "MISSING_IDEMPOTENCY_KEY", "Idempotency-Key header required")
    try:
        order, _ = ledger.submit(idempotency_key, body.amount, body.card_number)
    except ValueError as exc:
        raise VendorHTTPError(
            409, "IDEMPOTENCY_KEY_REUSED", "key already used for a different debit"
        ) from exc
    return order


@router.get("/gateway/v1/debits/{idempotency_key}")
async def query_debit(idempotency_key: str, ledger: LedgerDep) -> DebitView:
    order = ledger.query(idempotency_key)
    if order is None:
        raise VendorHTTPError(404, "ORDER_NOT_FOUND", "no debit for this key")
    return DebitView.model_validate(order)


@router.put("/admin/v1/debit-faults", tags=["admin"])
async def set_debit_fault(body: DebitFault, ledger: LedgerDep) -> DebitFault:
    with ledger.lock:
        ledger.fail_next[body.card_number] = body.failures
    return body


@router.get("/admin/v1/debits/{card_number}", tags=["admin"])
async def card_debits(card_number: str, ledger: LedgerDep) -> CardDebits:
    return CardDebits(card_number=card_number, settled_total=ledger.settled_total(card_number))
