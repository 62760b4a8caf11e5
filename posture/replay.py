"""A recorded video played as if it were a webcam: the frame shown is the one at the clock's time.

With the system clock this is a real-time replay (what `posture run --source FILE --realtime` and the
CPU benchmark use); with a fake or source clock it runs as fast as the CPU allows, exactly as a camera
would have shown it. Frames between two samples are grabbed, never converted, as a webcam driver with
a one-frame buffer would drop them.
"""

from __future__ import annotations

from pathlib import Path

from posture.clock import Clock
from posture.errors import SourceError
from posture.sources import Frame, FrameSource, ImageSequenceSource, VideoFileSource


class ReplaySource(FrameSource):
    live = True
    native = True  # OpenCV decodes the recording

    def __init__(self, spec: str | Path, clock: Clock, loop: bool = False, fps_in: float = 1.0) -> None:
        super().__init__()
        self.spec = str(spec)
        self.name = f"{spec} (replay)"
        self.clock = clock
        self.loop = loop
        self.fps_in = fps_in
        self._inner: VideoFileSource | ImageSequenceSource | None = None
        self._t0 = 0.0
        self._offset = 0.0  # timeline seconds of the loops already played
        self.loops = 0
        self.ended = False
        self._started = False

    def _make(self) -> VideoFileSource | ImageSequenceSource:
        if ImageSequenceSource.looks_like(self.spec):
            return ImageSequenceSource(self.spec, self.fps_in)
        return VideoFileSource(self.spec, decode_threads=1)

    def open(self) -> None:
        if self._inner is None:
            inner = self._make()
            inner.open()  # raises before anything is kept, so a failed open leaves nothing half-open
            self._inner = inner
            self._offset = 0.0
            if not self._started:
                # Re-opening after a pause keeps the timeline: like a camera, the clip went on meanwhile.
                self._started = True
                self._t0 = self.clock.monotonic()

    @property
    def fps(self) -> float | None:
        return self._inner.fps if self._inner else None

    @property
    def duration(self) -> float | None:
        return self._inner.duration if self._inner else None

    def position(self) -> float:
        """Seconds into the recording that the clock says we are at (across loops)."""
        return self.clock.monotonic() - self._t0

    def read(self) -> Frame | None:
        inner = self._inner
        if inner is None:
            raise SourceError(f"replay of {self.spec} is not open")
        target = self.position() - self._offset
        while True:
            # Drop frames up to the one the clock points at, like a one-frame camera buffer would.
            while inner.next_time() + 1e-9 < target - (1.0 / (inner.fps or 25.0)):
                if not inner.skip():
                    break
                self.frames_skipped += 1
            frame = inner.read()
            if frame is not None:
                self.frames_decoded += 1
                return Frame(frame.image, self._offset + frame.t, frame.index)
            if not self.loop:
                self.ended = True
                return None
            # End of the clip: start it again, keeping the timeline continuous.
            played = inner.next_time()
            if played <= 0:
                self.ended = True
                return None
            inner.close()
            self._inner = None  # if the reopen below fails, the next open() really retries
            self._offset += played
            self.loops += 1
            inner = self._make()
            inner.open()
            self._inner = inner
            target = self.position() - self._offset

    def skip(self) -> bool:
        return True  # replay position follows the clock; nothing to skip explicitly

    def close(self) -> None:
        if self._inner is not None:
            self._inner.close()
            self._inner = None
