"""Liveness of the applicant's video: one live person, present throughout, performing the
challenge they were given, in its order and windows.

Frames are sampled at 10 per second, and inside a window that asks for a blink every frame up to
30 a second, for the eyes alone (`vision.actions.blink_intervals`). The face detector (the
costly step, ~25 ms per frame at 640 px) runs on every `detect_every`-th sample; in between, the
face is tracked: the box for the next frame is derived from the previous frame's landmarks, and
the 68 landmarks (~3.5 ms) are found inside it. A tracked face that jumps, shrinks or grows
abruptly triggers a fresh detection. On detection frames the checks that need a whole face run:
several faces, the identity encoding (every third detection, compared with the first: one and
the same person throughout) and passive anti-spoofing (`vision.antispoof`). Landmarks of every
frame feed the action checks (`vision.actions`). The best frame (sharp, large, neutral face) is
kept for the face match; its encoding is reused when the identity check already computed it.

"A still image" is decided from the face itself, not from how much the frame changes (a phone
propped on a desk films a live person with hardly a pixel changing, and a photo waved in front
of the camera changes every pixel): a photo, however it is moved, is a flat picture, so its
landmarks move together by one perspective map (a homography) and its texture, once aligned,
stays the same. A live face deforms: eyes blink, the mouth moves, the nose turns against the
cheeks. Two measures over the clip (`vision.facechange`): the landmarks' departure from the
best homography onto the person's resting shape, and the change of the aligned face texture,
each as its peak above the clip's own noise floor. Below either floor, the clip is a still image.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from domain.enums import LivenessAction
from domain.identity import ActionWindow
from domain.reasons import ReasonCode
from vision.actions import LandmarkSample, Session, WindowVerdict, check_challenge
from vision.antispoof import SpoofDetector
from vision.facechange import FaceChange, aligned_patch, face_change
from vision.faces import MIN_FACE_PX, FaceBox, FaceModels, face_distance, face_quality
from vision.images import FACE_GATES, Quality, to_gray
from vision.landmarks import LandmarkModel, landmark_model
from vision.video import Frame

# Detection frames kept as candidates for the best frame (~1 MB each at 640 px).
_CANDIDATES = 15


@dataclass(frozen=True)
class LivenessPolicy:
    min_frames: int = 15
    min_face_ratio: float = 0.8
    same_person_threshold: float = 0.6
    # The face's own change above the clip's noise floor (see vision.facechange): landmarks off
    # a flat picture's perspective map, in eye-corner distances, and the aligned texture's
    # change, in standard deviations of its grey levels. A live face must show both. On the
    # development clips (synthetic.challenge_video, tests/vision) photos, still or moved,
    # reach shape 0.015 and texture 0.23; live faces performing a challenge, with or without
    # camera movement, at least 0.057 and 0.44.
    min_shape_change: float = 0.03
    min_texture_change: float = 0.2
    detect_every: int = 5
    encode_every: int = 3  # detections
    # Mean probability of "live" over the sampled frames; the print and screen samples score
    # 0.03 and 0.32, the real photos in assets/faces 0.65-1.00 (see vision.antispoof).
    min_live: float = 0.5
    require_actions: bool = True


@dataclass(frozen=True)
class BestFrame:
    t_s: float
    rgb: np.ndarray
    box: FaceBox
    encoding: np.ndarray
    quality: Quality


@dataclass(frozen=True)
class LivenessReport:
    passed: bool
    reasons: list[ReasonCode]
    frames_sampled: int
    frames_with_one_face: int
    frames_with_several_faces: int
    detections: int
    actions_seen: list[LivenessAction]
    windows: list[WindowVerdict]
    face_change: FaceChange
    max_identity_distance: float | None
    live_score: float | None
    best: BestFrame | None
    detail: str


@dataclass
class _Candidate:
    score: float
    t_s: float
    rgb: np.ndarray
    box: FaceBox


@dataclass
class _Tracker:
    faces: FaceModels
    marks: LandmarkModel
    spoof: SpoofDetector | None
    policy: LivenessPolicy
    sampled: int = 0
    one_face: int = 0
    several: int = 0
    detections: int = 0
    since_detection: int = 0
    first_encoding: np.ndarray | None = None
    encodings: dict[float, np.ndarray] = field(default_factory=dict)  # by frame time
    max_distance: float | None = None
    live: list[float] = field(default_factory=list)
    patches: list[np.ndarray] = field(default_factory=list)
    samples: list[LandmarkSample] = field(default_factory=list)
    extra: list[LandmarkSample] = field(default_factory=list)  # dense frames: eyes only
    candidates: list[_Candidate] = field(default_factory=list)
    _box: FaceBox | None = None
    # the last detection's box, relative to an anchor that expressions do not move
    _anchor_box: tuple[np.ndarray, float, np.ndarray] | None = None

    def add(self, frame: Frame) -> None:
        if frame.dense:
            self._add_extra(frame)
            return
        self.sampled += 1
        box = self._track(frame) if self._tracking() else None
        if box is None:
            box = self._detect(frame)
        if box is not None:
            self.one_face += 1

    def _add_extra(self, frame: Frame) -> None:
        """A frame between the samples, where the eyes are watched for a blink: the landmarks
        inside the tracked box, kept for the eyes alone; nothing else is counted or checked."""
        if self._box is None or self._anchor_box is None:
            return
        landmarks = self.marks.landmarks(frame.rgb, self._box)
        if _followed(self._box, self._box_around(landmarks, frame.rgb.shape)):
            size = (frame.rgb.shape[1], frame.rgb.shape[0])
            self.extra.append(LandmarkSample(frame.t_s, landmarks, size))

    def _tracking(self) -> bool:
        return self._box is not None and self.since_detection < self.policy.detect_every

    def _detect(self, frame: Frame) -> FaceBox | None:
        self.detections += 1
        self.since_detection = 0
        boxes = self.faces.detect(frame.rgb, upsample=0) or self.faces.detect(frame.rgb)
        if len(boxes) > 1:
            self.several += 1
        if len(boxes) != 1 or min(boxes[0].width, boxes[0].height) < MIN_FACE_PX:
            self._box = None
            return None
        box = boxes[0]
        landmarks = self.marks.landmarks(frame.rgb, box)
        centre, span = _anchor(landmarks)
        corners = np.array([box.left, box.top, box.right, box.bottom], dtype=np.float64)
        self._anchor_box = (centre, span, corners)
        self._record(frame, box, landmarks)
        self._whole_face_checks(frame, box)
        return box

    def _track(self, frame: Frame) -> FaceBox | None:
        """The face where the last landmarks put it; None (detect instead) when it moved too
        much to trust: more than half a face, or a size change of a third."""
        self.since_detection += 1
        assert self._box is not None
        previous = self._box
        landmarks = self.marks.landmarks(frame.rgb, previous)
        box = self._box_around(landmarks, frame.rgb.shape)
        if not _followed(previous, box):
            return None
        self._record(frame, box, landmarks)
        return box

    def _box_around(self, landmarks: np.ndarray, shape: tuple[int, ...]) -> FaceBox:
        """The last detection's box, moved and scaled with the eyes and nose: built from all
        the landmarks, a box would shrink when the predictor misses a wide-open jaw, and the
        next frame's landmarks would follow it."""
        assert self._anchor_box is not None
        was_centre, was_span, corners = self._anchor_box
        centre, span = _anchor(landmarks)
        scale = span / max(was_span, 1.0)
        offsets = (corners.reshape(2, 2) - was_centre) * scale + centre
        left, top, right, bottom = offsets.ravel()
        height, width = shape[:2]
        return FaceBox(
            top=int(max(top, 0)),
            right=int(min(right, width)),
            bottom=int(min(bottom, height)),
            left=int(max(left, 0)),
        )

    def _record(self, frame: Frame, box: FaceBox, landmarks: np.ndarray) -> None:
        self._box = (
            box if self._anchor_box is None else self._box_around(landmarks, frame.rgb.shape)
        )
        size = (frame.rgb.shape[1], frame.rgb.shape[0])
        self.samples.append(LandmarkSample(frame.t_s, landmarks, size))
        self.patches.append(aligned_patch(to_gray(frame.rgb), landmarks))

    def _whole_face_checks(self, frame: Frame, box: FaceBox) -> None:
        if self.spoof is not None:
            self.live.append(self.spoof.real_probability(frame.rgb, box))
        if (self.detections - 1) % self.policy.encode_every == 0 or self.first_encoding is None:
            encoding = self.encodings[frame.t_s] = self.faces.encode(frame.rgb, box)
            if self.first_encoding is None:
                self.first_encoding = encoding
            distance = face_distance(self.first_encoding, encoding)
            self.max_distance = max(self.max_distance or 0.0, distance)
        quality = face_quality(frame.rgb, box)
        self.candidates.append(_Candidate(quality.sharpness * box.area, frame.t_s, frame.rgb, box))
        self.candidates.sort(key=lambda c: c.score, reverse=True)
        del self.candidates[_CANDIDATES:]

    def best(self) -> BestFrame | None:
        """The sharpest large face among the detection frames whose expression and pose are
        close to the person's resting ones (open eyes, closed mouth, facing the camera)."""
        if not self.candidates:
            return None
        session = Session.of(self.samples)
        by_time = {s.t_s: s for s in self.samples}

        def neutral(candidate: _Candidate) -> bool:
            sample = by_time.get(candidate.t_s)
            if sample is None:
                return False
            eyes, mouth, yaw, pitch, _ = sample.features - session.resting
            return eyes > -0.05 and mouth < 0.15 and abs(yaw) < 8 and abs(pitch) < 8

        pick = next((c for c in self.candidates if neutral(c)), self.candidates[0])
        encoding = self.encodings.get(pick.t_s)
        return BestFrame(
            t_s=pick.t_s,
            rgb=pick.rgb,
            box=pick.box,
            encoding=self.faces.encode(pick.rgb, pick.box) if encoding is None else encoding,
            quality=face_quality(pick.rgb, pick.box),
        )


_ANCHOR = [27, 30, 36, 39, 42, 45]  # nose bridge and tip, eye corners


def _followed(previous: FaceBox, box: FaceBox) -> bool:
    """Whether the landmarks found inside `previous` followed the face: the box they put it in
    moved less than half a face and changed its size by less than a third."""
    shift = np.hypot(box.center[0] - previous.center[0], box.center[1] - previous.center[1])
    return shift <= 0.5 * previous.width and 0.75 < box.width / previous.width < 1.33


def _anchor(landmarks: np.ndarray) -> tuple[np.ndarray, float]:
    return landmarks[_ANCHOR].mean(axis=0), float(np.linalg.norm(landmarks[45] - landmarks[36]))


def _judge(
    t: _Tracker, windows: Sequence[ActionWindow], verdicts: list[WindowVerdict], change: FaceChange
) -> list[tuple[ReasonCode, str]]:
    policy = t.policy
    failures: list[tuple[ReasonCode, str]] = []
    if t.sampled == 0:
        return [(ReasonCode.I006_IMAGE_UNREADABLE, "no decodable frame")]
    if t.sampled < policy.min_frames:
        failures.append(
            (
                ReasonCode.I007_LIVENESS_FAILED,
                f"video too short: {t.sampled} frames sampled, {policy.min_frames} needed",
            )
        )
    if t.several:
        failures.append((ReasonCode.I005_MULTIPLE_FACES, f"several faces in {t.several} frames"))
    if t.one_face < policy.min_face_ratio * t.sampled:
        failures.append(
            (ReasonCode.I004_NO_FACE, f"one clear face in only {t.one_face} of {t.sampled} frames")
        )
    if t.max_distance is not None and t.max_distance >= policy.same_person_threshold:
        failures.append(
            (
                ReasonCode.I007_LIVENESS_FAILED,
                f"the face changes during the video (distance {t.max_distance:.2f})",
            )
        )
    if len(t.samples) >= 3 and (
        change.shape < policy.min_shape_change or change.texture < policy.min_texture_change
    ):
        failures.append(
            (
                ReasonCode.I007_LIVENESS_FAILED,
                f"the face does not change ({change.describe()}): a still image",
            )
        )
    if policy.require_actions and t.one_face and not all(v.passed for v in verdicts):
        failures.append(
            (
                ReasonCode.I012_LIVENESS_ACTIONS,
                "; ".join(v.describe() for v in verdicts if not v.passed),
            )
        )
    if t.live and float(np.mean(t.live)) < policy.min_live:
        failures.append(
            (
                ReasonCode.I013_SPOOF_SUSPECTED,
                f"face looks printed or on a screen (live {np.mean(t.live):.2f})",
            )
        )
    return failures


def assess_liveness(
    frames: Iterable[Frame],
    faces: FaceModels,
    *,
    windows: Sequence[ActionWindow] = (),
    policy: LivenessPolicy | None = None,
    spoof: SpoofDetector | None = None,
    landmarks: LandmarkModel | None = None,
    progress: Callable[[int], None] | None = None,
) -> LivenessReport:
    """Run every check over the sampled frames; `progress(n)` is called after each regular
    (not `dense`) frame.
    Without a `spoof` detector, passive anti-spoofing is skipped (and reported as None);
    `landmarks` defaults to dlib's 68-point model (`vision.landmarks`)."""
    tracker = _Tracker(
        faces=faces,
        marks=landmarks or landmark_model(faces=faces),
        spoof=spoof,
        policy=policy or LivenessPolicy(),
    )
    for frame in frames:
        tracker.add(frame)
        if progress is not None and not frame.dense:
            progress(tracker.sampled)
    change = face_change(tracker.samples, tracker.patches)
    verdicts = check_challenge(tracker.samples, windows, tracker.extra)
    failures = _judge(tracker, windows, verdicts, change)
    best = tracker.best()
    if best is not None and (problem := FACE_GATES.problem(best.quality)):
        failures.append((problem[0], f"best frame face {problem[1]}"))
    live = float(np.mean(tracker.live)) if tracker.live else None
    summary = (
        f"{tracker.sampled} frames, {tracker.one_face} with one face, "
        f"{tracker.detections} detections, face change {change.describe()}"
        + (f", max distance {tracker.max_distance:.2f}" if tracker.max_distance is not None else "")
        + (f", live {live:.2f}" if live is not None else "")
        + (", challenge: " + "; ".join(v.describe() for v in verdicts) if verdicts else "")
    )
    return LivenessReport(
        passed=not failures,
        reasons=list(dict.fromkeys(code for code, _ in failures)),
        frames_sampled=tracker.sampled,
        frames_with_one_face=tracker.one_face,
        frames_with_several_faces=tracker.several,
        detections=tracker.detections,
        actions_seen=[v.window.action for v in verdicts if v.seen],
        windows=verdicts,
        face_change=change,
        max_identity_distance=tracker.max_distance,
        live_score=live,
        best=best,
        detail="; ".join([detail for _, detail in failures] + [summary]),
    )


def best_face_frame(
    frames: Iterable[Frame],
    faces: FaceModels,
    progress: Callable[[int], None] | None = None,
    landmarks: LandmarkModel | None = None,
) -> BestFrame | None:
    """The best frame for the face match alone: the same tracking, no action or spoof checks."""
    policy = LivenessPolicy(require_actions=False)
    return assess_liveness(
        frames, faces, policy=policy, landmarks=landmarks, progress=progress
    ).best
