"""The cross-checks on the fields read from both sides of an ID card (`vision.idcard` reads
them): every required field read (a field not read is a refusal, never a skipped check); GB 11643
(check digit, birth date and sex digit against the printed ones); GB/T 2260 places (the address
starts with a known province and city, none of their names skipped, the issuing authority is
that city's or county's bureau, the number's region agrees or the number was read surely), with
a county read one character off put right where the number's region witnesses it; a legal
validity period not ended on the application date (I008); and the applicant's entries, where a
difference is theirs (I010) only when the card's reading is confident and every other check
held.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from domain.idnumber import InvalidIdNumber, parse_id_number
from domain.reasons import ReasonCode
from domain.regions import (
    address_gap,
    address_one_off,
    authority_gap,
    authority_one_off,
    place_of_address,
    place_of_authority,
    place_of_code,
)
from vision.idfields import REPAIRED_CONFIDENCE, ParsedFields, clean

FRONT_FIELDS = ("name", "sex", "ethnicity", "birth_date", "address", "id_number")
BACK_FIELDS = ("issuing_authority", "valid_from", "valid_until")
# A read this sure that differs from the applicant's entry is their mismatch, not our misread.
CLAIM_CONFIDENCE = 0.9
# An ID number whose region disagrees with the address (the holder moved; the number keeps the
# birth registration's county) or that GB/T 2260 since 2002 does not know must be read this
# surely, twice alike, to be taken.
UNCORROBORATED_NUMBER_CONFIDENCE = 0.95
# Markers of the numbers an address ends with, and the Chinese numerals that may stand for the
# digits before them (一号路, 十二幢).
NUMBERED = re.compile("号|幢|单元")
NUMERALS = frozenset("〇零一二三四五六七八九十百千")
# Words of place names that hold a marker without being a number (信号厂, a signal works).
WORDS = frozenset({"信号"})
# What may follow a number written in digits in an address: the word it numbers (a house, a
# building, an entrance, a room, a floor, a village group, a lane, a block...), a sub-number
# (12-3号, 12之3号, 12附3号, 3A室, 12号甲) or a road's number (318国道). 单 only as 单元:
# 1单元2406室 read as 1单一406室 under a reflection.
AFTER_NUMBER = re.compile(
    r"\d+(?!\d)(?=单元|[号幢栋室楼层组弄座户排门队巷社区期里条道街村国县乡镇屯支附之甲乙丙丁"
    r"公米#\-－—、（）()A-Za-z]|$)"
)
# Legal validity periods (Resident Identity Card Law, art. 5) in years.
VALIDITY_YEARS = (5, 10, 20)


@dataclass
class CardChecks:
    """What the cross-checks found: reason codes with their details, in plain words."""

    failures: list[tuple[ReasonCode, str]] = field(default_factory=list)

    def fail(self, code: ReasonCode, detail: str) -> None:
        self.failures.append((code, detail))

    @property
    def reasons(self) -> list[ReasonCode]:
        return list(dict.fromkeys(code for code, _ in self.failures))


def check_fields(
    front: ParsedFields,
    back: ParsedFields,
    *,
    application_date: date,
    claimed_name: str | None = None,
    claimed_id_number: str | None = None,
) -> CardChecks:
    """Every check on the fields read. A field not read is a refusal, never a skipped check:
    unreadable or mutually inconsistent fields are I011, fields still doubtful after a second
    look I024, an ended validity period I008; a disagreement with the applicant's entries is
    I010 only when the card's own reading is confident and self-consistent."""
    checks = CardChecks()
    values = {**front.values, **back.values}
    for problem in front.problems + back.problems:
        checks.fail(ReasonCode.I011_ID_CARD_UNREADABLE, problem)
    missing = [
        name
        for name in FRONT_FIELDS + BACK_FIELDS
        if values.get(name) in (None, "")
        and not (name == "valid_until" and values.get("long_term"))
    ]
    if missing:
        checks.fail(ReasonCode.I011_ID_CARD_UNREADABLE, f"fields not read: {', '.join(missing)}")
    _witnessed_places(front, back, values)
    doubtful = front.doubtful + back.doubtful
    if doubtful:
        checks.fail(
            ReasonCode.I024_ID_FIELD_DOUBTFUL,
            f"read differently on a second look: {', '.join(doubtful)}",
        )
    confidence = {**front.confidence, **back.confidence}
    _check_number(values, checks)
    _check_places(values, confidence, checks)
    _check_validity(values, application_date, checks)
    _check_claims(values, confidence, claimed_name, claimed_id_number, checks)
    return checks


def _witnessed_places(front: ParsedFields, back: ParsedFields, values: dict[str, object]) -> None:
    """The ID number's region (check digit held) as a witness of the places read. A county
    read one character off (a rare character read as a common one, 颍 as 颖) in the address or
    the authority, where it names no known place and the number's region names that county: put
    right, at repaired confidence (`address_one_off`, `authority_one_off`). An authority whose
    second looks disagreed (金阊 read as 金间 and 金闾) but whose first read names the bureau of
    the very county the address and the number both name: no longer doubtful. A read that names
    a known place is never changed; without the number's witness nothing is."""
    number = values.get("id_number")
    if not isinstance(number, str):
        return
    born = place_of_code(number[:6])
    if born is None or born.county is None:
        return
    try:
        parse_id_number(number)
    except InvalidIdNumber:
        return
    address = values.get("address")
    if isinstance(address, str) and (repaired := address_one_off(address, born.county)):
        confidence = min(front.confidence.get("address", 1.0), REPAIRED_CONFIDENCE)
        front.put("address", repaired, confidence)
        values["address"] = address = repaired
    authority = values.get("issuing_authority")
    home = place_of_address(address) if isinstance(address, str) else None
    if home is None or home.county != born.county or not isinstance(authority, str):
        return
    confidence = min(back.confidence.get("issuing_authority", 1.0), REPAIRED_CONFIDENCE)
    if repaired := authority_one_off(authority, home):
        back.put("issuing_authority", repaired, confidence)
        values["issuing_authority"] = repaired
    elif "issuing_authority" in back.doubtful:
        issuer = place_of_authority(authority)
        if issuer is not None and issuer.county == born.county:
            back.doubtful.remove("issuing_authority")
            back.put("issuing_authority", authority, confidence)


def _check_number(values: dict[str, object], checks: CardChecks) -> None:
    raw = values.get("id_number")
    if not isinstance(raw, str):
        return
    try:
        number = parse_id_number(raw)
    except InvalidIdNumber as exc:
        checks.fail(ReasonCode.I011_ID_CARD_UNREADABLE, f"ID number on the card: {exc}")
        return
    born = values.get("birth_date")
    if isinstance(born, date) and born != number.birth_date:
        checks.fail(ReasonCode.I011_ID_CARD_UNREADABLE, "birth date disagrees with the ID number")
    sex = values.get("sex")
    if sex in ("男", "女") and (sex == "男") != number.is_male:
        checks.fail(ReasonCode.I011_ID_CARD_UNREADABLE, "sex disagrees with the ID number")


def _check_places(
    values: dict[str, object], confidence: dict[str, float], checks: CardChecks
) -> None:
    """GB/T 2260: the address starts with a province and city, printed in full (`address_gap`),
    the issuing authority is that city's (or county's) bureau, and the number's region agrees,
    or was read surely."""
    address, authority, number = (
        values.get("address"),
        values.get("issuing_authority"),
        values.get("id_number"),
    )
    if not isinstance(address, str) or not isinstance(authority, str):
        return
    home = place_of_address(address)
    if home is None:
        checks.fail(
            ReasonCode.I011_ID_CARD_UNREADABLE, "address does not start with a known province"
        )
        return
    if gap := address_gap(address) or unnumbered(address) or misnumbered(address):
        checks.fail(ReasonCode.I011_ID_CARD_UNREADABLE, f"address incomplete: {gap}")
    issuer = place_of_authority(authority)
    if gap := authority_gap(authority):
        checks.fail(ReasonCode.I011_ID_CARD_UNREADABLE, f"issuing authority incomplete: {gap}")
    if issuer is None:
        checks.fail(
            ReasonCode.I011_ID_CARD_UNREADABLE,
            "issuing authority names no known city or county bureau",
        )
    elif not home.agrees(issuer) or (
        home.county
        and issuer.county
        and home.county[:4] == issuer.county[:4]
        and home.county != issuer.county
    ):
        checks.fail(
            ReasonCode.I011_ID_CARD_UNREADABLE, "issuing authority's region contradicts the address"
        )
    if not isinstance(number, str):
        return
    born = place_of_code(number[:6])
    if (born is None or not born.agrees(home)) and confidence.get(
        "id_number", 0.0
    ) < UNCORROBORATED_NUMBER_CONFIDENCE:
        checks.fail(
            ReasonCode.I024_ID_FIELD_DOUBTFUL,
            "ID number's region differs from the address and was not read surely",
        )


def unnumbered(address: str) -> str | None:
    """A house number's marker (号, 幢, 单元) with no number before it: 滨江大道145号 read as
    滨江大号 when glare erased 道145. Addresses number their houses, buildings and entrances
    with digits (or Chinese numerals); None when every marker has its number."""
    for marker in NUMBERED.finditer(address):
        start = max(0, marker.start() - 1)
        before, word = address[start : marker.start()], address[start : marker.end()]
        if not (before.isdigit() or before in NUMERALS) and word not in WORDS:
            return f"{marker.group()} without a number before it"
    return None


def misnumbered(address: str) -> str | None:
    """A number in digits followed by something no address puts after a number (1单一406室
    for 1单元2406室): the reading went wrong there. None when every number is followed by the
    word it numbers (`AFTER_NUMBER`)."""
    for number in re.finditer(r"\d+", address):
        if not AFTER_NUMBER.match(address, number.start()):
            return f"{address[number.start() : number.end() + 1]} is not a house number"
    return None


def _check_validity(values: dict[str, object], today: date, checks: CardChecks) -> None:
    start, end = values.get("valid_from"), values.get("valid_until")
    if not isinstance(start, date):
        return
    if start > today:
        checks.fail(ReasonCode.I011_ID_CARD_UNREADABLE, "validity starts after the application")
    if values.get("long_term"):
        return
    if not isinstance(end, date):
        return
    years = end.year - start.year
    same_day = (end.month, end.day) == (start.month, start.day) or (
        (start.month, start.day) == (2, 29) and (end.month, end.day) == (2, 28)
    )
    if years not in VALIDITY_YEARS or not same_day:
        checks.fail(
            ReasonCode.I011_ID_CARD_UNREADABLE,
            f"validity period of {years} years is not a legal one (5, 10, 20 or 长期)",
        )
    elif end < today:
        checks.fail(ReasonCode.I008_ID_EXPIRED, f"card expired on {end.isoformat()}")


def _check_claims(
    values: dict[str, object],
    confidence: dict[str, float],
    name: str | None,
    number: str | None,
    checks: CardChecks,
) -> None:
    """A field that differs from the applicant's entry is their mismatch (I010) only when the
    card was read confidently and every other check held; otherwise the reading is ours to
    doubt (I011: photograph it again)."""
    consistent = not any(code != ReasonCode.I008_ID_EXPIRED for code, _ in checks.failures)
    claims = (
        ("name", "name", None if name is None else clean(name)),
        ("id_number", "ID number", None if number is None else number.strip().upper()),
    )
    for field_name, words, claimed in claims:
        read = values.get(field_name)
        if claimed is None or not isinstance(read, str) or read == claimed:
            continue
        if consistent and confidence.get(field_name, 0.0) >= CLAIM_CONFIDENCE:
            checks.fail(ReasonCode.I010_ID_CARD_MISMATCH, f"{words} differs from the one entered")
        else:
            checks.fail(
                ReasonCode.I011_ID_CARD_UNREADABLE,
                f"{words} read doubtfully differs from the one entered",
            )
