"""Properties of the default policy's offers: every schedule repays the principal, the APR of
every offer is under the cap, and the quote shown before acceptance is the schedule the
contract later carries."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi.security import HTTPAuthorizationCredentials
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from api.routes.quotes import quote
from api.schemas import QuoteRequest
from api.security import applicant_token
from config.settings import Settings
from decisioning import evaluate
from decisioning.evaluator import PolicyEvaluator
from domain.decision import Offer
from domain.enums import ApplicationStatus, NextAction
from domain.offer import AcceptOfferInput, BankCard
from domain.pricing import APR_LEGAL_CAP, build_schedule
from domain.products import PRODUCTS
from domain.status import ApplicationView
from tests.decisioning.conftest import DEFAULT_POLICY, make_input
from workflows import messages

EVALUATOR = PolicyEvaluator(DEFAULT_POLICY)  # hypothesis runs outside pytest's fixture scopes
SETTINGS = Settings(environment="test")
CARD = BankCard(number="6222020000000188888", bank_code="ICBC", reserved_phone="13800138000")


@st.composite
def applicants(draw: st.DrawFn) -> dict[str, Any]:
    """Applicants near and inside the approvable region, thin files included: an offer comes
    out of most of them (APPROVE or REVIEW), at every grade and limit."""
    income = draw(st.integers(10_000, 20_000_000))
    has_record = draw(st.booleans().map(lambda b: b or draw(st.integers(0, 4)) > 0))
    return {
        "identity": {"age": draw(st.integers(22, 55))},
        "bureau": {
            "has_record": has_record,
            "score": draw(st.integers(560, 900)) if has_record else None,
            "monthly_income": income,
            "monthly_debt_payment": int(income * draw(st.floats(0, 0.6))),
            "card_utilisation": draw(st.floats(0, 0.9)),
            "inquiries_3m": draw(st.integers(0, 6)),
            "lenders_6m": draw(st.integers(0, 5)),
            "income_stable_months": draw(st.one_of(st.none(), st.integers(6, 60))),
        },
        "carrier": {
            "contacts_in_call_log": draw(st.integers(15, 300)),
            "night_call_ratio": draw(st.floats(0, 0.35)),
            "emergency_contacts_in_call_log": draw(st.integers(1, 2)),
        },
        "product": draw(st.sampled_from(list(PRODUCTS.values()))),
    }


def offer_for(changes: dict[str, Any]) -> Offer | None:
    decision = evaluate.decide(EVALUATOR, EVALUATOR.active, make_input(**changes))
    return decision.offer


@settings(max_examples=150, deadline=None)
@given(applicants(), st.data())
def test_every_offer_is_under_the_cap_and_repays_its_principal(
    changes: dict[str, Any], data: st.DataObject
) -> None:
    offer = offer_for(changes)
    assume(offer is not None)
    assert offer is not None
    assert offer.apr_cap <= 0.24 <= APR_LEGAL_CAP
    term = data.draw(st.sampled_from(offer.terms), label="term")
    amount = data.draw(st.integers(offer.min_amount, offer.limit), label="amount")
    schedule = build_schedule(
        amount, term, offer.annual_rate, offer.monthly_fee_rate, apr_cap=offer.apr_cap
    )
    assert schedule.apr <= offer.apr_cap
    assert sum(row.principal for row in schedule.installments) == amount
    assert schedule.installments[-1].remaining_principal == 0


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_every_price_of_the_table_is_under_the_cap(data: st.DataObject) -> None:
    prices = EVALUATOR.active.prices
    band = data.draw(st.sampled_from(prices.bands), label="band")
    product = data.draw(st.sampled_from(list(PRODUCTS.values())), label="product")
    term = data.draw(st.sampled_from(product.terms), label="term")
    amount = data.draw(st.integers(product.min_amount, product.max_amount), label="amount")
    schedule = build_schedule(
        amount, term, band.annual_rate, band.monthly_fee_rate, apr_cap=prices.apr_cap
    )
    assert schedule.apr <= prices.apr_cap


class OfferedGateway:
    """The API's view of a workflow holding this offer."""

    def __init__(self, offer: Offer) -> None:
        self.offer = offer

    async def status(self, application_id: str) -> ApplicationView:
        return ApplicationView(
            application_id=application_id,
            status=ApplicationStatus.OFFERED,
            next_action=NextAction.ACCEPT_OFFER,
            offer=self.offer,
        )


@settings(max_examples=100, deadline=None)
@given(applicants(), st.data())
def test_the_quote_is_the_contract_schedule(changes: dict[str, Any], data: st.DataObject) -> None:
    offer = offer_for(changes)
    assume(offer is not None)
    assert offer is not None
    term = data.draw(st.sampled_from(offer.terms), label="term")
    amount = data.draw(st.integers(offer.min_amount, offer.limit), label="amount")
    token = HTTPAuthorizationCredentials(
        scheme="Bearer", credentials=applicant_token(SETTINGS.token_secret, "a1")
    )
    quoted = asyncio.run(
        quote(
            QuoteRequest(application_id="a1", amount=amount, term_months=term),
            SETTINGS,
            OfferedGateway(offer),
            token,  # type: ignore[arg-type]
        )
    )
    # The workflow builds the contract's schedule when the offer is accepted.
    contract = messages.quote(
        AcceptOfferInput(amount=amount, term_months=term, bank_card=CARD), offer
    )
    assert quoted == contract
    assert quoted.model_dump_json() == contract.model_dump_json()
