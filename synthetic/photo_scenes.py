"""Phone photos of a rendered ID card: the card with rounded corners lying on a textured table,
turned by any angle, seen in perspective, then degraded the way phone photos are (uneven and low
light with sensor noise, defocus blur, JPEG compression).

`random_distortion` draws the conditions of a usable photo (what an applicant may upload and the
reader must read); the gates for unusable ones are tested with explicit, harsher values.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

PHOTO_LONG, PHOTO_SHORT = 1600, 1200
CORNER_RADIUS = 32  # 3.2 mm at 10 px/mm, as on the real card


@dataclass(frozen=True)
class Distortion:
    angle: float = 0.0  # degrees, counter-clockwise
    card_width: float = 0.6  # card width as a fraction of the photo's long side
    perspective: float = 0.0  # corner displacement as a fraction of the card width
    blur: float = 0.0  # Gaussian sigma in card pixels (856 px wide)
    light: float = 1.0  # overall exposure gain
    shade: float = 0.0  # strength of a linear light falloff across the photo
    noise: float = 2.0  # sensor noise sigma, in output grey levels
    jpeg_quality: int = 90
    portrait_photo: bool = False  # the phone held upright (1200 x 1600)
    seed: int = 0


def random_distortion(rng: np.random.Generator) -> Distortion:
    """Any angle, up to 6% perspective, up to 1.3 px blur, down to a third of the light."""
    return Distortion(
        angle=float(rng.uniform(0, 360)),
        card_width=float(rng.uniform(0.5, 0.8)),
        perspective=float(rng.uniform(0, 0.06)),
        blur=float(rng.choice([0.0, rng.uniform(0.3, 1.3)])),
        light=float(rng.choice([1.0, rng.uniform(0.35, 1.0)])),
        shade=float(rng.uniform(0, 0.35)),
        noise=float(rng.uniform(1.0, 4.0)),
        jpeg_quality=int(rng.integers(45, 96)),
        portrait_photo=bool(rng.random() < 0.3),
        seed=int(rng.integers(0, 2**31)),
    )


def table(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A wood-grain or cloth-like surface, darker than a card."""
    width, height = size
    low = rng.uniform(0, 1, (height // 40 + 2, width // 40 + 2)).astype(np.float32)
    field = cv2.resize(low, (width, height), interpolation=cv2.INTER_CUBIC)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    grain = np.sin((xs * rng.uniform(0.01, 0.05) + 6 * field) * rng.uniform(1, 3))
    base = rng.uniform(35, 130)
    colour = np.array([rng.uniform(0.8, 1.2), rng.uniform(0.7, 1.0), rng.uniform(0.5, 0.9)])
    grey = base + 25 * field + 10 * grain + rng.normal(0, 4, (height, width))
    return np.clip(grey[..., None] * colour[None, None, :], 0, 255).astype(np.float32)


def _rounded_mask(width: int, height: int) -> np.ndarray:
    mask = np.zeros((height, width), np.uint8)
    r = CORNER_RADIUS
    cv2.rectangle(mask, (r, 0), (width - 1 - r, height - 1), 255, -1)
    cv2.rectangle(mask, (0, r), (width - 1, height - 1 - r), 255, -1)
    for cx, cy in (
        (r, r),
        (width - 1 - r, r),
        (r, height - 1 - r),
        (width - 1 - r, height - 1 - r),
    ):
        cv2.circle(mask, (cx, cy), r, 255, -1, lineType=cv2.LINE_AA)
    return mask


def card_corners(card_size: tuple[int, int], d: Distortion, photo: tuple[int, int], rng):
    """Where the card's corners land in the photo (TL, TR, BR, BL of the card)."""
    cw, ch = card_size
    width, height = photo
    target_w = d.card_width * max(width, height)
    # keep the turned card inside the frame with a margin
    theta = np.radians(d.angle)
    span_w = abs(np.cos(theta)) * target_w + abs(np.sin(theta)) * target_w * ch / cw
    span_h = abs(np.sin(theta)) * target_w + abs(np.cos(theta)) * target_w * ch / cw
    fit = min(1.0, 0.9 * width / span_w, 0.9 * height / span_h)
    scale = target_w * fit / cw
    slack_x = max(0.0, (width * 0.95 - span_w * fit) / 2)
    slack_y = max(0.0, (height * 0.95 - span_h * fit) / 2)
    centre = np.array(
        [width / 2 + rng.uniform(-slack_x, slack_x), height / 2 + rng.uniform(-slack_y, slack_y)]
    )
    local = np.array([[-cw / 2, -ch / 2], [cw / 2, -ch / 2], [cw / 2, ch / 2], [-cw / 2, ch / 2]])
    local = local + rng.uniform(-1, 1, (4, 2)) * d.perspective * cw
    rotation = np.array([[np.cos(theta), np.sin(theta)], [-np.sin(theta), np.cos(theta)]])
    return (local * scale) @ rotation.T + centre


def photograph(card: np.ndarray, d: Distortion) -> bytes:
    """A JPEG phone photo of the RGB card image under the distortion `d`."""
    rng = np.random.default_rng(d.seed)
    photo = (PHOTO_SHORT, PHOTO_LONG) if d.portrait_photo else (PHOTO_LONG, PHOTO_SHORT)
    height, width = card.shape[:2]
    src = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    dst = card_corners((width, height), d, photo, rng).astype(np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(card.astype(np.float32), matrix, photo, flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(_rounded_mask(width, height), matrix, photo)
    alpha = (mask / 255.0)[..., None]
    shadow = np.roll(cv2.GaussianBlur(mask, (0, 0), 12), (8, 8), (0, 1))[..., None] / 255.0
    scene = table(photo, rng) * (1 - 0.35 * shadow)
    scene = scene * (1 - alpha) + warped * alpha
    # defocus in card pixels, converted to photo pixels by how large the card appears
    sigma = d.blur * float(np.linalg.norm(dst[1] - dst[0])) / width
    if sigma > 0.2:
        scene = cv2.GaussianBlur(scene, (0, 0), sigma)
    ys, xs = np.mgrid[0 : photo[1], 0 : photo[0]].astype(np.float32)
    direction = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(direction) * xs / photo[0] + np.sin(direction) * ys / photo[1] + 1) / 2
    lit = scene * d.light * (1 - d.shade * ramp)[..., None]
    noisy = lit + rng.normal(0, d.noise, lit.shape)
    rgb = np.clip(noisy, 0, 255).astype(np.uint8)
    ok, encoded = cv2.imencode(
        ".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, d.jpeg_quality]
    )
    assert ok
    return encoded.tobytes()
