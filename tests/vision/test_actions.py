"""Challenge-action detectors on landmark series: real landmarks from a photo, with the eyes
closed or the mouth opened by moving the lid and lip points the way the movement does."""

from __future__ import annotations

import numpy as np
import pytest

from domain.enums import LivenessAction
from domain.models import ActionWindow
from tests.vision.support import face_bytes
from vision.actions import (
    LandmarkSample,
    actions_seen,
    mean_eye_aspect_ratio,
    mouth_aspect_ratio,
)
from vision.faces import FaceEngine, single_face
from vision.images import DETECT_LONG_SIDE, ImageLimits, decode_image

UPPER_LIDS, LOWER_LIDS = [37, 38, 43, 44], [41, 40, 47, 46]
UPPER_LIP, LOWER_LIP = [61, 62, 63], [67, 66, 65]


def landmarks_of(engine: FaceEngine, name: str) -> np.ndarray:
    rgb = decode_image(face_bytes(name), ImageLimits(), max_side=DETECT_LONG_SIDE)
    return engine.landmarks(rgb, single_face(engine.detect(rgb)))


@pytest.fixture(scope="module")
def resting(face_engine: FaceEngine) -> np.ndarray:
    """A neutral face: eyes open, lips closed."""
    return landmarks_of(face_engine, "examples_knn_examples_test_obama1.jpg")


@pytest.fixture(scope="module")
def smiling(face_engine: FaceEngine) -> list[np.ndarray]:
    """Broad smiles: teeth showing (examples_obama2), eyes narrowed (examples_obama)."""
    return [landmarks_of(face_engine, n) for n in ("examples_obama2.jpg", "examples_obama.jpg")]


def closed_eyes(points: np.ndarray) -> np.ndarray:
    moved = points.copy()
    moved[UPPER_LIDS] = points[LOWER_LIDS] - [0, 1]
    return moved


def open_mouth(points: np.ndarray) -> np.ndarray:
    moved = points.copy()
    width = np.linalg.norm(points[60] - points[64])
    moved[UPPER_LIP] = points[UPPER_LIP] - [0, 0.35 * width]
    moved[LOWER_LIP] = points[LOWER_LIP] + [0, 0.35 * width]
    return moved


def series(resting: np.ndarray, changed_at: dict[int, np.ndarray]) -> list[LandmarkSample]:
    """Fifteen samples at 5 fps, the resting face except where `changed_at` says otherwise."""
    return [LandmarkSample(n * 0.2, changed_at.get(n, resting)) for n in range(15)]


def test_real_face_has_open_eyes_and_closed_mouth(resting: np.ndarray) -> None:
    assert 0.2 < mean_eye_aspect_ratio(resting) < 0.45
    assert mouth_aspect_ratio(resting) < 0.1
    assert mean_eye_aspect_ratio(closed_eyes(resting)) < 0.1
    assert mouth_aspect_ratio(open_mouth(resting)) > 0.6


def test_a_smile_is_neither_a_blink_nor_an_open_mouth(
    resting: np.ndarray, smiling: list[np.ndarray]
) -> None:
    samples = series(resting, {4: smiling[0], 5: smiling[1], 9: smiling[0], 10: smiling[1]})
    windows = [
        ActionWindow(action=LivenessAction.BLINK, start_s=0.0, end_s=3.0),
        ActionWindow(action=LivenessAction.OPEN_MOUTH, start_s=0.0, end_s=3.0),
    ]
    assert actions_seen(samples, windows) == []


def test_blink_and_open_mouth_are_seen_in_their_windows(resting: np.ndarray) -> None:
    samples = series(resting, {3: closed_eyes(resting), 11: open_mouth(resting)})
    windows = [
        ActionWindow(action=LivenessAction.BLINK, start_s=0.0, end_s=1.4),
        ActionWindow(action=LivenessAction.OPEN_MOUTH, start_s=1.6, end_s=3.0),
    ]
    assert actions_seen(samples, windows) == [LivenessAction.BLINK, LivenessAction.OPEN_MOUTH]


def test_actions_outside_their_window_are_not_seen(resting: np.ndarray) -> None:
    samples = series(resting, {11: closed_eyes(resting), 3: open_mouth(resting)})
    windows = [
        ActionWindow(action=LivenessAction.BLINK, start_s=0.0, end_s=1.4),
        ActionWindow(action=LivenessAction.OPEN_MOUTH, start_s=1.6, end_s=3.0),
    ]
    assert actions_seen(samples, windows) == []


def test_a_mouth_open_throughout_is_not_an_action(resting: np.ndarray) -> None:
    samples = series(resting, {n: open_mouth(resting) for n in range(15)})
    window = ActionWindow(action=LivenessAction.OPEN_MOUTH, start_s=0.0, end_s=3.0)
    assert actions_seen(samples, [window]) == []


def test_head_movements_are_never_reported_without_a_detector(resting: np.ndarray) -> None:
    samples = series(resting, {5: closed_eyes(resting), 6: open_mouth(resting)})
    windows = [
        ActionWindow(action=LivenessAction.NOD, start_s=0.0, end_s=3.0),
        ActionWindow(action=LivenessAction.SHAKE_HEAD, start_s=0.0, end_s=3.0),
    ]
    assert actions_seen(samples, windows) == []
