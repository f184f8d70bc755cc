"""Credit lines: the borrower's API (line status, trial schedule, draw, sign a draw's contract,
repay, pay off early, schedule) and the ops API (freeze, unfreeze, adjust, behaviour signals,
the audit trail). Reasons are worded in the caller's `Accept-Language` (Chinese by default).

A line's id is the id of the application it came from, so the borrower authenticates with that
application's token; ops routes need the ops token. Refusals come back as 409 (wrong state) or
422 (invalid, or refused), like the application routes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from api.deps import (
    ApplicantCredentials,
    EngineDep,
    InspectorPrincipal,
    LimiterDep,
    SeniorPrincipal,
    ServicesDep,
    SettingsDep,
)
from api.errors import InvalidInput, NotFound, Unprocessable, error_docs
from api.i18n import LanguageDep, draw_view_in, line_view_in
from api.identity import Scope
from api.line_workflows import LineWorkflows
from api.security import require_applicant
from domain.contract import SignContractInput, SignContractResult
from domain.line_messages import (
    DrawAccepted,
    DrawRequest,
    DrawView,
    LineView,
    MonitoringSignal,
    OpsLineAction,
    PayoffRequest,
    RepayRequest,
    RepayResult,
    SettleRequest,
    SettleResult,
)
from domain.lines import Instalment
from domain.naming import UpdateName
from domain.payoff import PayoffQuote
from domain.pricing import PriceAboveCap, Schedule, build_schedule
from store import lines as line_store
from store import queries

router = APIRouter(prefix="/v1/lines", tags=["credit lines"])
ops_router = APIRouter(
    prefix="/v1/ops/lines",
    tags=["ops"],
    responses={
        401: {"description": "not signed in"},
        403: {"description": "the signed-in role may not do this"},
    },
)

_ERRORS = error_docs(
    401,
    404,
    409,
    422,
    503,
    504,
    _401="missing or wrong token",
    _404="no such line or draw",
    _409="not allowed in the line's current state",
    _422="invalid request, or refused",
    _504="the credit line did not answer in time; try again",
)


def _line_workflows(services: ServicesDep) -> LineWorkflows:
    return LineWorkflows(services.client)


LinesDep = Annotated[LineWorkflows, Depends(_line_workflows)]


def _borrower(
    line_id: str, request: Request, settings: SettingsDep, credentials: ApplicantCredentials
) -> str:
    write = request.method not in ("GET", "HEAD")
    require_applicant(
        settings.token_keys, line_id, credentials, Scope.WRITE if write else Scope.READ
    )
    return line_id


LineId = Annotated[str, Depends(_borrower)]


class QuoteRequest(BaseModel):
    amount: int = Field(gt=0, description="fen")
    term_months: int = Field(gt=0)


class LineSchedule(BaseModel):
    next_due_on: date | None
    overdue_days: int
    outstanding: int
    instalments: list[Instalment]


class LineEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    event: str
    actor: str
    status: str
    credit_limit: int
    available: int
    outstanding_principal: int
    overdue_days: int
    reasons: list[str]
    data: dict
    at: datetime


class LineEvidence(BaseModel):
    live: LineView | None
    events: list[LineEventOut]


def _draw_of(line_id: str, draw_id: str) -> str:
    if not draw_id.startswith(f"draw-{line_id}-"):
        raise NotFound("no such draw on this line")
    return draw_id


@router.get("/{line_id}", responses=_ERRORS)
async def line_status(line_id: LineId, lines: LinesDep, language: LanguageDep) -> LineView:
    return line_view_in(await lines.status(line_id), language)


@router.get("/{line_id}/schedule", responses=_ERRORS)
async def line_schedule(line_id: LineId, lines: LinesDep) -> LineSchedule:
    view = await lines.status(line_id)
    return LineSchedule(
        next_due_on=view.next_due_on,
        overdue_days=view.overdue_days,
        outstanding=view.outstanding,
        instalments=view.instalments,
    )


@router.post("/{line_id}/quotes", responses=_ERRORS)
async def quote_draw(line_id: LineId, body: QuoteRequest, lines: LinesDep) -> Schedule:
    """The trial schedule of a draw at the line's price: the contract's schedule, to the fen."""
    pricing = (await lines.status(line_id)).pricing
    if body.term_months not in pricing.terms:
        raise InvalidInput(f"term must be one of {pricing.terms}")
    try:
        return build_schedule(
            body.amount,
            body.term_months,
            pricing.annual_rate,
            pricing.monthly_fee_rate,
            apr_cap=pricing.apr_cap,
        )
    except (ValueError, PriceAboveCap) as exc:
        raise InvalidInput(str(exc)) from exc


@router.post("/{line_id}/draws", status_code=201, responses=_ERRORS)
async def draw(line_id: LineId, body: DrawRequest, lines: LinesDep) -> DrawAccepted:
    return await lines.update_line(line_id, UpdateName.DRAW, body, DrawAccepted)


@router.get("/{line_id}/draws/{draw_id}", responses=_ERRORS)
async def draw_status(
    line_id: LineId, draw_id: str, lines: LinesDep, language: LanguageDep
) -> DrawView:
    return draw_view_in(await lines.draw_status(_draw_of(line_id, draw_id)), language)


@router.post(
    "/{line_id}/draws/{draw_id}/sign",
    responses=_ERRORS | error_docs(429, _429="locked after too many wrong codes; try later"),
)
async def sign_draw(
    line_id: LineId, draw_id: str, body: SignContractInput, lines: LinesDep, limiter: LimiterDep
) -> SignContractResult:
    """Sign a draw's contract with the e-sign OTP. Wrong codes count per line, across its
    draws and every API copy, as the application's code steps do per application."""
    await limiter.code_attempt(line_id)
    result = await lines.update_draw(
        _draw_of(line_id, draw_id), UpdateName.SIGN_CONTRACT, body, SignContractResult
    )
    if not result.signed:
        await limiter.wrong_code(line_id)
        raise Unprocessable("signature_rejected", result.detail, attempts_left=result.attempts_left)
    return result


@router.post("/{line_id}/repayments", responses=_ERRORS)
async def repay(line_id: LineId, body: RepayRequest, lines: LinesDep) -> RepayResult:
    result = await lines.update_line(line_id, UpdateName.REPAY, body, RepayResult)
    if not result.accepted:
        raise Unprocessable("repayment_refused", result.detail, reference=result.reference)
    return result


@router.get("/{line_id}/payoff", responses=_ERRORS)
async def payoff(line_id: LineId, lines: LinesDep, draw_id: str | None = None) -> PayoffQuote:
    """What paying off costs today (UTC): principal, interest and fee to date, late fees; the
    rest of the scheduled charges is waived (`domain/payoff.py` documents the rounding)."""
    if draw_id is not None:
        _draw_of(line_id, draw_id)
    today = datetime.now(UTC).date()
    return await lines.payoff(line_id, PayoffRequest(on=today, draw_id=draw_id))


@router.post("/{line_id}/settlements", responses=_ERRORS)
async def settle(line_id: LineId, body: SettleRequest, lines: LinesDep) -> SettleResult:
    """Pay a draw (or the whole line) off at today's payoff; `amount` must be that payoff."""
    if body.draw_id is not None:
        _draw_of(line_id, body.draw_id)
    result = await lines.update_line(line_id, UpdateName.SETTLE, body, SettleResult)
    if not result.accepted:
        raise Unprocessable("settlement_refused", result.detail, reference=result.reference)
    return result


@ops_router.post("/{line_id}/actions", responses=_ERRORS)
async def ops_action(
    line_id: str,
    body: OpsLineAction,
    principal: SeniorPrincipal,
    lines: LinesDep,
    language: LanguageDep,
) -> LineView:
    """A senior's freeze, unfreeze or adjustment; the operator is the signed-in person."""
    action = body.model_copy(update={"operator": principal.username})
    view = await lines.update_line(line_id, UpdateName.OPS_LINE_ACTION, action, LineView)
    return line_view_in(view, language)


@ops_router.post("/{line_id}/signals", status_code=202, responses=_ERRORS)
async def behaviour_signal(
    line_id: str,
    body: MonitoringSignal,
    principal: InspectorPrincipal,
    lines: LinesDep,
    language: LanguageDep,
) -> LineView:
    """A behaviour signal (bureau alert, device or location anomaly) for the monitoring
    policy; the line evaluates it in the background."""
    view = await lines.status(line_id)
    await lines.signal_line(line_id, body)
    return line_view_in(view, language)


@ops_router.get("/{line_id}", responses=_ERRORS)
async def line_evidence(
    line_id: str,
    principal: InspectorPrincipal,
    engine: EngineDep,
    lines: LinesDep,
    language: LanguageDep,
) -> LineEvidence:
    events = await queries.in_thread(engine, line_store.list_line_events, line_id)
    try:
        live: LineView | None = line_view_in(await lines.status(line_id), language)
    except NotFound:
        live = None
    if live is None and not events:
        raise NotFound("no such credit line")
    return LineEvidence(live=live, events=[LineEventOut.model_validate(e) for e in events])
