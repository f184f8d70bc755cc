"""Pure decision logic around the policy graphs (stages 1, 5 and 9).

The rules, cut-offs, limits and prices are data (`policies/`, evaluated by `decisioning`); what
stays here is what every policy shares: how rule hits become an outcome and the reasons an
applicant sees, the price table and its APR-cap check, and the offer built from a grade.

Pure: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.decision import Offer
from domain.enums import DecisionOutcome
from domain.pricing import APR_LEGAL_CAP, PriceAboveCap, build_schedule
from domain.products import Product
from domain.reasons import REASONS, ReasonCode


class RuleAction(StrEnum):
    REJECT = "REJECT"
    REVIEW = "REVIEW"


class RuleHit(BaseModel):
    """One rule that fired: its stable id, the reason codes it raises and what it asks for."""

    model_config = ConfigDict(frozen=True)

    rule: str
    reasons: tuple[ReasonCode, ...] = Field(min_length=1)
    action: RuleAction
    queue: str | None = Field(default=None, description="review queue, for REVIEW")
    reapply_in_days: int | None = Field(
        default=None, description="a re-application date the rule sets itself (cool-downs)"
    )


class PriceBand(BaseModel):
    """One row of the grade and price table (a grade may have several, e.g. a thin-file row
    with a lower largest limit)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    grade: str = Field(min_length=1, max_length=8)
    limit_multiple: float = Field(gt=0, description="times the monthly income")
    max_limit: int = Field(gt=0, description="fen")
    annual_rate: float = Field(ge=0)
    monthly_fee_rate: float = Field(default=0.0, ge=0)


class PriceTable(BaseModel):
    """Every price a policy can offer and its APR cap. Construction refuses a cap above the
    legal ceiling, and any price whose APR would exceed the cap on any term of any product."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bands: tuple[PriceBand, ...] = Field(min_length=1)
    apr_cap: float = Field(gt=0)
    products: tuple[Product, ...] = Field(min_length=1, exclude=True)

    @model_validator(mode="after")
    def _within_cap(self) -> PriceTable:
        if self.apr_cap > APR_LEGAL_CAP:
            raise ValueError(f"apr_cap {self.apr_cap} is above the legal cap {APR_LEGAL_CAP}")
        for band in self.bands:
            for product in self.products:
                verify_price(band, product, self.apr_cap)
        return self


# Limits are whole hundreds of yuan, so a worker meets a few thousand (amount, term, price)
# triples; each IRR costs about a millisecond, the cache makes the repeat check free.
@lru_cache(maxsize=65536)
def _check_price(principal: int, term: int, rate: float, fee_rate: float, cap: float) -> None:
    build_schedule(principal, term, rate, fee_rate, apr_cap=cap)


def verify_price(
    band: PriceBand, product: Product, apr_cap: float, amounts: Iterable[int] | None = None
) -> None:
    """Raise PriceAboveCap unless this price is within the cap on every term of the product.
    Both ends of the amount range are priced because fen rounding and flat fees make the APR
    depend slightly on the principal."""
    principals = set(amounts) if amounts is not None else {product.min_amount, product.max_amount}
    for term in product.terms:
        for principal in principals:
            try:
                _check_price(principal, term, band.annual_rate, band.monthly_fee_rate, apr_cap)
            except PriceAboveCap as exc:
                raise PriceAboveCap(
                    f"grade {band.grade} on {product.code}, {term} months, {principal} fen: {exc}"
                ) from exc


def by_severity(codes: Iterable[ReasonCode]) -> list[ReasonCode]:
    """Distinct codes, longest cool-down first; ties keep the order in which rules fired."""
    distinct = list(dict.fromkeys(codes))
    order = {code: i for i, code in enumerate(distinct)}
    return sorted(distinct, key=lambda c: (-REASONS[c].cool_down_days, order[c]))


class Verdict(BaseModel):
    """Rule hits folded into an outcome: REJECT if any rule rejects, else REVIEW if any asks
    for one (the queue of its most severe reason), else APPROVE."""

    outcome: DecisionOutcome
    reasons: list[ReasonCode] = Field(default=[], description="every reason, most severe first")
    review_queue: str | None = None
    reapply_after: date | None = None

    def top_reasons(self, n: int) -> list[ReasonCode]:
        return self.reasons[:n]


def fold(hits: Iterable[RuleHit], decided_on: date) -> Verdict:
    hits = list(hits)
    rejects = [h for h in hits if h.action == RuleAction.REJECT]
    if rejects:
        reasons = by_severity(code for h in rejects for code in h.reasons)
        return Verdict(
            outcome=DecisionOutcome.REJECT,
            reasons=reasons,
            reapply_after=reapply_date(rejects, decided_on),
        )
    reviews = [h for h in hits if h.action == RuleAction.REVIEW]
    if reviews:
        reasons = by_severity(code for h in reviews for code in h.reasons)
        first = next(h for h in reviews if reasons[0] in h.reasons)
        return Verdict(
            outcome=DecisionOutcome.REVIEW, reasons=reasons, review_queue=first.queue or "GREY_ZONE"
        )
    return Verdict(outcome=DecisionOutcome.APPROVE)


def reapply_date(hits: Iterable[RuleHit], on: date) -> date:
    """The latest of every reason's cool-down and every date a rule set itself."""
    days = 0
    for hit in hits:
        days = max(days, *(REASONS[c].cool_down_days for c in hit.reasons))
        if hit.reapply_in_days is not None:
            days = max(days, hit.reapply_in_days)
    return on + timedelta(days=days)


def make_offer(product: Product, band: PriceBand, limit: int, apr_cap: float) -> Offer:
    """The offer for a grade and limit; refuses (PriceAboveCap) any price above the cap, so no
    offer above it can leave the policy even for a product the table was not checked on."""
    if not product.min_amount <= limit <= product.max_amount:
        raise ValueError(f"limit {limit} outside the product range of {product.code}")
    verify_price(band, product, apr_cap, amounts=(product.min_amount, limit))
    return Offer(
        limit=limit,
        min_amount=product.min_amount,
        terms=list(product.terms),
        annual_rate=band.annual_rate,
        monthly_fee_rate=band.monthly_fee_rate,
        apr_cap=apr_cap,
        grade=band.grade,
    )


class PrePayoutVerdict(BaseModel):
    outcome: DecisionOutcome
    reasons: list[ReasonCode] = []
    rules_fired: list[str] = []
    review_queue: str | None = None


__all__ = [
    "PriceAboveCap",
    "PriceBand",
    "PrePayoutVerdict",
    "PriceTable",
    "RuleAction",
    "RuleHit",
    "Verdict",
    "by_severity",
    "fold",
    "make_offer",
    "reapply_date",
    "verify_price",
]
