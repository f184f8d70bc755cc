"""Safe decoding of untrusted image uploads and the quality gates every photo must pass.

Uploads come from the internet. The byte size and the pixel count (read from the header, before
a single pixel is decoded) are bounded, so a small file cannot expand into gigabytes (a
decompression bomb), and every parser failure becomes a typed `BadImage` carrying a reason code
instead of a crash. Pixels are returned as RGB uint8 arrays, EXIF-rotated so that a phone photo
taken sideways is upright for the face detector.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageOps

from domain.reasons import ReasonCode

# Formats a phone camera or a scanner produces; every other PIL plugin is attack surface only.
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")
# Detection runs at this long side: HOG cost grows with pixels, and at 640 px every single-person
# photo in the reference set still yields its face (see /work/shared/data/README.md).
DETECT_LONG_SIDE = 640
# Faces are measured on a fixed-size crop, so sharpness does not depend on how large the face is.
FACE_CROP_SIDE = 128


class VisionError(Exception):
    """An input the vision checks refuse, with the reason code the applicant will be given."""

    def __init__(self, reason: ReasonCode, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


class BadImage(VisionError):
    """The bytes are not a usable image: empty, too large, not an image, truncated, too dark..."""


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int = 8 * 1024 * 1024
    max_pixels: int = 40_000_000


@dataclass(frozen=True)
class Quality:
    brightness: float
    sharpness: float


@dataclass(frozen=True)
class QualityGates:
    min_brightness: float
    max_brightness: float
    min_sharpness: float

    def problem(self, quality: Quality) -> tuple[ReasonCode, str] | None:
        """The first gate failed, with the reason the applicant can act on: more light (I014),
        a steadier hand (I015), less light (I009)."""
        if quality.brightness < self.min_brightness:
            return ReasonCode.I014_IMAGE_TOO_DARK, (
                f"too dark (brightness {quality.brightness:.0f} < {self.min_brightness:.0f})"
            )
        if quality.brightness > self.max_brightness:
            return ReasonCode.I009_IMAGE_QUALITY, (
                f"over-exposed (brightness {quality.brightness:.0f} > {self.max_brightness:.0f})"
            )
        if quality.sharpness < self.min_sharpness:
            return ReasonCode.I015_IMAGE_BLURRED, (
                f"blurred (sharpness {quality.sharpness:.0f} < {self.min_sharpness:.0f})"
            )
        return None

    def check(self, quality: Quality, what: str) -> None:
        problem = self.problem(quality)
        if problem:
            raise BadImage(problem[0], f"{what} {problem[1]}")


# Measured on the 640 px reference photos: real face crops score 60-1400 in sharpness and
# 85-160 in brightness; a Gaussian blur of sigma 3 drops most below 30, a 4x darkening below 45.
FACE_GATES = QualityGates(min_brightness=50, max_brightness=220, min_sharpness=30)


def decode_image(data: bytes, limits: ImageLimits, *, max_side: int | None = None) -> np.ndarray:
    """Decode an upload to an upright RGB array whose long side is at most `max_side`.

    Raises BadImage (I006) for empty, oversized, non-image, truncated or too-many-pixel input.
    """
    if not data:
        raise BadImage(ReasonCode.I006_IMAGE_UNREADABLE, "empty file")
    if len(data) > limits.max_bytes:
        raise BadImage(
            ReasonCode.I006_IMAGE_UNREADABLE, f"file larger than {limits.max_bytes} bytes"
        )
    image = _open_header(data)
    width, height = image.size
    if width <= 0 or height <= 0 or width * height > limits.max_pixels:
        raise BadImage(
            ReasonCode.I006_IMAGE_UNREADABLE,
            f"{width}x{height} pixels exceeds the limit of {limits.max_pixels}",
        )
    try:
        if max_side and image.format == "JPEG":
            # DCT scaling decodes a 12 MP photo at 1/2..1/8 size: less memory and time.
            image.draft("RGB", (max_side, max_side))
        upright = ImageOps.exif_transpose(image)
        rgb = np.asarray(upright.convert("RGB"))
    # Untrusted bytes: whatever a PIL plugin raises (OSError, SyntaxError, zlib.error...) means
    # the file is bad, not that the service is.
    except Exception as exc:
        raise BadImage(
            ReasonCode.I006_IMAGE_UNREADABLE,
            f"cannot decode {image.format} data: {type(exc).__name__}",
        ) from None
    return fit_long_side(rgb, max_side) if max_side else rgb


def _open_header(data: bytes) -> Image.Image:
    """Parse the header only: PIL decodes no pixel until load()."""
    try:
        return Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # PIL's own, process-wide bomb limits; the warning raises only where warnings are errors
        raise BadImage(
            ReasonCode.I006_IMAGE_UNREADABLE, "image header declares too many pixels"
        ) from None
    except Exception as exc:
        raise BadImage(
            ReasonCode.I006_IMAGE_UNREADABLE,
            f"not a {'/'.join(ALLOWED_FORMATS)} image ({type(exc).__name__})",
        ) from None


def fit_long_side(rgb: np.ndarray, max_side: int) -> np.ndarray:
    """Downscale (never upscale) so that the long side is at most max_side."""
    height, width = rgb.shape[:2]
    scale = max_side / max(height, width)
    if scale >= 1:
        return rgb
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def to_gray(rgb: np.ndarray) -> np.ndarray:
    return rgb if rgb.ndim == 2 else cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def measure_quality(gray: np.ndarray) -> Quality:
    """Mean brightness (0-255) and variance of the Laplacian (focus measure) of a gray image."""
    return Quality(
        brightness=float(gray.mean()),
        sharpness=float(cv2.Laplacian(gray, cv2.CV_64F).var()),
    )


def crop_quality(gray: np.ndarray, top: int, right: int, bottom: int, left: int) -> Quality:
    """Quality of a region, resampled to FACE_CROP_SIDE so regions of any size compare."""
    crop = gray[max(top, 0) : max(bottom, 0), max(left, 0) : max(right, 0)]
    if crop.size == 0:
        return Quality(brightness=0.0, sharpness=0.0)
    side = (FACE_CROP_SIDE, FACE_CROP_SIDE)
    return measure_quality(cv2.resize(crop, side, interpolation=cv2.INTER_AREA))
