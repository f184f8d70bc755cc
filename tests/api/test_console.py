"""The review console's pages over the API (stand-in workflows of test_api): sign-in sets the
ops cookie, pages need it, the queue and a case page render the store's evidence, a refused
outcome is explained on the page, the funnel is there for signed-in ops and keeps to the
last `days` days when asked."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlmodel import Session

from api.ops_users import DEV_PASSWORD
from store import queries
from store.tables import Application
from tests.api.test_api import seed_review, start, upload
from tests.vision.support import write_video


async def console_sign_in(api, username: str = "reviewer"):
    response = await api.post(
        "/console/login",
        data={"username": username, "password": DEV_PASSWORD, "next": "/console/reviews"},
    )
    assert response.status_code == 303 and response.headers["location"] == "/console/reviews"
    assert "loanflow_ops" in response.cookies
    token = response.cookies["loanflow_ops"]
    api.cookies.clear()  # the module's client is shared: each request names its session
    return {"Cookie": f"loanflow_ops={token}"}


async def test_pages_need_a_sign_in_and_a_wrong_password_is_refused(api) -> None:
    api.cookies.clear()
    for page in ("/console/reviews", "/console/cases/x", "/console/funnel"):
        response = await api.get(page)
        assert response.status_code == 303 and response.headers["location"].startswith(
            "/console/login"
        )
    refused = await api.post(
        "/console/login", data={"username": "reviewer", "password": "wrong-password"}
    )
    assert refused.status_code == 401 and "Wrong username or password" in refused.text
    evil = await api.post(
        "/console/login",
        data={"username": "reviewer", "password": DEV_PASSWORD, "next": "https://evil.example/"},
    )
    assert evil.headers["location"] == "/console/reviews"


async def test_queue_case_page_and_a_refused_outcome(api) -> None:
    engine = api.app.state.services.engine
    app_id, _ = await start(api)
    await seed_review(engine, app_id)
    cookies = await console_sign_in(api)
    queue = await api.get("/console/reviews", headers=cookies)
    assert queue.status_code == 200 and app_id in queue.text and "GREY_ZONE" in queue.text
    assert "reviewer" in queue.text
    page = await api.get(f"/console/cases/{app_id}", headers=cookies)
    assert page.status_code == 200 and "¥3,000.00 over 12 months" in page.text
    assert "Audit trail" in page.text
    # The stand-in is not in review: the refusal is shown on the page with the status.
    refused = await api.post(
        f"/console/cases/{app_id}/review",
        data={"outcome": "APPROVE", "approved_limit_yuan": "800"},
        headers=cookies,
    )
    assert refused.status_code == 409 and "Refused" in refused.text
    assert "AWAITING_DOCUMENTS" in refused.text
    funnel = await api.get("/console/funnel", headers=cookies)
    assert funnel.status_code == 200 and "AWAITING_DOCUMENTS" in funnel.text
    chart = await api.get("/v1/ops/funnel.png", headers=cookies)
    assert chart.status_code == 200 and chart.content.startswith(b"\x89PNG")
    missing = await api.get(f"/console/cases/{uuid.uuid4().hex}", headers=cookies)
    assert missing.status_code == 404


async def test_the_sharpest_frame_is_cut_from_the_stored_video(api, tmp_path) -> None:
    app_id, auth = await start(api)
    await seed_review(api.app.state.services.engine, app_id)
    rng = np.random.default_rng(7)
    frames = [rng.integers(0, 255, (96, 128, 3), dtype=np.uint8) for _ in range(6)]
    video = write_video(tmp_path / "liveness.mp4", frames)
    assert (await upload(api, app_id, auth, "liveness_video", video)).status_code == 202
    cookies = await console_sign_in(api)
    frame = await api.get(f"/console/cases/{app_id}/frame.jpg", headers=cookies)
    assert frame.status_code == 200 and frame.content.startswith(b"\xff\xd8\xff")
    none = await api.get(f"/console/cases/{uuid.uuid4().hex}/frame.jpg", headers=cookies)
    assert none.status_code == 404


def _backdate(session: Session, app_id: str, days: int) -> None:
    application = session.get(Application, app_id)
    assert application is not None
    application.created_at = datetime.now(UTC) - timedelta(days=days)
    session.add(application)


def _entered(page: str, stage: str) -> int:
    found = re.search(rf'<tr><td>{stage}</td><td class="num">(\d+)</td>', page)
    assert found, page
    return int(found.group(1))


async def test_the_funnel_page_keeps_to_the_days_asked(api) -> None:
    engine = api.app.state.services.engine
    app_id, _ = await start(api)
    await seed_review(engine, app_id)
    await queries.in_thread(engine, _backdate, app_id, 30)
    cookies = await console_sign_in(api)
    every = await api.get("/console/funnel", headers=cookies)
    recent = await api.get("/console/funnel?days=7", headers=cookies)
    assert every.status_code == recent.status_code == 200
    assert _entered(every.text, "MANUAL_REVIEW") == _entered(recent.text, "MANUAL_REVIEW") + 1
    assert "last 7 days" in recent.text and 'src="/v1/ops/funnel.png?days=7"' in recent.text
