"""Reading both sides of a resident ID card from phone photos, and the checks on what was read.

Per side: find the card and flatten it (`vision.card`), check that it is bright and sharp
enough to read, stretch its contrast (a card photographed in dim light reads like a bright one
once its own black and white points are used), read every line once (`vision.ocr`), decide
which way up the card lies from where its anchor lines landed, and parse the fields by position
(`vision.idfields`). The front also yields the portrait, found by the face detector in the
portrait column. Then the cross-checks of GB 11643 and the card itself: the number's check
digit, birth date and sex digit against the printed ones, the ethnic group, a validity period
of a legal length that has not ended on the application date, and the applicant's entries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import cv2
import numpy as np

from domain.idnumber import InvalidIdNumber, parse_id_number
from domain.reasons import ReasonCode
from vision.card import half_turn, locate_card, rectify
from vision.faces import FaceBox, FaceEngine
from vision.idfields import (
    CARD_H,
    CARD_W,
    PORTRAIT_X,
    VALIDITY_RE,
    ParsedFields,
    TextLine,
    address_tail,
    clean,
    parse_back,
    parse_front,
    put_ethnicity,
    put_sex,
    value_region,
)
from vision.images import Quality, QualityGates, VisionError, measure_quality, to_gray
from vision.ocr import MIN_LINE_SCORE, OcrEngine

# Measured on flattened synthetic cards (the harsh set of bench/vision_ocr.py): the reader reads
# every field at a card brightness of 20 (contrast is stretched first), but misses characters
# once the blur measure (`card_quality`) drops below ~10, which a defocus of sigma 2.3 card px
# does; usable photos (random_distortion) score 30 and up. Below the gates the applicant is
# asked for a retake (I014 too dark, I015 blurred) rather than being half read.
CARD_GATES = QualityGates(min_brightness=22, max_brightness=245, min_sharpness=10)
# The portrait is a small print on the card: usable photos (random_distortion) give face crops
# of brightness 42+ and sharpness 8+ that still encode within 0.25 of the original photo; below
# brightness 25 or sharpness 6 the encoding drifts by 0.4-0.6, as far as another person's.
PORTRAIT_GATES = QualityGates(min_brightness=25, max_brightness=235, min_sharpness=6)
# A photo this dark overall hides the card's outline: say so rather than "no card found".
MIN_PHOTO_BRIGHTNESS = 12
FRONT_FIELDS = ("name", "sex", "ethnicity", "birth_date", "address", "id_number")
BACK_FIELDS = ("issuing_authority", "valid_from", "valid_until")
# A read this sure that differs from the applicant's entry is their mismatch, not our misread.
CLAIM_CONFIDENCE = 0.9
# Legal validity periods (Resident Identity Card Law, art. 5) in years.
VALIDITY_YEARS = (5, 10, 20)


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


@dataclass
class CardChecks:
    """What the cross-checks found: reason codes with their details, in plain words."""

    failures: list[tuple[ReasonCode, str]] = field(default_factory=list)

    def fail(self, code: ReasonCode, detail: str) -> None:
        self.failures.append((code, detail))

    @property
    def reasons(self) -> list[ReasonCode]:
        return list(dict.fromkeys(code for code, _ in self.failures))


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


def read_side(rgb: np.ndarray, side: str, ocr: OcrEngine) -> SideReading:
    """Read one side ("front" or "back") of the card photographed in `rgb`; raises BadImage
    (I014, I015, I009) or CardRejected (I011) when there is nothing worth reading."""
    photo = measure_quality(to_gray(rgb))
    if photo.brightness < MIN_PHOTO_BRIGHTNESS:
        CARD_GATES.check(photo, f"card {side} photo")
    card, whole = flatten(rgb)
    quality = card_quality(card)
    CARD_GATES.check(quality, f"card {side}")
    stretched = stretch(card)
    lines = ocr.read(stretched)
    turned = upside_down(lines, side)
    if turned:
        lines = _turn_lines(lines)
    if side == "front":
        fields = parse_front(lines)
        _second_look(fields, lines, half_turn(stretched) if turned else stretched, ocr)
    else:
        fields = parse_back(lines)
    other = "back" if side == "front" else "front"
    if not any(_is_anchor(line, side) for line in lines) and any(
        _is_anchor(line, other) for line in lines
    ):
        fields.problems.insert(0, f"the {side} photo shows the {other} of the card")
    upright = half_turn(card) if turned else card
    return SideReading(
        card=upright,
        fields=fields,
        turned=turned,
        whole_photo=whole,
        quality=quality,
        lines=len(lines),
    )


def _second_look(fields: ParsedFields, lines: list[TextLine], card: np.ndarray, ocr) -> None:
    """Recognise what the line detector misses, a lone character: sex and ethnicity in their
    own boxes when they were not read, and a last address line holding one character."""
    _address_tail(fields, card, ocr)
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


def _address_tail(fields: ParsedFields, card: np.ndarray, ocr) -> None:
    region = address_tail(fields)
    if region is None or "address" not in fields.values:
        return
    left, top, right, bottom = region
    crop = card[top:bottom, left:right]
    gray = to_gray(crop)
    # printed ink, not the background's fine lines: one character is ~0.7% of the strip
    if crop.size == 0 or np.mean(gray < 0.5 * np.median(gray)) < 0.003:
        return
    text, score = ocr.read_line(crop)
    tail = re.sub(r"[^\u3400-\u9fff0-9A-Za-z-]", "", clean(text))
    if score >= MIN_LINE_SCORE and tail:
        fields.put(
            "address", f"{fields.values['address']}{tail}", min(score, fields.confidence["address"])
        )


def find_portrait(rgb: np.ndarray, faces: FaceEngine) -> Portrait | None:
    """The portrait on the card front photographed in `rgb`."""
    try:
        card, _ = flatten(rgb)
    except CardRejected:
        return None
    return portrait_on_card(card, faces)


def portrait_on_card(card: np.ndarray, faces: FaceEngine) -> Portrait | None:
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


def check_fields(
    front: ParsedFields,
    back: ParsedFields,
    *,
    application_date: date,
    claimed_name: str | None = None,
    claimed_id_number: str | None = None,
) -> CardChecks:
    """Every check on the fields read; unreadable ones are I011, a disagreement with what the
    applicant entered I010, an ended validity period I008."""
    checks = CardChecks()
    values = {**front.values, **back.values}
    for problem in front.problems + back.problems:
        checks.fail(ReasonCode.I011_ID_CARD_UNREADABLE, problem)
    missing = [
        name
        for name in FRONT_FIELDS + BACK_FIELDS
        if name not in values and not (name == "valid_until" and values.get("long_term"))
    ]
    if missing:
        checks.fail(ReasonCode.I011_ID_CARD_UNREADABLE, f"fields not read: {', '.join(missing)}")
    _check_number(values, checks)
    _check_validity(values, application_date, checks)
    confidence = {**front.confidence, **back.confidence}
    _check_claims(values, confidence, claimed_name, claimed_id_number, checks)
    return checks


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
    """A field that differs from the applicant's entry is their mismatch (I010) when it was
    read with confidence; a doubtful read that differs is ours (I011: photograph it again)."""
    claims = (
        ("name", "name", None if name is None else clean(name)),
        ("id_number", "ID number", None if number is None else number.strip().upper()),
    )
    for field_name, words, claimed in claims:
        read = values.get(field_name)
        if claimed is None or not isinstance(read, str) or read == claimed:
            continue
        if confidence.get(field_name, 0.0) >= CLAIM_CONFIDENCE:
            checks.fail(ReasonCode.I010_ID_CARD_MISMATCH, f"{words} differs from the one entered")
        else:
            checks.fail(
                ReasonCode.I011_ID_CARD_UNREADABLE,
                f"{words} read with low confidence differs from the one entered",
            )
