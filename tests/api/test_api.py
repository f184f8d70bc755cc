"""The HTTP API over a real Temporal dev server, with small stand-in workflows registered under
the real names: they answer the `status` query and refuse updates in the wrong stage the way the
real workflow does, so these tests prove the API's side of the contract (status codes, error
bodies, idempotent start, uploads, signatures, codec) without the whole flow behind it."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import json
import os
import struct
import sys
import time
import uuid
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from PIL import Image
from temporalio import workflow
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from api.main import create_app
from api.ops_users import DEV_PASSWORD
from api.security import applicant_token
from config.settings import Settings
from config.temporal import data_converter
from devtools.stack import DEV_SERVER_TUNING
from domain.application import Consents, Device, StartApplicationInput, WithdrawInput
from domain.carrier import CarrierCodeInput
from domain.contract import SignContractInput, SignContractResult
from domain.decision import Offer, ReviewInput, ReviewResult
from domain.enums import ApplicationStatus, DocumentKind, LivenessAction, NextAction, PayoutStatus
from domain.identity import ActionWindow, LivenessChallenge, SubmitDocumentsInput
from domain.naming import (
    APPLICATION_TASK_QUEUE,
    ErrorType,
    QueryName,
    SearchAttributeName,
    SignalName,
    UpdateName,
    WorkflowName,
    application_workflow_id,
    payout_workflow_id,
)
from domain.offer import AcceptOfferInput, AcceptOfferResult
from domain.payout import DisbursementRecord, GatewayOrder, NewBankCardInput, PaymentNotification
from domain.products import PRODUCTS
from domain.signing import signed_headers
from domain.status import ApplicationView, ProjectionInput
from store import queries
from store.blob_crypto import MAGIC
from store.blobs import CHUNK
from store.migrations import upgrade

GOOD_OTP = "123456"
SEALED = b"%PDF-1.7 sealed contract"


def _wrong_stage(status: ApplicationStatus) -> ApplicationError:
    return ApplicationError(
        f"not accepted in stage {status}",
        str(status),
        type=ErrorType.WRONG_STAGE,
        non_retryable=True,
    )


@workflow.defn(name=WorkflowName.APPLICATION)
class StandInApplication:
    @workflow.init
    def __init__(self, inp: StartApplicationInput) -> None:
        self.inp, self.status = inp, ApplicationStatus.AWAITING_DOCUMENTS
        self.offer: Offer | None = None
        self.sealed_key: str | None = None
        self.esign_left = 3
        self.challenge = LivenessChallenge(
            nonce=str(workflow.uuid4()),
            windows=[ActionWindow(action=LivenessAction.BLINK, start_s=0, end_s=2.5)],
        )

    @workflow.run
    async def run(self, inp: StartApplicationInput) -> ApplicationStatus:
        await workflow.wait_condition(lambda: self.status.is_terminal)
        return self.status

    @workflow.query(name=QueryName.STATUS)
    def view(self) -> ApplicationView:
        return ApplicationView(
            application_id=self.inp.application_id,
            status=self.status,
            next_action=NextAction.UPLOAD_DOCUMENTS,
            liveness_challenge=self.challenge,
            offer=self.offer,
            signed_contract_key=self.sealed_key,
            history=["SUBMITTED"],
            review_queue="GREY_ZONE",
        )

    def _require(self, *statuses: ApplicationStatus) -> None:
        if self.status not in statuses:
            raise _wrong_stage(self.status)

    @workflow.update(name=UpdateName.SUBMIT_DOCUMENTS)
    def submit_documents(self, inp: SubmitDocumentsInput) -> ApplicationView:
        self.status = ApplicationStatus.OFFERED
        self.offer = Offer(
            limit=1_000_000,
            min_amount=50_000,
            terms=[6, 12],
            annual_rate=0.18,
            monthly_fee_rate=0.0,
            apr_cap=0.24,
            grade="C",
        )
        return self.view()

    @submit_documents.validator
    def _check_documents(self, inp: SubmitDocumentsInput) -> None:
        self._require(ApplicationStatus.AWAITING_DOCUMENTS)
        if len({d.kind for d in inp.documents}) != 4:
            raise ApplicationError("four documents", type=ErrorType.INVALID_INPUT)

    @workflow.update(name=UpdateName.SIGN_CONTRACT)
    def sign_contract(self, inp: SignContractInput) -> SignContractResult:
        if inp.otp != GOOD_OTP:
            self.esign_left -= 1
            return SignContractResult(signed=False, attempts_left=self.esign_left, detail="otp")
        self.sealed_key = f"contracts/{self.inp.application_id}/sealed.pdf"
        return SignContractResult(signed=True, attempts_left=self.esign_left)

    @sign_contract.validator
    def _check_sign(self, inp: SignContractInput) -> None:
        self._require(ApplicationStatus.OFFERED)

    @workflow.update(name=UpdateName.ACCEPT_OFFER)
    def accept_offer(self, inp: AcceptOfferInput) -> AcceptOfferResult:
        if inp.bank_card.bank_code == "REFUSING":
            return AcceptOfferResult(accepted=False, detail="card refused")
        return AcceptOfferResult(accepted=True)

    @accept_offer.validator
    def _check_accept(self, inp: AcceptOfferInput) -> None:
        self._require(ApplicationStatus.OFFERED)
        assert self.offer is not None
        if inp.amount > self.offer.limit:
            raise ApplicationError("amount above the limit", type=ErrorType.INVALID_INPUT)

    @workflow.update(name=UpdateName.RECORD_REVIEW)
    def record_review(self, inp: ReviewInput) -> ReviewResult:
        return ReviewResult(status=self.status)

    @record_review.validator
    def _check_review(self, inp: ReviewInput) -> None:
        self._require(ApplicationStatus.MANUAL_REVIEW)

    @workflow.update(name=UpdateName.WITHDRAW)
    def withdraw(self, inp: WithdrawInput) -> ApplicationView:
        self.status = ApplicationStatus.CANCELLED
        return self.view()

    @workflow.update(name=UpdateName.REQUEST_CARRIER_SMS)
    def request_carrier_sms(self) -> None:
        raise AssertionError("the validator refuses every call in these tests")

    @request_carrier_sms.validator
    def _check_sms(self) -> None:
        self._require(ApplicationStatus.AWAITING_CARRIER_AUTH)

    @workflow.update(name=UpdateName.AUTHORIZE_CARRIER)
    def authorize_carrier(self, inp: CarrierCodeInput) -> None:
        raise AssertionError("the validator refuses every call in these tests")

    @authorize_carrier.validator
    def _check_carrier_code(self, inp: CarrierCodeInput) -> None:
        self._require(ApplicationStatus.AWAITING_CARRIER_AUTH)

    @workflow.update(name=UpdateName.PROVIDE_NEW_BANK_CARD)
    def provide_new_bank_card(self, inp: NewBankCardInput) -> None:
        raise AssertionError("the validator refuses every call in these tests")

    @provide_new_bank_card.validator
    def _check_new_card(self, inp: NewBankCardInput) -> None:
        self._require(ApplicationStatus.DISBURSING)


@workflow.defn(name=WorkflowName.PAYOUT)
class StandInPayout:
    def __init__(self) -> None:
        self.notifications: list[PaymentNotification] = []

    @workflow.run
    async def run(self, application_id: str) -> list[str]:
        await workflow.wait_condition(lambda: bool(self.notifications))
        return [n.order_id for n in self.notifications]

    @workflow.signal(name=SignalName.PAYMENT_NOTIFICATION)
    def payment_notification(self, notification: PaymentNotification) -> None:
        self.notifications.append(notification)


def make_settings(data_dir: Path, database_url: str, **overrides: object) -> Settings:
    return Settings(
        **(
            {
                "environment": "test",
                "data_dir": data_dir,
                "database_url": database_url,
                "token_secret": "test-token-secret",
                "payment_callback_secret": "test-callback-secret",
                "max_image_bytes": 256 * 1024,
                "max_video_bytes": 512 * 1024,
                "max_image_pixels": 4_000_000,
                # Most tests start from the same phone and device.
                "rate_limit_overrides": {"start-phone": 10_000, "start-device": 10_000},
            }
            | overrides
        )
    )


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Settings:
    return make_settings(tmp_path_factory.mktemp("data"), database_url)


@pytest.fixture(scope="module")
async def temporal(settings: Settings) -> AsyncIterator[Client]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
        search_attributes=[SearchAttributeKey.for_keyword(n) for n in SearchAttributeName.KEYWORDS]
        + [SearchAttributeKey.for_float(n) for n in SearchAttributeName.DOUBLES],
        data_converter=data_converter(settings),
        dev_server_extra_args=["--log-level", "error", *DEV_SERVER_TUNING],
    )
    async with Worker(
        env.client,
        task_queue=APPLICATION_TASK_QUEUE,
        workflows=[StandInApplication, StandInPayout],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        yield env.client
    await env.shutdown()


@pytest.fixture(scope="module")
async def api(settings: Settings, temporal: Client) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, temporal_client=temporal)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


async def sign_in(api: httpx.AsyncClient, username: str) -> dict[str, str]:
    """Bearer headers of a development ops user (one per role: reviewer, senior, admin,
    engineer)."""
    response = await api.post(
        "/v1/ops/sessions", json={"username": username, "password": DEV_PASSWORD}
    )
    assert response.status_code == 200, response.text
    api.cookies.clear()  # the session cookie would sign in every later request of this client
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def start_body(crid: str | None = None, phone: str = "13800138000", **overrides) -> dict:
    body = {
        "client_request_id": crid or uuid.uuid4().hex,
        "product_code": "CASH_STD",
        "phone": phone,
        "requested_amount": 300_000,
        "requested_term": 12,
        "device": {"fingerprint": "fp-0123456789", "ip": "10.0.0.8", "os": "iOS 18"},
        "consents": {"privacy_policy": True, "credit_inquiry": True, "carrier_data": True},
    }
    return body | overrides


async def start(api: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
    response = await api.post("/v1/applications", json=start_body())
    assert response.status_code == 201, response.text
    body = response.json()
    return body["application_id"], {"Authorization": f"Bearer {body['applicant_token']}"}


def png(width: int = 32, height: int = 24) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 180, 160)).save(out, "PNG")
    return out.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims the given size: what a decompression bomb looks like."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 2048


async def upload(api, app_id, auth, kind: str, data: bytes, name="f.bin") -> httpx.Response:
    return await api.put(
        f"/v1/applications/{app_id}/documents/{kind}",
        headers=auth,
        files={"file": (name, data, "application/octet-stream")},
    )


async def upload_all(api, app_id, auth) -> None:
    for kind in ("id_front", "id_back", "selfie"):
        assert (await upload(api, app_id, auth, kind, png())).status_code == 202
    assert (await upload(api, app_id, auth, "liveness_video", MP4)).status_code == 202


ID_BODY = {"full_name": "张三", "id_number": "11010519900307123X"}


async def seed_review(engine, app_id: str) -> int:
    """What the real workflow's projection would have stored for an application in review."""
    now = datetime.now(UTC)
    await queries.in_thread(
        engine,
        queries.register_application,
        StartApplicationInput(
            application_id=app_id,
            client_request_id="seeded",
            product=PRODUCTS["CASH_STD"],
            phone="13800138000",
            requested_amount=300_000,
            requested_term=12,
            device=Device(fingerprint="fp-0123456789", ip="10.0.0.8", os="iOS 18"),
            consents=Consents(privacy_policy=True, credit_inquiry=True, carrier_data=True),
            submitted_at=now,
        ),
    )
    await queries.in_thread(
        engine,
        queries.apply_projection,
        ProjectionInput(
            application_id=app_id,
            seq=7,
            status=ApplicationStatus.MANUAL_REVIEW,
            event="MANUAL_REVIEW",
            at=now,
            review_queue="GREY_ZONE",
        ),
    )
    return 7


async def test_start_is_idempotent_per_client_request_id(api, temporal: Client) -> None:
    body = start_body(phone="13912345678")
    first = await api.post("/v1/applications", json=body)
    again = await api.post("/v1/applications", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["application_id"] == again.json()["application_id"]
    for started in (first, again):
        token = {"Authorization": f"Bearer {started.json()['applicant_token']}"}
        app_path = f"/v1/applications/{started.json()['application_id']}"
        assert (await api.get(app_path, headers=token)).status_code == 200
    assert first.json()["status"] == "AWAITING_DOCUMENTS"
    assert first.json()["liveness_challenge"]["windows"][0]["action"] == "BLINK"
    workflow_id = application_workflow_id(first.json()["application_id"])
    runs = [w async for w in temporal.list_workflows(f"WorkflowId = '{workflow_id}'")]
    assert len(runs) == 1
    described = await temporal.get_workflow_handle(workflow_id).describe()
    attributes = described.typed_search_attributes
    assert attributes.get(SearchAttributeKey.for_keyword("ApplicationStatus")) == "SUBMITTED"
    assert attributes.get(SearchAttributeKey.for_float("RequestedAmount")) == 300_000.0
    other = await api.post("/v1/applications", json=start_body(phone="13912345679"))
    assert other.json()["application_id"] != first.json()["application_id"]


async def test_start_refuses_invalid_requests_with_reasons(api) -> None:
    body = start_body(
        product_code="CASH_SMALL",
        requested_amount=9_000_000,
        requested_term=24,
        consents={"privacy_policy": True, "credit_inquiry": False, "carrier_data": True},
    )
    response = await api.post("/v1/applications", json=body)
    assert response.status_code == 422 and response.json()["code"] == "invalid_request"
    fields = {tuple(p["loc"])[-1] for p in response.json()["errors"]}
    assert fields == {"requested_amount", "term_months", "consents"}
    for bad in (
        {"product_code": "GOLD"},
        {"phone": "2380013800"},
        {"device": {"fingerprint": "x", "ip": "1", "os": "a"}},
    ):
        response = await api.post("/v1/applications", json=start_body(**bad))
        assert response.status_code == 422 and response.json()["error"] == "invalid_request"
        assert "13800138000" not in response.text


async def test_auth_unknown_id_and_applicant_safe_view(api, settings: Settings) -> None:
    app_id, auth = await start(api)
    assert (await api.get(f"/v1/applications/{app_id}")).status_code == 401
    other_id, other_auth = await start(api)
    response = await api.get(f"/v1/applications/{app_id}", headers=other_auth)
    assert response.status_code == 401 and response.json()["error"] == "unauthorized"
    unknown = "app_" + "0" * 24
    token = applicant_token(settings.token_secret, unknown)
    response = await api.get(
        f"/v1/applications/{unknown}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 404 and response.json()["error"] == "not_found"
    view = (await api.get(f"/v1/applications/{app_id}", headers=auth)).json()
    assert view["status"] == "AWAITING_DOCUMENTS" and view["contract_available"] is False
    assert not {"signed_contract_key", "history", "review_queue"} & set(view)


async def test_uploads_are_checked_before_they_are_stored(api) -> None:
    app_id, auth = await start(api)
    accepted = await upload(api, app_id, auth, "selfie", png())
    assert accepted.status_code == 202
    assert accepted.json()["sha256"] == hashlib.sha256(png()).hexdigest()
    cases = [
        ("selfie", b"GIF89a not what we take", 415, "not_an_image"),
        ("id_front", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, 415, "not_an_image"),
        ("id_front", png_header(3000, 3000), 422, "image_too_large"),
        ("id_back", png_header(40_000, 40_000), 422, "image_too_large"),
        ("id_front", b"\xff\xd8\xff" + os.urandom(300 * 1024), 413, "too_large"),
        ("liveness_video", b"RIFF....AVI LIST" + b"\x00" * 100, 415, "not_a_video"),
        ("liveness_video", MP4 + b"\x00" * 2 * 1024 * 1024, 413, "too_large"),
    ]
    for kind, data, status, error in cases:
        response = await upload(api, app_id, auth, kind, data)
        assert (response.status_code, response.json()["error"]) == (status, error), kind
    assert (await upload(api, app_id, auth, "passport", png())).status_code == 422
    services = api.app.state.services
    refs = queries.in_session(services.engine, queries.document_refs, app_id)
    assert [k.value for k in refs] == ["selfie"]
    assert services.blobs.get(refs["selfie"].blob_key) == png()


async def test_a_large_video_streams_into_the_blob_store_encrypted(settings, temporal) -> None:
    roomy = settings.model_copy(update={"max_video_bytes": 8 * CHUNK})
    app = create_app(roomy, temporal_client=temporal)
    video = MP4 + os.urandom(5 * CHUNK)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            app_id, auth = await start(client)
            response = await upload(client, app_id, auth, "liveness_video", video)
        services = app.state.services
        assert response.status_code == 202, response.text
        assert (response.json()["sha256"], response.json()["size"]) == (
            hashlib.sha256(video).hexdigest(),
            len(video),
        )
        refs = queries.in_session(services.engine, queries.document_refs, app_id)
        key = refs[DocumentKind.LIVENESS_VIDEO].blob_key
        chunks = list(services.blobs.open_stream(key))
    assert len(chunks) == 6 and b"".join(chunks) == video
    raw = (settings.resolved_blob_dir / key).read_bytes()
    assert raw.startswith(MAGIC) and video[100:200] not in raw


async def test_submit_needs_every_document_then_the_stage_moves_on(api) -> None:
    app_id, auth = await start(api)
    await upload(api, app_id, auth, "id_front", png())
    submit = f"/v1/applications/{app_id}/documents/submit"
    response = await api.post(submit, headers=auth, json=ID_BODY)
    assert response.status_code == 422 and response.json()["error"] == "missing_documents"
    assert response.json()["missing"] == ["id_back", "selfie", "liveness_video"]
    await upload_all(api, app_id, auth)
    response = await api.post(submit, headers=auth, json=ID_BODY)
    assert response.status_code == 202 and response.json()["status"] == "OFFERED"
    again = await api.post(submit, headers=auth, json=ID_BODY)
    assert again.status_code == 409
    assert again.json() | {"detail": None} == {
        "code": "wrong_stage",
        "message": "not accepted in stage OFFERED",
        "error": "wrong_stage",
        "detail": None,
        "status": "OFFERED",
    }
    late = await upload(api, app_id, auth, "selfie", png())
    assert (late.status_code, late.json()["status"]) == (409, "OFFERED")
    sms = await api.post(f"/v1/applications/{app_id}/carrier/sms", headers=auth)
    assert (sms.status_code, sms.json()["status"]) == (409, "OFFERED")


async def test_contract_sign_withdraw_and_closed_application(api, settings: Settings) -> None:
    app_id, auth = await start(api)
    await upload_all(api, app_id, auth)
    await api.post(f"/v1/applications/{app_id}/documents/submit", headers=auth, json=ID_BODY)
    accept = f"/v1/applications/{app_id}/offer/accept"
    card = {"number": "6222020200112233445", "bank_code": "ICBC", "reserved_phone": "13800138000"}
    offer = {"amount": 600_000, "term_months": 6, "bank_card": card}
    too_much = await api.post(accept, headers=auth, json=offer | {"amount": 5_000_000})
    assert (too_much.status_code, too_much.json()["error"]) == (422, "invalid_input")
    refused_card = offer | {"bank_card": card | {"bank_code": "REFUSING"}}
    refused = await api.post(accept, headers=auth, json=refused_card)
    assert refused.status_code == 422
    assert (refused.json()["error"], refused.json()["detail"]) == (
        "offer_not_accepted",
        "card refused",
    )
    assert (await api.post(accept, headers=auth, json=offer)).status_code == 200
    contract = f"/v1/applications/{app_id}/contract"
    assert (await api.get(contract, headers=auth)).status_code == 404
    sign = f"/v1/applications/{app_id}/contract/sign"
    wrong = await api.post(sign, headers=auth, json={"otp": "000000"})
    assert wrong.status_code == 422
    assert (wrong.json()["error"], wrong.json()["attempts_left"]) == ("signature_rejected", 2)
    assert (await api.post(sign, headers=auth, json={"otp": GOOD_OTP})).status_code == 200
    # a contract of two encrypted chunks streams back whole; damage in its first chunk is
    # found before the answer starts: a 503, not a 200 cut short
    pdf = SEALED + os.urandom(CHUNK)
    api.app.state.services.blobs.write(f"contracts/{app_id}/sealed.pdf", pdf)
    response = await api.get(contract, headers=auth)
    assert response.status_code == 200 and response.content == pdf
    assert response.headers["content-type"] == "application/pdf"
    sealed = settings.resolved_blob_dir / "contracts" / app_id / "sealed.pdf"
    blob = bytearray(sealed.read_bytes())
    blob[200] ^= 1
    sealed.write_bytes(bytes(blob))
    damaged = await api.get(contract, headers=auth)
    assert (damaged.status_code, damaged.json()["code"]) == (503, "document_damaged")

    withdraw = f"/v1/applications/{app_id}/withdraw"
    response = await api.post(withdraw, headers=auth, json={"reason": "changed my mind"})
    assert response.status_code == 200 and response.json()["status"] == "CANCELLED"
    closed = await api.post(withdraw, headers=auth)
    assert closed.status_code == 409
    assert (closed.json()["error"], closed.json()["status"]) == ("closed", "CANCELLED")


async def test_quotes(api) -> None:
    response = await api.post(
        "/v1/quotes", json={"amount": 1_200_000, "term_months": 12, "annual_rate": 0.18}
    )
    assert response.status_code == 200
    schedule = response.json()
    assert sum(i["principal"] for i in schedule["installments"]) == 1_200_000
    assert abs(schedule["apr"] - 0.18) < 0.001
    above = await api.post(
        "/v1/quotes", json={"amount": 1_200_000, "term_months": 12, "annual_rate": 0.5}
    )
    assert (above.status_code, above.json()["error"]) == (422, "price_above_cap")
    assert (await api.post("/v1/quotes", json={"amount": 1, "term_months": 3})).status_code == 422

    app_id, auth = await start(api)
    offer_quote = {"application_id": app_id, "amount": 600_000, "term_months": 6}
    assert (await api.post("/v1/quotes", json=offer_quote, headers=auth)).status_code == 409
    await upload_all(api, app_id, auth)
    await api.post(f"/v1/applications/{app_id}/documents/submit", headers=auth, json=ID_BODY)
    assert (await api.post("/v1/quotes", json=offer_quote)).status_code == 401
    response = await api.post("/v1/quotes", json=offer_quote, headers=auth)
    assert response.status_code == 200 and response.json()["annual_rate"] == 0.18
    too_much = offer_quote | {"amount": 2_000_000}
    response = await api.post("/v1/quotes", json=too_much, headers=auth)
    assert (response.status_code, response.json()["error"]) == (422, "invalid_input")


async def test_ops_needs_a_sign_in_and_shows_queue_and_evidence(api, settings) -> None:
    ops = await sign_in(api, "admin")
    assert (await api.get("/v1/ops/reviews")).status_code == 401
    bad = {"Authorization": f"Bearer {applicant_token(settings.token_secret, 'x')}"}
    assert (await api.get("/v1/ops/reviews", headers=bad)).status_code == 401

    phone = "1" + str(uuid.uuid4().int)[:10]
    entry = {"kind": "phone", "value": phone, "reason": "confirmed fraud"}
    first = await api.post("/v1/ops/blacklist", headers=ops, json=entry)
    again = await api.post("/v1/ops/blacklist", headers=ops, json=entry)
    assert (first.status_code, first.json()["added"], again.json()["added"]) == (201, True, False)
    assert (await api.post("/v1/ops/blacklist", json=entry)).status_code == 401

    app_id, _ = await start(api)
    seeded = await seed_review(api.app.state.services.engine, app_id)
    queue = await api.get("/v1/ops/reviews", headers=ops, params={"queue": "GREY_ZONE"})
    assert queue.status_code == 200 and app_id in [r["id"] for r in queue.json()]
    evidence = await api.get(f"/v1/ops/applications/{app_id}", headers=ops)
    assert evidence.status_code == 200
    body = evidence.json()
    assert body["application"]["status"] == "MANUAL_REVIEW" and body["live"]["status"]
    assert [e["seq"] for e in body["audit"]] == [seeded]
    assert (await api.get("/v1/ops/applications/app_nothing", headers=ops)).status_code == 404
    review = {"outcome": "APPROVE"}
    refused = await api.post(f"/v1/ops/reviews/{app_id}", headers=ops, json=review)
    assert (refused.status_code, refused.json()["status"]) == (409, "AWAITING_DOCUMENTS")
    missing = await api.post("/v1/ops/reviews/app_nothing", headers=ops, json=review)
    assert missing.status_code == 404


def signed(body: bytes, secret: str, at: float | None = None) -> dict[str, str]:
    """The gateway's headers: a fresh nonce, the timestamp `at` (default now) and the
    signature over both and the body."""
    timestamp = int(time.time() if at is None else at)
    return {**signed_headers(secret, body, timestamp, uuid.uuid4().hex),
            "Content-Type": "application/json"}  # fmt: skip


async def test_payment_callback_verifies_the_signature_then_signals(api, settings, temporal):
    app_id = f"app_{uuid.uuid4().hex[:24]}"
    payout = await temporal.start_workflow(
        WorkflowName.PAYOUT,
        app_id,
        id=payout_workflow_id(app_id),
        task_queue=APPLICATION_TASK_QUEUE,
    )
    body = json.dumps(
        {
            "order_id": "ord-1",
            "idempotency_key": f"payout-{app_id}",
            "status": "SUCCEEDED",
            "channel": "UNIONPAY",
        }
    ).encode()
    url = "/v1/callbacks/payments"
    forged = await api.post(url, content=body, headers=signed(body, "not-the-secret"))
    assert (forged.status_code, forged.json()["error"]) == (401, "bad_signature")
    unsigned = await api.post(url, content=body, headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401
    good = await api.post(url, content=body, headers=signed(body, settings.payment_callback_secret))
    assert (good.status_code, good.json()) == (200, {"status": "accepted"})
    assert await payout.result() == ["ord-1"]
    # The payout has finished: the gateway's retry is acknowledged so that it stops.
    late = await api.post(url, content=body, headers=signed(body, settings.payment_callback_secret))
    assert (late.status_code, late.json()) == (200, {"status": "ignored"})
    junk = b'{"order_id": "x"}'
    secret = settings.payment_callback_secret
    response = await api.post(url, content=junk, headers=signed(junk, secret))
    assert response.status_code == 422


async def test_a_return_after_the_payout_finished_is_recorded_for_ops(api, settings, engine):
    app_id = f"app_{uuid.uuid4().hex[:24]}"
    key = f"payout-{app_id}"
    record = DisbursementRecord(application_id=app_id, idempotency_key=key, order_id="ord-9",
                                amount=100_000, channel="NUCC", card_last4="8888",
                                status=PayoutStatus.SUCCEEDED)  # fmt: skip
    queries.in_session(engine, queries.record_disbursement, record)
    body = json.dumps({"order_id": "ord-9", "idempotency_key": key,
                       "status": "RETURNED", "channel": "NUCC"}).encode()  # fmt: skip
    secret = settings.payment_callback_secret
    url = "/v1/callbacks/payments"
    services = api.app.state.services
    gateway_says = GatewayOrder(order_id="ord-9", idempotency_key=key,
                                status=PayoutStatus.SUCCEEDED, channel="NUCC")  # fmt: skip

    class GatewayOrders:
        async def query(self, idempotency_key: str) -> GatewayOrder | None:
            return gateway_says if idempotency_key == key else None

    api.app.state.services = dataclasses.replace(services, payments=GatewayOrders())
    try:
        # A signed RETURNED the gateway's own order does not confirm changes nothing.
        response = await api.post(url, content=body, headers=signed(body, secret))
        assert (response.status_code, response.json()) == (200, {"status": "ignored"})
        row = queries.in_session(engine, queries.get_disbursement, app_id)
        assert row is not None and row.status == "SUCCEEDED"
        gateway_says = gateway_says.model_copy(update={"status": PayoutStatus.RETURNED})
        response = await api.post(url, content=body, headers=signed(body, secret))
        assert (response.status_code, response.json()) == (200, {"status": "recorded"})
        row = queries.in_session(engine, queries.get_disbursement, app_id)
        assert row is not None and row.status == "RETURNED"
        again = await api.post(url, content=body, headers=signed(body, secret))
        assert again.json() == {"status": "ignored"}
    finally:
        api.app.state.services = services


async def test_junk_callbacks_are_refused(api, settings) -> None:
    url = "/v1/callbacks/payments"
    junk = b'{"order_id": "x"}'
    secret = settings.payment_callback_secret
    response = await api.post(url, content=junk, headers=signed(junk, secret))
    assert response.status_code == 422


def payload(data: bytes, encoding: bytes = b"json/plain") -> dict:
    return {
        "metadata": {"encoding": base64.b64encode(encoding).decode()},
        "data": base64.b64encode(data).decode(),
    }


async def test_codec_round_trip_and_cors(api) -> None:
    plain = [payload(b'{"phone": "13800138000"}'), payload(b"", b"binary/null")]
    api.headers.update(await sign_in(api, "engineer"))
    try:
        await _codec_round_trip(api, plain)
    finally:
        del api.headers["Authorization"]


async def _codec_round_trip(api, plain: list[dict]) -> None:
    encoded = await api.post("/codec/encode", json={"payloads": plain})
    assert encoded.status_code == 200
    sealed = encoded.json()["payloads"]
    assert {base64.b64decode(p["metadata"]["encoding"]) for p in sealed} == {b"binary/encrypted"}
    assert b"13800138000" not in base64.b64decode(sealed[0]["data"])
    decoded = await api.post("/codec/decode", json={"payloads": sealed})
    assert decoded.status_code == 200 and decoded.json()["payloads"] == plain
    tampered = sealed[0] | {"data": base64.b64encode(b"\x00" * 40).decode()}
    response = await api.post("/codec/decode", json={"payloads": [tampered]})
    assert (response.status_code, response.json()["error"]) == (422, "codec_error")
    response = await api.post("/codec/decode", json={"payloads": [{"data": "***"}]})
    assert response.status_code == 422
    # What the `temporal` CLI sends when there is nothing to encode: `{}`, or no body at all.
    for empty in ({"json": {}}, {"content": b""}):
        response = await api.post("/codec/encode", **empty)
        assert (response.status_code, response.json()) == (200, {"payloads": []})

    preflight = await api.options(
        "/codec/decode",
        headers={
            "Origin": "http://localhost:8233",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-namespace",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "http://localhost:8233"
    stranger = await api.options(
        "/codec/decode",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in stranger.headers


async def test_codec_requires_an_engineer_sign_in_unless_explicitly_opted_out(
    api, tmp_path, temporal
) -> None:
    body = {"payloads": [payload(b"{}")]}
    assert (await api.post("/codec/encode", json=body)).status_code == 401
    reviewer = await api.post("/codec/decode", json=body, headers=await sign_in(api, "reviewer"))
    assert (reviewer.status_code, reviewer.json()["error"]) == (403, "forbidden")
    for role in ("engineer", "admin"):
        ok = await api.post("/codec/encode", json=body, headers=await sign_in(api, role))
        assert ok.status_code == 200, role
    demo_db = f"sqlite:///{tmp_path / 'demo.db'}"
    upgrade(demo_db)
    settings = make_settings(tmp_path, demo_db, codec_requires_sign_in=False)
    app = create_app(settings, temporal_client=temporal)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            assert (await client.post("/codec/encode", json=body)).status_code == 200


async def test_stale_replayed_and_unsigned_callbacks_are_refused(api, settings) -> None:
    url, secret = "/v1/callbacks/payments", settings.payment_callback_secret
    body = json.dumps({"order_id": "ord-r", "idempotency_key": "payout-app_replay",
                       "status": "SUCCEEDED", "channel": "UNIONPAY"}).encode()  # fmt: skip
    headers = signed(body, secret)
    first = await api.post(url, content=body, headers=headers)
    assert (first.status_code, first.json()) == (200, {"status": "ignored"})
    replayed = await api.post(url, content=body, headers=headers)
    assert (replayed.status_code, replayed.json()["error"]) == (401, "bad_signature")
    stale = await api.post(url, content=body, headers=signed(body, secret, time.time() - 301))
    assert (stale.status_code, stale.json()["detail"]) == (401, "the callback is stale")
    future = await api.post(url, content=body, headers=signed(body, secret, time.time() + 301))
    assert future.status_code == 401
    moved = headers | {"X-Timestamp": str(int(time.time()) + 1)}
    assert (await api.post(url, content=body, headers=moved)).status_code == 401
    no_nonce = {k: v for k, v in signed(body, secret).items() if k != "X-Nonce"}
    assert (await api.post(url, content=body, headers=no_nonce)).status_code == 401
