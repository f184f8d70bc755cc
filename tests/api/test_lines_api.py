"""The credit-line API over a real dev server (search attributes registered) and the real line
workflows, store and monitoring policy; vendors are the workflow tests' stand-ins."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import NamedTuple

import httpx
import pytest
from fastapi import FastAPI
from httpx import ASGITransport
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.lines import LineActivities
from api.i18n import draw_view_in
from api.main import create_app
from api.security import applicant_token
from config.settings import Settings
from domain.line_messages import DrawStage, DrawView
from domain.lines import customer_id_for
from domain.naming import WorkflowName, credit_line_workflow_id
from domain.pricing import build_schedule
from domain.reasons import Language, ReasonCode, applicant_message, applicant_reasons
from domain.signing import signed_headers
from mocks.app import create_app as create_mocks_app
from mocks.settings import DEV_CALLBACK_SECRET, MockSettings
from tests.api.test_api import sign_in
from tests.workflows.fakes import ID_NUMBER, FakeActivities, Scenario
from tests.workflows.line_fakes import LineFakes, line_state
from workflows.credit_line import CreditLineWorkflow
from workflows.draw import DrawWorkflow
from workflows.payout import PayoutWorkflow

OPS: dict[str, str] = {}  # a senior's sign-in, made by the lines_api fixture
API = "http://api/v1/callbacks"
EN = {"Accept-Language": "en"}


@pytest.fixture(scope="module")
def api_settings(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Settings:
    return Settings(
        environment="test",
        data_dir=tmp_path_factory.mktemp("data"),
        database_url=database_url,
        token_secret="test-token-secret",
    )


class LinesApi(NamedTuple):
    http: httpx.AsyncClient
    client: Client
    queue: str
    app: FastAPI


@pytest.fixture
async def lines_api(
    local_env: WorkflowEnvironment, api_settings: Settings, engine: Engine
) -> AsyncIterator[LinesApi]:
    client = local_env.client
    fakes, stand_ins = FakeActivities(Scenario(), client), LineFakes()
    real = LineActivities(engine)
    queue = f"lines-{uuid.uuid4()}"
    activities = [a for a in fakes.main_activities() if a not in (fakes.project, fakes.register)]
    activities += [real.record, real.evaluate, stand_ins.debit, stand_ins.await_debit]
    app = create_app(api_settings, temporal_client=client)
    async with (
        Worker(
            client,
            task_queue=queue,
            workflows=[CreditLineWorkflow, DrawWorkflow, PayoutWorkflow],
            activities=activities,
        ),
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http,
    ):
        OPS.clear()
        OPS.update(await sign_in(http, "senior"))
        yield LinesApi(http, client, queue, app)


async def open_line(client: Client, queue: str, **kwargs: object) -> str:
    line_id = f"app_{uuid.uuid4().hex[:24]}"
    state = line_state(line_id, datetime.now(UTC), **kwargs)  # type: ignore[arg-type]
    state = state.model_copy(update={"upsert_search_attributes": True})
    await client.start_workflow(
        WorkflowName.CREDIT_LINE, state, id=credit_line_workflow_id(line_id), task_queue=queue
    )
    return line_id


def borrower(line_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {applicant_token('test-token-secret', line_id)}"}


async def eventually(http: httpx.AsyncClient, url: str, headers: dict, check) -> dict:  # type: ignore[no-untyped-def]
    for _ in range(200):
        body = (await http.get(url, headers=headers)).json()
        if check(body):
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"{url}: {body}")


async def test_borrower_draws_repays_and_ops_freeze_with_the_audit_trail(
    lines_api: LinesApi,
) -> None:
    http, client, queue, _ = lines_api
    line_id = await open_line(client, queue, limit=1_000_000)
    me = borrower(line_id)
    assert (await http.get(f"/v1/lines/{line_id}")).status_code == 401
    assert (
        await http.get(f"/v1/lines/{line_id}", headers=borrower("app_other"))
    ).status_code == 401
    line = (await http.get(f"/v1/lines/{line_id}", headers=me)).json()
    assert line["status"] == "ACTIVE" and line["available"] == 1_000_000

    quote = await http.post(
        f"/v1/lines/{line_id}/quotes", json={"amount": 600_000, "term_months": 3}, headers=me
    )
    assert quote.status_code == 200
    over = await http.post(
        f"/v1/lines/{line_id}/draws",
        json={"amount": 1_000_001, "term_months": 3, "reference": "ref-over"},
        headers=me,
    )
    assert over.status_code == 422 and over.json()["error"] == "invalid_input"
    drawn = await http.post(
        f"/v1/lines/{line_id}/draws",
        json={"amount": 600_000, "term_months": 3, "reference": "ref-0001"},
        headers=me,
    )
    assert drawn.status_code == 201, drawn.text
    draw = drawn.json()
    assert draw["schedule"] == quote.json()  # the trial schedule is the contract's, to the fen
    url = f"/v1/lines/{line_id}/draws/{draw['draw_id']}"
    await eventually(http, url, me, lambda b: b["stage"] == "AWAITING_SIGNATURE")
    signed = await http.post(f"{url}/sign", json={"otp": "135790"}, headers=me)
    assert signed.status_code == 200 and signed.json()["signed"]
    line = await eventually(
        http, f"/v1/lines/{line_id}", me, lambda b: b["outstanding_principal"] == 600_000
    )
    assert line["available"] == 400_000
    schedule = (await http.get(f"/v1/lines/{line_id}/schedule", headers=me)).json()
    assert sum(i["principal"] for i in schedule["instalments"]) == 600_000

    paid = await http.post(
        f"/v1/lines/{line_id}/repayments",
        json={"amount": 200_000, "reference": "pay-0001"},
        headers=me,
    )
    assert paid.status_code == 200 and paid.json()["accepted"]
    again = await http.post(
        f"/v1/lines/{line_id}/repayments",
        json={"amount": 200_000, "reference": "pay-0001"},
        headers=me,
    )
    assert again.json() == paid.json()
    too_much = await http.post(
        f"/v1/lines/{line_id}/repayments",
        json={"amount": 10_000_000, "reference": "pay-0002"},
        headers=me,
    )
    assert too_much.status_code == 422

    assert (await http.post(f"/v1/ops/lines/{line_id}/actions", json={})).status_code == 401
    frozen = await http.post(
        f"/v1/ops/lines/{line_id}/actions",
        json={"operator": "someone else", "action": "FREEZE", "note": "fraud call"},
        headers=OPS,
    )
    assert frozen.status_code == 200 and frozen.json()["status"] == "FROZEN"
    refused = await http.post(
        f"/v1/lines/{line_id}/draws",
        json={"amount": 100_000, "term_months": 3, "reference": "ref-0002"},
        headers=me,
    )
    assert refused.status_code == 409 and refused.json()["error"] == "wrong_stage"
    evidence = (await http.get(f"/v1/ops/lines/{line_id}", headers=OPS)).json()
    events = [(e["event"], e["actor"]) for e in evidence["events"]]
    # the operator is the signed-in senior, whatever the body says
    assert ("OPS_FREEZE", "senior") in events and ("REPAID", "borrower") in events
    assert events[0] == ("LINE_OPENED", "system")

    found = []
    for _ in range(100):
        found = [
            w.id
            async for w in client.list_workflows(
                f'LineStatus="FROZEN" AND WorkflowId="{credit_line_workflow_id(line_id)}"'
            )
        ]
        if found:
            break
        await asyncio.sleep(0.1)
    assert found == [credit_line_workflow_id(line_id)]
    await client.get_workflow_handle(credit_line_workflow_id(line_id)).terminate("done")


async def test_a_bureau_alert_through_the_ops_api_lowers_the_limit(
    lines_api: LinesApi,
) -> None:
    http, client, queue, _ = lines_api
    line_id = await open_line(client, queue, limit=1_000_000, first_draw=200_000)
    sent = await http.post(
        f"/v1/ops/lines/{line_id}/signals",
        json={"kind": "BUREAU_ALERT", "reference": "alert-7", "new_loans": 4},
        headers=OPS,
    )
    assert sent.status_code == 202
    me = borrower(line_id)
    line = await eventually(http, f"/v1/lines/{line_id}", me, lambda b: b["status"] == "FROZEN")
    assert line["reason_codes"] == ["M002"] and line["available"] == 0
    # Chinese by default, English when asked for, like the application routes.
    assert line["reasons"][0]["message"] == "根据对您近期借款情况的评估，您的额度已调整。"
    english = (await http.get(f"/v1/lines/{line_id}", headers=me | EN)).json()
    assert english["reasons"][0]["message"].startswith("Your credit limit was adjusted")
    evidence = (await http.get(f"/v1/ops/lines/{line_id}", headers=OPS | EN)).json()
    assert evidence["live"]["reasons"][0]["message"].startswith("Your credit limit was adjusted")
    bad = await http.post(
        f"/v1/ops/lines/{line_id}/signals", json={"kind": "NOPE", "reference": "x"}, headers=OPS
    )
    assert bad.status_code == 422
    await client.get_workflow_handle(credit_line_workflow_id(line_id)).terminate("done")


async def test_the_borrower_pays_the_line_off_at_the_quoted_payoff_once(
    lines_api: LinesApi,
) -> None:
    http, client, queue, _ = lines_api
    line_id = await open_line(client, queue, limit=1_000_000, first_draw=400_000)
    me = borrower(line_id)
    url = f"/v1/lines/{line_id}"
    assert (await http.get(f"{url}/payoff")).status_code == 401
    quote = (await http.get(f"{url}/payoff", headers=me)).json()
    line = (await http.get(url, headers=me)).json()
    # paid off on the day of payout: the principal, no interest, the scheduled interest waived
    assert quote["as_of"] == datetime.now(UTC).date().isoformat()
    assert quote["total"] == quote["principal"] == 400_000 and quote["interest"] == 0
    assert quote["total"] + quote["waived"] == line["outstanding"]
    other = await http.get(f"{url}/payoff", params={"draw_id": "draw-someone-1"}, headers=me)
    assert other.status_code == 404

    wrong = await http.post(
        f"{url}/settlements", json={"amount": 399_999, "reference": "off-0001"}, headers=me
    )
    assert wrong.status_code == 422 and "400000" in str(wrong.json()["detail"])
    body = {"amount": quote["total"], "reference": "off-0001"}
    paid = await http.post(f"{url}/settlements", json=body, headers=me)
    assert paid.status_code == 200, paid.text
    assert paid.json()["accepted"] and paid.json()["available"] == 1_000_000
    again = await http.post(f"{url}/settlements", json=body, headers=me)
    assert again.json() == paid.json()
    line = (await http.get(url, headers=me)).json()
    assert line["outstanding"] == 0 and line["available"] == line["limit"] == 1_000_000
    assert [d["status"] for d in line["draws"]] == ["REPAID"]
    nothing = await http.post(
        f"{url}/settlements", json={"amount": 1, "reference": "off-0002"}, headers=me
    )
    assert nothing.status_code == 422
    evidence = (await http.get(f"/v1/ops/lines/{line_id}", headers=OPS)).json()
    settled = [e for e in evidence["events"] if e["event"] == "SETTLED_EARLY"]
    assert len(settled) == 1 and settled[0]["data"]["amount"] == 400_000
    await client.get_workflow_handle(credit_line_workflow_id(line_id)).terminate("done")


async def test_the_simulated_bureau_and_device_vendors_push_alerts_that_change_the_line(
    lines_api: LinesApi,
) -> None:
    http, client, queue, app = lines_api
    line_id = await open_line(
        client, queue, limit=1_000_000, first_draw=200_000, customer_id=customer_id_for(ID_NUMBER)
    )
    me, url = borrower(line_id) | EN, f"/v1/lines/{line_id}"
    await eventually(http, f"/v1/ops/lines/{line_id}", OPS, lambda b: bool(b["events"]))
    vendors_app = create_mocks_app(MockSettings(), callback_transport=ASGITransport(app=app))
    async with httpx.AsyncClient(
        transport=ASGITransport(app=vendors_app), base_url="http://m"
    ) as m:
        pushed = await m.post(
            "/admin/v1/bureau/alerts",
            json={"id_number": ID_NUMBER, "new_loans": 1, "notify_url": f"{API}/bureau-alerts"},
        )
        assert pushed.status_code == 201 and pushed.json()["delivered"], pushed.text
        alert_id = pushed.json()["alert_id"]
        line = await eventually(http, url, me, lambda b: b["limit"] != 1_000_000)
        assert line["limit"] == 700_000 and line["reason_codes"] == ["M002"]
        assert "recent borrowing" in line["reasons"][0]["message"]

        # the bureau delivers the same alert again (a new nonce): the line evaluates it once
        secret = DEV_CALLBACK_SECRET
        again = json.dumps(
            {
                "alert_id": alert_id,
                "alert_type": "NEW_LOANS",
                "id_number": ID_NUMBER,
                "new_loans": 1,
                "occurred_at": datetime.now(UTC).isoformat(),
            }
        ).encode()
        headers = {"Content-Type": "application/json", **signed(secret, again)}
        assert (await http.post(f"{API}/bureau-alerts", content=again, headers=headers)).json() == {
            "status": "accepted"
        }
        moved = await m.post(
            "/admin/v1/device-risk/events",
            json={
                "account_id": customer_id_for(ID_NUMBER),
                "risk_type": "LOCATION_JUMP",
                "notify_url": f"{API}/device-risk",
            },
        )
        assert moved.json()["delivered"]
        line = await eventually(http, url, me, lambda b: b["reason_codes"] == ["M004"])
        assert line["limit"] == 560_000  # x 0.7 once, then x 0.8

        emulator = await m.post(
            "/admin/v1/device-risk/events",
            json={
                "account_id": customer_id_for(ID_NUMBER),
                "risk_type": "EMULATOR",
                "notify_url": f"{API}/device-risk",
            },
        )
        assert emulator.json()["delivered"]
        line = await eventually(http, url, me, lambda b: b["status"] == "FROZEN")
        assert line["reason_codes"] == ["M003"] and line["available"] == 0
        assert line["reasons"][0]["message"].startswith("For your security")

        nobody = await m.post(
            "/admin/v1/device-risk/events",
            json={
                "account_id": "C-nobody",
                "risk_type": "ROOTED",
                "notify_url": f"{API}/device-risk",
            },
        )
        assert nobody.json()["delivered"]
        log = (await m.get("/admin/v1/alerts")).json()["alerts"]
        assert [a["vendor"] for a in log] == ["bureau", "device-risk", "device-risk", "device-risk"]

    evidence = (await http.get(f"/v1/ops/lines/{line_id}", headers=OPS)).json()
    policy = [
        (e["event"], e["data"]["signal"]) for e in evidence["events"] if e["actor"] == "policy"
    ]
    assert policy == [
        ("POLICY_LOWER", "BUREAU_ALERT"),
        ("POLICY_LOWER", "LOCATION_ANOMALY"),
        ("POLICY_FREEZE", "DEVICE_ANOMALY"),
    ]
    assert evidence["events"][-3]["data"]["signal_reference"] == alert_id
    await client.get_workflow_handle(credit_line_workflow_id(line_id)).terminate("done")


async def test_alert_callbacks_refuse_bad_stale_and_replayed_signatures(
    lines_api: LinesApi,
) -> None:
    http = lines_api.http
    body = json.dumps(
        {
            "event_id": "DR-replay-1",
            "account_id": "C-nobody",
            "risk_type": "NEW_DEVICE",
            "occurred_at": datetime.now(UTC).isoformat(),
        }
    ).encode()
    route = f"{API}/device-risk"

    async def post(headers: dict[str, str], content: bytes = body) -> httpx.Response:
        sent = {"Content-Type": "application/json", **headers}
        return await http.post(route, content=content, headers=sent)

    assert (await post({})).status_code == 401
    # the bureau's key does not sign the device-risk vendor's events (here both are the dev key,
    # so sign with another one)
    assert (await post(signed("another-vendor-secret", body))).status_code == 401
    stale = signed(DEV_CALLBACK_SECRET, body, at=int(time.time()) - 3_600)
    assert (await post(stale)).status_code == 401
    fresh = signed(DEV_CALLBACK_SECRET, body)
    tampered = body.replace(b"NEW_DEVICE", b"EMULATOR")
    assert (await post(fresh, tampered)).status_code == 401
    first = await post(fresh)
    assert first.status_code == 200 and first.json() == {"status": "ignored"}
    replayed = await post(fresh)
    assert replayed.status_code == 401 and "nonce" in str(replayed.json()["detail"])
    junk = b'{"event_id": "x"}'
    assert (await post(signed(DEV_CALLBACK_SECRET, junk), junk)).status_code == 422
    bureau = signed(DEV_CALLBACK_SECRET, body)
    wrong_kind = await http.post(
        f"{API}/bureau-alerts", content=body, headers={"Content-Type": "application/json", **bureau}
    )
    assert wrong_kind.status_code == 422  # a device event is not a bureau alert


def signed(secret: str, body: bytes, at: int | None = None) -> dict[str, str]:
    return signed_headers(secret, body, at or int(time.time()), uuid.uuid4().hex)


def test_a_draws_reasons_follow_the_accept_language() -> None:
    view = DrawView(
        draw_id="draw-app_1-1",
        stage=DrawStage.FAILED,
        schedule=build_schedule(100_000, 6, 0.18, 0.0, apr_cap=0.24),
        esign_attempts_left=3,
        reasons=applicant_reasons([ReasonCode.D003_CARD_REFUSED]),  # as the workflow words them
    )
    chinese = draw_view_in(view, Language.ZH).reasons[0]
    assert (chinese.code, chinese.message) == (
        ReasonCode.D003_CARD_REFUSED,
        applicant_message(ReasonCode.D003_CARD_REFUSED, Language.ZH),
    )
    assert chinese.message != view.reasons[0].message
    assert draw_view_in(view, Language.EN).reasons == view.reasons


async def test_wrong_draw_codes_are_refused_then_lock_the_lines_code_steps(
    lines_api: LinesApi,
) -> None:
    """A draw's OTP is guessable like the application's: each wrong code is a 422 with the
    attempts the draw has left, and five wrong codes across the line's draws lock its code
    steps (429) even for a draw that still has attempts."""
    http, client, queue, _ = lines_api
    line_id = await open_line(client, queue, limit=1_000_000)
    me = borrower(line_id)
    statuses: list[int] = []
    for n in range(2):
        drawn = await http.post(
            f"/v1/lines/{line_id}/draws",
            json={"amount": 100_000, "term_months": 3, "reference": f"ref-otp-{n}"},
            headers=me,
        )
        assert drawn.status_code == 201, drawn.text
        url = f"/v1/lines/{line_id}/draws/{drawn.json()['draw_id']}"
        await eventually(http, url, me, lambda b: b["stage"] == "AWAITING_SIGNATURE")
        for _ in range(3 if n == 0 else 2):
            wrong = await http.post(f"{url}/sign", json={"otp": "000000"}, headers=me)
            statuses.append(wrong.status_code)
            assert wrong.json()["error"] == "signature_rejected", wrong.text
        if n == 0:
            assert wrong.json()["attempts_left"] == 0
    assert statuses == [422] * 5
    locked = await http.post(f"{url}/sign", json={"otp": "135790"}, headers=me)
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
