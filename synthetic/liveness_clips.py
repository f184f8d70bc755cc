"""A second, independent synthesis of liveness clips: the held-out set of bench.vision_liveness.

`synthetic.challenge_video` (the development synthesis, the one any liveness threshold may be
tuned on)
animates a photo by a piecewise-affine warp on a Delaunay mesh, turns the head with the mean 3D
face of `vision.headpose`, pauses half-way through each blink and mouth opening, and films at
15 fps in portrait with a hand-held camera. Nothing here is shared with it except the face
detector that places the control points:

- warp: a thin-plate spline through scattered control points (the 68 landmarks, a ring around
  the head, the frame's border), solved per frame, evaluated on a coarse grid and interpolated;
- head turns: the face as an ellipsoid with a protruding nose, turned about a pivot at the neck,
  projected orthographically; the head also sways a little all the time;
- timing: each action with its own duration drawn per clip (a blink 0.25-0.45 s, a mouth
  opening 0.8-1.5 s, a nod 0.9-1.6 s going down first, a shake 1.0-1.8 s starting to a random
  side), in one smooth movement without pauses, starting anywhere inside its window; now and
  then a spontaneous blink elsewhere;
- the mouth: the jaw drops by 0.35-0.6 mouth widths; the cavity is a dark gradient, no teeth;
- filming: 15-30 fps, portrait or landscape, the face 30-50 % of the frame's width, with or
  without camera movement (a hand, or a phone propped on a desk), sensor noise, light flicker.

The attacks made the same way: the photo filmed still, the photo held by a hand that tilts and
turns it (perspective, as a print waved to fake a nod), and a spoof sample performing its
challenge. These are synthetic clips: they test that the checks do not depend on one
synthesis's look, not how they fare on real recordings.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from domain.enums import LivenessAction
from domain.identity import ActionWindow
from vision.faces import FaceModels
from vision.images import ImageLimits, decode_image

FPS_CHOICES = (15.0, 20.0, 24.0, 25.0, 30.0)
PORTRAIT, LANDSCAPE = (480, 640), (640, 480)
DURATIONS = {
    LivenessAction.BLINK: (0.25, 0.45),
    LivenessAction.OPEN_MOUTH: (0.8, 1.5),
    LivenessAction.NOD: (0.9, 1.6),
    LivenessAction.SHAKE_HEAD: (1.0, 1.8),
}
NOD_DEGREES, SHAKE_DEGREES = (15.0, 22.0), (22.0, 35.0)
JAW_DROP = (0.35, 0.6)  # mouth widths
GRID_STEP = 10
_UPPER_LIDS, _LOWER_LIDS = [37, 38, 43, 44], [41, 40, 47, 46]
_LOWER_LIP = [56, 57, 58, 65, 66, 67]
_LIP_CORNERS_LOW = [55, 59]
_CHIN = {4: 0.2, 5: 0.4, 6: 0.6, 7: 0.75, 8: 0.8, 9: 0.75, 10: 0.6, 11: 0.4, 12: 0.2}
_UPPER_INNER = [61, 62, 63]
_INNER = list(range(60, 68))
# Extra depth of the nose points over the ellipsoid, in half face widths.
_NOSE_DEPTH = {
    27: 0.12,
    28: 0.18,
    29: 0.26,
    30: 0.36,
    31: 0.16,
    32: 0.2,
    33: 0.24,
    34: 0.2,
    35: 0.16,
}


@dataclass(frozen=True)
class Filming:
    """How a clip is filmed: frame size (width, height), rate, camera movement, noise."""

    size: tuple[int, int]
    fps: float
    camera_moves: bool
    noise: float
    face_share: float

    @classmethod
    def draw(cls, rng: np.random.Generator, camera_moves: bool | None = None) -> Filming:
        return cls(
            size=PORTRAIT if rng.random() < 0.6 else LANDSCAPE,
            fps=float(rng.choice(FPS_CHOICES)),
            camera_moves=bool(rng.random() < 0.5) if camera_moves is None else camera_moves,
            noise=float(rng.uniform(1.5, 4.0)),
            face_share=float(rng.uniform(0.3, 0.5)),
        )

    def describe(self) -> str:
        orientation = "portrait" if self.size[1] > self.size[0] else "landscape"
        camera = "hand-held" if self.camera_moves else "propped"
        return f"{orientation} {self.fps:g} fps {camera}"


@dataclass(frozen=True)
class Act:
    action: LivenessAction
    start_s: float
    duration_s: float
    amount: float  # degrees for a turn (signed: its first direction), mouth widths for the jaw

    def phase(self, t: float) -> float | None:
        if not self.start_s <= t <= self.start_s + self.duration_s:
            return None
        return (t - self.start_s) / self.duration_s


def plan_acts(
    windows: Sequence[ActionWindow], rng: np.random.Generator, spontaneous: bool = True
) -> list[Act]:
    acts = []
    for window in windows:
        low, high = DURATIONS[window.action]
        duration = float(rng.uniform(low, high))
        latest = max(window.start_s + 0.1, window.end_s - duration - 0.1)
        start = float(rng.uniform(window.start_s + 0.1, latest))
        if window.action == LivenessAction.NOD:
            amount = float(rng.uniform(*NOD_DEGREES))
        elif window.action == LivenessAction.SHAKE_HEAD:
            amount = float(rng.uniform(*SHAKE_DEGREES)) * float(rng.choice([-1, 1]))
        elif window.action == LivenessAction.OPEN_MOUTH:
            amount = float(rng.uniform(*JAW_DROP))
        else:
            amount = 1.0
        acts.append(Act(window.action, start, duration, amount))
    end = max((w.end_s for w in windows), default=3.0)
    if spontaneous and rng.random() < 0.5:
        acts.append(Act(LivenessAction.BLINK, float(rng.uniform(0.2, end - 0.5)), 0.25, 1.0))
    return acts


def _smooth(phase: float) -> float:
    """0 -> 1 -> 0 in one raised-cosine movement."""
    return 0.5 - 0.5 * math.cos(2 * math.pi * phase)


def _blink_profile(phase: float) -> float:
    """Quick close, short hold, slower opening."""
    return float(np.interp(phase, [0, 0.25, 0.45, 1], [0, 1, 1, 0]))


@dataclass(frozen=True)
class Pose:
    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    blink: float = 0.0
    jaw: float = 0.0


def pose_at(acts: Sequence[Act], t: float, sway: np.ndarray) -> Pose:
    """The face at time t: the acts in progress plus the slow sway of a person holding still."""
    yaw = 1.2 * math.sin(2 * math.pi * 0.23 * t + sway[0]) + 0.6 * math.sin(1.7 * t + sway[1])
    pitch = 1.0 * math.sin(2 * math.pi * 0.31 * t + sway[2])
    roll = 0.8 * math.sin(2 * math.pi * 0.17 * t + sway[3])
    blink = jaw = 0.0
    for act in acts:
        phase = act.phase(t)
        if phase is None:
            continue
        if act.action == LivenessAction.BLINK:
            blink = max(blink, _blink_profile(phase))
        elif act.action == LivenessAction.OPEN_MOUTH:
            jaw = act.amount * _smooth(phase)
        elif act.action == LivenessAction.NOD:
            # down first, then up past rest a little, then back
            pitch += act.amount * math.sin(2 * math.pi * phase) * (1.0 if phase < 0.5 else 0.6)
        else:
            yaw += act.amount * math.sin(2 * math.pi * phase)
    return Pose(yaw, pitch, roll, blink, jaw)


class _Head:
    """The photo framed in the clip, its control points with their depths."""

    def __init__(self, rgb: np.ndarray, faces: FaceModels, filming: Filming) -> None:
        boxes = faces.detect(rgb)
        if not boxes:
            raise ValueError("no face in the photo")
        box = boxes[0]
        width, height = filming.size
        scale = width * filming.face_share / box.width
        cx, cy = box.center
        self.matrix = np.array(
            [[scale, 0, width / 2 - scale * cx], [0, scale, height * 0.47 - scale * cy]]
        )
        self.base = cv2.warpAffine(
            rgb, self.matrix, filming.size, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
        )
        marks = faces.landmarks(rgb, box) @ self.matrix[:, :2].T + self.matrix[:, 2]
        self.marks = marks
        self.centre = np.array([marks[:, 0].mean(), marks[:, 1].mean()])
        self.half_w = (marks[16, 0] - marks[0, 0]) / 2
        self.half_h = (marks[8, 1] - marks[19, 1]) / 2 * 1.15
        angles = np.linspace(0, 2 * np.pi, 16, endpoint=False)
        ring = self.centre + np.stack(
            [1.45 * self.half_w * np.cos(angles), 1.35 * self.half_h * np.sin(angles)], 1
        )
        far = self.centre + np.stack(
            [2.4 * self.half_w * np.cos(angles[::2]), 2.0 * self.half_h * np.sin(angles[::2])], 1
        )
        xs, ys = np.linspace(0, width - 1, 5), np.linspace(0, height - 1, 5)
        border = [(x, y) for x in xs for y in ys if x in (0, width - 1) or y in (0, height - 1)]
        self.points = np.vstack([marks, ring, far, np.array(border, float)])
        self.n_face, self.n_ring, self.n_far = 68, len(ring), len(far)
        rel = (self.points - self.centre) / [self.half_w, self.half_h]
        depth = np.sqrt(np.clip(1 - 0.85 * np.sum(rel**2, axis=1), 0, None)) * self.half_w
        for index, extra in _NOSE_DEPTH.items():
            depth[index] += extra * self.half_w
        depth[68 : 68 + self.n_ring] = 0.15 * self.half_w
        self.depth = depth
        self.pivot = np.array(
            [self.centre[0], self.centre[1] + 1.2 * self.half_h, -0.6 * self.half_w]
        )
        self.size = filming.size
        step = GRID_STEP
        gy, gx = np.mgrid[0 : height + step : step, 0 : width + step : step].astype(np.float64)
        self.grid = np.stack([gx.ravel(), gy.ravel()], 1)
        self.grid_shape = gx.shape

    def targets(self, pose: Pose) -> np.ndarray:
        points = self.points.copy()
        moving = self.n_face + self.n_ring
        xyz = np.hstack([points[:moving], self.depth[:moving, None]]) - self.pivot
        y, p, r = np.radians([pose.yaw, pose.pitch, pose.roll])
        about_y = np.array(
            [[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]]
        )
        about_x = np.array(
            [[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]]
        )
        about_z = np.array(
            [[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]]
        )
        turned = xyz @ (about_z @ about_x @ about_y).T + self.pivot
        points[:moving] = turned[:, :2]
        # the far ring follows the head a third of the way: neck, hair, shoulders
        shift = (turned[27:36, :2] - self.points[27:36]).mean(axis=0)
        points[moving : moving + self.n_far] += shift / 3
        face = points[:68]
        if pose.blink:
            gap = face[_LOWER_LIDS] - face[_UPPER_LIDS]
            face[_UPPER_LIDS] += 0.88 * pose.blink * gap
        if pose.jaw:
            mouth_width = np.linalg.norm(face[54] - face[48])
            drop = pose.jaw * mouth_width
            face[_LOWER_LIP, 1] += drop
            face[_LIP_CORNERS_LOW, 1] += 0.6 * drop
            face[_UPPER_INNER, 1] -= 0.05 * drop
            for index, weight in _CHIN.items():
                face[index, 1] += weight * drop
        return points

    def render(self, pose: Pose) -> np.ndarray:
        targets = self.targets(pose)
        frame = _thin_plate_warp(self.base, self.points, targets, self.grid, self.grid_shape)
        if pose.jaw > 0.05:
            _paint_cavity(frame, targets[_INNER], min(1.0, pose.jaw * 2.5))
        return frame


def _tps_kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d2 = np.sum((a[:, None, :] - b[None, :, :]) ** 2, axis=2) + 1e-12
    return d2 * np.log(d2)


def _thin_plate_warp(image, source, target, grid, grid_shape) -> np.ndarray:
    """Backward thin-plate spline: the map from target to source positions, interpolating the
    control points, evaluated on a coarse grid and bilinearly resized to the frame."""
    n = len(target)
    scale = max(image.shape[:2])
    t, s = target / scale, source / scale
    system = np.zeros((n + 3, n + 3))
    system[:n, :n] = _tps_kernel(t, t) + 1e-6 * np.eye(n)
    system[:n, n] = 1
    system[:n, n + 1 :] = t
    system[n, :n] = 1
    system[n + 1 :, :n] = t.T
    rhs = np.zeros((n + 3, 2))
    rhs[:n] = s
    # OpenCV's LU: numpy's threaded BLAS spins for a small system on a loaded machine
    _, coefficients = cv2.solve(system, rhs, flags=cv2.DECOMP_LU)
    g = grid / scale
    mapped = _tps_kernel(g, t) @ coefficients[:n] + coefficients[n] + g @ coefficients[n + 1 :]
    mapped = (mapped * scale).astype(np.float32).reshape(*grid_shape, 2)
    height, width = image.shape[:2]
    full_h, full_w = grid_shape[0] * GRID_STEP, grid_shape[1] * GRID_STEP
    dense = cv2.resize(mapped, (full_w, full_h), interpolation=cv2.INTER_LINEAR)
    dense = dense[:height, :width]
    return cv2.remap(
        image, dense[..., 0], dense[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
    )


def _paint_cavity(frame: np.ndarray, inner: np.ndarray, strength: float) -> None:
    """A dark cavity between the inner lips, lighter towards its edges, soft-edged."""
    height, width = frame.shape[:2]
    left, top = np.maximum(np.floor(inner.min(axis=0)).astype(int) - 6, 0)
    right, bottom = np.minimum(np.ceil(inner.max(axis=0)).astype(int) + 6, [width, height])
    if right <= left or bottom <= top:
        return
    region = frame[top:bottom, left:right]
    mask = np.zeros(region.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(inner - [left, top]).astype(np.int32)], 255, cv2.LINE_AA)
    rows = np.arange(bottom - top, dtype=np.float32)[:, None]
    depth = np.clip((rows - 6) / max(bottom - top - 12, 1.0), 0, 1)
    colour = np.array([70, 28, 30], np.float32) * (0.7 + 0.5 * np.abs(depth - 0.5))[..., None]
    alpha = cv2.GaussianBlur(mask, (7, 7), 0)[..., None] / 255.0 * strength
    region[:] = (region * (1 - alpha) + colour * alpha).astype(np.uint8)


class _Camera:
    """Hand shake (a random walk, smoothed) or a propped phone; sensor noise and flicker."""

    def __init__(self, filming: Filming, rng: np.random.Generator, frames: int) -> None:
        self.filming = filming
        self.rng = rng
        if filming.camera_moves:
            walk = np.cumsum(rng.normal(0, 1, (frames + 8, 4)), axis=0)
            kernel = np.ones(8) / 8
            smooth = np.stack([np.convolve(walk[:, k], kernel, "valid") for k in range(4)], 1)
            smooth -= smooth.mean(axis=0)
            self.path = smooth / (np.abs(smooth).max(axis=0) + 1e-6) * [7, 6, 1.2, 0.025]
        else:
            self.path = np.zeros((frames + 1, 4))
        self.flicker = rng.uniform(0, 2 * np.pi)
        # a few frames of sensor noise, drawn once and reused at random offsets: drawing a
        # fresh field per frame costs more than the rest of the rendering
        shape = (filming.size[1], filming.size[0], 3)
        self.noise = [
            rng.standard_normal(shape, dtype=np.float32) * filming.noise
            + rng.standard_normal(shape[:2] + (1,), dtype=np.float32) * filming.noise / 2
            for _ in range(4)
        ]

    def film(self, frame: np.ndarray, n: int, t: float) -> np.ndarray:
        width, height = self.filming.size
        dx, dy, angle, zoom = self.path[min(n, len(self.path) - 1)]
        if self.filming.camera_moves:
            matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1 + zoom)
            matrix[:, 2] += (dx, dy)
            frame = cv2.warpAffine(frame, matrix, (width, height), borderMode=cv2.BORDER_REFLECT)
        gain = 1 + 0.02 * math.sin(2 * math.pi * 0.9 * t + self.flicker)
        noise = self.noise[int(self.rng.integers(len(self.noise)))]
        shift = tuple(int(v) for v in self.rng.integers(0, 64, 2))
        noise = np.roll(noise, shift, axis=(0, 1))
        return np.clip(frame.astype(np.float32) * gain + noise, 0, 255).astype(np.uint8)


def encode(frames: Iterable[np.ndarray], fps: float, size: tuple[int, int]) -> bytes:
    handle, path = tempfile.mkstemp(prefix="heldout-", suffix=".mp4")
    os.close(handle)
    try:
        writer = cv2.VideoWriter(path, cv2.VideoWriter.fourcc(*"mp4v"), fps, size)
        if not writer.isOpened():
            raise RuntimeError("OpenCV cannot write mp4v video here")
        try:
            for frame in frames:
                writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        finally:
            writer.release()
        with open(path, "rb") as video:
            return video.read()
    finally:
        os.unlink(path)


def _rgb(photo: bytes | np.ndarray) -> np.ndarray:
    return (
        photo if isinstance(photo, np.ndarray) else decode_image(photo, ImageLimits(), max_side=960)
    )


def challenge_clip(
    photo: bytes | np.ndarray,
    windows: Sequence[ActionWindow],
    filming: Filming,
    *,
    seed: int,
    faces: FaceModels | None = None,
    tail_s: float = 0.6,
) -> bytes:
    """An MP4 of the person in `photo` performing each challenged action in its window."""
    rng = np.random.default_rng(seed)
    head = _Head(_rgb(photo), faces or FaceModels.shared(), filming)
    acts = plan_acts(windows, rng)
    sway = rng.uniform(0, 2 * np.pi, 4)
    count = int(round((max((w.end_s for w in windows), default=3.0) + tail_s) * filming.fps))
    camera = _Camera(filming, rng, count)
    frames = (
        camera.film(head.render(pose_at(acts, n / filming.fps, sway)), n, n / filming.fps)
        for n in range(count)
    )
    return encode(frames, filming.fps, filming.size)


def photo_clip(
    photo: bytes | np.ndarray, filming: Filming, seconds: float, *, seed: int, tilted: bool
) -> bytes:
    """The photo filmed as a flat picture: still, or held by a hand that tilts and turns it in
    depth (up to ~18 degrees each way) and moves it about."""
    rng = np.random.default_rng(seed)
    rgb = _rgb(photo)
    width, height = filming.size
    h, w = rgb.shape[:2]
    scale = 0.9 * min(width / w, height / h)
    count = int(round(seconds * filming.fps))
    camera = _Camera(filming, rng, count)
    speeds = rng.uniform(0.4, 1.3, 4)
    phases = rng.uniform(0, 2 * np.pi, 4)
    corners = np.array(
        [[-w / 2, -h / 2, 0], [w / 2, -h / 2, 0], [w / 2, h / 2, 0], [-w / 2, h / 2, 0]]
    )
    source = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    frames = []
    for n in range(count):
        t = n / filming.fps if tilted else 0.0
        yaw, pitch, dx, dy = (
            np.radians(18) * math.sin(speeds[0] * 2 * t + phases[0]),
            np.radians(15) * math.sin(speeds[1] * 2 * t + phases[1]),
            20 * math.sin(speeds[2] * t + phases[2]),
            15 * math.sin(speeds[3] * t + phases[3]),
        )
        rotation = cv2.Rodrigues(np.array([pitch, yaw, 0.0]))[0]
        turned = corners @ rotation.T
        distance = 2.5 * max(w, h)
        projected = turned[:, :2] * (distance / (distance + turned[:, 2:3])) * scale
        target = (projected + [width / 2 + dx, height / 2 + dy]).astype(np.float32)
        matrix = cv2.getPerspectiveTransform(source, target)
        frame = cv2.warpPerspective(rgb, matrix, filming.size, borderMode=cv2.BORDER_REPLICATE)
        frames.append(camera.film(frame, n, n / filming.fps))
    return encode(frames, filming.fps, filming.size)
