"""Identity verification, the vision part (stage 3, VERIFYING_IDENTITY): the ID card images, the
liveness video and the face match, served on the `vision` task queue.

The activities are synchronous because the work is CPU-bound: the vision worker runs them in its
thread pool. A bad upload is a business outcome, returned as a result with a reason code, never an
exception that Temporal would retry forever. A document missing from the blob store or not
matching its hash is a system fault: non-retryable, so the workflow sees it at once. Blob store
I/O errors propagate and are retried. Nothing about the applicant (names, numbers, images) is
logged; reason codes, counts and distances are.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import numpy as np
from temporalio import activity
from temporalio.exceptions import ApplicationError

from config.settings import Settings
from domain.models import (
    DocumentRef,
    FaceMatchInput,
    FaceMatchResult,
    IdCardInput,
    IdCardResult,
    LivenessInput,
    LivenessResult,
)
from domain.naming import ActivityName, ErrorType
from domain.reasons import ReasonCode
from store.blobs import BlobNotFound, BlobStore
from vision.faces import (
    FaceEngine,
    FaceProbe,
    face_distance,
    face_quality,
    probe_face,
    single_face,
)
from vision.images import (
    DETECT_LONG_SIDE,
    DOCUMENT_GATES,
    FACE_GATES,
    ImageLimits,
    VisionError,
    decode_image,
    measure_quality,
    to_gray,
)
from vision.liveness import LivenessPolicy, assess_liveness, best_face_frame
from vision.match import match_selfie
from vision.video import VideoLimits, open_video


class _EncodingCache:
    """Best-frame encodings by video hash: check_liveness computes one, match_faces on the same
    worker reuses it instead of decoding the video again. A pure function of the bytes, so a
    miss (another worker, eviction) only costs time."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._items: OrderedDict[str, np.ndarray | None] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[bool, np.ndarray | None]:
        with self._lock:
            if key not in self._items:
                return False, None
            self._items.move_to_end(key)
            return True, self._items[key]

    def put(self, key: str, value: np.ndarray | None) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def _heartbeat(frames_done: int) -> None:
    # Heartbeats also deliver cancellation: the SDK raises CancelledError into this thread.
    activity.heartbeat(frames_done)


def _dedupe(codes: list[ReasonCode]) -> list[ReasonCode]:
    return list(dict.fromkeys(codes))


class VisionActivities:
    def __init__(
        self, blobs: BlobStore, settings: Settings, engine: FaceEngine | None = None
    ) -> None:
        self._blobs = blobs
        self._image_limits = ImageLimits(
            max_bytes=settings.max_image_bytes, max_pixels=settings.max_image_pixels
        )
        self._video_limits = VideoLimits(max_bytes=settings.max_video_bytes)
        self._liveness_policy = LivenessPolicy(same_person_threshold=settings.face_match_threshold)
        self._engine = engine
        self.best_frames = _EncodingCache()

    @property
    def engine(self) -> FaceEngine:
        if self._engine is None:
            self._engine = FaceEngine.shared()
        return self._engine

    def _load(self, ref: DocumentRef) -> bytes:
        try:
            data = self._blobs.get(ref.blob_key)
        except BlobNotFound:
            raise ApplicationError(
                f"{ref.kind} document is not in the blob store",
                type=ErrorType.BAD_DOCUMENT,
                non_retryable=True,
            ) from None
        if hashlib.sha256(data).hexdigest() != ref.sha256:
            raise ApplicationError(
                f"{ref.kind} document does not match its sha256",
                type=ErrorType.BAD_DOCUMENT,
                non_retryable=True,
            )
        return data

    def _decode(self, data: bytes) -> np.ndarray:
        return decode_image(data, self._image_limits, max_side=DETECT_LONG_SIDE)

    @activity.defn(name=ActivityName.INSPECT_ID_CARD)
    def inspect_id_card(self, input: IdCardInput) -> IdCardResult:
        """Both sides readable and sharp enough; the front shows exactly one face, the portrait.
        OCR of the fields and the expiry check come with the card reader."""
        front, back = self._load(input.front), self._load(input.back)
        reasons: list[ReasonCode] = []
        details: list[str] = []
        portrait_found = False
        if input.front.sha256 == input.back.sha256:
            reasons.append(ReasonCode.I006_IMAGE_UNREADABLE)
            details.append("front and back are the same image")
        try:
            rgb = self._decode(front)
            DOCUMENT_GATES.check(measure_quality(to_gray(rgb)), "card front")
            portrait = single_face(self.engine.detect(rgb))
            FACE_GATES.check(face_quality(rgb, portrait), "card portrait")
            portrait_found = True
        except VisionError as exc:
            reasons.append(exc.reason)
            details.append(f"front: {exc.detail}")
        try:
            DOCUMENT_GATES.check(measure_quality(to_gray(self._decode(back))), "card back")
        except VisionError as exc:
            reasons.append(exc.reason)
            details.append(f"back: {exc.detail}")
        result = IdCardResult(
            passed=not reasons,
            reasons=_dedupe(reasons),
            portrait_found=portrait_found,
            detail="; ".join(details) or "both sides readable, one portrait",
        )
        activity.logger.info(
            "ID card inspected: passed=%s reasons=%s", result.passed, [r.value for r in reasons]
        )
        return result

    @activity.defn(name=ActivityName.CHECK_LIVENESS)
    def check_liveness(self, input: LivenessInput) -> LivenessResult:
        data = self._load(input.video)
        try:
            with open_video(data, self._video_limits) as stream:
                report = assess_liveness(
                    stream.frames(),
                    self.engine,
                    windows=input.challenge.windows,
                    policy=self._liveness_policy,
                    progress=_heartbeat,
                )
        except VisionError as exc:
            activity.logger.info("liveness refused: %s", exc.reason.value)
            return LivenessResult(passed=False, reasons=[exc.reason], detail=exc.detail)
        self.best_frames.put(input.video.sha256, report.best.encoding if report.best else None)
        activity.logger.info(
            "liveness checked: passed=%s reasons=%s frames=%d one_face=%d motion=%.2f",
            report.passed,
            [r.value for r in report.reasons],
            report.frames_sampled,
            report.frames_with_one_face,
            report.motion,
        )
        return LivenessResult(
            passed=report.passed,
            reasons=report.reasons,
            frames_sampled=report.frames_sampled,
            frames_with_one_face=report.frames_with_one_face,
            actions_seen=report.actions_seen,
            detail=report.detail,
        )

    def _still_face(self, ref: DocumentRef, what: str) -> FaceProbe:
        return probe_face(self.engine, self._decode(self._load(ref)), what=what)

    def _video_face(self, ref: DocumentRef) -> np.ndarray:
        data = self._load(ref)
        hit, encoding = self.best_frames.get(ref.sha256)
        if not hit:
            with open_video(data, self._video_limits) as stream:
                best = best_face_frame(stream.frames(), self.engine, progress=_heartbeat)
            encoding = best.encoding if best else None
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
        sources = {
            "selfie": lambda: self._still_face(input.selfie, "selfie").encoding,
            "card": lambda: self._still_face(input.id_front, "card portrait").encoding,
        }
        if input.reference_portrait is not None:
            ref = input.reference_portrait
            sources["reference"] = lambda: self._still_face(ref, "reference portrait").encoding
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
