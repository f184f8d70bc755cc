"""The deterministic personas and admin registrations of the identity, carrier, bureau and
bank-card simulators."""

from __future__ import annotations

import asyncio
import base64
from datetime import date

import httpx
import pytest

from domain.carrier import CarrierReport
from domain.decision import BureauReport
from domain.idnumber import parse_id_number
from mocks.personas import (
    DEMO_APPROVE,
    DEMO_REVIEW,
    PayoutFault,
    bureau_bucket,
    id_number_in_bucket,
    luhn_valid,
    make_card_number,
    payout_fault_for,
)


async def _bureau(client: httpx.AsyncClient, id_number: str) -> BureauReport:
    response = await client.post(
        "/bureau/v1/reports", json={"name": "张三", "id_number": id_number}
    )
    assert response.status_code == 200
    return BureauReport.model_validate(response.json())


# ---------------------------------------------------------------- built-in personas


def test_demo_personas_use_the_documented_ids() -> None:
    approve, review = (
        parse_id_number(DEMO_APPROVE.id_number),
        parse_id_number(DEMO_REVIEW.id_number),
    )
    assert approve.region == "110101" and approve.birth_date == date(1985, 6, 15)
    assert review.birth_date == date(1990, 3, 2)
    assert bureau_bucket(DEMO_APPROVE.id_number) == 1
    assert bureau_bucket(DEMO_REVIEW.id_number) == 73
    assert DEMO_APPROVE.portrait_bytes()[:3] == b"\xff\xd8\xff"
    for persona in (DEMO_APPROVE, DEMO_REVIEW):
        assert luhn_valid(persona.card_number) and persona.card_number.startswith(
            {"ICBC": "622202", "CMB": "622588"}[persona.bank_code]
        )


@pytest.mark.parametrize(
    ("digits", "fault"),
    [
        ("0000", PayoutFault.INVALID_CARD),
        ("1111", PayoutFault.FIRST_ATTEMPT_FAILS),
        ("2222", PayoutFault.LOST_CALLBACK),
        ("3333", PayoutFault.RETURNED),
        ("8888", PayoutFault.NONE),
    ],
)
def test_card_numbers_keep_persona_digits_before_the_check_digit(
    digits: str, fault: PayoutFault
) -> None:
    for serial in range(20):
        number = make_card_number(digits, serial=serial)
        assert luhn_valid(number) and number[-5:-1] == digits and len(number) == 19
        assert payout_fault_for(number) is fault
    assert not luhn_valid(number[:-1] + str((int(number[-1]) + 1) % 10))


# ---------------------------------------------------------------- identity


async def test_registered_citizen_matches_with_portrait(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/identity/v1/verify", json={"name": DEMO_APPROVE.name, "id_number": DEMO_APPROVE.id_number}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["result"] == "MATCH" and body["request_id"]
    assert base64.b64decode(body["portrait_jpeg_b64"]) == DEMO_APPROVE.portrait_bytes()


async def test_wrong_name_mismatches_and_unknown_id_has_no_record(
    client: httpx.AsyncClient,
) -> None:
    wrong_name = await client.post(
        "/identity/v1/verify", json={"name": "王五", "id_number": DEMO_REVIEW.id_number}
    )
    unknown = await client.post(
        "/identity/v1/verify", json={"name": "王五", "id_number": id_number_in_bucket(5)}
    )
    assert wrong_name.json()["result"] == "MISMATCH"
    assert wrong_name.json()["portrait_jpeg_b64"] is None
    assert unknown.json()["result"] == "NO_RECORD"


async def test_invalid_id_number_is_a_400_without_echoing_it(client: httpx.AsyncClient) -> None:
    bad = DEMO_APPROVE.id_number[:-1] + ("0" if DEMO_APPROVE.id_number[-1] != "0" else "1")
    response = await client.post("/identity/v1/verify", json={"name": "王五", "id_number": bad})
    assert response.status_code == 400
    assert response.json()["error"] == "INVALID_ID_NUMBER"
    assert bad not in response.text
    missing = await client.post("/identity/v1/verify", json={"name": "王五"})
    assert missing.status_code == 400 and missing.json()["error"] == "INVALID_REQUEST"
    assert "王五" not in missing.text


async def test_admin_registers_a_citizen(client: httpx.AsyncClient) -> None:
    id_number = id_number_in_bucket(12, born=date(1992, 1, 1))
    portrait = base64.b64encode(b"\xff\xd8\xff fake jpeg").decode()
    registered = await client.post(
        "/admin/v1/citizens",
        json={"name": "赵六", "id_number": id_number, "portrait_jpeg_b64": portrait},
    )
    assert registered.status_code == 201
    body = (
        await client.post("/identity/v1/verify", json={"name": "赵六", "id_number": id_number})
    ).json()
    assert body["result"] == "MATCH" and body["portrait_jpeg_b64"] == portrait
    await client.post("/admin/v1/reset")
    after_reset = await client.post(
        "/identity/v1/verify", json={"name": "赵六", "id_number": id_number}
    )
    assert after_reset.json()["result"] == "NO_RECORD"
    demo = await client.post(
        "/identity/v1/verify", json={"name": DEMO_APPROVE.name, "id_number": DEMO_APPROVE.id_number}
    )
    assert demo.json()["result"] == "MATCH"


# ---------------------------------------------------------------- bureau


@pytest.mark.parametrize("bucket", [0, 1, 35, 69])
async def test_bureau_good_bucket(client: httpx.AsyncClient, bucket: int) -> None:
    report = await _bureau(client, id_number_in_bucket(bucket))
    assert report.has_record and report.score is not None and 700 <= report.score <= 800
    assert report.current_overdue_amount == 0 and not report.on_court_blacklist
    assert report.lenders_6m <= 2 and report.inquiries_3m <= 2
    assert report.monthly_debt_payment < report.monthly_income


async def test_bureau_is_deterministic_per_person(client: httpx.AsyncClient) -> None:
    first, second = await asyncio.gather(
        _bureau(client, DEMO_APPROVE.id_number), _bureau(client, DEMO_APPROVE.id_number)
    )
    assert first.model_dump(exclude={"fetched_at"}) == second.model_dump(exclude={"fetched_at"})
    other = await _bureau(client, id_number_in_bucket(1, born=date(1970, 2, 3)))
    assert other.model_dump(exclude={"fetched_at"}) != first.model_dump(exclude={"fetched_at"})


@pytest.mark.parametrize("bucket", [70, 73, 79])
async def test_bureau_grey_zone(client: httpx.AsyncClient, bucket: int) -> None:
    report = await _bureau(client, id_number_in_bucket(bucket))
    assert report.score is not None and 560 <= report.score <= 610
    assert report.current_overdue_amount == 0 and not report.on_court_blacklist


@pytest.mark.parametrize("bucket", [80, 84])
async def test_bureau_current_overdue(client: httpx.AsyncClient, bucket: int) -> None:
    report = await _bureau(client, id_number_in_bucket(bucket))
    assert report.current_overdue_amount > 0 and report.overdue_count_24m > 0


@pytest.mark.parametrize("bucket", [85, 89])
async def test_bureau_thin_file(client: httpx.AsyncClient, bucket: int) -> None:
    report = await _bureau(client, id_number_in_bucket(bucket))
    assert not report.has_record and report.score is None
    assert report.monthly_income > 0 and report.monthly_debt_payment == 0


@pytest.mark.parametrize("bucket", [90, 94])
async def test_bureau_multi_lending(client: httpx.AsyncClient, bucket: int) -> None:
    report = await _bureau(client, id_number_in_bucket(bucket))
    assert report.lenders_6m == 8 and report.inquiries_3m == 10


@pytest.mark.parametrize("bucket", [95, 99])
async def test_bureau_court_blacklist(client: httpx.AsyncClient, bucket: int) -> None:
    report = await _bureau(client, id_number_in_bucket(bucket))
    assert report.on_court_blacklist and report.has_record


async def test_bureau_profile_overrides_the_persona(client: httpx.AsyncClient) -> None:
    id_number = id_number_in_bucket(3)
    response = await client.post(
        "/admin/v1/bureau-profiles",
        json={"id_number": id_number, "score": 590, "lenders_6m": 5},
    )
    assert response.status_code == 201
    report = await _bureau(client, id_number)
    assert report.score == 590 and report.lenders_6m == 5 and report.has_record
    bad = await client.post(
        "/admin/v1/bureau-profiles", json={"id_number": id_number, "shoe_size": 42}
    )
    assert bad.status_code == 400 and bad.json()["error"] == "UNKNOWN_FIELDS"


# ---------------------------------------------------------------- carrier


async def _authorize(client: httpx.AsyncClient, phone: str, code: str) -> httpx.Response:
    return await client.post(
        "/carrier/v1/authorize",
        json={"phone": phone, "name": "张三", "id_number": DEMO_APPROVE.id_number, "code": code},
    )


async def test_carrier_sms_code_then_report_after_a_delay(client: httpx.AsyncClient) -> None:
    sms = await client.post("/carrier/v1/sms", json={"phone": "13800000001"})
    assert sms.json() == {"sent": True, "expires_in": 300}
    wrong = await _authorize(client, "13800000001", "111111")
    assert wrong.status_code == 400 and wrong.json()["error"] == "WRONG_CODE"
    task_id = (await _authorize(client, "13800000001", "246810")).json()["task_id"]
    pending = await client.get(f"/carrier/v1/reports/{task_id}")
    assert pending.status_code == 202 and pending.json()["status"] == "PENDING"
    await asyncio.sleep(0.25)
    ready = await client.get(f"/carrier/v1/reports/{task_id}")
    assert ready.status_code == 200
    report = CarrierReport.model_validate(ready.json())
    assert report.months_on_network == 36 and report.real_name_match


async def test_carrier_new_number_persona_and_profile(client: httpx.AsyncClient) -> None:
    await client.post(
        "/admin/v1/carrier-profiles",
        json={
            "phone": "13700000002",
            "sms_code": "8642",
            "report_delay_seconds": 0,
            "real_name_match": False,
        },
    )
    assert (await _authorize(client, "13700000002", "246810")).status_code == 400
    task_id = (await _authorize(client, "13700000002", "8642")).json()["task_id"]
    registered = CarrierReport.model_validate(
        (await client.get(f"/carrier/v1/reports/{task_id}")).json()
    )
    assert not registered.real_name_match and registered.months_on_network == 36

    task_id = (await _authorize(client, "13700000009", "246810")).json()["task_id"]
    await asyncio.sleep(0.25)
    new_number = CarrierReport.model_validate(
        (await client.get(f"/carrier/v1/reports/{task_id}")).json()
    )
    assert new_number.months_on_network == 2
    unknown = await client.get("/carrier/v1/reports/CTNOPE")
    assert unknown.status_code == 404 and unknown.json()["error"] == "TASK_NOT_FOUND"


# ---------------------------------------------------------------- bank card


async def _card_check(client: httpx.AsyncClient, card_number: str) -> httpx.Response:
    return await client.post(
        "/bankcard/v1/verify",
        json={
            "name": DEMO_APPROVE.name,
            "id_number": DEMO_APPROVE.id_number,
            "card_number": card_number,
            "phone": DEMO_APPROVE.phone,
        },
    )


async def test_bank_card_luhn_decides_and_registration_overrides(
    client: httpx.AsyncClient,
) -> None:
    good = make_card_number("4567", bin6="621700", serial=9)
    body = (await _card_check(client, good)).json()
    assert body["result"] == "MATCH" and body["bank_code"] == "CCB"
    broken = good[:-1] + str((int(good[-1]) + 1) % 10)
    body = (await _card_check(client, broken)).json()
    assert body["result"] == "CARD_INVALID" and body["bank_code"] is None
    await client.post("/admin/v1/bank-cards", json={"card_number": good, "four_factor": "MISMATCH"})
    assert (await _card_check(client, good)).json()["result"] == "MISMATCH"
    short = await _card_check(client, "1234")
    assert short.status_code == 400 and short.json()["error"] == "INVALID_REQUEST"
