"""Records and decisioning activities against a real store (SQLite, or PostgreSQL in a schema of
its own when DATABASE_URL is set) with a scripted bureau client: the bureau's wire protocol is
tested against the simulator elsewhere."""

from __future__ import annotations

import dataclasses
import random
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.decisioning import DecisioningActivities
from activities.records import RecordsActivities
from domain.application import Consents, Device, StartApplicationInput
from domain.decision import (
    BureauReport,
    DecisionInput,
    IdBlacklistInput,
    PrePayoutInput,
    PrescreenInput,
)
from domain.enums import ApplicationStatus, BlacklistKind, DecisionOutcome
from domain.identity import Applicant, IdentityOutcome
from domain.naming import ErrorType
from domain.products import PRODUCTS
from domain.reasons import ReasonCode
from domain.status import ProjectionInput
from store import queries, screening
from store.db import digest
from store.queries import in_session
from vendors.base import VendorError

NOW = datetime.now(UTC).replace(microsecond=0)
ID_NUMBER = "110105199003071234"


class ScriptedBureau:
    """Answers with a prepared report (or error) and counts the calls."""

    def __init__(self, report: BureauReport | None = None, error: Exception | None = None):
        self.report, self.error, self.calls = report, error, 0

    async def fetch_report(self, name: str, id_number: str) -> BureauReport:
        self.calls += 1
        if self.error is not None:
            raise self.error
        assert self.report is not None
        return self.report


def bureau(**fields) -> BureauReport:
    base = {
        "has_record": True,
        "score": 700,
        "monthly_income": 1_500_000,
        "monthly_debt_payment": 100_000,
        "fetched_at": NOW,
    }
    return BureauReport(**(base | fields))


def new_phone() -> str:
    return "1" + "".join(random.choices("0123456789", k=10))


def start(
    phone: str | None = None,
    device: str | None = None,
    *,
    at: datetime = NOW,
    emulator: bool = False,
) -> StartApplicationInput:
    return StartApplicationInput(
        application_id=f"app_{uuid.uuid4().hex[:24]}",
        client_request_id=uuid.uuid4().hex,
        product=PRODUCTS["CASH_STD"],
        phone=phone or new_phone(),
        requested_amount=500_000,
        requested_term=12,
        device=Device(
            fingerprint=device or f"dev-{uuid.uuid4().hex}",
            ip="10.1.2.3",
            os="Android 15",
            is_emulator=emulator,
        ),
        consents=Consents(privacy_policy=True, credit_inquiry=True, carrier_data=True),
        submitted_at=at,
    )


def prescreen_input(inp: StartApplicationInput) -> PrescreenInput:
    return PrescreenInput(
        application_id=inp.application_id,
        phone=inp.phone,
        device=inp.device,
        submitted_at=inp.submitted_at,
    )


def decision_input(app_id: str, report: BureauReport) -> DecisionInput:
    return DecisionInput(
        application_id=app_id,
        product=PRODUCTS["CASH_STD"],
        requested_amount=500_000,
        requested_term=12,
        decided_on=NOW.date(),
        identity=IdentityOutcome(
            passed=True, age=34, is_male=True, face_distance=0.3, liveness_passed=True
        ),
        bureau=report,
        carrier=None,
    )


def pre_payout_input(
    app_id: str, *, phone: str, device: str, fetched_at: datetime, id_number: str = ID_NUMBER
) -> PrePayoutInput:
    return PrePayoutInput(
        application_id=app_id,
        device_fingerprint=device,
        bureau_fetched_at=fetched_at,
        max_bureau_age_seconds=timedelta(days=7).total_seconds(),
        applicant=Applicant(full_name="张三", id_number=id_number, phone=phone),
    )


async def register(engine: Engine, *apps: StartApplicationInput) -> None:
    records, env = RecordsActivities(engine), ActivityEnvironment()
    for inp in apps:
        await env.run(records.register_application, inp)


async def reject(
    engine: Engine,
    inp: StartApplicationInput,
    until: date,
    id_number: str | None = None,
    *,
    at: datetime = NOW,
    reasons: list[ReasonCode] | None = None,
) -> None:
    await ActivityEnvironment().run(
        RecordsActivities(engine).project,
        ProjectionInput(
            application_id=inp.application_id,
            seq=1,
            status=ApplicationStatus.REJECTED,
            event="REJECTED",
            at=at,
            reasons=reasons or [ReasonCode.R007_LOW_SCORE],
            reapply_after=until,
            id_number=id_number,
        ),
    )


async def test_register_and_project_are_idempotent(engine: Engine) -> None:
    records, env, inp = RecordsActivities(engine), ActivityEnvironment(), start()
    await env.run(records.register_application, inp)
    await env.run(records.register_application, inp)
    move = ProjectionInput(
        application_id=inp.application_id,
        seq=1,
        event="AWAITING_DOCUMENTS",
        status=ApplicationStatus.AWAITING_DOCUMENTS,
        at=NOW,
    )
    await env.run(records.project, move)
    await env.run(records.project, move)
    row = in_session(engine, queries.get_application, inp.application_id)
    assert row is not None and row.status == ApplicationStatus.AWAITING_DOCUMENTS
    assert row.phone_hash == digest(inp.phone) and row.device_fingerprint == inp.device.fingerprint
    assert len(in_session(engine, queries.list_audit, inp.application_id)) == 1


async def test_prescreen_passes_a_clean_applicant(engine: Engine) -> None:
    inp = start()
    await register(engine, inp)
    acts = DecisioningActivities(engine, ScriptedBureau())
    result = await ActivityEnvironment().run(acts.prescreen, prescreen_input(inp))
    assert result.passed and result.reasons == [] and result.reapply_after is None


async def test_prescreen_rejects_risky_devices_and_blacklisted_phones(engine: Engine) -> None:
    acts, env = DecisioningActivities(engine, ScriptedBureau()), ActivityEnvironment()
    emulator = start(emulator=True)
    listed = start()
    await register(engine, emulator, listed)
    in_session(engine, screening.add_to_blacklist, BlacklistKind.PHONE, listed.phone, "fraud ring")
    result = await env.run(acts.prescreen, prescreen_input(emulator))
    assert not result.passed and result.reasons == [ReasonCode.P005_DEVICE_RISK]
    assert result.reapply_after == NOW.date() + timedelta(days=30)
    result = await env.run(acts.prescreen, prescreen_input(listed))
    assert result.reasons == [ReasonCode.P001_BLACKLISTED]
    assert result.reapply_after == NOW.date() + timedelta(days=365)


async def test_prescreen_velocity_allows_three_and_rejects_four(engine: Engine) -> None:
    acts, env = DecisioningActivities(engine, ScriptedBureau()), ActivityEnvironment()
    device, phone = f"dev-{uuid.uuid4().hex}", new_phone()
    earlier = [start(device=device, at=NOW - timedelta(hours=h)) for h in (1, 2, 3)]
    earlier += [start(phone=phone, at=NOW - timedelta(hours=h)) for h in (1, 2, 3)]
    old = start(device=device, phone=phone, at=NOW - timedelta(hours=30))
    await register(engine, *earlier, old)
    third = start(device=device, phone=phone)
    await register(engine, third)
    assert (await env.run(acts.prescreen, prescreen_input(third))).passed
    fourth = start(device=device, phone=phone, at=NOW + timedelta(minutes=1))
    await register(engine, fourth)
    result = await env.run(acts.prescreen, prescreen_input(fourth))
    assert result.reasons == [ReasonCode.P002_VELOCITY_DEVICE, ReasonCode.P003_VELOCITY_PHONE]


async def test_prescreen_cool_down_after_a_recent_rejection(engine: Engine) -> None:
    acts, env = DecisioningActivities(engine, ScriptedBureau()), ActivityEnvironment()
    phone = new_phone()
    before = start(phone=phone, at=NOW - timedelta(days=2))
    await register(engine, before)
    until = NOW.date() + timedelta(days=40)
    await reject(engine, before, until)
    again = start(phone=phone)
    await register(engine, again)
    result = await env.run(acts.prescreen, prescreen_input(again))
    # The stored cool-down ends in 40 days, but the policy's window after a credit rejection
    # is 90 days from the rejection: the later date holds.
    assert result.reasons == [ReasonCode.P004_COOL_DOWN]
    assert result.reapply_after == NOW.date() + timedelta(days=90)


async def test_prescreen_a_cool_down_longer_than_the_window_holds(engine: Engine) -> None:
    acts, env = DecisioningActivities(engine, ScriptedBureau()), ActivityEnvironment()
    phone = new_phone()
    before = start(phone=phone, at=NOW - timedelta(days=100))
    await register(engine, before)
    until = NOW.date() + timedelta(days=80)
    await reject(engine, before, until, at=NOW - timedelta(days=100))
    again = start(phone=phone)
    await register(engine, again)
    result = await env.run(acts.prescreen, prescreen_input(again))
    assert result.reasons == [ReasonCode.P004_COOL_DOWN] and result.reapply_after == until


async def test_prescreen_window_counts_only_credit_rejections(engine: Engine) -> None:
    acts, env = DecisioningActivities(engine, ScriptedBureau()), ActivityEnvironment()
    phone = new_phone()
    retake = start(phone=phone, at=NOW - timedelta(days=3))
    credit = start(phone=phone, at=NOW - timedelta(days=95))
    await register(engine, retake, credit)
    await reject(engine, retake, NOW.date() - timedelta(days=3), reasons=[ReasonCode.I004_NO_FACE])
    await reject(engine, credit, NOW.date() - timedelta(days=5), at=NOW - timedelta(days=95))
    again = start(phone=phone)
    await register(engine, again)
    # A selfie without a face 3 days ago and a score rejection 95 days ago: both are over.
    assert (await env.run(acts.prescreen, prescreen_input(again))).passed


async def test_id_check_blacklist_and_cool_down_by_id(engine: Engine) -> None:
    acts, env = DecisioningActivities(engine, ScriptedBureau()), ActivityEnvironment()
    listed_id = "11010519900307" + "".join(random.choices("0123456789", k=4))
    in_session(engine, screening.add_to_blacklist, BlacklistKind.ID_NUMBER, listed_id)
    inp = start()
    await register(engine, inp)

    def check(id_number: str) -> IdBlacklistInput:
        return IdBlacklistInput(
            application_id=inp.application_id,
            id_number=id_number,
            phone=inp.phone,
            device_fingerprint=inp.device.fingerprint,
        )

    result = await env.run(acts.check_id_blacklist, check(listed_id))
    assert result.reasons == [ReasonCode.P001_BLACKLISTED]

    rejected_id = "11010519900307" + "".join(random.choices("0123456789", k=4))
    before = start()
    await register(engine, before)
    await reject(engine, before, NOW.date() + timedelta(days=90), id_number=rejected_id)
    result = await env.run(acts.check_id_blacklist, check(rejected_id))
    assert result.reasons == [ReasonCode.P004_COOL_DOWN]
    assert result.reapply_after == NOW.date() + timedelta(days=90)
    assert (await env.run(acts.check_id_blacklist, check(ID_NUMBER))).passed


async def test_decide_records_the_decision_once_per_input(engine: Engine) -> None:
    inp = start()
    await register(engine, inp)
    acts, env = DecisioningActivities(engine, ScriptedBureau()), ActivityEnvironment()
    decision_in = decision_input(inp.application_id, bureau())
    decision = await env.run(acts.decide, decision_in)
    retried = await env.run(acts.decide, decision_in)
    assert decision.outcome == retried.outcome == DecisionOutcome.APPROVE
    assert decision.offer is not None and decision.offer.limit > 0
    assert decision.policy_hash == acts.policies.active.hash
    assert decision.policy_version == acts.policies.active.version == "2026.11-std"

    records = in_session(engine, queries.list_decisions, inp.application_id)
    assert len(records) == 1
    record = records[0]
    assert (record.stage, record.outcome) == ("DECISIONING", "APPROVE")
    assert (record.policy_version, record.policy_hash) == (
        decision.policy_version,
        decision.policy_hash,
    )
    assert DecisionInput.model_validate(record.input_snapshot) == decision_in
    # The score is the policy's scorecard score, not the bureau's own.
    assert record.score == decision.score and decision.score is not None
    assert record.score_points == decision.score_points and decision.score_points
    assert (
        record.grade,
        record.approved_limit,
        record.annual_rate,
        record.monthly_fee_rate,
        record.apr_cap,
    ) == (
        decision.grade,
        decision.offer.limit,
        decision.offer.annual_rate,
        decision.offer.monthly_fee_rate,
        decision.offer.apr_cap,
    )
    assert record.rules_fired == decision.rules_fired and record.duration_ms >= 0

    overdue = decision_input(inp.application_id, bureau(current_overdue_amount=50_000))
    rejected = await env.run(acts.decide, overdue)
    assert rejected.outcome == DecisionOutcome.REJECT
    assert ReasonCode.R002_CURRENT_OVERDUE in rejected.reasons
    records = in_session(engine, queries.list_decisions, inp.application_id)
    assert [r.outcome for r in records] == ["APPROVE", "REJECT"]
    assert "R002" in records[1].reasons and records[1].rules_fired


async def test_pre_payout_keeps_a_fresh_report_and_refreshes_a_stale_one(engine: Engine) -> None:
    inp = start()
    await register(engine, inp)
    scripted = ScriptedBureau(bureau(current_overdue_amount=80_000))
    acts, env = DecisioningActivities(engine, scripted), ActivityEnvironment()
    device = inp.device.fingerprint

    fresh = pre_payout_input(
        inp.application_id, phone=inp.phone, device=device, fetched_at=NOW - timedelta(days=1)
    )
    result = await env.run(acts.pre_payout_check, fresh)
    assert result.outcome == DecisionOutcome.APPROVE and not result.bureau_refreshed
    assert scripted.calls == 0
    # A retry of the same execution adds no second record.
    await env.run(acts.pre_payout_check, fresh)

    stale = pre_payout_input(
        inp.application_id, phone=inp.phone, device=device, fetched_at=NOW - timedelta(days=8)
    )
    second = ActivityEnvironment()
    second.info = dataclasses.replace(second.info, activity_id="second-check")
    result = await second.run(acts.pre_payout_check, stale)
    assert result.outcome == DecisionOutcome.REJECT and result.bureau_refreshed
    assert result.reasons == [ReasonCode.D001_PRE_PAYOUT_RISK] and scripted.calls == 1

    records = in_session(engine, queries.list_decisions, inp.application_id)
    assert [(r.stage, r.outcome) for r in records] == [
        ("PRE_PAYOUT_CHECK", "APPROVE"),
        ("PRE_PAYOUT_CHECK", "REJECT"),
    ]
    snapshot = records[1].input_snapshot
    assert snapshot["bureau_refreshed"] and snapshot["bureau"]["current_overdue_amount"] == 80_000
    assert ID_NUMBER not in str(snapshot) and inp.phone not in str(snapshot)


async def test_pre_payout_rejects_a_device_blacklisted_since_the_decision(engine: Engine) -> None:
    inp = start()
    await register(engine, inp)
    in_session(engine, screening.add_to_blacklist, BlacklistKind.DEVICE, inp.device.fingerprint)
    acts = DecisioningActivities(engine, ScriptedBureau())
    result = await ActivityEnvironment().run(
        acts.pre_payout_check,
        pre_payout_input(
            inp.application_id, phone=inp.phone, device=inp.device.fingerprint, fetched_at=NOW
        ),
    )
    assert result.outcome == DecisionOutcome.REJECT
    assert result.reasons == [ReasonCode.P001_BLACKLISTED]
    [record] = in_session(engine, queries.list_decisions, inp.application_id)
    assert record.input_snapshot["blacklist_hits"] == ["device"]


async def test_pre_payout_vendor_refusal_is_not_retried(engine: Engine) -> None:
    inp = start()
    await register(engine, inp)
    refused = ScriptedBureau(
        error=VendorError("bureau POST /reports answered 400", retryable=False, status_code=400)
    )
    acts = DecisioningActivities(engine, refused)
    stale = pre_payout_input(
        inp.application_id,
        phone=inp.phone,
        device=inp.device.fingerprint,
        fetched_at=NOW - timedelta(days=30),
    )
    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(acts.pre_payout_check, stale)
    assert caught.value.non_retryable and caught.value.type == ErrorType.VENDOR_REJECTED
    assert in_session(engine, queries.list_decisions, inp.application_id) == []


async def identify(engine: Engine, inp: StartApplicationInput, id_number: str) -> None:
    """The VERIFYING_IDENTITY projection: the store learns the ID number's digest."""
    await ActivityEnvironment().run(
        RecordsActivities(engine).project,
        ProjectionInput(
            application_id=inp.application_id,
            seq=1,
            status=ApplicationStatus.VERIFYING_IDENTITY,
            event="VERIFYING_IDENTITY",
            at=inp.submitted_at,
            id_number=id_number,
        ),
    )


def random_id() -> str:
    return "11010519900307" + "".join(random.choices("0123456789", k=4))


def id_check(inp: StartApplicationInput, id_number: str) -> IdBlacklistInput:
    return IdBlacklistInput(
        application_id=inp.application_id,
        id_number=id_number,
        phone=inp.phone,
        device_fingerprint=inp.device.fingerprint,
    )


async def test_id_check_refuses_a_fourth_phone_for_one_id(engine: Engine) -> None:
    acts, env, id_number = (
        DecisioningActivities(engine, ScriptedBureau()),
        ActivityEnvironment(),
        random_id(),
    )
    earlier = [start(at=NOW - timedelta(days=d)) for d in (3, 20, 100)]
    await register(engine, *earlier)
    for inp in earlier:
        await identify(engine, inp, id_number)
    long_ago = start(at=NOW - timedelta(days=200))  # outside the 180-day window
    await register(engine, long_ago)
    await identify(engine, long_ago, id_number)
    now = start()
    await register(engine, now)
    result = await env.run(acts.check_id_blacklist, id_check(now, id_number))
    assert result.reasons == [ReasonCode.P006_MULTIPLE_ACCOUNTS]
    assert result.reapply_after == datetime.now(UTC).date() + timedelta(days=90)
    # Three phones (two earlier, this one) are still allowed.
    fresh_id, two = random_id(), [start(phone=inp.phone) for inp in earlier[:2]]
    await register(engine, *two)
    for inp in two:
        await identify(engine, inp, fresh_id)
    assert (await env.run(acts.check_id_blacklist, id_check(now, fresh_id))).passed
    third = start()
    await register(engine, third)
    await identify(engine, third, fresh_id)
    assert not (await env.run(acts.check_id_blacklist, id_check(now, fresh_id))).passed


async def test_id_check_refuses_a_device_shared_by_three_ids(engine: Engine) -> None:
    acts, env = DecisioningActivities(engine, ScriptedBureau()), ActivityEnvironment()
    device = f"dev-{uuid.uuid4().hex}"
    others = [start(device=device, at=NOW - timedelta(days=d)) for d in (1, 2)]
    await register(engine, *others)
    for inp in others:
        await identify(engine, inp, random_id())
    now = start(device=device)
    await register(engine, now)
    result = await env.run(acts.check_id_blacklist, id_check(now, random_id()))
    assert result.reasons == [ReasonCode.P006_MULTIPLE_ACCOUNTS]


async def test_id_check_refuses_a_fourth_device_in_30_days(engine: Engine) -> None:
    acts, env, id_number, phone = (
        DecisioningActivities(engine, ScriptedBureau()),
        ActivityEnvironment(),
        random_id(),
        new_phone(),
    )
    others = [start(phone=phone, at=NOW - timedelta(days=d)) for d in (1, 5, 29)]
    await register(engine, *others)
    for inp in others:
        await identify(engine, inp, id_number)
    now = start(phone=phone)
    await register(engine, now)
    result = await env.run(acts.check_id_blacklist, id_check(now, id_number))
    assert result.reasons == [ReasonCode.P005_DEVICE_RISK]


async def test_a_policy_that_cannot_make_its_offer_fails_without_retry(
    engine: Engine, tmp_path
) -> None:
    import json
    import shutil

    from tests.decisioning.conftest import DEFAULT_POLICY

    broken = tmp_path / "unbounded"
    shutil.copytree(DEFAULT_POLICY, broken)
    graph = json.loads((broken / "decide.json").read_text())
    limit = next(n for n in graph["nodes"] if n["name"] == "limit")
    # Forgets the product's largest amount: a rich applicant's limit would exceed it.
    limit["content"]["expressions"][0]["value"] = "offer.limit_multiple * bureau.monthly_income"
    (broken / "decide.json").write_text(json.dumps(graph))
    acts = DecisioningActivities(engine, ScriptedBureau(), broken)
    inp = start()
    await register(engine, inp)
    rich = decision_input(
        inp.application_id, bureau(monthly_income=50_000_000, monthly_debt_payment=0)
    )
    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(acts.decide, rich)
    assert caught.value.non_retryable and caught.value.type == "POLICY_ERROR"
    assert "outside the product range" in str(caught.value)
    assert in_session(engine, queries.list_decisions, inp.application_id) == []
