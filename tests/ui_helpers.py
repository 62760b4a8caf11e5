"""Shared pieces for the Qt tests: a guard against message boxes, run arguments, real-footage sources.

Import the fixture into a test module (`from ui_helpers import no_message_boxes`) and it applies to
every test there: an unexpected QMessageBox fails the test instead of blocking it forever offscreen.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from posture.analyzer import Analysis, Analyzer
from posture.person import default_finder
from posture.sources import FrameSource

from footage import FOOTAGE, build_held_sequence, need

SINGLE_FACE = FOOTAGE / "webcam_single_face.mp4"


@pytest.fixture(autouse=True)
def no_message_boxes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Any message box is a failure: the app promises notes and inline text, never a dialog storm."""
    from PySide6.QtWidgets import QMessageBox

    seen: list[str] = []

    def refuse(name: str) -> Any:
        def boom(*args: Any, **kwargs: Any) -> Any:
            text = " | ".join(str(a) for a in args if isinstance(a, str))
            seen.append(f"{name}: {text}")
            pytest.fail(f"unexpected message box ({name}): {text}")

        return boom

    for name in ("exec", "exec_", "open", "show", "critical", "warning", "information", "question", "about"):
        if hasattr(QMessageBox, name):
            monkeypatch.setattr(QMessageBox, name, refuse(name))
    yield seen


def run_args(**overrides: Any) -> argparse.Namespace:
    """The arguments `posture run` would parse, with test-friendly defaults (no history)."""
    values: dict[str, Any] = {
        "source": None, "headless": False, "realtime": False, "loop": False, "calibrate_from": None,
        "profile": None, "db": None, "no_history": True, "duration": None, "start_time": None, "fps_in": 1.0,
        "screenshot": None, "quiet": True,
    }
    values.update(overrides)
    return argparse.Namespace(**values)


def slouch_sequence(tmp: Path) -> tuple[Path, float]:
    """Upright for calibration, then slouched and upright stretches (1 fps image sequence, symlinks)."""
    folder, _labels, calib_end = build_held_sequence(tmp / "seq", calib_frames=5, calib_hold=2, hold=8)
    return folder, calib_end


def single_face_clip() -> Path:
    return need(SINGLE_FACE)


def analyses_from(paths: list[Path]) -> list[tuple[Any, Analysis]]:
    """Real frames with their real analysis (MediaPipe), as the monitor would hand them to a window."""
    import cv2

    finder = default_finder()
    analyzer = Analyzer(finder)
    out = []
    try:
        for i, path in enumerate(paths):
            image = cv2.imread(str(path))
            assert image is not None, path
            out.append((image, analyzer.process(image, float(i), 1_700_000_000.0 + i)))
    finally:
        finder.close()
    return out


def video_frames(path: Path, count: int, step: int = 1) -> list[Any]:
    import cv2

    cap = cv2.VideoCapture(str(path))
    frames: list[Any] = []
    try:
        i = 0
        while len(frames) < count:
            ok, frame = cap.read()
            if not ok:
                break
            if i % step == 0:
                frames.append(frame)
            i += 1
    finally:
        cap.release()
    return frames


class FakeFinder:
    """A person finder that never finds anyone: for tests about the loop, not about posture (no MediaPipe)."""

    def __init__(self) -> None:
        self.closed = False

    def presence(self, frame: Any) -> int:
        return 0

    def find(self, frame: Any) -> Any:
        from posture.person import Detection, Validity

        return Detection(None, Validity(False, "no person found"), 0)

    def close(self) -> None:
        self.closed = True


class CountingSource(FrameSource):
    """Wraps a frame source and counts open/close, so a test can see the camera being released."""

    live = True

    def __init__(self, inner: Any) -> None:
        super().__init__()
        self.inner = inner
        self.name = getattr(inner, "name", "source")
        self.opens = 0
        self.closes = 0
        self.is_open = False

    @property
    def ended(self) -> bool:
        return bool(getattr(self.inner, "ended", False))

    def open(self) -> None:
        self.inner.open()
        self.opens += 1
        self.is_open = True

    def read(self) -> Any:
        return self.inner.read()

    def close(self) -> None:
        self.inner.close()
        self.closes += 1
        self.is_open = False


class StillSource(FrameSource):
    """A 'camera' that shows the same grey picture forever (or refuses to open, like a busy camera)."""

    live = True
    name = "still camera"

    def __init__(self, busy: bool = False, shade: int = 128) -> None:
        import numpy as np

        super().__init__()
        self.busy = busy
        self.image = np.full((120, 160, 3), shade, dtype=np.uint8)
        self.opens = 0
        self.closes = 0
        self.attempts = 0

    def open(self) -> None:
        from posture.errors import SourceError

        self.attempts += 1
        if self.busy:
            raise SourceError("camera 0 could not be opened; check it is connected and not used by another app")
        self.opens += 1

    def read(self) -> Any:
        from posture.sources import Frame

        return Frame(self.image, 0.0, 0)

    def close(self) -> None:
        self.closes += 1
