"""The challenge-video synthesiser used by the demo, the end-to-end tests and the benchmarks:
each action inside its window, a readable MP4 of the expected length, refusal without a face."""

from __future__ import annotations

import pytest

from domain.enums import LivenessAction as A
from domain.identity import ActionWindow
from synthetic.challenge_video import DURATION, perform, synthesize_challenge_video
from tests.vision.support import SAMPLES, face_bytes
from vision.video import VideoLimits, open_video


def windows(*actions: A) -> list[ActionWindow]:
    return [
        ActionWindow(action=a, start_s=2.5 * n, end_s=2.5 * (n + 1)) for n, a in enumerate(actions)
    ]


@pytest.mark.parametrize("seed", range(20))
def test_every_action_is_performed_inside_its_window(seed: int) -> None:
    challenge = windows(A.NOD, A.SHAKE_HEAD, A.OPEN_MOUTH, A.BLINK)
    plan = perform(challenge, seed)
    assert [p.action for p in plan] == [w.action for w in challenge]
    for step, window in zip(plan, challenge, strict=True):
        assert step.duration_s == DURATION[window.action]
        assert window.start_s < step.start_s and step.start_s + step.duration_s < window.end_s


def test_the_video_is_a_readable_mp4_covering_the_challenge() -> None:
    data = synthesize_challenge_video(
        face_bytes("examples_obama-240p.jpg"), windows(A.BLINK), seed=1
    )
    with open_video(data, VideoLimits()) as stream:
        assert (stream.width, stream.height, stream.fps) == (480, 640, 15.0)
        frames = list(stream.frames())
    assert frames[-1].t_s == pytest.approx(2.9, abs=0.07)  # the window and half a second


def test_a_photo_without_a_face_is_refused() -> None:
    with pytest.raises(ValueError, match="no face"):
        synthesize_challenge_video(
            (SAMPLES / "approve" / "id_back.jpg").read_bytes(), windows(A.NOD)
        )


@pytest.mark.parametrize("propped", [False, True])
def test_a_propped_phone_does_not_move_and_a_hand_held_one_does(propped: bool) -> None:
    """The frame's corner, far from the face: still (noise and compression only) when the phone
    stands on a desk, swaying when a hand holds it."""
    data = synthesize_challenge_video(
        face_bytes("examples_obama-240p.jpg"), windows(A.BLINK), seed=1, propped=propped
    )
    with open_video(data, VideoLimits()) as stream:
        corners = [f.rgb[:80, :80].astype(float) for f in stream.frames()]
    change = max(abs(c - corners[0]).mean() for c in corners)
    assert (change < 4.0) if propped else (change > 4.0), change
