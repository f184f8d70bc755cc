"""Stages 1, 5 and 9: the pre-screen (device, blacklist, velocity, cool-down), the credit
decision through the policy, and the pre-payout re-check. Every decision is recorded with its
policy version and hash, full input snapshot and the rules that fired, so it can be replayed."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio import activity

from activities.vendor_errors import to_application_error
from domain import policy
from domain.enums import ApplicationStatus
from domain.models import (
    BureauReport,
    Decision,
    DecisionInput,
    IdBlacklistInput,
    PrePayoutInput,
    PrePayoutResult,
    PrescreenInput,
    PrescreenResult,
)
from domain.naming import ActivityName
from domain.reasons import ReasonCode, reapply_after
from store import queries, screening
from store.screening import BlacklistKind
from store.tables import DecisionRecord
from vendors.base import VendorError

VELOCITY_WINDOW = timedelta(hours=24)
MAX_RECENT_APPLICATIONS = 3


class BureauReportSource(Protocol):
    """What the pre-payout check needs of vendors.bureau.BureauClient."""

    async def fetch_report(self, name: str, id_number: str) -> BureauReport: ...


def _prescreen_result(
    codes: list[ReasonCode], on: date, cool_down_until: date | None
) -> PrescreenResult:
    if not codes:
        return PrescreenResult(passed=True)
    # The applicant may come back once every hit's cool-down, and any earlier one, is over.
    until = reapply_after(codes, on)
    if cool_down_until is not None:
        until = max(until, cool_down_until)
    return PrescreenResult(passed=False, reasons=codes, reapply_after=until)


def _prescreen_hits(session: Session, inp: PrescreenInput) -> tuple[list[ReasonCode], date | None]:
    codes: list[ReasonCode] = []
    if inp.device.is_emulator or inp.device.is_rooted:
        codes.append(ReasonCode.P005_DEVICE_RISK)
    listed = screening.blacklist_hits(
        session, {BlacklistKind.PHONE: inp.phone, BlacklistKind.DEVICE: inp.device.fingerprint}
    )
    if listed:
        codes.append(ReasonCode.P001_BLACKLISTED)
    # The window ends at this submission, so a retried pre-screen sees the same counts.
    since, until = inp.submitted_at - VELOCITY_WINDOW, inp.submitted_at
    by_device = screening.count_recent_by_device(
        session, inp.device.fingerprint, since, until, inp.application_id
    )
    if by_device > MAX_RECENT_APPLICATIONS:
        codes.append(ReasonCode.P002_VELOCITY_DEVICE)
    by_phone = screening.count_recent_by_phone(session, inp.phone, since, until, inp.application_id)
    if by_phone > MAX_RECENT_APPLICATIONS:
        codes.append(ReasonCode.P003_VELOCITY_PHONE)
    cool_down = screening.active_cool_down(
        session, on=inp.submitted_at.date(), exclude_id=inp.application_id, phone=inp.phone
    )
    if cool_down is not None:
        codes.append(ReasonCode.P004_COOL_DOWN)
    return codes, cool_down


def _id_hits(
    session: Session, inp: IdBlacklistInput, today: date
) -> tuple[list[ReasonCode], date | None]:
    codes: list[ReasonCode] = []
    # Phone and device again too: an entry may have been added since the pre-screen.
    listed = screening.blacklist_hits(
        session,
        {
            BlacklistKind.ID_NUMBER: inp.id_number,
            BlacklistKind.PHONE: inp.phone,
            BlacklistKind.DEVICE: inp.device_fingerprint,
        },
    )
    if listed:
        codes.append(ReasonCode.P001_BLACKLISTED)
    cool_down = screening.active_cool_down(
        session, on=today, exclude_id=inp.application_id, id_number=inp.id_number
    )
    if cool_down is not None:
        codes.append(ReasonCode.P004_COOL_DOWN)
    return codes, cool_down


def _decision_record(inp: DecisionInput, decision: Decision, duration_ms: float) -> DecisionRecord:
    offer = decision.offer
    return DecisionRecord(
        application_id=inp.application_id,
        stage=ApplicationStatus.DECISIONING.value,
        outcome=decision.outcome.value,
        policy_version=decision.policy_version,
        policy_hash=decision.policy_hash,
        input_snapshot=inp.model_dump(mode="json"),
        rules_fired=list(decision.rules_fired),
        reasons=[r.value for r in decision.reasons],
        score=decision.score,
        grade=decision.grade,
        approved_limit=offer.limit if offer else None,
        annual_rate=offer.annual_rate if offer else None,
        duration_ms=duration_ms,
    )


def _execution_key() -> str:
    # Stable across retries of one activity execution, distinct for each new execution.
    info = activity.info()
    return f"{info.workflow_id}/{info.workflow_run_id}/{info.activity_id}"


class DecisioningActivities:
    def __init__(
        self,
        engine: Engine,
        bureau_client: BureauReportSource,
        params: policy.PolicyParameters = policy.DEFAULT_POLICY,
    ) -> None:
        self._engine = engine
        self._bureau = bureau_client
        self._params = params

    @activity.defn(name=ActivityName.PRESCREEN)
    async def prescreen(self, inp: PrescreenInput) -> PrescreenResult:
        codes, cool_down = await queries.in_thread(self._engine, _prescreen_hits, inp)
        result = _prescreen_result(codes, inp.submitted_at.date(), cool_down)
        activity.logger.info(
            "pre-screen %s: %s", inp.application_id, [c.value for c in codes] or "passed"
        )
        return result

    @activity.defn(name=ActivityName.CHECK_ID_BLACKLIST)
    async def check_id_blacklist(self, inp: IdBlacklistInput) -> PrescreenResult:
        today = datetime.now(UTC).date()
        codes, cool_down = await queries.in_thread(self._engine, _id_hits, inp, today)
        activity.logger.info(
            "ID check %s: %s", inp.application_id, [c.value for c in codes] or "passed"
        )
        return _prescreen_result(codes, today, cool_down)

    @activity.defn(name=ActivityName.DECIDE)
    async def decide(self, inp: DecisionInput) -> Decision:
        started = time.perf_counter()
        decision = policy.evaluate(inp, datetime.now(UTC), self._params)
        duration_ms = (time.perf_counter() - started) * 1000
        record = _decision_record(inp, decision, duration_ms)
        # A retry carries the same input: the snapshot match keeps one record for it.
        await queries.in_thread(self._engine, queries.record_decision, record)
        activity.logger.info(
            "decision %s: %s %s (policy %s)",
            inp.application_id,
            decision.outcome.value,
            [r.value for r in decision.reasons],
            decision.policy_version,
        )
        return decision

    @activity.defn(name=ActivityName.PRE_PAYOUT_CHECK)
    async def pre_payout_check(self, inp: PrePayoutInput) -> PrePayoutResult:
        started = time.perf_counter()
        listed = await queries.in_thread(
            self._engine,
            screening.blacklist_hits,
            {
                BlacklistKind.ID_NUMBER: inp.id_number,
                BlacklistKind.PHONE: inp.phone,
                BlacklistKind.DEVICE: inp.device_fingerprint,
            },
        )
        now = datetime.now(UTC)
        report: BureauReport | None = None
        if now - inp.bureau_fetched_at > timedelta(seconds=inp.max_bureau_age_seconds):
            report = await self._fetch_report(inp)
        verdict = policy.pre_payout(report, bool(listed), self._params)
        duration_ms = (time.perf_counter() - started) * 1000
        snapshot: dict[str, Any] = {
            "execution": _execution_key(),
            "application_id": inp.application_id,
            "bureau_fetched_at": inp.bureau_fetched_at.isoformat(),
            "max_bureau_age_seconds": inp.max_bureau_age_seconds,
            "checked_at": now.isoformat(),
            "blacklist_hits": sorted(kind.value for kind in listed),
            "bureau_refreshed": report is not None,
            "bureau": report.model_dump(mode="json") if report else None,
        }
        record = DecisionRecord(
            application_id=inp.application_id,
            stage=ApplicationStatus.PRE_PAYOUT_CHECK.value,
            outcome=verdict.outcome.value,
            policy_version=self._params.version,
            policy_hash=self._params.policy_hash,
            input_snapshot=snapshot,
            rules_fired=list(verdict.rules_fired),
            reasons=[r.value for r in verdict.reasons],
            score=report.score if report else None,
            duration_ms=duration_ms,
        )
        await queries.in_thread(
            self._engine, queries.record_decision, record, match_keys=("execution",)
        )
        activity.logger.info(
            "pre-payout %s: %s %s", inp.application_id, verdict.outcome.value,
            [r.value for r in verdict.reasons],
        )
        return PrePayoutResult(
            outcome=verdict.outcome, reasons=verdict.reasons, bureau_refreshed=report is not None
        )

    async def _fetch_report(self, inp: PrePayoutInput) -> BureauReport:
        try:
            return await self._bureau.fetch_report(inp.full_name, inp.id_number)
        except VendorError as exc:
            raise to_application_error(exc) from exc
