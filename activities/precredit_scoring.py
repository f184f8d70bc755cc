"""Scoring an existing customer before they ask: the current credit policy and scorecard on
what is known without an application (identity verified at onboarding, a fresh bureau report,
no carrier data), and deciding a later application against the approval it produced."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

from decisioning import evaluate
from decisioning.evaluator import PolicyEvaluator
from domain.decision import BureauReport, Decision, DecisionInput
from domain.enums import DecisionOutcome
from domain.identity import IdentityOutcome
from domain.idnumber import parse_id_number
from domain.lines import customer_id_for
from domain.precredit import PreCreditCustomer
from domain.products import Product
from store.db import digest
from store.precredit import PreApproval

PRE_APPROVED_RULE = "PRE_APPROVED"


def count_customers(path: Path | str) -> int:
    with open(path, newline="", encoding="utf-8") as handle:
        return sum(1 for _ in csv.DictReader(handle))


def read_customers(path: Path | str, offset: int, limit: int) -> list[dict[str, str]]:
    """Raw rows `offset .. offset+limit`; each is validated on its own, so one bad row is one
    failure, not a failed batch."""
    rows: list[dict[str, str]] = []
    with open(path, newline="", encoding="utf-8") as handle:
        for i, row in enumerate(csv.DictReader(handle)):
            if i >= offset + limit:
                break
            if i >= offset:
                rows.append(row)
    return rows


def decision_input(
    customer: PreCreditCustomer, product: Product, bureau: BureauReport, now: datetime
) -> DecisionInput:
    id_number = parse_id_number(customer.id_number)
    return DecisionInput(
        application_id=f"precredit-{customer.customer_id}",
        product=product,
        requested_amount=product.max_amount,
        requested_term=max(product.terms),
        decided_on=now.date(),
        identity=IdentityOutcome(
            passed=True,
            age=id_number.age_on(now.date()),
            is_male=id_number.is_male,
            liveness_passed=True,
        ),
        bureau=bureau,
        carrier=None,
    )


def score_customer(
    evaluator: PolicyEvaluator,
    customer: PreCreditCustomer,
    product: Product,
    bureau: BureauReport,
    batch_id: str,
    now: datetime,
    validity: timedelta,
) -> PreApproval:
    """One pre-approval row: approved only on a clean APPROVE (a grey-zone score waits for a
    real application with its review)."""
    policy = evaluator.active
    decision = evaluate.decide(evaluator, policy, decision_input(customer, product, bureau, now))
    offer = decision.offer if decision.outcome == DecisionOutcome.APPROVE else None
    return PreApproval(
        customer_id=customer.customer_id or customer_id_for(customer.id_number),
        id_number_hash=digest(customer.id_number),
        product_code=product.code,
        batch_id=batch_id,
        approved=offer is not None,
        credit_limit=offer.limit if offer else 0,
        grade=decision.grade,
        annual_rate=offer.annual_rate if offer else None,
        monthly_fee_rate=offer.monthly_fee_rate if offer else None,
        apr_cap=offer.apr_cap if offer else None,
        terms=offer.terms if offer else [],
        score=decision.score,
        reasons=[r.value for r in decision.reasons],
        policy_version=decision.policy_version,
        policy_hash=decision.policy_hash,
        bureau=bureau.model_dump(mode="json"),
        bureau_fetched_at=bureau.fetched_at,
        bureau_fresh_until=bureau.fetched_at + product.bureau_max_age,
        expires_at=now + validity,
        created_at=now,
    )


def apply_pre_approval(decision: Decision, pre: PreApproval | None) -> Decision:
    """An application from a pre-approved customer: the policy's hard rules still judge what
    is new (identity, carrier, device); if none rejects, the pre-approval's limit and price
    stand, with no grey-zone review."""
    if pre is None or decision.outcome == DecisionOutcome.REJECT or decision.offer is None:
        return decision
    offer = decision.offer.model_copy(
        update={
            "limit": pre.credit_limit,
            "annual_rate": pre.annual_rate,
            "monthly_fee_rate": pre.monthly_fee_rate,
            "apr_cap": pre.apr_cap,
            "terms": pre.terms or decision.offer.terms,
            "grade": pre.grade or decision.offer.grade,
        }
    )
    return decision.model_copy(
        update={
            "outcome": DecisionOutcome.APPROVE,
            "offer": offer,
            "grade": offer.grade,
            "review_queue": None,
            "reasons": [],
            "rules_fired": [*decision.rules_fired, PRE_APPROVED_RULE],
        }
    )
