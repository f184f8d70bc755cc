"""Fields of a resident ID card from OCR lines placed on the upright card.

The reader (`vision.idcard`) hands over text lines in card coordinates (856 x 540, the card's
own layout in tenths of a millimetre), so a field is found by where its line sits, with the
printed labels (姓名, 性别, 民族, 出生, 住址, 公民身份号码; 签发机关, 有效期限) confirming and
then removed from the values. Each field keeps the lowest recognition score of the lines it
came from as its confidence; a value repaired here (a traditional character, a letter read for
a digit) is capped at `REPAIRED_CONFIDENCE` so that nobody mistakes a repair for a clean read.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from vision.cardlabels import (
    char_weight,
    label_prefix,
    label_prefixes,
    leading_label,
    value_start,
)

CARD_W, CARD_H = 856, 540
# Card form of the 56 groups (GB 3304 order), as printed after 民族, without 族.
ETHNIC_GROUPS = (
    "汉 蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 高山 "
    "拉祜 水 东乡 纳西 景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 "
    "塔吉克 怒 乌孜别克 俄罗斯 鄂温克 德昂 保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺"
).split()
# Traditional forms the recogniser may return (it reads 汉 as 漢 on some prints).
_TRADITIONAL = str.maketrans(
    "漢滿維爾壯鮮納頗達倫錫烏別羅溫獨龍門東瑤畬", "汉满维尔壮鲜纳颇达伦锡乌别罗温独龙门东瑶畲"
)
# Characters an OCR model confuses with digits inside an ID number.
_DIGIT_LOOKALIKES = str.maketrans(
    {
        "O": "0",
        "o": "0",
        "D": "0",
        "I": "1",
        "l": "1",
        "|": "1",
        "Z": "2",
        "S": "5",
        "B": "8",
        "x": "X",
        "×": "X",
    }
)
REPAIRED_CONFIDENCE = 0.6
FRONT_LABELS = ("公民身份号码", "姓名", "性别", "民族", "出生", "住址")
BACK_LABELS = ("签发机关", "有效期限")
_NOISE = ("样本", "SPECIMEN")
# Front layout as fractions of the card: the portrait column starts at 64% of the width.
PORTRAIT_X = 0.64
# Address lines: 3 mm characters on a 4.2 mm pitch, in card pixels.
LINE_HEIGHT, LINE_PITCH = 30, 42
_ID_RE = re.compile(r"[0-9]{17}[0-9X]")
_BIRTH_RE = re.compile(r"(\d{4})\D{0,2}?(\d{1,2})\D{0,2}?(\d{1,2})")
_DATE = r"(\d{4})\D?(\d{2})\D?(\d{2})"
VALIDITY_RE = re.compile(_DATE + r"\D{0,3}?(?:" + _DATE + r"|(长期))")


@dataclass(frozen=True)
class TextLine:
    """One recognised line: text, recognition score and its box on the upright card."""

    text: str
    score: float
    left: float
    top: float
    right: float
    bottom: float

    @property
    def cx(self) -> float:
        return (self.left + self.right) / 2

    @property
    def cy(self) -> float:
        return (self.top + self.bottom) / 2

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass
class ParsedFields:
    """Values read from one side; `confidence` by field name, `problems` in plain words."""

    values: dict[str, object] = field(default_factory=dict)
    confidence: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    # (left, top, right, bottom) of the lines a field came from, on the card
    boxes: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    # the lines each field was read from, and where values start right of the labels (card x)
    sources: dict[str, list[TextLine]] = field(default_factory=dict)
    value_left: float | None = None
    label_left: float | None = None  # the label column's left edge (card x)
    # fields whose reads disagreed after a second look (vision.idcard.confirm)
    doubtful: list[str] = field(default_factory=list)

    def put(self, name: str, value: object, score: float) -> None:
        self.values[name] = value
        self.confidence[name] = round(float(score), 4)


def clean(text: str) -> str:
    """NFKC (full-width digits and letters to ASCII), no spaces, one middle dot for names."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"\s+", "", text)
    return re.sub(r"[.•・･∙⋅]", "·", text) if not re.search(r"\d", text) else text


def _strip_labels(text: str, labels: tuple[str, ...]) -> str:
    for label in labels:
        text = text.replace(label, "")
    return text


def rows(lines: list[TextLine]) -> list[list[TextLine]]:
    """Lines grouped into rows by vertical overlap, top to bottom, each row left to right."""
    result: list[list[TextLine]] = []
    for line in sorted(lines, key=lambda item: item.cy):
        row = result[-1] if result else None
        if row and abs(line.cy - sum(x.cy for x in row) / len(row)) < 0.5 * max(
            line.height, row[0].height
        ):
            row.append(line)
        else:
            result.append([line])
    return [sorted(row, key=lambda item: item.left) for row in result]


def _row_text(row: list[TextLine], labels: tuple[str, ...]) -> tuple[str, float]:
    text = _strip_labels("".join(clean(line.text) for line in row), labels)
    return text, min(line.score for line in row)


def normalise_ethnicity(raw: str) -> tuple[str | None, bool]:
    """The group named by `raw` and whether it had to be repaired; None when it names none."""
    text = raw.removesuffix("族")
    if text in ETHNIC_GROUPS:
        return text, False
    mapped = text.translate(_TRADITIONAL).removesuffix("族")
    if mapped in ETHNIC_GROUPS:
        return mapped, True
    # one wrong character in a name of two or more is a misread, not another group
    near = [g for g in ETHNIC_GROUPS if len(g) >= 2 and _one_off(g, mapped)]
    return (near[0], True) if len(near) == 1 else (None, False)


def _one_off(a: str, b: str) -> bool:
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1


def normalise_id_number(raw: str) -> tuple[str | None, bool]:
    """The 18-character number inside `raw`, with letters read for digits put right."""
    plain = re.sub(r"[^0-9Xx]", "", raw)
    if match := _ID_RE.search(plain.upper()):
        return match.group(0), False
    mapped = re.sub(r"[^0-9X]", "", raw.translate(_DIGIT_LOOKALIKES))
    if match := _ID_RE.search(mapped):
        return match.group(0), True
    return None, False


def _date(year: str, month: str, day: str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def parse_front(lines: list[TextLine]) -> ParsedFields:
    """Name, sex, ethnicity, birth date, address and ID number from the front's text column.

    The number's row is found wherever it lies (a photo may put it past the column); the
    labels found on the card say where values start, so a label glued to its value and misread
    is cut off by position, whatever the recogniser made of it."""
    out = ParsedFields()
    lines = [line for line in lines if not any(n in line.text for n in _NOISE)]
    id_row = _id_row(lines)
    if id_row is None:
        out.problems.append("no ID number line")
        floor: float = CARD_H
    else:
        text, score = _row_text(id_row, FRONT_LABELS)
        out.boxes["id_number"] = _union(id_row)
        number, repaired = normalise_id_number(text)
        if number is None:
            out.problems.append("ID number unreadable")
        else:
            out.put("id_number", number, min(score, REPAIRED_CONFIDENCE) if repaired else score)
            out.sources["id_number"] = [ln for ln in id_row if _digits(ln) >= 6] or id_row
        floor = min(line.top for line in id_row)
    column = [
        line
        for line in lines
        if line.cx < PORTRAIT_X * CARD_W
        and line.cy < floor
        and (id_row is None or line not in id_row)
    ]
    body = rows(column)
    out.label_left, out.value_left = value_start(body, _COLUMN_LABELS, clean)
    _parse_front_body(body, out)
    return out


def _digits(line: TextLine) -> int:
    return len(re.findall(r"[0-9X]", clean(line.text).upper().translate(_DIGIT_LOOKALIKES)))


def _id_row(lines: list[TextLine]) -> list[TextLine] | None:
    """The lines beside the one holding most of the number's digits (or its label)."""
    numbers = [line for line in lines if _digits(line) >= 15]
    labels = [line for line in lines if "公民身份" in clean(line.text)]
    if numbers:
        anchor = max(numbers, key=lambda line: (_digits(line), line.cy))
    elif labels:
        anchor = max(labels, key=lambda line: line.cy)
    else:
        return None
    row = [
        line
        for line in lines
        if abs(line.cy - anchor.cy) < 0.5 * max(line.height, anchor.height)
        and (line is anchor or _digits(line) >= 6 or "公民" in line.text or "号码" in line.text)
    ]
    return sorted(row, key=lambda item: item.left)


def _cut_by_place(line: TextLine, text: str, value_left: float) -> int:
    per = (line.right - line.left) / sum(char_weight(c) for c in text)
    covered, cut = line.left, 0
    while cut < len(text) and covered + 0.5 * per * char_weight(text[cut]) < value_left:
        covered += per * char_weight(text[cut])
        cut += 1
    return cut


def cut_label(line: TextLine, value_left: float | None, label: str | None = None) -> str:
    """The text of `line` without the label glued to its start, whatever it was read as: the
    characters printed left of the value column, counted by their width; where the label's
    own characters were read (loosely, `label_prefixes`), or else its printed length, lies
    within one character of that count, that. Without a value column only a label read that
    way is cut."""
    text = clean(line.text)
    if not text or (value_left is not None and line.left >= value_left - 0.4 * line.height):
        return text
    if label and text.startswith(label):
        # read exactly, the label is its own characters, whatever a column inferred from other
        # lines (a stamp, a wrapped line) says
        return text[len(label) :]
    by_text = label_prefixes(text, label) if label else []
    if value_left is None:
        return text[by_text[0] :] if by_text else text
    by_place = _cut_by_place(line, text, value_left)
    # a label is printed with its own number of characters, read one for one unless the
    # recogniser said otherwise; the width count may be one off where a gap follows the label
    near = [n for n in by_text or ([len(label)] if label else []) if abs(n - by_place) <= 1]
    return text[(near[0] if near else by_place) :]


def _has_id(row: list[TextLine]) -> bool:
    text = "".join(clean(line.text) for line in row)
    return (
        "公民身份" in text or re.search(r"[0-9]{15}", text.translate(_DIGIT_LOOKALIKES)) is not None
    )


def _parse_front_body(body: list[list[TextLine]], out: ParsedFields) -> None:
    """Rows above the number: by label where one was read (exactly anywhere in the row, or
    loosely at the start of a row in the label column, in the labels' order), else by order
    (name, sex and ethnicity, birth, then every remaining row is the address)."""
    slots: dict[str, list[list[TextLine]]] = {"name": [], "sex": [], "birth": [], "address": []}
    order = ["name", "sex", "birth", "address"]
    position = 0
    for row in body:
        text = "".join(clean(line.text) for line in row)
        label = _row_label(row, text, out, order[min(position, len(order) - 1) :])
        if label is None:
            label = "address" if position >= len(order) else order[position]
            if label == "birth" and not re.search(r"\d{4}", text):
                label = "address"
        slots[label].append(row)
        position = max(position, order.index(label) + (0 if label == "address" else 1))
    for slot, handler in _FRONT_HANDLERS.items():
        if slots[slot]:
            handler(slots[slot], out)
        else:
            out.problems.append(f"no {slot} line")


_LABELS = {"name": ("姓名",), "sex": ("性别", "民族"), "birth": ("出生",), "address": ("住址",)}
_SLOT_LABEL = {"name": "姓名", "sex": "性别", "birth": "出生", "address": "住址"}
_COLUMN_LABELS = tuple(_SLOT_LABEL.values())


def _in_label_column(line: TextLine, out: ParsedFields) -> bool:
    if out.value_left is not None and line.left >= out.value_left - 0.4 * line.height:
        return False
    return out.label_left is None or line.left < out.label_left + line.height


def _row_label(row: list[TextLine], text: str, out: ParsedFields, ahead: list[str]) -> str | None:
    """The slot a row's label names: a label read exactly anywhere in it, else a label read
    loosely at the start of its first line in the label column, among the slots not yet
    passed (the labels' order on the card)."""
    exact = next((slot for slot, words in _LABELS.items() if any(w in text for w in words)), None)
    if exact is not None or not _in_label_column(row[0], out):
        return exact
    first = clean(row[0].text)
    return next((slot for slot in ahead if label_prefix(first, _SLOT_LABEL[slot])), None)


def _cut_row(row: list[TextLine], out: ParsedFields, label: str | None) -> tuple[str, float]:
    """A row's text with its label removed by the label's place: a label read alone (one box
    or two) is dropped, a label glued to the value is cut at the value column (`cut_label`),
    whatever the recogniser read it as."""
    alone = leading_label(row, (label,), clean) if label else 0
    parts = []
    for n, line in enumerate(row):
        if n < alone or (out.value_left is not None and line.right < out.value_left):
            continue
        if n == alone and label and _in_label_column(line, out):
            parts.append(cut_label(line, out.value_left, label))
        else:
            parts.append(clean(line.text))
    return _strip_labels("".join(parts), FRONT_LABELS), min(line.score for line in row)


def _name(found: list[list[TextLine]], out: ParsedFields) -> None:
    text, score = _cut_row(found[0], out, "姓名")
    out.sources["name"] = found[0]
    name = re.sub(r"[^\u3400-\u9fff·]", "", text).strip("·")
    if name:
        out.put("name", name, score)
    else:
        out.problems.append("name unreadable")


def _sex_and_ethnicity(found: list[list[TextLine]], out: ParsedFields) -> None:
    row = found[0]
    score = min(line.score for line in row)
    text, _ = _cut_row(row, out, "性别")
    before, _, after = text.partition("民族")
    if not after:
        # 民族 not read as such: the sex is a 男/女 at the start, then the misread label
        sex_at = next((n for n, c in enumerate(text[:2]) if c in "男女"), -1)
        before, after = text[: sex_at + 1], text[sex_at + 1 :]
        after = _after_ethnicity_label(after)
    put_sex(out, before, score)
    put_ethnicity(out, after, score)


def _after_ethnicity_label(text: str) -> str:
    """The group after a 民族 label read loosely, or after its two printed characters when
    that leaves a group as it stands; else `text` unchanged (and refused later)."""
    for cut in label_prefixes(text, "民族"):
        if normalise_ethnicity(text[cut:])[0]:
            return text[cut:]
    rest = text[2:]
    if rest and normalise_ethnicity(rest) == (rest.removesuffix("族"), False):
        return rest
    return text


def put_sex(out: ParsedFields, text: str, score: float) -> bool:
    sex = re.sub(r"[^男女]", "", _strip_labels(clean(text), FRONT_LABELS))
    if len(sex) != 1:
        return False
    out.put("sex", sex, score)
    return True


def put_ethnicity(out: ParsedFields, text: str, score: float) -> bool:
    raw = re.sub(r"[^\u3400-\u9fff]", "", _strip_labels(clean(text), FRONT_LABELS))
    group, repaired = normalise_ethnicity(raw) if raw else (None, False)
    if group is None:
        return False
    out.put("ethnicity", group, min(score, REPAIRED_CONFIDENCE) if repaired else score)
    return True


# Where the short values sit (fractions of the card), for a second look when the line detector
# missed a lone character such as 女: right of their labels on the second row.
VALUE_REGIONS = {"sex": (0.17, 0.21, 0.30, 0.34), "ethnicity": (0.39, 0.21, 0.64, 0.34)}


def value_region(name: str, lines: list[TextLine]) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) in card pixels where the value of `name` should be: beside
    its label when the label was read, else at its place in the layout."""
    left, top, right, bottom = VALUE_REGIONS[name]
    box = [left * CARD_W, top * CARD_H, right * CARD_W, bottom * CARD_H]
    label = "性别" if name == "sex" else "民族"
    for line in lines:
        text = clean(line.text)
        if text.startswith(label) and len(text) <= len(label) + 1:
            pad = 0.3 * line.height
            box = [
                line.right + 4,
                line.top - pad,
                line.right + (box[2] - box[0]),
                line.bottom + pad,
            ]
    return (int(box[0]), int(max(box[1], 0)), int(min(box[2], CARD_W)), int(min(box[3], CARD_H)))


def birth_date(text: str) -> date | None:
    match = _BIRTH_RE.search(text)
    return _date(*match.groups()) if match else None


def _birth(found: list[list[TextLine]], out: ParsedFields) -> None:
    text, score = _row_text(found[0], FRONT_LABELS)
    out.sources["birth_date"] = [line for line in found[0] if clean(line.text) not in FRONT_LABELS]
    match = _BIRTH_RE.search(text)
    born = _date(*match.groups()) if match else None
    if born is None:
        out.problems.append("birth date unreadable")
    else:
        out.put("birth_date", born, score)


def _address(found: list[list[TextLine]], out: ParsedFields) -> None:
    parts = [_cut_row(row, out, "住址" if n == 0 else None) for n, row in enumerate(found)]
    text = "".join(part for part, _ in parts)
    out.sources["address"] = [
        line for row in found for line in row if clean(line.text) not in FRONT_LABELS
    ]
    if len(text) >= 4:
        out.put("address", text, min(score for _, score in parts))
        values = [line for row in found for line in row if clean(line.text) != "住址"]
        out.boxes["address"] = _union(values or found[-1])
    else:
        out.problems.append("address unreadable")


def _union(lines: list[TextLine]) -> tuple[float, float, float, float]:
    return (
        min(x.left for x in lines),
        min(x.top for x in lines),
        max(x.right for x in lines),
        max(x.bottom for x in lines),
    )


def address_tail(fields: ParsedFields) -> tuple[int, int, int, int] | None:
    """Where one more address line would be, below the last one read and above the number:
    a last line holding a single character (室, 号) is the one the line detector misses."""
    box = fields.boxes.get("address")
    if box is None:
        return None
    left, top, right, bottom = box
    rows = max(1, round((bottom - top) / LINE_PITCH))
    pitch = (bottom - top) / rows if rows > 1 else LINE_PITCH
    floor = fields.boxes.get("id_number", (0, CARD_H * 0.82, 0, 0))[1]
    tail_bottom = min(bottom + pitch, floor - 2)
    if tail_bottom - bottom < 0.6 * LINE_HEIGHT:
        return None
    # a card cut by the photo's edge may start its address at x = 0: the strip stays on the card
    return (
        max(int(left) - 4, 0),
        int(bottom),
        int(min(PORTRAIT_X * CARD_W, right)),
        int(tail_bottom),
    )


_FRONT_HANDLERS = {"name": _name, "sex": _sex_and_ethnicity, "birth": _birth, "address": _address}


def parse_back(lines: list[TextLine]) -> ParsedFields:
    """Issuing authority and validity period from the lower half of the back: the validity by
    its dates or label, the authority by its label (read loosely at the start of its row) or
    by naming a public security bureau."""
    out = ParsedFields()
    lower = [
        line
        for line in lines
        if line.cy > 0.55 * CARD_H and not any(n in clean(line.text) for n in _NOISE)
    ]
    back_rows = rows(lower)
    out.label_left, out.value_left = value_start(back_rows, BACK_LABELS, clean)
    authority: tuple[str, float] | None = None
    validity: tuple[str, float] | None = None
    for row in back_rows:
        text, score = _row_text(row, BACK_LABELS)
        joined = "".join(clean(line.text) for line in row)
        if "有效期" in joined or VALIDITY_RE.search(text.replace("一", "-")):
            validity = validity or (text, score)
        elif "签发" in joined or "公安" in text or _starts_with(row, "签发机关", out):
            if authority is None:
                authority = (_authority_text(row, out), score)
                out.sources["issuing_authority"] = row
    if authority and authority[0]:
        out.put("issuing_authority", authority[0], authority[1])
    else:
        out.problems.append("issuing authority unreadable")
    _validity(validity, out)
    return out


def _starts_with(row: list[TextLine], label: str, out: ParsedFields) -> bool:
    return _in_label_column(row[0], out) and label_prefix(clean(row[0].text), label) is not None


def _authority_text(row: list[TextLine], out: ParsedFields) -> str:
    """The authority with its label removed by place (`_cut_row`'s rule on the back)."""
    alone = leading_label(row, ("签发机关",), clean)
    parts = []
    for n, line in enumerate(row):
        if n < alone or (out.value_left is not None and line.right < out.value_left):
            continue
        text = clean(line.text)
        if n == alone and _in_label_column(line, out):
            text = cut_label(line, out.value_left, "签发机关")
        parts.append(_strip_labels(text, BACK_LABELS))
    return re.sub(r"[^\u3400-\u9fff]", "", "".join(parts))


def _validity(found: tuple[str, float] | None, out: ParsedFields) -> None:
    match = VALIDITY_RE.search(found[0].replace("一", "-")) if found else None
    if found is None or match is None:
        out.problems.append("validity period unreadable")
        return
    score = found[1]
    start = _date(*match.group(1, 2, 3))
    if start is None:
        out.problems.append("validity start is not a date")
        return
    out.put("valid_from", start, score)
    if match.group(7):
        out.put("long_term", True, score)
        out.put("valid_until", None, score)
        return
    end = _date(*match.group(4, 5, 6))
    if end is None:
        out.problems.append("validity end is not a date")
        return
    out.put("long_term", False, score)
    out.put("valid_until", end, score)
