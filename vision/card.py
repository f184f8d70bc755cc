"""Finding an ID card in a phone photo and flattening it onto the card's own 856 x 540 frame.

The card is a light, rounded rectangle on whatever it lies on. Outlines come from two
independent cues, a brightness split (Otsu) and edges (Canny), because each fails where the
other holds: a pale table defeats the split, a busy one the edges. Each closed outline is
reduced to four corners, scored by how well a card-shaped quadrilateral explains it, and its
sides are re-fitted as straight lines so that rounded corners do not pull the corners inwards.
A thumb over the card's edge bulges out of its outline; only when no outline is a card, each is
tried again with one such bump cut off. The quadrilateral gives the card up to a half turn:
the long side is made horizontal here, and which way up it is (0 or 180 degrees) is decided by
the reader from what it reads.

A photo that is the card itself (a scan, or the sample documents) has no outline inside it;
when nothing card-shaped is found and the photo has a card's proportions, the whole photo is
taken as the card.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vision.idfields import CARD_H, CARD_W
from vision.images import fit_long_side, to_gray

LOCATE_SIDE = 640
CARD_ASPECT = CARD_W / CARD_H  # 1.585 (ISO/IEC 7810 ID-1)
_ASPECT_RANGE = (1.3, 1.95)
# A photo taken as the card itself (a scan, a cropped picture) has the card's proportions; a
# phone's 4:3 or 16:9 frame in which no outline was found is not a card (development card
# dev-kai 30: a card on pale paper, its outline missed, read as a whole 4:3 photo).
_WHOLE_ASPECT_RANGE = (1.5, 1.7)
# Edges of a pale card on pale paper, or under a hand's shadow, are faint: a second edge map at
# fixed low thresholds, whose contours are taken at every level (not only the outermost), so
# that a card whose outline a thumb or the background joins to other edges is still found as
# the inside of its own outline. Not a region as large as most of the photo: the inside of
# edges that run along the photo's border is the frame, not a card (development card 10).
_FAINT_EDGES = (20, 50)
_FAINT_MAX_AREA = 0.8
_MIN_AREA = 0.06  # of the photo
_MIN_FILL = 0.88  # outline area over quadrilateral area: rounded corners cost ~1%
# Saturated glare: grey >= GLARE_LEVEL on the flattened card, a patch at least GLARE_AREA of
# the card (0.15% = ~700 px, a few characters) where print should be.
GLARE_LEVEL = 250
GLARE_AREA = 0.0015
# A card cut by the frame lies along the photo's border over at least this share of its short
# side (cards cut by 8-20% of their width: 40% and more); a card whose rounded corner only
# grazes the border touches it over a few pixels (development extra cards 34 and 79: 0-5%).
CUT_CONTACT = 0.1
# A reflection's veil (haze, not saturated) where a line of print ends: the paper beside the
# line's end is VEIL_BRIGHTER times as bright as the line's own paper with no print to be seen
# (contrast under VEIL_CONTRAST of the line's), while the line's last characters already fade
# (their paper FADE_BRIGHTER times as bright, their contrast under FADE_CONTRAST of the line's):
# the line may go on under the veil. Set on the development cards (synthetic.card_eval, dev
# 0-89), where it finds the one veil that had hidden a character (the last of a wrapped
# address line, accepted without it) and no other line: lines ending in plain light, under
# uneven lighting or before a paler print of the background stay below one of the four.
VEIL_BRIGHTER, VEIL_CONTRAST = 1.3, 0.4
FADE_BRIGHTER, FADE_CONTRAST = 1.15, 0.75
# A strong veil needs no fading: paper beside the line's end VEIL_STRONG times as bright as the
# line's, with no print to be seen there, unless the line's last character shows that print
# survives this light: its paper already VEIL_BRIGHTER times the line's, or its print standing
# out VEIL_CLEARER times the line's (light rising over dark print raises its contrast; a veil
# that washes print out lowers it). Set on the development cards (dev 0-89 and 400-519, Kai
# 400-459): the four lines with such a veil on cards read wrong reach 1.59-1.68, their last
# character's contrast 0.58-0.80 of the line's (Kai 405: 湾镇 lost at the end of a first
# address line on a dim photo, accepted without it); lines of cards read whole 1.50 at most,
# or 1.62 with the last character's print standing out 1.18 times the line's (dev 518).
VEIL_STRONG, VEIL_CLEARER = 1.55, 1.1
# A corner this close to the photo's border (fraction of its size) means the card goes past it.
EDGE_MARGIN = 0.004
# A card whose outline, fitted whole (its own aspect), runs past the photo's border by less than
# this share of its short side loses only blank margin: print starts 5 % of the short side or
# more inside every edge (development card 168: a corner 1.4 % past the top border, refused as
# cut although every character was in the photo).
GRAZE_DEPTH = 0.025
# A thumb (or a finger) over the card's edge sticks out of its outline as a bump that no four
# corners explain (development cards dev-kai 13, 39 and 46). The bump starts and ends in a
# concave notch where it meets the edge; an outline with notches at least BUMP_DEPTH deep
# (locating pixels) is tried again without the stretch between two of them, if that stretch is
# under BUMP_SHARE of the outline, and the result is kept only when both ends of the cut lie on
# one side of the card found (within BUMP_ON_SIDE of its mean side): the edge runs on
# straight under the thumb.
BUMP_DEPTH = 4.0
BUMP_SHARE = 0.35
BUMP_ON_SIDE = 0.02


@dataclass(frozen=True)
class CardQuad:
    """The card's corners in photo pixels, clockwise from the top-left of the long side."""

    corners: np.ndarray  # (4, 2) float32
    whole_photo: bool
    score: float


def _order(quad: np.ndarray) -> np.ndarray:
    """Clockwise on screen, starting so that the first side is a long one."""
    centre = quad.mean(axis=0)
    angles = np.arctan2(quad[:, 1] - centre[1], quad[:, 0] - centre[0])
    quad = quad[np.argsort(angles)]
    sides = [np.linalg.norm(quad[(i + 1) % 4] - quad[i]) for i in range(4)]
    if sides[0] + sides[2] < sides[1] + sides[3]:
        quad = np.roll(quad, -1, axis=0)
    return quad.astype(np.float32)


def _four_corners(hull: np.ndarray) -> np.ndarray | None:
    perimeter = cv2.arcLength(hull, True)
    for fraction in (0.01, 0.02, 0.03, 0.045, 0.06):
        approx = cv2.approxPolyDP(hull, fraction * perimeter, True)
        if len(approx) == 4:
            return approx.reshape(4, 2).astype(np.float64)
    return None


def _refit(quad: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Fit a line to the outline points along each side (away from the rounded corners) and
    intersect neighbouring lines: the corners of the card's straight edges."""
    lines = []
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        length = np.linalg.norm(b - a)
        direction = (b - a) / max(length, 1e-6)
        rel = points - a
        along = rel @ direction
        across = np.abs(rel[:, 0] * direction[1] - rel[:, 1] * direction[0])
        near = points[(along > 0.15 * length) & (along < 0.85 * length) & (across < 0.04 * length)]
        if len(near) < 5:
            return quad
        vx, vy, x0, y0 = cv2.fitLine(near.astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        lines.append((np.array([x0, y0]), np.array([vx, vy])))
    refined = []
    for i in range(4):
        (p, r), (q, s) = lines[i - 1], lines[i]
        cross = r[0] * s[1] - r[1] * s[0]
        if abs(cross) < 1e-6:
            return quad
        t = ((q - p)[0] * s[1] - (q - p)[1] * s[0]) / cross
        refined.append(p + t * r)
    refined_quad = np.array(refined)
    # a refit that moved a corner far means the sides were not straight: keep the first guess
    if (
        np.max(np.linalg.norm(refined_quad - quad, axis=1))
        > 0.1 * cv2.arcLength(quad.astype(np.float32), True) / 4
    ):
        return quad
    return refined_quad


def _candidates(gray: np.ndarray) -> list[np.ndarray]:
    blurred = cv2.GaussianBlur(gray, (5, 5), 0)
    _, split = cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    median = float(np.median(blurred))
    edges = cv2.Canny(blurred, 0.5 * median, 1.2 * median + 10)
    edges = cv2.dilate(edges, np.ones((3, 3), np.uint8))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
    masks = [
        cv2.morphologyEx(split, cv2.MORPH_OPEN, kernel),
        cv2.morphologyEx(edges, cv2.MORPH_CLOSE, kernel),
    ]
    contours: list[np.ndarray] = []
    for mask in masks:
        found, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        contours.extend(found)
    faint = cv2.dilate(cv2.Canny(blurred, *_FAINT_EDGES), np.ones((3, 3), np.uint8))
    found, _ = cv2.findContours(
        cv2.morphologyEx(faint, cv2.MORPH_CLOSE, kernel), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE
    )
    contours.extend(
        c for c in found if _MIN_AREA <= cv2.contourArea(c) / gray.size <= _FAINT_MAX_AREA
    )
    return contours


def _score_bumped(contour: np.ndarray, image_area: float) -> tuple[float, np.ndarray] | None:
    """The best card found in `contour` with one bump cut off (`BUMP_DEPTH`)."""
    best: tuple[float, np.ndarray] | None = None
    if cv2.contourArea(contour) < _MIN_AREA * image_area:
        return None
    for points, ends in _without_bumps(contour):
        cut = _score(points.reshape(-1, 1, 2), image_area)
        if cut is not None and _on_one_side(cut[1], ends) and (best is None or cut[0] > best[0]):
            best = cut
    return best


def _without_bumps(contour: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The outline with one bump cut off (its stretch between two notches replaced by the
    straight line joining them), for each short stretch between two notches; each with the
    cut's two ends."""
    points = contour.reshape(-1, 2)
    try:
        hull = cv2.convexHull(contour, returnPoints=False)
        defects = cv2.convexityDefects(contour, hull)
    except cv2.error:  # an outline that crosses itself
        return []
    if defects is None:
        return []
    rows = defects.reshape(-1, 4)  # start, end, deepest point, depth * 256
    notches = sorted(int(f) for _, _, f, depth in rows if depth / 256 >= BUMP_DEPTH)
    if len(notches) < 2 or len(notches) > 12:
        return []
    steps = np.linalg.norm(np.diff(points, axis=0, append=points[:1]), axis=1)
    along = np.concatenate([[0.0], np.cumsum(steps)])
    perimeter = along[-1]
    cuts = []
    for i, a in enumerate(notches):
        for b in notches[i + 1 :]:
            inner = along[b] - along[a]  # the stretch a -> b, the other way round is the rest
            if inner < BUMP_SHARE * perimeter:
                kept = np.concatenate([points[: a + 1], points[b:]])
            elif perimeter - inner < BUMP_SHARE * perimeter:
                kept = points[a : b + 1]
            else:
                continue
            cuts.append((kept, points[[a, b]].astype(np.float64)))
    return cuts


def _on_one_side(quad: np.ndarray, ends: np.ndarray) -> bool:
    """Whether both `ends` lie on one side of `quad` (close to its line, between its corners)."""
    sides = [np.linalg.norm(quad[(i + 1) % 4] - quad[i]) for i in range(4)]
    tolerance = BUMP_ON_SIDE * float(np.mean(sides))
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        direction = (b - a) / max(sides[i], 1e-6)
        rel = ends - a
        across = np.abs(rel[:, 0] * direction[1] - rel[:, 1] * direction[0])
        along = rel @ direction
        if (across <= tolerance).all() and ((along >= 0) & (along <= sides[i])).all():
            return True
    return False


def _score(contour: np.ndarray, image_area: float) -> tuple[float, np.ndarray] | None:
    area = cv2.contourArea(contour)
    if area < _MIN_AREA * image_area:
        return None
    hull = cv2.convexHull(contour)
    quad = _four_corners(hull)
    if quad is None:
        return None
    quad = _refit(_order(quad).astype(np.float64), contour.reshape(-1, 2).astype(np.float64))
    quad_area = cv2.contourArea(quad.astype(np.float32))
    if quad_area <= 0 or quad_area > 0.97 * image_area:
        return None
    fill = cv2.contourArea(hull) / quad_area
    sides = [float(np.linalg.norm(quad[(i + 1) % 4] - quad[i])) for i in range(4)]
    aspect = (sides[0] + sides[2]) / max(sides[1] + sides[3], 1e-6)
    if not _MIN_FILL <= fill <= 1.05 or not _ASPECT_RANGE[0] <= aspect <= _ASPECT_RANGE[1]:
        return None
    shape = 1 - abs(np.log(aspect / CARD_ASPECT))
    return quad_area / image_area * shape * min(fill, 1 / fill), quad


def locate_card(rgb: np.ndarray) -> CardQuad | None:
    """The card's outline in `rgb` (any size), or None when nothing card-shaped is there."""
    small = fit_long_side(rgb, LOCATE_SIDE)
    k = rgb.shape[1] / small.shape[1]
    gray = to_gray(small)
    image_area = float(gray.shape[0] * gray.shape[1])
    best: tuple[float, np.ndarray] | None = None
    candidates = _candidates(gray)
    for score in (_score, _score_bumped):  # a thumb's bump only when no outline is a card
        for contour in candidates:
            scored = score(contour, image_area)
            if scored and (best is None or scored[0] > best[0]):
                best = scored
        if best is not None:
            break
    if best is not None:
        return CardQuad(corners=_order(best[1] * k), whole_photo=False, score=best[0])
    height, width = rgb.shape[:2]
    aspect = max(width, height) / min(width, height)
    if _WHOLE_ASPECT_RANGE[0] <= aspect <= _WHOLE_ASPECT_RANGE[1]:
        corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
        return CardQuad(corners=_order(corners), whole_photo=True, score=0.0)
    return None


def rectify(rgb: np.ndarray, quad: CardQuad) -> np.ndarray:
    """The card flattened to CARD_W x CARD_H, long side horizontal (maybe upside down)."""
    target = np.array([[0, 0], [CARD_W, 0], [CARD_W, CARD_H], [0, CARD_H]], np.float32)
    matrix = cv2.getPerspectiveTransform(quad.corners, target)
    return cv2.warpPerspective(
        rgb, matrix, (CARD_W, CARD_H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def half_turn(rgb: np.ndarray) -> np.ndarray:
    return cv2.rotate(rgb, cv2.ROTATE_180)


def card_width(quad: CardQuad) -> float:
    c = quad.corners
    return float((np.linalg.norm(c[1] - c[0]) + np.linalg.norm(c[2] - c[3])) / 2)


def cut_by_edge(rgb: np.ndarray, quad: CardQuad) -> bool:
    """A card outline with a corner on (or past) the photo's border; a whole-photo card (a
    scan) is judged by `cut_off`."""
    height, width = rgb.shape[:2]
    if quad.whole_photo:
        return True
    c = quad.corners
    margin = EDGE_MARGIN * max(width, height)
    return bool(
        (c[:, 0] <= margin).any()
        or (c[:, 1] <= margin).any()
        or (c[:, 0] >= width - 1 - margin).any()
        or (c[:, 1] >= height - 1 - margin).any()
    )


def grazes_border(rgb: np.ndarray, quad: CardQuad) -> bool:
    """Whether the card's outline, fitted whole, runs past the photo's border only by a sliver
    of its blank margin (`GRAZE_DEPTH`): nothing printed lies outside the photo. An outline that
    ends on the border (the frame cut it, the fit followed the cut) is not whole: False."""
    if quad.whole_photo:
        return False
    c = quad.corners
    height, width = rgb.shape[:2]
    past = max(
        float(-c[:, 0].min()),
        float(-c[:, 1].min()),
        float(c[:, 0].max()) - width,
        float(c[:, 1].max()) - height,
    )
    sides = [float(np.linalg.norm(c[(i + 1) % 4] - c[i])) for i in range(4)]
    pair = ((sides[0] + sides[2]) / 2, (sides[1] + sides[3]) / 2)
    long, short = max(pair), min(pair)
    whole = abs(np.log(long / max(short, 1.0) / CARD_ASPECT)) < 0.06
    return bool(whole and 0 < past < GRAZE_DEPTH * short)


def cut_off(rgb: np.ndarray, quad: CardQuad | None) -> bool:
    """Whether a light card-like region runs into the photo's border without filling the
    photo: a card partly outside the frame (a scan fills it whole)."""
    small = fit_long_side(rgb, 320)
    gray = cv2.GaussianBlur(to_gray(small), (5, 5), 0)
    _, split = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(split)
    if count < 2:
        return False
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x, y, w, h, area = stats[biggest]
    share = area / float(gray.size)
    region = (labels == biggest).astype(np.uint8)
    if _border_contact(region) < CUT_CONTACT * min(w, h):
        return False
    if not 0.05 < share < (0.9 if quad is not None else 0.8):
        return False
    # what is left of a card clipped by the frame is a convex polygon of a few straight sides
    contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    hull = cv2.convexHull(max(contours, key=cv2.contourArea))
    hull_area = cv2.contourArea(hull)
    corners = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
    return bool(hull_area > 0 and area / hull_area > 0.9 and len(corners) <= 7)


def _border_contact(region: np.ndarray) -> int:
    """The longest stretch of the photo's border (its two outermost pixel lines) that the
    region lies on: a card cut by the frame lies along it, one that grazes it touches a point."""
    sides = (region[:2].any(axis=0), region[-2:].any(axis=0))
    ends = (region[:, :2].any(axis=1), region[:, -2:].any(axis=1))
    return int(max(side.sum() for side in (*sides, *ends)))


def glare(card: np.ndarray) -> tuple[list[tuple[int, int, int, int]], np.ndarray]:
    """The saturated patches on the flattened card: their boxes (left, top, right, bottom) and
    a mask of their pixels (True under a patch)."""
    gray = cv2.GaussianBlur(to_gray(card), (0, 0), 2)
    mask = (gray >= GLARE_LEVEL).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask)
    least = GLARE_AREA * CARD_W * CARD_H
    kept = [
        n
        for n, (_, _, _, _, area) in enumerate(stats[1:count], start=1)
        if area >= least and area < 0.6 * CARD_W * CARD_H
    ]
    boxes = [(int(x), int(y), int(x + w), int(y + h)) for x, y, w, h, _ in (stats[n] for n in kept)]
    return boxes, np.isin(labels, kept)


def veiled_end(gray: np.ndarray, box: tuple[float, float, float, float], limit: float) -> bool:
    """Whether a reflection's veil lies where the line of print in `box` (left, top, right,
    bottom, card pixels) ends, so that characters may be lost under it (`VEIL_BRIGHTER` where
    the line's last characters fade into it, `VEIL_STRONG` where they do not).
    Windows one character high and wide, half a character apart, along the line and up to one
    and a half characters past its end (not past `limit`); each measured by its paper (95th
    percentile) and its print's contrast, taken on the band less its own smoothing over half a
    character (the strokes, not the veil's own slope), against the line's medians."""
    left, top, right, bottom = box
    pitch = max(bottom - top, 8.0)
    end = min(right + 1.5 * pitch, limit)
    band = gray[int(max(top, 0)) : int(bottom)].astype(np.float32)
    if band.size == 0:
        return False
    strokes = band - cv2.GaussianBlur(band, (0, 0), pitch / 2)
    inside: list[tuple[float, float]] = []
    past: list[tuple[float, float]] = []
    x = left
    while x + 0.5 * pitch < end:
        columns = slice(int(x), int(min(x + pitch, end)))
        if band[:, columns].size:
            paper = float(np.percentile(band[:, columns], 95))
            dark, light = np.percentile(strokes[:, columns], (5, 95))
            (inside if x + pitch <= right else past).append((paper, float(light - dark)))
        x += 0.5 * pitch
    if len(inside) < 2 or not past:
        return False
    paper = float(np.median([p for p, _ in inside]))
    contrast = max(float(np.median([c for _, c in inside])), 1.0)
    last_paper, last_contrast = inside[-1]
    fading = last_paper > FADE_BRIGHTER * paper and last_contrast < FADE_CONTRAST * contrast
    # the paper of the windows past the end where no print shows
    blank = [p for p, c in past if c < VEIL_CONTRAST * contrast]
    if fading and any(p > VEIL_BRIGHTER * paper for p in blank):
        return True
    shows_through = last_paper >= VEIL_BRIGHTER * paper or last_contrast > VEIL_CLEARER * contrast
    return not shows_through and any(p > VEIL_STRONG * paper for p in blank)
