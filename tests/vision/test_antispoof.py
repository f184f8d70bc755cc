"""Passive anti-spoofing with the two MiniFASNet models on the published sample images (a live
face, a printed photo, a face on a screen) and on the real photos of assets/faces."""

from __future__ import annotations

import numpy as np
import pytest

from tests.vision.support import face_bytes
from vision.antispoof import INPUT_SIDE, MODELS, SpoofDetector, crop_for_model
from vision.faces import FaceBox, FaceModels, single_face
from vision.images import DETECT_LONG_SIDE, ImageLimits, decode_image


def live(detector: SpoofDetector, faces: FaceModels, data: bytes) -> float:
    rgb = decode_image(data, ImageLimits(), max_side=DETECT_LONG_SIDE)
    return detector.real_probability(rgb, single_face(faces.detect(rgb)))


@pytest.mark.parametrize(("sample", "is_live"), [("T1", True), ("F1", False), ("F2", False)])
def test_the_published_samples_are_told_apart(face_models, sample: str, is_live: bool) -> None:
    data = (MODELS / f"antispoof_sample_image_{sample}.jpg").read_bytes()
    score = live(SpoofDetector.shared(), face_models, data)
    assert (score > 0.9) if is_live else (score < 0.4)


@pytest.mark.parametrize(
    "name", ["examples_obama.jpg", "lennon-1.jpg", "examples_biden.jpg", "carell.jpg"]
)
def test_real_photos_read_as_live(face_models, name: str) -> None:
    assert live(SpoofDetector.shared(), face_models, face_bytes(name)) > 0.5


def test_the_crop_keeps_its_shape_at_the_image_border() -> None:
    image = np.zeros((200, 300, 3), np.uint8)
    image[:, :150] = 255
    # a face at the left edge: the 2.7x box is shifted inside rather than cut
    crop = crop_for_model(image, FaceBox(top=80, right=40, bottom=120, left=0), 2.7)
    assert crop.shape == (INPUT_SIDE, INPUT_SIDE, 3)
    assert crop[:, : INPUT_SIDE // 2].min() == 255  # the left half of a 108 px square at x=0
    # larger than the image: as large as fits
    whole = crop_for_model(image, FaceBox(top=50, right=200, bottom=150, left=100), 4.0)
    assert whole.shape == (INPUT_SIDE, INPUT_SIDE, 3)
