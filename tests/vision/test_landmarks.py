"""The landmark interface: both backends give the 68 iBUG points of a real face, close to each
other where the liveness measures read them (eyes, mouth), and the setting picks the backend."""

from __future__ import annotations

import numpy as np
import pytest

from config.settings import Settings
from tests.vision.support import face_bytes
from vision.actions import mean_eye_aspect_ratio, mouth_opening
from vision.faces import FaceModels, single_face
from vision.images import DETECT_LONG_SIDE, ImageLimits, decode_image
from vision.landmarks import (
    DlibLandmarks,
    FaceMeshLandmarks,
    LandmarkBackend,
    landmark_model,
)

PHOTOS = ["examples_knn_examples_test_obama1.jpg", "carell.jpg", "lennon-1.jpg"]


@pytest.mark.parametrize("name", PHOTOS)
def test_both_backends_find_the_same_face(face_models: FaceModels, name: str) -> None:
    rgb = decode_image(face_bytes(name), ImageLimits(), max_side=DETECT_LONG_SIDE)
    box = single_face(face_models.detect(rgb))
    dlib_points = landmark_model(LandmarkBackend.DLIB, face_models).landmarks(rgb, box)
    mesh_points = landmark_model(LandmarkBackend.FACEMESH, face_models).landmarks(rgb, box)
    assert dlib_points.shape == mesh_points.shape == (68, 2)
    span = np.linalg.norm(dlib_points[45] - dlib_points[36])
    apart = np.linalg.norm(dlib_points - mesh_points, axis=1) / span
    # eyes and lips within a few percent of the eye-corner distance; the jaw line is drawn
    # differently by the two markups
    assert apart[36:48].mean() < 0.05 and apart[48:68].mean() < 0.05
    assert apart.mean() < 0.08
    assert abs(mean_eye_aspect_ratio(dlib_points) - mean_eye_aspect_ratio(mesh_points)) < 0.1
    assert abs(mouth_opening(dlib_points) - mouth_opening(mesh_points)) < 0.06


def test_the_setting_picks_the_backend(face_models: FaceModels, monkeypatch) -> None:
    assert Settings().landmark_backend == "dlib"
    assert isinstance(landmark_model(Settings().landmark_backend, face_models), DlibLandmarks)
    monkeypatch.setenv("LOANFLOW_LANDMARK_BACKEND", "facemesh")
    chosen = landmark_model(Settings().landmark_backend, face_models)
    assert isinstance(chosen, FaceMeshLandmarks)
    assert chosen is FaceMeshLandmarks.shared()
    with pytest.raises(ValueError):
        landmark_model("ibug", face_models)
