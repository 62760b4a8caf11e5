"""Frame sources: videos (incl. raw .264), image sequences, cameras, and sampling without decoding."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from posture.errors import SourceError
from posture.sources import ImageSequenceSource, VideoFileSource, WebcamSource, open_source, sample_frames

from footage import FOOTAGE, SLOUCH, need


def write_clip(path: Path, frames: int = 60, fps: float = 30.0, size: tuple[int, int] = (160, 120)) -> Path:
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for i in range(frames):
        img = np.full((size[1], size[0], 3), i * 4 % 255, np.uint8)
        cv2.putText(img, str(i), (10, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255), 2)
        w.write(img)
    w.release()
    return path


def test_sampling_skips_frames_without_decoding(tmp_path: Path) -> None:
    src = VideoFileSource(write_clip(tmp_path / "c.mp4", frames=90, fps=30))
    with src:
        frames = list(sample_frames(src, 2.0))
    assert [round(f.t, 3) for f in frames] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]
    assert src.frames_decoded == 6
    assert src.frames_skipped == 84  # grabbed, never converted or copied
    assert src.frames_read == 90


def test_raw_h264_stream_is_read() -> None:
    src = VideoFileSource(need(FOOTAGE / "office_desk_1280x720.264"))
    with src:
        frames = list(sample_frames(src, 5.0))
        assert src.fps == 25.0  # the stream reports a usable rate
    assert src.frames_read == 19
    assert frames[0].image.shape == (720, 1280, 3)
    assert len(frames) == 4  # t = 0, 0.2, 0.4, 0.6 at 25 fps


def test_image_sequence_natural_order_and_rate(tmp_path: Path) -> None:
    need(SLOUCH)
    src = ImageSequenceSource(SLOUCH / "upright", fps_in=1.0)
    with src:
        names = [p.name for p in src.files]
        frames = list(sample_frames(src, 0.5))
    assert names[:3] == ["sample-1542640808958-0.jpg", "sample-1542640808958-1.jpg", "sample-1542640808958-2.jpg"]
    assert names[-1].endswith("-14.jpg")
    assert [f.t for f in frames] == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0]
    assert src.frames_skipped == 7  # the skipped files were never even read


def test_image_glob(tmp_path: Path) -> None:
    for i in (10, 2, 1):
        cv2.imwrite(str(tmp_path / f"img{i}.png"), np.zeros((20, 20, 3), np.uint8))
    (tmp_path / "notes.txt").write_text("x")
    src = open_source(str(tmp_path / "img*.png"))
    assert isinstance(src, ImageSequenceSource)
    with src:
        assert [p.name for p in src.files] == ["img1.png", "img2.png", "img10.png"]


@pytest.mark.parametrize("maker, message", [
    (lambda d: d / "missing.mp4", "source not found"),
    (lambda d: (d / "empty").mkdir() or d / "empty", "no images found"),
])
def test_bad_sources_raise_clear_errors(tmp_path: Path, maker, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SourceError, match=message):
        src = open_source(str(maker(tmp_path)))
        src.open()


def test_broken_video_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(200))
    with pytest.raises(SourceError, match="cannot read video"):
        VideoFileSource(bad).open()


def test_truncated_video_ends_cleanly(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "full.avi", frames=60)  # avi keeps its index at the end: cut it off
    data = clip.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])
    try:
        src = VideoFileSource(cut)
        src.open()
    except SourceError:
        return  # refusing the file up front is also a clean outcome
    with src:
        frames = list(sample_frames(src, 10.0))
    assert len(frames) < 20  # it stopped where the data stopped, without hanging or raising


def test_webcam_that_does_not_open_is_a_clear_error() -> None:
    with pytest.raises(SourceError, match="camera 9 could not be opened"):
        WebcamSource(9).open()
