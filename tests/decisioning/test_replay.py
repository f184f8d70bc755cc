"""Replay: decisions recorded by the decide activity in the store (SQLite, or PostgreSQL at
DATABASE_URL) are re-evaluated under a candidate policy; the report counts both directions of
change and the approvals' limits and prices."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.testing import ActivityEnvironment

from activities.decisioning import DecisioningActivities
from commands.replay_policy import main
from config.settings import Settings
from decisioning.evaluator import PolicyEvaluator
from decisioning.loader import load_policy
from decisioning.replay import format_report, replay
from domain.decision import BureauReport, DecisionInput
from domain.enums import DecisionOutcome as O
from store.queries import decision_records
from tests.decisioning.conftest import make_input
from tests.decisioning.test_loader import copy_policy, edit, row


class NoBureau:
    async def fetch_report(self, name: str, id_number: str) -> BureauReport:
        raise AssertionError("decide never calls the bureau")


def applicant(**changes) -> DecisionInput:
    return make_input(**changes).model_copy(update={"application_id": f"app_{uuid.uuid4().hex}"})


@pytest.fixture(scope="module")
def candidate_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Stricter on inquiries (more than 4 in 3 months rejects), laxer on income stability
    (fewer than 3 months rejects, not fewer than 6)."""
    folder = copy_policy(tmp_path_factory.mktemp("policies"), "2026.12-candidate")
    edit(folder / "policy.json", lambda m: m.update(version="2026.12-candidate"))

    def change(graph: dict) -> None:
        row(graph, "R004_inquiries_3m")["i_when"] = "bureau.inquiries_3m > 4"
        row(graph, "R012_income_unstable")["i_when"] = (
            "bureau.income_stable_months != null and bureau.income_stable_months < 3"
        )

    edit(folder / "decide.json", change)
    return folder


@pytest.fixture(scope="module")
async def recorded(engine: Engine) -> dict[str, DecisionInput]:
    acts, env = DecisioningActivities(engine, NoBureau()), ActivityEnvironment()
    inputs = {
        "clean": applicant(),
        "grey": applicant(bureau={"score": 585, "card_utilisation": 0.5}),
        "five_inquiries": applicant(bureau={"inquiries_3m": 5}),
        "four_stable_months": applicant(bureau={"income_stable_months": 4}),
        "overdue": applicant(bureau={"current_overdue_amount": 10_000}),
    }
    for inp in inputs.values():
        await env.run(acts.decide, inp)
    return inputs


def test_replay_reports_changes_both_ways(
    engine: Engine, recorded: dict[str, DecisionInput], candidate_dir: Path
) -> None:
    candidate = load_policy(candidate_dir)
    with Session(engine) as session:
        records = decision_records(session)
    mine = [r for r in records if r.application_id in {i.application_id for i in recorded.values()}]
    assert len(mine) == 5 and all(r.policy_version == "2026.11-std" for r in mine)
    report = replay(mine, PolicyEvaluator(candidate), candidate)

    assert report.replayed == 5 and report.skipped == []
    assert report.baseline.outcomes == {"APPROVE": 2, "REVIEW": 1, "REJECT": 2}
    assert report.candidate.outcomes == {"APPROVE": 2, "REVIEW": 1, "REJECT": 2}
    newly_rejected = report.moved(O.APPROVE, O.REJECT)
    newly_approved = report.moved(O.REJECT, O.APPROVE)
    assert [c.application_id for c in newly_rejected] == [recorded["five_inquiries"].application_id]
    assert newly_rejected[0].after.reasons == ("R004",)
    assert [c.application_id for c in newly_approved] == [
        recorded["four_stable_months"].application_id
    ]
    assert newly_approved[0].before.reasons == ("R012",)
    assert len(report.changes) == 2
    assert report.baseline.rate(O.APPROVE) == report.candidate.rate(O.APPROVE) == 0.4
    assert report.baseline.average_limit is not None and report.candidate.average_rate

    text = format_report(report)
    assert "Replay of 5 decisions under 2026.12-candidate" in text
    assert "APPROVE -> REJECT: 1" in text and "REJECT -> APPROVE: 1" in text
    assert recorded["five_inquiries"].application_id in text


def test_replay_under_the_recorded_policy_changes_nothing(
    engine: Engine, recorded: dict[str, DecisionInput], policy_evaluator: PolicyEvaluator
) -> None:
    ids = {i.application_id for i in recorded.values()}
    with Session(engine) as session:
        records = [r for r in decision_records(session) if r.application_id in ids]
    report = replay(records, policy_evaluator, policy_evaluator.active)
    assert report.changes == [] and report.replayed == 5
    assert report.candidate.limits == report.baseline.limits


def test_replay_command_prints_the_report(
    database_url: str,
    recorded: dict[str, DecisionInput],
    candidate_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--candidate", str(candidate_dir), "--database-url", database_url]) == 0
    out = capsys.readouterr().out
    assert "under 2026.12-candidate" in out and "REJECT -> APPROVE" in out
    assert "average approved limit" in out


def test_replay_command_refuses_a_broken_candidate(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = copy_policy(tmp_path)
    (broken / "scorecard.json").write_text("[")
    assert main(["--candidate", str(broken), "--database-url", database_url]) == 2
    assert "scorecard.json" in capsys.readouterr().err


def test_replay_command_reads_the_store_from_the_settings(
    database_url: str,
    recorded: dict[str, DecisionInput],
    candidate_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = Settings(environment="test", database_url=database_url)
    assert main(["--candidate", str(candidate_dir)], settings=settings) == 0
    assert "REJECT -> APPROVE" in capsys.readouterr().out
