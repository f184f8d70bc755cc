"""Face detection, the exactly-one-face gate and 128-d face encodings.

The models and steps are face_recognition's (dlib HOG detector, 5-point alignment, ResNet
encoder, Euclidean distance), driven through dlib directly for thread safety: face_recognition
keeps one module-level HOG detector, dlib 20 releases the GIL while that detector runs, and the
detector writes into its own scanner state, so two worker threads calling it at once crash the
process (reproduced here as a segfault). `FaceModels` therefore gives each thread its own
detector (built in ~0.4 s, weights compiled in) and shares the heavy models once per process:
the shape predictors are read-only, and the encoder, whose forward pass reuses its own buffers,
runs under a lock (it holds the GIL throughout anyway, so the lock costs no parallelism).
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import dlib
import numpy as np

from domain.reasons import ReasonCode
from vision.images import FACE_GATES, Quality, QualityGates, VisionError, crop_quality, to_gray

# Faces narrower than this (at the 640 px detection scale) give unstable encodings; the smallest
# face in the single-person reference photos is 63 px.
MIN_FACE_PX = 56
# One 2x upsampling lets HOG find faces down to ~40 px; face_recognition's default as well.
UPSAMPLE = 1


class FaceRejected(VisionError):
    """No face, several faces, or a face too small or poor to compare."""


@dataclass(frozen=True)
class FaceBox:
    top: int
    right: int
    bottom: int
    left: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def area(self) -> int:
        return self.width * self.height

    @property
    def center(self) -> tuple[float, float]:
        return ((self.left + self.right) / 2, (self.top + self.bottom) / 2)

    def to_rect(self) -> dlib.rectangle:
        return dlib.rectangle(self.left, self.top, self.right, self.bottom)


@dataclass(frozen=True)
class FaceProbe:
    """The one face of a photo: where it is, its encoding and the quality of its crop."""

    box: FaceBox
    encoding: np.ndarray
    quality: Quality


def models_dir() -> Path:
    # find_spec locates the package without importing it: its __init__ imports pkg_resources,
    # which warns on every process start.
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or spec.origin is None:
        raise RuntimeError("face_recognition_models is not installed")
    return Path(spec.origin).parent / "models"


class FaceModels:
    """The dlib models, loaded once per process (`FaceModels.shared()`), safe across threads."""

    _instance: ClassVar[FaceModels | None] = None
    _instance_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, models: Path | None = None) -> None:
        models = models or models_dir()
        self._pose5 = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
        self._pose68 = dlib.shape_predictor(str(models / "shape_predictor_68_face_landmarks.dat"))
        self._encoder = dlib.face_recognition_model_v1(
            str(models / "dlib_face_recognition_resnet_model_v1.dat")
        )
        self._encoder_lock = threading.Lock()
        self._local = threading.local()

    @classmethod
    def shared(cls) -> FaceModels:
        with cls._instance_lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def _detector(self) -> dlib.fhog_object_detector:
        detector = getattr(self._local, "detector", None)
        if detector is None:
            detector = self._local.detector = dlib.get_frontal_face_detector()
        return detector

    def warm(self) -> None:
        """Build this thread's detector and run every model once, so the first request is fast."""
        blank = np.zeros((96, 96, 3), dtype=np.uint8)
        box = FaceBox(top=16, right=80, bottom=80, left=16)
        self.detect(blank)
        self.encode(blank, box)
        self.landmarks(blank, box)

    def detect(self, rgb: np.ndarray, upsample: int = UPSAMPLE) -> list[FaceBox]:
        """Face boxes inside the image, largest first."""
        image = np.ascontiguousarray(rgb)
        height, width = image.shape[:2]
        boxes = [
            FaceBox(
                top=max(rect.top(), 0),
                right=min(rect.right(), width),
                bottom=min(rect.bottom(), height),
                left=max(rect.left(), 0),
            )
            for rect in self._detector()(image, upsample)
        ]
        return sorted(boxes, key=lambda b: b.area, reverse=True)

    def encode(self, rgb: np.ndarray, box: FaceBox) -> np.ndarray:
        image = np.ascontiguousarray(rgb)
        shape = self._pose5(image, box.to_rect())
        with self._encoder_lock:
            descriptor = self._encoder.compute_face_descriptor(image, shape, 1)
        return np.asarray(descriptor, dtype=np.float64)

    def landmarks(self, rgb: np.ndarray, box: FaceBox) -> np.ndarray:
        """The 68 iBUG landmarks as a (68, 2) float array of (x, y)."""
        shape = self._pose68(np.ascontiguousarray(rgb), box.to_rect())
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)


def face_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between encodings; face_recognition's tolerance scale (0.6 default)."""
    return float(np.linalg.norm(a - b))


def single_face(boxes: list[FaceBox], *, min_face_px: int = MIN_FACE_PX) -> FaceBox:
    """The exactly-one-face gate: I004 none, I005 several, I009 too small."""
    if not boxes:
        raise FaceRejected(ReasonCode.I004_NO_FACE, "no face found")
    if len(boxes) > 1:
        raise FaceRejected(ReasonCode.I005_MULTIPLE_FACES, f"{len(boxes)} faces found")
    box = boxes[0]
    if min(box.width, box.height) < min_face_px:
        raise FaceRejected(
            ReasonCode.I009_IMAGE_QUALITY,
            f"face too small ({box.width} px wide, minimum {min_face_px})",
        )
    return box


def face_quality(rgb: np.ndarray, box: FaceBox) -> Quality:
    return crop_quality(to_gray(rgb), box.top, box.right, box.bottom, box.left)


def probe_face(
    faces: FaceModels, rgb: np.ndarray, *, what: str, gates: QualityGates = FACE_GATES
) -> FaceProbe:
    """Find the one face of a detection-scale photo, check its crop's quality and encode it."""
    box = single_face(faces.detect(rgb))
    quality = face_quality(rgb, box)
    gates.check(quality, f"{what} face")
    return FaceProbe(box=box, encoding=faces.encode(rgb, box), quality=quality)
