"""Reading both sides of a resident ID card from phone photos.

Per side: find the card (`vision.card`); a photo too small to read (I022) or a card cut by the
photo's edge (I021) is refused before anything is read; a card whose corner runs past the edge
only by a sliver of its blank margin is read. Flatten it, check that it is dark or sharp enough
to read, stretch its contrast, read every line once (`vision.ocr`), decide which way up the card
lies from where its anchor lines landed, and parse the fields by their position relative to the
labels found on the card (`vision.idfields`). Then the second look: every free-text field and
the number are read again from their own enlarged crop, a disagreement gets a third read, no
majority leaves the field doubtful (I024). Saturated glare where print may be hidden, or a veil
of reflected light where a line of free text ends, is I023; a pale, evenly lit card is not
refused for its brightness. What was read is then checked by `vision.cardchecks`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import cv2
import numpy as np

from domain.reasons import ReasonCode
from domain.regions import authority_is_complete
from vision.card import (
    card_width,
    cut_by_edge,
    cut_off,
    glare,
    grazes_border,
    half_turn,
    locate_card,
    rectify,
    veiled_end,
)
from vision.faces import FaceBox, FaceModels
from vision.idfields import (
    CARD_H,
    CARD_W,
    PORTRAIT_X,
    REPAIRED_CONFIDENCE,
    VALIDITY_RE,
    ParsedFields,
    TextLine,
    address_tail,
    birth_date,
    clean,
    cut_label,
    normalise_id_number,
    parse_back,
    parse_front,
    put_ethnicity,
    put_sex,
    rows,
    value_region,
)
from vision.images import (
    BadImage,
    Quality,
    QualityGates,
    VisionError,
    measure_quality,
    to_gray,
)
from vision.ocr import MIN_LINE_SCORE, OcrReader

# Measured on flattened synthetic cards (the harsh set of bench/vision_ocr.py): the reader reads
# every field at a card brightness of 20 (contrast is stretched first), but misses characters
# once the blur measure (`card_quality`) drops below ~10, which a defocus of sigma 2.3 card px
# does; usable photos (random_distortion) score 30 and up. Below the gates the applicant is
# asked for a retake (I014 too dark, I015 blurred) rather than being half read.
# No upper brightness gate on the card's mean: a pale, well-lit card back is readable; what a
# person cannot read is print under a saturated reflection (`glare`).
CARD_GATES = QualityGates(min_brightness=22, max_brightness=256, min_sharpness=10)
# The portrait is a small print on the card: usable photos (random_distortion) give face crops
# of brightness 42+ and sharpness 8+ that still encode within 0.25 of the original photo; below
# brightness 25 or sharpness 6 the encoding drifts by 0.4-0.6, as far as another person's.
PORTRAIT_GATES = QualityGates(min_brightness=25, max_brightness=235, min_sharpness=6)
# A photo this dark overall hides the card's outline: say so rather than "no card found".
MIN_PHOTO_BRIGHTNESS = 12
# The card's width in the photo below which 3 mm characters are under ~13 px: the reader
# misreads them (measured: small real photos 215-401 px wide were all misread), so ask for a
# closer photo instead of calling it blurred.
MIN_CARD_PIXELS = 480
# Fields read twice (the second time from their own crop, enlarged): two reads that disagree
# get a third; no majority is a doubtful field, refused with I024.
CONFIRMED_FIELDS = ("name", "birth_date", "address", "id_number", "issuing_authority")
# Fields nothing else checks character by character (the number has its check digit, the
# dates and sex their agreement with it, the ethnic group its list of 56).
FREE_TEXT_FIELDS = ("name", "address", "issuing_authority")
# Glare over this share of the place where a wrapped address line starts (two characters wide)
# may have hidden its first character (`_starts_under`).
STARTS_UNDER = 0.25


class CardRejected(VisionError):
    """The photo shows no readable card side."""


@dataclass(frozen=True)
class SideReading:
    card: np.ndarray  # flattened, upright when `turned` was detected
    fields: ParsedFields
    turned: bool  # the card lay upside down in the photo
    whole_photo: bool  # no outline found: the photo was taken as the card
    quality: Quality
    lines: int


@dataclass(frozen=True)
class Portrait:
    rgb: np.ndarray  # the flattened card, upright
    box: FaceBox


def flatten(rgb: np.ndarray) -> tuple[np.ndarray, bool]:
    """The card in the photo, flattened (maybe upside down); raises CardRejected (I011)."""
    quad = locate_card(rgb)
    if quad is None:
        raise CardRejected(ReasonCode.I011_ID_CARD_UNREADABLE, "no card found in the photo")
    return rectify(rgb, quad), quad.whole_photo


def stretch(card: np.ndarray) -> np.ndarray:
    """Map the card's own dark and light points (1st and 99th percentile) to 0 and 255."""
    gray = to_gray(card)
    low, high = np.percentile(gray, (1, 99))
    if high - low < 10:
        return card
    scaled = (card.astype(np.float32) - low) * (255.0 / (high - low))
    return np.clip(scaled, 0, 255).astype(np.uint8)


def _turn_lines(lines: list[TextLine]) -> list[TextLine]:
    return [
        TextLine(
            text=line.text,
            score=line.score,
            left=CARD_W - line.right,
            top=CARD_H - line.bottom,
            right=CARD_W - line.left,
            bottom=CARD_H - line.top,
        )
        for line in lines
    ]


def _is_anchor(line: TextLine, side: str) -> bool:
    """The bottom line of a side: the ID number (front) or the validity period (back)."""
    text = clean(line.text)
    if side == "front":
        return "公民身份" in text or re.search(r"[0-9]{15}", text) is not None
    return "有效期" in text or VALIDITY_RE.search(text) is not None


def upside_down(lines: list[TextLine], side: str) -> bool:
    """Whether the anchor lines sit in the top half: the card lies turned by half a turn."""
    anchors = [line for line in lines if _is_anchor(line, side)]
    if not anchors:
        return False
    return float(np.mean([line.cy for line in anchors])) < CARD_H / 2


def card_quality(card: np.ndarray) -> Quality:
    """Brightness of the card as photographed, and a blur measure that light does not move:
    the Laplacian variance of the contrast-stretched card, smoothed first so that the sensor
    noise a dim photo carries is not taken for sharp detail."""
    gray = to_gray(card)
    smooth = cv2.GaussianBlur(to_gray(stretch(card)).astype(np.float32), (0, 0), 1.0)
    return Quality(
        brightness=float(gray.mean()), sharpness=float(cv2.Laplacian(smooth, cv2.CV_32F).var())
    )


def read_side(rgb: np.ndarray, side: str, ocr: OcrReader) -> SideReading:
    """Read one side ("front" or "back") of the card photographed in `rgb`; raises BadImage
    (I014, I015, I022) or CardRejected (I011, I021, I023) when there is nothing worth reading."""
    photo = measure_quality(to_gray(rgb))
    if photo.brightness < MIN_PHOTO_BRIGHTNESS:
        CARD_GATES.check(photo, f"card {side} photo")
    if max(rgb.shape[:2]) < MIN_CARD_PIXELS:
        raise BadImage(
            ReasonCode.I022_IMAGE_TOO_SMALL,
            f"card {side} photo is {rgb.shape[1]}x{rgb.shape[0]} px, too small to read",
        )
    quad = locate_card(rgb)
    if quad is None or (cut_by_edge(rgb, quad) and not grazes_border(rgb, quad)):
        if cut_off(rgb, quad):
            raise CardRejected(
                ReasonCode.I021_ID_CARD_CUT_OFF, f"the card {side} is cut by the photo's edge"
            )
        if quad is None:
            raise CardRejected(ReasonCode.I011_ID_CARD_UNREADABLE, "no card found in the photo")
    width = card_width(quad)
    if width < MIN_CARD_PIXELS:
        raise BadImage(
            ReasonCode.I022_IMAGE_TOO_SMALL,
            f"card {side} is {width:.0f} px wide in the photo, too small to read",
        )
    card, whole = rectify(rgb, quad), quad.whole_photo
    quality = card_quality(card)
    CARD_GATES.check(quality, f"card {side}")
    stretched = stretch(card)
    lines = ocr.read(stretched)
    turned = upside_down(lines, side)
    if turned:
        lines = _turn_lines(lines)
    upright_stretched = half_turn(stretched) if turned else stretched
    fields = parse_front(lines) if side == "front" else parse_back(lines)
    confirm(fields, upright_stretched, ocr)
    if side == "front":
        _second_look(fields, lines, upright_stretched, ocr)
    other = "back" if side == "front" else "front"
    if not any(_is_anchor(line, side) for line in lines) and any(
        _is_anchor(line, other) for line in lines
    ):
        fields.problems.insert(0, f"the {side} photo shows the {other} of the card")
    upright = half_turn(card) if turned else card
    _check_glare(upright, side, fields)
    return SideReading(
        card=upright,
        fields=fields,
        turned=turned,
        whole_photo=whole,
        quality=quality,
        lines=len(lines),
    )


def _text_area(side: str) -> tuple[float, float, float, float]:
    if side == "front":
        return 0.0, 0.0, PORTRAIT_X * CARD_W, CARD_H
    return 0.1 * CARD_W, 0.62 * CARD_H, CARD_W, CARD_H


def _check_glare(card: np.ndarray, side: str, fields: ParsedFields) -> None:
    """Glare that hides print, a person could not read it either: a saturated patch in the text
    area while a field is missing or doubtful, or over a value line or the start of a wrapped
    address line, or just past the end of a line that could have gone on (a value may have
    lost its last characters under it); or a veil of reflected light, not saturated, where a
    line of free text ends (`veiled_end`)."""
    left, top, right, bottom = _text_area(side)
    patches, mask = glare(card)
    boxes = [b for b in patches if b[0] < right and b[2] > left and b[3] > top]
    if boxes and (
        fields.problems
        or fields.doubtful
        or any(_hides(b, mask, fields) for b in boxes)
        or _starts_under(mask, fields.sources.get("address") or [])
    ):
        raise CardRejected(
            ReasonCode.I023_ID_CARD_GLARE, f"a reflection covers printed text on the card {side}"
        )
    gray = to_gray(card)
    for name in FREE_TEXT_FIELDS:
        for line in fields.sources.get(name) or []:
            if veiled_end(gray, (line.left, line.top, line.right, line.bottom), right):
                raise CardRejected(
                    ReasonCode.I023_ID_CARD_GLARE,
                    f"a reflection veils the end of the {name.replace('_', ' ')} on the card "
                    f"{side}",
                )


def _starts_under(mask: np.ndarray, lines: list[TextLine]) -> bool:
    """Whether glare covers the start of a wrapped address line (the place of its first
    character, a character either side of where the reading begins): 中山路381号 wrapped after
    中山 and read as 中山381号 with 路 under the reflection. The first line follows its label,
    and a province or city that lost its first character is not a known place."""
    if not lines:
        return False
    first_top = min(line.top for line in lines)
    for line in lines:
        if line.top < first_top + 0.5 * line.height:
            continue
        region = mask[
            int(max(line.top, 0)) : int(line.bottom),
            int(max(line.left - line.height, 0)) : int(line.left + line.height),
        ]
        if region.size and float(region.mean()) >= STARTS_UNDER:
            return True
    return False


def _covered(mask: np.ndarray, box: tuple[int, int, int, int], line: TextLine) -> np.ndarray:
    """The card's columns where the glare patch in `box` covers at least half of the line's
    height: where its print is gone (a patch's box also takes in the corners of a round spot,
    where the print still shows)."""
    band = mask[int(max(line.top, 0)) : int(max(line.bottom, line.top + 1)), :]
    covered = np.zeros(mask.shape[1], bool)
    if band.size:
        covered[box[0] : box[2]] = band[:, box[0] : box[2]].mean(axis=0) >= 0.5
    return covered


def _hides(box: tuple[int, int, int, int], mask: np.ndarray, fields: ParsedFields) -> bool:
    for name, group in fields.sources.items():
        if not group:
            continue
        column_right = max(line.right for line in group)
        last_top = max(line.top for line in group)
        for line in group:
            band = min(box[3], line.bottom) - max(box[1], line.top)
            if band < 0.5 * line.height:
                continue
            covered = _covered(mask, box, line)
            left, right, h = int(max(line.left, 0)), int(line.right), line.height
            if covered[left:right].sum() > 0.3 * (line.right - line.left):
                return True
            # a wrapped line (full width, another below it) cannot go on under the glare, unless
            # the glare reaches past the column's right edge as read: then the column, and the
            # line with it, may go on under it (建设路 read 建路 with 设 under the glare)
            wrapped = (
                line.right > column_right - h
                and line.top < last_top - 4
                and box[2] <= column_right + 0.3 * h
            )
            past_end = covered[int(line.right + 0.3 * h) : int(line.right + h) + 1].any()
            if past_end and not wrapped:
                authority = fields.values.get("issuing_authority")
                complete = isinstance(authority, str) and authority_is_complete(authority)
                if not (name == "issuing_authority" and complete):
                    return True
    return False


def _crop(card: np.ndarray, lines: list[TextLine], left_limit: float | None, pad: float):
    left = min(line.left for line in lines)
    if left_limit is not None:
        left = max(left, left_limit)
    height = max(line.height for line in lines)
    box = (
        int(max(left - pad * height, 0)),
        int(max(min(line.top for line in lines) - pad * height, 0)),
        int(min(max(line.right for line in lines) + pad * height, CARD_W)),
        int(min(max(line.bottom for line in lines) + pad * height, CARD_H)),
    )
    return card[box[1] : box[3], box[0] : box[2]]


def _enlarge(crop: np.ndarray, factor: float) -> np.ndarray:
    if crop.size == 0:
        return crop
    return cv2.resize(crop, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)


def _normal(name: str, text: str) -> str | None:
    if name == "id_number":
        return normalise_id_number(text)[0]
    if name == "birth_date":
        born = birth_date(clean(text))
        return born.isoformat() if born else None
    return re.sub(r"[^\u3400-\u9fff0-9A-Za-z·]", "", clean(text)) or None


def _reread(name: str, fields: ParsedFields, card: np.ndarray, ocr, pad: float, factor: float):
    sources = fields.sources[name]
    groups = rows(sources) if name == "address" else [sources]
    texts = []
    for group in groups:
        if fields.value_left is not None and max(x.right for x in group) <= fields.value_left:
            continue
        text, score = ocr.read_line(_enlarge(_crop(card, group, fields.value_left, pad), factor))
        if score < MIN_LINE_SCORE:
            return None
        if fields.value_left is not None:
            text = cut_label(
                TextLine(text, score, *(_bounds(group, fields.value_left))), fields.value_left
            )
        texts.append(text)
    text = "".join(texts)
    for label in ("签发机关", "有效期限", "公民身份号码", "姓名", "住址"):
        text = text.replace(label, "")
    return _normal(name, text)


def _bounds(group: list[TextLine], value_left: float) -> tuple[float, float, float, float]:
    left = max(min(line.left for line in group), value_left)
    return (
        left,
        min(line.top for line in group),
        max(line.right for line in group),
        max(line.bottom for line in group),
    )


def confirm(fields: ParsedFields, card: np.ndarray, ocr) -> None:
    """The second look: each field in CONFIRMED_FIELDS read again from its own enlarged crop;
    a disagreement gets a third read at another scale, and the majority stands. No majority
    leaves the field doubtful (I024), never silently taken."""
    for name in CONFIRMED_FIELDS:
        if name not in fields.values or not fields.sources.get(name):
            continue
        first = _normal(name, str(fields.values[name]))
        second = _reread(name, fields, card, ocr, pad=0.25, factor=2.0)
        if second == first:
            continue
        third = _reread(name, fields, card, ocr, pad=0.4, factor=1.5)
        if third is not None and third == second:
            value = date.fromisoformat(third) if name == "birth_date" else third
            fields.put(name, value, min(fields.confidence[name], REPAIRED_CONFIDENCE))
        elif third != first:
            fields.doubtful.append(name)


def _second_look(fields: ParsedFields, lines: list[TextLine], card: np.ndarray, ocr) -> None:
    """Recognise what the line detector misses, a lone character: sex and ethnicity in their
    own boxes when they were not read, and a last address line holding one character. Then an
    address still ending in a bare digit is doubtful (`doubt_a_cut_address`)."""
    _address_tail(fields, card, ocr)
    doubt_a_cut_address(fields)
    _name_beside_label(fields, card, ocr)
    for name, put in (("sex", put_sex), ("ethnicity", put_ethnicity)):
        if name in fields.values:
            continue
        left, top, right, bottom = value_region(name, lines)
        text, score = ocr.read_line(card[top:bottom, left:right]) if right > left else ("", 0)
        if score < MIN_LINE_SCORE or not put(fields, text, score):
            fields.problems.append(
                f"{name} unreadable"
                + (" or not one of the 56 groups" if name == "ethnicity" else "")
            )


def doubt_a_cut_address(fields: ParsedFields) -> None:
    """An address ends with what its number counts (号, 室, 组...): one that still ends in a
    bare digit after every look (the reads alike, the strip below its last line empty) lost its
    last characters to a reflection or a line detector that stopped short: doubtful (I024)."""
    address = fields.values.get("address")
    if isinstance(address, str) and address[-1:].isdigit() and "address" not in fields.doubtful:
        fields.doubtful.append("address")


def _name_beside_label(fields: ParsedFields, card: np.ndarray, ocr) -> None:
    """A name the line detector missed while its label was read: its row, from the label's
    right (or where values start) to the right of the address column, read twice at two
    scales; only two reads alike are taken."""
    row = fields.sources.get("name")
    if "name" in fields.values or not row or "name unreadable" not in fields.problems:
        return
    height = max(line.height for line in row)
    left = max(max(line.right for line in row), fields.value_left or 0.0)
    right = fields.boxes.get("address", (0, 0, left + 6 * height, 0))[2]
    top = max(int(min(line.top for line in row) - 0.3 * height), 0)
    bottom = int(max(line.bottom for line in row) + 0.3 * height)
    crop = card[top:bottom, int(left) + 2 : int(min(right, CARD_W))]
    if crop.shape[1] < height:
        return
    reads = [ocr.read_line(_enlarge(crop, factor)) for factor in (2.0, 1.5)]
    names = {re.sub(r"[^\u3400-\u9fff·]", "", clean(text)).strip("·") for text, _ in reads}
    score = min(score for _, score in reads)
    name = names.pop()
    if names or len(name) < 2 or score < MIN_LINE_SCORE:
        return
    fields.problems.remove("name unreadable")
    fields.put("name", name, min(score, REPAIRED_CONFIDENCE))


def _address_tail(fields: ParsedFields, card: np.ndarray, ocr) -> None:
    region = address_tail(fields)
    if region is None or "address" not in fields.values:
        return
    left, top, right, bottom = region
    crop = card[max(top, 0) : bottom, max(left, 0) : right]
    if crop.size == 0:
        return
    gray = to_gray(crop)
    # printed ink, not the background's fine lines: one character is ~0.7% of the strip
    if np.mean(gray < 0.5 * np.median(gray)) < 0.003:
        return
    text, score = ocr.read_line(crop)
    tail = re.sub(r"[^\u3400-\u9fff0-9A-Za-z-]", "", clean(text))
    if score >= MIN_LINE_SCORE and tail:
        fields.put(
            "address", f"{fields.values['address']}{tail}", min(score, fields.confidence["address"])
        )


def find_portrait(rgb: np.ndarray, faces: FaceModels) -> Portrait | None:
    """The portrait on the card front photographed in `rgb`."""
    try:
        card, _ = flatten(rgb)
    except CardRejected:
        return None
    return portrait_on_card(card, faces)


def portrait_on_card(card: np.ndarray, faces: FaceModels) -> Portrait | None:
    """The one face in the portrait column of a flattened card front, trying both ways up (the
    face detector only sees upright faces)."""
    left = int((PORTRAIT_X - 0.04) * CARD_W)
    for upright in (card, half_turn(card)):
        boxes = faces.detect(upright[:, left:])
        if len(boxes) == 1:
            box = boxes[0]
            return Portrait(
                rgb=upright,
                box=FaceBox(
                    top=box.top, right=box.right + left, bottom=box.bottom, left=box.left + left
                ),
            )
    return None
