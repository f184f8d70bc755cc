"""Ops people sign in: tokens with an expiry, sign-out that revokes, roles that gate actions,
the reviewer taken from the sign-in, and the user command."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from api.deps import OpsPrincipal
from api.identity import issue_ops_token
from api.ops_users import DEV_PASSWORD, main
from api.routes import ops
from api.schemas import ReviewRequest
from api.security import OPS_COOKIE
from config.settings import Settings
from domain.decision import ReviewInput, ReviewResult
from domain.enums import ApplicationStatus, BlacklistKind, OpsRole
from domain.status import ProjectionInput
from store import identity, queries, screening
from store.migrations import upgrade
from tests.api.test_api import seed_review, sign_in, start


async def test_sign_in_returns_a_short_lived_token_for_the_person(api, settings) -> None:
    response = await api.post(
        "/v1/ops/sessions", json={"username": "senior", "password": DEV_PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["token_type"], body["username"], body["role"]) == ("bearer", "senior", "senior")
    assert OPS_COOKIE in response.cookies
    api.cookies.clear()
    assert "httponly" in response.headers["set-cookie"].lower()
    wrong_password = {"username": "senior", "password": "guess"}
    unknown_user = {"username": "nobody", "password": DEV_PASSWORD}
    for wrong in (wrong_password, unknown_user):
        refused = await api.post("/v1/ops/sessions", json=wrong)
        assert (refused.status_code, refused.json()["error"]) == (401, "unauthorized")
        assert "access_token" not in refused.text


async def test_bearer_or_cookie_then_sign_out_revokes(api) -> None:
    auth = await sign_in(api, "reviewer")
    assert (await api.get("/v1/ops/reviews", headers=auth)).status_code == 200
    token = auth["Authorization"].removeprefix("Bearer ")
    cookie_client = httpx.AsyncClient(transport=api._transport, base_url="http://api")
    async with cookie_client:
        cookie_client.cookies.set(OPS_COOKIE, token)
        assert (await cookie_client.get("/v1/ops/reviews")).status_code == 200
        assert (await api.delete("/v1/ops/sessions", headers=auth)).status_code == 204
        for call in (
            api.get("/v1/ops/reviews", headers=auth),
            cookie_client.get("/v1/ops/reviews"),
        ):
            response = await call
            assert response.status_code == 401
    assert (await api.delete("/v1/ops/sessions", headers=auth)).status_code == 401


async def test_an_expired_or_foreign_token_is_refused(api, settings: Settings) -> None:
    expired = issue_ops_token(
        settings.token_keys, settings.token_key_id, "admin", OpsRole.ADMIN, timedelta(seconds=-5)
    )
    other_key = issue_ops_token(
        {"x": "not-our-secret"}, "x", "admin", OpsRole.ADMIN, timedelta(minutes=5)
    )
    _, applicant_auth = await start(api)
    for headers in (
        {"Authorization": f"Bearer {expired.token}"},
        {"Authorization": f"Bearer {other_key.token}"},
        applicant_auth,
        {"Authorization": "Bearer not.a.jwt"},
    ):
        response = await api.get("/v1/ops/reviews", headers=headers)
        assert response.status_code == 401, headers


async def test_roles_gate_actions_and_the_reviewer_comes_from_the_sign_in(
    api, settings: Settings
) -> None:
    reviewer, admin, engineer = [
        await sign_in(api, name) for name in ("reviewer", "admin", "engineer")
    ]
    entry = {"kind": "device", "value": "fp-role-test-0001", "reason": "fraud ring"}
    refused = await api.post("/v1/ops/blacklist", headers=reviewer, json=entry)
    assert (refused.status_code, refused.json()["error"]) == (403, "forbidden")
    assert (await api.post("/v1/ops/blacklist", headers=engineer, json=entry)).status_code == 403
    engine = api.app.state.services.engine
    hits = {BlacklistKind.DEVICE: entry["value"]}
    assert not queries.in_session(engine, screening.blacklist_hits, hits)
    assert (await api.post("/v1/ops/blacklist", headers=admin, json=entry)).status_code == 201
    assert queries.in_session(engine, screening.blacklist_hits, hits) == {BlacklistKind.DEVICE}

    assert (await api.get("/v1/ops/reviews", headers=engineer)).status_code == 200
    app_id, _ = await start(api)
    await seed_review(engine, app_id)
    review = {"outcome": "APPROVE", "reviewer": "somebody-else"}
    as_engineer = await api.post(f"/v1/ops/reviews/{app_id}", headers=engineer, json=review)
    assert as_engineer.status_code == 403

    class Recorder:
        message: ReviewInput | None = None

        async def update(self, application_id, name, message, result_type):
            self.message = message
            return ReviewResult(status=ApplicationStatus.OFFERED)

        async def status_after(self, application_id, before):
            return None

    recorder = Recorder()
    principal = OpsPrincipal("reviewer", OpsRole.REVIEWER, "jti", datetime.now(UTC))
    body = ReviewRequest.model_validate(review)
    await ops.record_review(app_id, body, principal, engine, recorder)  # type: ignore[arg-type]
    assert recorder.message is not None and recorder.message.reviewer == "reviewer"
    # An escalated review needs a senior.
    escalated = ProjectionInput(
        application_id=app_id, seq=9, status=ApplicationStatus.MANUAL_REVIEW,
        event="REVIEW_SLA_BREACHED", at=datetime.now(UTC), review_queue="GREY_ZONE_ESCALATED",
    )  # fmt: skip
    queries.in_session(engine, queries.apply_projection, escalated)
    refused = await api.post(f"/v1/ops/reviews/{app_id}", headers=reviewer, json=review)
    assert (refused.status_code, refused.json()["error"]) == (403, "forbidden")
    senior = await sign_in(api, "senior")
    allowed = await api.post(f"/v1/ops/reviews/{app_id}", headers=senior, json=review)
    assert allowed.status_code == 409  # past the role check: the stand-in is not in review


async def test_disabled_user_loses_access_at_once(api, settings: Settings) -> None:
    engine = api.app.state.services.engine
    from api.identity import hash_password

    queries.in_session(
        engine, identity.upsert_user, "carol", hash_password("carol-password-1"), OpsRole.REVIEWER
    )
    response = await api.post(
        "/v1/ops/sessions", json={"username": "carol", "password": "carol-password-1"}
    )
    auth = {"Authorization": f"Bearer {response.json()['access_token']}"}
    assert (await api.get("/v1/ops/reviews", headers=auth)).status_code == 200
    queries.in_session(engine, identity.set_active, "carol", False)
    assert (await api.get("/v1/ops/reviews", headers=auth)).status_code == 401
    again = await api.post(
        "/v1/ops/sessions", json={"username": "carol", "password": "carol-password-1"}
    )
    assert again.status_code == 401


def test_the_user_command_adds_and_disables(tmp_path, monkeypatch, capsys) -> None:
    local = Settings(
        environment="test", data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'ops.db'}"
    )
    upgrade(local.resolved_database_url)
    monkeypatch.setenv("LOANFLOW_OPS_PASSWORD", "a-long-password-1")
    assert main(["add", "dora", "--role", "senior"], local) == 0
    assert main(["disable", "dora"], local) == 0
    assert main(["list"], local) == 0
    assert "dora\tsenior\tdisabled" in capsys.readouterr().out
    assert main(["disable", "nobody"], local) == 1
    monkeypatch.setenv("LOANFLOW_OPS_PASSWORD", "short")
    with pytest.raises(SystemExit):
        main(["add", "eve", "--role", "admin"], local)


def test_production_refuses_the_dev_seed_and_the_codec_opt_out() -> None:
    import base64
    import os

    secrets = {
        "environment": "production",
        "payload_encryption_key": base64.b64encode(os.urandom(32)).decode(),
        "token_secret": "t" * 32,
        "payment_callback_secret": "c" * 32,
        "bureau_callback_secret": "b" * 32,
        "device_risk_callback_secret": "d" * 32,
        "blob_encryption_keys": {"p1": base64.b64encode(os.urandom(32)).decode()},
        "blob_key_id": "p1",
    }
    assert Settings(**secrets).seed_dev_users is False
    for unsafe in ({"ops_dev_seed": True}, {"codec_requires_sign_in": False}):
        with pytest.raises(ValueError, match="refused in production"):
            Settings(**secrets, **unsafe)
