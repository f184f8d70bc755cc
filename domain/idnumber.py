"""Resident ID numbers (GB 11643-1999): check digit, birth date, sex, masking."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
# [0-9], not \d: \d matches every Unicode digit (full-width, Arabic-Indic), which int() accepts,
# so one person could present several distinct strings that all "validate".
_PATTERN = re.compile(r"^[0-9]{17}[0-9X]$")
_ASCII_DIGITS = frozenset("0123456789")


class InvalidIdNumber(ValueError):
    """The string is not a well-formed resident ID number."""


def check_digit(first17: str) -> str:
    if len(first17) != 17 or not set(first17) <= _ASCII_DIGITS:
        raise InvalidIdNumber("the first 17 characters must be digits")
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


@dataclass(frozen=True)
class IdNumber:
    value: str
    birth_date: date
    is_male: bool

    @property
    def region(self) -> str:
        return self.value[:6]

    def age_on(self, day: date) -> int:
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years


def parse_id_number(raw: str) -> IdNumber:
    """Validate format, check digit and birth date; raise InvalidIdNumber with the reason."""
    # NFKC folds full-width input (１１０１…Ｘ, common from Chinese keyboards) to ASCII, so the
    # canonical value is the same string whatever the applicant typed.
    value = unicodedata.normalize("NFKC", raw).strip().upper()
    if not _PATTERN.match(value):
        raise InvalidIdNumber("an ID number is 17 digits followed by a digit or X")
    if check_digit(value[:17]) != value[17]:
        raise InvalidIdNumber("check digit does not match")
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as exc:
        raise InvalidIdNumber("birth date is not a calendar date") from exc
    if born.year < 1900:
        raise InvalidIdNumber("birth year before 1900")
    return IdNumber(value=value, birth_date=born, is_male=int(value[16]) % 2 == 1)


def make_id_number(region: str, born: date, sequence: int) -> str:
    """Build a checksum-valid number; sequence is the 3-digit order code (odd = male).

    Refuses what parse_id_number would refuse, so every number it returns parses back."""
    if len(region) != 6 or not set(region) <= _ASCII_DIGITS:
        raise InvalidIdNumber("the region code is 6 digits")
    if not 0 <= sequence <= 999:
        raise InvalidIdNumber("the order code is 3 digits")
    if born.year < 1900:
        raise InvalidIdNumber("birth year before 1900")
    first17 = f"{region}{born.year:04d}{born.month:02d}{born.day:02d}{sequence:03d}"
    return first17 + check_digit(first17)


def mask_id_number(value: str) -> str:
    return value[:3] + "*" * (len(value) - 7) + value[-4:] if len(value) > 7 else "***"


def mask_phone(value: str) -> str:
    return value[:3] + "****" + value[-4:] if len(value) >= 8 else "****"


def mask_card(value: str) -> str:
    return "*" * max(len(value) - 4, 0) + value[-4:]
