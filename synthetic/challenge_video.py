"""Challenge videos synthesised from one real photo, for tests, benchmarks and the demo.

A recorded sample cannot answer a random challenge, so the demo, the end-to-end tests and the
liveness benchmark make the video for the challenge they were issued: the photo's face is
animated by landmark-guided warping. Its 68 landmarks, forehead points, lid creases and lash
lines, a ring around the head and the frame border are triangulated once; for each frame the
points are moved the way the action moves them and every triangle is mapped affinely from the
photo. A blink brings the upper lids down onto the lower ones (the lid skin below the crease
unfolds over the eye, the lashes slide down whole); an open mouth drops the lower lip, the chin
and the jaw, and the gap between the lips is painted as a mouth cavity under the upper teeth;
both pause half-way. A head shake or nod turns the mean 3D face fitted to the landmarks
(`vision.headpose`) and moves each point by the displacement of its model point. A hand-held
camera (slow drift, zoom, tilt, light changes, sensor noise) and MPEG-4 compression finish it.

These are synthetic: good enough to exercise the pipeline end to end and to measure it, not
evidence of how it fares against real recordings or real attacks.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from domain.enums import LivenessAction
from domain.identity import ActionWindow
from vision.faces import FaceModels
from vision.headpose import MEAN_FACE, camera, fit, turn
from vision.images import ImageLimits, decode_image

VIDEO_SIZE = (480, 640)  # width, height: a phone held upright
VIDEO_FPS = 15.0
# How long each action takes, seconds: a deliberate blink, an open-and-close of the mouth, one
# full left-right turn, one down-up nod. Each fits a 2.5 s challenge window with room either side.
DURATION = {
    LivenessAction.BLINK: 0.5,
    LivenessAction.OPEN_MOUTH: 1.0,
    LivenessAction.SHAKE_HEAD: 1.4,
    LivenessAction.NOD: 1.2,
}
SHAKE_DEGREES = 24.0
# The lower lip's travel, in mouth widths, at the widest, by default: a yawn, frankly
# (`Performer.draw` draws people who open less).
MOUTH_DROP = 0.9
NOD_DEGREES = 16.0
_UPPER_LIDS, _LOWER_LIDS = [37, 38, 43, 44], [41, 40, 47, 46]
_LOWER_LIP = [55, 56, 57, 58, 59, 65, 66, 67]
_UPPER_INNER = [61, 62, 63]
_JAW = {5: 0.45, 6: 0.7, 7: 0.9, 8: 1.0, 9: 0.9, 10: 0.7, 11: 0.45}
_INNER_MOUTH = list(range(60, 68))
# Forehead points in the model: the brows raised and set back a little.
_FOREHEAD = MEAN_FACE[17:27] + np.array([0.0, -38.0, 6.0])
# Lid creases: part of the way from the upper lid's edge to the brow. In a blink the lid skin
# below the crease unfolds over the eye while the crease itself hardly moves; without these
# points the whole brow-to-lid area would slide down, crease included, and draw a new eye.
_CREASE_PAIRS = [(36, 18), (37, 19), (38, 20), (39, 21), (42, 22), (43, 23), (44, 24), (45, 25)]
_CREASE_AT = 0.4
_CREASE_FOLLOWS = 0.15


def _creases(points: np.ndarray) -> np.ndarray:
    return np.array(
        [(1 - _CREASE_AT) * points[a] + _CREASE_AT * points[b] for a, b in _CREASE_PAIRS]
    )


_CREASE = _creases(MEAN_FACE)
# The lash line: just above each upper lid point, moved with it, so that the dark lashes slide
# down whole instead of being stretched into a dark band that reads as a narrow open eye.
_LASH_ABOVE = 0.1  # of the eye's width
_UPPER_SHARE = 0.75  # of the closing done by the upper lid; the lower lid rises the rest
_MODEL = np.vstack([MEAN_FACE, _FOREHEAD, _CREASE, MEAN_FACE[_UPPER_LIDS]])


@dataclass(frozen=True)
class Performance:
    """One action as performed: what, from when, for how long (seconds)."""

    action: LivenessAction
    start_s: float
    duration_s: float

    def phase(self, t: float) -> float | None:
        """0..1 through the action at time t, None outside it."""
        if not self.start_s <= t <= self.start_s + self.duration_s:
            return None
        return (t - self.start_s) / self.duration_s


def perform(
    windows: Sequence[ActionWindow],
    seed: int = 0,
    *,
    late: bool = False,
    blink_s: float = DURATION[LivenessAction.BLINK],
) -> list[Performance]:
    """Each challenged action started at a random moment inside its own window, done before
    the window ends; `late`: a slow reaction, 0.6 s into the window or later, that may run up
    to 70 % of the action past the window's end."""
    rng = np.random.default_rng(seed)
    plan = []
    for window in windows:
        duration = blink_s if window.action == LivenessAction.BLINK else DURATION[window.action]
        if late:
            earliest = window.start_s + 0.6
            latest = max(earliest, window.end_s - 0.3 * duration)
        else:
            earliest = window.start_s + 0.2
            latest = max(earliest, window.end_s - duration - 0.2)
        plan.append(Performance(window.action, float(rng.uniform(earliest, latest)), duration))
    return plan


# (phase, amount) corners of each action's envelope, linear in between. Both close or open in
# two steps, pausing half-way: the landmark predictor follows a half-shut eye or a half-open
# mouth on some faces and a fully shut or wide-open one on others, and a person's movement
# has such pauses too.
_STEPS = {
    LivenessAction.BLINK: ((0, 0), (0.2, 0.75), (0.4, 0.75), (0.5, 1), (0.7, 1), (1, 0)),
    LivenessAction.OPEN_MOUTH: ((0, 0), (0.25, 0.55), (0.45, 0.55), (0.6, 1), (0.7, 1), (1, 0)),
}


@dataclass(frozen=True)
class Performer:
    """How one person performs: how far they nod, turn and open the mouth, how their nod
    returns, and how deep their face is against the mean 3D face the pose is measured with
    (`depth` scales the model's depth: a flatter face moves its landmarks less for the same
    turn, so the measured angle falls short of the performed one, as on real faces that are
    not the mean face). The defaults are the synthesis's original fixed performance."""

    nod_degrees: float = NOD_DEGREES
    nod_return: float = 1.0  # the upward swing past rest, as a share of the downward one
    shake_degrees: float = SHAKE_DEGREES
    mouth_drop: float = MOUTH_DROP
    depth: float = 1.0
    blink_s: float = DURATION[LivenessAction.BLINK]  # lids down and up again, seconds

    @classmethod
    def draw(cls, rng: np.random.Generator) -> Performer:
        """A person drawn from the ranges people perform in: a nod of 10-20 degrees that comes
        back with at most a small overshoot, a shake of 15-30 degrees each way, a mouth opened
        by 0.15-0.9 mouth widths (lips just parted to a yawn), a face 0.6-1.0 as deep as the
        mean, a blink of 0.2-0.5 s (the lids fully down for a fifth of it: 40-100 ms, as in
        a quick spontaneous blink, up to a slow deliberate one)."""
        return cls(
            nod_degrees=float(rng.uniform(10, 20)),
            nod_return=float(rng.uniform(0.0, 0.4)),
            shake_degrees=float(rng.uniform(15, 30)),
            mouth_drop=float(rng.uniform(0.15, 0.9)),
            depth=float(rng.uniform(0.6, 1.0)),
            blink_s=float(rng.uniform(0.2, 0.5)),
        )


def _envelope(phase: float, action: LivenessAction) -> float:
    corners = _STEPS[action]
    return float(np.interp(phase, [p for p, _ in corners], [a for _, a in corners]))


def _state(plan: Sequence[Performance], t: float, person: Performer) -> dict[str, float]:
    state = {"blink": 0.0, "mouth": 0.0, "yaw": 0.0, "pitch": 0.0}
    for step in plan:
        phase = step.phase(t)
        if phase is None:
            continue
        if step.action == LivenessAction.BLINK:
            state["blink"] = _envelope(phase, step.action)
        elif step.action == LivenessAction.OPEN_MOUTH:
            state["mouth"] = _envelope(phase, step.action)
        elif step.action == LivenessAction.SHAKE_HEAD:
            state["yaw"] = person.shake_degrees * math.sin(2 * math.pi * phase)
        else:
            swing = 1.0 if phase < 0.5 else person.nod_return
            state["pitch"] = person.nod_degrees * swing * math.sin(2 * math.pi * phase)
    return state


class _Puppet:
    """The photo framed for the video, its control points and their triangulation."""

    def __init__(self, rgb: np.ndarray, faces: FaceModels, person: Performer) -> None:
        self.person = person
        # the model turned with the head: the mean face, its depth scaled to this person's
        self.model = _MODEL * [1.0, 1.0, person.depth]
        boxes = faces.detect(rgb)
        if not boxes:
            raise ValueError("no face in the photo")
        box = boxes[0]
        out_w, out_h = VIDEO_SIZE
        # the face fills ~45% of the frame's width, eyes a little above the middle; where a
        # small photo does not reach the frame's edges its border pixels are repeated (a
        # reflection would add mirrored faces)
        scale = out_w * 0.45 / box.width
        cx, cy = box.center
        self.frame_matrix = np.array(
            [[scale, 0, out_w / 2 - scale * cx], [0, scale, out_h * 0.45 - scale * cy]]
        )
        self.base = cv2.warpAffine(
            rgb,
            self.frame_matrix,
            VIDEO_SIZE,
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        landmarks = faces.landmarks(rgb, box)
        self.landmarks = landmarks @ self.frame_matrix[:, :2].T + self.frame_matrix[:, 2]
        self.rvec, self.tvec = fit(self.landmarks, VIDEO_SIZE)
        self.k = camera(*VIDEO_SIZE)
        projected, _ = cv2.projectPoints(self.model, self.rvec, self.tvec, self.k, None)
        self.model_2d = projected.reshape(-1, 2)
        forehead = self.model_2d[68:78]
        crease = _creases(self.landmarks)
        eye_width = np.linalg.norm(self.landmarks[39] - self.landmarks[36])
        lashes = self.landmarks[_UPPER_LIDS] - [0, _LASH_ABOVE * eye_width]
        centre = self.landmarks.mean(axis=0)
        half = np.ptp(self.landmarks, axis=0) / 2
        angles = np.linspace(0, 2 * np.pi, 20, endpoint=False)
        ring = centre + np.stack([np.cos(angles), np.sin(angles)], 1) * half * [1.7, 1.9]
        xs, ys = [0, out_w / 2, out_w - 1], [0, out_h / 3, 2 * out_h / 3, out_h - 1]
        border = [(x, y) for x in xs for y in ys if x in (0, out_w - 1) or y in (0, out_h - 1)]
        edges = np.array(border, float)
        self.points = np.vstack([self.landmarks, forehead, crease, lashes, ring, edges])
        self.n_face, self.n_ring = 68 + len(forehead) + len(crease) + len(lashes), len(ring)
        self.triangles = _delaunay(self.points, VIDEO_SIZE)
        grid_y, grid_x = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
        self.grid = (grid_x, grid_y)

    def targets(self, state: dict[str, float]) -> np.ndarray:
        points = self.points.copy()
        if state["yaw"] or state["pitch"]:
            rotation = turn(state["yaw"], state["pitch"]) @ cv2.Rodrigues(self.rvec)[0]
            rvec = cv2.Rodrigues(rotation)[0]
            moved, _ = cv2.projectPoints(self.model, rvec, self.tvec, self.k, None)
            shift = moved.reshape(-1, 2) - self.model_2d
            points[: self.n_face] += shift
            ring = slice(self.n_face, self.n_face + self.n_ring)
            points[ring] += 0.5 * shift[list(range(27, 36))].mean(axis=0)
        face = points[:68]
        if state["blink"]:
            a = 0.95 * state["blink"]
            gap = face[_LOWER_LIDS] - face[_UPPER_LIDS]
            travel = a * _UPPER_SHARE * gap
            face[_UPPER_LIDS] += travel
            face[_LOWER_LIDS] -= a * (1 - _UPPER_SHARE) * gap
            creases = points[78:86]
            creases[[1, 2, 5, 6]] += _CREASE_FOLLOWS * travel
            points[86:90] += travel
        if state["mouth"]:
            width = np.linalg.norm(face[54] - face[48])
            drop = self.person.mouth_drop * width * state["mouth"]
            face[_LOWER_LIP, 1] += drop
            face[_UPPER_INNER, 1] -= 0.08 * width * state["mouth"]
            for index, weight in _JAW.items():
                face[index, 1] += weight * drop
        return points

    def render(self, state: dict[str, float]) -> np.ndarray:
        targets = self.targets(state)
        frame = _warp(self.base, self.points, targets, self.triangles, self.grid)
        if state["mouth"] > 0.1:
            _paint_mouth(frame, targets[_INNER_MOUTH], state["mouth"])
        return frame


def _delaunay(points: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    subdiv = cv2.Subdiv2D((-1, -1, size[0] + 2, size[1] + 2))
    clipped = np.clip(points, [0, 0], [size[0] - 1, size[1] - 1])
    for x, y in clipped:
        subdiv.insert((float(x), float(y)))
    triangles = []
    for t in np.asarray(subdiv.getTriangleList()).reshape(-1, 3, 2):
        index = [int(np.argmin(np.linalg.norm(clipped - corner, axis=1))) for corner in t]
        if len(set(index)) == 3:
            triangles.append(index)
    return np.array(triangles)


def _warp(image, src, dst, triangles, grid) -> np.ndarray:
    """Piecewise-affine warp: each pixel of a destination triangle samples the source through
    that triangle's own affine map."""
    height, width = image.shape[:2]
    labels = np.zeros((height, width), np.int32)
    maps = np.zeros((len(triangles) + 1, 2, 3), np.float32)
    maps[0] = [[1, 0, 0], [0, 1, 0]]
    for n, tri in enumerate(triangles, start=1):
        d, s = dst[tri].astype(np.float32), src[tri].astype(np.float32)
        u, v = d[1] - d[0], d[2] - d[0]
        if abs(u[0] * v[1] - u[1] * v[0]) < 1e-3:  # a collapsed triangle (a shut eye)
            continue
        maps[n] = cv2.getAffineTransform(d, s)
        cv2.fillConvexPoly(labels, np.round(d).astype(np.int32), n)
    m = maps[labels]
    grid_x, grid_y = grid
    map_x = m[..., 0, 0] * grid_x + m[..., 0, 1] * grid_y + m[..., 0, 2]
    map_y = m[..., 1, 0] * grid_x + m[..., 1, 1] * grid_y + m[..., 1, 2]
    return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _paint_mouth(frame: np.ndarray, inner: np.ndarray, amount: float) -> None:
    """The open mouth between the inner lips: a dark cavity, darkest at its centre, under a
    band of upper teeth, with soft edges."""
    height, width = frame.shape[:2]
    mask = np.zeros((height, width), np.uint8)
    cv2.fillPoly(mask, [np.round(inner).astype(np.int32)], 255, lineType=cv2.LINE_AA)
    top, bottom = inner[:, 1].min(), inner[:, 1].max()
    rows = np.arange(height, dtype=np.float32)[:, None]
    depth = np.clip((rows - top) / max(bottom - top, 1.0), 0, 1)
    teeth = depth < 0.22
    shade = 1.0 - 0.6 * np.sin(np.pi * depth)
    dark = np.array([95, 35, 40]) * shade[..., None]
    cavity = np.where(teeth[..., None], np.array([[[225, 215, 200]]]), dark)
    alpha = cv2.GaussianBlur(mask, (5, 5), 0)[..., None] / 255.0 * min(1.0, amount * 1.5)
    frame[:] = (frame * (1 - alpha) + cavity * alpha).astype(np.uint8)


def _propped(frame: np.ndarray, t: float, phases: np.ndarray, rng) -> np.ndarray:
    """A phone standing on a desk: the frame does not move; only the sensor's noise changes."""
    noisy = frame.astype(np.float32) + rng.normal(0, 2.0, frame.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def _hand_held(frame: np.ndarray, t: float, phases: np.ndarray, rng) -> np.ndarray:
    frequencies = (0.3, 0.7, 0.25, 0.5, 0.2, 0.35)
    waves = [math.sin(2 * math.pi * f * t + p) for f, p in zip(frequencies, phases, strict=True)]
    width, height = VIDEO_SIZE
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), 1.5 * waves[0], 1 + 0.03 * waves[1])
    matrix[:, 2] += np.array([5 * waves[2], 4 * waves[3]])
    moved = cv2.warpAffine(frame, matrix, VIDEO_SIZE, borderMode=cv2.BORDER_REPLICATE)
    gain = 1.0 + 0.07 * waves[4]
    noisy = moved.astype(np.float32) * gain + rng.normal(0, 2.0, moved.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def synthesize_challenge_video(
    photo: bytes | np.ndarray,
    windows: Sequence[ActionWindow],
    *,
    seed: int = 0,
    faces: FaceModels | None = None,
    fps: float = VIDEO_FPS,
    tail_s: float = 0.5,
    late: bool = False,
    propped: bool = False,
    person: Performer | None = None,
) -> bytes:
    """An MP4 (mp4v, 480 x 640) of the person in `photo` (image bytes or an RGB array)
    performing each challenged action inside its window, in the challenge's order (`late`:
    reacting slowly, see `perform`), filmed until `tail_s` after the last window by a hand-held
    camera, or by a phone standing still (`propped`); performed as `person` does (by default
    the fixed original performance, `Performer()`).

    Raises ValueError when the photo shows no face."""
    if isinstance(photo, np.ndarray):
        rgb = photo
    else:
        rgb = decode_image(photo, ImageLimits(), max_side=960)
    person = person or Performer()
    puppet = _Puppet(rgb, faces or FaceModels.shared(), person)
    plan = perform(windows, seed, late=late, blink_s=person.blink_s)
    duration = max((w.end_s for w in windows), default=3.0) + tail_s
    rng = np.random.default_rng(seed + 1)
    phases = rng.uniform(0, 2 * np.pi, 6)
    camera = _propped if propped else _hand_held
    frames = (
        camera(puppet.render(_state(plan, n / fps, person)), n / fps, phases, rng)
        for n in range(int(round(duration * fps)))
    )
    return encode_video(frames, fps)


def encode_video(frames, fps: float) -> bytes:
    """RGB frames to MP4 (mp4v) bytes, through a private temporary file (OpenCV writes paths)."""
    handle, path = tempfile.mkstemp(prefix="synth-", suffix=".mp4")
    os.close(handle)
    try:
        writer = cv2.VideoWriter(path, cv2.VideoWriter.fourcc(*"mp4v"), fps, VIDEO_SIZE)
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
