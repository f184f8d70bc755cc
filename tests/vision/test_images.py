"""Decoding untrusted uploads: limits, typed errors and the quality gates."""

from __future__ import annotations

import io
import resource
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from domain.reasons import ReasonCode
from tests.vision.support import face_bytes
from vision.images import (
    DETECT_LONG_SIDE,
    BadImage,
    ImageLimits,
    decode_image,
)

LIMITS = ImageLimits()


def png_header(width: int, height: int) -> bytes:
    """A valid PNG signature and IHDR declaring width x height, with a token of pixel data."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 4096)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def refused(data: bytes, limits: ImageLimits = LIMITS) -> BadImage:
    with pytest.raises(BadImage) as caught:
        decode_image(data, limits, max_side=DETECT_LONG_SIDE)
    return caught.value


def test_photo_is_decoded_upright_rgb_and_downscaled_for_detection() -> None:
    rgb = decode_image(face_bytes("examples_obama.jpg"), LIMITS, max_side=DETECT_LONG_SIDE)
    assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3
    # 910x1137 keeps its aspect ratio at a long side of 640
    assert rgb.shape[:2] == (640, 512)


def test_small_photo_is_not_upscaled_and_png_with_alpha_decodes() -> None:
    rgb = decode_image(face_bytes("tests_test_images_32bit.png"), LIMITS, max_side=2000)
    assert rgb.shape == (1200, 626, 3)


def test_exif_orientation_is_applied() -> None:
    landscape = np.zeros((100, 200, 3), dtype=np.uint8)
    landscape[:, :20] = 255
    image = Image.fromarray(landscape)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to view": how phones store portrait shots
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    rgb = decode_image(buffer.getvalue(), LIMITS)
    assert rgb.shape[:2] == (200, 100)
    # the white band, on the left when stored, is on top once upright
    assert rgb[:20].mean() > 200 and rgb[-20:].mean() < 50


@pytest.mark.parametrize(
    "data",
    [b"", b"%PDF-1.7 not an image at all", b"GIF89a" + bytes(100), bytes(range(256)) * 8],
    ids=["empty", "pdf", "gif-not-allowed", "noise"],
)
def test_non_images_are_refused_as_unreadable(data: bytes) -> None:
    assert refused(data).reason == ReasonCode.I006_IMAGE_UNREADABLE


def test_truncated_jpeg_is_refused() -> None:
    data = face_bytes("examples_obama.jpg")
    error = refused(data[: len(data) // 2])
    assert error.reason == ReasonCode.I006_IMAGE_UNREADABLE
    assert "cannot decode" in error.detail


def test_file_over_the_byte_limit_is_refused_before_parsing() -> None:
    error = refused(face_bytes("examples_obama.jpg"), ImageLimits(max_bytes=10_000))
    assert error.reason == ReasonCode.I006_IMAGE_UNREADABLE
    assert "larger than" in error.detail


@pytest.mark.parametrize("side", [20_000, 8_000], ids=["beyond-pil-limit", "beyond-our-limit"])
def test_decompression_bomb_is_refused_from_the_header(side: int) -> None:
    data = png_header(side, side)
    assert len(data) < 200
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    error = refused(data)
    elapsed = time.perf_counter() - started
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert error.reason == ReasonCode.I006_IMAGE_UNREADABLE
    assert "pixels" in error.detail
    # decoding would need side*side*3 bytes (1.2 GB / 192 MB): refused without touching them
    assert elapsed < 0.2
    assert grown_mb < 20
