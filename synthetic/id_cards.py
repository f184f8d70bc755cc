"""Synthetic second-generation resident ID cards: random but plausible holders and the two card
sides rendered at 856x540 px (85.6 x 54 mm at 10 px/mm), marked 样本 SPECIMEN.

Holders are drawn from real region codes, surnames, the 56 ethnic groups and the legal validity
periods (5, 10 or 20 years, or 长期 from 46), with GB 11643 checksum-valid numbers whose birth
date and sex digit agree with the printed fields. The portrait is a real photo (assets/faces)
cropped around its face. Used by `synthetic.make_samples`, the vision tests and the OCR benchmark.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from domain.idnumber import make_id_number
from vision.idfields import ETHNIC_GROUPS

FONT_PATH = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
CARD_SIZE = (856, 540)
PORTRAIT_BOX = (560, 70, 820, 390)  # left, top, right, bottom
LABEL = (40, 95, 165)
INK = (20, 20, 20)
ADDRESS_WIDTH = 380

# (region code, province + city, district, issuing authority): real codes and names.
REGIONS = (
    ("110101", "北京市", "东城区", "北京市公安局东城分局"),
    ("110105", "北京市", "朝阳区", "北京市公安局朝阳分局"),
    ("120101", "天津市", "和平区", "天津市公安局和平分局"),
    ("310104", "上海市", "徐汇区", "上海市公安局徐汇分局"),
    ("320102", "江苏省南京市", "玄武区", "南京市公安局玄武分局"),
    ("330106", "浙江省杭州市", "西湖区", "杭州市公安局西湖分局"),
    ("350102", "福建省福州市", "鼓楼区", "福州市公安局鼓楼分局"),
    ("370102", "山东省济南市", "历下区", "济南市公安局历下分局"),
    ("420106", "湖北省武汉市", "武昌区", "武汉市公安局武昌分局"),
    ("430102", "湖南省长沙市", "芙蓉区", "长沙市公安局芙蓉分局"),
    ("440106", "广东省广州市", "天河区", "广州市公安局天河分局"),
    ("440305", "广东省深圳市", "南山区", "深圳市公安局南山分局"),
    ("500103", "重庆市", "渝中区", "重庆市公安局渝中区分局"),
    ("510104", "四川省成都市", "锦江区", "成都市公安局锦江区分局"),
    ("530102", "云南省昆明市", "五华区", "昆明市公安局五华分局"),
    ("540102", "西藏自治区拉萨市", "城关区", "拉萨市公安局城关分局"),
    ("610113", "陕西省西安市", "雁塔区", "西安市公安局雁塔分局"),
    ("650102", "新疆维吾尔自治区乌鲁木齐市", "天山区", "乌鲁木齐市公安局天山区分局"),
    ("150102", "内蒙古自治区呼和浩特市", "新城区", "呼和浩特市公安局新城区分局"),
    ("452122", "广西壮族自治区南宁市", "武鸣区", "南宁市公安局武鸣分局"),
)
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜"
    "叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "慕容", "司徒")
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英文华建国志红玉梅春燕晓东海波宇鹏"
    "浩然子涵欣怡梓萱一诺思远雨晨嘉俊佳琪博文天佑诗雨晨曦慧婷凯瑞德宁安康永福荣家豪立新"
)
UYGHUR_PARTS = ("买买提", "艾力", "阿依古丽", "古丽", "努尔", "阿不都", "热依拉", "吐尔逊")
STREETS = (
    "和平里东街",
    "安定门外大街",
    "建国路",
    "人民路",
    "解放大道",
    "中山北路",
    "文化路",
    "长江路",
    "滨江大道",
    "光明街",
    "幸福里",
    "东风路",
    "青年路",
    "新华街",
    "胜利大街",
)


@dataclass(frozen=True)
class CardHolder:
    name: str
    sex: str
    ethnicity: str
    birth: date
    address: str
    id_number: str
    authority: str
    valid_from: date
    valid_until: date | None  # None: 长期

    @property
    def validity(self) -> str:
        until = "长期" if self.valid_until is None else f"{self.valid_until:%Y.%m.%d}"
        return f"{self.valid_from:%Y.%m.%d}-{until}"


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def validity_years(age_at_issue: int) -> int | None:
    """Validity by age at issue (Resident Identity Card Law, art. 5); None is 长期."""
    if age_at_issue < 16:
        return 5
    if age_at_issue <= 25:
        return 10
    if age_at_issue <= 45:
        return 20
    return None


def random_holder(rng: np.random.Generator, today: date, *, expired: bool = False) -> CardHolder:
    """A plausible adult holder; `expired` puts the card's end date before `today`."""
    region, place, district, authority = REGIONS[rng.integers(len(REGIONS))]
    birth = date(1950, 1, 1) + timedelta(days=int(rng.integers(0, 365 * 55)))
    sequence = int(rng.integers(0, 1000))
    sex = "男" if sequence % 2 == 1 else "女"
    ethnicity = "汉" if rng.random() < 0.6 else ETHNIC_GROUPS[rng.integers(len(ETHNIC_GROUPS))]
    if ethnicity == "维吾尔" and rng.random() < 0.7:
        first, last = rng.choice(len(UYGHUR_PARTS), size=2, replace=False)
        name = f"{UYGHUR_PARTS[first]}·{UYGHUR_PARTS[last]}"
    else:
        surname = (
            COMPOUND_SURNAMES[rng.integers(len(COMPOUND_SURNAMES))]
            if rng.random() < 0.05
            else SURNAMES[rng.integers(len(SURNAMES))]
        )
        name = surname + "".join(
            GIVEN[i] for i in rng.integers(len(GIVEN), size=rng.integers(1, 3))
        )
    street = STREETS[rng.integers(len(STREETS))]
    address = f"{place}{district}{street}{rng.integers(1, 300)}号"
    if rng.random() < 0.7:
        building, unit = rng.integers(1, 30), rng.integers(1, 8)
        address += f"{building}号楼{unit}单元{rng.integers(1, 25)}0{rng.integers(1, 9)}室"
    adult = _add_years(birth, 18)
    if expired:
        # a 10- or 20-year card whose end fell 1 day to 3 years before today
        until = today - timedelta(days=int(rng.integers(1, 1100)))
        expired_years = 10 if (until - birth).days < 36 * 365 else 20
        valid_from = _add_years(until, -expired_years)
        valid_until: date | None = until
    else:
        span = max((today - adult).days, 1)
        valid_from = adult + timedelta(days=int(rng.integers(0, span)))
        years = validity_years((valid_from - birth).days // 365)
        valid_until = None if years is None else _add_years(valid_from, years)
        while valid_until is not None and valid_until <= today:
            # renewed: the current card starts where the old one ended
            valid_from = valid_until
            years = validity_years((valid_from - birth).days // 365)
            valid_until = None if years is None else _add_years(valid_from, years)
    return CardHolder(
        name=name,
        sex=sex,
        ethnicity=ethnicity,
        birth=birth,
        address=address,
        id_number=make_id_number(region, birth, sequence),
        authority=authority,
        valid_from=valid_from,
        valid_until=valid_until,
    )


@cache
def font(size: int) -> ImageFont.FreeTypeFont:
    if not FONT_PATH.is_file():
        sys.exit(
            f"Chinese font missing: {FONT_PATH}\n"
            "install it with: sudo apt-get install -y fonts-wqy-zenhei"
        )
    return ImageFont.truetype(str(FONT_PATH), size)


def card_background(seed: int) -> Image.Image:
    """The pale guilloche-like background: a colour ramp crossed by thin wavy lines."""
    width, height = CARD_SIZE
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    t = xs / width
    base = np.stack([241 - 14 * t, 239 - 6 * t, 231 + 9 * t], axis=-1)
    rng = np.random.default_rng(seed)
    for _ in range(14):
        freq, phase, amp = rng.uniform(0.004, 0.012), rng.uniform(0, 6.3), rng.uniform(20, 60)
        center = rng.uniform(0, height)
        curve = center + amp * np.sin(freq * xs + phase)
        base -= (np.abs(ys - curve) < 0.8)[..., None] * np.array([14, 8, 2], np.float32)
    return Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))


def draw_runs(draw: ImageDraw.ImageDraw, x: int, y: int, runs, size: int) -> None:
    """Text in alternating label/ink colours on one baseline, e.g. 1985 年 6 月 15 日."""
    face = font(size)
    for text, colour in runs:
        draw.text((x, y), text, font=face, fill=colour)
        x += round(face.getlength(text)) + 8


def wrap(text: str, face: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Break by pixel width, never inside a run of digits (a house number stays whole)."""
    tokens = re.findall(r"\d+|.", text)
    lines = [""]
    for token in tokens:
        if lines[-1] and face.getlength(lines[-1] + token) > width:
            lines.append("")
        lines[-1] += token
    return lines


def specimen_mark(draw: ImageDraw.ImageDraw) -> None:
    draw.text(
        (CARD_SIZE[0] - 190, CARD_SIZE[1] - 36),
        "样本 SPECIMEN",
        font=font(20),
        fill=(215, 120, 120),
    )


def jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    ok, encoded = cv2.imencode(
        ".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    if not ok:
        raise ValueError("JPEG encoding failed")
    return encoded.tobytes()


def crop_portrait(rgb: np.ndarray, face: tuple[int, int, int, int], zoom: float = 1.9):
    """A head-and-shoulders crop the size of the card's portrait box, around the face box
    (top, right, bottom, left), eyes in the upper third; the photo is reflected at its borders."""
    top, right, bottom, left = face
    out_w, out_h = PORTRAIT_BOX[2] - PORTRAIT_BOX[0], PORTRAIT_BOX[3] - PORTRAIT_BOX[1]
    scale = out_w / ((right - left) * zoom)
    cx, cy = (left + right) / 2, (top + bottom) / 2
    matrix = np.array(
        [[scale, 0, out_w / 2 - scale * cx], [0, scale, out_h * 0.42 - scale * cy]], np.float64
    )
    return cv2.warpAffine(
        rgb, matrix, (out_w, out_h), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT
    )


def card_front(holder: CardHolder, portrait: np.ndarray, seed: int) -> np.ndarray:
    card = card_background(seed)
    draw = ImageDraw.Draw(card)
    draw_runs(draw, 60, 62, [("姓名", LABEL)], 26)
    draw.text((165, 56), holder.name, font=font(34), fill=INK)
    draw_runs(draw, 60, 132, [("性别", LABEL)], 26)
    draw.text((165, 128), holder.sex, font=font(30), fill=INK)
    draw_runs(draw, 260, 132, [("民族", LABEL)], 26)
    draw.text((350, 128), holder.ethnicity, font=font(30), fill=INK)
    draw_runs(draw, 60, 202, [("出生", LABEL)], 26)
    birth = holder.birth
    runs = [(str(birth.year), INK), ("年", LABEL), (str(birth.month), INK), ("月", LABEL)]
    draw_runs(draw, 165, 198, [*runs, (str(birth.day), INK), ("日", LABEL)], 30)
    draw_runs(draw, 60, 272, [("住址", LABEL)], 26)
    for n, line in enumerate(wrap(holder.address, font(30), width=ADDRESS_WIDTH)):
        draw.text((165, 268 + 42 * n), line, font=font(30), fill=INK)
    draw_runs(draw, 60, 452, [("公民身份号码", LABEL)], 26)
    draw.text((260, 444), holder.id_number, font=font(40), fill=INK)
    card.paste(Image.fromarray(portrait), PORTRAIT_BOX[:2])
    specimen_mark(draw)
    return np.asarray(card)


def card_back(holder: CardHolder, seed: int) -> np.ndarray:
    card = card_background(seed + 1)
    draw = ImageDraw.Draw(card)
    # A plain red seal shape: deliberately not the national emblem.
    draw.ellipse((70, 50, 210, 190), fill=(200, 40, 40))
    draw.ellipse((86, 66, 194, 174), outline=(240, 200, 80), width=4)
    star = [
        (
            140 + 42 * math.cos(math.radians(-90 + 36 * k)) * (1 if k % 2 == 0 else 0.4),
            120 + 42 * math.sin(math.radians(-90 + 36 * k)) * (1 if k % 2 == 0 else 0.4),
        )
        for k in range(10)
    ]
    draw.polygon(star, fill=(245, 210, 70))
    draw.text((270, 70), "中华人民共和国", font=font(50), fill=INK)
    draw.text((250, 170), "居 民 身 份 证", font=font(72), fill=INK)
    draw_runs(draw, 150, 382, [("签发机关", LABEL)], 28)
    draw.text((300, 378), holder.authority, font=font(32), fill=INK)
    draw_runs(draw, 150, 452, [("有效期限", LABEL)], 28)
    draw.text((300, 448), holder.validity, font=font(32), fill=INK)
    specimen_mark(draw)
    return np.asarray(card)


FACES = Path(__file__).resolve().parent.parent / "assets" / "faces"
# Photos whose one face is whole: the partial-face test images are not portraits.
_NOT_PORTRAITS = ("partial_face", "32bit")


def portrait_photos() -> list[str]:
    """Single-person photos in assets/faces (MANIFEST.csv) that can serve as card portraits."""
    names = []
    for line in (FACES / "MANIFEST.csv").read_text().splitlines()[1:]:
        name, person = line.split(",")[:2]
        if person not in ("MULTI", "video") and not any(n in name for n in _NOT_PORTRAITS):
            names.append(name)
    return names


@cache
def portrait(name: str) -> np.ndarray:
    """The card-sized portrait crop of a photo in assets/faces, around its one face."""
    # imported here: rendering a card needs no face model unless it needs a portrait
    from vision.faces import FaceModels, single_face
    from vision.images import DETECT_LONG_SIDE, ImageLimits, decode_image

    data = (FACES / name).read_bytes()
    rgb = decode_image(data, ImageLimits())
    small = decode_image(data, ImageLimits(), max_side=DETECT_LONG_SIDE)
    box = single_face(FaceModels.shared().detect(small))
    k = rgb.shape[1] / small.shape[1]
    return crop_portrait(
        rgb, tuple(round(v * k) for v in (box.top, box.right, box.bottom, box.left))
    )
