"""Properties of resident ID numbers (GB 11643-1999) and the masking helpers."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.idnumber import (
    InvalidIdNumber,
    check_digit,
    make_id_number,
    mask_card,
    mask_id_number,
    mask_phone,
    parse_id_number,
)

regions = st.from_regex(r"[1-8][0-9]{5}", fullmatch=True)
birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31))
sequences = st.integers(min_value=0, max_value=999)
id_numbers = st.builds(make_id_number, regions, birth_dates, sequences)


@given(regions, birth_dates, sequences)
def test_make_round_trips_through_parse(region: str, born: date, sequence: int) -> None:
    value = make_id_number(region, born, sequence)
    parsed = parse_id_number(value)
    assert parsed.value == value
    assert parsed.region == region
    assert parsed.birth_date == born
    assert parsed.is_male == (sequence % 2 == 1)


@given(id_numbers)
def test_lowercase_x_and_spaces_are_accepted(value: str) -> None:
    assert parse_id_number(f"  {value.lower()} ").value == value


@given(id_numbers)
def test_full_width_input_folds_to_the_same_canonical_value(value: str) -> None:
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in value)  # 0-9, X -> ０-９, Ｘ
    assert parse_id_number(full_width).value == value


@given(id_numbers, st.integers(min_value=0, max_value=17))
def test_non_ascii_digits_are_refused(value: str, position: int) -> None:
    if value[position] == "X":
        return
    arabic_indic = chr(0x0660 + int(value[position]))
    changed = value[:position] + arabic_indic + value[position + 1 :]
    with pytest.raises(InvalidIdNumber):
        parse_id_number(changed)
    if position < 17:
        with pytest.raises(InvalidIdNumber):
            check_digit(changed[:17])


@given(id_numbers, st.integers(min_value=0, max_value=17), st.integers(min_value=1, max_value=10))
def test_any_single_character_change_breaks_the_check_digit(
    value: str, position: int, shift: int
) -> None:
    alphabet = "0123456789X" if position == 17 else "0123456789"
    current = alphabet.index(value[position])
    changed_char = alphabet[(current + shift) % len(alphabet)]
    if changed_char == value[position]:
        return  # shift of a full turn on the 10-digit alphabet: no change to test
    changed = value[:position] + changed_char + value[position + 1 :]
    assert check_digit(changed[:17]) != changed[17]
    with pytest.raises(InvalidIdNumber):
        parse_id_number(changed)


@given(id_numbers, st.integers(min_value=0, max_value=15))
def test_swapping_adjacent_digits_is_caught(value: str, position: int) -> None:
    a, b = value[position], value[position + 1]
    if a == b:
        return
    swapped = value[:position] + b + a + value[position + 2 :]
    assert check_digit(swapped[:17]) != swapped[17]


@pytest.mark.parametrize(
    "born",
    ["18991231", "20230230", "20231301", "20230000", "20230431", "19000229", "00000000"],
)
def test_impossible_birth_dates_are_refused(born: str) -> None:
    first17 = f"110101{born}123"
    with pytest.raises(InvalidIdNumber):
        parse_id_number(first17 + check_digit(first17))


@given(st.one_of(st.text(max_size=30), st.from_regex(r"[0-9]{17}[0-9Xx]", fullmatch=True)))
def test_anything_else_is_refused_with_invalid_id_number(raw: str) -> None:
    # Never another exception type: callers map InvalidIdNumber to reason I001.
    try:
        parsed = parse_id_number(raw)
    except InvalidIdNumber:
        return
    assert len(parsed.value) == 18
    assert check_digit(parsed.value[:17]) == parsed.value[17]


@pytest.mark.parametrize(
    ("region", "born", "sequence"),
    [
        ("11010", date(1990, 1, 1), 1),
        ("11010a", date(1990, 1, 1), 1),
        ("110101", date(1990, 1, 1), 1000),
        ("110101", date(1990, 1, 1), -1),
        ("110101", date(1899, 12, 31), 1),
    ],
)
def test_make_refuses_what_parse_would_refuse(region: str, born: date, sequence: int) -> None:
    with pytest.raises(InvalidIdNumber):
        make_id_number(region, born, sequence)


def test_age_counts_whole_years() -> None:
    person = parse_id_number(make_id_number("110101", date(2000, 2, 29), 7))
    assert person.age_on(date(2022, 2, 28)) == 21
    assert person.age_on(date(2022, 3, 1)) == 22
    assert person.is_male


@given(id_numbers)
def test_masked_id_number_shows_only_the_edges(value: str) -> None:
    masked = mask_id_number(value)
    assert len(masked) == len(value)
    assert masked[:3] == value[:3] and masked[-4:] == value[-4:]
    assert set(masked[3:-4]) == {"*"}


@given(st.from_regex(r"1[0-9]{10}", fullmatch=True))
def test_masked_phone_shows_only_the_edges(phone: str) -> None:
    masked = mask_phone(phone)
    assert masked == phone[:3] + "****" + phone[-4:]


@given(st.from_regex(r"[0-9]{12,19}", fullmatch=True))
def test_masked_card_shows_only_the_last_four(card: str) -> None:
    masked = mask_card(card)
    assert len(masked) == len(card)
    assert masked[-4:] == card[-4:]
    assert set(masked[:-4]) == {"*"}


@pytest.mark.parametrize("short", ["", "1", "1234567"])
def test_short_values_are_fully_hidden(short: str) -> None:
    assert mask_id_number(short) == "***"
    assert mask_phone(short) == "****"
