"""Liveness on two independent syntheses of challenge clips, side by side: the development set
(`synthetic.challenge_video`, the one thresholds may be tuned on) and the held-out set
(`synthetic.liveness_clips`: another warp model, other timings, 15-30 fps, portrait and
landscape, with and without camera movement; nothing is tuned on it).

    .venv/bin/python -m bench.vision_liveness [--photos 12] [--backends dlib,facemesh]

Per photo of assets/faces (single-person photos, taken in a seeded random order) and per split:
a random challenge like the workflow's (3 of the 4 actions in random order, 2.5 s windows) is
performed in a clip; the clip is checked against its own challenge and against another order
of the same actions; the photo is filmed still and moved by a hand (the held-out hand tilts the
photo in depth, as a print waved to fake a nod). The anti-spoofing samples (a print, a screen)
perform a challenge perfectly in each split: only passive anti-spoofing can stop them. Every
clip is assessed with each landmark backend (`vision.landmarks`).
"""

from __future__ import annotations

import argparse
import itertools
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from bench.report import update_section
from domain.enums import LivenessAction
from domain.identity import ActionWindow
from synthetic.challenge_video import (
    VIDEO_SIZE,
    Performer,
    encode_video,
    synthesize_challenge_video,
)
from synthetic.liveness_clips import Filming, challenge_clip, photo_clip
from vision.actions import MOUTH_MIN, MOUTH_MIN_UNWIDENED, MOUTH_RISE, blink_intervals
from vision.antispoof import MODELS, SpoofDetector
from vision.faces import FaceModels
from vision.images import ImageLimits, decode_image
from vision.landmarks import LandmarkBackend, landmark_model
from vision.liveness import LivenessReport, assess_liveness
from vision.video import VideoLimits, sample_video

FACES = Path(__file__).resolve().parent.parent / "assets" / "faces"
ORDERS = list(itertools.permutations(list(LivenessAction), 3))
SPLITS = ("development", "held-out")


def windows(actions) -> list[ActionWindow]:
    return [
        ActionWindow(action=a, start_s=2.5 * n, end_s=2.5 * (n + 1)) for n, a in enumerate(actions)
    ]


def photos() -> list[str]:
    rows = (FACES / "MANIFEST.csv").read_text().splitlines()[1:]
    return [r.split(",")[0] for r in rows if r.split(",")[1] not in ("MULTI", "video")]


def held_up(rgb: np.ndarray, seconds: float, still: bool) -> bytes:
    """Development attack: the photo filling a phone frame, still or moved in the image plane."""
    width, height = VIDEO_SIZE
    scale = max(width / rgb.shape[1], height / rgb.shape[0])
    frames = []
    for n in range(int(seconds * 15)):
        t = 0 if still else n / 15
        matrix = cv2.getRotationMatrix2D(
            (rgb.shape[1] / 2, rgb.shape[0] / 2),
            3 * math.sin(1.3 * t),
            scale * (1 + 0.03 * math.sin(0.7 * t)),
        )
        matrix[:, 2] += (
            width / 2 - rgb.shape[1] / 2 + 8 * math.sin(2.1 * t),
            height / 2 - rgb.shape[0] / 2 + 6 * math.cos(1.7 * t),
        )
        frames.append(cv2.warpAffine(rgb, matrix, VIDEO_SIZE, borderMode=cv2.BORDER_REPLICATE))
    return encode_video(frames, 15.0)


@dataclass
class Tally:
    genuine: Counter = field(default_factory=Counter)  # (camera, passed)
    swapped_accepted: int = 0
    swapped: int = 0
    still_accepted: int = 0
    moved_accepted: int = 0
    photos: int = 0
    asked: Counter = field(default_factory=Counter)
    seen: Counter = field(default_factory=Counter)
    spoofs: dict = field(default_factory=dict)
    failures: list = field(default_factory=list)
    swaps: list = field(default_factory=list)  # clips accepted against another order
    cpu: float = 0.0
    seconds: float = 0.0


class Assessor:
    def __init__(self, backends: list[LandmarkBackend]) -> None:
        self.faces, self.spoof = FaceModels.shared(), SpoofDetector.shared()
        self.faces.warm()
        self.spoof.warm()
        self.models = {b: landmark_model(b, self.faces) for b in backends}
        self.tallies = {(s, b): Tally() for s in SPLITS for b in backends}

    def assess(
        self, split: str, data: bytes, challenge, first_only: bool = False
    ) -> dict[LandmarkBackend, LivenessReport]:
        """The clip judged with every backend, or with the first (the default) only."""
        reports = {}
        for backend, model in list(self.models.items())[: 1 if first_only else None]:
            tally = self.tallies[(split, backend)]
            cpu = time.process_time()
            frames = sample_video(data, VideoLimits(), dense=blink_intervals(challenge))
            reports[backend] = assess_liveness(
                frames, self.faces, windows=challenge, spoof=self.spoof, landmarks=model
            )
            tally.cpu += time.process_time() - cpu
            tally.seconds += frames[-1].t_s + 0.1
        return reports


def run_photo(a: Assessor, split: str, name: str, rng: np.random.Generator, index: int) -> str:
    order = ORDERS[int(rng.integers(len(ORDERS)))]
    challenge = windows(order)
    photo = (FACES / name).read_bytes()
    seed = int(rng.integers(1 << 30))
    rgb = decode_image(photo, ImageLimits(), max_side=960)
    if split == "development":
        late, propped = index % 2 == 1, index % 4 >= 2
        camera = ("propped" if propped else "hand-held") + (", late" if late else "")
        person = Performer.draw(np.random.default_rng(seed + 7))
        clip = synthesize_challenge_video(
            photo, challenge, seed=seed, late=late, tail_s=0.0 if late else 0.5, propped=propped,
            person=person,
        )  # fmt: skip
        still, moved = held_up(rgb, 8, True), held_up(rgb, 8, False)
    else:
        filming = Filming.draw(rng, camera_moves=index % 2 == 1)
        camera = "hand-held" if filming.camera_moves else "propped"
        clip = challenge_clip(photo, challenge, filming, seed=seed)
        still_filming = Filming.draw(rng, camera_moves=False)
        still = photo_clip(photo, still_filming, 8, seed=seed, tilted=False)
        moved = photo_clip(photo, Filming.draw(rng, camera_moves=True), 8, seed=seed, tilted=True)
    others = [o for o in ORDERS if set(o) == set(order) and o != order]
    other = windows(others[int(rng.integers(len(others)))])
    lines = []
    genuine = a.assess(split, clip, challenge)
    swapped = a.assess(split, clip, other, first_only=True)
    stills = a.assess(split, still, challenge, first_only=True)
    moveds = a.assess(split, moved, challenge, first_only=True)
    for backend, report in genuine.items():
        t = a.tallies[(split, backend)]
        t.photos += 1
        t.genuine[(camera, report.passed)] += 1
        for verdict in report.windows:
            t.asked[verdict.window.action] += 1
            t.seen[verdict.window.action] += verdict.seen
        if not report.passed:
            why = "; ".join(v.describe() for v in report.windows if not v.passed)
            codes = ", ".join(r.value for r in report.reasons)
            t.failures.append(f"`{name}` ({camera}): {why or report.detail[:80]} ({codes})")
        lines.append(
            f"{split} {backend} {name} {camera}: genuine {report.passed} "
            f"({report.face_change.describe()}; {report.detail[:150]})"
        )
        if backend not in swapped:
            continue
        t.swapped += 1
        t.swapped_accepted += swapped[backend].passed
        if swapped[backend].passed:
            performed = ", ".join(w.action.value for w in challenge)
            asked = ", ".join(w.action.value for w in other)
            t.swaps.append(f"`{name}` ({camera}): performed {performed}, accepted as {asked}")
        t.still_accepted += stills[backend].passed
        t.moved_accepted += moveds[backend].passed
        lines.append(
            f"  still {stills[backend].passed} ({stills[backend].face_change.describe()}); "
            f"moved {moveds[backend].passed} ({moveds[backend].face_change.describe()}); "
            f"other order {swapped[backend].passed}"
        )
    return "\n".join(lines)


def run_spoofs(a: Assessor, split: str, rng: np.random.Generator) -> None:
    for sample in ("T1", "F1", "F2"):
        challenge = windows(ORDERS[int(rng.integers(len(ORDERS)))])
        photo = (MODELS / f"antispoof_sample_image_{sample}.jpg").read_bytes()
        if split == "development":
            data = synthesize_challenge_video(photo, challenge, seed=3)
        else:
            data = challenge_clip(photo, challenge, Filming.draw(rng, camera_moves=False), seed=3)
        for backend, report in a.assess(split, data, challenge, first_only=True).items():
            a.tallies[(split, backend)].spoofs[sample] = report


def pct(k: int, n: int) -> str:
    return f"{k}/{n} ({k / n:.0%})" if n else "-"


def table(a: Assessor, backends: list[LandmarkBackend]) -> str:
    columns = [(s, b) for b in backends for s in SPLITS]
    head = "| measure | " + " | ".join(f"{s} ({b.value})" for s, b in columns) + " |"
    rows = [head, "|---" * (len(columns) + 1) + "|"]

    def row(label, fn):
        rows.append(f"| {label} | " + " | ".join(fn(a.tallies[c]) for c in columns) + " |")

    def genuine(t: Tally, *cams: str) -> str:
        ok = sum(t.genuine[(c, True)] for c in cams)
        return pct(ok, ok + sum(t.genuine[(c, False)] for c in cams))

    hand, propped = ("hand-held", "hand-held, late"), ("propped", "propped, late")
    row("**genuine challenged clips accepted**", lambda t: genuine(t, *hand, *propped))
    row("… hand-held camera", lambda t: genuine(t, *hand))
    row("… propped phone (no camera movement)", lambda t: genuine(t, *propped))
    row(
        "… reacting late, recording stops with the last window",
        lambda t: genuine(t, "hand-held, late", "propped, late"),
    )
    for action in LivenessAction:
        row(f"{action.value} seen in its window", lambda t, x=action: pct(t.seen[x], t.asked[x]))
    row("**same clip, another order: accepted**", lambda t: pct(t.swapped_accepted, t.swapped))
    row("**still photo accepted**", lambda t: pct(t.still_accepted, t.swapped))
    row("**photo moved by hand accepted**", lambda t: pct(t.moved_accepted, t.swapped))
    for sample, kind in (("F1", "print"), ("F2", "screen"), ("T1", "live")):

        def spoof(t: Tally, s=sample) -> str:
            r = t.spoofs.get(s)
            if r is None:
                return "-"
            verdict = "accepted" if r.passed else "refused " + "/".join(x.value for x in r.reasons)
            live = "-" if r.live_score is None else f"{r.live_score:.2f}"
            return f"{verdict}, live {live}"

        row(f"{kind} sample performing its challenge", spoof)
    row("CPU s per s of video", lambda t: f"{t.cpu / max(t.seconds, 1e-9):.3f}")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--photos", type=int, default=8, help="photos per split")
    parser.add_argument("--backends", default="dlib,facemesh")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    backends = [LandmarkBackend(b) for b in args.backends.split(",")]
    a = Assessor(backends)
    names = photos()
    for split_index, split in enumerate(SPLITS):
        rng = np.random.default_rng(args.seed * 100 + split_index)
        chosen = [names[i] for i in rng.permutation(len(names))[: args.photos]]
        for index, name in enumerate(chosen):
            print(run_photo(a, split, name, rng, index), flush=True)
        run_spoofs(a, split, rng)
    failures = "\n".join(
        f"- {s} ({b.value}): " + ("; ".join(a.tallies[(s, b)].failures) or "none")
        for b in backends
        for s in SPLITS
    )
    swaps = "\n".join(
        f"- {s}: " + ("; ".join(a.tallies[(s, backends[0])].swaps) or "none") for s in SPLITS
    )
    body = f"""{args.photos} photos of assets/faces per split (seed {args.seed}), each performing a
random challenge (3 of 4 actions, 2.5 s windows). Development: `synthetic.challenge_video`
(piecewise-affine warp, turns of the mean 3D face made as deep as the person's, 0.6-1.0, each
person drawn with `Performer.draw`: nods of 10-20 degrees down and back, shakes of 15-30 each way,
mouths opened by 0.15-0.9 widths, blinks of 0.2-0.5 s; 15 fps portrait, hand-held camera or,
for half of the clips, a propped phone with sensor noise only; every other clip reacting late,
0.6 s into a window or later and running past its end, filmed until the last window ends and
no longer); the liveness thresholds were set on it. Held-out: `synthetic/liveness_clips.py`
(thin-plate-spline warp, an ellipsoid head turned at the neck, other action timings, 15-30 fps,
portrait and landscape, half of the clips from a propped phone without camera movement, sensor
noise); nothing was tuned on it. Attacks: the photo filmed still; moved by a hand (development: in
the image plane; held-out: tilted and turned in depth up to ~18°, as a print waved to fake a nod or
a shake); the print and screen samples made to perform their challenge. The genuine clips are judged
with each landmark backend; the attacks with the default one (dlib) only, to spare a shared CPU ("-"
where not measured).

{table(a, backends)}

Refused genuine clips:
{failures}

Genuine clips accepted against another order of their actions (an attack: a recording made for
one challenge replayed for another):
{swaps}

How the checks decide (`vision.liveness`, `vision.facechange`, `vision.actions`): a clip is "a
still image" when the face itself does not change, whatever the camera does: the landmarks'
departure from one perspective map of a flat picture (shape, in eye-corner distances) must peak
at least 0.03 above the clip's noise floor and the aligned face texture at least 0.2; both floors
were set on development clips, where photos (still or moved) reached shape 0.018 at most and
live faces 0.057 at least. An action counts only beyond the person's own resting value and
natural sway (75th percentile of the distance from rest outside the window, times 1.6), and must
come back towards rest; a nod must reach 5 degrees from rest (sweep 6), a shake 6 (sweep 12), an
opening {MOUTH_RISE:.2f} of the eye-corner distance (to at least {MOUTH_MIN:.2f}, or
{MOUTH_MIN_UNWIDENED:.2f} when the mouth did not widen).
Passive anti-spoofing keeps its threshold (mean live score 0.5 over the
detection frames): the print and screen samples score 0.03-0.32 as stills and the real photos of
assets/faces 0.65-1.00, while the issue's studio-lit real person scored 0.31, inside the spoof
range: no threshold separates that person from the screen sample, so lowering it would let the
screen through. That refusal (I013) sends the applicant back for a retake (three attempts); the
app should ask for even light without a lamp behind or beside the face.

A smile told from an opening (2026-12-01). The run before this one refused four of five held-out
clips for OPEN_MOUTH: their openings peaked at 0.21-0.24 of the eye-corner distance, under the
0.24 floor (`MOUTH_MIN`) kept so that a broad smile (0.22-0.23 in the reference photos) never
counts. An opening under that floor, down to 0.17 (`MOUTH_MIN_UNWIDENED`), now counts when the
mouth is no wider at its peak than 6% over its resting width (`SMILE_WIDENING`): a smile parts
the lips by pulling the corners apart, a dropping jaw does not. The reference smiles widen the
mouth by 8.4% (teeth showing, gap 0.224) and 38% against the same person at rest, so both stay
refused (`tests/vision/test_actions.py`); the development clips' openings are all above 0.24, so
they could not set the constants, which come from that mechanism, not from a fit. The change was
prompted by this held-out set's diagnosis, so its figure here (OPEN_MOUTH 1/5 -> 3/5, genuine
1/5 -> 3/5 with dlib) is weaker evidence than fresh draws, 8 photos a split, never looked at
before: on seed 2 the figures were the same before and after the change (development 6/8,
held-out 5/8 genuine, OPEN_MOUTH 4/5 held-out; what that draw refuses is mostly BLINK and NOD);
on seed 3 held-out genuine went from 2/8 to 4/8 (OPEN_MOUTH 2/6 -> 4/6) and development from 6/8
to 7/8 (OPEN_MOUTH 6/7 -> 7/7). Every attack was refused in every run. Propped-phone clips are
not taken for still images.

Late reactions (2026-12-01, afternoon). The development clips used to perform every action
promptly and go on filming half a second after the last window; a person reacts late and an app
stops recording when the last window ends. Clips made that way (every other development clip now)
showed three ways to refuse an honest person: the last action's return to rest never filmed, the
previous window's action still under way counted as an action that was not asked, and a blink
caught half-shut at ten samples a second. Now an asked action may peak up to 0.5 s after its
window (`LATE`), the previous window's action running on may spill 1 s into the next (`SPILL`,
only when it is still under way at the window's start), a movement the recording stopped too
early to see return counts without it, and a blink closes the eyes to 0.8 of their resting
opening (was 0.7). On 10 development photos (seed 7) with late reactions and no tail: 5/10
genuine before, 8/10 after; prompt reactions with no tail 6/10 before, 7/10 after. The held-out
figures did not move (seed 1 above; seed 4, 8 photos: held-out 2/8 before and after,
development 8/8 with 4 late clips), and every attack is still refused. The CPU row of this run
comes from a machine running vision 2.5 times slower than the earlier runs', two benches at once.

Propped phones in development too (2026-12-01, evening). Until this run only the held-out
synthesis filmed from a propped phone, so how a still camera fares could be seen only where
nothing may be tuned. `synthesize_challenge_video(..., propped=True)` now films half of the
development clips without camera movement (sensor noise only). A first look, 29 development
photos (seed 31, alternating prompt and late, hand-held and propped): 25/29 genuine clips
accepted; no propped clip was taken for a still image (face change shape 0.053-0.114, texture
0.37-0.70, against the floors 0.03 and 0.2). The four refused were all propped (4 of 15, against
0 of 14 hand-held), of three kinds met before on hand-held clips: an opening on a poorly tracked
face (its mouth reads 0.01-0.16 at rest) that peaked at 0.165 (OPEN_MOUTH); two late nods in the
last window, the one examined begun 2 s into it, so that the recording stopped 0.4 s later with
the sweep at 13.7 degrees of the 14 asked (NOD); a late blink in the last window (BLINK). Nothing
was changed for them: a nod that late, with the recording stopped, is a retake.

People differ (2026-12-02). The development clips turned the head with the very mean 3D face
the pose is measured with, by fixed amounts (a nod of 16 degrees each way, a shake of 24), so the
estimator read back what was performed; on held-out clips (seed 9, examined) nods read 8-14
degrees of sweep against the 14 asked while the same people's natural sway stayed within
1-1.7 degrees. Each development clip is now performed by a person drawn with `Performer.draw`
(nods of 10-20 degrees down and back with at most a 0.4 overshoot, shakes of 15-30 each way,
mouths opened by 0.6-0.9 widths then, faces 0.6-1.0 as deep as the mean face). On 16 such
development photos (seed 41) the old thresholds accepted 8/16: nods read 5.7-13.7 degrees from
rest with 6.7-13.7 of sweep, two shakes 13.3-13.4 of sweep. The asked thresholds now come from those
development clips: a nod reaches 5 degrees from rest with 6 of sweep (was 7 and 14), a shake 6
with 12 (was 10 and 20); the sway rule and the stricter thresholds for an action not asked are
unchanged. A fresh draw, seed 12, never looked at (`--seed 12 --photos 8 --backends dlib
--no-write`), old thresholds then new, same clips: development 5/8 -> 7/8, held-out 2/8 -> 4/8
(NOD 4/7 -> 7/7, SHAKE_HEAD 5/6, OPEN_MOUTH 6/7, BLINK 2/4 both); another order, still photos and
photos moved by hand 0/8 each, print and screen samples refused, both times. What the held-out
clips still refuse is now mostly blinks (2 of 4 missed: a short blink between two of the ten
samples a second, or a lid the predictor follows only part of the way) and the small jaw drops
(0.35-0.6 mouth widths) whose rise stays under `MOUTH_RISE` 0.15 (see the next paragraph); the
issue's 95 % is not met.

Smaller openings (2026-12-02, later). The note in `synthetic.challenge_video` that the landmark
predictor does not follow its painted mouth below 0.6 mouth widths did not hold when tried
(4 photos, drops 0.3 / 0.45 / 0.6: every opening followed, rises 0.11-0.30 at 0.3), so
`Performer.draw` now opens mouths by 0.3-0.9 widths. On 16 such development photos (seed 43) the
smallest openings rose 0.11-0.13 over rest (refused under `MOUTH_RISE` 0.15), while windows
without a mouth action stayed within 0.05 of rest on well-tracked faces (0.10-0.13 on one poorly
tracked face, whose sway, 0.07, raises its own floor). Now an asked opening rises 0.10, and
reaches 0.10 of the eye-corner distance when the mouth did not widen (was 0.17); the 0.24 floor
for a widened mouth (smiles) and the stricter thresholds for actions not asked are unchanged.
Fresh draws, never looked at, every change of this day against the thresholds of the morning
(same clips): seed 13, 8 photos: development 8/8 and held-out 8/8 both ways; seed 14, 16 photos:
development 4/16 -> 12/16, **held-out 8/16 -> 13/16** (OPEN_MOUTH 6/11 -> 9/11, NOD 9/15 -> 14/15,
SHAKE_HEAD 11/13, BLINK 9/9); another order, still photos and photos moved by hand 0/16 each and
print and screen samples refused, both ways. Held-out over the two draws after the changes:
21/24 (88 %), short of the issue's 95 %; the three refused: a poorly tracked partial face
(SHAKE_HEAD and OPEN_MOUTH), a shake whose pitch read more than its yaw, and a face whose
opening and nod were both missed (I007 as well).

A fresh draw (2026-12-02 00:50 UTC, `--seed 9 --photos 8 --backends dlib --no-write`, before
the change above, on a machine running vision about 2.6 times slower): development 8/8 genuine
clips accepted (4 propped, 4 late), held-out 2/8 (25 %; hand-held 1/4, propped 1/4); per action
held-out: BLINK 6/6, OPEN_MOUTH 3/6, NOD 2/5, SHAKE_HEAD 5/7; another order 0/8, still photos 0/8,
photos moved by hand 0/8, print and screen samples refused (live 0.08-0.11).

Blinks between samples, and a recording replayed for another order (2026-12-02, morning).
Refusals now say what the asked measure did (`vision.actions.measured`, in the report's detail
and in the list above), e.g. "NOD (5-7.5s): not performed, pitch 6.1 deg from rest (needs 5.0),
swept 9.6 (needs 6; yaw swept 20.4)". A fresh draw, seed 15 (16 photos, never looked at, the
thresholds of the paragraph above): development 14/16, held-out 12/16; held-out refusals: two
blinks whose eyes closed to 0.82 and 0.85 of rest at the ten samples a second, two openings
0.08 over rest (0.10 needed); development: a blink at 0.82, and the late nod quoted, refused
because the previous window's shake, still coming back, swept the yaw more than the nod the
pitch. Two changes. Inside an asked BLINK window (and LATE after it) every frame up to 30 a
second is read, for the eyes alone (`vision.video` `dense`, `vision.actions.blink_intervals`):
lids are down for 50-100 ms and may fall between samples. The development clips now draw each
person's blink, 0.2-0.5 s (`Performer.blink_s`; all were 0.5 s, which ten samples a second never
miss): on 24 development clips with a blink (seed 101), blinks seen 21/24 at the samples alone,
22/24 with the frames between. And a head turn is told from the other axis at its farthest
point, not over the window. The next fresh draw, seed 16, same clips, before -> after:
development 13/16 -> 14/16, held-out 13/16 -> 15/16 (BLINK 10/12 -> 12/12), CPU per second of
video 0.261 -> 0.259 (two runs at once, noisy).

The same draw let an attack through, before and after: 2 of 16 held-out recordings accepted
against another order of their actions, both by the next window's movement. Made for [NOD,
BLINK, SHAKE_HEAD] and checked as [NOD, SHAKE_HEAD, BLINK], a clip's shake, begun as the second
window ended, counted there as a late reaction (it peaked within LATE of the window); made for
[OPEN_MOUTH, BLINK, NOD] and checked as [OPEN_MOUTH, NOD, BLINK], the same with the nod, and the
eyes narrowing as the head tipped down counted as the third window's blink. Two rules: a
movement that peaks after its window must have come half its way inside it (`LATE_START`; the
development's late performers do 30 % or more of an action inside its window, 0.55-0.95 of the
way), and a blink counts only with the head within an asked turn's reach of rest. Both clips
re-judged: refused. The next fresh draw, seed 17, with everything: another order 0/16 in both
splits, still and hand-moved photos 0/16, print and screen refused; genuine development 12/16,
**held-out 10/16**: five openings that rose 0.02-0.08 over rest (0.10 needed; one development
opening also rose 0.09 only), and one blink refused by the new rule: at its two closed samples
the pose read 6.5 degrees of pitch with the head still before and after (closing lids pull the
eye corners the pose is fitted to). So the head is now judged in the 0.2 s before and after
the closed samples, not at them (`AROUND`); that clip re-judged: accepted, and the two attacks
of seed 16 still refused. The next fresh draw, seed 18: held-out 13/16 (three openings rising
0.02-0.06), development 13/16, one of them a blink refused by the rule again: on a poorly fitted
face whose pose jitters by up to 9 degrees between samples with no turn performed. So the head
counts as turned around a blink only beyond the person's own sway too, as for an asked turn
(`SWAY_FACTOR` times its 75th percentile outside the window); that development clip re-judged:
accepted, the seed-16 attacks still refused. The table then was seed 18 re-judged with that
last change (the held-out clips of seed 18 were not examined: none of their refusals was a
blink). `MOUTH_RISE` is left at 0.10: the development openings (0.3-0.9 mouth widths)
rise 0.11 and more, and lowering it because held-out clips open less would be tuning on them.
Seed 18 re-judged (the table before seed 19's): development 14/16, **held-out 13/16 (81 %)**,
the three refused all openings that rose 0.02-0.06 over rest; another order, still and
hand-moved photos 0/16 in both splits. Fresh held-out draws of this morning, each judged once
with the code of its moment: seed 15 12/16, seed 16 15/16, seed 17 10/16, seed 18 13/16; the
issue's 95 % is not met, and what stands between is mostly small openings (and, on real
recordings, everything synthetic clips cannot show).

Small openings (2026-12-02). The held-out refusals of seeds 15-18 were mostly mouths opened a
little, and the development performers never opened less than 0.3 mouth widths, so the floor had
never been set on such openings. The development performer now opens 0.15-0.9 widths. On 24
development clips of openings of 0.15-0.25 widths (seed 501; hand-held, propped and late), the
asked openings rose 0.069-0.243 over rest (6 of them under the old 0.10), and windows without a
mouth action on well-tracked faces 0.004-0.035: `MOUTH_RISE` and `MOUTH_MIN_UNWIDENED` went from
0.10 to 0.05. Then seed 19, fresh in both splits (the table before seed 20's): development
13/16, **held-out 13/16 (81 %)**, OPEN_MOUTH 14/14 and 15/16. The same seed judged with the old
floors gave the same figures: this draw held no small opening, so fresh held-out clips neither
confirm nor refute the change yet. Attacks 0/16 everywhere. The held-out refusals this time: a
shake also read as a nod (the check for actions not asked), a poorly tracked face whose own sway
raised its mouth floor to 0.13, a small face's blink closing only to 0.85. Also measured on this
run: the face-change gate alone (shape 0.03 and texture 0.2) would let 5 of the 32 held-out
photo clips through (stills and hand-moved photos reading shape 0.034-0.062 and texture
0.25-0.71: landmark jitter on low-resolution faces under sensor noise); the action checks
refused all five. On development photos reached shape 0.020 at most, and one live clip fell
under the gate (shape 0.028, a performer who moved little): the gate is not what stops a photo
on unseen clips, the actions are.

A previous action running on (2026-12-02, later). On development seed 602 a poorly fitted face
(clapton-1) was refused "OPEN_MOUTH: also NOD": as its late shake came back through rest at the
start of the mouth's window, the pose fit read the pitch 20 degrees over rest for three frames.
The first second of a window (`SPILL`) after an action still under way at its start was already
not searched for that action; now it is not searched for any action that was not asked (the
asked action is judged over the whole window as before). Seed 20, fresh in both splits, judged
once with everything of the day (the table): development 14/16, **held-out 14/16 (88 %)**, every
attack 0/16. The held-out refusals: eyes closed to 0.56 of rest in the BLINK window, not counted
(the head did not turn around it: closed longer than half a second, or not reopened); an opening
the landmarks did not follow (lips +0.02 over rest). Fresh held-out draws so far, each judged
once with the code of its moment: seeds 15-20: 12, 15, 10, 13, 13, 14 of 16; the issue's 95 % is
not met.

These clips are synthetic, made from photos: they show that the checks do not hinge on one
synthesis's look, not how they fare on real phone recordings or real attacks (the issue's 11
real face videos are not in this repository). CPU figures were taken on a shared, loaded
machine (7 engineers on 2 cores) and are noisy.
"""
    print(body)
    if not args.no_write:
        command = (
            f"python -m bench.vision_liveness --seed {args.seed} --photos {args.photos} "
            f"--backends {args.backends}"
        )
        update_section("vision-liveness", "Vision: liveness", body, command)


if __name__ == "__main__":
    main()
