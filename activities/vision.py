"""Identity verification, the vision part (stage 3, VERIFYING_IDENTITY): the ID card read and
checked, the liveness video against its challenge, and the face match, on the `vision` queue.

The activities are synchronous because the work is CPU-bound: the vision worker runs them in its
pool. A bad upload is a business outcome, returned as a result with reason codes, never an
exception that Temporal would retry forever; anything unexpected inside the vision code is
likewise turned into an I006 result (logged with its type only) rather than a retry loop on a
poisoned input. A document missing from the blob store or not matching its hash is a system
fault: non-retryable, so the workflow sees it at once. Blob store I/O errors propagate and are
retried. Nothing about the applicant (names, numbers, images) is logged; reason codes, counts,
scores and distances are.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
from temporalio import activity
from temporalio.exceptions import ApplicationError, CancelledError

from activities.documents import copy_blob, read_blob
from config.settings import Settings
from domain.evidence import card_evidence
from domain.identity import (
    DocumentRef,
    FaceEncodeInput,
    FaceEncodeResult,
    FaceMatchInput,
    FaceMatchResult,
    IdCardFields,
    IdCardInput,
    IdCardResult,
    LivenessInput,
    LivenessResult,
)
from domain.naming import ActivityName, ErrorType
from domain.reasons import ReasonCode
from store.blobs import BlobStore
from vision.actions import blink_intervals
from vision.antispoof import SpoofDetector
from vision.cardchecks import check_fields
from vision.face_cache import FaceEncodingCache, PrefixedMapping
from vision.faces import FaceModels, face_distance, face_quality, probe_face
from vision.idcard import (
    PORTRAIT_GATES,
    SideReading,
    find_portrait,
    portrait_on_card,
    read_side,
)
from vision.images import (
    DETECT_LONG_SIDE,
    ImageLimits,
    VisionError,
    decode_image,
)
from vision.landmarks import LandmarkModel, landmark_model
from vision.liveness import LivenessPolicy, assess_liveness, best_face_frame
from vision.match import match_selfie
from vision.ocr import OcrReader
from vision.video import VideoLimits, open_video_file

# Cards are read from a larger image than faces are detected in: the address is set in 3 mm
# characters, ~30 px on a card flattened to 856 px, which a 640 px photo of the whole scene
# cannot give.
OCR_LONG_SIDE = 1600
V = TypeVar("V")


@dataclass(frozen=True)
class IdCardReading:
    result: IdCardResult
    fields: IdCardFields | None


def _heartbeat(frames_done: int) -> None:
    # Heartbeats also deliver cancellation: the SDK raises CancelledError into this thread.
    activity.heartbeat(frames_done)


def _dedupe(codes: list[ReasonCode]) -> list[ReasonCode]:
    return list(dict.fromkeys(codes))


def _unexpected(what: str, exc: Exception) -> VisionError:
    """An input that made the vision code fail in a way nobody anticipated: the applicant is
    asked for the file again, the type (never the content) goes to the log."""
    activity.logger.warning("%s failed unexpectedly: %s", what, type(exc).__name__)
    return VisionError(ReasonCode.I006_IMAGE_UNREADABLE, f"{what} could not be processed")


class VisionActivities:
    def __init__(
        self,
        blobs: BlobStore,
        settings: Settings,
        faces: FaceModels | None = None,
        ocr: OcrReader | None = None,
        spoof: SpoofDetector | None = None,
        cache: MutableMapping[str, bytes] | None = None,
    ) -> None:
        self._blobs = blobs
        self._image_limits = ImageLimits(
            max_bytes=settings.max_image_bytes, max_pixels=settings.max_image_pixels
        )
        self._video_limits = VideoLimits(max_bytes=settings.max_video_bytes)
        self._faces, self._ocr, self._spoof = faces, ocr, spoof
        self._landmark_backend = settings.landmark_backend
        shared = {} if cache is None else cache
        self.best_frames = FaceEncodingCache(PrefixedMapping(shared, "best-frame:"))
        self.portraits = FaceEncodingCache(PrefixedMapping(shared, "portrait:"))
        self.stills = FaceEncodingCache(PrefixedMapping(shared, "still:"))

    def __getstate__(self) -> dict[str, object]:
        """What a process-pool worker receives with each activity call: the models are not
        sent (they load once per process, see workers.vision), the shared cache is."""
        state = dict(self.__dict__)
        state.update(_faces=None, _ocr=None, _spoof=None)
        return state

    @property
    def faces(self) -> FaceModels:
        if self._faces is None:
            self._faces = FaceModels.shared()
        return self._faces

    @property
    def landmarks(self) -> LandmarkModel:
        return landmark_model(self._landmark_backend, self.faces)

    @property
    def ocr(self) -> OcrReader:
        if self._ocr is None:
            self._ocr = OcrReader.shared()
        return self._ocr

    @property
    def spoof(self) -> SpoofDetector:
        if self._spoof is None:
            self._spoof = SpoofDetector.shared()
        return self._spoof

    def _load(self, ref: DocumentRef) -> bytes:
        data = read_blob(self._blobs, ref.blob_key, f"{ref.kind} document")
        if hashlib.sha256(data).hexdigest() != ref.sha256:
            raise ApplicationError(
                f"{ref.kind} document does not match its sha256",
                type=ErrorType.BAD_DOCUMENT,
                non_retryable=True,
            )
        return data

    @contextmanager
    def _video_file(self, ref: DocumentRef) -> Iterator[Path]:
        """The video decrypted chunk by chunk into a private temporary file (OpenCV reads a
        path), checked against its sha256 like `_load`."""
        with tempfile.NamedTemporaryFile(prefix="liveness-", suffix=".video") as handle:
            digest = copy_blob(self._blobs, ref.blob_key, f"{ref.kind} document", handle)
            if digest != ref.sha256:
                raise ApplicationError(
                    f"{ref.kind} document does not match its sha256",
                    type=ErrorType.BAD_DOCUMENT,
                    non_retryable=True,
                )
            yield Path(handle.name)

    def _guarded(self, what: str, compute: Callable[[], V]) -> V:
        try:
            return compute()
        except (VisionError, CancelledError):
            raise
        except Exception as exc:  # untrusted input reached code that did not expect it
            raise _unexpected(what, exc) from None

    @activity.defn(name=ActivityName.INSPECT_ID_CARD)
    def inspect_id_card(self, input: IdCardInput) -> IdCardResult:
        """Read both sides, cross-check the fields and the applicant's entries, find the
        portrait; every problem is a reason code on the result. The fields read stay here: no
        step after this one reads them, so they do not go into the workflow's history."""
        return self.read_id_card(input).result

    def read_id_card(self, input: IdCardInput) -> IdCardReading:
        """`inspect_id_card` with the fields it read (the OCR tests and tools look at them)."""
        failures: list[tuple[ReasonCode, str]] = []
        if input.front.sha256 == input.back.sha256:
            failures.append((ReasonCode.I006_IMAGE_UNREADABLE, "front and back are the same image"))
        front = self._read_side(input.front, "front", failures)
        back = self._read_side(input.back, "back", failures)
        portrait_found = False
        if front is not None:
            portrait_found = self._portrait(input.front.sha256, front.card, failures)
        fields = None
        if front is not None and back is not None:
            checks = check_fields(
                front.fields,
                back.fields,
                application_date=input.application_date,
                claimed_name=input.claimed_name,
                claimed_id_number=input.claimed_id_number,
            )
            failures += checks.failures
            values = {**front.fields.values, **back.fields.values}
            confidence = {**front.fields.confidence, **back.fields.confidence}
            fields = IdCardFields(**values, confidence=confidence)
        result = IdCardResult(
            passed=not failures,
            reasons=_dedupe([code for code, _ in failures]),
            portrait_found=portrait_found,
            detail="; ".join(detail for _, detail in failures) or "both sides read and checked",
            evidence=card_evidence(fields),
        )
        activity.logger.info(
            "ID card inspected: passed=%s reasons=%s lowest confidence=%s",
            result.passed,
            [r.value for r in result.reasons],
            min(fields.confidence.values(), default=None) if fields else None,
        )
        return IdCardReading(result, fields)

    def _read_side(
        self, ref: DocumentRef, side: str, failures: list[tuple[ReasonCode, str]]
    ) -> SideReading | None:
        data = self._load(ref)
        try:
            rgb = decode_image(data, self._image_limits, max_side=OCR_LONG_SIDE)
            return self._guarded(f"card {side}", lambda: read_side(rgb, side, self.ocr))
        except VisionError as exc:
            failures.append((exc.reason, f"{side}: {exc.detail}"))
            return None

    def _portrait(self, key: str, card: np.ndarray, failures: list[tuple[ReasonCode, str]]) -> bool:
        """Find, gate and encode the card's portrait; the encoding is kept for match_faces."""
        try:
            portrait = self._guarded("card portrait", lambda: portrait_on_card(card, self.faces))
            if portrait is None:
                raise VisionError(ReasonCode.I004_NO_FACE, "no portrait on the card front")
            PORTRAIT_GATES.check(face_quality(portrait.rgb, portrait.box), "card portrait")
        except VisionError as exc:
            failures.append((exc.reason, f"front: {exc.detail}"))
            return False
        self.portraits.put(key, self.faces.encode(portrait.rgb, portrait.box))
        return True

    @activity.defn(name=ActivityName.CHECK_LIVENESS)
    def check_liveness(self, input: LivenessInput) -> LivenessResult:
        with self._video_file(input.video) as path:
            return self._check_liveness(input, path)

    def _check_liveness(self, input: LivenessInput, path: Path) -> LivenessResult:
        def assess():
            with open_video_file(path, self._video_limits) as stream:
                return assess_liveness(
                    stream.frames(dense=blink_intervals(input.challenge.windows)),
                    self.faces,
                    windows=input.challenge.windows,
                    policy=LivenessPolicy(same_person_threshold=input.same_person_threshold),
                    spoof=self.spoof,
                    landmarks=self.landmarks,
                    progress=_heartbeat,
                )

        try:
            report = self._guarded("liveness video", assess)
        except VisionError as exc:
            activity.logger.info("liveness refused: %s", exc.reason.value)
            return LivenessResult(passed=False, reasons=[exc.reason], detail=exc.detail)
        self.best_frames.put(input.video.sha256, report.best.encoding if report.best else None)
        activity.logger.info(
            "liveness checked: passed=%s reasons=%s frames=%d one_face=%d actions=%s live=%s",
            report.passed,
            [r.value for r in report.reasons],
            report.frames_sampled,
            report.frames_with_one_face,
            [a.value for a in report.actions_seen],
            None if report.live_score is None else round(report.live_score, 3),
        )
        return LivenessResult(
            passed=report.passed,
            reasons=report.reasons,
            frames_sampled=report.frames_sampled,
            frames_with_one_face=report.frames_with_one_face,
            actions_seen=report.actions_seen,
            spoof_score=None if report.live_score is None else round(1 - report.live_score, 4),
            detail=report.detail,
        )

    def _still_face(self, ref: DocumentRef, what: str) -> np.ndarray:
        """The face of a still picture (selfie, reference portrait), from the cache when
        `encode_faces` found it already; a picture without one clear face is never cached, so
        the match reports its own reason for it."""
        hit, encoding = self.stills.get(ref.sha256)
        if hit and encoding is not None:
            return encoding
        data = self._load(ref)
        rgb = decode_image(data, self._image_limits, max_side=DETECT_LONG_SIDE)
        encoding = self._guarded(what, lambda: probe_face(self.faces, rgb, what=what).encoding)
        self.stills.put(ref.sha256, encoding)
        return encoding

    @activity.defn(name=ActivityName.ENCODE_FACES)
    def encode_faces(self, input: FaceEncodeInput) -> FaceEncodeResult:
        """Encode the selfie and the reference portrait ahead of the match, while the card is
        still being read: `match_faces` then only compares. What cannot be encoded here is left
        for the match, which reports why."""

        def encoded(ref: DocumentRef, what: str) -> bool:
            try:
                self._still_face(ref, what)
            except VisionError as exc:
                activity.logger.info("%s not encoded ahead: %s", what, exc.reason.value)
                return False
            return True

        reference = input.reference_portrait
        return FaceEncodeResult(
            selfie_encoded=encoded(input.selfie, "selfie"),
            reference_encoded=None
            if reference is None
            else encoded(reference, "reference portrait"),
        )

    def _card_face(self, ref: DocumentRef) -> np.ndarray:
        hit, encoding = self.portraits.get(ref.sha256)
        if hit and encoding is not None:
            return encoding
        rgb = decode_image(self._load(ref), self._image_limits, max_side=OCR_LONG_SIDE)
        portrait = self._guarded("card portrait", lambda: find_portrait(rgb, self.faces))
        if portrait is None:
            raise VisionError(ReasonCode.I004_NO_FACE, "no portrait on the card front")
        PORTRAIT_GATES.check(face_quality(portrait.rgb, portrait.box), "card portrait")
        encoding = self.faces.encode(portrait.rgb, portrait.box)
        self.portraits.put(ref.sha256, encoding)
        return encoding

    def _video_face(self, ref: DocumentRef) -> np.ndarray:
        with self._video_file(ref) as path:
            return self._best_video_face(ref, path)

    def _best_video_face(self, ref: DocumentRef, path: Path) -> np.ndarray:
        hit, encoding = self.best_frames.get(ref.sha256)
        if not hit:

            def best():
                with open_video_file(path, self._video_limits) as stream:
                    return best_face_frame(
                        stream.frames(),
                        self.faces,
                        progress=_heartbeat,
                        landmarks=self.landmarks,
                    )

            frame = self._guarded("liveness video", best)
            encoding = frame.encoding if frame else None
            self.best_frames.put(ref.sha256, encoding)
        if encoding is None:
            raise VisionError(ReasonCode.I004_NO_FACE, "no frame with one clear face")
        return encoding

    @activity.defn(name=ActivityName.MATCH_FACES)
    def match_faces(self, input: FaceMatchInput) -> FaceMatchResult:
        """The selfie against the card portrait, the reference portrait and the best video frame;
        passed only when every given comparison is below the policy's threshold."""
        reasons: list[ReasonCode] = []
        details: list[str] = []
        encodings: dict[str, np.ndarray | None] = {}
        sources: dict[str, Callable[[], np.ndarray]] = {
            "selfie": lambda: self._still_face(input.selfie, "selfie"),
            "card": lambda: self._card_face(input.id_front),
        }
        if input.reference_portrait is not None:
            ref = input.reference_portrait
            sources["reference"] = lambda: self._still_face(ref, "reference portrait")
        if input.video is not None:
            video = input.video
            sources["video"] = lambda: self._video_face(video)
        for name, compute in sources.items():
            try:
                encodings[name] = compute()
            except VisionError as exc:
                reasons.append(exc.reason)
                details.append(f"{name}: {exc.detail}")
        selfie, card = encodings.get("selfie"), encodings.get("card")
        if selfie is None or card is None or len(encodings) < len(sources):
            return self._match_result(False, reasons, details, selfie, encodings)
        report = match_selfie(
            selfie,
            card,
            reference=encodings.get("reference"),
            video=encodings.get("video"),
            threshold=input.threshold,
        )
        if not report.passed:
            reasons.append(ReasonCode.I003_FACE_MISMATCH)
            details.append(f"selfie does not match: {', '.join(report.mismatched)}")
        return self._match_result(report.passed, reasons, details, selfie, encodings)

    def _match_result(
        self,
        passed: bool,
        reasons: list[ReasonCode],
        details: list[str],
        selfie: np.ndarray | None,
        encodings: dict[str, np.ndarray | None],
    ) -> FaceMatchResult:
        def distance(name: str) -> float | None:
            other = encodings.get(name)
            if selfie is None or other is None:
                return None
            return round(face_distance(selfie, other), 4)

        result = FaceMatchResult(
            passed=passed,
            reasons=_dedupe(reasons),
            distance_card=distance("card"),
            distance_reference=distance("reference"),
            distance_video=distance("video"),
            detail="; ".join(details) or "selfie matches every picture",
        )
        activity.logger.info(
            "faces matched: passed=%s card=%s reference=%s video=%s",
            result.passed,
            result.distance_card,
            result.distance_reference,
            result.distance_video,
        )
        return result
