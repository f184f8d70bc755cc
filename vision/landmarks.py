"""Face landmarks behind one interface: the 68 iBUG points, from one of two models.

- `dlib`: dlib's 68-point shape predictor (`shape_predictor_68_face_landmarks.dat`, from
  face_recognition_models). Trained on the iBUG 300-W data set, whose licence excludes
  commercial use: fine for development and tests, not for a lender's production.
- `facemesh`: MediaPipe Face Mesh (`assets/models/face_landmark.tflite`, Apache-2.0, copied
  unchanged from the `mediapipe` 0.10.21 wheel on PyPI; see assets/models/README.md), run with
  LiteRT (`ai-edge-litert`). It predicts 468 points on a 192 x 192 crop; the 68 iBUG points
  are read from the mesh vertices at the same places (`MESH_TO_IBUG`), so the action geometry
  and the head pose (`vision.actions`, `vision.headpose`) work unchanged on either.

Both take the face box of `vision.faces` (dlib's HOG detector) and return a (68, 2) array of
(x, y) in image pixels. The backend is a setting (`LOANFLOW_LANDMARK_BACKEND`).
"""

from __future__ import annotations

import threading
from enum import StrEnum
from pathlib import Path
from typing import ClassVar, Protocol

import cv2
import numpy as np

from vision.faces import FaceBox, FaceModels

MODELS = Path(__file__).resolve().parent.parent / "assets" / "models"
FACE_MESH_MODEL = MODELS / "face_landmark.tflite"
MESH_INPUT = 192
# The crop around the detector's box that Face Mesh was trained on: MediaPipe grows its face
# detector's box 1.5 times; dlib's HOG box is a little tighter (brows to chin), hence 1.7.
MESH_CROP_SCALE = 1.7

# Face Mesh vertex at each of the 68 iBUG points, in iBUG order: jaw 0-16, brows 17-26, nose
# 27-35, eyes 36-47 (the image's left eye first), outer lips 48-59, inner lips 60-67.
MESH_TO_IBUG = np.array(
    [
        162, 234, 93, 58, 172, 136, 149, 148, 152, 377, 378, 365, 397, 288, 323, 454, 389,
        70, 63, 105, 66, 107, 336, 296, 334, 293, 300,
        168, 197, 5, 4, 75, 97, 2, 326, 305,
        33, 160, 158, 133, 153, 144, 362, 385, 387, 263, 373, 380,
        61, 39, 37, 0, 267, 269, 291, 405, 314, 17, 84, 181,
        78, 82, 13, 312, 308, 317, 14, 87,
    ]
)  # fmt: skip


class LandmarkBackend(StrEnum):
    DLIB = "dlib"
    FACEMESH = "facemesh"


class LandmarkModel(Protocol):
    backend: LandmarkBackend

    def landmarks(self, rgb: np.ndarray, box: FaceBox) -> np.ndarray:
        """The 68 iBUG points of the face in `box`, (68, 2) float (x, y) in image pixels."""
        ...


class DlibLandmarks:
    backend = LandmarkBackend.DLIB

    def __init__(self, faces: FaceModels | None = None) -> None:
        self._faces = faces or FaceModels.shared()

    def landmarks(self, rgb: np.ndarray, box: FaceBox) -> np.ndarray:
        return self._faces.landmarks(rgb, box)


class FaceMeshLandmarks:
    """Face Mesh on LiteRT. An interpreter is not safe across threads: one per thread."""

    backend = LandmarkBackend.FACEMESH
    _instance: ClassVar[FaceMeshLandmarks | None] = None
    _instance_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, model: Path = FACE_MESH_MODEL, threads: int = 1) -> None:
        if not model.is_file():
            raise RuntimeError(f"Face Mesh model missing: {model}")
        self._model = str(model)
        self._threads = threads
        self._local = threading.local()

    @classmethod
    def shared(cls) -> FaceMeshLandmarks:
        with cls._instance_lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def _interpreter(self):
        interpreter = getattr(self._local, "interpreter", None)
        if interpreter is None:
            from ai_edge_litert.interpreter import Interpreter

            interpreter = Interpreter(model_path=self._model, num_threads=self._threads)
            interpreter.allocate_tensors()
            self._local.interpreter = interpreter
        return interpreter

    def mesh(self, rgb: np.ndarray, box: FaceBox) -> np.ndarray:
        """All 468 mesh vertices, (468, 2) in image pixels."""
        side = MESH_CROP_SCALE * max(box.width, box.height)
        cx, cy = box.center
        scale = MESH_INPUT / side
        # crop pixel = scale * (image pixel - corner); outside the image: the border repeated
        to_crop = np.array(
            [[scale, 0, -scale * (cx - side / 2)], [0, scale, -scale * (cy - side / 2)]]
        )
        crop = cv2.warpAffine(
            np.ascontiguousarray(rgb),
            to_crop,
            (MESH_INPUT, MESH_INPUT),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        interpreter = self._interpreter()
        tensor = (crop.astype(np.float32) / 255.0)[None]
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], tensor)
        interpreter.invoke()
        output = interpreter.get_output_details()[0]["index"]
        points = interpreter.get_tensor(output).reshape(-1, 3)[:, :2]
        return (points - to_crop[:, 2]) / scale

    def landmarks(self, rgb: np.ndarray, box: FaceBox) -> np.ndarray:
        return self.mesh(rgb, box)[MESH_TO_IBUG].astype(np.float64)

    def warm(self) -> None:
        self.landmarks(np.zeros((96, 96, 3), np.uint8), FaceBox(16, 80, 80, 16))


def landmark_model(
    backend: LandmarkBackend | str = LandmarkBackend.DLIB, faces: FaceModels | None = None
) -> LandmarkModel:
    """The landmark model of `backend`, loaded once per process."""
    match LandmarkBackend(backend):
        case LandmarkBackend.DLIB:
            return DlibLandmarks(faces)
        case LandmarkBackend.FACEMESH:
            return FaceMeshLandmarks.shared()
