"""Stages 1, 5 and 9: the pre-screen (device, blacklist, velocity, cool-down, several accounts)
and its repeat on the ID number, the credit decision, and the pre-payout re-check, each through
the active policy's decision graph (`decisioning`). Every decision is recorded with its policy
version and hash, full input snapshot, the rules that fired, score, grade, limit, price and
duration, so it can be explained and replayed."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.precredit_scoring import apply_pre_approval
from activities.storage import store_call
from activities.vendor_errors import vendor_call
from config.settings import get_settings
from decisioning import evaluate
from decisioning.evaluator import PolicyEvaluationError, PolicyEvaluator
from decisioning.facts import ScreeningSignals
from domain.decision import (
    BureauReport,
    Decision,
    DecisionInput,
    IdBlacklistInput,
    PrePayoutInput,
    PrePayoutResult,
    PrescreenInput,
    PrescreenResult,
)
from domain.enums import ApplicationStatus, BlacklistKind
from domain.naming import ActivityName, ErrorType
from store import precredit, queries, screening
from store.tables import DecisionRecord

VELOCITY_WINDOW = timedelta(hours=24)
ACCOUNTS_WINDOW = timedelta(days=180)
DEVICES_WINDOW = timedelta(days=30)
POLICY_ERROR = ErrorType.POLICY_ERROR


class BureauReportSource(Protocol):
    """What the pre-payout check needs of vendors.bureau.BureauClient."""

    async def fetch_report(self, name: str, id_number: str) -> BureauReport: ...


def _days_until(day: date | None, on: date) -> int:
    return max(0, (day - on).days) if day is not None else 0


def _prescreen_signals(session: Session, inp: PrescreenInput) -> ScreeningSignals:
    listed = screening.blacklist_hits(
        session, {BlacklistKind.PHONE: inp.phone, BlacklistKind.DEVICE: inp.device.fingerprint}
    )
    # The window ends at this submission, so a retried pre-screen sees the same counts.
    since, until = inp.submitted_at - VELOCITY_WINDOW, inp.submitted_at
    on = inp.submitted_at.date()
    cool_down = screening.active_cool_down(
        session, on=on, exclude_id=inp.application_id, phone=inp.phone
    )
    return ScreeningSignals(
        stage="PRESCREEN",
        is_emulator=inp.device.is_emulator,
        is_rooted=inp.device.is_rooted,
        blacklisted_phone=BlacklistKind.PHONE in listed,
        blacklisted_device=BlacklistKind.DEVICE in listed,
        applications_24h_device=screening.count_recent_by_device(
            session, inp.device.fingerprint, since, until, inp.application_id
        ),
        applications_24h_phone=screening.count_recent_by_phone(
            session, inp.phone, since, until, inp.application_id
        ),
        cool_down_days_left=_days_until(cool_down, on),
        days_since_credit_rejection=screening.days_since_credit_rejection(
            session, at=inp.submitted_at, exclude_id=inp.application_id, phone=inp.phone
        ),
    )


def _id_signals(session: Session, inp: IdBlacklistInput, now: datetime) -> ScreeningSignals:
    # Phone and device again too: an entry may have been added since the pre-screen.
    listed = screening.blacklist_hits(
        session,
        {
            BlacklistKind.ID_NUMBER: inp.id_number,
            BlacklistKind.PHONE: inp.phone,
            BlacklistKind.DEVICE: inp.device_fingerprint,
        },
    )
    cool_down = screening.active_cool_down(
        session, on=now.date(), exclude_id=inp.application_id, id_number=inp.id_number
    )
    return ScreeningSignals(
        stage="ID_CHECK",
        blacklisted_phone=BlacklistKind.PHONE in listed,
        blacklisted_device=BlacklistKind.DEVICE in listed,
        blacklisted_id_number=BlacklistKind.ID_NUMBER in listed,
        cool_down_days_left=_days_until(cool_down, now.date()),
        days_since_credit_rejection=screening.days_since_credit_rejection(
            session, at=now, exclude_id=inp.application_id, id_number=inp.id_number
        ),
        phones_per_id_180d=screening.phones_per_id(
            session, inp.id_number, inp.phone, now - ACCOUNTS_WINDOW
        ),
        devices_per_id_30d=screening.devices_per_id(
            session, inp.id_number, inp.device_fingerprint, now - DEVICES_WINDOW
        ),
        ids_per_device_30d=screening.ids_per_device(
            session, inp.device_fingerprint, inp.id_number, now - DEVICES_WINDOW
        ),
    )


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
        monthly_fee_rate=offer.monthly_fee_rate if offer else None,
        apr_cap=offer.apr_cap if offer else None,
        review_queue=decision.review_queue,
        score_points=dict(decision.score_points),
        duration_ms=duration_ms,
    )


def _execution_key() -> str:
    # Stable across retries of one activity execution, distinct for each new execution.
    info = activity.info()
    return f"{info.workflow_id}/{info.workflow_run_id}/{info.activity_id}"


def _policy_failure(exc: PolicyEvaluationError) -> ApplicationError:
    # A policy that cannot decide will not decide on a retry either: ops must fix the policy.
    return ApplicationError(str(exc), type=POLICY_ERROR, non_retryable=True)


class DecisioningActivities:
    def __init__(
        self,
        engine: Engine,
        bureau_client: BureauReportSource,
        policies: PolicyEvaluator | Path | str | None = None,
    ) -> None:
        self._engine = engine
        self._bureau = bureau_client
        if policies is None:
            policies = get_settings().resolved_policy_path
        self._policies = (
            policies if isinstance(policies, PolicyEvaluator) else PolicyEvaluator(policies)
        )

    @property
    def policies(self) -> PolicyEvaluator:
        return self._policies

    @activity.defn(name=ActivityName.PRESCREEN)
    async def prescreen(self, inp: PrescreenInput) -> PrescreenResult:
        facts = await store_call(self._engine, _prescreen_signals, inp)
        result = await self._screen(facts, inp.submitted_at.date())
        activity.logger.info(
            "pre-screen %s: %s", inp.application_id, [c.value for c in result.reasons] or "passed"
        )
        return result

    @activity.defn(name=ActivityName.CHECK_ID_BLACKLIST)
    async def check_id_blacklist(self, inp: IdBlacklistInput) -> PrescreenResult:
        now = datetime.now(UTC)
        facts = await store_call(self._engine, _id_signals, inp, now)
        result = await self._screen(facts, now.date())
        activity.logger.info(
            "ID check %s: %s", inp.application_id, [c.value for c in result.reasons] or "passed"
        )
        return result

    async def _screen(self, facts: ScreeningSignals, on: date) -> PrescreenResult:
        try:
            screened = await evaluate.screen_async(self._policies, self._policies.active, facts, on)
        except PolicyEvaluationError as exc:
            raise _policy_failure(exc) from exc
        return screened.result

    @activity.defn(name=ActivityName.DECIDE)
    async def decide(self, inp: DecisionInput) -> Decision:
        started = time.perf_counter()
        policy = self._policies.active
        now = datetime.now(UTC)
        try:
            decision = await evaluate.decide_async(self._policies, policy, inp)
        except PolicyEvaluationError as exc:
            raise _policy_failure(exc) from exc
        pre = await queries.in_thread(
            self._engine,
            precredit.pre_approval_for_application,
            inp.application_id,
            inp.product.code,
            now,
        )
        decision = apply_pre_approval(decision, pre)
        duration_ms = (time.perf_counter() - started) * 1000
        record = _decision_record(inp, decision, duration_ms)
        # A retry carries the same input: the snapshot match keeps one record for it.
        await store_call(self._engine, queries.record_decision, record)
        activity.logger.info(
            "decision %s: %s %s score %s (policy %s)",
            inp.application_id,
            decision.outcome.value,
            [r.value for r in decision.reasons],
            decision.score,
            decision.policy_version,
        )
        return decision

    @activity.defn(name=ActivityName.PRE_PAYOUT_CHECK)
    async def pre_payout_check(self, inp: PrePayoutInput) -> PrePayoutResult:
        started = time.perf_counter()
        policy = self._policies.active
        listed = await store_call(
            self._engine,
            screening.blacklist_hits,
            {
                BlacklistKind.ID_NUMBER: inp.applicant.id_number,
                BlacklistKind.PHONE: inp.applicant.phone,
                BlacklistKind.DEVICE: inp.device_fingerprint,
            },
        )
        now = datetime.now(UTC)
        report: BureauReport | None = None
        if now - inp.bureau_fetched_at > timedelta(seconds=inp.max_bureau_age_seconds):
            report = await self._fetch_report(inp)
        bureau = report.model_dump(mode="json") if report else None
        try:
            verdict = await evaluate.pre_payout_async(self._policies, policy, bool(listed), bureau)
        except PolicyEvaluationError as exc:
            raise _policy_failure(exc) from exc
        duration_ms = (time.perf_counter() - started) * 1000
        snapshot: dict[str, Any] = {
            "execution": _execution_key(),
            "application_id": inp.application_id,
            "bureau_fetched_at": inp.bureau_fetched_at.isoformat(),
            "max_bureau_age_seconds": inp.max_bureau_age_seconds,
            "checked_at": now.isoformat(),
            "blacklist_hits": sorted(kind.value for kind in listed),
            "bureau_refreshed": report is not None,
            "bureau": bureau,
        }
        record = DecisionRecord(
            application_id=inp.application_id,
            stage=ApplicationStatus.PRE_PAYOUT_CHECK.value,
            outcome=verdict.outcome.value,
            policy_version=policy.version,
            policy_hash=policy.hash,
            input_snapshot=snapshot,
            rules_fired=list(verdict.rules_fired),
            reasons=[r.value for r in verdict.reasons],
            score=None,
            review_queue=verdict.review_queue,
            duration_ms=duration_ms,
        )
        await store_call(self._engine, queries.record_decision, record, match_keys=("execution",))
        activity.logger.info(
            "pre-payout %s: %s %s",
            inp.application_id,
            verdict.outcome.value,
            [r.value for r in verdict.reasons],
        )
        return PrePayoutResult(
            outcome=verdict.outcome, reasons=verdict.reasons, bureau_refreshed=report is not None
        )

    @vendor_call
    async def _fetch_report(self, inp: PrePayoutInput) -> BureauReport:
        return await self._bureau.fetch_report(inp.applicant.full_name, inp.applicant.id_number)
