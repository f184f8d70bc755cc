"""The face models load once per test session: about a second, shared by every vision test."""

from __future__ import annotations

import pytest

from vision.faces import FaceEngine


@pytest.fixture(scope="session")
def face_engine() -> FaceEngine:
    engine = FaceEngine.shared()
    engine.warm()
    return engine
