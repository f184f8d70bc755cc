"""Repayment schedules before acceptance: for any price, or for an application's own offer (then
the quote is exactly what the contract will show)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ApplicantCredentials, SettingsDep, WorkflowsDep
from api.errors import InvalidInput, InvalidRequest, WrongStage, error_docs
from api.schemas import QuoteRequest
from api.security import require_applicant
from domain.pricing import APR_LEGAL_CAP, PriceAboveCap, Schedule, build_schedule

router = APIRouter(prefix="/v1/quotes", tags=["quotes"])


@router.post(
    "",
    responses=error_docs(
        401,
        409,
        422,
        _401="application_id given without its applicant token",
        _409="the application has no open offer",
        _422="invalid request, or the price is above the APR cap",
    ),
)
async def quote(
    body: QuoteRequest,
    settings: SettingsDep,
    workflows: WorkflowsDep,
    credentials: ApplicantCredentials,
) -> Schedule:
    if body.application_id is None:
        if body.annual_rate is None:
            raise InvalidRequest("annual_rate is required unless application_id is given")
        return _schedule(
            body.amount,
            body.term_months,
            body.annual_rate,
            body.monthly_fee_rate,
            body.upfront_fee,
        )
    require_applicant(settings.token_keys, body.application_id, credentials)
    view = await workflows.status(body.application_id)
    offer = view.offer
    if offer is None:
        raise WrongStage("the application has no open offer", status=view.status)
    if not offer.min_amount <= body.amount <= offer.limit:
        raise InvalidInput(f"amount must be between {offer.min_amount} and {offer.limit} fen")
    if body.term_months not in offer.terms:
        raise InvalidInput(f"term must be one of {offer.terms}")
    return _schedule(
        body.amount,
        body.term_months,
        offer.annual_rate,
        offer.monthly_fee_rate,
        0,
        apr_cap=offer.apr_cap,
    )


def _schedule(
    amount: int,
    term: int,
    rate: float,
    fee_rate: float,
    upfront_fee: int,
    apr_cap: float = APR_LEGAL_CAP,
) -> Schedule:
    try:
        return build_schedule(amount, term, rate, fee_rate, upfront_fee, apr_cap)
    except PriceAboveCap:
        raise
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
