"""Deterministic personas of the simulators: what each outside party answers for data nobody
registered, and the built-in demo applicants.

Every rule here is a pure function of the applicant's own data (ID number digits, phone, card
number), so every workflow branch can be reached without touching the admin API. The rules are
documented for people in `mocks/PERSONAS.md`; keep the two in step.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from domain.idnumber import make_id_number

FACES_DIR = Path(__file__).resolve().parent.parent / "assets" / "faces"

DEFAULT_SMS_CODE = "246810"
DEFAULT_ESIGN_OTP = "135790"
DEFAULT_REPORT_DELAY_SECONDS = 0.2


class IdentityResult(StrEnum):
    MATCH = "MATCH"
    MISMATCH = "MISMATCH"
    NO_RECORD = "NO_RECORD"


class CardResult(StrEnum):
    MATCH = "MATCH"
    MISMATCH = "MISMATCH"
    CARD_INVALID = "CARD_INVALID"


class PayoutFault(StrEnum):
    """How the gateway treats a card; chosen by the card's persona digits or by registration."""

    NONE = "NONE"
    INVALID_CARD = "INVALID_CARD"
    FIRST_ATTEMPT_FAILS = "FIRST_ATTEMPT_FAILS"
    LOST_CALLBACK = "LOST_CALLBACK"
    RETURNED = "RETURNED"


PAYOUT_FAULT_DIGITS = {
    "0000": PayoutFault.INVALID_CARD,
    "1111": PayoutFault.FIRST_ATTEMPT_FAILS,
    "2222": PayoutFault.LOST_CALLBACK,
    "3333": PayoutFault.RETURNED,
}

# Issuer identification numbers (first six digits) of the banks the demo uses.
BANK_BINS = {
    "622202": "ICBC",
    "621700": "CCB",
    "622848": "ABC",
    "621661": "BOC",
    "622588": "CMB",
}
OTHER_BANK = "OTHER"


# ---------------------------------------------------------------- card numbers


def luhn_check_digit(body: str) -> str:
    total = 0
    for index, char in enumerate(reversed(body)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return number.isdigit() and len(number) >= 2 and luhn_check_digit(number[:-1]) == number[-1]


def make_card_number(
    persona_digits: str = "8888", *, bin6: str = "622202", serial: int = 0, length: int = 19
) -> str:
    """A Luhn-valid card number whose persona digits (the four before the check digit) are given.

    The check digit is always last, so a rule on "the last four digits" could not be chosen
    freely; the gateway reads `number[-5:-1]` instead.
    """
    if len(persona_digits) != 4 or not persona_digits.isdigit():
        raise ValueError("persona_digits must be four digits")
    middle = length - len(bin6) - 4 - 1
    if middle < 1:
        raise ValueError("card number too short for the chosen BIN")
    body = f"{bin6}{serial % 10**middle:0{middle}d}{persona_digits}"
    return body + luhn_check_digit(body)


def persona_digits(card_number: str) -> str:
    return card_number[-5:-1]


def payout_fault_for(card_number: str) -> PayoutFault:
    return PAYOUT_FAULT_DIGITS.get(persona_digits(card_number), PayoutFault.NONE)


def bank_code_for(card_number: str) -> str:
    return BANK_BINS.get(card_number[:6], OTHER_BANK)


# ---------------------------------------------------------------- bureau


def _unit(seed: str, salt: str) -> float:
    """A stable number in [0, 1) drawn from the seed, so a persona answers the same every time."""
    digest = hashlib.sha256(f"{salt}:{seed}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _between(seed: str, salt: str, low: int, high: int) -> int:
    return low + int(_unit(seed, salt) * (high - low + 1))


def bureau_bucket(id_number: str) -> int:
    """Digits 15-16 (1-based) of the ID number: the first two digits of the sequence code."""
    return int(id_number[14:16])


def id_number_in_bucket(
    bucket: int, *, born: date = date(1988, 8, 8), region: str = "110101", male: bool = True
) -> str:
    """A checksum-valid ID number that falls into the given bureau bucket (0-99)."""
    if not 0 <= bucket <= 99:
        raise ValueError("bucket is two digits")
    return make_id_number(region, born, bucket * 10 + (1 if male else 2))


def bureau_report_for(id_number: str, now: datetime | None = None) -> dict[str, object]:
    """The report the bureau returns for an unregistered person, by bucket."""
    seed = id_number
    bucket = bureau_bucket(id_number)
    income = _between(seed, "income", 800_000, 2_000_000)
    report: dict[str, object] = {
        "has_record": True,
        "score": _between(seed, "score", 700, 800),
        "current_overdue_amount": 0,
        "overdue_count_24m": 0,
        "max_overdue_days_24m": 0,
        "inquiries_1m": _between(seed, "inq1", 0, 1),
        "inquiries_3m": _between(seed, "inq3", 1, 2),
        "inquiries_6m": _between(seed, "inq6", 2, 4),
        "lenders_1m": 0,
        "lenders_3m": 1,
        "lenders_6m": _between(seed, "lenders", 1, 2),
        "monthly_income": income,
        "monthly_debt_payment": income * _between(seed, "dti", 10, 25) // 100,
        "income_stable_months": _between(seed, "stable", 12, 60),
        "card_utilisation": round(0.1 + 0.3 * _unit(seed, "util"), 3),
        "on_court_blacklist": False,
        "fetched_at": (now or datetime.now(UTC)).isoformat(),
    }
    if 70 <= bucket <= 79:
        report["score"] = _between(seed, "score", 560, 610)
        report["card_utilisation"] = round(0.4 + 0.2 * _unit(seed, "util"), 3)
        report["income_stable_months"] = _between(seed, "stable", 6, 36)
    elif 80 <= bucket <= 84:
        report.update(
            score=_between(seed, "score", 480, 560),
            current_overdue_amount=_between(seed, "overdue", 100_000, 900_000),
            overdue_count_24m=3,
            max_overdue_days_24m=45,
            income_stable_months=_between(seed, "stable", 3, 24),
        )
    elif 85 <= bucket <= 89:
        # No credit history, but the income the bureau knows from social-insurance records
        # stays: a thin file is a reason to look closer, not an unknown ability to repay.
        report.update(
            has_record=False,
            score=None,
            inquiries_1m=0,
            inquiries_3m=0,
            inquiries_6m=0,
            lenders_3m=0,
            lenders_6m=0,
            monthly_debt_payment=0,
            card_utilisation=0.0,
            income_stable_months=_between(seed, "stable", 6, 24),
        )
    elif 90 <= bucket <= 94:
        report.update(
            score=_between(seed, "score", 600, 650),
            inquiries_1m=4,
            inquiries_3m=10,
            inquiries_6m=14,
            lenders_1m=3,
            lenders_3m=6,
            lenders_6m=8,
        )
    elif bucket >= 95:
        report.update(score=_between(seed, "score", 650, 700), on_court_blacklist=True)
    return report


# ---------------------------------------------------------------- carrier

HOME_PROVINCE = "11"
ELSEWHERE_PROVINCE = "44"


def carrier_report_for(phone: str) -> dict[str, object]:
    """By the phone's last digit: 9 a new number, 7 a thin call log with many night calls, 6 a
    number farm (seven numbers in the name), 5 six handset changes, 4 registered in another
    province; every other phone is an established number registered in Beijing."""
    last = phone[-1]
    report: dict[str, object] = {
        "months_on_network": 2 if last == "9" else 36,
        "real_name_match": True,
        "contacts_in_call_log": _between(phone, "contacts", 40, 240),
        "night_call_ratio": round(0.02 + 0.1 * _unit(phone, "night"), 3),
        "monthly_bill_avg": _between(phone, "bill", 5_000, 20_000),
        "numbers_in_name": _between(phone, "numbers", 1, 2),
        "emergency_contacts_in_call_log": _between(phone, "emergency", 1, 2),
        "device_changes_6m": _between(phone, "handsets", 0, 1),
        "home_province": ELSEWHERE_PROVINCE if last == "4" else HOME_PROVINCE,
    }
    if last == "7":
        report.update(
            contacts_in_call_log=8, night_call_ratio=0.45, emergency_contacts_in_call_log=0
        )
    elif last == "6":
        report["numbers_in_name"] = 7
    elif last == "5":
        report["device_changes_6m"] = 6
    return report


# ---------------------------------------------------------------- generated applicants

POPULATION_DAY = date(2026, 11, 1)


def hidden_default_probability(
    bureau: Mapping[str, Any], carrier: Mapping[str, Any], age: int
) -> float:
    """The simulated world's true 12-month default probability of an applicant (the hidden
    risk model of PERSONAS.md). The policy never sees it: the scorecard has to learn it back
    from outcomes drawn with it."""
    score = bureau.get("score")
    z = -3.4
    z += 1.3 if score is None else 0.018 * (700 - int(score))
    z += 1.8 * (float(bureau["card_utilisation"]) - 0.25)
    income = int(bureau["monthly_income"])
    dti = int(bureau["monthly_debt_payment"]) / income if income > 0 else 1.0
    z += 2.0 * (dti - 0.2)
    z += 0.15 * int(bureau["inquiries_3m"]) + 0.15 * int(bureau["lenders_6m"])
    z += 0.5 * int(bureau["overdue_count_24m"])
    z += 1.2 * (int(bureau["current_overdue_amount"]) > 0)
    z += 1.5 * bool(bureau["on_court_blacklist"])
    z -= 0.02 * (int(bureau.get("income_stable_months") or 0) - 24)
    z += 1.2 * (int(carrier["months_on_network"]) < 6)
    z += 3.0 * (float(carrier["night_call_ratio"]) - 0.07)
    z -= 0.004 * (int(carrier["contacts_in_call_log"]) - 140)
    z -= 0.35 * (int(carrier.get("emergency_contacts_in_call_log") or 0) - 1)
    z += 0.4 * (int(carrier.get("numbers_in_name") or 1) > 3)
    z += 0.25 * max(0, int(carrier.get("device_changes_6m") or 0) - 1)
    z += 0.03 * max(0, 30 - age)
    return 1 / (1 + math.exp(-z))


@dataclass(frozen=True)
class GeneratedApplicant:
    """One through-the-door applicant of the simulated population, with its drawn outcome."""

    id_number: str
    phone: str
    age: int
    bureau: dict[str, object]
    carrier: dict[str, object]
    default_probability: float
    defaulted: bool


def applicant_population(n: int, seed: int = 2026) -> Iterator[GeneratedApplicant]:
    """`n` applicants spread evenly over the bureau buckets and phone endings, aged 20-58 on
    POPULATION_DAY, each answered by the same rules as the simulators, with an outcome drawn
    from the hidden risk model. The same seed gives the same population."""
    rng = random.Random(seed)
    for _ in range(n):
        age = rng.randint(20, 58)
        born = date(POPULATION_DAY.year - age - 1, 1, 1) + timedelta(days=rng.randrange(365))
        id_number = make_id_number("110101", born, rng.randrange(1000))
        phone = "13" + "".join(rng.choice("0123456789") for _ in range(9))
        bureau = bureau_report_for(id_number, datetime(2026, 11, 1, tzinfo=UTC))
        carrier = carrier_report_for(phone)
        real_age = (POPULATION_DAY - born).days * 400 // 146097
        pd = hidden_default_probability(bureau, carrier, real_age)
        yield GeneratedApplicant(id_number, phone, real_age, bureau, carrier, pd, rng.random() < pd)


# ---------------------------------------------------------------- built-in applicants


@dataclass(frozen=True)
class Persona:
    """A built-in applicant every simulator knows; the demo and the tests apply with it."""

    key: str
    name: str
    id_number: str
    phone: str
    card_number: str
    bank_code: str
    portrait_file: str

    @property
    def portrait_path(self) -> Path:
        return FACES_DIR / self.portrait_file

    def portrait_bytes(self) -> bytes:
        return self.portrait_path.read_bytes()


DEMO_APPROVE = Persona(
    key="obama",
    name="欧阳明",
    id_number=make_id_number("110101", date(1985, 6, 15), 11),
    phone="13800138000",
    card_number=make_card_number("8888", bin6="622202", serial=1),
    bank_code="ICBC",
    portrait_file="examples_obama2.jpg",
)

DEMO_REVIEW = Persona(
    key="alex",
    name="李安思",
    id_number=make_id_number("110101", date(1990, 3, 2), 731),
    phone="13900139002",
    card_number=make_card_number("8888", bin6="622588", serial=2),
    bank_code="CMB",
    portrait_file="examples_knn_examples_train_alex_lacamoire_img1.jpg",
)

BUILT_IN_PERSONAS = (DEMO_APPROVE, DEMO_REVIEW)
