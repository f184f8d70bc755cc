"""Decoding an uploaded liveness video and sampling its frames.

OpenCV's FFmpeg backend reads from a path, not from memory, so the upload is written to a private
temporary file that lives only while the video is read. Untrusted input is bounded three ways:
bytes, pixels per frame (from the stream header, before frames are decoded) and the number of
frames decoded, so a file whose timestamps lie cannot keep a worker busy. Frames are sampled at a
fixed rate on the video's own clock and handed out one at a time, downscaled for detection, so
memory stays flat whatever the video's length.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from domain.reasons import ReasonCode
from vision.images import DETECT_LONG_SIDE, VisionError, fit_long_side

# Ten a second: a deliberate blink (~0.3 s) spans at least two samples, but its deepest point
# (the lids closed for 50-100 ms) may fall between them.
SAMPLE_FPS = 10.0
# Inside the intervals where the eyes are watched for a blink: every frame up to this rate.
DENSE_FPS = 30.0
MAX_SECONDS = 15.0
# 60 fps for 30 s: far beyond any honest liveness clip.
MAX_DECODED_FRAMES = 1800
_SANE_FPS = (1.0, 240.0)
# What phones and browsers record: ISO media (MP4, MOV, 3GP), whose first box type sits at byte 4,
# and Matroska/WebM. FFmpeg would open far more (images, playlists, raw streams): attack surface.
_ISO_BOXES = (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip")
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"


class BadVideo(VisionError):
    """The bytes are not a usable video: empty, too large, not a video, no decodable frame."""


@dataclass(frozen=True)
class VideoLimits:
    max_bytes: int = 32 * 1024 * 1024
    max_frame_pixels: int = 3840 * 2160


@dataclass(frozen=True)
class Frame:
    index: int
    t_s: float
    rgb: np.ndarray
    # taken between the regular samples, inside a `dense` interval (`VideoStream.frames`)
    dense: bool = False


class VideoStream:
    """An opened video; `frames()` yields sampled frames, `frames_decoded` counts what was read."""

    def __init__(self, capture: cv2.VideoCapture, width: int, height: int, fps: float | None):
        self._capture = capture
        self.width = width
        self.height = height
        self.fps = fps
        self.frames_decoded = 0
        self._shapes = ((height, width), (width, height))

    def frames(
        self,
        *,
        sample_fps: float = SAMPLE_FPS,
        max_seconds: float = MAX_SECONDS,
        max_side: int = DETECT_LONG_SIDE,
        dense: Sequence[tuple[float, float]] = (),
    ) -> Iterator[Frame]:
        """Frames `sample_fps` times a second; inside the `dense` intervals (start, end in
        seconds) also the frames between, up to DENSE_FPS a second, marked `dense`."""
        step, dense_step = 1.0 / sample_fps, 1.0 / DENSE_FPS
        next_t = next_dense = 0.0
        last_t = -1.0
        while self.frames_decoded < MAX_DECODED_FRAMES and self._capture.grab():
            index = self.frames_decoded
            self.frames_decoded += 1
            t = self._timestamp(index, last_t)
            last_t = t
            if t > max_seconds:
                return
            regular = t + 1e-6 >= next_t
            if not regular and not (t + 1e-6 >= next_dense and any(a <= t <= b for a, b in dense)):
                continue
            if regular:
                while next_t <= t + 1e-6:
                    next_t += step
            while next_dense <= t + 1e-6:
                next_dense += dense_step
            ok, bgr = self._capture.retrieve()
            # A stream that changes resolution midway could smuggle in oversized frames; the
            # transposed shape is a phone video rotated by its orientation metadata.
            if not ok or bgr is None or bgr.shape[:2] not in self._shapes:
                continue
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            yield Frame(index=index, t_s=t, rgb=fit_long_side(rgb, max_side), dense=not regular)

    def _timestamp(self, index: int, last_t: float) -> float:
        # The container's frame rate is the steadiest clock; variable-rate phone videos without
        # one fall back to the decoder's position, as long as it moves forward.
        if self.fps:
            return index / self.fps
        position = self._capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
        return position if position > last_t else last_t + 1.0 / 30.0


@contextmanager
def open_video(data: bytes, limits: VideoLimits) -> Iterator[VideoStream]:
    """Open uploaded video bytes; raises BadVideo (I006) when they cannot be a usable video."""
    _check_file(data[:64], len(data), limits)
    with tempfile.NamedTemporaryFile(prefix="liveness-", suffix=".video") as handle:
        handle.write(data)
        handle.flush()
        with _capture(handle.name, limits) as stream:
            yield stream


@contextmanager
def open_video_file(path: Path, limits: VideoLimits) -> Iterator[VideoStream]:
    """`open_video` of a video already in a file (streamed there from the blob store, so the
    worker never holds it whole)."""
    with path.open("rb") as handle:
        head = handle.read(64)
    _check_file(head, path.stat().st_size, limits)
    with _capture(str(path), limits) as stream:
        yield stream


def _check_file(head: bytes, size: int, limits: VideoLimits) -> None:
    if not size:
        raise BadVideo(ReasonCode.I006_IMAGE_UNREADABLE, "empty video file")
    if size > limits.max_bytes:
        raise BadVideo(
            ReasonCode.I006_IMAGE_UNREADABLE, f"video larger than {limits.max_bytes} bytes"
        )
    if head[4:8] not in _ISO_BOXES and not head.startswith(_EBML_MAGIC):
        raise BadVideo(ReasonCode.I006_IMAGE_UNREADABLE, "not an MP4, MOV or WebM video")


@contextmanager
def _capture(path: str, limits: VideoLimits) -> Iterator[VideoStream]:
    capture = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
    try:
        if not capture.isOpened():
            raise BadVideo(ReasonCode.I006_IMAGE_UNREADABLE, "not a readable video")
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if width <= 0 or height <= 0 or width * height > limits.max_frame_pixels:
            raise BadVideo(
                ReasonCode.I006_IMAGE_UNREADABLE,
                f"{width}x{height} frames exceed the limit of {limits.max_frame_pixels} pixels",
            )
        fps = float(capture.get(cv2.CAP_PROP_FPS))
        sane = _SANE_FPS[0] <= fps <= _SANE_FPS[1]
        yield VideoStream(capture, width, height, fps if sane else None)
    finally:
        capture.release()


def sample_video(
    data: bytes,
    limits: VideoLimits,
    *,
    sample_fps: float = SAMPLE_FPS,
    max_seconds: float = MAX_SECONDS,
    max_side: int = DETECT_LONG_SIDE,
    dense: Sequence[tuple[float, float]] = (),
) -> list[Frame]:
    """All sampled frames at once; raises BadVideo when not one frame decodes."""
    with open_video(data, limits) as stream:
        frames = list(
            stream.frames(
                sample_fps=sample_fps, max_seconds=max_seconds, max_side=max_side, dense=dense
            )
        )
    if not frames:
        raise BadVideo(ReasonCode.I006_IMAGE_UNREADABLE, "no decodable frame")
    return frames
