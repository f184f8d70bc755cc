"""Liveness on real and crafted videos: the sample passes; a still photo, a clip without a face,
with two people, with a change of person or too short fails with its reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from domain.enums import LivenessAction
from domain.models import ActionWindow
from domain.reasons import ReasonCode
from tests.vision.support import SAMPLES, face_rgb, hand_held, write_video
from vision.faces import FaceEngine
from vision.liveness import LivenessReport, assess_liveness, best_face_frame
from vision.video import VideoLimits, sample_video

SIZE = (480, 360)


def liveness(data: bytes, engine: FaceEngine, **kwargs) -> LivenessReport:
    return assess_liveness(sample_video(data, VideoLimits()), engine, **kwargs)


@pytest.fixture(scope="module")
def sample_report(face_engine: FaceEngine) -> LivenessReport:
    data = (SAMPLES / "approve" / "liveness.mp4").read_bytes()
    windows = [
        ActionWindow(action=LivenessAction.BLINK, start_s=0.0, end_s=1.5),
        ActionWindow(action=LivenessAction.OPEN_MOUTH, start_s=1.5, end_s=3.0),
    ]
    progress: list[int] = []
    report = liveness(data, face_engine, windows=windows, progress=progress.append)
    assert progress == list(range(1, report.frames_sampled + 1))
    return report


def test_sample_video_passes(sample_report: LivenessReport) -> None:
    assert sample_report.passed, sample_report.detail
    assert sample_report.reasons == []
    assert sample_report.frames_sampled == 15
    assert sample_report.frames_with_one_face == 15
    assert sample_report.frames_with_several_faces == 0
    assert sample_report.motion > 1.5
    assert sample_report.max_identity_distance is not None
    assert sample_report.max_identity_distance < 0.3


def test_sample_video_shows_no_challenge_action(sample_report: LivenessReport) -> None:
    # The sample moves a photograph: its eyes never close and its mouth never opens.
    assert sample_report.actions_seen == []


def test_best_frame_is_the_same_whichever_function_picks_it(
    sample_report: LivenessReport, face_engine: FaceEngine
) -> None:
    data = (SAMPLES / "approve" / "liveness.mp4").read_bytes()
    best = best_face_frame(sample_video(data, VideoLimits()), face_engine)
    assert best is not None and sample_report.best is not None
    assert best.t_s == sample_report.best.t_s
    assert np.array_equal(best.encoding, sample_report.best.encoding)


def test_still_photo_replayed_as_video_fails(tmp_path: Path, face_engine: FaceEngine) -> None:
    still = hand_held(face_rgb("examples_obama.jpg"), 1, SIZE)[0]
    data = write_video(tmp_path / "still.mp4", [still] * 30)
    report = liveness(data, face_engine)
    assert not report.passed
    assert report.reasons == [ReasonCode.I007_LIVENESS_FAILED]
    assert "no motion" in report.detail
    # the face itself is fine: only the missing motion gives the replay away
    assert report.frames_with_one_face == report.frames_sampled == 10


def test_moving_video_without_a_face_fails(tmp_path: Path, face_engine: FaceEngine) -> None:
    card_back = np.asarray(Image.open(SAMPLES / "approve" / "id_back.jpg").convert("RGB"))
    data = write_video(tmp_path / "noface.mp4", hand_held(card_back, 30, SIZE))
    report = liveness(data, face_engine)
    assert not report.passed
    assert report.reasons == [ReasonCode.I004_NO_FACE]
    assert report.frames_with_one_face == 0 and report.best is None


def test_two_people_in_the_video_fail(tmp_path: Path, face_engine: FaceEngine) -> None:
    frames = hand_held(face_rgb("examples_two_people.jpg"), 30, (640, 376))
    report = liveness(write_video(tmp_path / "two.mp4", frames), face_engine)
    assert not report.passed
    assert ReasonCode.I005_MULTIPLE_FACES in report.reasons


def test_change_of_person_fails(tmp_path: Path, face_engine: FaceEngine) -> None:
    first = hand_held(face_rgb("examples_obama.jpg"), 15, SIZE)
    second = hand_held(face_rgb("examples_knn_examples_train_biden_biden2.jpg"), 15, SIZE)
    report = liveness(write_video(tmp_path / "swap.mp4", first + second), face_engine)
    assert not report.passed
    assert report.reasons == [ReasonCode.I007_LIVENESS_FAILED]
    assert "face changes" in report.detail
    assert report.max_identity_distance is not None and report.max_identity_distance >= 0.6


def test_too_short_video_fails(tmp_path: Path, face_engine: FaceEngine) -> None:
    frames = hand_held(face_rgb("examples_obama.jpg"), 9, SIZE)
    report = liveness(write_video(tmp_path / "short.mp4", frames), face_engine)
    assert not report.passed
    assert report.reasons == [ReasonCode.I007_LIVENESS_FAILED]
    assert "too short" in report.detail


def test_no_frames_at_all_is_unreadable(face_engine: FaceEngine) -> None:
    report = assess_liveness([], face_engine)
    assert report.reasons == [ReasonCode.I006_IMAGE_UNREADABLE]
    assert not report.passed
