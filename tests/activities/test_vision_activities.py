"""The vision activities under ActivityEnvironment, reading the committed samples from a local
blob store: bad input becomes a result with a reason code, a missing document a non-retryable
error."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import cv2
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.vision import VisionActivities
from config.settings import Settings
from domain.enums import DocumentKind, LivenessAction
from domain.models import (
    ActionWindow,
    DocumentRef,
    FaceMatchInput,
    IdCardInput,
    LivenessChallenge,
    LivenessInput,
)
from domain.naming import ErrorType
from domain.reasons import ReasonCode
from store.blobs import LocalBlobStore
from vision.faces import FaceEngine

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
FACES = ROOT / "assets" / "faces"
REFERENCE = {
    "approve": "examples_obama2.jpg",
    "review": "examples_knn_examples_train_alex_lacamoire_img1.jpg",
}
CONTENT_TYPES = {".jpg": "image/jpeg", ".png": "image/png", ".mp4": "video/mp4"}
CHALLENGE = LivenessChallenge(
    nonce="n-1",
    windows=[
        ActionWindow(action=LivenessAction.BLINK, start_s=0.0, end_s=1.5),
        ActionWindow(action=LivenessAction.OPEN_MOUTH, start_s=1.5, end_s=3.0),
    ],
)


@pytest.fixture(scope="module")
def face_engine() -> FaceEngine:
    return FaceEngine.shared()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> LocalBlobStore:
    return LocalBlobStore(tmp_path_factory.mktemp("vision-blobs"))


def put(
    store: LocalBlobStore, kind: DocumentKind, data: bytes, suffix: str = ".jpg"
) -> DocumentRef:
    key, digest = store.put(f"app-1/{kind}", data)
    return DocumentRef(
        kind=kind, blob_key=key, sha256=digest, size=len(data), content_type=CONTENT_TYPES[suffix]
    )


def sample(store: LocalBlobStore, persona: str, kind: DocumentKind) -> DocumentRef:
    name = {
        "id_front": "id_front.jpg",
        "id_back": "id_back.jpg",
        "selfie": "selfie.jpg",
        "liveness_video": "liveness.mp4",
    }[kind.value]
    return put(store, kind, (SAMPLES / persona / name).read_bytes(), Path(name).suffix)


def reference(store: LocalBlobStore, persona: str) -> DocumentRef:
    data = (FACES / REFERENCE[persona]).read_bytes()
    return put(store, DocumentKind.REFERENCE_PORTRAIT, data)


@pytest.fixture
def activities(store: LocalBlobStore, settings: Settings, face_engine: FaceEngine):
    return VisionActivities(store, settings, face_engine)


def card_input(front: DocumentRef, back: DocumentRef) -> IdCardInput:
    return IdCardInput(
        application_id="app-1", front=front, back=back, application_date=date(2026, 11, 23)
    )


def match_input(store: LocalBlobStore, persona: str, **overrides) -> FaceMatchInput:
    fields = {
        "application_id": "app-1",
        "selfie": sample(store, persona, DocumentKind.SELFIE),
        "id_front": sample(store, persona, DocumentKind.ID_FRONT),
        "reference_portrait": reference(store, persona),
        "video": sample(store, persona, DocumentKind.LIVENESS_VIDEO),
        "threshold": 0.6,
    }
    return FaceMatchInput(**{**fields, **overrides})


@pytest.mark.parametrize("persona", ["approve", "review"])
def test_sample_id_cards_pass(activities, store, persona: str) -> None:
    result = ActivityEnvironment().run(
        activities.inspect_id_card,
        card_input(
            sample(store, persona, DocumentKind.ID_FRONT),
            sample(store, persona, DocumentKind.ID_BACK),
        ),
    )
    assert result.passed, result.detail
    assert result.portrait_found and result.reasons == [] and result.fields is None


def test_card_front_without_a_portrait_is_refused(activities, store) -> None:
    back = sample(store, "approve", DocumentKind.ID_BACK)
    other_back = put(
        store, DocumentKind.ID_FRONT, (SAMPLES / "review" / "id_back.jpg").read_bytes()
    )
    result = ActivityEnvironment().run(activities.inspect_id_card, card_input(other_back, back))
    assert not result.passed and not result.portrait_found
    assert result.reasons == [ReasonCode.I004_NO_FACE]


def test_unreadable_and_blurred_card_sides_are_results_not_errors(activities, store) -> None:
    front = put(store, DocumentKind.ID_FRONT, b"this is not a picture of a card")
    back_rgb = cv2.imread(str(SAMPLES / "approve" / "id_back.jpg"))
    _, blurred = cv2.imencode(".jpg", cv2.GaussianBlur(back_rgb, (0, 0), 5))
    back = put(store, DocumentKind.ID_BACK, blurred.tobytes())
    result = ActivityEnvironment().run(activities.inspect_id_card, card_input(front, back))
    assert not result.passed
    assert result.reasons == [ReasonCode.I006_IMAGE_UNREADABLE, ReasonCode.I009_IMAGE_QUALITY]
    assert "front:" in result.detail and "back:" in result.detail


def test_same_image_for_both_sides_is_refused(activities, store) -> None:
    front = sample(store, "approve", DocumentKind.ID_FRONT)
    result = ActivityEnvironment().run(activities.inspect_id_card, card_input(front, front))
    assert not result.passed
    assert ReasonCode.I006_IMAGE_UNREADABLE in result.reasons


def test_sample_liveness_passes_and_match_reuses_its_best_frame(
    activities, store, settings, face_engine
) -> None:
    env = ActivityEnvironment()
    beats: list[tuple] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    video = sample(store, "review", DocumentKind.LIVENESS_VIDEO)
    live = env.run(
        activities.check_liveness,
        LivenessInput(application_id="app-1", video=video, challenge=CHALLENGE),
    )
    assert live.passed, live.detail
    assert (live.frames_sampled, live.frames_with_one_face) == (15, 15)
    assert live.actions_seen == [] and live.spoof_score is None
    assert len(beats) == 15
    assert activities.best_frames.get(video.sha256)[0], "liveness left its best frame for the match"

    cached = env.run(activities.match_faces, match_input(store, "review"))
    fresh = VisionActivities(store, settings, face_engine)
    computed = ActivityEnvironment().run(fresh.match_faces, match_input(store, "review"))
    assert cached == computed
    assert cached.passed, cached.detail
    for distance in (cached.distance_card, cached.distance_reference, cached.distance_video):
        assert distance is not None and distance < 0.6


def test_garbage_video_is_a_liveness_result(activities, store) -> None:
    video = put(store, DocumentKind.LIVENESS_VIDEO, b"\x00\x00\x00\x18ftypmp42" + bytes(500))
    result = ActivityEnvironment().run(
        activities.check_liveness,
        LivenessInput(application_id="app-1", video=video, challenge=CHALLENGE),
    )
    assert not result.passed
    assert result.reasons == [ReasonCode.I006_IMAGE_UNREADABLE]


def test_approve_persona_matches_without_a_prior_liveness_run(activities, store) -> None:
    result = ActivityEnvironment().run(activities.match_faces, match_input(store, "approve"))
    assert result.passed, result.detail
    assert result.reasons == []
    assert result.distance_card < 0.6
    assert result.distance_reference < 0.6
    assert result.distance_video < 0.6


def test_selfie_of_someone_else_is_a_face_mismatch(activities, store) -> None:
    other = sample(store, "review", DocumentKind.SELFIE)
    result = ActivityEnvironment().run(
        activities.match_faces,
        match_input(store, "approve", selfie=other, reference_portrait=None, video=None),
    )
    assert not result.passed
    assert result.reasons == [ReasonCode.I003_FACE_MISMATCH]
    assert result.distance_card >= 0.6
    assert result.distance_reference is None and result.distance_video is None


def test_threshold_comes_from_the_input(activities, store) -> None:
    strict = match_input(store, "review", video=None, threshold=0.3)
    result = ActivityEnvironment().run(activities.match_faces, strict)
    assert not result.passed
    assert result.reasons == [ReasonCode.I003_FACE_MISMATCH]
    assert "card" in result.detail and "reference" in result.detail


def test_selfie_without_a_face_is_reported_with_its_reason(activities, store) -> None:
    no_face = sample(store, "approve", DocumentKind.ID_BACK)
    result = ActivityEnvironment().run(
        activities.match_faces, match_input(store, "approve", selfie=no_face, video=None)
    )
    assert not result.passed
    assert result.reasons == [ReasonCode.I004_NO_FACE]
    assert result.distance_card is None


def test_missing_or_altered_document_is_a_non_retryable_error(activities, store) -> None:
    front = sample(store, "approve", DocumentKind.ID_FRONT)
    back = sample(store, "approve", DocumentKind.ID_BACK)
    missing = front.model_copy(update={"blob_key": "app-1/id_front/" + "0" * 64})
    altered = front.model_copy(update={"sha256": hashlib.sha256(b"other").hexdigest()})
    for bad in (missing, altered):
        with pytest.raises(ApplicationError) as caught:
            ActivityEnvironment().run(activities.inspect_id_card, card_input(bad, back))
        assert caught.value.non_retryable
        assert caught.value.type == ErrorType.BAD_DOCUMENT
