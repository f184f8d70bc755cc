"""Decoding uploaded videos and sampling their frames."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from domain.reasons import ReasonCode
from tests.vision.support import SAMPLES, face_bytes, write_video
from vision.video import BadVideo, VideoLimits, open_video, sample_video


@pytest.mark.parametrize(
    "data",
    [b"", bytes(range(256)) * 40, b"\x00\x00\x00\x18ftypmp42" + bytes(3000)],
    ids=["empty", "noise", "mp4-header-only"],
)
def test_undecodable_video_is_refused(data: bytes) -> None:
    with pytest.raises(BadVideo) as caught:
        sample_video(data, VideoLimits())
    assert caught.value.reason == ReasonCode.I006_IMAGE_UNREADABLE


def test_a_photo_is_not_a_video() -> None:
    # FFmpeg alone would open a JPEG as a one-frame video: the container sniff refuses it.
    with pytest.raises(BadVideo) as caught:
        sample_video(face_bytes("examples_obama-240p.jpg"), VideoLimits())
    assert caught.value.reason == ReasonCode.I006_IMAGE_UNREADABLE
    assert "not an MP4" in caught.value.detail


def test_video_over_the_byte_limit_is_refused() -> None:
    data = (SAMPLES / "approve" / "liveness.mp4").read_bytes()
    with pytest.raises(BadVideo) as caught:
        sample_video(data, VideoLimits(max_bytes=1000))
    assert "larger than" in caught.value.detail


def test_frames_larger_than_the_limit_are_refused_before_decoding() -> None:
    data = (SAMPLES / "approve" / "liveness.mp4").read_bytes()
    with pytest.raises(BadVideo) as caught:
        sample_video(data, VideoLimits(max_frame_pixels=320 * 240))
    assert "exceed" in caught.value.detail


def test_sample_video_is_sampled_at_ten_per_second() -> None:
    data = (SAMPLES / "approve" / "liveness.mp4").read_bytes()
    with open_video(data, VideoLimits()) as stream:
        assert (stream.width, stream.height, stream.fps) == (480, 640, 15.0)
        frames = list(stream.frames())
        assert stream.frames_decoded == 120
    # two of every three 15 fps frames: the first at or after each tenth of a second
    assert len(frames) == 80
    assert [f.index for f in frames[:6]] == [0, 2, 3, 5, 6, 8]
    assert all(0 <= f.t_s - n / 10 < 1 / 15 for n, f in enumerate(frames))
    assert all(f.rgb.shape == (640, 480, 3) and f.rgb.dtype == np.uint8 for f in frames)


def test_sampling_stops_at_the_time_limit_and_downscales(tmp_path: Path) -> None:
    frames = [np.full((720, 1280, 3), n * 4, dtype=np.uint8) for n in range(60)]
    data = write_video(tmp_path / "long.mp4", frames, fps=30)
    sampled = sample_video(data, VideoLimits(), sample_fps=4, max_seconds=1.0)
    assert [f.index for f in sampled] == [0, 8, 15, 23, 30]
    assert sampled[-1].t_s <= 1.0
    assert sampled[0].rgb.shape == (360, 640, 3)


def test_every_frame_up_to_30_a_second_inside_the_dense_intervals(tmp_path: Path) -> None:
    frames = [np.full((240, 320, 3), n * 4, dtype=np.uint8) for n in range(60)]
    data = write_video(tmp_path / "clip60.mp4", frames, fps=60)
    sampled = sample_video(data, VideoLimits(), dense=[(0.25, 0.5)])
    regular = [f.index for f in sampled if not f.dense]
    assert regular == [f.index for f in sample_video(data, VideoLimits())]  # unchanged
    dense = [f for f in sampled if f.dense]
    # between the regular samples (frames 12, 18, 24, 30): the first frame at or after each
    # thirtieth of a second from the interval's first frame on
    assert [f.index for f in dense] == [15, 16, 20, 22, 26, 28]
    assert all(0.25 <= f.t_s <= 0.5 for f in dense)
    assert [f.t_s for f in sampled] == sorted(f.t_s for f in sampled)


def test_webm_recorded_by_a_browser_decodes(tmp_path: Path) -> None:
    frames = [np.full((240, 320, 3), n * 8, dtype=np.uint8) for n in range(30)]
    path = tmp_path / "clip.webm"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"VP80"), 15, (320, 240))
    assert writer.isOpened()
    for frame in frames:
        writer.write(frame)
    writer.release()
    sampled = sample_video(path.read_bytes(), VideoLimits())
    assert len(sampled) == 20
