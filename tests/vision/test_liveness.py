"""Liveness on challenge videos synthesised from real photos (synthetic.challenge_video): the
challenged sequence passes; the same video against another order, a still photo, the anti-spoofing
samples, no face, two people or a change of person fail with the reason to act on."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from domain.enums import LivenessAction as A
from domain.identity import ActionWindow
from domain.reasons import ReasonCode
from synthetic.challenge_video import synthesize_challenge_video
from synthetic.liveness_clips import Filming, challenge_clip, photo_clip
from tests.vision.support import SAMPLES, face_bytes, face_rgb, hand_held, write_video
from vision.actions import blink_intervals
from vision.antispoof import MODELS, SpoofDetector
from vision.faces import FaceModels
from vision.liveness import LivenessPolicy, LivenessReport, assess_liveness, best_face_frame
from vision.video import VideoLimits, sample_video

SIZE = (480, 360)
CHALLENGE = [A.SHAKE_HEAD, A.OPEN_MOUTH, A.BLINK]


def windows(*actions: A) -> list[ActionWindow]:
    return [
        ActionWindow(action=a, start_s=2.5 * n, end_s=2.5 * (n + 1)) for n, a in enumerate(actions)
    ]


@pytest.fixture(scope="module")
def spoof() -> SpoofDetector:
    return SpoofDetector.shared()


def liveness(
    data: bytes, faces: FaceModels, spoof: SpoofDetector | None = None, **kwargs
) -> LivenessReport:
    dense = blink_intervals(kwargs.get("windows", ()))
    frames = sample_video(data, VideoLimits(), dense=dense)
    return assess_liveness(frames, faces, spoof=spoof, **kwargs)


@pytest.fixture(scope="module")
def challenge_video(face_models: FaceModels) -> bytes:
    return synthesize_challenge_video(
        face_bytes("examples_obama-480p.jpg"), windows(*CHALLENGE), seed=7
    )


@pytest.fixture(scope="module")
def report(challenge_video: bytes, face_models: FaceModels, spoof: SpoofDetector) -> LivenessReport:
    progress: list[int] = []
    result = liveness(
        challenge_video, face_models, spoof, windows=windows(*CHALLENGE), progress=progress.append
    )
    assert progress == list(range(1, result.frames_sampled + 1))
    return result


def test_the_challenged_sequence_passes(report: LivenessReport) -> None:
    assert report.passed, report.detail
    assert report.reasons == []
    assert report.actions_seen == CHALLENGE
    assert report.frames_sampled == report.frames_with_one_face == 80  # 8 s at 10 per second
    assert report.max_identity_distance is not None and report.max_identity_distance < 0.35
    assert report.live_score is not None and report.live_score > 0.9
    # the face is tracked between detections, not detected in every frame
    assert report.detections <= report.frames_sampled // 4


def test_the_best_frame_is_a_neutral_face(report: LivenessReport) -> None:
    assert report.best is not None
    # away from the head shake (0.2-2.3 s) and the open mouth (2.7-4.8 s)
    assert not any(w.start_s <= report.best.t_s <= w.end_s for w in windows(*CHALLENGE)[:2])


def test_the_best_frame_reuses_an_encoding_the_identity_check_made(
    challenge_video: bytes, face_models: FaceModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The face encoder is the costliest call: a frame is never encoded twice."""
    encoded: list[int] = []
    encode = face_models.encode

    def counting(rgb, box):
        encoded.append(id(rgb))
        return encode(rgb, box)

    monkeypatch.setattr(face_models, "encode", counting)
    # every detection encoded, so the best frame (a detection frame) already is
    result = liveness(
        challenge_video,
        face_models,
        windows=windows(*CHALLENGE),
        policy=LivenessPolicy(encode_every=1),
    )
    assert result.best is not None
    assert len(encoded) == result.detections
    assert len(set(encoded)) == len(encoded)


@pytest.mark.parametrize(
    "other",
    [
        [A.OPEN_MOUTH, A.SHAKE_HEAD, A.BLINK],
        [A.BLINK, A.SHAKE_HEAD, A.OPEN_MOUTH],
        [A.SHAKE_HEAD, A.OPEN_MOUTH, A.NOD],
    ],
)
def test_the_same_video_against_another_challenge_fails(
    challenge_video, face_models, other
) -> None:
    result = liveness(challenge_video, face_models, windows=windows(*other))
    assert not result.passed
    assert result.reasons == [ReasonCode.I012_LIVENESS_ACTIONS]


def test_a_still_photo_fails(tmp_path: Path, face_models: FaceModels, spoof: SpoofDetector) -> None:
    still = hand_held(face_rgb("examples_obama.jpg"), 1, SIZE)[0]
    data = write_video(tmp_path / "still.mp4", [still] * 90)
    result = liveness(data, face_models, spoof, windows=windows(*CHALLENGE))
    assert not result.passed
    assert result.reasons == [ReasonCode.I007_LIVENESS_FAILED, ReasonCode.I012_LIVENESS_ACTIONS]
    assert "a still image" in result.detail
    assert result.actions_seen == []


@pytest.mark.parametrize("sample", ["F1", "F2"])
def test_the_spoof_samples_fail_even_when_they_perform_the_challenge(
    face_models, spoof, sample
) -> None:
    photo = (MODELS / f"antispoof_sample_image_{sample}.jpg").read_bytes()
    data = synthesize_challenge_video(photo, windows(A.OPEN_MOUTH, A.NOD), seed=3)
    result = liveness(data, face_models, spoof, windows=windows(A.OPEN_MOUTH, A.NOD))
    assert ReasonCode.I013_SPOOF_SUSPECTED in result.reasons
    assert result.live_score is not None and result.live_score < 0.5


def test_the_live_sample_performing_the_challenge_passes(face_models, spoof) -> None:
    photo = (MODELS / "antispoof_sample_image_T1.jpg").read_bytes()
    data = synthesize_challenge_video(photo, windows(A.OPEN_MOUTH, A.NOD), seed=3)
    result = liveness(data, face_models, spoof, windows=windows(A.OPEN_MOUTH, A.NOD))
    assert result.passed, result.detail


def test_a_moving_video_without_a_face_fails(tmp_path: Path, face_models: FaceModels) -> None:
    card_back = np.asarray(Image.open(SAMPLES / "approve" / "id_back.jpg").convert("RGB"))
    data = write_video(tmp_path / "noface.mp4", hand_held(card_back, 30, SIZE))
    result = liveness(data, face_models, windows=windows(A.BLINK))
    assert not result.passed
    assert result.reasons == [ReasonCode.I004_NO_FACE]
    assert result.frames_with_one_face == 0 and result.best is None


def test_two_people_in_the_video_fail(tmp_path: Path, face_models: FaceModels) -> None:
    frames = hand_held(face_rgb("examples_two_people.jpg"), 30, (640, 376))
    result = liveness(write_video(tmp_path / "two.mp4", frames), face_models)
    assert not result.passed
    assert ReasonCode.I005_MULTIPLE_FACES in result.reasons


def test_a_change_of_person_fails(tmp_path: Path, face_models: FaceModels) -> None:
    first = hand_held(face_rgb("examples_obama.jpg"), 24, SIZE)
    second = hand_held(face_rgb("examples_knn_examples_train_biden_biden2.jpg"), 24, SIZE)
    result = liveness(write_video(tmp_path / "swap.mp4", first + second), face_models)
    assert not result.passed
    assert ReasonCode.I007_LIVENESS_FAILED in result.reasons
    assert "face changes" in result.detail


def test_a_too_short_video_fails(tmp_path: Path, face_models: FaceModels) -> None:
    frames = hand_held(face_rgb("examples_obama.jpg"), 12, SIZE)
    result = liveness(write_video(tmp_path / "short.mp4", frames), face_models)
    assert ReasonCode.I007_LIVENESS_FAILED in result.reasons
    assert "too short" in result.detail


def test_no_frames_at_all_is_unreadable(face_models: FaceModels) -> None:
    result = assess_liveness([], face_models)
    assert result.reasons == [ReasonCode.I006_IMAGE_UNREADABLE] and not result.passed


def test_the_committed_sample_performs_its_recorded_challenge(face_models, spoof) -> None:
    manifest = json.loads((SAMPLES / "manifest.json").read_text())["approve"]
    recorded = [ActionWindow(**w) for w in manifest["liveness_challenge"]]
    data = (SAMPLES / "approve" / "liveness.mp4").read_bytes()
    result = liveness(data, face_models, spoof, windows=recorded)
    assert result.passed, result.detail
    best = best_face_frame(sample_video(data, VideoLimits()), face_models)
    assert best is not None and result.best is not None
    assert np.array_equal(best.encoding, result.best.encoding)


@pytest.mark.slow
def test_a_propped_phone_clip_passes(face_models: FaceModels, spoof: SpoofDetector) -> None:
    """A live person filmed by a phone standing on a desk: no camera movement, the person
    still but for the challenged actions (and a little sway), sensor noise. Made by the
    held-out synthesis (synthetic.liveness_clips), not the one the thresholds were set on."""
    challenge = windows(A.SHAKE_HEAD, A.OPEN_MOUTH)
    filming = Filming(size=(480, 640), fps=15.0, camera_moves=False, noise=2.5, face_share=0.42)
    data = challenge_clip(face_bytes("examples_obama-480p.jpg"), challenge, filming, seed=4)
    result = liveness(data, face_models, spoof, windows=challenge)
    assert result.passed, result.detail
    assert result.face_change.shape > 0.03


@pytest.mark.slow
@pytest.mark.parametrize("tilted", [False, True])
def test_a_photo_filmed_still_or_tilted_by_hand_fails(face_models, spoof, tilted) -> None:
    """The photo as a flat picture under the same propped camera: still, or held by a hand
    that tilts and turns it in depth (a print waved to fake a nod or a shake)."""
    challenge = windows(A.NOD, A.SHAKE_HEAD)
    filming = Filming(size=(480, 640), fps=15.0, camera_moves=tilted, noise=2.5, face_share=0.42)
    photo = face_bytes("examples_obama-480p.jpg")
    data = photo_clip(photo, filming, 5.5, seed=2, tilted=tilted)
    result = liveness(data, face_models, spoof, windows=challenge)
    assert not result.passed
    assert ReasonCode.I007_LIVENESS_FAILED in result.reasons
    assert "a still image" in result.detail
