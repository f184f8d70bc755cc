"""Parsing ID card fields from OCR lines placed on the card, and the checks on what was read:
by line position and label, with the recogniser's usual slips (labels merged with values, 漢
for 汉, letters for digits) and every rule of GB 11643 and the card."""

from __future__ import annotations

from datetime import date

import pytest

from domain.idnumber import make_id_number
from domain.reasons import ReasonCode
from vision.cardchecks import check_fields
from vision.idfields import (
    ETHNIC_GROUPS,
    REPAIRED_CONFIDENCE,
    TextLine,
    address_tail,
    normalise_ethnicity,
    normalise_id_number,
    parse_back,
    parse_front,
)

NUMBER = make_id_number("110101", date(1985, 6, 15), 11)  # odd order code: male


def line(text: str, left: float, top: float, *, score: float = 0.99, width: float = 0) -> TextLine:
    width = width or 30.0 * len(text)
    return TextLine(text=text, score=score, left=left, top=top, right=left + width, bottom=top + 34)


def front_lines(**overrides: str) -> list[TextLine]:
    """The front as RapidOCR returns it on the sample layout: labels as separate boxes."""
    values = {
        "name": "欧阳明",
        "sex": "男",
        "ethnicity": "民族汉",
        "birth": "1985年6月15日",
        "address1": "北京市东城区和平里东街18",
        "address2": "号院3号楼2单元501室",
        "number": NUMBER,
        **overrides,
    }
    return [
        line("姓名", 54, 62),
        line(values["name"], 159, 56),
        line("性别", 54, 130),
        line(values["sex"], 160, 128),
        line(values["ethnicity"], 250, 128),
        line("出生", 54, 200),
        line(values["birth"], 162, 200),
        line("住址", 52, 270),
        line(values["address1"], 161, 268),
        line(values["address2"], 162, 311),
        line("公民身份号码", 56, 453),
        line(values["number"], 258, 450, width=436),
        line("样本 SPECIMEN", 663, 505),
    ]


def back_lines(validity: str = "2016.06.15-2036.06.15") -> list[TextLine]:
    return [
        line("中华人民共和国", 267, 74),
        line("居民身份证", 244, 172),
        line("签发机关", 146, 380),
        line("北京市公安局东城分局", 296, 377),
        line("有效期限", 146, 452),
        line(validity, 296, 451, width=362),
    ]


def test_front_fields_by_position_and_label() -> None:
    parsed = parse_front(front_lines())
    assert parsed.problems == []
    assert parsed.values == {
        "id_number": NUMBER,
        "name": "欧阳明",
        "sex": "男",
        "ethnicity": "汉",
        "birth_date": date(1985, 6, 15),
        "address": "北京市东城区和平里东街18号院3号楼2单元501室",
    }
    assert all(0.98 < score <= 1 for score in parsed.confidence.values())


def test_labels_merged_with_values_and_missing_labels_are_parsed_by_order() -> None:
    lines = [ln for ln in front_lines(name="姓名欧阳明") if ln.text not in ("姓名", "出生", "住址")]
    parsed = parse_front(lines)
    assert parsed.values["name"] == "欧阳明"
    assert parsed.values["birth_date"] == date(1985, 6, 15)
    assert parsed.values["address"].startswith("北京市东城区")


def test_lines_in_the_portrait_column_and_the_specimen_mark_are_ignored() -> None:
    lines = [*front_lines(), line("口", 640, 200), line("居民", 700, 300)]
    assert parse_front(lines).values["address"] == "北京市东城区和平里东街18号院3号楼2单元501室"


def test_traditional_han_and_letters_for_digits_are_repaired_with_lower_confidence() -> None:
    noisy = "11O1O1I98506150115"
    assert noisy.translate(str.maketrans("OI", "01")) == NUMBER
    parsed = parse_front(front_lines(ethnicity="民族漢", number=noisy))
    assert parsed.values["ethnicity"] == "汉" and parsed.values["id_number"] == NUMBER
    assert parsed.confidence["ethnicity"] == REPAIRED_CONFIDENCE
    assert parsed.confidence["id_number"] == REPAIRED_CONFIDENCE


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("汉", "汉"),
        ("维吾尔族", "维吾尔"),
        ("維吾爾", "维吾尔"),
        ("柯尔克孜", "柯尔克孜"),
        ("柯尔克汝", "柯尔克孜"),
        ("火星", None),
        ("", None),
        ("汗", None),
    ],
)
def test_ethnicity_is_one_of_the_56_groups(raw: str, expected: str | None) -> None:
    assert len(ETHNIC_GROUPS) == 56 == len(set(ETHNIC_GROUPS))
    assert normalise_ethnicity(raw)[0] == expected


def test_an_unknown_ethnicity_is_a_problem_not_a_value() -> None:
    parsed = parse_front(front_lines(ethnicity="民族火星"))
    assert "ethnicity" not in parsed.values


def test_id_number_is_found_inside_noise() -> None:
    assert normalise_id_number(f"公民身份号码{NUMBER}") == (NUMBER, False)
    assert normalise_id_number("1101011985") == (None, False)
    assert normalise_id_number(NUMBER[:17] + "x") == (NUMBER[:17] + "X", False)


def test_back_validity_dated_and_long_term() -> None:
    parsed = parse_back(back_lines())
    assert parsed.problems == []
    assert parsed.values == {
        "issuing_authority": "北京市公安局东城分局",
        "valid_from": date(2016, 6, 15),
        "long_term": False,
        "valid_until": date(2036, 6, 15),
    }
    long_term = parse_back(back_lines("2006.01.01-长期"))
    assert long_term.values["long_term"] is True and long_term.values["valid_until"] is None
    # dots lost and a Chinese 一 read for the dash
    assert parse_back(back_lines("20160615一20360615")).values["valid_until"] == date(2036, 6, 15)


def test_unreadable_back_reports_both_fields() -> None:
    parsed = parse_back(back_lines("2016.13")[:4])
    assert parsed.problems == ["validity period unreadable"]
    assert "issuing authority unreadable" in parse_back([]).problems


def checked(front=None, back=None, today=date(2026, 11, 23), **claims):
    return check_fields(
        front or parse_front(front_lines()),
        back or parse_back(back_lines()),
        application_date=today,
        **claims,
    )


def test_a_consistent_card_passes_every_check() -> None:
    result = checked(claimed_name="欧阳明", claimed_id_number=NUMBER)
    assert result.failures == []


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"birth": "1985年6月16日"}, "birth date disagrees"),
        ({"sex": "女"}, "sex disagrees"),
        ({"number": NUMBER[:17] + ("0" if NUMBER[17] != "0" else "1")}, "check digit"),
    ],
)
def test_card_that_contradicts_its_own_number_is_unreadable(overrides, words) -> None:
    result = checked(front=parse_front(front_lines(**overrides)))
    assert result.reasons == [ReasonCode.I011_ID_CARD_UNREADABLE]
    assert any(words in detail for _, detail in result.failures)


def test_expired_card_is_i008_and_the_end_date_itself_is_still_valid() -> None:
    assert checked(today=date(2036, 6, 15)).failures == []
    expired = checked(today=date(2036, 6, 16))
    assert expired.reasons == [ReasonCode.I008_ID_EXPIRED]
    assert (
        checked(back=parse_back(back_lines("2006.01.01-长期")), today=date(2090, 1, 1)).failures
        == []
    )


def test_a_validity_period_of_no_legal_length_is_a_misread() -> None:
    result = checked(back=parse_back(back_lines("2016.06.15-2031.06.15")))
    assert result.reasons == [ReasonCode.I011_ID_CARD_UNREADABLE]


def test_entries_that_differ_from_the_card_are_i010() -> None:
    other = make_id_number("110101", date(1985, 6, 15), 13)
    result = checked(claimed_name="欧阳朋", claimed_id_number=other)
    assert result.reasons == [ReasonCode.I010_ID_CARD_MISMATCH]
    assert len(result.failures) == 2
    # full-width or spaced entry of the same name is the same name
    assert checked(claimed_name=" 欧阳明 ").failures == []


def test_a_doubtful_read_that_differs_from_the_entry_is_ours_not_theirs() -> None:
    doubtful = parse_front(
        [*front_lines()[:1], line("欧阳朋", 159, 56, score=0.7), *front_lines()[2:]]
    )
    result = checked(front=doubtful, claimed_name="欧阳明")
    assert result.reasons == [ReasonCode.I011_ID_CARD_UNREADABLE]


def test_missing_fields_are_listed() -> None:
    front = parse_front([ln for ln in front_lines() if ln.top < 100])
    result = checked(front=front)
    assert ReasonCode.I011_ID_CARD_UNREADABLE in result.reasons
    assert any(
        "fields not read" in detail and "id_number" in detail for _, detail in result.failures
    )


# Labels in a font the recogniser has not seen come back misread, alone or glued to their
# value (the independent evaluation's 名董刚 and 基皮帆关杭州市公安局西湖分局): they are found by
# their place on the card and removed whatever they were read as.


def glued(label: str, value: str, left: float, top: float, value_width: float) -> TextLine:
    """A label read as `label` and its value in one box: label 30 px a character, a gap, the
    value from x = left + 105."""
    return line(label + value, left, top, width=105 + value_width)


def test_misread_labels_read_alone_are_dropped_by_place() -> None:
    misread = {"姓名": "娃名", "性别": "牲刖", "出生": "岀牛", "住址": "住扯"}
    lines = [line(misread.get(ln.text, ln.text), ln.left, ln.top) for ln in front_lines()]
    parsed = parse_front(lines)
    assert parsed.problems == []
    assert parsed.values["name"] == "欧阳明"
    assert parsed.values["address"] == "北京市东城区和平里东街18号院3号楼2单元501室"


def test_labels_glued_and_misread_are_cut_at_the_value_column_of_the_wrapped_address() -> None:
    lines = [
        glued("皮帆", "欧阳明", 54, 62, 90),
        glued("性别", "男", 54, 130, 30),
        line("民族汉", 250, 128),
        glued("出生", "1985年6月15日", 54, 200, 300),
        glued("住址", "北京市东城区和平里东街18", 52, 270, 390),
        line("号院3号楼2单元501室", 162, 311),
        line("公民身份号码", 56, 453),
        line(NUMBER, 258, 450, width=436),
    ]
    parsed = parse_front(lines)
    assert parsed.problems == []
    assert parsed.values["name"] == "欧阳明"
    assert parsed.values["sex"] == "男" and parsed.values["ethnicity"] == "汉"
    assert parsed.values["address"] == "北京市东城区和平里东街18号院3号楼2单元501室"


def test_without_a_value_column_a_label_is_cut_by_its_characters_read_loosely() -> None:
    lines = [
        glued("名", "欧阳明", 54, 62, 90),
        glued("性别", "男", 54, 130, 30),
        line("民族汉", 250, 128),
        glued("出生", "1985年6月15日", 54, 200, 300),
        glued("住趾", "北京市东城区和平里东街18号", 52, 270, 420),
        line("公民身份号码", 56, 453),
        line(NUMBER, 258, 450, width=436),
    ]
    parsed = parse_front(lines)
    assert parsed.value_left is None
    assert parsed.values["name"] == "欧阳明"
    assert parsed.values["address"] == "北京市东城区和平里东街18号"


@pytest.mark.parametrize("row", [["男", "昆族汉"], ["男昆旅汉"], ["男", "民", "汉"]])
def test_ethnicity_after_a_misread_label(row: list[str]) -> None:
    lines = [ln for ln in front_lines() if not (128 <= ln.top <= 130 and ln.left > 100)]
    left = 160.0
    for text in row:
        lines.append(line(text, left, 128))
        left += 30 * len(text) + 20
    parsed = parse_front(lines)
    assert parsed.values["sex"] == "男" and parsed.values["ethnicity"] == "汉"


def test_back_label_misread_alone_still_gives_the_value_column() -> None:
    lines = [
        line("中华人民共和国", 267, 74),
        line("居民身份证", 244, 172),
        glued("基皮帆关", "杭州市公安局西湖分局", 146, 380, 300),
        line("有效期很", 146, 452),
        line("2016.06.15-2036.06.15", 296, 451, width=362),
    ]
    parsed = parse_back(lines)
    assert parsed.values["issuing_authority"] == "杭州市公安局西湖分局"


def test_an_address_at_the_cut_edge_of_the_card_gives_a_tail_strip_on_the_card() -> None:
    # a card cut by the photo's edge: the address starts at the flattened card's left border
    fields = parse_front([line(ln.text, max(ln.left - 60, 0), ln.top) for ln in front_lines()])
    fields.boxes["address"] = (1.0, 268.0, 400.0, 345.0)
    strip = address_tail(fields)
    assert strip is not None and strip[0] == 0


def test_a_label_read_exactly_is_cut_as_read_whatever_column_the_other_lines_suggest() -> None:
    """Both back labels glued to their values and no label read alone: the value column is
    guessed from a line that starts right of the labels, here the sample stamp misread as
    "本 SPECMEN"; the authority must still lose only its label (it lost all but 分局)."""
    lines = [
        TextLine("本 SPECMEN", 0.99, 659, 499, 805, 526),
        TextLine("有效期限2009.06.17-2029.06.17", 0.99, 148, 447, 655, 486),
        TextLine("签发机关呼和浩特市公安局新城区分局", 0.99, 144, 374, 721, 419),
        TextLine("居民身份证", 0.99, 248, 174, 698, 259),
        TextLine("中华人民共和国", 0.99, 268, 74, 618, 131),
    ]
    values = parse_back(lines).values
    assert values["issuing_authority"] == "呼和浩特市公安局新城区分局"
    assert values["valid_until"] == date(2029, 6, 17)


def test_a_stamp_right_of_glued_labels_is_not_taken_for_the_value_column() -> None:
    """The same card as above: the stamp starts at 659, but both glued rows say their values
    begin near 285 (the label's four characters of seventeen), so the second look, which crops
    from the value column, reads the whole authority (it had read 区分局 twice and kept it)."""
    lines = [
        TextLine("本SPECBMEN", 0.92, 660, 499, 804, 523),
        TextLine("有效期限 2009.06.17-2029.06.17", 0.99, 146, 440, 654, 487),
        TextLine("签发机关呼和浩特市公安局新城区分局", 0.99, 144, 374, 721, 419),
    ]
    parsed = parse_back(lines)
    assert parsed.value_left is not None and 275 < parsed.value_left < 295
