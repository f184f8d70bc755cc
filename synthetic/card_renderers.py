"""ID cards drawn differently from `synthetic.id_cards`, and the phone photos taken of them, for an
evaluation that the reader was not built on.

Holders: a county drawn from GB/T 2260 (`domain.regions`), an address in that county with
building / unit / room numbers or a village and group, the issuing authority of that county (a
district's sub-bureau of the city bureau, or the county's own bureau), an ID number of that
county (or, for a holder who moved, of another one), validity periods by age as the law sets
them, some cards already expired.

Renderers (`STYLES`): value and label fonts from several Debian font families (Song/Ming, Kai,
Hei), label colours, print offsets, guilloche rosettes, fine-line and halftone print textures.
Scenes: desk wood, fabric weave, a hand holding the card, paper; soft shadows, glare spots, any
rotation, perspective, light, blur, noise, JPEG; a fraction cut by the photo's edge or taken
small. Each card records what a person could read and which refusal a retake deserves.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from domain.idnumber import make_id_number
from domain.regions import MUNICIPALITIES, name_of, prefecture_name, province_name, table
from synthetic.id_cards import (
    COMPOUND_SURNAMES,
    SURNAMES,
    UYGHUR_PARTS,
    CardHolder,
    _add_years,
    validity_years,
)
from vision.idfields import ETHNIC_GROUPS

CARD_W, CARD_H = 856, 540
FONT_FILES = {
    "noto-serif": "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "noto-sans": "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "uming": "/usr/share/fonts/truetype/arphic/uming.ttc",
    "ukai": "/usr/share/fonts/truetype/arphic/ukai.ttc",
    "wqy-microhei": "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "wqy-zenhei": "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "wenkai": "/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf",
    "gkai": "/usr/share/fonts/truetype/arphic-gkai00mp/gkai00mp.ttf",
    "gbsn": "/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf",
}
FONT_PACKAGES = {
    "noto-serif": "fonts-noto-cjk",
    "noto-sans": "fonts-noto-cjk",
    "uming": "fonts-arphic-uming",
    "ukai": "fonts-arphic-ukai",
    "wqy-microhei": "fonts-wqy-microhei",
    "wqy-zenhei": "fonts-wqy-zenhei",
    "wenkai": "fonts-lxgw-wenkai",
    "gkai": "fonts-arphic-gkai00mp",
    "gbsn": "fonts-arphic-gbsn00lp",
}
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂文华建国志红玉梅春燕晓东海波宇鹏浩然"
    "子涵欣怡梓萱诺思远雨晨嘉俊佳琪博天佑诗曦慧婷凯瑞德宁安康永福荣家豪立新鑫淼森焱垚磊"
    "璐瑶琳琦瑾璇珂翔骏驰昊旻煜炜烨铭锦钰钧镇岚峰嵘崇巍蕾蓉蔚薇茜莎菲萌蕊"
)
STREETS = (
    "人民路 解放路 中山路 建设路 和平街 新华路 文化路 胜利街 光明路 幸福里 朝阳路 青年路 "
    "长江路 黄河路 滨江大道 东风路 工农路 团结街 迎宾大道 府前街 学府路 金桥路 红旗路 健康路"
).split()
VILLAGES = "王庄 李家 张湾 东坡 西沟 南岗 北屯 石桥 柳树 杨柳 马坊 新村 河口".split()


@dataclass(frozen=True)
class Style:
    """One way of printing a card: fonts, colours, texture and how loosely things are placed."""

    name: str
    value_font: str
    label_font: str
    label_colour: tuple[int, int, int]
    texture: str  # "rosette", "lines", "halftone"
    tint: tuple[int, int, int]
    jitter: int  # px of print offset per block
    value_size: int


STYLES = {
    "song-hei": Style(
        "song-hei", "noto-serif", "noto-sans", (60, 110, 170), "rosette", (238, 232, 226), 6, 30
    ),
    "ming-microhei": Style(
        "ming-microhei", "uming", "wqy-microhei", (45, 95, 160), "lines", (236, 238, 230), 8, 31
    ),
    "hei-hei": Style(
        "hei-hei", "noto-sans", "wqy-zenhei", (70, 120, 180), "halftone", (240, 236, 232), 5, 29
    ),
    # Kai labels for development (LXGW WenKai, AR PL KaitiM GB), and Kai values: other Kai
    # faces than the held-out split's AR PL UKai. gkai and gbsn cover GB 2312 only, so they
    # print labels, never names or places.
    "hei-wenkai": Style(
        "hei-wenkai", "noto-sans", "wenkai", (55, 105, 165), "lines", (238, 236, 228), 7, 30
    ),
    "zenhei-gkai": Style(
        "zenhei-gkai", "wqy-zenhei", "gkai", (60, 100, 170), "rosette", (236, 234, 232), 6, 31
    ),
    "wenkai-gbsn": Style(
        "wenkai-gbsn", "wenkai", "gbsn", (50, 110, 160), "halftone", (240, 238, 230), 8, 30
    ),
    "ming-kai": Style(
        "ming-kai", "uming", "ukai", (50, 100, 165), "rosette", (242, 236, 228), 9, 31
    ),
    "song-kai": Style(
        "song-kai", "noto-serif", "ukai", (40, 90, 150), "halftone", (234, 236, 238), 7, 30
    ),
    "microhei-song": Style(
        "microhei-song",
        "wqy-microhei",
        "noto-serif",
        (65, 105, 175),
        "lines",
        (240, 234, 236),
        6,
        29,
    ),
}


def missing_fonts(style: Style) -> list[str]:
    return [
        f"{FONT_FILES[f]} ({FONT_PACKAGES[f]})"
        for f in (style.value_font, style.label_font)
        if not Path(FONT_FILES[f]).is_file()
    ]


@cache
def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONT_FILES[name], size)


# -- holders ---------------------------------------------------------------------------------


@cache
def printed_counties() -> list[str]:
    """Every county code a holder may live in: a named county with a named prefecture."""
    return [
        code
        for code, name in table().items()
        if not code.endswith("00") and name not in ("市辖区", "县") and prefecture_name(code)
    ]


def place_texts(code: str) -> tuple[str, str]:
    """(address head as printed, issuing authority) for a county code."""
    province, prefecture, county = province_name(code), prefecture_name(code), name_of(code)
    assert province and prefecture and county
    head = province + ("" if code[:2] in MUNICIPALITIES else prefecture) + county
    if county.endswith("区"):
        short = county[:-1] if len(county) > 2 else county
        authority = f"{prefecture}公安局{short}分局"
    else:
        authority = f"{county}公安局"
    return head, authority


def _address(rng: np.random.Generator, head: str) -> str:
    if rng.random() < 0.25:
        town, village = (VILLAGES[i] for i in rng.integers(len(VILLAGES), size=2))
        return f"{head}{town}镇{village}村{rng.integers(1, 12)}组{rng.integers(1, 99)}号"
    street = STREETS[rng.integers(len(STREETS))]
    text = f"{head}{street}{rng.integers(1, 400)}号"
    if rng.random() < 0.75:
        room = int(rng.integers(1, 33)) * 100 + int(rng.integers(1, 9))
        text += f"{rng.integers(1, 40)}幢{rng.integers(1, 9)}单元{room}室"
    return text


def _name(rng: np.random.Generator, ethnicity: str) -> str:
    if ethnicity == "维吾尔" and rng.random() < 0.7:
        first, last = rng.choice(len(UYGHUR_PARTS), size=2, replace=False)
        return f"{UYGHUR_PARTS[first]}·{UYGHUR_PARTS[last]}"
    surname = (
        COMPOUND_SURNAMES[rng.integers(len(COMPOUND_SURNAMES))]
        if rng.random() < 0.04
        else SURNAMES[rng.integers(len(SURNAMES))]
    )
    return surname + "".join(GIVEN[i] for i in rng.integers(len(GIVEN), size=rng.integers(1, 3)))


def random_holder(rng: np.random.Generator, today: date, *, expired: bool) -> CardHolder:
    counties = printed_counties()
    county = counties[rng.integers(len(counties))]
    born_in = counties[rng.integers(len(counties))] if rng.random() < 0.1 else county
    head, authority = place_texts(county)
    birth = date(1955, 1, 1) + timedelta(days=int(rng.integers(0, 365 * 50)))
    sequence = int(rng.integers(0, 1000))
    ethnicity = "汉" if rng.random() < 0.7 else ETHNIC_GROUPS[rng.integers(len(ETHNIC_GROUPS))]
    adult = _add_years(birth, 16)
    if expired:
        until = today - timedelta(days=int(rng.integers(1, 1500)))
        years = 10 if (until - birth).days < 36 * 365 else 20
        valid_from: date = _add_years(until, -years)
        valid_until: date | None = until
    else:
        valid_from = adult + timedelta(days=int(rng.integers(0, max((today - adult).days, 1))))
        years_or_none = validity_years((valid_from - birth).days // 365)
        valid_until = None if years_or_none is None else _add_years(valid_from, years_or_none)
        while valid_until is not None and valid_until <= today:
            valid_from = valid_until
            years_or_none = validity_years((valid_from - birth).days // 365)
            valid_until = None if years_or_none is None else _add_years(valid_from, years_or_none)
    return CardHolder(
        name=_name(rng, ethnicity),
        sex="男" if sequence % 2 == 1 else "女",
        ethnicity=ethnicity,
        birth=birth,
        address=_address(rng, head),
        id_number=make_id_number(born_in, birth, sequence),
        authority=authority,
        valid_from=valid_from,
        valid_until=valid_until,
    )


# -- card rendering --------------------------------------------------------------------------


def _texture(style: Style, rng: np.random.Generator) -> np.ndarray:
    ys, xs = np.mgrid[0:CARD_H, 0:CARD_W].astype(np.float32)
    base = np.ones((CARD_H, CARD_W, 3), np.float32) * np.array(style.tint, np.float32)
    base += (xs / CARD_W - 0.5)[..., None] * rng.uniform(-12, 12, 3)
    ink = np.array(rng.uniform(18, 45, 3), np.float32)
    if style.texture == "rosette":
        for _ in range(3):
            cx, cy = rng.uniform(0, CARD_W), rng.uniform(0, CARD_H)
            r = np.hypot(xs - cx, ys - cy)
            a = np.arctan2(ys - cy, xs - cx)
            k, f = int(rng.integers(6, 18)), rng.uniform(0.05, 0.12)
            wave = np.sin(r * f + 3 * np.sin(k * a))
            base -= (np.abs(wave) < 0.08)[..., None] * ink * 0.7
    elif style.texture == "lines":
        for _ in range(28):
            freq, phase = rng.uniform(0.004, 0.02), rng.uniform(0, 6.3)
            curve = rng.uniform(0, CARD_H) + rng.uniform(10, 70) * np.sin(freq * xs + phase)
            base -= (np.abs(ys - curve) < 0.7)[..., None] * ink
    else:
        period = rng.uniform(4, 7)
        dots = (np.sin(xs * 2 * np.pi / period) * np.sin(ys * 2 * np.pi / period)) > 0.85
        base -= dots[..., None] * ink * 0.8
    base += rng.normal(0, 1.5, base.shape)
    return np.clip(base, 0, 255)


def _wrap(text: str, face: ImageFont.FreeTypeFont, width: float) -> list[str]:
    tokens = re.findall(r"\d+|.", text)
    lines = [""]
    for token in tokens:
        if lines[-1] and face.getlength(lines[-1] + token) > width:
            lines.append("")
        lines[-1] += token
    return lines


@dataclass
class Drawn:
    """A rendered side and the boxes of its printed text (card pixels), for ground truth."""

    rgb: np.ndarray
    text_boxes: list[tuple[int, int, int, int]] = field(default_factory=list)
    portrait_box: tuple[int, int, int, int] | None = None


def ink_boxes(rgb: np.ndarray, exclude: tuple[int, int, int, int] | None = None):
    """Boxes of printed words on a card drawn elsewhere (dark ink joined along the line)."""
    ink = (rgb.min(axis=2) < 150).astype(np.uint8)
    if exclude is not None:
        left, top, right, bottom = exclude
        ink[top:bottom, left:right] = 0
    ink[: CARD_H // 3, : CARD_W // 4] = 0  # the emblem of a back
    joined = cv2.dilate(ink, np.ones((3, 15), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(joined)
    return [
        (int(x), int(y), int(x + w), int(y + h))
        for x, y, w, h, area in stats[1:count]
        if h >= 12 and w >= 12
    ]


class _Painter:
    def __init__(self, style: Style, rng: np.random.Generator) -> None:
        self.style, self.rng = style, rng
        self.image = Image.fromarray(_texture(style, rng).astype(np.uint8))
        self.draw = ImageDraw.Draw(self.image)
        self.boxes: list[tuple[int, int, int, int]] = []
        self.ink = tuple(int(v) for v in rng.integers(10, 40, 3))

    def text(self, xy, text: str, font: str, size: int, colour) -> float:
        face = _font(font, size)
        self.draw.text(xy, text, font=face, fill=colour)
        box = self.draw.textbbox(xy, text, font=face)
        self.boxes.append(tuple(int(v) for v in box))
        return face.getlength(text)

    def label(self, xy, text: str, size: int) -> float:
        return self.text(xy, text, self.style.label_font, size, self.style.label_colour)

    def value(self, xy, text: str, size: int | None = None) -> float:
        return self.text(xy, text, self.style.value_font, size or self.style.value_size, self.ink)

    def offset(self) -> tuple[int, int]:
        j = self.style.jitter
        return int(self.rng.integers(-j, j + 1)), int(self.rng.integers(-j, j + 1))


def render_front(holder: CardHolder, portrait: np.ndarray, style: Style, seed: int) -> Drawn:
    p = _Painter(style, np.random.default_rng(seed))
    dx, dy = p.offset()
    x0, xv, size = 55 + dx, 160 + dx, style.value_size
    spaced = p.rng.random() < 0.5  # real cards print 姓 名 with a gap; some photos merge it
    p.label((x0, 60 + dy), "姓  名" if spaced else "姓名", 25)
    p.value((xv, 55 + dy), holder.name, size + 2)
    p.label((x0, 128 + dy), "性  别" if spaced else "性别", 25)
    p.value((xv, 124 + dy), holder.sex)
    p.label((265 + dx, 128 + dy), "民  族" if spaced else "民族", 25)
    p.value((355 + dx, 124 + dy), holder.ethnicity)
    p.label((x0, 196 + dy), "出  生" if spaced else "出生", 25)
    x = xv
    for text, is_label in (
        (str(holder.birth.year), False),
        ("年", True),
        (str(holder.birth.month), False),
        ("月", True),
        (str(holder.birth.day), False),
        ("日", True),
    ):
        width = p.label((x, 196 + dy), text, 25) if is_label else p.value((x, 192 + dy), text)
        x += int(width) + 10
    p.label((x0, 262 + dy), "住  址" if spaced else "住址", 25)
    face = _font(style.value_font, size)
    for n, line in enumerate(_wrap(holder.address, face, 11.2 * size)):
        p.value((xv, 258 + dy + 41 * n), line)
    ddx, ddy = p.offset()
    p.label((x0 + ddx, 452 + ddy), "公民身份号码", 24)
    p.value((255 + ddx + dx, 444 + ddy), holder.id_number, 38)
    left, top = 575 + dx // 2, 65 + dy // 2
    p.image.paste(Image.fromarray(portrait), (left, top))
    box = (left, top, left + portrait.shape[1], top + portrait.shape[0])
    return Drawn(np.asarray(p.image), p.boxes, box)


def render_back(holder: CardHolder, style: Style, seed: int) -> Drawn:
    p = _Painter(style, np.random.default_rng(seed))
    dx, dy = p.offset()
    cx, cy = 135 + dx, 120 + dy
    p.draw.ellipse((cx - 68, cy - 68, cx + 68, cy + 68), fill=(205, 45, 45))
    star = [
        (
            cx + 40 * math.cos(math.radians(-90 + 36 * k)) * (1 if k % 2 == 0 else 0.4),
            cy + 40 * math.sin(math.radians(-90 + 36 * k)) * (1 if k % 2 == 0 else 0.4),
        )
        for k in range(10)
    ]
    p.draw.polygon(star, fill=(245, 210, 70))
    p.text((265 + dx, 65 + dy), "中华人民共和国", style.value_font, 48, p.ink)
    p.text((245 + dx, 165 + dy), "居民身份证", style.label_font, 74, p.ink)
    p.boxes.clear()  # the title is not a field: glare over it does not stop a reader
    ddx, ddy = p.offset()
    p.label((140 + ddx, 382 + ddy), "签发机关", 26)
    authority_size = 30 if len(holder.authority) < 13 else 26
    p.value((290 + ddx, 378 + ddy), holder.authority, authority_size)
    p.label((140 + ddx, 450 + ddy), "有效期限", 26)
    p.value((290 + ddx, 446 + ddy), holder.validity, 30)
    return Drawn(np.asarray(p.image), p.boxes)


# -- photographs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Shot:
    """How one side is photographed; `kind` says what a person would make of the photo."""

    background: str  # "desk", "fabric", "hand", "paper"
    angle: float
    card_width: float
    perspective: float
    blur: float
    light: float
    noise: float
    jpeg_quality: int
    glare: float  # 0: none; else the glare spot's peak gain
    shadow: bool
    kind: str = "normal"  # "normal", "cut" (card cut by the edge), "small" (low resolution)
    seed: int = 0


def random_shot(rng: np.random.Generator, backgrounds: tuple[str, ...], *, kind: str) -> Shot:
    return Shot(
        background=backgrounds[rng.integers(len(backgrounds))],
        angle=float(rng.uniform(0, 360)),
        card_width=float(rng.uniform(0.5, 0.8)),
        perspective=float(rng.uniform(0, 0.07)),
        blur=float(rng.choice([0.0, rng.uniform(0.3, 1.2)])),
        light=float(rng.choice([1.0, rng.uniform(0.4, 1.1)])),
        noise=float(rng.uniform(1.0, 4.0)),
        jpeg_quality=int(rng.integers(50, 96)),
        glare=float(rng.choice([0.0, 0.0, rng.uniform(0.3, 0.8), rng.uniform(1.5, 3.0)])),
        shadow=bool(rng.random() < 0.4),
        kind=kind,
        seed=int(rng.integers(0, 2**31)),
    )


def _background(kind: str, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    width, height = size
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    if kind == "desk":
        low = cv2.resize(
            rng.uniform(0, 1, (height // 50 + 2, width // 50 + 2)).astype(np.float32),
            (width, height),
            interpolation=cv2.INTER_CUBIC,
        )
        grain = np.sin((ys * rng.uniform(0.02, 0.06) + 8 * low) * 2)
        grey = rng.uniform(60, 140) + 20 * low + 12 * grain
        colour = np.array([1.1, 0.85, 0.6]) * rng.uniform(0.8, 1.1)
    elif kind == "fabric":
        period = rng.uniform(5, 12)
        weave = np.sin(xs * 2 * np.pi / period) * np.sin(ys * 2 * np.pi / period)
        grey = rng.uniform(50, 150) + 18 * weave
        colour = rng.uniform(0.5, 1.2, 3)
    elif kind == "paper":
        grey = rng.uniform(170, 215) + cv2.GaussianBlur(
            rng.normal(0, 6, (height, width)).astype(np.float32), (0, 0), 3
        )
        colour = np.array([1.0, 1.0, 0.97])
    else:  # hand: skin tones filling most of the frame under the card
        cx, cy = width * rng.uniform(0.3, 0.7), height * rng.uniform(0.5, 0.9)
        palm = ((xs - cx) / (0.5 * width)) ** 2 + ((ys - cy) / (0.45 * height)) ** 2 < 1
        grey = np.where(palm, rng.uniform(150, 200), rng.uniform(40, 90)).astype(np.float32)
        grey = cv2.GaussianBlur(grey, (0, 0), 15)
        colour = np.array([1.0, 0.78, 0.65])
    noise = rng.normal(0, 3, (height, width))
    return np.clip((grey + noise)[..., None] * colour[None, None, :], 0, 255).astype(np.float32)


def _rounded(width: int, height: int, radius: int = 32) -> np.ndarray:
    mask = np.zeros((height, width), np.uint8)
    cv2.rectangle(mask, (radius, 0), (width - 1 - radius, height - 1), 255, -1)
    cv2.rectangle(mask, (0, radius), (width - 1, height - 1 - radius), 255, -1)
    for cx, cy in (
        (radius, radius),
        (width - 1 - radius, radius),
        (radius, height - 1 - radius),
        (width - 1 - radius, height - 1 - radius),
    ):
        cv2.circle(mask, (cx, cy), radius, 255, -1, lineType=cv2.LINE_AA)
    return mask


def _corners(shot: Shot, photo: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    width, height = photo
    theta = math.radians(shot.angle)
    target = shot.card_width * max(width, height)
    span_w = abs(math.cos(theta)) * target + abs(math.sin(theta)) * target * CARD_H / CARD_W
    span_h = abs(math.sin(theta)) * target + abs(math.cos(theta)) * target * CARD_H / CARD_W
    fit = min(1.0, 0.88 * width / span_w, 0.88 * height / span_h)
    scale = target * fit / CARD_W
    slack_x = max(0.0, (width * 0.94 - span_w * fit) / 2)
    slack_y = max(0.0, (height * 0.94 - span_h * fit) / 2)
    centre = np.array(
        [width / 2 + rng.uniform(-slack_x, slack_x), height / 2 + rng.uniform(-slack_y, slack_y)]
    )
    local = np.array(
        [
            [-CARD_W / 2, -CARD_H / 2],
            [CARD_W / 2, -CARD_H / 2],
            [CARD_W / 2, CARD_H / 2],
            [-CARD_W / 2, CARD_H / 2],
        ]
    )
    local = local + rng.uniform(-1, 1, (4, 2)) * shot.perspective * CARD_W
    rotation = np.array([[math.cos(theta), math.sin(theta)], [-math.sin(theta), math.cos(theta)]])
    corners = (local * scale) @ rotation.T + centre
    if shot.kind == "cut":
        # slide the card past one edge of the frame by 8-20% of its width
        axis, side = int(rng.integers(2)), int(rng.integers(2))
        extent = corners[:, axis].max() if side else corners[:, axis].min()
        edge = (width, height)[axis] if side else 0
        past = rng.uniform(0.08, 0.2) * target * fit * (1 if side else -1)
        corners[:, axis] += edge - extent + past
    return corners


def _glare_map(shot: Shot) -> np.ndarray:
    rng = np.random.default_rng(shot.seed + 7)
    cx, cy = rng.uniform(0.05, 0.95) * CARD_W, rng.uniform(0.1, 0.9) * CARD_H
    sigma = rng.uniform(25, 70)
    ys, xs = np.mgrid[0:CARD_H, 0:CARD_W].astype(np.float32)
    spot = shot.glare * np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * sigma**2))
    return spot


# Print this light under a reflection is as light as the paper around it: erased, not paled.
ERASED = 240


def _washed_out(
    ink: np.ndarray, washed: np.ndarray, erased: np.ndarray, box: tuple[int, int, int, int]
) -> bool:
    """Whether a reflection took what a reader needs of one printed value: a fifth of its
    print washed out (lighter than 200), or half the print of any one character erased (as
    light as the paper around it, ERASED; a window as wide as 0.6 of the line's height, a
    digit's width, moved along it by half that): a value missing one character cannot be read
    whole by a person either."""
    left, top, right, bottom = box
    rows, columns = slice(max(top, 0), bottom), slice(max(left, 0), right)
    printed = ink[rows, columns]
    if not printed.any():
        return False
    if (washed[rows, columns] & printed).sum() > 0.2 * printed.sum():
        return True
    lost = erased[rows, columns] & printed
    width = max(int(0.6 * (bottom - top)), 2)
    for x in range(0, printed.shape[1], width // 2):
        inked = int(printed[:, x : x + width].sum())
        if inked >= 20 and int(lost[:, x : x + width].sum()) > 0.5 * inked:
            return True
    return False


def photograph(drawn: Drawn, shot: Shot) -> tuple[bytes, bool]:
    """A JPEG phone photo of a rendered side, and whether its printed fields stay legible."""
    rng = np.random.default_rng(shot.seed)
    card = drawn.rgb.astype(np.float32)
    legible = True
    if shot.glare > 0:
        spot = _glare_map(shot)
        ink = drawn.rgb.min(axis=2) < 150
        # glare adds light towards white: a saturating spot erases the print under it
        card = card + (255 - card) * np.clip(spot, 0, 1)[..., None] + 60 * spot[..., None]
        lightest = np.clip(card, 0, 255).min(axis=2)
        washed, erased = lightest > 200, lightest > ERASED
        if any(_washed_out(ink, washed, erased, box) for box in drawn.text_boxes):
            legible = False
        if drawn.portrait_box is not None:
            left, top, right, bottom = drawn.portrait_box
            if washed[top:bottom, left:right].mean() > 0.15:
                legible = False  # the face under the reflection cannot be compared either
    photo = (1600, 1200) if rng.random() < 0.7 else (1200, 1600)
    src = np.float32([[0, 0], [CARD_W, 0], [CARD_W, CARD_H], [0, CARD_H]])
    dst = _corners(shot, photo, rng).astype(np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(card, matrix, photo, flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(_rounded(CARD_W, CARD_H), matrix, photo)
    alpha = (mask / 255.0)[..., None]
    drop = np.roll(cv2.GaussianBlur(mask, (0, 0), 14), (10, 6), (0, 1))[..., None] / 255.0
    scene = _background(shot.background, photo, rng) * (1 - 0.4 * drop)
    scene = scene * (1 - alpha) + warped * alpha
    if shot.background == "hand":
        _thumb(scene, dst, rng)
    sigma = shot.blur * float(np.linalg.norm(dst[1] - dst[0])) / CARD_W
    if sigma > 0.2:
        scene = cv2.GaussianBlur(scene, (0, 0), sigma)
    if shot.shadow:
        scene *= _shadow(photo, rng)[..., None]
    ys, xs = np.mgrid[0 : photo[1], 0 : photo[0]].astype(np.float32)
    direction = rng.uniform(0, 2 * math.pi)
    ramp = (math.cos(direction) * xs / photo[0] + math.sin(direction) * ys / photo[1] + 1) / 2
    lit = scene * shot.light * (1 - rng.uniform(0, 0.3) * ramp)[..., None]
    rgb = np.clip(lit + rng.normal(0, shot.noise, lit.shape), 0, 255).astype(np.uint8)
    if shot.kind == "small":
        width = int(rng.integers(220, 400))
        rgb = cv2.resize(
            rgb, (width, round(width * photo[1] / photo[0])), interpolation=cv2.INTER_AREA
        )
    ok, data = cv2.imencode(
        ".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, shot.jpeg_quality]
    )
    assert ok
    return data.tobytes(), legible


def _thumb(scene: np.ndarray, corners: np.ndarray, rng: np.random.Generator) -> None:
    """A thumb over the card's border at one of its short sides, clear of the printed text."""
    a, b = (corners[0], corners[3]) if rng.random() < 0.5 else (corners[1], corners[2])
    centre = a + (b - a) * rng.uniform(0.3, 0.7)
    length = float(np.linalg.norm(b - a)) * 0.22
    angle = math.degrees(math.atan2(*(b - a)[::-1]))
    colour = tuple(float(v) for v in np.array([205, 160, 135]) * rng.uniform(0.8, 1.05))
    cv2.ellipse(
        scene,
        (int(centre[0]), int(centre[1])),
        (int(length * 0.45), int(length)),
        angle,
        0,
        360,
        colour,
        -1,
        lineType=cv2.LINE_AA,
    )


def _shadow(photo: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A soft shadow of a phone or a hand over part of the photo."""
    width, height = photo
    mask = np.zeros((height, width), np.float32)
    points = rng.uniform(0, 1, (5, 2)) * np.array([width, height])
    cv2.fillPoly(mask, [cv2.convexHull(points.astype(np.int32))], 1.0)
    mask = cv2.GaussianBlur(mask, (0, 0), rng.uniform(20, 60))
    return 1 - rng.uniform(0.25, 0.5) * mask
