"""A database that is down answers 503 with Retry-After on every route that needs it (never a
500), and the API recovers when it is back. The shared PostgreSQL is never stopped: the app's
engine is pointed at an address where nothing listens."""

from __future__ import annotations

import dataclasses

from sqlalchemy import create_engine

from tests.api.test_api import sign_in, start

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
