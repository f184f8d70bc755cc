"""Credit lines after the first loan: the audit trail and projection of every change to a line,
and the behaviour-monitoring policy that lowers, freezes, lifts or raises a limit."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from temporalio import activity

from decisioning.monitoring import (
    DEFAULT_MONITORING_POLICY,
    MonitoringPolicy,
    load_monitoring_policy,
)
from domain.line_messages import LimitDecision, LineEventInput, MonitoringInput
from domain.naming import ActivityName
from store import lines, queries


class LineActivities:
    def __init__(self, engine: Engine, policy: Path | str = DEFAULT_MONITORING_POLICY) -> None:
        self._engine = engine
        self._policy: MonitoringPolicy = load_monitoring_policy(policy)

    @activity.defn(name=ActivityName.LINE_RECORD)
    async def record(self, inp: LineEventInput) -> None:
        await queries.in_thread(self._engine, lines.record_line_event, inp)

    @activity.defn(name=ActivityName.LINE_EVALUATE)
    async def evaluate(self, inp: MonitoringInput) -> LimitDecision:
        decision = self._policy.evaluate(inp)
        activity.logger.info(
            "line %s %s: %s by %s (%s)",
            inp.line_id,
            inp.kind,
            decision.action,
            decision.rule,
            decision.policy_version,
        )
        return decision
