"""Generate the demo and test documents of two personas: ID card front and back, selfie and
liveness video, from the real photos in assets/faces (see samples/README.md for attribution).

The cards are flat 856 x 540 scans in the layout of `synthetic.id_cards`, marked 样本 SPECIMEN.
The liveness video is synthesised (`synthetic.challenge_video`) performing `SAMPLE_CHALLENGE`;
an application's challenge is random, so the demo and the end-to-end tests synthesise a video
for the challenge they are issued instead of uploading this one. Everything is seeded: the same
inputs give the same files (with the same Pillow, OpenCV and FFmpeg).

    .venv/bin/python -m synthetic.make_samples            # write samples/<persona>/...
    .venv/bin/python -m synthetic.make_samples --check    # and run the whole vision pipeline
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
from PIL import Image

from domain.enums import LivenessAction
from domain.identity import ActionWindow
from domain.idnumber import make_id_number
from synthetic.challenge_video import synthesize_challenge_video
from synthetic.id_cards import FACES, CardHolder, card_back, card_front, font, jpeg, portrait
from vision.actions import blink_intervals
from vision.antispoof import SpoofDetector
from vision.cardchecks import check_fields
from vision.faces import FaceModels, probe_face
from vision.idcard import find_portrait, read_side
from vision.images import DETECT_LONG_SIDE, ImageLimits, decode_image
from vision.liveness import assess_liveness
from vision.match import match_selfie
from vision.ocr import OcrReader
from vision.video import VideoLimits, sample_video

ROOT = Path(__file__).resolve().parent.parent / "samples"
SAMPLE_CHALLENGE = [
    ActionWindow(action=action, start_s=2.5 * n, end_s=2.5 * (n + 1))
    for n, action in enumerate(
        (LivenessAction.BLINK, LivenessAction.OPEN_MOUTH, LivenessAction.NOD)
    )
]
CHECK_DATE = date(2026, 11, 23)


@dataclass(frozen=True)
class Persona:
    key: str
    holder: CardHolder
    card_photo: str
    selfie_photo: str
    video_photo: str
    reference_photo: str
    seed: int


PERSONAS = (
    Persona(
        key="approve",
        holder=CardHolder(
            name="欧阳明",
            sex="男",
            ethnicity="汉",
            birth=date(1985, 6, 15),
            address="北京市东城区和平里东街18号院3号楼2单元501室",
            id_number=make_id_number("110101", date(1985, 6, 15), 11),
            authority="北京市公安局东城分局",
            valid_from=date(2016, 6, 15),
            valid_until=date(2036, 6, 15),
        ),
        card_photo="examples_obama.jpg",
        selfie_photo="examples_knn_examples_test_obama1.jpg",
        video_photo="examples_obama-480p.jpg",
        reference_photo="examples_obama2.jpg",
        seed=11,
    ),
    Persona(
        key="review",
        holder=CardHolder(
            name="李安思",
            sex="男",
            ethnicity="汉",
            birth=date(1990, 3, 2),
            address="北京市东城区安定门外大街56号院7号楼1单元302室",
            id_number=make_id_number("110101", date(1990, 3, 2), 731),
            authority="北京市公安局东城分局",
            valid_from=date(2015, 3, 2),
            valid_until=date(2035, 3, 2),
        ),
        card_photo="examples_knn_examples_test_alex_lacamoire1.jpg",
        selfie_photo="examples_alex-lacamoire.png",
        video_photo="examples_alex-lacamoire.png",
        reference_photo="examples_knn_examples_train_alex_lacamoire_img1.jpg",
        seed=731,
    ),
)


def generate(persona: Persona, out: Path) -> dict:
    folder = out / persona.key
    folder.mkdir(parents=True, exist_ok=True)
    holder = persona.holder
    front = card_front(holder, portrait(persona.card_photo), persona.seed)
    (folder / "id_front.jpg").write_bytes(jpeg(front, 88))
    (folder / "id_back.jpg").write_bytes(jpeg(card_back(holder, persona.seed), 88))
    selfie = Image.open(FACES / persona.selfie_photo).convert("RGB")
    selfie.thumbnail((960, 960))
    (folder / "selfie.jpg").write_bytes(jpeg(np.asarray(selfie), 90))
    video = synthesize_challenge_video(
        (FACES / persona.video_photo).read_bytes(), SAMPLE_CHALLENGE, seed=persona.seed
    )
    (folder / "liveness.mp4").write_bytes(video)
    return {
        "name": holder.name,
        "sex": holder.sex,
        "ethnicity": holder.ethnicity,
        "birth_date": holder.birth.isoformat(),
        "address": holder.address,
        "id_number": holder.id_number,
        "issuing_authority": holder.authority,
        "valid_from": holder.valid_from.isoformat(),
        "valid_until": holder.valid_until.isoformat() if holder.valid_until else None,
        "liveness_challenge": [w.model_dump(mode="json") for w in SAMPLE_CHALLENGE],
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


def check(persona: Persona, out: Path, threshold: float) -> bool:
    """Run the pipeline the vision activities run and print what it found."""
    folder, limits = out / persona.key, ImageLimits()
    faces, ocr = FaceModels.shared(), OcrReader.shared()

    def photo(path: Path, side: int) -> np.ndarray:
        return decode_image(path.read_bytes(), limits, max_side=side)

    front = read_side(photo(folder / "id_front.jpg", 1600), "front", ocr)
    back = read_side(photo(folder / "id_back.jpg", 1600), "back", ocr)
    checks = check_fields(
        front.fields,
        back.fields,
        application_date=CHECK_DATE,
        claimed_name=persona.holder.name,
        claimed_id_number=persona.holder.id_number,
    )
    card = find_portrait(photo(folder / "id_front.jpg", 1600), faces)
    selfie = probe_face(faces, photo(folder / "selfie.jpg", DETECT_LONG_SIDE), what="selfie")
    reference = probe_face(
        faces, photo(FACES / persona.reference_photo, DETECT_LONG_SIDE), what="reference"
    )
    frames = sample_video(
        (folder / "liveness.mp4").read_bytes(),
        VideoLimits(),
        dense=blink_intervals(SAMPLE_CHALLENGE),
    )
    live = assess_liveness(frames, faces, windows=SAMPLE_CHALLENGE, spoof=SpoofDetector.shared())
    card_encoding = faces.encode(card.rgb, card.box) if card else None
    video = live.best.encoding if live.best else None
    print(f"{persona.key}: card checks {checks.failures or 'passed'}")
    print(f"  liveness passed={live.passed} ({live.detail})")
    if card_encoding is None or video is None:
        print("  no card portrait or no video frame to match")
        return False
    report = match_selfie(
        selfie.encoding,
        card_encoding,
        reference=reference.encoding,
        video=video,
        threshold=threshold,
    )
    print(
        f"  selfie-card {report.distance_card:.3f}  selfie-reference "
        f"{report.distance_reference:.3f}  selfie-video {report.distance_video:.3f}"
    )
    return not checks.failures and live.passed and report.passed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT)
    parser.add_argument("--check", action="store_true", help="verify with the vision checks")
    parser.add_argument("--threshold", type=float, default=0.6)
    args = parser.parse_args(argv)
    font(10)
    manifest = {p.key: generate(p, args.out) for p in PERSONAS}
    (args.out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    for path in sorted(args.out.glob("*/*.*")):
        print(f"{path.relative_to(args.out)}  {path.stat().st_size // 1024} KiB")
    if args.check:
        results = [check(p, args.out, args.threshold) for p in PERSONAS]
        if not all(results):
            print("CHECK FAILED", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
