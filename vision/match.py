"""Face match: the selfie against every other picture of the applicant.

The selfie is the anchor: it must match the ID card portrait, the identity vendor's reference
portrait (when the vendor returned one) and the best liveness frame (when a video is given), each
below the policy's threshold. Matching the selfie to the card alone would let a fraudster pair a
stolen card with a look-alike; the reference portrait ties the face to the registry, the video
frame ties it to the live session.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vision.faces import face_distance


@dataclass(frozen=True)
class FaceMatchReport:
    threshold: float
    distance_card: float
    distance_reference: float | None
    distance_video: float | None

    @property
    def mismatched(self) -> list[str]:
        """Which comparisons failed, by the name of the picture compared with the selfie."""
        pairs = (
            ("card", self.distance_card),
            ("reference", self.distance_reference),
            ("video", self.distance_video),
        )
        return [name for name, d in pairs if d is not None and d >= self.threshold]

    @property
    def passed(self) -> bool:
        return not self.mismatched

    @property
    def worst_distance(self) -> float:
        given = [self.distance_card, self.distance_reference, self.distance_video]
        return max(d for d in given if d is not None)


def match_selfie(
    selfie: np.ndarray,
    card: np.ndarray,
    *,
    reference: np.ndarray | None,
    video: np.ndarray | None,
    threshold: float,
) -> FaceMatchReport:
    return FaceMatchReport(
        threshold=threshold,
        distance_card=face_distance(selfie, card),
        distance_reference=None if reference is None else face_distance(selfie, reference),
        distance_video=None if video is None else face_distance(selfie, video),
    )
