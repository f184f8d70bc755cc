"""Face match on the real photos of assets/faces: same-person and different-person distances,
false accept and false reject rates at the policy threshold, and a sweep for the risk team.

    .venv/bin/python -m bench.vision_face [--threshold 0.6]

Every single-person photo in MANIFEST.csv goes through the same path as a selfie in
match_faces: decoded at 640 px, exactly one face, face size and quality gates, then the dlib
ResNet encoding. Photos the gates refuse are listed with their reason (they would be sent back
for a retake, not compared). Every pair of the remaining photos is compared.
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import numpy as np

from bench.report import update_section
from vision.faces import FaceEngine, face_distance, probe_face
from vision.images import DETECT_LONG_SIDE, ImageLimits, VisionError, decode_image

FACES = Path(__file__).resolve().parent.parent / "assets" / "faces"


def photos() -> list[tuple[str, str]]:
    rows = (FACES / "MANIFEST.csv").read_text().splitlines()[1:]
    pairs = [tuple(row.split(",")[:2]) for row in rows]
    return [(name, person) for name, person in pairs if person not in ("MULTI", "video")]


def rates(same: np.ndarray, different: np.ndarray, threshold: float) -> tuple[float, float]:
    """(false accept rate, false reject rate): a pair matches when its distance < threshold."""
    return float(np.mean(different < threshold)), float(np.mean(same >= threshold))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=0.6)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    engine = FaceEngine.shared()
    engine.warm()
    encodings: dict[str, tuple[str, np.ndarray]] = {}
    refused: list[str] = []
    seconds = []
    for name, person in photos():
        rgb = decode_image((FACES / name).read_bytes(), ImageLimits(), max_side=DETECT_LONG_SIDE)
        started = time.perf_counter()
        try:
            probe = probe_face(engine, rgb, what="photo")
        except VisionError as exc:
            refused.append(f"`{name}` ({exc.reason.value}: {exc.detail})")
            continue
        seconds.append(time.perf_counter() - started)
        encodings[name] = (person, probe.encoding)
    same, different = [], []
    closest_other: tuple[float, str] = (9.0, "")
    farthest_same: tuple[float, str] = (0.0, "")
    for (a, (pa, ea)), (b, (pb, eb)) in itertools.combinations(encodings.items(), 2):
        d = face_distance(ea, eb)
        if pa == pb:
            same.append(d)
            farthest_same = max(farthest_same, (d, f"{a} / {b}"))
        else:
            different.append(d)
            closest_other = min(closest_other, (d, f"{a} / {b}"))
    s, o = np.array(same), np.array(different)
    far, frr = rates(s, o, args.threshold)
    sweep = ["| threshold | false accept | false reject |", "|---|---|---|"]
    for t in (0.45, 0.5, 0.55, 0.6, 0.65):
        fa, fr = rates(s, o, t)
        sweep.append(
            f"| {t:.2f} | {fa:.2%} ({int(round(fa * len(o)))}/{len(o)}) | "
            f"{fr:.2%} ({int(round(fr * len(s)))}/{len(s)}) |"
        )
    people = len({p for p, _ in encodings.values()})
    body = f"""{len(encodings)} photos of {people} people compared ({len(s)} same-person pairs,
{len(o)} different-person pairs); dlib ResNet encodings at 640 px, Euclidean distance.

- same person: median {np.median(s):.3f}, max {s.max():.3f} ({farthest_same[1]})
- different people: min {o.min():.3f} ({closest_other[1]}), median {np.median(o):.3f}
- at the policy threshold {args.threshold}: **false accept {far:.2%}, false reject {frr:.2%}**
  (target: no false accept, ≤ 2% false reject); margin {o.min() - args.threshold:+.3f} to the
  closest different pair, {args.threshold - s.max():+.3f} to the farthest same pair
- detect + gates + encode per photo: mean {np.mean(seconds):.3f} s

{chr(10).join(sweep)}

Refused by the quality gates before any comparison (sent back for a retake):
{"; ".join(refused) or "none"}.

The reference set is small and mostly of public figures photographed well; the model is known to
be weaker on East-Asian faces. The threshold is the product's `face_match_threshold` (policy data),
to be re-measured on the lender's own verified pairs before it is lowered or raised.
"""
    print(body)
    if not args.no_write:
        update_section("vision-face", "Vision: face match", body, "python -m bench.vision_face")


if __name__ == "__main__":
    main()
