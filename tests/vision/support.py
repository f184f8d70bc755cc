"""Test data for the vision tests: the real photos in assets/faces, the committed samples, small
videos written on the fly, and synthetic ID cards photographed under chosen distortions."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from synthetic.id_cards import (
    CardHolder,
    card_back,
    card_front,
    portrait,
    portrait_photos,
    random_holder,
)
from synthetic.photo_scenes import Distortion, photograph

ROOT = Path(__file__).resolve().parents[2]
FACES = ROOT / "assets" / "faces"
SAMPLES = ROOT / "samples"


def face_bytes(name: str) -> bytes:
    return (FACES / name).read_bytes()


def face_rgb(name: str) -> np.ndarray:
    return np.asarray(Image.open(FACES / name).convert("RGB"))


def jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    ok, encoded = cv2.imencode(
        ".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    assert ok
    return encoded.tobytes()


def write_video(path: Path, frames: list[np.ndarray], fps: float = 15.0) -> bytes:
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    assert writer.isOpened()
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path.read_bytes()


def hand_held(rgb: np.ndarray, count: int, size: tuple[int, int] = (320, 240)) -> list[np.ndarray]:
    """Frames of a photo moving a little, like a hand-held camera: a clip with real motion."""
    width, height = size
    scale = min(width / rgb.shape[1], height / rgb.shape[0]) * 1.1
    frames = []
    for n in range(count):
        dx, dy = 6 * math.sin(n / 3), 4 * math.cos(n / 4)
        matrix = np.array(
            [
                [scale, 0, width / 2 - scale * rgb.shape[1] / 2 + dx],
                [0, scale, height / 2 - scale * rgb.shape[0] / 2 + dy],
            ]
        )
        frames.append(cv2.warpAffine(rgb, matrix, size, borderMode=cv2.BORDER_REPLICATE))
    return frames


def card_pair(
    seed: int, front: Distortion, back: Distortion, *, today: date = date(2026, 11, 23), **holder
) -> tuple[CardHolder, bytes, bytes]:
    """The test generator: a random holder (fields overridable), both sides rendered with a real
    portrait from assets/faces and photographed under the given distortions."""
    rng = np.random.default_rng(seed)
    person = random_holder(rng, today)
    person = replace(person, **holder) if holder else person
    photos = portrait_photos()
    face = portrait(photos[seed % len(photos)])
    return (
        person,
        photograph(card_front(person, face, seed), front),
        photograph(card_back(person, seed), back),
    )
