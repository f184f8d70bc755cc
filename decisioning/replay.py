"""Replay: re-evaluate the stored inputs of past decisions under a candidate policy and compare
with what was decided, before switching to it.

Each recorded stage-5 decision's `input_snapshot` is decided again with the candidate; the
report gives approval, review and rejection rates, the average limit and price of approvals, and
every application whose outcome changes, both ways. The records are read from the store by the
command (`commands/replay_policy.py`); this module sees them only through `StoredDecision`.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import ValidationError

from decisioning import evaluate
from decisioning.evaluator import PolicyEvaluationError, PolicyEvaluator
from decisioning.loader import Policy
from domain.decision import DecisionInput
from domain.enums import DecisionOutcome


class StoredDecision(Protocol):
    """What replay reads of a recorded decision (`store.tables.DecisionRecord`)."""

    @property
    def id(self) -> int | None: ...
    @property
    def application_id(self) -> str: ...
    @property
    def outcome(self) -> str: ...
    @property
    def policy_version(self) -> str: ...
    @property
    def input_snapshot(self) -> dict[str, Any]: ...
    @property
    def reasons(self) -> Sequence[str]: ...
    @property
    def approved_limit(self) -> int | None: ...
    @property
    def annual_rate(self) -> float | None: ...


@dataclass(frozen=True)
class Outcome:
    outcome: str
    limit: int | None
    annual_rate: float | None
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Change:
    application_id: str
    record_id: int | None
    before: Outcome
    after: Outcome


@dataclass
class Side:
    """One policy's results over the replayed records."""

    outcomes: Counter[str] = field(default_factory=Counter)
    limits: list[int] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)

    def add(self, result: Outcome) -> None:
        self.outcomes[result.outcome] += 1
        if result.outcome == DecisionOutcome.APPROVE and result.limit is not None:
            self.limits.append(result.limit)
            self.rates.append(result.annual_rate or 0.0)

    def rate(self, outcome: DecisionOutcome) -> float:
        total = sum(self.outcomes.values())
        return self.outcomes[outcome] / total if total else 0.0

    @property
    def average_limit(self) -> float | None:
        return statistics.fmean(self.limits) if self.limits else None

    @property
    def average_rate(self) -> float | None:
        return statistics.fmean(self.rates) if self.rates else None


@dataclass
class ReplayReport:
    candidate_version: str
    candidate_hash: str
    replayed: int = 0
    baseline: Side = field(default_factory=Side)
    candidate: Side = field(default_factory=Side)
    changes: list[Change] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    baseline_versions: Counter[str] = field(default_factory=Counter)

    def moved(self, before: DecisionOutcome, after: DecisionOutcome) -> list[Change]:
        return [c for c in self.changes if (c.before.outcome, c.after.outcome) == (before, after)]


def stored_outcome(record: StoredDecision) -> Outcome:
    return Outcome(record.outcome, record.approved_limit, record.annual_rate, tuple(record.reasons))


def replay(
    records: Iterable[StoredDecision], evaluator: PolicyEvaluator, candidate: Policy
) -> ReplayReport:
    report = ReplayReport(candidate.version, candidate.hash)
    for record in records:
        try:
            inp = DecisionInput.model_validate(record.input_snapshot)
            decision = evaluate.decide(evaluator, candidate, inp)
        except (ValidationError, PolicyEvaluationError) as exc:
            report.skipped.append((record.application_id, str(exc).split("\n", 1)[0]))
            continue
        offer = decision.offer
        after = Outcome(
            decision.outcome.value,
            offer.limit if offer else None,
            offer.annual_rate if offer else None,
            tuple(r.value for r in decision.reasons),
        )
        before = stored_outcome(record)
        report.replayed += 1
        report.baseline_versions[record.policy_version] += 1
        report.baseline.add(before)
        report.candidate.add(after)
        if before.outcome != after.outcome:
            report.changes.append(Change(record.application_id, record.id, before, after))
    return report


def _money(fen: float | None) -> str:
    return "-" if fen is None else f"{fen / 100:,.0f} yuan"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


def format_report(report: ReplayReport, show: int = 20) -> str:
    b, c = report.baseline, report.candidate
    versions = ", ".join(f"{v} ({n})" for v, n in report.baseline_versions.most_common())
    lines = [
        f"Replay of {report.replayed} decisions under {report.candidate_version} "
        f"({report.candidate_hash[:12]}); decided under {versions or '-'}",
        f"{'':24}{'decided':>16}{'candidate':>16}",
    ]
    for outcome in DecisionOutcome:
        lines.append(
            f"{outcome.value.lower() + ' rate':24}{_pct(b.rate(outcome)):>16}"
            f"{_pct(c.rate(outcome)):>16}"
        )
    lines.append(
        f"{'average approved limit':24}{_money(b.average_limit):>16}{_money(c.average_limit):>16}"
    )
    lines.append(f"{'average annual rate':24}{_pct(b.average_rate):>16}{_pct(c.average_rate):>16}")
    lines.append(f"outcome changed for {len(report.changes)} applications")
    pairs = Counter((ch.before.outcome, ch.after.outcome) for ch in report.changes)
    for (before, after), n in sorted(pairs.items()):
        lines.append(f"  {before} -> {after}: {n}")
        for ch in [
            x for x in report.changes if (x.before.outcome, x.after.outcome) == (before, after)
        ][:show]:
            lines.append(
                f"    {ch.application_id}: {','.join(ch.before.reasons) or '-'} -> "
                f"{','.join(ch.after.reasons) or '-'}"
            )
    if report.skipped:
        lines.append(f"skipped {len(report.skipped)} records that cannot be replayed:")
        lines += [f"  {app}: {why}" for app, why in report.skipped[:show]]
    return "\n".join(lines)
