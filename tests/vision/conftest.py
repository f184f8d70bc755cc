"""The face models load once per test session: about a second, shared by every vision test."""

from __future__ import annotations

import pytest

from vision.faces import FaceModels


@pytest.fixture(scope="session")
def face_models() -> FaceModels:
    faces = FaceModels.shared()
    faces.warm()
    return faces
