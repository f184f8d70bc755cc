"""Liveness of the applicant's video: one real person, present throughout, and moving.

The checks here are simple but real: enough sampled frames; exactly one face in at least 80% of
them and never several; the same person throughout (each face's encoding close to the first);
genuine motion between frames, which a replayed still photo (near-identical frames) lacks. The
best frame (sharp, large face) is kept for the face match. Challenge actions are reported only
when a detector in `vision.actions` actually finds them; whether they are required to pass is a
policy decision for the action-liveness work, not made here. What this does not catch: a moving
printed photo or a screen replay of a real video; passive anti-spoofing is the next layer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from domain.enums import LivenessAction
from domain.models import ActionWindow
from domain.reasons import ReasonCode
from vision.actions import LandmarkSample, actions_seen
from vision.faces import MIN_FACE_PX, FaceBox, FaceEngine, face_distance, face_quality
from vision.images import FACE_GATES, Quality, to_gray
from vision.video import Frame

_MOTION_SIDE = 64


@dataclass(frozen=True)
class LivenessPolicy:
    min_frames: int = 8
    min_face_ratio: float = 0.8
    same_person_threshold: float = 0.6
    # Median gray-level change (0-255) of the face region between consecutive samples. A still
    # photo re-encoded as video measures ~0.1-0.5 (codec noise); a hand-held phone several units.
    min_motion: float = 1.5


@dataclass(frozen=True)
class BestFrame:
    t_s: float
    rgb: np.ndarray
    box: FaceBox
    encoding: np.ndarray
    quality: Quality

    @property
    def score(self) -> float:
        return self.quality.sharpness * self.box.area


@dataclass(frozen=True)
class LivenessReport:
    passed: bool
    reasons: list[ReasonCode]
    frames_sampled: int
    frames_with_one_face: int
    frames_with_several_faces: int
    actions_seen: list[LivenessAction]
    motion: float
    max_identity_distance: float | None
    best: BestFrame | None
    detail: str


@dataclass
class _Accumulator:
    engine: FaceEngine
    policy: LivenessPolicy
    sampled: int = 0
    one_face: int = 0
    several: int = 0
    first_encoding: np.ndarray | None = None
    max_distance: float | None = None
    motions: list[float] = field(default_factory=list)
    landmarks: list[LandmarkSample] = field(default_factory=list)
    best: BestFrame | None = None
    _previous_gray: np.ndarray | None = None
    _previous_box: FaceBox | None = None

    def add(self, frame: Frame) -> None:
        self.sampled += 1
        gray = to_gray(frame.rgb)
        boxes = self.engine.detect(frame.rgb)
        box = boxes[0] if len(boxes) == 1 else None
        if len(boxes) > 1:
            self.several += 1
        if box is not None and min(box.width, box.height) >= MIN_FACE_PX:
            self.one_face += 1
            self._observe_face(frame, box)
        self._observe_motion(gray, box)

    def _observe_face(self, frame: Frame, box: FaceBox) -> None:
        encoding = self.engine.encode(frame.rgb, box)
        if self.first_encoding is None:
            self.first_encoding = encoding
        distance = face_distance(self.first_encoding, encoding)
        self.max_distance = max(self.max_distance or 0.0, distance)
        self.landmarks.append(LandmarkSample(frame.t_s, self.engine.landmarks(frame.rgb, box)))
        candidate = BestFrame(
            t_s=frame.t_s,
            rgb=frame.rgb,
            box=box,
            encoding=encoding,
            quality=face_quality(frame.rgb, box),
        )
        if self.best is None or candidate.score > self.best.score:
            self.best = candidate

    def _observe_motion(self, gray: np.ndarray, box: FaceBox | None) -> None:
        previous = self._previous_gray
        if previous is not None and previous.shape == gray.shape:
            # The previous frame's face region, in both frames: a moving face changes it, a
            # re-encoded still photo does not. Without a face, the whole frame.
            region = _expand(self._previous_box or box, gray.shape)
            self.motions.append(_region_change(previous, gray, region))
        self._previous_gray = gray
        self._previous_box = box

    def report(self, windows: Sequence[ActionWindow]) -> LivenessReport:
        policy = self.policy
        motion = float(np.median(self.motions)) if self.motions else 0.0
        failures: list[tuple[ReasonCode, str]] = []
        if self.sampled == 0:
            failures.append((ReasonCode.I006_IMAGE_UNREADABLE, "no decodable frame"))
        elif self.sampled < policy.min_frames:
            failures.append(
                (
                    ReasonCode.I007_LIVENESS_FAILED,
                    f"video too short: {self.sampled} frames sampled, {policy.min_frames} needed",
                )
            )
        if self.several:
            failures.append(
                (ReasonCode.I005_MULTIPLE_FACES, f"several faces in {self.several} frames")
            )
        if self.sampled and self.one_face < policy.min_face_ratio * self.sampled:
            failures.append(
                (
                    ReasonCode.I004_NO_FACE,
                    f"one clear face in only {self.one_face} of {self.sampled} frames",
                )
            )
        if self.max_distance is not None and self.max_distance >= policy.same_person_threshold:
            failures.append(
                (
                    ReasonCode.I007_LIVENESS_FAILED,
                    f"the face changes during the video (distance {self.max_distance:.2f})",
                )
            )
        if self.sampled >= 2 and motion < policy.min_motion:
            failures.append(
                (
                    ReasonCode.I007_LIVENESS_FAILED,
                    f"no motion between frames (change {motion:.2f}): a still image",
                )
            )
        if self.best is not None:
            problem = FACE_GATES.problem(self.best.quality)
            if problem:
                failures.append((ReasonCode.I009_IMAGE_QUALITY, f"best frame face {problem}"))
        reasons = list(dict.fromkeys(code for code, _ in failures))
        summary = f"{self.sampled} frames, {self.one_face} with one face, motion {motion:.2f}" + (
            f", max distance {self.max_distance:.2f}" if self.max_distance is not None else ""
        )
        return LivenessReport(
            passed=not failures,
            reasons=reasons,
            frames_sampled=self.sampled,
            frames_with_one_face=self.one_face,
            frames_with_several_faces=self.several,
            actions_seen=actions_seen(self.landmarks, windows),
            motion=motion,
            max_identity_distance=self.max_distance,
            best=self.best,
            detail="; ".join([detail for _, detail in failures] + [summary]),
        )


def _expand(box: FaceBox | None, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    height, width = shape[:2]
    if box is None:
        return 0, width, height, 0
    margin_x, margin_y = box.width // 2, box.height // 2
    return (
        max(box.top - margin_y, 0),
        min(box.right + margin_x, width),
        min(box.bottom + margin_y, height),
        max(box.left - margin_x, 0),
    )


def _region_change(a: np.ndarray, b: np.ndarray, region: tuple[int, int, int, int]) -> float:
    top, right, bottom, left = region
    side = (_MOTION_SIDE, _MOTION_SIDE)

    def thumb(gray: np.ndarray) -> np.ndarray:
        crop = cv2.resize(gray[top:bottom, left:right], side, interpolation=cv2.INTER_AREA)
        # Smoothing removes codec block noise, which would otherwise pass for motion.
        return cv2.GaussianBlur(crop, (5, 5), 0).astype(np.float32)

    return float(np.mean(np.abs(thumb(a) - thumb(b))))


def assess_liveness(
    frames: Iterable[Frame],
    engine: FaceEngine,
    *,
    windows: Sequence[ActionWindow] = (),
    policy: LivenessPolicy | None = None,
    progress: Callable[[int], None] | None = None,
) -> LivenessReport:
    """Run every check over the sampled frames; `progress(n)` is called after each frame."""
    accumulator = _Accumulator(engine=engine, policy=policy or LivenessPolicy())
    for frame in frames:
        accumulator.add(frame)
        if progress is not None:
            progress(accumulator.sampled)
    return accumulator.report(windows)


def best_face_frame(
    frames: Iterable[Frame], engine: FaceEngine, progress: Callable[[int], None] | None = None
) -> BestFrame | None:
    """The best single-face frame only, for the face match; skips the per-frame encodings."""
    best: BestFrame | None = None
    best_key: tuple[float, FaceBox, Frame] | None = None
    for n, frame in enumerate(frames, start=1):
        boxes = engine.detect(frame.rgb)
        if len(boxes) == 1 and min(boxes[0].width, boxes[0].height) >= MIN_FACE_PX:
            quality = face_quality(frame.rgb, boxes[0])
            score = quality.sharpness * boxes[0].area
            if best_key is None or score > best_key[0]:
                best_key = (score, boxes[0], frame)
        if progress is not None:
            progress(n)
    if best_key is not None:
        _, box, frame = best_key
        best = BestFrame(
            t_s=frame.t_s,
            rgb=frame.rgb,
            box=box,
            encoding=engine.encode(frame.rgb, box),
            quality=face_quality(frame.rgb, box),
        )
    return best
