"""Passive anti-spoofing: is the face in a frame a live face, or a print or a screen held up to
the camera? Two MiniFASNet models (Silent-Face-Anti-Spoofing by minivision-ai, ONNX exports of
yakhyo/face-anti-spoofing; see assets/models/README.md) look at the face at two context sizes,
2.7x and 4x the face box, and their softmax outputs are averaged, as their authors do. Class 1
is "real"; 0 and 2 are the two kinds of attack they were trained on.

The models were trained on boxes from a RetinaFace-style detector; dlib's tighter HOG box gives
the same verdicts on the three sample images (real 1.00; print 0.03, screen 0.32) whether it is
used as is or grown by up to 30%, so it is used as is. The real photos in assets/faces score
0.65-1.00. Loaded once per process; onnxruntime sessions are safe to call from several threads.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import ClassVar

import cv2
import numpy as np
import onnxruntime as ort

from vision.faces import FaceBox

MODELS = Path(__file__).resolve().parent.parent / "assets" / "models"
# (file, crop scale) as published with the weights
SPOOF_MODELS = (("MiniFASNetV2.onnx", 2.7), ("MiniFASNetV1SE.onnx", 4.0))
INPUT_SIDE = 80
REAL_CLASS = 1


class SpoofDetector:
    _instance: ClassVar[SpoofDetector | None] = None
    _instance_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, models: Path = MODELS, threads: int = 1) -> None:
        options = ort.SessionOptions()
        if threads > 0:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        self._sessions = [
            (
                ort.InferenceSession(
                    str(models / name), options, providers=["CPUExecutionProvider"]
                ),
                scale,
            )
            for name, scale in SPOOF_MODELS
        ]

    @classmethod
    def shared(cls, threads: int = 1) -> SpoofDetector:
        with cls._instance_lock:
            if cls._instance is None:
                cls._instance = cls(threads=threads)
            return cls._instance

    def warm(self) -> None:
        self.real_probability(np.zeros((120, 120, 3), np.uint8), FaceBox(30, 90, 90, 30))

    def real_probability(self, rgb: np.ndarray, box: FaceBox) -> float:
        """Mean probability, over both models, that the face in `box` is live."""
        bgr = np.ascontiguousarray(rgb[..., ::-1])
        probabilities = []
        for session, scale in self._sessions:
            crop = crop_for_model(bgr, box, scale)
            tensor = crop.astype(np.float32).transpose(2, 0, 1)[None]
            logits = session.run(None, {session.get_inputs()[0].name: tensor})[0][0]
            exp = np.exp(logits - logits.max())
            probabilities.append(float(exp[REAL_CLASS] / exp.sum()))
        return float(np.mean(probabilities))


def crop_for_model(bgr: np.ndarray, box: FaceBox, scale: float) -> np.ndarray:
    """The face box grown by `scale` about its centre (less where the image is too small),
    shifted to stay inside the image, resized to 80 x 80: Silent-Face's own cropping."""
    height, width = bgr.shape[:2]
    box_w, box_h = max(box.width, 1), max(box.height, 1)
    scale = min((height - 1) / box_h, (width - 1) / box_w, scale)
    new_w, new_h = box_w * scale, box_h * scale
    cx, cy = box.left + box_w / 2, box.top + box_h / 2
    left, top = cx - new_w / 2, cy - new_h / 2
    right, bottom = cx + new_w / 2, cy + new_h / 2
    if left < 0:
        right, left = right - left, 0
    if top < 0:
        bottom, top = bottom - top, 0
    if right > width - 1:
        left, right = left - (right - width + 1), width - 1
    if bottom > height - 1:
        top, bottom = top - (bottom - height + 1), height - 1
    crop = bgr[int(top) : int(bottom) + 1, int(left) : int(right) + 1]
    return cv2.resize(crop, (INPUT_SIDE, INPUT_SIDE))
