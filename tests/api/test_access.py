"""Who may call what, for every route of the OpenAPI: no token, a wrong token, another
applicant's token, an expired or revoked one, and a reviewer on an admin action are refused, and
nothing changes. Then applicant tokens: refresh, spent refresh tokens, read-only after the end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.security import HTTPAuthorizationCredentials
from sqlmodel import Session, select

from api.identity import Scope
from api.security import applicant_token, require_applicant
from domain.enums import ApplicationStatus
from domain.lines import LineStatus
from domain.status import ProjectionInput
from store import queries
from store.lines import CreditLine
from store.tables import BlacklistEntry
from tests.api.test_api import seed_review, sign_in, start, start_body

ADMIN_ONLY = {("post", "/v1/ops/blacklist")}
OPEN = {
    ("post", "/v1/applications"),
    ("post", "/v1/quotes"),
    ("post", "/v1/ops/sessions"),
    ("post", "/v1/callbacks/payments"),
    ("post", "/v1/applications/{application_id}/token"),
}


def operations(spec: dict) -> list[tuple[str, str]]:
    return [(m, p) for p, ops in spec["paths"].items() for m in ops if (m, p) not in OPEN]


def count_blacklist(engine) -> int:
    return len(queries.in_session(engine, lambda s: list(s.exec(select(BlacklistEntry)))))


async def test_every_route_refuses_callers_without_the_right(api, settings) -> None:
    spec = (await api.get("/openapi.json")).json()
    target, target_auth = await start(api)
    _, other_auth = await start(api)
    engine = api.app.state.services.engine
    await seed_review(engine, target)
    reviewer = await sign_in(api, "reviewer")
    expired = applicant_token(settings.token_secret, target, lifetime=timedelta(seconds=-1))
    refresh_only = applicant_token(settings.token_secret, target, scopes=frozenset({Scope.REFRESH}))

    async def state() -> tuple[int, str]:
        view = await api.get(f"/v1/applications/{target}", headers=target_auth)
        return count_blacklist(engine), view.json()["status"]

    before = await state()
    wrong = {"Authorization": "Bearer wrong"}
    checked = 0
    for method, path in operations(spec):
        url = path.replace("{application_id}", target).replace("{kind}", "selfie")
        applicant = path.startswith("/v1/applications")
        callers = [{}, wrong, reviewer if applicant else target_auth]
        if applicant:
            callers += [other_auth, {"Authorization": f"Bearer {expired}"},
                        {"Authorization": f"Bearer {refresh_only}"}]  # fmt: skip
        for headers in callers:
            response = await api.request(method.upper(), url, headers=headers, json={})
            assert response.status_code == 401, (method, path, headers, response.text)
            checked += 1
        if (method, path) in ADMIN_ONLY:
            entry = {"kind": "phone", "value": "13900000000", "reason": "x"}
            response = await api.request(method.upper(), url, headers=reviewer, json=entry)
            assert response.status_code == 403
    assert checked >= 40
    assert await state() == before


async def test_refresh_rotates_and_a_spent_refresh_token_is_refused(api) -> None:
    started = (await api.post("/v1/applications", json=start_body())).json()
    app_id = started["application_id"]
    url = f"/v1/applications/{app_id}/token"
    refreshed = await api.post(url, json={"refresh_token": started["refresh_token"]})
    assert refreshed.status_code == 200
    body = refreshed.json()
    assert datetime.fromisoformat(body["expires_at"]) > datetime.now(UTC)
    auth = {"Authorization": f"Bearer {body['applicant_token']}"}
    assert (await api.get(f"/v1/applications/{app_id}", headers=auth)).status_code == 200
    replay = await api.post(url, json={"refresh_token": started["refresh_token"]})
    assert replay.status_code == 401
    access_as_refresh = await api.post(url, json={"refresh_token": body["applicant_token"]})
    assert access_as_refresh.status_code == 401
    other = (await api.post("/v1/applications", json=start_body())).json()
    foreign = await api.post(url, json={"refresh_token": other["refresh_token"]})
    assert foreign.status_code == 401


async def test_tokens_only_read_after_the_end_then_stop(api, settings) -> None:
    started = (await api.post("/v1/applications", json=start_body())).json()
    app_id = started["application_id"]
    auth = {"Authorization": f"Bearer {started['applicant_token']}"}
    engine = api.app.state.services.engine
    await seed_review(engine, app_id)
    end = ProjectionInput(application_id=app_id, seq=20, status=ApplicationStatus.REJECTED,
                          event="REJECTED", at=datetime.now(UTC))  # fmt: skip
    queries.in_session(engine, queries.apply_projection, end)
    withdraw = await api.post(f"/v1/applications/{app_id}/withdraw", headers=auth, json={})
    assert withdraw.status_code == 401
    assert (await api.get(f"/v1/applications/{app_id}", headers=auth)).status_code == 200
    url = f"/v1/applications/{app_id}/token"
    refreshed = (await api.post(url, json={"refresh_token": started["refresh_token"]})).json()
    read_only = {"Authorization": f"Bearer {refreshed['applicant_token']}"}
    assert (await api.get(f"/v1/applications/{app_id}", headers=read_only)).status_code == 200
    write = await api.post(f"/v1/applications/{app_id}/withdraw", headers=read_only, json={})
    assert write.status_code == 401

    def age(session: Session) -> None:
        row = queries.get_application(session, app_id)
        assert row is not None
        row.updated_at = datetime.now(UTC) - timedelta(
            days=settings.applicant_read_days_after_end + 1
        )
        session.add(row)

    queries.in_session(engine, age)
    assert (await api.get(f"/v1/applications/{app_id}", headers=auth)).status_code == 401
    again = await api.post(url, json={"refresh_token": refreshed["refresh_token"]})
    assert again.status_code == 401


async def test_a_live_credit_line_keeps_its_borrower_tokens_writable(api, settings) -> None:
    """The approval of a revolving product lives on as a credit line under the same id: after
    the application has ended, a refresh still gives the borrower a token that draws."""
    started = (await api.post("/v1/applications", json=start_body())).json()
    app_id = started["application_id"]
    engine = api.app.state.services.engine
    await seed_review(engine, app_id)
    end = ProjectionInput(application_id=app_id, seq=20, status=ApplicationStatus.DISBURSED,
                          event="DISBURSED", at=datetime.now(UTC))  # fmt: skip
    queries.in_session(engine, queries.apply_projection, end)
    line = CreditLine(id=app_id, customer_id="c-1", product_code="CASH_LINE",
                      status=LineStatus.ACTIVE, credit_limit=1_000_000, available=500_000,
                      outstanding_principal=500_000, expires_at=datetime.now(UTC))  # fmt: skip

    def add(session: Session) -> None:
        session.add(line)

    queries.in_session(engine, add)
    url = f"/v1/applications/{app_id}/token"
    refreshed = (await api.post(url, json={"refresh_token": started["refresh_token"]})).json()
    creds = HTTPAuthorizationCredentials(scheme="Bearer", credentials=refreshed["applicant_token"])
    assert Scope.WRITE in require_applicant(settings.token_keys, app_id, creds, Scope.WRITE).scopes
    # the application itself still only reads
    auth = {"Authorization": f"Bearer {refreshed['applicant_token']}"}
    withdraw = await api.post(f"/v1/applications/{app_id}/withdraw", headers=auth, json={})
    assert withdraw.status_code == 401
