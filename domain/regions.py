"""GB/T 2260 administrative divisions: the first six digits of an ID number, and the places an
address or an issuing authority names.

The table (`gb2260.tsv`, beside this module) holds every code used in any revision from 2002 to
2014 with its latest name, so the birth-registration code of an older card is still known. A
region is reduced to its province (two digits) and prefecture (four digits; a municipality such
as 北京市 is its own prefecture). Names are matched as printed on cards: an address starts with
its province, then its prefecture, then its county; an authority starts with the city or county
whose public security bureau issued the card (杭州市公安局西湖分局, 义乌市公安局).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_TABLE = Path(__file__).with_name("gb2260.tsv")
MUNICIPALITIES = ("11", "12", "31", "50")
# A county-level name the table (2002-2014) may not know yet, such as a county made a district
# since (南宁市武鸣区, 2015): a few characters ending in 区, 县, 市 or 旗.
_COUNTY_LIKE = re.compile(r"[\u4e00-\u9fff]{1,7}(?:区|县|市|旗)")
# Placeholders of the table, never printed on a card.
_PLACEHOLDERS = ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划")


@dataclass(frozen=True)
class Place:
    """Where a text or a code points: province and prefecture codes, the county when known."""

    province: str  # 2 digits
    prefecture: str | None  # 4 digits; the province's 2 digits + "00" for a municipality
    county: str | None = None  # 6 digits

    def agrees(self, other: Place) -> bool:
        """Same province, and same prefecture wherever both are known."""
        if self.province != other.province:
            return False
        return (
            self.prefecture is None
            or other.prefecture is None
            or (self.prefecture == other.prefecture)
        )


@cache
def table() -> dict[str, str]:
    names = {}
    for line in _TABLE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            code, name = line.split("\t")
            names[code] = name
    return names


def prefecture_key(code: str) -> str:
    return code[:2] + "00" if code[:2] in MUNICIPALITIES else code[:4]


def place_of_code(code: str) -> Place | None:
    """The place of a six-digit region code, None when GB/T 2260 never had it."""
    if not re.fullmatch(r"\d{6}", code) or code not in table():
        return None
    county = code if code[4:] != "00" else None
    prefecture = prefecture_key(code) if code[2:] != "0000" or code[:2] in MUNICIPALITIES else None
    return Place(province=code[:2], prefecture=prefecture, county=county)


def name_of(code: str) -> str | None:
    return table().get(code)


def province_name(code: str) -> str | None:
    return table().get(code[:2] + "0000")


def prefecture_name(code: str) -> str | None:
    """The prefecture's printed name (杭州市); the municipality's own name for 11, 12, 31, 50."""
    if code[:2] in MUNICIPALITIES:
        return province_name(code)
    name = table().get(code[:4] + "00")
    return None if name in _PLACEHOLDERS else name


def _short(name: str) -> str:
    for suffix in ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市"):
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


@cache
def _provinces() -> list[tuple[str, str]]:
    """(name as printed or shortened, code) longest first."""
    found = []
    for code, name in table().items():
        if code.endswith("0000"):
            found += [(name, code[:2]), (_short(name), code[:2])]
    return sorted(set(found), key=lambda item: -len(item[0]))


@cache
def _names_under(prefix: str, level: str) -> list[tuple[str, str]]:
    """Names of prefectures ("prefecture") or counties ("county") whose code starts with
    `prefix`, longest first."""
    found = []
    for code, name in table().items():
        if not code.startswith(prefix) or name in _PLACEHOLDERS or code.endswith("0000"):
            continue
        is_county = not code.endswith("00")
        if (level == "county") == is_county:
            found.append((name, code))
    return sorted(found, key=lambda item: -len(item[0]))


def _starting(text: str, names: list[tuple[str, str]]) -> tuple[str, str] | None:
    """The first (name, code) that `text` starts with; the lists are longest first."""
    return next(((n, c) for n, c in names if text.startswith(n)), None)


def _county(text: str, prefix: str) -> str | None:
    """The code of the county under `prefix` that `text` starts with."""
    found = _starting(text, _names_under(prefix, "county"))
    return found[1] if found else None


def _names_a_county(text: str, prefix: str) -> bool:
    """Whether `text` starts with a county of the prefecture or municipality `prefix`, or
    with a county-level name the table may not know yet; True where GB/T 2260 divides it into
    no counties (东莞市, 中山市): 江西省宜春市樟树市, never 江西省宜春市樟镇."""
    under = _names_under(prefix, "county")
    return not under or _starting(text, under) is not None or bool(_COUNTY_LIKE.match(text))


def place_of_address(text: str) -> Place | None:
    """The province, prefecture and county an address starts with; None when it does not start
    with a province."""
    province = _starting(text, _provinces())
    if province is None:
        return None
    rest, code = text[len(province[0]) :], province[1]
    if code in MUNICIPALITIES:
        rest = rest.removeprefix("市辖区").removeprefix("县")
        return Place(province=code, prefecture=code + "00", county=_county(rest, code))
    prefecture = _starting(rest, _names_under(code, "prefecture"))
    if prefecture is None:
        # a county directly under the province (省直辖县级行政区划, e.g. 仙桃市)
        county = _county(rest, code)
        return Place(province=code, prefecture=county[:4] if county else None, county=county)
    rest = rest[len(prefecture[0]) :]
    county_code = prefecture[1][:4]
    return Place(province=code, prefecture=county_code, county=_county(rest, county_code))


def address_gap(text: str) -> str | None:
    """What an address that starts with a known place lacks of the way a card prints it: the
    province's full name (四川省, never 四川), then a prefecture or county that GB/T 2260 knows
    under it, and, before a county, its prefecture's name (四川省广安市武胜县) unless GB/T 2260
    puts that county directly under the province (湖北省仙桃市); after a prefecture, one of its
    counties, and after a municipality one of its districts or counties (北京市东城区).
    A read that skips them lost print (glare, a fold); None when nothing is missing."""
    province = _starting(text, _provinces())
    if province is None:
        return None
    name, code = province
    full = province_name(code + "0000")
    if full and name != full:
        return f"province {full} read as {name}"
    rest = text[len(name) :]
    if code in MUNICIPALITIES:
        return None if _names_a_county(rest, code) else f"no district or county after {name}"
    if prefecture := _starting(rest, _names_under(code, "prefecture")):
        town, town_code = prefecture
        if _names_a_county(rest[len(town) :], town_code[:4]):
            return None
        return f"no district or county after {town}"
    counties = [c for n, c in _names_under(code, "county") if rest.startswith(n)]
    if not counties:
        # neither a prefecture nor a county: a name misread (日照市 as 曰照市) or lost
        return f"no known city or county after {name}"
    if not any(prefecture_name(c) is None for c in counties):
        return f"{name_of(counties[0])} without its prefecture {prefecture_name(counties[0])}"
    return None


@cache
def _authority_names() -> list[tuple[str, str]]:
    """Every municipality, prefecture and county name, longest first: an authority begins with
    the one whose bureau issued the card."""
    found = [(name, code) for code, name in table().items() if name not in _PLACEHOLDERS]
    return sorted(found, key=lambda item: -len(item[0]))


def place_of_authority(text: str) -> Place | None:
    """The place of an issuing authority such as 杭州市公安局西湖分局; None when it names no
    known city or county before 公安局."""
    head, sep, branch = text.partition("公安局")
    if not sep or not head:
        return None
    matches = [c for n, c in _authority_names() if head == n]
    if not matches:
        return None
    # the same county name in two provinces cannot be told apart from the authority alone
    places = {place_of_code(c) for c in matches}
    if len(places) != 1:
        provinces = {p.province for p in places if p}
        return Place(province=provinces.pop(), prefecture=None) if len(provinces) == 1 else None
    place = places.pop()
    if place is None:
        return None
    if place.county is None and branch.endswith("分局"):
        district = branch.removesuffix("分局")
        county = next(
            (
                c
                for n, c in _names_under(_county_prefix(place), "county")
                if district and (n == district or _short_county(n) == district)
            ),
            None,
        )
        return Place(province=place.province, prefecture=place.prefecture, county=county)
    return place


def authority_is_complete(text: str) -> bool:
    """A known authority that nothing can follow on the card: a sub-bureau (…分局), or the
    bureau of a county (a county-level city, county or banner), which has no sub-bureaus; a
    prefecture's bureau (杭州市公安局) may go on with one (西湖分局), and an authority naming no
    known place is not known to be complete."""
    place = place_of_authority(text)
    if place is None:
        return False
    return text.endswith("分局") or (text.endswith("公安局") and place.county is not None)


def authority_gap(text: str) -> str | None:
    """What an issuing authority lacks of the way a card prints it: a bureau (…公安局) or one of
    its sub-bureaus (…公安局…分局), nothing else after 公安局. A read that goes on after 公安局
    without ending in 分局 lost print (牡丹江市公安局东安 for …东安分局); None when complete."""
    _, sep, branch = text.partition("公安局")
    if sep and branch and not branch.endswith("分局"):
        return f"{text} ends without 分局"
    return None


def one_character_off(text: str, name: str) -> bool:
    """Same length, exactly one character different: a rare character read as a common one
    (颍上县 as 颖上县)."""
    return len(text) == len(name) and sum(a != b for a, b in zip(text, name, strict=True)) == 1


def authority_one_off(text: str, place: Place) -> str | None:
    """`text` with the place it names put right when it names no known place but reads the name
    of `place`'s county (or else its prefecture) one character off. None otherwise."""
    head, sep, branch = text.partition("公安局")
    if not sep or not head or place_of_authority(text) is not None:
        return None
    for code in (place.county, place.prefecture and place.prefecture + "00"):
        name = name_of(code) if code else None
        if name and one_character_off(head, name):
            return name + sep + branch
    return None


def address_one_off(address: str, county: str) -> str | None:
    """`address` with one name put right, for the province, prefecture and county of county
    code `county`: after the province, a prefecture that names no known place but reads that
    prefecture's name one character off (曰照市 for 日照市); or, after the province and
    prefecture, a county that names no known county but reads that county's name one character
    off (颖上县 for 颍上县). One character at most; None otherwise (municipalities' districts are
    left as read)."""
    place = place_of_address(address)
    name, province, prefecture = name_of(county), province_name(county), prefecture_name(county)
    if place is None or county[:2] in MUNICIPALITIES or not (name and province and prefecture):
        return None
    if not address.startswith(province):
        return None
    rest = address[len(province) :]
    if place.prefecture is None and one_character_off(rest[: len(prefecture)], prefecture):
        repaired = province + prefecture + rest[len(prefecture) :]
        found = place_of_address(repaired)
        return repaired if found is not None and found.county == county else None
    if place.county is not None or not rest.startswith(prefecture):
        return None
    rest = rest[len(prefecture) :]
    if not one_character_off(rest[: len(name)], name):
        return None
    return province + prefecture + name + rest[len(name) :]


def _county_prefix(place: Place) -> str:
    if place.province in MUNICIPALITIES or place.prefecture is None:
        return place.province
    return place.prefecture


def _short_county(name: str) -> str:
    return name[:-1] if len(name) > 2 and name[-1] in "区县市旗" else name


def branch_of(authority: str) -> str | None:
    """The district named by a sub-bureau (西湖 in 杭州市公安局西湖分局), None for a bureau."""
    _, sep, branch = authority.partition("公安局")
    if not sep or not branch.endswith("分局"):
        return None
    district = branch.removesuffix("分局")
    return district or None


def county_matches_branch(county_code: str, branch: str) -> bool:
    """Whether a sub-bureau named `branch` (西湖, 渝中区) is the bureau of that county."""
    name = name_of(county_code) or ""
    return branch in (name, _short_county(name))
