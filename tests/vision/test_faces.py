"""Face detection, the one-face gate and encodings on real photos of the same and different
people (assets/faces)."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest

from domain.reasons import ReasonCode
from tests.vision.support import SAMPLES, face_bytes, face_rgb, jpeg
from vision.faces import FaceModels, FaceRejected, face_distance, probe_face, single_face
from vision.images import (
    DETECT_LONG_SIDE,
    ImageLimits,
    VisionError,
    decode_image,
    fit_long_side,
)
from vision.match import match_selfie

THRESHOLD = 0.6

SAME = [
    ("examples_obama.jpg", "examples_obama2.jpg"),
    ("examples_knn_examples_test_obama1.jpg", "examples_obama-720p.jpg"),
    ("examples_biden.jpg", "examples_knn_examples_train_biden_biden2.jpg"),
    (
        "examples_knn_examples_train_kit_harington_john1.jpeg",
        "examples_knn_examples_train_kit_harington_john2.jpeg",
    ),
    (
        "examples_knn_examples_train_rose_leslie_img1.jpg",
        "examples_knn_examples_train_rose_leslie_img2.jpg",
    ),
    ("lennon-1.jpg", "lennon-2.jpg"),
    ("clapton-1.jpg", "clapton-2.jpg"),
    ("examples_alex-lacamoire.png", "examples_knn_examples_train_alex_lacamoire_img1.jpg"),
]
DIFFERENT = [
    ("examples_obama.jpg", "examples_biden.jpg"),
    ("examples_knn_examples_test_obama1.jpg", "examples_alex-lacamoire.png"),
    (
        "examples_knn_examples_train_kit_harington_john1.jpeg",
        "examples_knn_examples_train_rose_leslie_img1.jpg",
    ),
    ("lennon-1.jpg", "clapton-1.jpg"),
    ("adams.jpg", "carell.jpg"),
    ("examples_lin-manuel-miranda.png", "examples_knn_examples_train_alex_lacamoire_img1.jpg"),
]


def detection_image(name: str) -> np.ndarray:
    return decode_image(face_bytes(name), ImageLimits(), max_side=DETECT_LONG_SIDE)


@pytest.fixture(scope="module")
def encodings(face_models: FaceModels) -> dict[str, np.ndarray]:
    names = {name for pair in SAME + DIFFERENT for name in pair}
    return {
        name: probe_face(face_models, detection_image(name), what=name).encoding
        for name in sorted(names)
    }


@pytest.mark.parametrize(("a", "b"), SAME, ids=[a.split(".")[0] for a, _ in SAME])
def test_same_person_matches(encodings: dict[str, np.ndarray], a: str, b: str) -> None:
    assert face_distance(encodings[a], encodings[b]) < THRESHOLD


@pytest.mark.parametrize(("a", "b"), DIFFERENT, ids=[a.split(".")[0] for a, _ in DIFFERENT])
def test_different_people_do_not_match(encodings: dict[str, np.ndarray], a: str, b: str) -> None:
    assert face_distance(encodings[a], encodings[b]) >= THRESHOLD


def test_encoding_is_128_numbers_and_deterministic(face_models: FaceModels) -> None:
    rgb = detection_image("examples_obama2.jpg")
    first = probe_face(face_models, rgb, what="photo")
    again = probe_face(face_models, rgb, what="photo")
    assert first.encoding.shape == (128,)
    assert face_distance(first.encoding, again.encoding) == 0.0


def test_picture_without_face_is_refused(face_models: FaceModels) -> None:
    back = (SAMPLES / "approve" / "id_back.jpg").read_bytes()
    rgb = decode_image(back, ImageLimits(), max_side=DETECT_LONG_SIDE)
    with pytest.raises(FaceRejected) as caught:
        probe_face(face_models, rgb, what="selfie")
    assert caught.value.reason == ReasonCode.I004_NO_FACE


@pytest.mark.parametrize("name", ["examples_two_people.jpg", "longoria-cooper.jpg"])
def test_several_faces_are_refused(face_models: FaceModels, name: str) -> None:
    with pytest.raises(FaceRejected) as caught:
        probe_face(face_models, detection_image(name), what="selfie")
    assert caught.value.reason == ReasonCode.I005_MULTIPLE_FACES


def test_face_too_small_is_refused_for_quality(face_models: FaceModels) -> None:
    tiny = fit_long_side(face_rgb("examples_obama.jpg"), 200)
    boxes = face_models.detect(tiny)
    assert len(boxes) == 1, "HOG still finds the face; the size gate is what refuses it"
    with pytest.raises(FaceRejected) as caught:
        single_face(boxes)
    assert caught.value.reason == ReasonCode.I009_IMAGE_QUALITY


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        ("blur", ReasonCode.I015_IMAGE_BLURRED),
        ("dark", ReasonCode.I014_IMAGE_TOO_DARK),
        ("bright", ReasonCode.I009_IMAGE_QUALITY),
    ],
)
def test_blurred_dark_or_washed_out_face_is_refused_with_its_reason(
    face_models: FaceModels, spoil: str, reason: ReasonCode
) -> None:
    rgb = detection_image("examples_obama.jpg")
    if spoil == "blur":
        spoilt = cv2.GaussianBlur(rgb, (0, 0), 3)
    elif spoil == "dark":
        spoilt = (rgb * 0.25).astype(np.uint8)
    else:
        spoilt = np.clip(rgb.astype(np.float32) * 2.2 + 60, 0, 255).astype(np.uint8)
    rgb = decode_image(jpeg(spoilt), ImageLimits())
    with pytest.raises(VisionError) as caught:
        probe_face(face_models, rgb, what="selfie")
    assert caught.value.reason == reason


def test_detection_from_two_threads_is_safe_and_identical(face_models: FaceModels) -> None:
    """dlib's detector runs without the GIL: one shared detector crashes the process here."""
    images = [detection_image(n) for n in ("examples_obama.jpg", "examples_two_people.jpg")]
    expected = [face_models.detect(image) for image in images]
    results: dict[int, list] = {}

    def work(k: int) -> None:
        results[k] = [face_models.detect(images[k % 2]) for _ in range(3)]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for k, found in results.items():
        assert found == [expected[k % 2]] * 3


def test_match_report_names_every_failed_comparison(encodings: dict[str, np.ndarray]) -> None:
    selfie = encodings["examples_knn_examples_test_obama1.jpg"]
    report = match_selfie(
        selfie,
        encodings["examples_obama.jpg"],
        reference=encodings["examples_biden.jpg"],
        video=encodings["examples_obama2.jpg"],
        threshold=THRESHOLD,
    )
    assert report.mismatched == ["reference"]
    assert not report.passed
    assert report.worst_distance == report.distance_reference
    alone = match_selfie(
        selfie, encodings["examples_obama.jpg"], reference=None, video=None, threshold=THRESHOLD
    )
    assert alone.passed and alone.distance_reference is None and alone.distance_video is None
