"""Challenge actions seen in a liveness video, from the 68 iBUG face landmarks.

Each detector looks at the landmark series of the frames inside one challenge window and says
whether the action happened there. BLINK uses the eye aspect ratio (Soukupova and Cech, 2016),
OPEN_MOUTH the same ratio on the inner lips; both compare the window against the person's own
resting value over the whole video, so narrow eyes or a habitually parted mouth do not count.
NOD and SHAKE_HEAD need head pose (yaw, pitch) and have no detector yet: they are never reported
as seen. Frames are sampled at 5 fps, so a blink shorter than one sampling interval can fall
between samples; a denser sampling inside the windows belongs with the head-pose work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from domain.enums import LivenessAction
from domain.models import ActionWindow

_RIGHT_EYE = slice(36, 42)
_LEFT_EYE = slice(42, 48)
_INNER_MOUTH = slice(60, 68)

# Measured on the reference photos: open eyes 0.26-0.42, narrowed by a broad smile down to 0.19;
# closed eyes fall below ~0.12. Closed lips 0-0.1, a toothy smile up to 0.43; a deliberately
# opened mouth well above 0.6. Both thresholds sit past the smile, so a smile is not an action.
BLINK_MAX_EAR = 0.15
BLINK_DROP = 0.6
OPEN_MOUTH_MIN_MAR = 0.6
OPEN_MOUTH_RISE = 0.3


@dataclass(frozen=True)
class LandmarkSample:
    t_s: float
    landmarks: np.ndarray


def _dist(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b))


def eye_aspect_ratio(eye: np.ndarray) -> float:
    """(|p2-p6| + |p3-p5|) / (2 |p1-p4|) over the six points of one eye."""
    width = _dist(eye[0], eye[3])
    if width == 0:
        return 0.0
    return (_dist(eye[1], eye[5]) + _dist(eye[2], eye[4])) / (2.0 * width)


def mean_eye_aspect_ratio(landmarks: np.ndarray) -> float:
    return (eye_aspect_ratio(landmarks[_RIGHT_EYE]) + eye_aspect_ratio(landmarks[_LEFT_EYE])) / 2


def mouth_aspect_ratio(landmarks: np.ndarray) -> float:
    """Mean inner-lip opening (61-67, 62-66, 63-65) over the inner mouth width (60-64)."""
    mouth = landmarks[_INNER_MOUTH]
    width = _dist(mouth[0], mouth[4])
    if width == 0:
        return 0.0
    opening = _dist(mouth[1], mouth[7]) + _dist(mouth[2], mouth[6]) + _dist(mouth[3], mouth[5])
    return opening / 3.0 / width


def _split(
    samples: Sequence[LandmarkSample], window: ActionWindow, measure: Callable[[np.ndarray], float]
) -> tuple[list[float], float] | None:
    inside = [measure(s.landmarks) for s in samples if window.start_s <= s.t_s <= window.end_s]
    if not inside or len(samples) < 3:
        return None
    resting = float(np.median([measure(s.landmarks) for s in samples]))
    return inside, resting


def blink_seen(samples: Sequence[LandmarkSample], window: ActionWindow) -> bool:
    split = _split(samples, window, mean_eye_aspect_ratio)
    if split is None:
        return False
    inside, resting = split
    lowest = min(inside)
    return lowest <= BLINK_MAX_EAR and lowest <= BLINK_DROP * resting


def open_mouth_seen(samples: Sequence[LandmarkSample], window: ActionWindow) -> bool:
    split = _split(samples, window, mouth_aspect_ratio)
    if split is None:
        return False
    inside, resting = split
    highest = max(inside)
    return highest >= OPEN_MOUTH_MIN_MAR and highest - resting >= OPEN_MOUTH_RISE


ActionDetector = Callable[[Sequence[LandmarkSample], ActionWindow], bool]

DETECTORS: dict[LivenessAction, ActionDetector] = {
    LivenessAction.BLINK: blink_seen,
    LivenessAction.OPEN_MOUTH: open_mouth_seen,
}


def actions_seen(
    samples: Sequence[LandmarkSample], windows: Sequence[ActionWindow]
) -> list[LivenessAction]:
    """The challenged actions, in challenge order, that a detector found inside their window."""
    seen = []
    for window in windows:
        detector = DETECTORS.get(window.action)
        if detector is not None and detector(samples, window):
            seen.append(window.action)
    return seen
