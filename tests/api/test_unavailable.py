"""A database that is down answers 503 with Retry-After on every route that needs it (never a
500), and the API recovers when it is back. The shared PostgreSQL is never stopped: the app's
engine is pointed at an address where nothing listens. An unreadable stored document answers
503 too, with a code saying why."""

from __future__ import annotations

import dataclasses
import os

from sqlalchemy import create_engine

from store import queries
from store.blob_crypto import EncryptedBlobStore
from tests.api.test_api import png, seed_review, sign_in, start, upload
from tests.api.test_console import console_sign_in

DEAD_URL = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"


async def test_database_down_answers_503_with_retry_after(api) -> None:
    ops = await sign_in(api, "admin")
    app_id, auth = await start(api)
    services = api.app.state.services
    dead = create_engine(DEAD_URL, pool_pre_ping=True)
    api.app.state.services = dataclasses.replace(services, engine=dead)
    try:
        calls = [
            ("GET", "/v1/ops/reviews", {"headers": ops}),
            ("GET", f"/v1/ops/applications/{app_id}", {"headers": ops}),
            ("POST", "/v1/ops/sessions", {"json": {"username": "admin", "password": "x"}}),
            ("POST", f"/v1/applications/{app_id}/documents/submit",
             {"headers": auth, "json": {"full_name": "张三", "id_number": "11010519900307123X"}}),
        ]  # fmt: skip
        for method, url, kwargs in calls:
            response = await api.request(method, url, **kwargs)
            assert response.status_code == 503, (url, response.text)
            assert response.json()["error"] == "unavailable"
            assert int(response.headers["retry-after"]) > 0
            assert "nobody" not in response.text
    finally:
        api.app.state.services = services
        dead.dispose()
    assert (await api.get("/v1/ops/reviews", headers=ops)).status_code == 200


async def test_an_unreadable_document_answers_503_naming_why(api, settings, tmp_path) -> None:
    """A damaged blob, or one under a key id the API is not configured with, is the operator's
    to fix: 503 with a code saying which, never a 500."""
    app_id, auth = await start(api)
    await seed_review(api.app.state.services.engine, app_id)
    assert (await upload(api, app_id, auth, "selfie", png())).status_code == 202
    services = api.app.state.services
    (ref,) = queries.in_session(services.engine, queries.document_refs, app_id).values()
    cookies = await console_sign_in(api)
    url = f"/console/cases/{app_id}/documents/selfie"
    assert (await api.get(url, headers=cookies)).content == png()

    retired = EncryptedBlobStore(services.blobs.inner, {"other": os.urandom(32)}, "other")
    api.app.state.services = dataclasses.replace(services, blobs=retired)
    try:
        response = await api.get(url, headers=cookies)
    finally:
        api.app.state.services = services
    assert (response.status_code, response.json()["code"]) == (503, "blob_key_unavailable")
    assert int(response.headers["retry-after"]) > 0

    path = settings.resolved_blob_dir / ref.blob_key
    path.write_bytes(path.read_bytes()[:-1] + bytes([path.read_bytes()[-1] ^ 1]))
    response = await api.get(url, headers=cookies)
    assert (response.status_code, response.json()["code"]) == (503, "document_damaged")
    path.write_bytes(b"LFE1")  # truncated inside the header
    response = await api.get(url, headers=cookies)
    assert (response.status_code, response.json()["code"]) == (503, "document_damaged")
