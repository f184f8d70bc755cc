"""Operations over the real processes, the Web UI on a non-default port: partners' test
applicants reach the second review through the public API alone; the codec endpoint decodes a
real history for the UI's origin and for the README's CLI command; reviewers work the review
console in headless Chromium (approve with a lower limit, reject, nothing without a sign-in);
/docs renders with every outside host unreachable. Screenshots go to a temporary folder, or to
the folder named by LOANFLOW_SCREENSHOTS (`LOANFLOW_SCREENSHOTS=docs` refreshes the README's)."""

from __future__ import annotations

import base64
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from devtools.stack import Ports, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
DEV_PASSWORD = "loanflow-dev"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[Stack]:
    ports = Ports.free()
    assert ports.ui != 8233
    system = Stack(
        data_dir=tmp_path_factory.mktemp("stack"),
        ports=ports,
        ui=True,
        extra_env={"DATABASE_URL": database_url},
    )
    try:
        system.start()
        yield system
    finally:
        system.stop()


def to_review(stack: Stack, serial: int) -> dict[str, Any]:
    """A partner's flow, over HTTP only: issue a test applicant, apply, upload, authorize."""
    with httpx.Client(timeout=300) as http:
        person = http.post(
            f"{stack.mocks_url}/admin/v1/test-applicants",
            json={"outcome": "review", "serial": serial},
        ).json()
        api = stack.api_url
        started = http.post(
            f"{api}/v1/applications",
            json={
                "client_request_id": f"ops-e2e-{serial}",
                "product_code": "CASH_STD",
                "phone": person["phone"],
                "requested_amount": 1_200_000,
                "term_months": 12,
                "device": {"fingerprint": f"fp-ops-{serial}", "ip": "10.1.2.3", "os": "iOS 18"},
                "consents": {"privacy_policy": True, "credit_inquiry": True, "carrier_data": True},
            },
        ).json()
        app_id = started["application_id"]
        auth = {"Authorization": f"Bearer {started['applicant_token']}"}
        video = http.post(
            f"{stack.mocks_url}/admin/v1/test-applicants/{person['id_number']}/liveness-video",
            json={"windows": started["liveness_challenge"]["windows"]},
        )
        uploads = {k: base64.b64decode(v) for k, v in person["documents"].items()}
        for kind, data in uploads.items():
            put = http.put(
                f"{api}/v1/applications/{app_id}/documents/{kind}",
                headers=auth,
                files={"file": (f"{kind}.jpg", data, "image/jpeg")},
            )
            assert put.status_code == 202, put.text
        put = http.put(
            f"{api}/v1/applications/{app_id}/documents/liveness_video",
            headers=auth,
            files={"file": ("liveness.mp4", video.content, "video/mp4")},
        )
        assert put.status_code == 202, put.text
        submitted = http.post(
            f"{api}/v1/applications/{app_id}/documents/submit",
            headers=auth,
            json={"full_name": person["full_name"], "id_number": person["id_number"]},
        )
        assert submitted.status_code == 202, submitted.text
        view = _wait(http, api, app_id, auth, {"AWAITING_CARRIER_AUTH"}, 420)
        assert view["status"] == "AWAITING_CARRIER_AUTH", view
        assert http.post(f"{api}/v1/applications/{app_id}/carrier/sms", headers=auth).is_success
        authorized = http.post(
            f"{api}/v1/applications/{app_id}/carrier/authorize",
            headers=auth,
            json={"code": person["carrier_sms_code"]},
        )
        assert authorized.status_code == 200, authorized.text
        view = _wait(http, api, app_id, auth, {"MANUAL_REVIEW"}, 180)
        assert view["status"] == "MANUAL_REVIEW", (view["status"], view["reasons"])
    return {"id": app_id, "auth": auth, "person": person}


def _wait(http, api, app_id, auth, wanted: set[str], timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    terminal = {"DISBURSED", "REJECTED", "EXPIRED", "CANCELLED", "FAILED"}
    while True:
        view = http.get(f"{api}/v1/applications/{app_id}", headers=auth).json()
        if view["status"] in wanted | terminal or time.monotonic() > deadline:
            return view
        time.sleep(0.5)


@pytest.fixture(scope="module")
def cases(stack: Stack) -> list[dict[str, Any]]:
    serials = random.Random(os.getpid()).sample(range(100, 4000), 2)
    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(lambda s: to_review(stack, s), serials))


def test_the_codec_decodes_a_real_history_for_the_ui_origin_and_the_cli(
    stack: Stack, cases: list[dict[str, Any]]
) -> None:
    app_id = cases[0]["id"]
    workflow_id = f"loan-application-{app_id}"
    shown = subprocess.run(
        [str(BIN / "temporal"), "workflow", "show", "--address", stack.temporal_address,
         "--workflow-id", workflow_id, "--output", "json"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    started = json.loads(shown)["events"][0]["workflowExecutionStartedEventAttributes"]
    payloads = started["input"]["payloads"]
    assert base64.b64decode(payloads[0]["metadata"]["encoding"]) == b"binary/encrypted"
    origin = stack.ui_url
    preflight = httpx.options(
        f"{stack.api_url}/codec/decode",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-namespace",
        },
    )
    assert preflight.status_code == 200, preflight.text
    assert preflight.headers["access-control-allow-origin"] == origin
    decoded = httpx.post(
        f"{stack.api_url}/codec/decode",
        headers={"Origin": origin, "X-Namespace": "default"},
        json={"payloads": payloads},
        timeout=30,
    )
    assert decoded.status_code == 200, decoded.text
    assert decoded.headers["access-control-allow-origin"] == origin
    clear = base64.b64decode(decoded.json()["payloads"][0]["data"])
    assert app_id.encode() in clear and b"CASH_STD" in clear
    stranger = httpx.options(
        f"{stack.api_url}/codec/decode",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in stranger.headers
    # The README's command: the CLI probes /codec/encode with an empty body, then decodes.
    query = subprocess.run(
        [str(BIN / "temporal"), "workflow", "query", "--address", stack.temporal_address,
         "--workflow-id", workflow_id, "--type", "status",
         "--codec-endpoint", f"{stack.api_url}/codec"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert query.returncode == 0, query.stdout + query.stderr
    assert "MANUAL_REVIEW" in query.stdout and app_id in query.stdout
    # What the Web UI shows: the static summary, and the current details naming the wait.
    described = subprocess.run(
        [str(BIN / "temporal"), "workflow", "describe", "--address", stack.temporal_address,
         "--workflow-id", workflow_id, "--codec-endpoint", f"{stack.api_url}/codec"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert described.returncode == 0, described.stderr
    assert f"Loan application {app_id} · CASH_STD · ¥12,000.00" in described.stdout
    metadata = subprocess.run(
        [str(BIN / "temporal"), "workflow", "metadata", "--address", stack.temporal_address,
         "--workflow-id", workflow_id, "--codec-endpoint", f"{stack.api_url}/codec"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert metadata.returncode == 0, metadata.stderr
    assert "MANUAL_REVIEW" in metadata.stdout and "waiting for an ops reviewer" in metadata.stdout


def _browser(block_outside: bool = True):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM or "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1400,1000",
                 "--disable-dev-shm-usage"):  # fmt: skip
        options.add_argument(flag)
    if block_outside:
        # Nothing but this machine resolves: a page that needs a CDN shows it at once.
        options.add_argument("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1")
    return webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))


needs_chromium = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER), reason="chromium and chromedriver (scripts/bootstrap.sh)"
)


@needs_chromium
def test_reviewers_work_the_console_in_a_browser(
    stack: Stack, cases: list[dict[str, Any]], tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import Select, WebDriverWait

    shots = Path(os.environ.get("LOANFLOW_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    browser = _browser()
    wait = WebDriverWait(browser, 60)
    try:
        browser.get(f"{stack.api_url}/console/reviews")
        wait.until(ready.presence_of_element_located((By.ID, "login-form")))
        browser.find_element(By.ID, "username").send_keys("reviewer")
        browser.find_element(By.ID, "password").send_keys(DEV_PASSWORD)
        browser.find_element(By.ID, "sign-in").click()
        wait.until(ready.presence_of_element_located((By.ID, "signed-in-as")))
        assert browser.find_elements(By.ID, "queue"), browser.find_element(By.TAG_NAME, "body").text
        assert "reviewer" in browser.find_element(By.ID, "signed-in-as").text
        rows = browser.find_elements(By.CSS_SELECTOR, "#queue tbody tr")
        listed = [row.get_attribute("data-application") for row in rows]
        assert {c["id"] for c in cases} <= set(listed)
        browser.save_screenshot(str(shots / "console-queue.png"))
        oldest = listed[0]
        rows[0].find_element(By.CSS_SELECTOR, "a.case-link").click()
        wait.until(ready.presence_of_element_located((By.ID, "approve-form")))
        page = browser.find_element(By.TAG_NAME, "main").text
        assert "¥12,000.00 over 12 months" in page and "Audit trail" in page
        assert browser.find_elements(By.CSS_SELECTOR, "#liveness-actions td.ok")
        assert browser.find_element(By.ID, "score").text.strip().isdigit()
        assert (
            browser.execute_script("return document.getElementById('img-id_front').naturalWidth")
            > 100
        )
        browser.save_screenshot(str(shots / "console-case.png"))
        browser.find_element(By.ID, "approved-limit").send_keys("8000")
        browser.find_element(By.ID, "approve").click()
        wait.until(ready.presence_of_element_located((By.ID, "result")))
        assert "status now OFFERED" in browser.find_element(By.ID, "result").text
        assert browser.find_element(By.ID, "status").text == "OFFERED"
        assert "¥8,000.00" in browser.find_element(By.ID, "offer-limit").text
        approved = next(c for c in cases if c["id"] == oldest)
        view = httpx.get(
            f"{stack.api_url}/v1/applications/{oldest}", headers=approved["auth"], timeout=30
        ).json()
        assert view["status"] == "OFFERED" and view["offer"]["limit"] == 800_000
        evidence_audit = browser.find_element(By.ID, "audit").text
        assert "REVIEW_APPROVED" in evidence_audit and "reviewer" in evidence_audit

        other = next(c["id"] for c in cases if c["id"] != oldest)
        browser.get(f"{stack.api_url}/console/cases/{other}")
        wait.until(ready.presence_of_element_located((By.ID, "reject-form")))
        Select(browser.find_element(By.ID, "reject-reason")).select_by_value("R007")
        browser.find_element(By.ID, "reject").click()
        wait.until(ready.presence_of_element_located((By.ID, "result")))
        assert "status now REJECTED" in browser.find_element(By.ID, "result").text

        # A second reviewer in another browser, not signed in, cannot act.
        browser.delete_all_cookies()
        browser.get(f"{stack.api_url}/console/cases/{oldest}")
        wait.until(ready.presence_of_element_located((By.ID, "login-form")))
        posted = httpx.post(
            f"{stack.api_url}/console/cases/{other}/review", data={"outcome": "APPROVE"}
        )
        assert posted.status_code == 303 and "/console/login" in posted.headers["location"]
        api_post = httpx.post(
            f"{stack.api_url}/v1/ops/reviews/{other}", json={"outcome": "APPROVE"}
        )
        assert api_post.status_code == 401 and api_post.json()["code"] == "unauthorized"

        browser.get(f"{stack.api_url}/docs")
        wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, ".swagger-ui .info")))
        wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, ".opblock")))
        assert "loanflow" in browser.find_element(By.CSS_SELECTOR, ".swagger-ui .info").text
        browser.save_screenshot(str(shots / "api-docs-offline.png"))
    finally:
        browser.quit()
