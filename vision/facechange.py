"""How much a face itself changes over a clip: the evidence that it is not a flat picture.

A printed or displayed photo, held still or moved by hand, is a plane: every frame's landmarks
are one perspective map (a homography) of every other frame's, and its texture, aligned by the
landmarks, stays the same. A live face is not a plane and is not rigid: eyes blink, lips move,
the nose turns against the cheeks. Two measures, each the clip's peak above its own noise floor
(the median), so that a sharp camera and a noisy one, a steady hand and a shaky one, are judged
alike:

- `shape`: per frame, the root-mean-square distance of the 68 landmarks from the best
  homography onto the clip's resting shape, over the distance between the outer eye corners;
- `texture`: per frame, the mean absolute difference of the face, aligned to a 48 x 48 mean-face
  frame by the rigid landmarks and normalised in brightness and contrast, from the clip's median
  face, in standard deviations of its grey levels.

The peak is the second largest value, so that a single frame where the landmark predictor
slipped does not make a photo look alive; a blink spans two samples at ten a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from vision.actions import LandmarkSample
from vision.headpose import MEAN_FACE

PATCH = 48
# The mean face's x, y (millimetre-like units) scaled into the patch: the face, brows to chin.
_CANONICAL = (MEAN_FACE[:, :2] - [0.0, 6.0]) * 0.3 + PATCH / 2
# Points that expressions do not move: nose, eye corners, jaw line by the ears.
_RIGID = np.array([0, 1, 15, 16, 27, 28, 29, 30, 31, 33, 35, 36, 39, 42, 45])


@dataclass(frozen=True)
class FaceChange:
    shape: float
    texture: float

    def describe(self) -> str:
        return f"shape {self.shape:.3f}, texture {self.texture:.3f}"


def aligned_patch(gray: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The face warped onto the mean face's frame by a similarity fitted to the rigid
    landmarks, PATCH x PATCH, smoothed so that codec blocks and resampling do not count."""
    matrix, _ = cv2.estimateAffinePartial2D(
        landmarks[_RIGID].astype(np.float32), _CANONICAL[_RIGID].astype(np.float32)
    )
    if matrix is None:
        return np.zeros((PATCH, PATCH), np.float32)
    double = cv2.warpAffine(
        gray, matrix * [[2.0], [2.0]], (2 * PATCH, 2 * PATCH), borderMode=cv2.BORDER_REPLICATE
    )
    small = cv2.resize(double, (PATCH, PATCH), interpolation=cv2.INTER_AREA)
    return cv2.GaussianBlur(small, (3, 3), 0).astype(np.float32)


def _peak_over_floor(values: np.ndarray) -> float:
    if len(values) < 3:
        return 0.0
    return float(np.sort(values)[-2] - np.median(values))


def shape_departures(landmarks: Sequence[np.ndarray]) -> np.ndarray:
    """Per frame, the landmarks' distance from the best homography onto the resting shape."""
    first = landmarks[0].astype(np.float32)
    aligned = []
    for points in landmarks:
        matrix, _ = cv2.estimateAffinePartial2D(points.astype(np.float32), first)
        if matrix is None:
            matrix = np.array([[1, 0, 0], [0, 1, 0]], np.float64)
        aligned.append(points @ matrix[:, :2].T + matrix[:, 2])
    resting = np.median(np.array(aligned), axis=0)
    span = max(float(np.linalg.norm(resting[45] - resting[36])), 1.0)
    departures = []
    for points in landmarks:
        homography, _ = cv2.findHomography(points, resting, 0)
        if homography is None:
            departures.append(0.0)
            continue
        mapped = cv2.perspectiveTransform(points.reshape(-1, 1, 2), homography).reshape(-1, 2)
        departures.append(float(np.sqrt(np.mean(np.sum((mapped - resting) ** 2, axis=1)))))
    return np.array(departures) / span


def texture_departures(patches: Sequence[np.ndarray]) -> np.ndarray:
    """Per frame, the aligned face's mean absolute difference from the clip's median face,
    each normalised to zero mean and unit deviation (light changes do not count)."""
    stack = np.array(patches, np.float32)
    mean = stack.mean(axis=(1, 2), keepdims=True)
    spread = stack.std(axis=(1, 2), keepdims=True) + 1e-3
    normalised = (stack - mean) / spread
    median = np.median(normalised, axis=0)
    return np.mean(np.abs(normalised - median), axis=(1, 2))


def face_change(samples: Sequence[LandmarkSample], patches: Sequence[np.ndarray]) -> FaceChange:
    if len(samples) < 3:
        return FaceChange(0.0, 0.0)
    shape = _peak_over_floor(shape_departures([s.landmarks for s in samples]))
    texture = _peak_over_floor(texture_departures(patches))
    return FaceChange(shape=shape, texture=texture)
