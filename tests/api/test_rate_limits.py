"""Rate limits and lock-outs live in Redis, so two API copies count the same attempts: the SMS
send cool-down and its hourly cap, the lock-out after wrong codes, starts per phone and per
device, and wrong ops passwords."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import redis

from api.main import create_app
from api.ops_users import DEV_PASSWORD
from tests.api.test_api import ID_BODY, make_settings, start_body, upload_all

REDIS_URL = "redis://127.0.0.1:6379/0"


@contextlib.asynccontextmanager
async def api_copies(
    tmp_path, temporal, database_url, overrides: dict[str, int]
) -> AsyncIterator[list[httpx.AsyncClient]]:
    """Two API copies over one Redis, under a key prefix of this test's own."""
    prefix = f"loanflow-test-{uuid.uuid4().hex[:8]}:"
    settings = make_settings(
        tmp_path, database_url, redis_url=REDIS_URL, redis_prefix=prefix,
        rate_limit_overrides=overrides,
    )  # fmt: skip
    async with contextlib.AsyncExitStack() as stack:
        clients = []
        for _ in range(2):
            app = create_app(settings, temporal_client=temporal)
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app)
            client = httpx.AsyncClient(transport=transport, base_url="http://api")
            clients.append(await stack.enter_async_context(client))
        try:
            yield clients
        finally:
            sync = redis.Redis.from_url(REDIS_URL)
            for key in sync.scan_iter(f"{prefix}*"):
                sync.delete(key)
            sync.close()


@pytest.fixture
async def copies(tmp_path, temporal, database_url) -> AsyncIterator[list[httpx.AsyncClient]]:
    async with api_copies(tmp_path, temporal, database_url, {}) as clients:
        yield clients


async def started(api: httpx.AsyncClient, **overrides) -> tuple[str, dict[str, str]]:
    body = (await api.post("/v1/applications", json=start_body(**overrides))).json()
    return body["application_id"], {"Authorization": f"Bearer {body['applicant_token']}"}


async def test_sms_send_has_a_cool_down_across_copies(copies) -> None:
    one, two = copies
    app_id, auth = await started(one)
    first = await one.post(f"/v1/applications/{app_id}/carrier/sms", headers=auth)
    assert first.status_code == 409  # counted even though the stand-in is not at that stage
    again = await two.post(f"/v1/applications/{app_id}/carrier/sms", headers=auth)
    assert (again.status_code, again.json()["error"]) == (429, "rate_limited")
    assert 0 < int(again.headers["retry-after"]) <= 60


async def test_wrong_codes_lock_the_application_out(copies) -> None:
    one, two = copies
    app_id, auth = await started(one)
    await upload_all(one, app_id, auth)
    await one.post(f"/v1/applications/{app_id}/documents/submit", headers=auth, json=ID_BODY)
    sign = f"/v1/applications/{app_id}/contract/sign"
    statuses = []
    for attempt in range(6):
        client = one if attempt % 2 else two
        statuses.append((await client.post(sign, headers=auth, json={"otp": "000000"})).status_code)
    assert statuses == [422] * 5 + [429]
    right = await one.post(sign, headers=auth, json={"otp": "123456"})
    assert right.status_code == 429 and int(right.headers["retry-after"]) > 0


async def test_starts_per_phone_are_limited(copies) -> None:
    one, two = copies
    phone = f"137{uuid.uuid4().int % 10**8:08d}"
    codes = []
    for attempt in range(6):
        client = one if attempt % 2 else two
        device = start_body()["device"] | {"fingerprint": f"fp-{uuid.uuid4().hex}"}
        response = await client.post(
            "/v1/applications", json=start_body(phone=phone, device=device)
        )
        codes.append(response.status_code)
    assert codes == [201] * 5 + [429]


async def test_starts_per_device_are_limited(copies) -> None:
    one, two = copies
    device = start_body()["device"] | {"fingerprint": f"fp-{uuid.uuid4().hex}"}
    codes = []
    for attempt in range(6):
        client = one if attempt % 2 else two
        phone = f"137{uuid.uuid4().int % 10**8:08d}"
        response = await client.post(
            "/v1/applications", json=start_body(phone=phone, device=device)
        )
        codes.append(response.status_code)
    assert codes == [201] * 5 + [429]


async def test_sms_sends_per_application_are_capped_beyond_the_cool_down(
    tmp_path, temporal, database_url
) -> None:
    """With the one-a-minute cool-down lifted, the hourly cap per application still holds."""
    async with api_copies(tmp_path, temporal, database_url, {"sms-cool": 1000}) as (one, two):
        app_id, auth = await started(one)
        codes = []
        for attempt in range(6):
            client = one if attempt % 2 else two
            sent = await client.post(f"/v1/applications/{app_id}/carrier/sms", headers=auth)
            codes.append(sent.status_code)
        assert codes == [409] * 5 + [429]  # 409: counted, though the stand-in is elsewhere
        other_id, other_auth = await started(one)  # another application is not held back
        other = await two.post(f"/v1/applications/{other_id}/carrier/sms", headers=other_auth)
        assert other.status_code == 409


async def test_wrong_ops_passwords_lock_the_username(copies) -> None:
    one, two = copies
    for attempt in range(5):
        client = one if attempt % 2 else two
        wrong = await client.post("/v1/ops/sessions", json={"username": "admin", "password": "x"})
        assert wrong.status_code == 401
    locked = await one.post(
        "/v1/ops/sessions", json={"username": "admin", "password": DEV_PASSWORD}
    )
    assert locked.status_code == 429


async def test_redis_down_fails_closed_with_503(tmp_path, temporal, database_url) -> None:
    settings = make_settings(tmp_path, database_url, redis_url="redis://127.0.0.1:1/0")
    app = create_app(settings, temporal_client=temporal)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            response = await client.post("/v1/applications", json=start_body())
            assert response.status_code == 503 and int(response.headers["retry-after"]) > 0
