"""The first decision policy (stage 5) and the pre-payout re-check (stage 9).

Plain Python until the policy moves into zen-engine JDM graphs under `policies/`, but it already
behaves as versioned data: every cut-off, multiple and price lives in one frozen
`PolicyParameters` whose canonical JSON is hashed into each `Decision`, and every rule has a
stable id recorded in `Decision.rules_fired`, so a decision can be explained and replayed.

Pure: no clock, no I/O. `now` only dates the offer's expiry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cached_property, lru_cache

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.enums import DecisionOutcome
from domain.models import BureauReport, Decision, DecisionInput, Offer
from domain.pricing import APR_LEGAL_CAP, PriceAboveCap, build_schedule
from domain.products import PRODUCTS, Product
from domain.reasons import REASONS, ReasonCode


class Grade(StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"


class ReviewQueue(StrEnum):
    THIN_FILE = "THIN_FILE"
    GREY_ZONE = "GREY_ZONE"
    PRE_PAYOUT = "PRE_PAYOUT"


class RuleId(StrEnum):
    """Stable rule ids: the reason code they raise, then what they look at."""

    IDENTITY_NOT_PASSED = "I000_identity_not_passed"
    COURT_BLACKLIST = "P001_court_blacklist"
    PLATFORM_BLACKLIST = "P001_platform_blacklist"
    AGE_OUT_OF_RANGE = "R001_age_out_of_range"
    CURRENT_OVERDUE = "R002_current_overdue"
    OVERDUE_DAYS = "R003_overdue_days_24m"
    OVERDUE_COUNT = "R003_overdue_count_24m"
    INQUIRIES = "R004_inquiries_3m"
    LENDERS = "R005_lenders_6m"
    DEBT_TO_INCOME = "R006_debt_to_income"
    LIMIT_BELOW_MINIMUM = "R006_limit_below_min_amount"
    LOW_SCORE = "R007_low_score"
    GREY_ZONE = "R008_grey_zone"
    THIN_FILE = "R009_thin_file"
    CARRIER_TENURE = "R010_carrier_tenure"
    CARRIER_REAL_NAME = "R010_carrier_real_name"
    NEW_CURRENT_OVERDUE = "D001_new_current_overdue"
    NEW_OVERDUE_HISTORY = "D001_new_overdue_history"
    NEW_INQUIRIES = "D001_new_inquiries_3m"
    NEW_LENDERS = "D001_new_lenders_6m"
    NEW_DEBT_TO_INCOME = "D001_new_debt_to_income"


class GradeBand(BaseModel):
    """One row of the grade table: the lowest score in the band, its limit multiple and price."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    grade: Grade
    min_score: int = Field(ge=0)
    limit_multiple: float = Field(gt=0, description="times the monthly income")
    annual_rate: float = Field(ge=0)


class PolicyParameters(BaseModel):
    """Every number the policy uses. Construction refuses a price table above the APR cap."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = "2026.11-basic"
    max_overdue_days_24m: int = 90
    reject_overdue_count_24m: int = Field(default=3, description="this many or more rejects")
    max_inquiries_3m: int = 6
    max_lenders_6m: int = 5
    max_debt_to_income: float = 0.6
    min_carrier_months: int = 6
    reject_below_score: int = 550
    approve_from_score: int = 620
    grades: tuple[GradeBand, ...] = (
        GradeBand(grade=Grade.A, min_score=750, limit_multiple=6.0, annual_rate=0.10),
        GradeBand(grade=Grade.B, min_score=690, limit_multiple=4.0, annual_rate=0.14),
        GradeBand(grade=Grade.C, min_score=620, limit_multiple=3.0, annual_rate=0.18),
        GradeBand(grade=Grade.D, min_score=0, limit_multiple=2.0, annual_rate=0.22),
    )
    thin_file_grade: Grade = Grade.D
    monthly_fee_rate: float = Field(default=0.0, ge=0)
    apr_cap: float = Field(default=0.24, gt=0)
    limit_step: int = Field(default=10_000, gt=0, description="limits round down to this, fen")

    @model_validator(mode="after")
    def _coherent_and_within_cap(self) -> PolicyParameters:
        if self.apr_cap > APR_LEGAL_CAP:
            raise ValueError(f"apr_cap {self.apr_cap} is above the legal cap {APR_LEGAL_CAP}")
        if not self.reject_below_score <= self.approve_from_score:
            raise ValueError("reject_below_score must not exceed approve_from_score")
        floors = [band.min_score for band in self.grades]
        if floors != sorted(floors, reverse=True) or len(set(floors)) != len(floors):
            raise ValueError("grade bands must be listed best first with distinct floors")
        if floors[-1] != 0:
            raise ValueError("the last grade band must catch every score (min_score 0)")
        if len({band.grade for band in self.grades}) != len(self.grades):
            raise ValueError("each grade appears once")
        if self.thin_file_grade not in {band.grade for band in self.grades}:
            raise ValueError("thin_file_grade must be one of the grade bands")
        verify_prices(self, PRODUCTS.values())
        return self

    @cached_property
    def policy_hash(self) -> str:
        canonical = json.dumps(
            self.model_dump(mode="json"), sort_keys=True, separators=(",", ":")
        )
        return hashlib.sha256(canonical.encode()).hexdigest()

    def band(self, grade: Grade) -> GradeBand:
        return next(b for b in self.grades if b.grade == grade)

    def grade_for(self, score: int) -> Grade:
        return next(b.grade for b in self.grades if score >= b.min_score)


@lru_cache(maxsize=4096)
def _check_price(principal: int, term: int, rate: float, fee_rate: float, cap: float) -> None:
    build_schedule(principal, term, rate, fee_rate, apr_cap=cap)


def verify_prices(params: PolicyParameters, products: Iterable[Product]) -> None:
    """Raise PriceAboveCap unless every grade's price on every term of every product is within
    the policy's cap. Both ends of the amount range are priced because fen rounding and flat
    fees make the APR depend slightly on the principal."""
    for product in products:
        for band in params.grades:
            for term in product.terms:
                for principal in {product.min_amount, product.max_amount}:
                    _check_price(
                        principal, term, band.annual_rate, params.monthly_fee_rate, params.apr_cap
                    )


DEFAULT_POLICY = PolicyParameters()


# ---------------------------------------------------------------- rules


@dataclass(frozen=True)
class _Rule:
    id: RuleId
    reason: ReasonCode
    fires: Callable[[BureauReport, PolicyParameters], bool]


def _debt_to_income_high(b: BureauReport, p: PolicyParameters) -> bool:
    # No known income means no capacity to repay: treated as the highest ratio.
    if b.monthly_income <= 0:
        return True
    return b.monthly_debt_payment / b.monthly_income > p.max_debt_to_income


_BUREAU_REJECT_RULES: tuple[_Rule, ...] = (
    _Rule(RuleId.COURT_BLACKLIST, ReasonCode.P001_BLACKLISTED,
          lambda b, p: b.on_court_blacklist),
    _Rule(RuleId.CURRENT_OVERDUE, ReasonCode.R002_CURRENT_OVERDUE,
          lambda b, p: b.current_overdue_amount > 0),
    _Rule(RuleId.OVERDUE_DAYS, ReasonCode.R003_OVERDUE_HISTORY,
          lambda b, p: b.max_overdue_days_24m > p.max_overdue_days_24m),
    _Rule(RuleId.OVERDUE_COUNT, ReasonCode.R003_OVERDUE_HISTORY,
          lambda b, p: b.overdue_count_24m >= p.reject_overdue_count_24m),
    _Rule(RuleId.INQUIRIES, ReasonCode.R004_TOO_MANY_INQUIRIES,
          lambda b, p: b.inquiries_3m > p.max_inquiries_3m),
    _Rule(RuleId.LENDERS, ReasonCode.R005_MULTI_LENDING,
          lambda b, p: b.lenders_6m > p.max_lenders_6m),
    _Rule(RuleId.DEBT_TO_INCOME, ReasonCode.R006_HIGH_DEBT_TO_INCOME, _debt_to_income_high),
)

# Between decision and payout, a new hard delinquency rejects; a burst of borrowing or a higher
# debt load is a fraud signal for a person to look at.
_PRE_PAYOUT_REJECT_RULES: tuple[_Rule, ...] = (
    _Rule(RuleId.COURT_BLACKLIST, ReasonCode.P001_BLACKLISTED,
          lambda b, p: b.on_court_blacklist),
    _Rule(RuleId.NEW_CURRENT_OVERDUE, ReasonCode.D001_PRE_PAYOUT_RISK,
          lambda b, p: b.current_overdue_amount > 0),
    _Rule(RuleId.NEW_OVERDUE_HISTORY, ReasonCode.D001_PRE_PAYOUT_RISK,
          lambda b, p: b.max_overdue_days_24m > p.max_overdue_days_24m
          or b.overdue_count_24m >= p.reject_overdue_count_24m),
)
_PRE_PAYOUT_REVIEW_RULES: tuple[_Rule, ...] = (
    _Rule(RuleId.NEW_INQUIRIES, ReasonCode.D001_PRE_PAYOUT_RISK,
          lambda b, p: b.inquiries_3m > p.max_inquiries_3m),
    _Rule(RuleId.NEW_LENDERS, ReasonCode.D001_PRE_PAYOUT_RISK,
          lambda b, p: b.lenders_6m > p.max_lenders_6m),
    _Rule(RuleId.NEW_DEBT_TO_INCOME, ReasonCode.D001_PRE_PAYOUT_RISK, _debt_to_income_high),
)


def by_severity(codes: Iterable[ReasonCode]) -> list[ReasonCode]:
    """Distinct codes, longest cool-down first; ties keep the order in which rules fired."""
    distinct = list(dict.fromkeys(codes))
    order = {code: i for i, code in enumerate(distinct)}
    return sorted(distinct, key=lambda c: (-REASONS[c].cool_down_days, order[c]))


def _hard_rules(inp: DecisionInput, p: PolicyParameters) -> list[tuple[RuleId, ReasonCode]]:
    fired: list[tuple[RuleId, ReasonCode]] = []
    if not inp.identity.passed:
        # A failed stage 3 without reasons is still a failed identity: name it as unconfirmed.
        codes = inp.identity.reasons or [ReasonCode.I002_IDENTITY_MISMATCH]
        fired += [(RuleId.IDENTITY_NOT_PASSED, code) for code in codes]
    age = inp.identity.age
    if age is None or not inp.product.min_age <= age <= inp.product.max_age:
        fired.append((RuleId.AGE_OUT_OF_RANGE, ReasonCode.R001_AGE_OUT_OF_RANGE))
    fired += [(r.id, r.reason) for r in _BUREAU_REJECT_RULES if r.fires(inp.bureau, p)]
    carrier = inp.carrier
    # No carrier report means the flow did not collect one (its absence is C002 upstream).
    if carrier is not None:
        if carrier.months_on_network < p.min_carrier_months:
            fired.append((RuleId.CARRIER_TENURE, ReasonCode.R010_CARRIER_TENURE))
        if not carrier.real_name_match:
            fired.append((RuleId.CARRIER_REAL_NAME, ReasonCode.R010_CARRIER_TENURE))
    return fired


def _limit(product: Product, band: GradeBand, monthly_income: int, step: int) -> int:
    raw = min(product.max_amount, int(band.limit_multiple * max(monthly_income, 0)))
    return raw // step * step


def _offer(inp: DecisionInput, band: GradeBand, limit: int, p: PolicyParameters,
           now: datetime) -> Offer:
    # The product may not be one checked at construction: price this offer's own range too.
    for term in inp.product.terms:
        for principal in {inp.product.min_amount, limit}:
            _check_price(principal, term, band.annual_rate, p.monthly_fee_rate, p.apr_cap)
    return Offer(
        limit=limit,
        min_amount=inp.product.min_amount,
        terms=list(inp.product.terms),
        annual_rate=band.annual_rate,
        monthly_fee_rate=p.monthly_fee_rate,
        apr_cap=p.apr_cap,
        grade=band.grade,
        expires_at=now + inp.product.timeouts.offer,
    )


def evaluate(inp: DecisionInput, now: datetime,
             params: PolicyParameters = DEFAULT_POLICY) -> Decision:
    """Hard rules, then the score band, then grade, limit and price.

    Every rule is evaluated so `rules_fired` explains the whole picture, not just the first hit.
    REJECT carries the reasons of the rules that reject; REVIEW carries its queue's reason and
    the provisional offer the reviewer may lower.
    """
    p = params
    fired = _hard_rules(inp, p)
    rejects = [code for _, code in fired]
    bureau = inp.bureau
    score = bureau.score
    review: tuple[ReasonCode, ReviewQueue] | None = None
    if not bureau.has_record or score is None:
        grade = p.thin_file_grade
        fired.append((RuleId.THIN_FILE, ReasonCode.R009_THIN_FILE))
        review = (ReasonCode.R009_THIN_FILE, ReviewQueue.THIN_FILE)
    else:
        grade = p.grade_for(score)
        if score < p.reject_below_score:
            fired.append((RuleId.LOW_SCORE, ReasonCode.R007_LOW_SCORE))
            rejects.append(ReasonCode.R007_LOW_SCORE)
        elif score < p.approve_from_score:
            fired.append((RuleId.GREY_ZONE, ReasonCode.R008_GREY_ZONE))
            review = (ReasonCode.R008_GREY_ZONE, ReviewQueue.GREY_ZONE)

    band = p.band(grade)
    offer: Offer | None = None
    if not rejects:
        limit = _limit(inp.product, band, bureau.monthly_income, p.limit_step)
        if limit < inp.product.min_amount:
            fired.append((RuleId.LIMIT_BELOW_MINIMUM, ReasonCode.R006_HIGH_DEBT_TO_INCOME))
            rejects.append(ReasonCode.R006_HIGH_DEBT_TO_INCOME)
        else:
            offer = _offer(inp, band, limit, p, now)

    if rejects:
        outcome, reasons, queue, offer = DecisionOutcome.REJECT, by_severity(rejects), None, None
    elif review is not None:
        outcome, reasons, queue = DecisionOutcome.REVIEW, [review[0]], review[1]
    else:
        outcome, reasons, queue = DecisionOutcome.APPROVE, [], None
    return Decision(
        outcome=outcome,
        reasons=reasons,
        score=score,
        grade=grade,
        offer=offer,
        policy_version=p.version,
        policy_hash=p.policy_hash,
        rules_fired=list(dict.fromkeys(rule for rule, _ in fired)),
        review_queue=queue,
    )


class PrePayoutVerdict(BaseModel):
    outcome: DecisionOutcome
    reasons: list[ReasonCode] = []
    rules_fired: list[str] = []
    review_queue: str | None = None


def pre_payout(bureau: BureauReport | None, blacklisted: bool,
               params: PolicyParameters = DEFAULT_POLICY) -> PrePayoutVerdict:
    """Second look just before money moves.

    `bureau` is a report fetched again because the decision's one grew stale, or None when the
    decision's report is still fresh (nothing new to judge). `blacklisted` is the platform list
    (ID, phone or device) checked again now.
    """
    rejects: list[tuple[RuleId, ReasonCode]] = []
    reviews: list[tuple[RuleId, ReasonCode]] = []
    if blacklisted:
        rejects.append((RuleId.PLATFORM_BLACKLIST, ReasonCode.P001_BLACKLISTED))
    if bureau is not None:
        rejects += [(r.id, r.reason) for r in _PRE_PAYOUT_REJECT_RULES if r.fires(bureau, params)]
        reviews += [(r.id, r.reason) for r in _PRE_PAYOUT_REVIEW_RULES if r.fires(bureau, params)]
    fired = [rule for rule, _ in rejects + reviews]
    if rejects:
        return PrePayoutVerdict(outcome=DecisionOutcome.REJECT, rules_fired=fired,
                                reasons=by_severity(code for _, code in rejects))
    if reviews:
        return PrePayoutVerdict(outcome=DecisionOutcome.REVIEW, rules_fired=fired,
                                reasons=by_severity(code for _, code in reviews),
                                review_queue=ReviewQueue.PRE_PAYOUT)
    return PrePayoutVerdict(outcome=DecisionOutcome.APPROVE)


__all__ = [
    "DEFAULT_POLICY",
    "Grade",
    "GradeBand",
    "PolicyParameters",
    "PrePayoutVerdict",
    "PriceAboveCap",
    "ReviewQueue",
    "RuleId",
    "by_severity",
    "evaluate",
    "pre_payout",
    "verify_prices",
]
