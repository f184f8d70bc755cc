"""The database stopped for 30 s under the real processes: the applicant still reads their live
status (from the workflow, on the signed token alone); every other answer meanwhile is a 503 with
`Retry-After` (never a 500), a store step retried through the outage is counted as stuck on the
worker's metrics, and afterwards every application finishes, once, with the store agreeing.

The shared PostgreSQL is never stopped: the API and the workers reach it through a TCP proxy
(`tests/e2e/tcp_proxy.py`) that cuts every connection and refuses new ones for the outage."""

from __future__ import annotations

import base64
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select

from devtools.applicant import Applicant, ApplicantSession, StepRefused, ops_client
from devtools.stack import Ports, Stack
from store.db import make_engine
from store.tables import Application, Disbursement
from tests.conftest import isolated_database
from tests.e2e.tcp_proxy import TcpProxy
from tests.e2e.test_system import gateway_orders

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.postgres]
OUTAGE_SECONDS = 30.0
TERMINAL = {"DISBURSED", "REJECTED", "EXPIRED", "CANCELLED", "FAILED"}


@pytest.fixture(scope="module")
def direct_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A schema of its own, as the processes see it without the proxy (the test reads it)."""
    with isolated_database(tmp_path_factory.mktemp("db"), require_postgres=True) as url:
        yield url


@pytest.fixture(scope="module")
def proxy(direct_url: str) -> Iterator[TcpProxy]:
    url = make_url(direct_url)
    with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as running:
        yield running


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, direct_url: str, proxy: TcpProxy
) -> Iterator[Stack]:
    proxied = make_url(direct_url).set(port=proxy.port).render_as_string(hide_password=False)
    system = Stack(
        data_dir=tmp_path_factory.mktemp("stack"),
        ports=Ports.free(),
        ui=False,
        extra_env={"DATABASE_URL": proxied},
    )
    try:
        system.start("temporal", "mocks", "api", "vision-worker")
        # only the main worker serves metrics: both workers on one port would collide
        system.extra_env["LOANFLOW_WORKER_METRICS_PORT"] = str(Ports.free().api)
        system.start("worker")
        yield system
    finally:
        system.stop()


class IssuedApplicant(ApplicantSession):
    """A person of their own from the mocks' test-applicant desk (the same persona three times
    would meet the pre-screen's same-person rules), performing their liveness challenge."""

    def __init__(self, stack: Stack, folder: Path, serial: int) -> None:
        http = httpx.Client(base_url=stack.api_url, timeout=60)
        issue = f"{stack.mocks_url}/admin/v1/test-applicants"
        person = http.post(issue, json={"outcome": "approve", "serial": serial}).json()
        folder.mkdir(parents=True)
        for kind, data in person["documents"].items():
            (folder / f"{kind}.jpg").write_bytes(base64.b64decode(data))
        card = person["bank_card"]
        applicant = Applicant(person["full_name"], person["id_number"], person["phone"],
                              card["number"], card["bank_code"], folder)  # fmt: skip
        super().__init__(http, applicant)
        self.video_url = f"{issue}/{person['id_number']}/liveness-video"

    def liveness_video(self) -> bytes:
        windows = (self.challenge or {})["windows"]
        return self.http.post(self.video_url, json={"windows": windows}).content


def until_accepted(step: Callable[[], Any], seconds: float = 60) -> Any:
    """A step retried while the API answers 503, as a client honouring Retry-After does."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return step()
        except StepRefused as refused:
            if "503" not in str(refused) or time.monotonic() > deadline:
                raise
            time.sleep(1)


def finish(s: ApplicantSession) -> dict[str, Any]:
    """From wherever the application is to its end, as the app would drive it."""
    if not s.application_id:
        until_accepted(s.start)
    view = until_accepted(lambda: s.wait_for("AWAITING_DOCUMENTS", "VERIFYING_IDENTITY",
                                             "AWAITING_CARRIER_AUTH", timeout=120))  # fmt: skip
    if view["status"] == "AWAITING_DOCUMENTS":
        until_accepted(s.upload_all)
        until_accepted(s.submit_documents)
    until_accepted(lambda: s.wait_for("AWAITING_CARRIER_AUTH", timeout=300))
    until_accepted(s.authorize_carrier)
    offer = until_accepted(lambda: s.wait_for("OFFERED", timeout=180))
    assert offer["status"] == "OFFERED", (offer["status"], offer.get("reasons"))
    until_accepted(lambda: s.accept(amount=min(1_000_000, offer["offer"]["limit"]), term=12))
    until_accepted(lambda: s.wait_for("AWAITING_SIGNATURE", timeout=120))
    until_accepted(s.sign)
    return dict(until_accepted(lambda: s.wait_for("DISBURSED", timeout=240)))


def bearer(s: ApplicantSession) -> dict[str, str]:
    return {"Authorization": f"Bearer {s.token}"}


def stuck_count(stack: Stack) -> float:
    port = stack.extra_env["LOANFLOW_WORKER_METRICS_PORT"]
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    lines = [s for s in text.splitlines() if s.startswith("loanflow_store_step_stuck")]
    return sum(float(s.rsplit(" ", 1)[1]) for s in lines)


def test_a_database_outage_answers_503_and_every_application_finishes(
    stack: Stack, proxy: TcpProxy, direct_url: str, tmp_path: Path
) -> None:
    serials = random.Random(os.getpid()).sample(range(100, 4000), 3)
    in_flight, waiting, late = (IssuedApplicant(stack, tmp_path / str(n), n) for n in serials)
    in_flight.start()
    in_flight.wait_for("AWAITING_DOCUMENTS")
    in_flight.upload_all()
    waiting.start()
    waiting.wait_for("AWAITING_DOCUMENTS")
    waiting.upload_all()
    ops = ops_client(stack.api_url, "admin")
    in_flight.submit_documents()  # its next stages project into the store during the outage

    proxy.down()
    answers: Counter[int] = Counter()
    started_late = False
    deadline = time.monotonic() + OUTAGE_SECONDS
    try:
        while time.monotonic() < deadline:
            # The applicant's status is read live from the workflow on the token alone.
            status = in_flight.http.get(f"/v1/applications/{in_flight.application_id}",
                                        headers=bearer(in_flight))  # fmt: skip
            assert status.status_code == 200, status.text
            assert status.json()["application_id"] == in_flight.application_id
            answers[status.status_code] += 1
            probes = [
                ops.get("/v1/ops/reviews"),
                ops.get(f"/v1/ops/applications/{in_flight.application_id}"),
                waiting.http.post(f"/v1/applications/{waiting.application_id}/documents/submit",
                                  headers=bearer(waiting),
                                  json={"full_name": waiting.applicant.name,
                                        "id_number": waiting.applicant.id_number}),
            ]  # fmt: skip
            if not started_late:
                try:
                    late.start()  # the workflow records it once the store is back
                    started_late = True
                except StepRefused as refused:
                    assert "503" in str(refused), refused
            for response in probes:
                answers[response.status_code] += 1
                assert response.status_code == 503, (response.request.url, response.text)
                assert response.json()["code"] == "unavailable"
                assert int(response.headers["retry-after"]) > 0
            time.sleep(1)
    finally:
        proxy.up()
        ops.close()
    print(f"outage {OUTAGE_SECONDS:.0f} s: answers {dict(answers)}, late start {started_late}")
    assert answers[503] >= 3 * 10 and answers[200] >= 10

    stuck = stuck_count(stack)
    assert stuck >= 1, "no store step was counted as stuck through the outage"
    back = time.monotonic()
    with ThreadPoolExecutor(3) as pool:
        finals = list(pool.map(finish, (in_flight, waiting, late)))
    assert [f["status"] for f in finals] == ["DISBURSED"] * 3, finals
    print(f"stuck store attempts counted {stuck:.0f}; all disbursed {time.monotonic() - back:.0f} s"
          " after the database came back")  # fmt: skip
    stack.check_alive()

    ids = [s.application_id for s in (in_flight, waiting, late)]
    engine = make_engine(direct_url)
    try:
        with Session(engine) as db:
            rows = db.exec(select(Application).where(col(Application.id).in_(ids))).all()
            paid = db.exec(
                select(Disbursement).where(col(Disbursement.application_id).in_(ids))
            ).all()
    finally:
        engine.dispose()
    assert sorted((r.id, r.status) for r in rows) == sorted((i, "DISBURSED") for i in ids)
    assert sorted((d.application_id, d.status) for d in paid) == sorted(
        (i, "SUCCEEDED") for i in ids
    )
    for app_id in ids:
        orders = gateway_orders(stack, app_id)
        assert [(o["status"], o["succeeded_attempts"]) for o in orders] == [("SUCCEEDED", 1)]
    for s in (in_flight, waiting, late):
        s.http.close()
