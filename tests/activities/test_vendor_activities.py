"""The vendor activities under ActivityEnvironment, with the simulators behind the real vendor
clients (httpx's ASGITransport), the blob store in tmp_path and the store on SQLite."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from io import BytesIO

import httpx
import pytest
from fastapi import FastAPI
from reportlab.pdfgen import canvas
from sqlalchemy import Engine
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.bankcard import BankCardActivities
from activities.bureau import BureauActivities
from activities.carrier import CarrierActivities
from activities.esign import EsignActivities, page_count
from activities.identity import IdentityActivities
from activities.payout import PayoutActivities
from domain.carrier import CarrierAuthorizeInput, CarrierReportInput, CarrierSmsInput
from domain.contract import ContractDocument, EsignEnvelopeInput, EsignSignInput
from domain.decision import BureauInput
from domain.enums import DocumentKind, PayoutStatus
from domain.identity import Applicant, IdentityCheckInput
from domain.naming import ErrorType, payout_idempotency_key
from domain.offer import BankCard, BankCardCheckInput
from domain.payout import DisbursementRecord, QueryPayoutInput, RouteInput, SubmitPayoutInput
from mocks.app import create_app
from mocks.personas import DEMO_APPROVE, DEMO_REVIEW, id_number_in_bucket, make_card_number
from mocks.settings import MockSettings
from store import queries
from store.blobs import LocalBlobStore
from vendors.bankcard import BankCardClient
from vendors.bureau import BureauClient
from vendors.carrier import CarrierClient
from vendors.esign import EsignClient
from vendors.gateway import PaymentGatewayClient
from vendors.identity import IdentityClient

BASE = "http://mocks.test"
APP_ID = "app-0001"


@pytest.fixture
async def mocks() -> AsyncIterator[FastAPI]:
    app = create_app(
        MockSettings(settle_delay_seconds=0.05),
        callback_transport=httpx.MockTransport(lambda _: httpx.Response(204)),
    )
    yield app
    await app.state.mocks.aclose()


@pytest.fixture
async def http(mocks: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=mocks)) as client:
        yield client


@pytest.fixture
def env() -> ActivityEnvironment:
    return ActivityEnvironment()


def down_vendor() -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.MockTransport(lambda _: httpx.Response(503, json={"error": "BUSY"}))
    )


def contract_pdf(pages: int) -> bytes:
    buffer = BytesIO()
    doc = canvas.Canvas(buffer)
    for page in range(pages):
        doc.drawString(72, 720, f"contract page {page + 1}")
        doc.showPage()
    doc.save()
    return buffer.getvalue()


# ---------------------------------------------------------------- identity


async def test_identity_match_keeps_the_reference_portrait(
    env: ActivityEnvironment, http: httpx.AsyncClient, blobs: LocalBlobStore
) -> None:
    acts = IdentityActivities(IdentityClient(BASE, client=http), blobs)
    result = await env.run(
        acts.verify,
        IdentityCheckInput(
            application_id=APP_ID,
            applicant=Applicant(
                full_name=DEMO_APPROVE.name, id_number=DEMO_APPROVE.id_number, phone="13800138000"
            ),
        ),
    )
    assert result.matched
    ref = result.reference_portrait
    assert ref is not None and ref.kind is DocumentKind.REFERENCE_PORTRAIT
    assert ref.blob_key.startswith(f"documents/{APP_ID}/reference_portrait/")
    assert blobs.get(ref.blob_key) == DEMO_APPROVE.portrait_bytes()
    assert ref.size == len(DEMO_APPROVE.portrait_bytes()) and ref.content_type == "image/jpeg"


async def test_identity_mismatch_and_no_record_are_results(
    env: ActivityEnvironment, http: httpx.AsyncClient, blobs: LocalBlobStore
) -> None:
    acts = IdentityActivities(IdentityClient(BASE, client=http), blobs)
    mismatch = await env.run(
        acts.verify,
        IdentityCheckInput(
            application_id=APP_ID,
            applicant=Applicant(
                full_name="冒名", id_number=DEMO_REVIEW.id_number, phone="13800138000"
            ),
        ),
    )
    unknown = await env.run(
        acts.verify,
        IdentityCheckInput(
            application_id=APP_ID,
            applicant=Applicant(
                full_name="冒名", id_number=id_number_in_bucket(8), phone="13800138000"
            ),
        ),
    )
    assert (mismatch.matched, mismatch.detail) == (False, "MISMATCH")
    assert (unknown.matched, unknown.detail) == (False, "NO_RECORD")
    assert mismatch.reference_portrait is None
    assert not (blobs.root / "documents").exists()


async def test_identity_rejected_and_unavailable_vendor(
    env: ActivityEnvironment, http: httpx.AsyncClient, blobs: LocalBlobStore
) -> None:
    bad = IdentityCheckInput(
        application_id=APP_ID,
        applicant=Applicant(
            full_name=DEMO_APPROVE.name, id_number="11010119850615001X", phone="13800138000"
        ),
    )
    with pytest.raises(ApplicationError) as rejected:
        await env.run(IdentityActivities(IdentityClient(BASE, client=http), blobs).verify, bad)
    assert rejected.value.type == ErrorType.VENDOR_REJECTED and rejected.value.non_retryable

    async with down_vendor() as down:
        ok = bad.model_copy(update={"id_number": DEMO_APPROVE.id_number})
        with pytest.raises(ApplicationError) as unavailable:
            await env.run(IdentityActivities(IdentityClient(BASE, client=down), blobs).verify, ok)
    assert (
        not unavailable.value.non_retryable and unavailable.value.type != ErrorType.VENDOR_REJECTED
    )
    for message in (str(rejected.value), str(unavailable.value)):
        assert DEMO_APPROVE.id_number[:17] not in message and DEMO_APPROVE.name not in message


# ---------------------------------------------------------------- carrier and bureau


async def test_carrier_flow(env: ActivityEnvironment, http: httpx.AsyncClient) -> None:
    acts = CarrierActivities(CarrierClient(BASE, client=http))
    sms = await env.run(
        acts.send_sms, CarrierSmsInput(application_id=APP_ID, phone=DEMO_APPROVE.phone)
    )
    assert sms.sent
    authorize = CarrierAuthorizeInput(
        application_id=APP_ID,
        code="123456",
        applicant=Applicant(
            full_name=DEMO_APPROVE.name, id_number=DEMO_APPROVE.id_number, phone=DEMO_APPROVE.phone
        ),
    )
    wrong = await env.run(acts.authorize, authorize)
    assert not wrong.accepted and wrong.task_id is None
    right = await env.run(acts.authorize, authorize.model_copy(update={"code": "246810"}))
    assert right.accepted and right.task_id
    report_input = CarrierReportInput(application_id=APP_ID, task_id=right.task_id)
    no_budget = CarrierActivities(CarrierClient(BASE, client=http), poll_budget=0)
    with pytest.raises(ApplicationError) as pending:
        await env.run(no_budget.fetch_report, report_input)
    assert pending.value.type == ErrorType.REPORT_PENDING and not pending.value.non_retryable
    # With a poll budget the activity waits for the report itself (ready after 0.2 s at the
    # simulator), heartbeating between polls, and returns it well before a retry would come.
    beats: list[object] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    started = time.perf_counter()
    report = await env.run(acts.fetch_report, report_input)
    assert time.perf_counter() - started < 0.5
    assert report.months_on_network == 36 and report.real_name_match
    assert beats, "the poll loop heartbeats while it waits"


async def test_bureau_report(env: ActivityEnvironment, http: httpx.AsyncClient) -> None:
    acts = BureauActivities(BureauClient(BASE, client=http))
    good = await env.run(
        acts.fetch_report,
        BureauInput(
            application_id=APP_ID,
            applicant=Applicant(
                full_name=DEMO_APPROVE.name, id_number=DEMO_APPROVE.id_number, phone="13800138000"
            ),
        ),
    )
    grey = await env.run(
        acts.fetch_report,
        BureauInput(
            application_id=APP_ID,
            applicant=Applicant(
                full_name=DEMO_REVIEW.name, id_number=DEMO_REVIEW.id_number, phone="13800138000"
            ),
        ),
    )
    assert good.score is not None and good.score >= 700
    assert grey.score is not None and 560 <= grey.score <= 610


# ---------------------------------------------------------------- bank card


async def test_bank_card_check(env: ActivityEnvironment, http: httpx.AsyncClient) -> None:
    acts = BankCardActivities(BankCardClient(BASE, client=http))
    card = BankCard(
        number=DEMO_APPROVE.card_number, bank_code="ICBC", reserved_phone=DEMO_APPROVE.phone
    )
    check = BankCardCheckInput(
        application_id=APP_ID,
        card=card,
        applicant=Applicant(
            full_name=DEMO_APPROVE.name, id_number=DEMO_APPROVE.id_number, phone="13800138000"
        ),
    )
    ok = await env.run(acts.verify, check)
    assert ok.verified and ok.detail == "MATCH"
    broken = card.number[:-1] + str((int(card.number[-1]) + 1) % 10)
    invalid = await env.run(
        acts.verify, check.model_copy(update={"card": card.model_copy(update={"number": broken})})
    )
    assert not invalid.verified and invalid.detail == "CARD_INVALID"


# ---------------------------------------------------------------- e-sign


async def test_esign_envelope_and_signature(
    env: ActivityEnvironment, http: httpx.AsyncClient, blobs: LocalBlobStore
) -> None:
    acts = EsignActivities(EsignClient(BASE, client=http), blobs)
    original = contract_pdf(pages=3)
    key, digest = blobs.put(f"documents/{APP_ID}/contract", original)
    envelope_input = EsignEnvelopeInput(
        application_id=APP_ID,
        contract=ContractDocument(blob_key=key, sha256=digest, pages=3),
        applicant=Applicant(
            full_name=DEMO_APPROVE.name, id_number=DEMO_APPROVE.id_number, phone=DEMO_APPROVE.phone
        ),
    )
    envelope = await env.run(acts.create_envelope, envelope_input)
    assert (await env.run(acts.create_envelope, envelope_input)) == envelope

    sign = EsignSignInput(application_id=APP_ID, envelope_id=envelope.envelope_id, otp="111111")
    wrong = await env.run(acts.sign, sign)
    assert not wrong.signed and wrong.signed_contract is None
    signed = await env.run(acts.sign, sign.model_copy(update={"otp": "135790"}))
    contract = signed.signed_contract
    assert signed.signed and contract is not None and contract.pages == 3
    assert contract.blob_key.startswith(f"documents/{APP_ID}/contract_signed/")
    stored = blobs.get(contract.blob_key)
    assert stored != original and stored.startswith(original) and page_count(stored) == 3


async def test_esign_missing_contract_is_not_retried(
    env: ActivityEnvironment, http: httpx.AsyncClient, blobs: LocalBlobStore
) -> None:
    acts = EsignActivities(EsignClient(BASE, client=http), blobs)
    missing = ContractDocument(
        blob_key=f"documents/{APP_ID}/contract/{'0' * 64}", sha256="0" * 64, pages=1
    )
    with pytest.raises(ApplicationError) as raised:
        await env.run(
            acts.create_envelope,
            EsignEnvelopeInput(
                application_id=APP_ID,
                contract=missing,
                applicant=Applicant(
                    full_name=DEMO_APPROVE.name,
                    id_number=DEMO_APPROVE.id_number,
                    phone=DEMO_APPROVE.phone,
                ),
            ),
        )
    assert raised.value.type == ErrorType.BAD_DOCUMENT and raised.value.non_retryable


# ---------------------------------------------------------------- payout


async def test_route_prefers_healthy_supported_channels(
    env: ActivityEnvironment, http: httpx.AsyncClient, engine: Engine
) -> None:
    acts = PayoutActivities(PaymentGatewayClient(BASE, client=http), engine, "http://api.test")
    icbc = await env.run(
        acts.route, RouteInput(application_id=APP_ID, bank_code="ICBC", amount=100_000)
    )
    assert icbc.channels == ["DIRECT", "NUCC", "CUP"]
    other = await env.run(
        acts.route,
        RouteInput(application_id=APP_ID, bank_code="ABC", amount=100_000, exclude=["NUCC"]),
    )
    assert other.channels == ["CUP"]
    await http.patch(f"{BASE}/admin/v1/gateway", json={"down_channels": ["DIRECT"]})
    degraded = await env.run(
        acts.route, RouteInput(application_id=APP_ID, bank_code="ICBC", amount=100_000)
    )
    assert degraded.channels == ["NUCC", "CUP"]


async def test_submit_query_and_record(
    env: ActivityEnvironment, http: httpx.AsyncClient, engine: Engine
) -> None:
    acts = PayoutActivities(PaymentGatewayClient(BASE, client=http), engine, "http://api.test/")
    key = payout_idempotency_key(APP_ID)
    submit = SubmitPayoutInput(
        application_id=APP_ID,
        idempotency_key=key,
        amount=800_000,
        account_name=DEMO_APPROVE.name,
        card_number=make_card_number("8888"),
        bank_code="ICBC",
        channel="NUCC",
    )
    first, retried = await asyncio.gather(
        env.run(acts.submit, submit), env.run(acts.submit, submit)
    )
    assert first.order_id == retried.order_id and first.status is PayoutStatus.PENDING
    await asyncio.sleep(0.1)
    order = await env.run(acts.query, QueryPayoutInput(application_id=APP_ID, idempotency_key=key))
    assert order.status is PayoutStatus.SUCCEEDED and order.attempt == 1
    ledger = (await http.get(f"{BASE}/admin/v1/payouts")).json()["orders"]
    assert [(o["succeeded_attempts"], len(o["attempts"])) for o in ledger] == [(1, 1)]

    record = DisbursementRecord(
        application_id=APP_ID,
        idempotency_key=key,
        order_id=order.order_id,
        amount=800_000,
        channel=order.channel,
        card_last4=submit.card_number[-4:],
        status=PayoutStatus.PENDING,
    )
    await env.run(acts.record, record)
    await env.run(acts.record, record.model_copy(update={"status": PayoutStatus.SUCCEEDED}))
    await env.run(acts.record, record.model_copy(update={"status": PayoutStatus.SUCCEEDED}))
    row = queries.in_session(engine, queries.get_disbursement, APP_ID)
    assert row is not None and row.status == "SUCCEEDED" and row.order_id == order.order_id
    assert row.idempotency_key == key and row.card_last4 == submit.card_number[-4:]


async def test_callback_url_points_at_the_api(
    env: ActivityEnvironment, mocks: FastAPI, http: httpx.AsyncClient, engine: Engine
) -> None:
    acts = PayoutActivities(PaymentGatewayClient(BASE, client=http), engine, "http://api.test/")
    await env.run(
        acts.submit,
        SubmitPayoutInput(
            application_id=APP_ID,
            idempotency_key="payout-url",
            amount=1_000,
            account_name=DEMO_APPROVE.name,
            card_number=make_card_number("8888"),
            bank_code="ICBC",
            channel="CUP",
        ),
    )
    (order,) = mocks.state.mocks.payments.orders.values()
    assert order.current.request.notify_url == "http://api.test/v1/callbacks/payments"


async def test_query_of_an_unknown_key_is_not_found(
    env: ActivityEnvironment, http: httpx.AsyncClient, engine: Engine
) -> None:
    acts = PayoutActivities(PaymentGatewayClient(BASE, client=http), engine, "http://api.test")
    with pytest.raises(ApplicationError) as raised:
        await env.run(
            acts.query, QueryPayoutInput(application_id=APP_ID, idempotency_key="payout-none")
        )
    assert raised.value.type == ErrorType.NOT_FOUND and raised.value.non_retryable

    async with down_vendor() as down:
        acts = PayoutActivities(PaymentGatewayClient(BASE, client=down), engine, "http://api.test")
        with pytest.raises(ApplicationError) as unavailable:
            await env.run(
                acts.query, QueryPayoutInput(application_id=APP_ID, idempotency_key="payout-none")
            )
    assert not unavailable.value.non_retryable
