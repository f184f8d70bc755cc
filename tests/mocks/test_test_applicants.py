"""The simulators issue ready test applicants for partner teams: registered with the identity
simulator, documents the vision checks can read, and a video performing a given challenge."""

from __future__ import annotations

import base64

import cv2
import httpx
import numpy as np
import pytest

from domain.idnumber import parse_id_number
from mocks.app import create_app
from mocks.personas import bureau_bucket


@pytest.fixture
async def mocks():
    app = create_app()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mocks") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


def _image(b64: str) -> np.ndarray:
    data = np.frombuffer(base64.b64decode(b64), np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    assert image is not None
    return image


@pytest.mark.slow
async def test_a_grey_zone_applicant_with_documents_and_a_challenge_video(mocks) -> None:
    issued = await mocks.post("/admin/v1/test-applicants", json={"outcome": "review", "serial": 7})
    assert issued.status_code == 201, issued.text
    person = issued.json()
    number = parse_id_number(person["id_number"])
    assert bureau_bucket(number.value) == 73
    again = (
        await mocks.post("/admin/v1/test-applicants", json={"outcome": "review", "serial": 7})
    ).json()
    assert again["id_number"] == person["id_number"], "the same serial is the same person"
    other = (
        await mocks.post("/admin/v1/test-applicants", json={"outcome": "review", "serial": 8})
    ).json()
    assert other["id_number"] != person["id_number"]
    front = _image(person["documents"]["id_front"])
    assert front.shape[1] > front.shape[0] > 200  # a card, landscape
    assert _image(person["documents"]["selfie"]).size
    registered = mocks.app.state.mocks.citizens[person["id_number"]]  # type: ignore[attr-defined]
    assert registered.name == person["full_name"] and registered.portrait_jpeg
    windows = [
        {"action": "BLINK", "start_s": 0.0, "end_s": 2.5},
        {"action": "NOD", "start_s": 2.5, "end_s": 5.0},
    ]
    video = await mocks.post(
        f"/admin/v1/test-applicants/{person['id_number']}/liveness-video",
        json={"windows": windows},
    )
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    assert video.content[4:8] == b"ftyp" and len(video.content) > 10_000
    unknown = await mocks.post(
        "/admin/v1/test-applicants/110101199003077777/liveness-video", json={"windows": windows}
    )
    assert unknown.status_code in (400, 404)
    bad = await mocks.post("/admin/v1/test-applicants", json={"outcome": "rich"})
    assert bad.status_code == 422
