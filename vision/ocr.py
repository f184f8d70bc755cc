"""Text recognition with RapidOCR (PP-OCR detection, direction and recognition models, ONNX,
shipped inside the `rapidocr` wheel: nothing is downloaded).

One reader per process (`OcrReader.shared()`): the three ONNX sessions are read-only and
onnxruntime's `run` is safe to call from several threads, and RapidOCR's per-call objects hold
only configuration. The direction classifier is on, so a line printed upside down is read right
side up while its box stays where it is on the card: that is how the reader tells a card turned
by half a turn from an upright one in a single pass.
"""

from __future__ import annotations

import logging
import threading
from typing import ClassVar

import cv2
import numpy as np
from rapidocr import RapidOCR
from rapidocr.ch_ppocr_rec import TextRecOutput
from rapidocr.utils.output import RapidOCROutput

from vision.idfields import TextLine

# Lines the recogniser itself scores below this are noise (background guilloche, glare).
MIN_LINE_SCORE = 0.5
# The card is read at its own 856 x 540 frame: detecting at a 540 px short side (instead of
# RapidOCR's 736) keeps every line and costs half the time (measured on the synthetic set).
DETECT_SHORT_SIDE = 540


class OcrReader:
    _instance: ClassVar[OcrReader | None] = None
    _instance_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, threads: int = 0) -> None:
        """`threads` caps onnxruntime's threads per call; 0 lets it use every core. A worker
        that runs one activity per core gets more from one thread each than from contention."""
        params: dict[str, object] = {
            "Global.log_level": "warning",
            "Global.use_cls": True,
            "Global.text_score": MIN_LINE_SCORE,
            "Det.limit_side_len": DETECT_SHORT_SIDE,
        }
        if threads > 0:
            params["EngineConfig.onnxruntime.intra_op_num_threads"] = threads
            params["EngineConfig.onnxruntime.inter_op_num_threads"] = 1
        self._ocr = RapidOCR(params=params)
        # Recognition alone, for a second look at one value's box (the same model file, its
        # own session: the pipeline's switches are per instance, not per call).
        self._rec = RapidOCR(params={**params, "Global.use_det": False, "Global.use_cls": False})
        # RapidOCR attaches its own handler and level to its logger; logging is configured by
        # the entrypoints, so keep it quiet below warnings whatever the root level is.
        logging.getLogger("RapidOCR").setLevel(logging.WARNING)

    @classmethod
    def shared(cls, threads: int = 0) -> OcrReader:
        with cls._instance_lock:
            if cls._instance is None:
                cls._instance = cls(threads)
            return cls._instance

    def warm(self) -> None:
        """Load the three models and run them once, so the first card is not slower."""
        blank = np.full((120, 400, 3), 235, np.uint8)
        cv2.putText(blank, "2016.06.15", (20, 80), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (20, 20, 20), 3)
        self.read(blank)
        self.read_line(blank)

    def read_line(self, rgb: np.ndarray) -> tuple[str, float]:
        """The text of an image holding a single line, and its score ("" when nothing)."""
        if rgb.ndim != 3 or rgb.shape[0] < 4 or rgb.shape[1] < 4:
            return "", 0.0
        result = self._rec(np.ascontiguousarray(rgb[..., ::-1]))
        if not isinstance(result, TextRecOutput) or not result.txts or not result.scores:
            return "", 0.0
        return str(result.txts[0]), float(result.scores[0])

    def read(self, rgb: np.ndarray) -> list[TextLine]:
        """Every line found in the image, boxes in its pixels."""
        result = self._ocr(np.ascontiguousarray(rgb[..., ::-1]))
        if not isinstance(result, RapidOCROutput) or result.boxes is None:
            return []
        if result.txts is None or result.scores is None:
            return []
        lines = []
        for box, text, score in zip(result.boxes, result.txts, result.scores, strict=True):
            points = np.asarray(box, dtype=np.float64)
            lines.append(
                TextLine(
                    text=str(text),
                    score=float(score),
                    left=float(points[:, 0].min()),
                    top=float(points[:, 1].min()),
                    right=float(points[:, 0].max()),
                    bottom=float(points[:, 1].max()),
                )
            )
        return lines
