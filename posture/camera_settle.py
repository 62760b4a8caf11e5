"""Settle before judging: a camera's warm-up frames never reach the score.

After every open a webcam's auto-exposure and white balance take 0.5-1.5 s to settle: the first
frames are black or nearly so, then brighten, sometimes with a colour cast. The pose model reads a
dark or tinted frame as a different posture, so a judged warm-up frame is a false alarm.

`SettleGate` decides from the frames themselves: the picture is settled once the mean brightness
(luma) of the last three frames differs by less than 2 % and their colour balance (blue/green and
red/green) by less than 2 %, and the picture is not black. Measured on a 16x12 thumbnail: ~20 us.

`SettledSource` wraps a source that warms up: after each open it reads (and never returns) frames
until the gate says settled, waiting at most `MAX_WAIT_S` of clock time per call; past that it
raises `CameraUnsettled` so the sample is skipped, not judged, and the next call goes on waiting
(a camera whose picture keeps changing brightness is never judged; the user is told why).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from posture.clock import Clock
from posture.errors import SourceError
from posture.sources import Frame, FrameSource
from posture.stall import SourceStalled

FRAMES = 3
LUMA_TOLERANCE = 0.02  # relative spread of mean luma over the last FRAMES frames
COLOUR_TOLERANCE = 0.02  # relative spread of the b/g and r/g balance
BLACK_LUMA = 4.0  # 0-255: below this the sensor is not delivering a picture yet
MAX_WAIT_S = 2.0
_THUMB = (16, 12)


class CameraUnsettled(SourceError):
    """The picture did not settle within the bounded wait: skip this sample."""


@dataclass(frozen=True, slots=True)
class Exposure:
    luma: float
    b_g: float
    r_g: float


def measure(image: np.ndarray) -> Exposure:
    import cv2

    small = cv2.resize(image, _THUMB, interpolation=cv2.INTER_AREA)
    if small.ndim == 2 or small.shape[2] == 1:
        luma = float(small.mean())
        return Exposure(luma, 1.0, 1.0)
    b, g, r = (float(small[:, :, c].mean()) for c in range(3))
    luma = 0.114 * b + 0.587 * g + 0.299 * r
    g = max(g, 1.0)
    return Exposure(luma, b / g, r / g)


def _spread(values: list[float]) -> float:
    mean = sum(values) / len(values)
    return (max(values) - min(values)) / max(mean, 1e-6)


class SettleGate:
    """Feeds on consecutive frames after an open; says when the picture has settled."""

    def __init__(self, frames: int = FRAMES, luma_tolerance: float = LUMA_TOLERANCE,
                 colour_tolerance: float = COLOUR_TOLERANCE) -> None:
        self.frames = frames
        self.luma_tolerance = luma_tolerance
        self.colour_tolerance = colour_tolerance
        self._recent: deque[Exposure] = deque(maxlen=frames)
        self.settled = False

    def reset(self) -> None:
        self._recent.clear()
        self.settled = False

    def feed(self, image: np.ndarray) -> bool:
        """True once this frame and the ones before it show a settled picture."""
        e = measure(image)
        self._recent.append(e)
        if len(self._recent) < self.frames:
            return False
        recent = list(self._recent)
        self.settled = (
            all(x.luma >= BLACK_LUMA for x in recent)
            and _spread([x.luma for x in recent]) < self.luma_tolerance
            and _spread([x.b_g for x in recent]) < self.colour_tolerance
            and _spread([x.r_g for x in recent]) < self.colour_tolerance
        )
        return self.settled


class SettledSource(FrameSource):
    """`inner` whose warm-up frames after each open are read and thrown away, never returned."""

    def __init__(self, inner: FrameSource, clock: Clock, max_wait_s: float = MAX_WAIT_S) -> None:
        super().__init__()
        self.inner = inner
        self.name = inner.name
        self.live = inner.live
        self.warms_up = True
        self.clock = clock
        self.max_wait_s = max_wait_s
        self.gate = SettleGate()
        self.warmup_frames = 0  # read and discarded, over all opens
        self.settle_times: list[float] = []  # clock seconds from open to the first settled frame, per open
        self.timeouts = 0
        self._opened_at = 0.0
        self._interrupted = False

    @property
    def fps(self) -> float | None:
        return self.inner.fps

    @property
    def settling(self) -> bool:
        return not self.gate.settled

    def open(self) -> None:
        self.inner.open()
        self.gate.reset()
        self._opened_at = self.clock.monotonic()

    def read(self) -> Frame | None:
        if self.gate.settled:
            frame = self.inner.read()
            if frame is not None:
                self.frames_decoded += 1
            return frame
        deadline = self.clock.monotonic() + self.max_wait_s
        while True:
            frame = self.inner.read()
            if frame is None:
                return None  # the camera stopped sending: the caller's fault handling takes over
            if self.gate.feed(frame.image):
                self.settle_times.append(self.clock.monotonic() - self._opened_at)
                self.frames_decoded += 1
                return frame
            self.warmup_frames += 1
            if self._interrupted:
                raise SourceStalled(f"{self.name}: stopped while settling")
            if self.clock.monotonic() >= deadline:
                self.timeouts += 1
                raise CameraUnsettled(
                    f"{self.name}: the picture is still changing brightness or colour "
                    f"{self.clock.monotonic() - self._opened_at:.1f} s after opening; not judging it yet "
                    "(flickering light or a camera still adjusting)")

    def skip(self) -> bool:
        return self.inner.skip()

    def interrupt(self) -> None:
        """Quitting: make a read in progress give up now (passed on to the stall guard inside)."""
        self._interrupted = True
        self.inner.interrupt()

    def close(self) -> None:
        self.inner.close()
        self.gate.reset()


def settled(source: FrameSource, clock: Clock) -> FrameSource:
    """`source` behind a settle gate when it is a camera that warms up; otherwise unchanged."""
    if getattr(source, "warms_up", False) and not isinstance(source, SettledSource):
        return SettledSource(source, clock)
    return source
