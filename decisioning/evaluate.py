"""Evaluating a policy: the scorecard, then the graph of the stage, then the hits folded into the
domain's outcome. Stage 5 gives a `Decision`; stage 1 and the ID check give a pre-screen
verdict; stage 9 a pre-payout verdict.

Each evaluation is a pure function of the policy and its input, so replay reproduces it; an
offer's expiry is dated by the workflow when it is offered, on the workflow's clock. The sync
forms serve replay and benchmarks; the async forms the activities, where a large graph must not
block the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from decisioning.evaluator import PolicyEvaluationError, PolicyEvaluator
from decisioning.facts import (
    ScreeningSignals,
    decision_context,
    pre_payout_context,
    scorecard_features,
    screening_context,
)
from decisioning.loader import Policy
from domain.decision import Decision, DecisionInput, PrescreenResult
from domain.enums import DecisionOutcome
from domain.policy import PrePayoutVerdict, PriceBand, RuleHit, fold, make_offer
from domain.pricing import PriceAboveCap
from domain.reasons import ReasonCode


@dataclass(frozen=True)
class Scored:
    score: int
    points: dict[str, float]
    bad_probability: float


def score(policy: Policy, inp: DecisionInput) -> Scored:
    card = policy.scorecard
    features = scorecard_features(inp)
    points = card.points(features)
    value = card.score(features)
    return Scored(value, points, round(card.bad_probability(value), 6))


def hits(policy: Policy, graph: str, result: dict[str, Any]) -> list[RuleHit]:
    """Every rule that fired, table by table in the order of the graph file."""
    collected = result.get("hits") or {}
    found: list[RuleHit] = []
    for table in policy.rule_tables[graph]:
        for row in collected.get(table) or []:
            reason = row.get("reason")
            codes = reason if isinstance(reason, list) else [reason]
            try:
                found.append(
                    RuleHit(
                        rule=row["rule"],
                        reasons=tuple(ReasonCode(c) for c in codes),
                        action=row["action"],
                        queue=row.get("queue"),
                        reapply_in_days=row.get("reapply_in_days"),
                    )
                )
            except (KeyError, ValueError) as exc:
                raise PolicyEvaluationError(
                    f"policy {policy.version} graph {graph}, table {table}: bad hit {row}: {exc}"
                ) from None
    return found


# ---------------------------------------------------------------- stage 5


def _decision(
    policy: Policy, inp: DecisionInput, scored: Scored, result: dict[str, Any]
) -> Decision:
    fired = hits(policy, "decide", result)
    verdict = fold(fired, inp.decided_on)
    raw_offer = result.get("offer") or {}
    grade = raw_offer.get("grade")
    offer = None
    if verdict.outcome != DecisionOutcome.REJECT:
        if grade is None or "limit" not in raw_offer:
            raise PolicyEvaluationError(
                f"policy {policy.version}: no grade or limit for {inp.application_id}"
            )
        band = PriceBand.model_validate(
            {k: raw_offer[k] for k in PriceBand.model_fields if k in raw_offer}
        )
        try:
            offer = make_offer(inp.product, band, int(raw_offer["limit"]), policy.prices.apr_cap)
        except (PriceAboveCap, ValueError) as exc:
            raise PolicyEvaluationError(f"policy {policy.version}: {exc}") from exc
    return Decision(
        outcome=verdict.outcome,
        reasons=verdict.top_reasons(policy.top_reasons),
        score=scored.score,
        grade=grade,
        offer=offer,
        policy_version=policy.version,
        policy_hash=policy.hash,
        rules_fired=[h.rule for h in fired],
        review_queue=verdict.review_queue,
        reapply_after=verdict.reapply_after,
        score_points=scored.points,
    )


def decide(
    evaluator: PolicyEvaluator,
    policy: Policy,
    inp: DecisionInput,
    scored: Scored | None = None,
) -> Decision:
    """`scored` replaces the scorecard's own score: what-if analysis and cut-off tests."""
    scored = scored or score(policy, inp)
    context = decision_context(inp, scored.score, scored.bad_probability)
    return _decision(policy, inp, scored, evaluator.evaluate(policy, "decide", context))


async def decide_async(evaluator: PolicyEvaluator, policy: Policy, inp: DecisionInput) -> Decision:
    scored = score(policy, inp)
    context = decision_context(inp, scored.score, scored.bad_probability)
    result = await evaluator.evaluate_async(policy, "decide", context)
    return _decision(policy, inp, scored, result)


# ---------------------------------------------------------------- stages 1 and 3


@dataclass(frozen=True)
class Screening:
    result: PrescreenResult
    rules_fired: list[str]


def _screening(policy: Policy, on: date, result: dict[str, Any]) -> Screening:
    fired = hits(policy, "prescreen", result)
    verdict = fold(fired, on)
    if verdict.outcome == DecisionOutcome.APPROVE:
        return Screening(PrescreenResult(passed=True), [])
    return Screening(
        PrescreenResult(
            passed=False, reasons=verdict.reasons, reapply_after=verdict.reapply_after or on
        ),
        [h.rule for h in fired],
    )


async def screen_async(
    evaluator: PolicyEvaluator, policy: Policy, signals: ScreeningSignals, on: date
) -> Screening:
    """Every pre-screen hit rejects (a pre-screen has nobody to send a review to)."""
    result = await evaluator.evaluate_async(policy, "prescreen", screening_context(signals))
    return _screening(policy, on, result)


def screen(
    evaluator: PolicyEvaluator, policy: Policy, signals: ScreeningSignals, on: date
) -> Screening:
    return _screening(
        policy, on, evaluator.evaluate(policy, "prescreen", screening_context(signals))
    )


# ---------------------------------------------------------------- stage 9


def _pre_payout(policy: Policy, result: dict[str, Any]) -> PrePayoutVerdict:
    fired = hits(policy, "pre_payout", result)
    verdict = fold(fired, date.min)
    return PrePayoutVerdict(
        outcome=verdict.outcome,
        reasons=verdict.reasons,
        rules_fired=[h.rule for h in fired],
        review_queue=verdict.review_queue,
    )


def pre_payout(
    evaluator: PolicyEvaluator, policy: Policy, blacklisted: bool, bureau: dict[str, Any] | None
) -> PrePayoutVerdict:
    """`bureau` is a report fetched again (JSON form), or None while the decision's is fresh."""
    context = pre_payout_context(blacklisted, bureau is not None, bureau)
    return _pre_payout(policy, evaluator.evaluate(policy, "pre_payout", context))


async def pre_payout_async(
    evaluator: PolicyEvaluator, policy: Policy, blacklisted: bool, bureau: dict[str, Any] | None
) -> PrePayoutVerdict:
    context = pre_payout_context(blacklisted, bureau is not None, bureau)
    return _pre_payout(policy, await evaluator.evaluate_async(policy, "pre_payout", context))
