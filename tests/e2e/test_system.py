"""The real processes — Temporal dev server, both workers, mocks and API, each its own process —
driven over HTTP as the frontend and an ops reviewer would."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import SQLModel

from api.security import applicant_token
from config.settings import DEV_SECRET, Settings
from devtools.applicant import Applicant, ApplicantSession, StepRefused, ops_client
from devtools.stack import Ports, Stack
from mocks.personas import DEMO_APPROVE, DEMO_REVIEW
from store.blob_crypto import MAGIC, BlobDecryptionError, EncryptedBlobStore
from store.blobs import LocalBlobStore
from store.db import make_engine

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[Stack]:
    system = Stack(
        data_dir=tmp_path_factory.mktemp("stack"),
        ports=Ports.free(),
        ui=False,
        extra_env={"DATABASE_URL": database_url},
    )
    try:
        system.start()
        yield system
    finally:
        system.stop()


@pytest.fixture
def http(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.api_url, timeout=60) as client:
        yield client


def fresh_phone() -> str:
    return f"136{uuid.uuid4().int % 10**7:07d}8"


def applicant(persona=DEMO_APPROVE, samples: str = "approve") -> Applicant:
    return Applicant.from_persona(persona, samples, phone=fresh_phone())


def to_offer(session: ApplicantSession) -> dict:
    session.start()
    session.wait_for("AWAITING_DOCUMENTS")
    session.upload_all()
    session.submit_documents()
    session.wait_for("AWAITING_CARRIER_AUTH", timeout=300)
    session.authorize_carrier()
    return session.wait_for("OFFERED", "MANUAL_REVIEW", timeout=120)


def sign_and_wait(session: ApplicantSession, offer: dict) -> dict:
    session.accept(amount=min(1_000_000, offer["limit"]), term=12)
    session.wait_for("AWAITING_SIGNATURE")
    session.sign()
    return session.wait_for("DISBURSED", timeout=180)


def gateway_orders(stack: Stack, application_id: str) -> list[dict]:
    orders = httpx.get(f"{stack.mocks_url}/admin/v1/payouts", timeout=10).json()
    rows = orders["orders"] if isinstance(orders, dict) else orders
    return [o for o in rows if o["idempotency_key"] == f"payout-{application_id}"]


def workflow_list(stack: Stack, query: str) -> list[dict]:
    out = subprocess.run(
        [str(BIN / "temporal"), "workflow", "list", "--address", stack.temporal_address,
         "--query", query, "--output", "json"],
        capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    text = out.stdout.strip()
    if not text:
        return []
    return (
        json.loads(text)
        if text.startswith("[")
        else [json.loads(line) for line in text.splitlines()]
    )


def test_an_approved_applicant_is_paid_out_once(
    stack: Stack, http: httpx.Client, database_url: str
) -> None:
    session = ApplicantSession(http, applicant())
    view = to_offer(session)
    assert view["status"] == "OFFERED", view
    final = sign_and_wait(session, view["offer"])
    assert final["status"] == "DISBURSED", final
    assert session.contract().startswith(b"%PDF")
    orders = gateway_orders(stack, session.application_id)
    assert [(o["status"], o["succeeded_attempts"]) for o in orders] == [("SUCCEEDED", 1)]
    listed = workflow_list(
        stack,
        f"ApplicationStatus='DISBURSED' AND WorkflowId='loan-application-{session.application_id}'",
    )
    assert len(listed) == 1
    stack.check_alive()
    person = session.applicant
    secrets = [person.id_number, person.phone, person.card_number, person.name]
    history = subprocess.run(
        [str(BIN / "temporal"), "workflow", "show", "--address", stack.temporal_address,
         "--workflow-id", f"loan-application-{session.application_id}", "--output", "json"],
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout  # fmt: skip
    payloads = list(_payloads(json.loads(history)))
    bookkeeping = list(_payloads(json.loads(history), sdk_markers=True))
    assert payloads and all(enc == b"binary/encrypted" for enc, _ in payloads)
    assert {enc for enc, _ in bookkeeping} <= {b"json/plain"}
    clear = b"".join(data for _, data in payloads + bookkeeping)
    assert not [s for s in secrets if s.encode() in clear], "PII in clear in Temporal history"
    for name in ("api", "worker", "vision-worker", "mocks"):
        log = stack.log(name)
        assert not [s for s in secrets if s in log], f"PII in the {name} log"
    assert_no_pii_at_rest(stack, database_url, session.application_id, secrets)


def assert_no_pii_at_rest(
    stack: Stack, database_url: str, application_id: str, secrets: list[str]
) -> None:
    """Every row of the store and every blob file, as bytes on disk: no secret in clear. The
    blobs open only with the configured key."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            for table in SQLModel.metadata.sorted_tables:
                rows = " ".join(str(tuple(r)) for r in conn.execute(table.select()))
                assert not [s for s in secrets if s in rows], f"PII in clear in {table.name}"
    finally:
        engine.dispose()
    settings = Settings(data_dir=stack.data_dir)
    files = [p for p in settings.resolved_blob_dir.rglob("*") if p.is_file()]
    assert any(application_id in str(p) for p in files)
    forms = [f.encode() for s in secrets for f in (s, s.encode().hex())] + [
        s.encode("utf-16-be") for s in secrets
    ]
    for path in files:
        raw = path.read_bytes()
        assert raw.startswith(MAGIC), f"{path} is not encrypted"
        assert not [f for f in forms if f in raw], f"PII in clear in {path}"
    root = settings.resolved_blob_dir
    key = str(next(p for p in files if "contract" in str(p)).relative_to(root))
    keyed = EncryptedBlobStore(LocalBlobStore(root), settings.blob_keys, settings.blob_key_id)
    assert keyed.get(key).startswith(b"%PDF")
    stranger = EncryptedBlobStore(LocalBlobStore(root), {"dev-1": bytes(32)}, "dev-1")
    with pytest.raises(BlobDecryptionError):
        stranger.get(key)


def _payloads(node: object, sdk_markers: bool = False) -> Iterator[tuple[bytes, bytes]]:
    """Every payload in a history as the CLI prints it: (encoding, data), base64-decoded.
    Search attributes are skipped: they are indexed by the server, so never encrypted, and hold
    statuses and amounts only. The SDK's own bookkeeping in its markers (a local activity
    marker's `data`: activity type, attempt, times, while its `result` is encrypted; a patch
    marker's id) does not pass through the codec: it is left out, or with `sdk_markers` it is
    all that is returned."""
    if isinstance(node, dict):
        node = {k: v for k, v in node.items() if k != "searchAttributes"}
        details = node.get("details")
        if "markerName" in node and isinstance(details, dict):
            sdk = {k: v for k, v in details.items() if k in SDK_MARKER_DETAILS}
            data = {k: v for k, v in details.items() if k not in SDK_MARKER_DETAILS}
            yield from _payloads(sdk if sdk_markers else data)
            return
        metadata = node.get("metadata")
        if isinstance(metadata, dict) and "encoding" in metadata:
            if not sdk_markers:
                yield base64.b64decode(metadata["encoding"]), base64.b64decode(node.get("data", ""))
            return
        for value in node.values():
            yield from _payloads(value, sdk_markers)
    elif isinstance(node, list):
        for value in node:
            yield from _payloads(value, sdk_markers)


SDK_MARKER_DETAILS = {"data", "patch-data"}


def test_a_grey_zone_applicant_is_resolved_through_the_ops_api(
    stack: Stack, http: httpx.Client
) -> None:
    session = ApplicantSession(http, applicant(DEMO_REVIEW, "review"))
    view = to_offer(session)
    assert view["status"] == "MANUAL_REVIEW", view
    app_id = session.application_id
    waiting = workflow_list(
        stack, f"ReviewQueue='GREY_ZONE' AND WorkflowId='loan-application-{app_id}'"
    )
    assert len(waiting) == 1
    with ops_client(stack.api_url, "reviewer") as ops:
        queue = ops.get("/v1/ops/reviews").json()
        rows = queue["items"] if isinstance(queue, dict) else queue
        assert app_id in {row["id"] for row in rows}
        evidence = ops.get(f"/v1/ops/applications/{app_id}").json()
        assert evidence
        response = ops.post(
            f"/v1/ops/reviews/{app_id}",
            json={"outcome": "APPROVE", "approved_limit": 800_000},
        )
        assert response.status_code == 200, response.text
    offered = session.wait_for("OFFERED")
    assert offered["offer"]["limit"] == 800_000
    final = sign_and_wait(session, offered["offer"])
    assert final["status"] == "DISBURSED"


def test_a_worker_killed_mid_payout_finishes_with_one_disbursement(
    stack: Stack, http: httpx.Client
) -> None:
    httpx.patch(
        f"{stack.mocks_url}/admin/v1/gateway", json={"settle_delay_seconds": 4.0}, timeout=10
    )
    try:
        session = ApplicantSession(http, applicant())
        view = to_offer(session)
        session.accept(amount=min(1_000_000, view["offer"]["limit"]), term=12)
        session.wait_for("AWAITING_SIGNATURE")
        session.sign()
        session.wait_for("DISBURSING", timeout=60)
        stack.kill("worker")
        time.sleep(1)
        stack.start("worker")
        final = session.wait_for("DISBURSED", timeout=180)
    finally:
        httpx.patch(
            f"{stack.mocks_url}/admin/v1/gateway", json={"settle_delay_seconds": 0.3}, timeout=10
        )
    assert final["status"] == "DISBURSED"
    orders = gateway_orders(stack, session.application_id)
    assert [(o["status"], o["succeeded_attempts"]) for o in orders] == [("SUCCEEDED", 1)]


def test_bad_input_gets_clear_errors(stack: Stack, http: httpx.Client) -> None:
    unknown = "app_does_not_exist"
    token = applicant_token(DEV_SECRET, unknown)
    missing = http.get(f"/v1/applications/{unknown}", headers={"Authorization": f"Bearer {token}"})
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    with ops_client(stack.api_url, "reviewer") as ops:
        assert ops.get(f"/v1/ops/applications/{unknown}").status_code == 404
    forged = http.get(f"/v1/applications/{unknown}", headers={"Authorization": "Bearer x"})
    assert forged.status_code == 401
    session = ApplicantSession(http, applicant())
    request_id = str(uuid.uuid4())
    first = session.start(request_id=request_id)
    again = session.start(request_id=request_id)
    assert again["application_id"] == first["application_id"]
    session.wait_for("AWAITING_DOCUMENTS")
    with pytest.raises(StepRefused) as wrong_stage:
        session.accept(amount=500_000, term=12)
    assert wrong_stage.value.response.status_code == 409
    assert "AWAITING_DOCUMENTS" in wrong_stage.value.response.text
    auth = {"Authorization": f"Bearer {session.token}"}
    path = f"/v1/applications/{session.application_id}/documents"
    not_image = http.put(
        f"{path}/selfie", files={"file": ("a.jpg", b"not an image", "image/jpeg")}, headers=auth
    )
    assert 400 <= not_image.status_code < 500
    big = b"\xff\xd8\xff" + b"0" * (9 * 1024 * 1024)
    too_large = http.put(
        f"{path}/selfie", files={"file": ("b.jpg", big, "image/jpeg")}, headers=auth
    )
    assert too_large.status_code == 413
    withdrawn = http.post(
        f"/v1/applications/{session.application_id}/withdraw", json={}, headers=auth
    )
    assert withdrawn.status_code < 300
    assert session.wait_for("CANCELLED")["status"] == "CANCELLED"
