"""Protocol agreement: every vendor client against the simulators through httpx's ASGITransport,
proving that `vendors/` and `mocks/` speak the same protocol; and the one mapping of failures
(4xx not retryable, 5xx, 429 and timeouts retryable)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from io import BytesIO

import httpx
import pytest
from fastapi import FastAPI
from pyhanko.pdf_utils.reader import PdfFileReader
from reportlab.pdfgen import canvas

from domain.carrier import CarrierReport
from domain.decision import BureauReport
from domain.enums import PayoutFailure, PayoutStatus
from domain.payout import SubmitPayoutInput
from domain.signing import callback_signature, signature_matches
from mocks.app import create_app
from mocks.personas import DEMO_APPROVE, DEMO_REVIEW, id_number_in_bucket, make_card_number
from mocks.settings import MockSettings
from vendors.bankcard import BankCardClient, CardResult
from vendors.base import VendorClient, VendorError
from vendors.bureau import BureauClient
from vendors.carrier import CarrierClient
from vendors.esign import EsignClient
from vendors.gateway import PaymentGatewayClient
from vendors.identity import IdentityClient, IdentityResult

BASE = "http://mocks.test"


@pytest.fixture
async def app() -> AsyncIterator[FastAPI]:
    settings = MockSettings(settle_delay_seconds=0.05)
    app = create_app(
        settings, callback_transport=httpx.MockTransport(lambda _: httpx.Response(204))
    )
    yield app
    await app.state.mocks.aclose()


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        yield client


def pdf(pages: int) -> bytes:
    buffer = BytesIO()
    doc = canvas.Canvas(buffer)
    for _ in range(pages):
        doc.drawString(72, 720, "contract")
        doc.showPage()
    doc.save()
    return buffer.getvalue()


async def test_identity(http: httpx.AsyncClient) -> None:
    client = IdentityClient(BASE, client=http)
    match = await client.verify(DEMO_REVIEW.name, DEMO_REVIEW.id_number)
    assert match.result is IdentityResult.MATCH
    assert match.portrait_jpeg == DEMO_REVIEW.portrait_bytes()
    mismatch = await client.verify("别人", DEMO_REVIEW.id_number)
    assert mismatch.result is IdentityResult.MISMATCH and mismatch.portrait_jpeg is None
    unknown = await client.verify("别人", id_number_in_bucket(40))
    assert unknown.result is IdentityResult.NO_RECORD
    with pytest.raises(VendorError) as raised:
        await client.verify(DEMO_REVIEW.name, "110101199003020000")
    assert raised.value.status_code == 400 and raised.value.code == "INVALID_ID_NUMBER"
    assert not raised.value.retryable
    assert "110101199003020000" not in str(raised.value)


async def test_carrier(http: httpx.AsyncClient) -> None:
    client = CarrierClient(BASE, client=http)
    assert (await client.send_sms(DEMO_APPROVE.phone)).sent
    wrong = await client.authorize(
        DEMO_APPROVE.phone, DEMO_APPROVE.name, DEMO_APPROVE.id_number, "000000"
    )
    assert wrong is None
    task_id = await client.authorize(
        DEMO_APPROVE.phone, DEMO_APPROVE.name, DEMO_APPROVE.id_number, "246810"
    )
    assert task_id is not None
    assert await client.fetch_report(task_id) is None
    await asyncio.sleep(0.25)
    report = await client.fetch_report(task_id)
    assert isinstance(report, CarrierReport) and report.months_on_network == 36
    with pytest.raises(VendorError) as raised:
        await client.fetch_report("CT-UNKNOWN")
    assert raised.value.status_code == 404 and not raised.value.retryable


@pytest.mark.parametrize(
    ("bucket", "check"),
    [
        (1, lambda r: r.has_record and 700 <= r.score <= 800),
        (75, lambda r: 560 <= r.score <= 610),
        (82, lambda r: r.current_overdue_amount > 0),
        (87, lambda r: not r.has_record and r.score is None),
        (92, lambda r: r.lenders_6m == 8 and r.inquiries_3m == 10),
        (97, lambda r: r.on_court_blacklist),
    ],
)
async def test_bureau(
    http: httpx.AsyncClient, bucket: int, check: Callable[[BureauReport], bool]
) -> None:
    report = await BureauClient(BASE, client=http).fetch_report("张三", id_number_in_bucket(bucket))
    assert isinstance(report, BureauReport) and check(report)
    assert report.fetched_at.tzinfo is not None


async def test_bank_card(http: httpx.AsyncClient) -> None:
    client = BankCardClient(BASE, client=http)
    ok = await client.verify(
        DEMO_APPROVE.name, DEMO_APPROVE.id_number, DEMO_APPROVE.card_number, DEMO_APPROVE.phone
    )
    assert ok.result is CardResult.MATCH and ok.bank_code == "ICBC"
    bad_card = DEMO_APPROVE.card_number[:-1] + str((int(DEMO_APPROVE.card_number[-1]) + 1) % 10)
    invalid = await client.verify(
        DEMO_APPROVE.name, DEMO_APPROVE.id_number, bad_card, DEMO_APPROVE.phone
    )
    assert invalid.result is CardResult.CARD_INVALID


async def test_esign(http: httpx.AsyncClient) -> None:
    client = EsignClient(BASE, client=http)
    original = pdf(pages=2)
    envelope_id = await client.create_envelope(
        original,
        name=DEMO_APPROVE.name,
        id_number=DEMO_APPROVE.id_number,
        phone=DEMO_APPROVE.phone,
        biz_no="esign-contract-test",
    )
    assert envelope_id == await client.create_envelope(
        original,
        name=DEMO_APPROVE.name,
        id_number=DEMO_APPROVE.id_number,
        phone=DEMO_APPROVE.phone,
        biz_no="esign-contract-test",
    )
    assert await client.sign(envelope_id, "999999") is False
    with pytest.raises(VendorError) as raised:
        await client.download(envelope_id)
    assert raised.value.code == "NOT_SIGNED" and not raised.value.retryable
    assert await client.sign(envelope_id, "135790") is True
    assert await client.sign(envelope_id, "135790") is True
    signed = await client.download(envelope_id)
    assert signed.startswith(original) and len(signed) > len(original)
    assert int(PdfFileReader(BytesIO(signed)).root["/Pages"]["/Count"]) == 2


async def test_gateway(http: httpx.AsyncClient) -> None:
    client = PaymentGatewayClient(BASE, client=http)
    channels = await client.channels("ICBC")
    assert {c.channel for c in channels} == {"DIRECT", "NUCC", "CUP"}
    payout = SubmitPayoutInput(
        application_id="a1",
        idempotency_key="payout-a1",
        amount=300_000,
        account_name=DEMO_APPROVE.name,
        card_number=make_card_number("0000"),
        bank_code="ICBC",
        channel="NUCC",
    )
    order = await client.submit(payout, "http://api.test/v1/callbacks/payments")
    assert order.status is PayoutStatus.PENDING and order.idempotency_key == "payout-a1"
    assert (await client.submit(payout, "http://api.test/cb")).order_id == order.order_id
    await asyncio.sleep(0.1)
    failed = await client.query("payout-a1")
    assert failed is not None and failed.status is PayoutStatus.FAILED
    assert failed.failure is PayoutFailure.INVALID_CARD
    second = await client.submit(
        payout.model_copy(update={"card_number": DEMO_APPROVE.card_number}), "http://api.test/cb"
    )
    assert second.attempt == 2 and second.order_id == order.order_id
    assert await client.query("payout-unknown") is None
    with pytest.raises(VendorError) as raised:
        await client.submit(payout.model_copy(update={"channel": "SWIFT"}), "http://api.test/cb")
    assert raised.value.code == "UNKNOWN_CHANNEL" and not raised.value.retryable


def test_signature_helpers() -> None:
    body = json.dumps({"order_id": "PO1", "status": "SUCCEEDED"}).encode()
    ts, nonce = "1764500000", "n-1"
    signature = callback_signature("s", ts, nonce, body)
    assert len(signature) == 64 and signature_matches("s", ts, nonce, body, signature)
    assert signature_matches("s", ts, nonce, body, signature.upper())
    assert not signature_matches("s", ts, nonce, body + b" ", signature)
    assert not signature_matches("t", ts, nonce, body, signature)
    assert not signature_matches("s", "1764500001", nonce, body, signature)
    assert not signature_matches("s", ts, "n-2", body, signature)
    assert not signature_matches("s", ts, nonce, body, None)


# ---------------------------------------------------------------- failure mapping


def failing(handler: Callable[[httpx.Request], httpx.Response]) -> BureauClient:
    return BureauClient(BASE, transport=httpx.MockTransport(handler), timeout=1.0)


@pytest.mark.parametrize(
    ("status", "body", "retryable", "code"),
    [
        (500, b"Internal Server Error", True, None),
        (502, b"<html>bad gateway</html>", True, None),
        (503, b'{"error": "MAINTENANCE"}', True, "MAINTENANCE"),
        (429, b'{"error": "RATE_LIMITED"}', True, "RATE_LIMITED"),
        (400, b'{"error": "INVALID_ID_NUMBER", "message": "x"}', False, "INVALID_ID_NUMBER"),
        (403, b"forbidden", False, None),
        (404, b'{"detail": "Not Found"}', False, None),
    ],
)
async def test_status_mapping(status: int, body: bytes, retryable: bool, code: str | None) -> None:
    async with failing(lambda _: httpx.Response(status, content=body)) as client:
        with pytest.raises(VendorError) as raised:
            await client.fetch_report(DEMO_APPROVE.name, DEMO_APPROVE.id_number)
    error = raised.value
    assert (error.status_code, error.retryable, error.code) == (status, retryable, code)
    assert DEMO_APPROVE.id_number not in str(error) and DEMO_APPROVE.name not in str(error)


@pytest.mark.parametrize(
    "exc", [httpx.ReadTimeout("slow"), httpx.ConnectTimeout("slow"), httpx.ConnectError("down")]
)
async def test_transport_failures_are_retryable(exc: httpx.TransportError) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    async with failing(handler) as client:
        with pytest.raises(VendorError) as raised:
            await client.fetch_report(DEMO_APPROVE.name, DEMO_APPROVE.id_number)
    assert raised.value.retryable and raised.value.status_code is None


async def test_a_silent_vendor_times_out_within_the_stated_timeout() -> None:
    release = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await release.wait()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with BureauClient(f"http://127.0.0.1:{port}", timeout=0.1) as client:
            started = asyncio.get_running_loop().time()
            with pytest.raises(VendorError) as raised:
                await client.fetch_report(DEMO_APPROVE.name, DEMO_APPROVE.id_number)
        elapsed = asyncio.get_running_loop().time() - started
    finally:
        release.set()
        server.close()
        await server.wait_closed()
    assert raised.value.retryable and "timed out" in str(raised.value)
    assert elapsed < 1.0


async def test_malformed_success_body_is_not_retryable() -> None:
    reply = b'{"has_record": "maybe", "secret": "' + DEMO_APPROVE.id_number.encode() + b'"}'
    async with failing(lambda _: httpx.Response(200, content=reply)) as client:
        with pytest.raises(VendorError) as raised:
            await client.fetch_report(DEMO_APPROVE.name, DEMO_APPROVE.id_number)
    assert not raised.value.retryable and raised.value.__cause__ is None
    assert DEMO_APPROVE.id_number not in str(raised.value)


async def test_a_shared_client_is_left_open() -> None:
    shared = httpx.AsyncClient(transport=httpx.MockTransport(lambda _: httpx.Response(204)))
    async with VendorClient(BASE, client=shared):
        pass
    assert not shared.is_closed
    await shared.aclose()
