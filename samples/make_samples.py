"""Generate the demo and test documents of two personas: ID card front and back, selfie and
liveness video, from the real photos in assets/faces (see samples/README.md for attribution).

The card layout imitates the second-generation resident ID card at 856x540 px (85.6 x 54 mm at
10 px/mm) and is marked 样本 SPECIMEN. The video moves a real photo with smooth translation,
scale, rotation and lighting changes, so that it is not a still; it cannot blink or open its
mouth. Everything is seeded: the same inputs give the same files.

    .venv/bin/python -m samples.make_samples            # write samples/<persona>/...
    .venv/bin/python -m samples.make_samples --check    # and verify them with the vision checks
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from domain.idnumber import make_id_number
from vision.faces import FaceBox, FaceEngine, probe_face, single_face
from vision.images import (
    DETECT_LONG_SIDE,
    DOCUMENT_GATES,
    ImageLimits,
    decode_image,
    measure_quality,
    to_gray,
)
from vision.liveness import assess_liveness
from vision.match import match_selfie
from vision.video import VideoLimits, sample_video

ROOT = Path(__file__).resolve().parent
FACES = ROOT.parent / "assets" / "faces"
FONT_PATH = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
CARD_SIZE = (856, 540)
PORTRAIT_BOX = (560, 70, 820, 390)  # left, top, right, bottom
LABEL = (40, 95, 165)
INK = (20, 20, 20)
VIDEO_SIZE = (360, 480)
VIDEO_FPS = 15
VIDEO_SECONDS = 3.0


@dataclass(frozen=True)
class Persona:
    key: str
    name: str
    sex: str
    ethnicity: str
    birth: date
    address: str
    id_number: str
    authority: str
    valid_from: date
    valid_until: date
    card_photo: str
    selfie_photo: str
    video_photo: str
    reference_photo: str
    seed: int


PERSONAS = (
    Persona(
        key="approve",
        name="欧阳明",
        sex="男",
        ethnicity="汉",
        birth=date(1985, 6, 15),
        address="北京市东城区和平里东街18号院3号楼2单元501室",
        id_number=make_id_number("110101", date(1985, 6, 15), 11),
        authority="北京市公安局东城分局",
        valid_from=date(2016, 6, 15),
        valid_until=date(2036, 6, 15),
        card_photo="examples_obama.jpg",
        selfie_photo="examples_knn_examples_test_obama1.jpg",
        video_photo="examples_obama-480p.jpg",
        reference_photo="examples_obama2.jpg",
        seed=11,
    ),
    Persona(
        key="review",
        name="李安思",
        sex="男",
        ethnicity="汉",
        birth=date(1990, 3, 2),
        address="北京市东城区安定门外大街56号院7号楼1单元302室",
        id_number=make_id_number("110101", date(1990, 3, 2), 731),
        authority="北京市公安局东城分局",
        valid_from=date(2015, 3, 2),
        valid_until=date(2035, 3, 2),
        card_photo="examples_knn_examples_test_alex_lacamoire1.jpg",
        selfie_photo="examples_alex-lacamoire.png",
        video_photo="examples_alex-lacamoire.png",
        reference_photo="examples_knn_examples_train_alex_lacamoire_img1.jpg",
        seed=731,
    ),
)


def font(size: int) -> ImageFont.FreeTypeFont:
    if not FONT_PATH.is_file():
        sys.exit(
            f"Chinese font missing: {FONT_PATH}\n"
            "install it with: sudo apt-get install -y fonts-wqy-zenhei"
        )
    return ImageFont.truetype(str(FONT_PATH), size)


def load_photo(name: str) -> np.ndarray:
    return np.asarray(Image.open(FACES / name).convert("RGB"))


def face_at_full_size(engine: FaceEngine, rgb: np.ndarray) -> FaceBox:
    """Detect at 640 px like the pipeline, and scale the box back to the photo's pixels."""
    small = decode_image(_jpeg(rgb, 95), ImageLimits(), max_side=DETECT_LONG_SIDE)
    box = single_face(engine.detect(small))
    k = rgb.shape[1] / small.shape[1]
    return FaceBox(*(round(v * k) for v in (box.top, box.right, box.bottom, box.left)))


def crop_around_face(rgb: np.ndarray, box: FaceBox, size: tuple[int, int], zoom: float):
    """A head-and-shoulders crop of `size`, the face `1/zoom` of its width, eyes in the upper
    third; the photo is reflected at its borders where the crop would leave it."""
    out_w, out_h = size
    scale = out_w / (box.width * zoom)
    cx, cy = box.center
    matrix = np.array(
        [[scale, 0, out_w / 2 - scale * cx], [0, scale, out_h * 0.42 - scale * cy]], np.float64
    )
    return cv2.warpAffine(rgb, matrix, size, flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT)


def card_background(seed: int) -> Image.Image:
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


def card_front(persona: Persona, portrait: np.ndarray) -> Image.Image:
    card = card_background(persona.seed)
    draw = ImageDraw.Draw(card)
    draw_runs(draw, 60, 62, [("姓名", LABEL)], 26)
    draw.text((165, 56), persona.name, font=font(34), fill=INK)
    draw_runs(draw, 60, 132, [("性别", LABEL)], 26)
    draw.text((165, 128), persona.sex, font=font(30), fill=INK)
    draw_runs(draw, 260, 132, [("民族", LABEL)], 26)
    draw.text((350, 128), persona.ethnicity, font=font(30), fill=INK)
    draw_runs(draw, 60, 202, [("出生", LABEL)], 26)
    birth = persona.birth
    draw_runs(
        draw,
        165,
        198,
        [
            (str(birth.year), INK),
            ("年", LABEL),
            (str(birth.month), INK),
            ("月", LABEL),
            (str(birth.day), INK),
            ("日", LABEL),
        ],
        30,
    )
    draw_runs(draw, 60, 272, [("住址", LABEL)], 26)
    for n, line in enumerate(wrap(persona.address, font(30), width=380)):
        draw.text((165, 268 + 42 * n), line, font=font(30), fill=INK)
    draw_runs(draw, 60, 452, [("公民身份号码", LABEL)], 26)
    draw.text((260, 444), persona.id_number, font=font(40), fill=INK)
    card.paste(Image.fromarray(portrait), PORTRAIT_BOX[:2])
    specimen_mark(draw)
    return card


def card_back(persona: Persona) -> Image.Image:
    card = card_background(persona.seed + 1)
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
    draw.text((300, 378), persona.authority, font=font(32), fill=INK)
    draw_runs(draw, 150, 452, [("有效期限", LABEL)], 28)
    validity = f"{persona.valid_from:%Y.%m.%d}-{persona.valid_until:%Y.%m.%d}"
    draw.text((300, 448), validity, font=font(32), fill=INK)
    specimen_mark(draw)
    return card


def _jpeg(rgb: np.ndarray | Image.Image, quality: int) -> bytes:
    image = rgb if isinstance(rgb, Image.Image) else Image.fromarray(rgb)
    ok, encoded = cv2.imencode(
        ".jpg",
        cv2.cvtColor(np.asarray(image), cv2.COLOR_RGB2BGR),
        [cv2.IMWRITE_JPEG_QUALITY, quality],
    )
    assert ok
    return encoded.tobytes()


def write_video(path: Path, rgb: np.ndarray, box: FaceBox, seed: int) -> None:
    """A hand-held look: sums of slow sines (random phases) move, zoom, tilt and relight it."""
    rng = np.random.default_rng(seed)
    phases = rng.uniform(0, 2 * math.pi, size=8)
    out_w, out_h = VIDEO_SIZE
    src_h, src_w = rgb.shape[:2]
    # The face fills ~42% of the width, zoomed in further where the photo is too small for the
    # frame plus the jitter, and the view is shifted to stay inside the photo: no mirrored edges.
    base_scale = max(out_w * 0.42 / box.width, out_w * 1.15 / src_w, out_h * 1.15 / src_h)
    half_w, half_h = out_w / 2 / base_scale * 1.1, out_h / 2 / base_scale * 1.1
    cx = min(max(box.center[0], half_w), src_w - half_w)
    cy = min(max(box.center[1] + 0.08 * out_h / base_scale, half_h), src_h - half_h)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), VIDEO_FPS, VIDEO_SIZE)
    if not writer.isOpened():
        sys.exit("OpenCV cannot write mp4v video here")
    try:
        for n in range(round(VIDEO_SECONDS * VIDEO_FPS)):
            t = n / VIDEO_FPS
            wave = [
                math.sin(2 * math.pi * f * t + p)
                for f, p in zip((0.35, 0.9, 0.3, 0.8, 0.25, 0.4, 0.3, 0.6), phases, strict=True)
            ]
            dx = 9 * wave[0] + 3 * wave[1]
            dy = 7 * wave[2] + 2 * wave[3]
            scale = base_scale * (1 + 0.04 * wave[4])
            angle = 3.0 * wave[5]
            matrix = cv2.getRotationMatrix2D((cx, cy), angle, scale)
            matrix[:, 2] += (out_w / 2 - cx + dx, out_h / 2 - cy + dy)
            frame = cv2.warpAffine(
                rgb, matrix, VIDEO_SIZE, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
            )
            gain = 1.0 + 0.12 * wave[6] + 0.05 * t
            side = np.linspace(1 - 0.06 * wave[7], 1 + 0.06 * wave[7], out_w, dtype=np.float32)
            lit = np.clip(frame.astype(np.float32) * gain * side[None, :, None], 0, 255)
            writer.write(cv2.cvtColor(lit.astype(np.uint8), cv2.COLOR_RGB2BGR))
    finally:
        writer.release()


def generate(persona: Persona, out: Path, engine: FaceEngine) -> dict:
    folder = out / persona.key
    folder.mkdir(parents=True, exist_ok=True)
    card_rgb = load_photo(persona.card_photo)
    left, top, right, bottom = PORTRAIT_BOX
    portrait = crop_around_face(
        card_rgb, face_at_full_size(engine, card_rgb), (right - left, bottom - top), zoom=1.9
    )
    (folder / "id_front.jpg").write_bytes(_jpeg(card_front(persona, portrait), 88))
    (folder / "id_back.jpg").write_bytes(_jpeg(card_back(persona), 88))
    selfie = Image.fromarray(load_photo(persona.selfie_photo))
    selfie.thumbnail((960, 960))
    (folder / "selfie.jpg").write_bytes(_jpeg(selfie, 90))
    video_rgb = load_photo(persona.video_photo)
    write_video(
        folder / "liveness.mp4", video_rgb, face_at_full_size(engine, video_rgb), persona.seed
    )
    return {
        "name": persona.name,
        "sex": persona.sex,
        "ethnicity": persona.ethnicity,
        "birth_date": persona.birth.isoformat(),
        "address": persona.address,
        "id_number": persona.id_number,
        "issuing_authority": persona.authority,
        "valid_from": persona.valid_from.isoformat(),
        "valid_until": persona.valid_until.isoformat(),
        "files": {
            "id_front": f"{persona.key}/id_front.jpg",
            "id_back": f"{persona.key}/id_back.jpg",
            "selfie": f"{persona.key}/selfie.jpg",
            "liveness_video": f"{persona.key}/liveness.mp4",
        },
        "photos": {
            "card_portrait": persona.card_photo,
            "selfie": persona.selfie_photo,
            "video": persona.video_photo,
            "reference_portrait": persona.reference_photo,
        },
    }


def check(persona: Persona, out: Path, engine: FaceEngine, threshold: float) -> bool:
    """Run the checks the pipeline runs; print the distances of every compared pair."""
    folder = out / persona.key
    limits = ImageLimits()

    def still(path: Path, what: str):
        return probe_face(
            engine, decode_image(path.read_bytes(), limits, max_side=DETECT_LONG_SIDE), what=what
        )

    back = decode_image((folder / "id_back.jpg").read_bytes(), limits, max_side=DETECT_LONG_SIDE)
    DOCUMENT_GATES.check(measure_quality(to_gray(back)), "card back")
    card = still(folder / "id_front.jpg", "card")
    selfie = still(folder / "selfie.jpg", "selfie")
    reference = still(FACES / persona.reference_photo, "reference")
    frames = sample_video((folder / "liveness.mp4").read_bytes(), VideoLimits())
    live = assess_liveness(frames, engine)
    video = live.best.encoding if live.best else None
    report = match_selfie(
        selfie.encoding,
        card.encoding,
        reference=reference.encoding,
        video=video,
        threshold=threshold,
    )
    print(f"{persona.key}: liveness passed={live.passed} ({live.detail})")
    print(
        f"  selfie-card {report.distance_card:.3f}  selfie-reference "
        f"{report.distance_reference:.3f}  selfie-video {report.distance_video:.3f}"
    )
    return live.passed and report.passed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT)
    parser.add_argument("--check", action="store_true", help="verify with the vision checks")
    parser.add_argument("--threshold", type=float, default=0.6)
    args = parser.parse_args(argv)
    font(10)
    engine = FaceEngine.shared()
    manifest = {p.key: generate(p, args.out, engine) for p in PERSONAS}
    (args.out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    for path in sorted(args.out.glob("*/*.*")):
        print(f"{path.relative_to(args.out)}  {path.stat().st_size // 1024} KiB")
    if args.check:
        results = [check(p, args.out, engine, args.threshold) for p in PERSONAS]
        if not all(results):
            print("CHECK FAILED", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
