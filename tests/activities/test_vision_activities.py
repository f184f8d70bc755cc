"""The vision activities under ActivityEnvironment, reading the committed samples and generated
card photos from a local blob store: fields read and checked, every bad input a result with a
reason code, a missing document a non-retryable error."""

from __future__ import annotations

import hashlib
import json
import os
import struct
import zlib
from dataclasses import replace
from datetime import date
from pathlib import Path

import cv2
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.vision import VisionActivities
from config.settings import Settings
from domain.enums import DocumentKind, LivenessAction
from domain.identity import (
    ActionWindow,
    DocumentRef,
    FaceEncodeInput,
    FaceMatchInput,
    IdCardInput,
    LivenessChallenge,
    LivenessInput,
)
from domain.naming import ErrorType
from domain.reasons import ReasonCode
from store.blob_crypto import EncryptedBlobStore
from store.blobs import LocalBlobStore
from synthetic.id_cards import card_back, card_front, portrait
from synthetic.make_samples import PERSONAS
from synthetic.photo_scenes import Distortion, photograph
from vision.faces import FaceModels

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
FACES = ROOT / "assets" / "faces"
MANIFEST = json.loads((SAMPLES / "manifest.json").read_text())
REFERENCE = {p: MANIFEST[p]["photos"]["reference_portrait"] for p in MANIFEST}
CONTENT_TYPES = {".jpg": "image/jpeg", ".png": "image/png", ".mp4": "video/mp4"}
TODAY = date(2026, 11, 23)
RECORDED = LivenessChallenge(
    nonce="n-1", windows=[ActionWindow(**w) for w in MANIFEST["approve"]["liveness_challenge"]]
)


@pytest.fixture(scope="module")
def face_models() -> FaceModels:
    return FaceModels.shared()


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
    name = Path(MANIFEST[persona]["files"][kind.value])
    return put(store, kind, (SAMPLES / name).read_bytes(), name.suffix)


def reference(store: LocalBlobStore, persona: str) -> DocumentRef:
    return put(store, DocumentKind.REFERENCE_PORTRAIT, (FACES / REFERENCE[persona]).read_bytes())


@pytest.fixture
def activities(store: LocalBlobStore, settings: Settings, face_models: FaceModels):
    return VisionActivities(store, settings, face_models)


def card_input(front: DocumentRef, back: DocumentRef, **claims) -> IdCardInput:
    return IdCardInput(
        application_id="app-1", front=front, back=back, application_date=TODAY, **claims
    )


def inspect(activities, front, back, **claims):
    return ActivityEnvironment().run(activities.inspect_id_card, card_input(front, back, **claims))


def read(activities, front, back, **claims):
    """The result with the fields read, which the activity keeps out of the workflow's history."""
    return ActivityEnvironment().run(activities.read_id_card, card_input(front, back, **claims))


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
def test_sample_id_cards_are_read_and_pass(activities, store, persona: str) -> None:
    entry = MANIFEST[persona]
    reading = read(
        activities,
        sample(store, persona, DocumentKind.ID_FRONT),
        sample(store, persona, DocumentKind.ID_BACK),
        claimed_name=entry["name"],
        claimed_id_number=entry["id_number"],
    )
    result, fields = reading.result, reading.fields
    assert result.passed, result.detail
    assert result.portrait_found and result.reasons == []
    assert fields is not None
    values = fields.model_dump(mode="json", exclude={"confidence", "long_term"})
    assert values == {k: entry[k] for k in values}
    assert set(fields.confidence) >= {"name", "id_number", "valid_until"}
    # 汉 read as 漢 and put right counts as a repair (vision.idfields.REPAIRED_CONFIDENCE)
    assert min(fields.confidence.values()) >= 0.6


def test_entries_that_differ_from_the_card_are_i010(activities, store) -> None:
    result = inspect(
        activities,
        sample(store, "approve", DocumentKind.ID_FRONT),
        sample(store, "approve", DocumentKind.ID_BACK),
        claimed_name="欧阳朋",
        claimed_id_number=MANIFEST["review"]["id_number"],
    )
    assert not result.passed
    assert result.reasons == [ReasonCode.I010_ID_CARD_MISMATCH]
    assert "欧阳" not in result.detail and "110101" not in result.detail  # no PII in the detail


@pytest.fixture(scope="module")
def photographed_card(store: LocalBlobStore):
    """A card of the approve persona whose back says it expired, photographed turned over."""
    holder = replace(
        PERSONAS[0].holder, valid_from=date(2004, 6, 15), valid_until=date(2024, 6, 15)
    )
    front = photograph(
        card_front(holder, portrait("examples_obama.jpg"), 5),
        Distortion(angle=163, perspective=0.04, light=0.6, seed=5),
    )
    back = photograph(card_back(holder, 5), Distortion(angle=71, jpeg_quality=60, seed=6))
    return holder, put(store, DocumentKind.ID_FRONT, front), put(store, DocumentKind.ID_BACK, back)


def test_an_expired_card_photographed_upside_down_is_read_and_refused(
    activities, photographed_card
) -> None:
    holder, front, back = photographed_card
    reading = read(
        activities, front, back, claimed_name=holder.name, claimed_id_number=holder.id_number
    )
    result = reading.result
    assert result.reasons == [ReasonCode.I008_ID_EXPIRED]
    assert reading.fields is not None and reading.fields.valid_until == date(2024, 6, 15)
    assert result.portrait_found


def test_its_portrait_matches_the_holder(activities, store, photographed_card) -> None:
    _, front, _ = photographed_card
    result = ActivityEnvironment().run(
        activities.match_faces, match_input(store, "approve", id_front=front, video=None)
    )
    assert result.passed, result.detail
    assert result.distance_card is not None and result.distance_card < 0.5


def test_unreadable_and_blurred_card_sides_are_results_not_errors(activities, store) -> None:
    front = put(store, DocumentKind.ID_FRONT, b"this is not a picture of a card")
    back_bgr = cv2.imread(str(SAMPLES / "approve" / "id_back.jpg"))
    _, blurred = cv2.imencode(".jpg", cv2.GaussianBlur(back_bgr, (0, 0), 5))
    back = put(store, DocumentKind.ID_BACK, blurred.tobytes())
    reading = read(activities, front, back)
    result = reading.result
    assert not result.passed and reading.fields is None
    assert result.reasons == [ReasonCode.I006_IMAGE_UNREADABLE, ReasonCode.I015_IMAGE_BLURRED]
    assert "front:" in result.detail and "back:" in result.detail


def test_the_back_uploaded_twice_names_the_missing_front(activities, store) -> None:
    back = sample(store, "approve", DocumentKind.ID_BACK)
    other_back = put(
        store, DocumentKind.ID_FRONT, (SAMPLES / "review" / "id_back.jpg").read_bytes()
    )
    result = inspect(activities, other_back, back)
    assert not result.passed and not result.portrait_found
    assert set(result.reasons) == {ReasonCode.I011_ID_CARD_UNREADABLE, ReasonCode.I004_NO_FACE}
    assert "shows the back" in result.detail


def test_same_image_for_both_sides_is_refused(activities, store) -> None:
    front = sample(store, "approve", DocumentKind.ID_FRONT)
    result = inspect(activities, front, front)
    assert ReasonCode.I006_IMAGE_UNREADABLE in result.reasons


def png_bomb(side: int) -> bytes:
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(4096)))


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7 not an image",
        (FACES / "examples_obama.jpg").read_bytes()[:30_000],
        png_bomb(20_000),
    ],
    ids=["non-image", "truncated-jpeg", "20000x20000-bomb"],
)
def test_bad_images_are_rejections_in_every_activity(activities, store, data: bytes) -> None:
    bad = put(store, DocumentKind.SELFIE, data)
    card = inspect(activities, bad, sample(store, "approve", DocumentKind.ID_BACK))
    assert card.reasons == [ReasonCode.I006_IMAGE_UNREADABLE]
    match = ActivityEnvironment().run(
        activities.match_faces, match_input(store, "approve", selfie=bad)
    )
    assert ReasonCode.I006_IMAGE_UNREADABLE in match.reasons and not match.passed


def liveness(activities, video: DocumentRef, challenge: LivenessChallenge = RECORDED, env=None):
    return (env or ActivityEnvironment()).run(
        activities.check_liveness,
        LivenessInput(application_id="app-1", video=video, challenge=challenge),
    )


def test_sample_liveness_passes_its_challenge_and_match_reuses_its_best_frame(
    activities, store, settings, face_models
) -> None:
    env = ActivityEnvironment()
    beats: list[tuple] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    video = sample(store, "approve", DocumentKind.LIVENESS_VIDEO)
    live = liveness(activities, video, env=env)
    assert live.passed, live.detail
    assert live.actions_seen == [w.action for w in RECORDED.windows]
    assert live.spoof_score is not None and live.spoof_score < 0.2
    assert len(beats) == live.frames_sampled == 80
    assert activities.best_frames.get(video.sha256)[0], "liveness left its best frame for the match"

    cached = env.run(activities.match_faces, match_input(store, "approve"))
    fresh = VisionActivities(store, settings, face_models)
    computed = ActivityEnvironment().run(fresh.match_faces, match_input(store, "approve"))
    assert cached == computed
    assert cached.passed, cached.detail


def test_the_sample_video_answers_no_other_challenge(activities, store) -> None:
    other = LivenessChallenge(
        nonce="n-2",
        windows=[
            ActionWindow(action=LivenessAction.NOD, start_s=0, end_s=2.5),
            ActionWindow(action=LivenessAction.BLINK, start_s=2.5, end_s=5),
            ActionWindow(action=LivenessAction.OPEN_MOUTH, start_s=5, end_s=7.5),
        ],
    )
    result = liveness(activities, sample(store, "approve", DocumentKind.LIVENESS_VIDEO), other)
    assert not result.passed and result.reasons == [ReasonCode.I012_LIVENESS_ACTIONS]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", ReasonCode.I006_IMAGE_UNREADABLE),
        (b"\x00\x00\x00\x18ftypmp42" + bytes(500), ReasonCode.I006_IMAGE_UNREADABLE),
        (None, ReasonCode.I004_NO_FACE),
    ],
    ids=["empty", "garbage", "no-face"],
)
def test_bad_videos_are_liveness_results(activities, store, tmp_path, data, reason) -> None:
    if data is None:
        data = no_face_video(tmp_path)
    result = liveness(activities, put(store, DocumentKind.LIVENESS_VIDEO, data, ".mp4"))
    assert not result.passed and reason in result.reasons


def no_face_video(tmp_path: Path) -> bytes:
    path = tmp_path / "noface.mp4"
    back = cv2.imread(str(SAMPLES / "approve" / "id_back.jpg"))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 15, (428, 270))
    for n in range(45):
        writer.write(cv2.resize(back[n : n + 500, n : n + 800], (428, 270)))
    writer.release()
    return path.read_bytes()


def test_selfie_of_someone_else_is_a_face_mismatch(activities, store) -> None:
    other = sample(store, "review", DocumentKind.SELFIE)
    result = ActivityEnvironment().run(
        activities.match_faces,
        match_input(store, "approve", selfie=other, reference_portrait=None, video=None),
    )
    assert result.reasons == [ReasonCode.I003_FACE_MISMATCH]
    assert result.distance_card >= 0.6
    assert result.distance_reference is None and result.distance_video is None


def test_threshold_comes_from_the_input(activities, store) -> None:
    strict = match_input(store, "review", video=None, threshold=0.3)
    result = ActivityEnvironment().run(activities.match_faces, strict)
    assert result.reasons == [ReasonCode.I003_FACE_MISMATCH]
    assert "card" in result.detail and "reference" in result.detail


def test_selfie_without_a_face_is_reported_with_its_reason(activities, store) -> None:
    no_face = sample(store, "approve", DocumentKind.ID_BACK)
    result = ActivityEnvironment().run(
        activities.match_faces, match_input(store, "approve", selfie=no_face, video=None)
    )
    assert result.reasons == [ReasonCode.I004_NO_FACE]
    assert result.distance_card is None


def test_missing_or_altered_document_is_a_non_retryable_error(activities, store) -> None:
    front = sample(store, "approve", DocumentKind.ID_FRONT)
    back = sample(store, "approve", DocumentKind.ID_BACK)
    missing = front.model_copy(update={"blob_key": "app-1/id_front/" + "0" * 64})
    altered = front.model_copy(update={"sha256": hashlib.sha256(b"other").hexdigest()})
    for bad in (missing, altered):
        with pytest.raises(ApplicationError) as caught:
            inspect(activities, bad, back)
        assert caught.value.non_retryable
        assert caught.value.type == ErrorType.BAD_DOCUMENT


def test_an_unreadable_video_fails_the_step_for_good_saying_why(settings, face_models, tmp_path):
    inner = LocalBlobStore(tmp_path / "blobs")
    sealed = EncryptedBlobStore(inner, {"k1": os.urandom(32)}, "k1")
    activities = VisionActivities(sealed, settings, face_models)
    video = sample(sealed, "approve", DocumentKind.LIVENESS_VIDEO)  # type: ignore[arg-type]
    path = tmp_path / "blobs" / video.blob_key
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 1
    path.write_bytes(bytes(blob))
    missing = video.model_copy(update={"blob_key": "app-1/liveness_video/missing"})
    other = sample(sealed, "review", DocumentKind.LIVENESS_VIDEO)  # type: ignore[arg-type]
    changed = other.model_copy(update={"sha256": video.sha256})
    for ref, kind in [
        (video, ErrorType.BLOB_UNREADABLE),
        (missing, ErrorType.BAD_DOCUMENT),
        (changed, ErrorType.BAD_DOCUMENT),
    ]:
        with pytest.raises(ApplicationError) as refused:
            liveness(activities, ref)
        assert (refused.value.type, refused.value.non_retryable) == (kind, True)


def test_faces_encoded_ahead_are_reused_by_the_match(
    store: LocalBlobStore, settings: Settings, face_models: FaceModels, tmp_path: Path
) -> None:
    """`encode_faces` runs while the card is read; the match then compares without decoding the
    selfie or the reference portrait again (here: they are gone from the store by then, which
    would be an error if the match read them)."""
    own = LocalBlobStore(tmp_path / "blobs")
    checks = VisionActivities(own, settings, face_models)
    full = match_input(own, "approve", video=None)
    ahead = ActivityEnvironment().run(
        checks.encode_faces,
        FaceEncodeInput(
            application_id="app-1", selfie=full.selfie, reference_portrait=full.reference_portrait
        ),
    )
    assert ahead.selfie_encoded and ahead.reference_encoded
    assert full.reference_portrait is not None
    for ref in (full.selfie, full.reference_portrait):
        (tmp_path / "blobs" / ref.blob_key).unlink()
    result = ActivityEnvironment().run(checks.match_faces, full)
    assert result.passed and result.distance_reference is not None


def test_a_selfie_without_a_face_is_not_encoded_ahead_and_the_match_says_why(
    activities, store
) -> None:
    no_face = sample(store, "approve", DocumentKind.ID_BACK)
    ahead = ActivityEnvironment().run(
        activities.encode_faces,
        FaceEncodeInput(application_id="app-1", selfie=no_face, reference_portrait=None),
    )
    assert not ahead.selfie_encoded and ahead.reference_encoded is None
    result = ActivityEnvironment().run(
        activities.match_faces, match_input(store, "approve", selfie=no_face, video=None)
    )
    assert result.reasons == [ReasonCode.I004_NO_FACE]
