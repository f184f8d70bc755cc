"""The `loanflow` ops command line against a running API (uvicorn on a free port, a Temporal dev
server, stand-in application workflows that wait in review): sign-in stored in a user file,
tables and `--json`, review outcomes recorded under the signed-in name, applications listed and
withdrawn, the blacklist edited, refusals explained."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import Engine
from temporalio import workflow
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from api.main import create_app
from api.ops_users import DEV_PASSWORD
from config.settings import Settings
from config.temporal import data_converter
from devtools.stack import DEV_SERVER_TUNING, Ports
from domain.application import StartApplicationInput, WithdrawInput
from domain.decision import Offer, ReviewInput, ReviewResult
from domain.enums import ApplicationStatus, NextAction, ReviewOutcome
from domain.naming import (
    APPLICATION_TASK_QUEUE,
    ErrorType,
    QueryName,
    SearchAttributeName,
    UpdateName,
    WorkflowName,
)
from domain.status import ApplicationView
from store.db import make_engine
from tests.api.test_api import make_settings, seed_review, start_body

ROOT = Path(__file__).resolve().parents[2]


@workflow.defn(name=WorkflowName.APPLICATION)
class InReview:
    """Waits in MANUAL_REVIEW; an outcome moves it on the way the real workflow does."""

    @workflow.init
    def __init__(self, inp: StartApplicationInput) -> None:
        self.inp, self.status = inp, ApplicationStatus.MANUAL_REVIEW
        self.offer = Offer(
            limit=1_000_000, min_amount=50_000, terms=[6, 12], annual_rate=0.18,
            monthly_fee_rate=0.0, apr_cap=0.24, grade="C",
        )  # fmt: skip
        self.reviewers: list[str] = []
        self.more_info_asked = False

    @workflow.run
    async def run(self, inp: StartApplicationInput) -> str:
        # Like the real workflow, the main line (not the update's handler) asks for documents
        # again after a request for more information.
        await workflow.wait_condition(lambda: self.more_info_asked or self.status.is_terminal)
        if self.more_info_asked:
            self.status = ApplicationStatus.AWAITING_DOCUMENTS
        await workflow.wait_condition(lambda: self.status.is_terminal)
        return self.status.value

    @workflow.query(name=QueryName.STATUS)
    def view(self) -> ApplicationView:
        return ApplicationView(
            application_id=self.inp.application_id,
            status=self.status,
            next_action=NextAction.AWAIT_REVIEW,
            offer=self.offer,
            history=[self.status.value],
        )

    @workflow.update(name=UpdateName.RECORD_REVIEW)
    def record_review(self, inp: ReviewInput) -> ReviewResult:
        self.reviewers.append(inp.reviewer)
        if inp.outcome == ReviewOutcome.APPROVE:
            limit = min(inp.approved_limit or self.offer.limit, self.offer.limit)
            self.offer = self.offer.model_copy(update={"limit": limit})
            self.status = ApplicationStatus.OFFERED
        elif inp.outcome == ReviewOutcome.REJECT:
            self.status = ApplicationStatus.REJECTED
        else:
            self.more_info_asked = True
        return ReviewResult(status=self.status)

    @record_review.validator
    def _check(self, inp: ReviewInput) -> None:
        if self.status != ApplicationStatus.MANUAL_REVIEW:
            raise ApplicationError(
                "not in review", str(self.status), type=ErrorType.WRONG_STAGE, non_retryable=True
            )

    @workflow.update(name=UpdateName.WITHDRAW)
    def withdraw(self, inp: WithdrawInput) -> ApplicationView:
        self.status = ApplicationStatus.CANCELLED
        return self.view()


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Settings:
    return make_settings(tmp_path_factory.mktemp("data"), database_url)


@pytest.fixture(scope="module")
async def temporal(settings: Settings) -> AsyncIterator[Client]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
        search_attributes=[SearchAttributeKey.for_keyword(n) for n in SearchAttributeName.KEYWORDS]
        + [SearchAttributeKey.for_float(n) for n in SearchAttributeName.DOUBLES],
        data_converter=data_converter(settings),
        dev_server_extra_args=["--log-level", "error", *DEV_SERVER_TUNING],
    )
    async with Worker(
        env.client,
        task_queue=APPLICATION_TASK_QUEUE,
        workflows=[InReview],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        yield env.client
    await env.shutdown()


@pytest.fixture(scope="module")
async def api_url(settings: Settings, temporal: Client) -> AsyncIterator[str]:
    port = Ports.free().api
    app = create_app(settings, temporal_client=temporal)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    # Served on the test's event loop, beside the worker; the CLI runs as its own process.
    serving = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and not serving.done(), "the API did not start"
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, timeout=15)


@pytest.fixture
def cli(api_url: str, tmp_path: Path):
    credentials = tmp_path / "home" / "credentials.json"

    async def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        env = os.environ | {
            "LOANFLOW_CLI_CREDENTIALS": str(credentials),
            "LOANFLOW_API_URL": api_url,
            "LOANFLOW_OPS_PASSWORD": DEV_PASSWORD,
            "PYTHONPATH": str(ROOT),
        }
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "cli", *args],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert (done.returncode == 0) == ok, done.stdout + done.stderr
        return done

    run.credentials = credentials  # type: ignore[attr-defined]
    return run


async def in_review(api_url: str, engine) -> str:
    async with httpx.AsyncClient(base_url=api_url) as client:
        body = start_body(crid=uuid.uuid4().hex, phone=f"137{uuid.uuid4().int % 10**8:08d}")
        response = await client.post("/v1/applications", json=body)
    assert response.status_code == 201, response.text
    app_id = response.json()["application_id"]
    await seed_review(engine, app_id)
    return app_id


def test_the_console_script_is_declared() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    assert 'loanflow = "cli.main:main"' in text


@pytest.fixture
def api_store(settings: Settings) -> Iterator[Engine]:
    """The API's store, closed after the test (a pooled PostgreSQL connection left open is a
    ResourceWarning in whichever test the garbage collector happens to run)."""
    eng = make_engine(settings.resolved_database_url)
    yield eng
    eng.dispose()


async def test_a_reviewer_signs_in_lists_and_approves_with_a_lower_limit(
    cli, api_url: str, api_store: Engine, temporal: Client
) -> None:
    engine = api_store
    app_id = await in_review(api_url, engine)
    refused = await cli("review", "list", ok=False)
    assert "loanflow login" in refused.stderr
    login = await cli("login", "--username", "reviewer")
    assert "signed in as reviewer (reviewer)" in login.stdout
    mode = stat.S_IMODE(cli.credentials.stat().st_mode)
    assert mode == 0o600, oct(mode)
    assert DEV_PASSWORD not in cli.credentials.read_text()
    table = (await cli("review", "list")).stdout
    assert app_id in table and "GREY_ZONE" in table and "3,000.00" in table
    rows = json.loads((await cli("review", "list", "--json")).stdout)
    row = next(r for r in rows if r["id"] == app_id)
    assert row["requested_amount"] == 300_000 and row["sla_deadline"]
    approved = await cli(
        "review", "approve", app_id, "--limit-yuan", "8000", "--note", "payslip ok"
    )
    assert f"{app_id}: APPROVE recorded; status now OFFERED" in approved.stdout
    handle = temporal.get_workflow_handle(f"loan-application-{app_id}")
    view = await handle.query(QueryName.STATUS, result_type=ApplicationView)
    assert view.status == ApplicationStatus.OFFERED and view.offer and view.offer.limit == 800_000
    again = await cli("review", "approve", app_id, ok=False)
    assert "409 wrong_stage" in again.stderr and "OFFERED" in again.stderr
    await cli("logout")
    assert not cli.credentials.exists()
    assert "loanflow login" in (await cli("review", "list", ok=False)).stderr


async def test_reject_withdraw_blacklist_and_roles(cli, api_url: str, api_store: Engine) -> None:
    engine = api_store
    to_reject, to_withdraw = await in_review(api_url, engine), await in_review(api_url, engine)
    await cli("login", "--username", "senior")
    rejected = json.loads(
        (await cli("review", "reject", to_reject, "--reason", "R007", "--json")).stdout
    )
    assert rejected == {"status": "REJECTED"}
    withdrawn = (
        await cli("app", "withdraw", to_withdraw, "--reason", "asked support", "--json")
    ).stdout
    assert json.loads(withdrawn)["status"] == "CANCELLED"
    listed = json.loads((await cli("app", "list", "--json", "--limit", "500")).stdout)
    assert {to_reject, to_withdraw} <= {row["id"] for row in listed}
    shown = (await cli("app", "show", to_reject)).stdout
    assert f"application  {to_reject}" in shown and "REJECTED" in shown
    # The blacklist is an admin's: a senior is refused with the reason.
    refused = await cli("blacklist", "add", "device", "fp-cli-test", ok=False)
    assert "403" in refused.stderr
    await cli("login", "--username", "admin")
    assert "device: added" in (await cli("blacklist", "add", "device", "fp-cli-test")).stdout
    assert "already listed" in (await cli("blacklist", "add", "device", "fp-cli-test")).stdout
    assert "device: removed" in (await cli("blacklist", "remove", "device", "fp-cli-test")).stdout
    assert "was not listed" in (await cli("blacklist", "remove", "device", "fp-cli-test")).stdout


async def test_more_info_answers_the_status_after_the_step(
    cli, api_url: str, api_store: Engine, temporal: Client
) -> None:
    app_id = await in_review(api_url, api_store)
    await cli("login", "--username", "reviewer")
    asked = await cli("review", "more-info", app_id, "--note", "a clearer photo of the card")
    assert f"{app_id}: REQUEST_MORE_INFO recorded; status now AWAITING_DOCUMENTS" in asked.stdout
    handle = temporal.get_workflow_handle(f"loan-application-{app_id}")
    view = await handle.query(QueryName.STATUS, result_type=ApplicationView)
    assert view.status == ApplicationStatus.AWAITING_DOCUMENTS


async def test_an_engineer_shows_a_case_and_reads_the_funnel(
    cli, api_url: str, api_store: Engine, tmp_path: Path
) -> None:
    app_id = await in_review(api_url, api_store)
    await cli("login", "--username", "engineer")
    shown = (await cli("review", "show", app_id)).stdout
    assert f"application  {app_id}" in shown
    assert "status       MANUAL_REVIEW (live)" in shown
    assert "requested ¥3,000.00 over 12 months" in shown
    assert "MANUAL_REVIEW" in shown.split("audit trail", 1)[1]
    evidence = json.loads((await cli("review", "show", app_id, "--json")).stdout)
    assert evidence["application"]["id"] == app_id and evidence["audit"]
    rows = json.loads((await cli("funnel", "--json", "--days", "1")).stdout)
    in_review_row = next(r for r in rows if r["stage"] == "MANUAL_REVIEW")
    assert in_review_row["entered"] >= 1 and in_review_row["waiting"] >= 1
    chart = tmp_path / "funnel.png"
    table = (await cli("funnel", "--png", str(chart))).stdout
    assert table.splitlines()[0].split()[:3] == ["stage", "entered", "passed"]
    assert "MANUAL_REVIEW" in table and chart.read_bytes().startswith(b"\x89PNG")
