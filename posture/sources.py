"""Frame sources behind one interface: open / read → (frame, timestamp) / close.

Sampling below the source's frame rate must not pay for decoding frames nobody looks at: video sources
`grab()` the frames they skip (demux and decode into the codec's buffer, but no colour conversion or
copy), image sequences do not even read the skipped files, and a webcam keeps a one-frame buffer so a
sample is always the newest picture, never a backlog.
"""

from __future__ import annotations

import glob as globlib
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from posture.clock import Clock, SystemClock
from posture.errors import SourceError
from posture.inputs import special_file, special_file_message

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


@dataclass(frozen=True, slots=True)
class Frame:
    image: np.ndarray
    t: float  # seconds on the source's timeline
    index: int


class FrameSource(ABC):
    """A stream of frames. `live` sources produce frames in real time; the others can be read at will."""

    name: str = "source"
    live: bool = False
    # A real camera's first frames after each open are dark and tinted while exposure settles.
    warms_up: bool = False
    # Reads go through native code (OpenCV), which must not be running on a daemon thread while the
    # interpreter finalizes (see posture/stall.py). Pure-Python sources (test doubles) are not.
    native: bool = False

    def __init__(self) -> None:
        self.frames_decoded = 0
        self.frames_skipped = 0

    @property
    def fps(self) -> float | None:
        return None

    @property
    def duration(self) -> float | None:
        return None

    @abstractmethod
    def open(self) -> None: ...

    @abstractmethod
    def read(self) -> Frame | None:
        """Decode and return the next frame, or None at the end of the stream."""

    def skip(self) -> bool:
        """Advance one frame without decoding it. False at the end of the stream."""
        return self.read() is not None

    def next_time(self) -> float:
        """Timestamp of the frame the next read() or skip() would reach (recorded sources only)."""
        raise NotImplementedError

    @abstractmethod
    def close(self) -> None: ...

    def interrupt(self) -> None:
        """Quitting: make a call that may block (open, read) give up now."""
        return  # nothing blocks in a file or folder; the stall guard and the settle gate override this

    @property
    def frames_read(self) -> int:
        return self.frames_decoded + self.frames_skipped

    def __enter__(self) -> FrameSource:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class WrappedSource(FrameSource):
    """`inner` seen through another object (a condition, a stall guard): by default every call and the
    frame counters are the inner source's, so a wrapper overrides only what it changes."""

    def __init__(self, inner: FrameSource) -> None:
        super().__init__()
        self.inner = inner
        self.name = inner.name
        self.live = inner.live

    @property
    def fps(self) -> float | None:
        return self.inner.fps

    @property
    def duration(self) -> float | None:
        return self.inner.duration

    def open(self) -> None:
        self.inner.open()

    def read(self) -> Frame | None:
        return self.inner.read()

    def skip(self) -> bool:
        return self.inner.skip()

    def next_time(self) -> float:
        return self.inner.next_time()

    def close(self) -> None:
        self.inner.close()

    @property
    def frames_decoded(self) -> int:  # type: ignore[override]
        return self.inner.frames_decoded

    @frames_decoded.setter
    def frames_decoded(self, value: int) -> None:
        pass  # FrameSource.__init__ sets the counter; the inner source keeps the real one

    @property
    def frames_skipped(self) -> int:  # type: ignore[override]
        return self.inner.frames_skipped

    @frames_skipped.setter
    def frames_skipped(self, value: int) -> None:
        pass


def _natural_key(path: Path) -> list[object]:
    # frame-2.jpg sorts before frame-10.jpg, as a person would order them.
    return [int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", path.name)]


class RecordedSource(FrameSource):
    """A file-backed source with a frame index and a known frame rate."""

    _index: int
    _fps: float

    def next_time(self) -> float:
        return (self._index + 1) / self._fps

    def _skipped(self) -> bool:
        self._index += 1
        self.frames_skipped += 1
        return True


class VideoFileSource(RecordedSource):
    """Any file OpenCV reads: mp4, avi, mkv, gif, raw H.264 (`.264`) elementary streams…"""

    native = True

    def __init__(self, path: str | Path, fps_override: float | None = None,
                 decode_threads: int | None = None) -> None:
        super().__init__()
        self.path = Path(path)
        self.name = str(path)
        self._fps_override = fps_override
        # FFmpeg decodes with frame threads by default. A replay paced by the clock decodes one short burst
        # per sample, where the hand-offs between those threads cost ~25 % more CPU per frame than decoding
        # on one thread (1.61 % vs 1.31 % of a core at 2 Hz, 448x448 H.264); analysis keeps the default.
        self._decode_threads = decode_threads
        self._cap: object | None = None
        self._fps = 0.0
        self._frame_count: int | None = None
        self._index = -1

    def open(self) -> None:
        import cv2

        if not self.path.exists():
            raise SourceError(f"video not found: {self.path}; check the path")
        if special_file(self.path):
            raise SourceError(special_file_message(self.path, "video"))
        if self.path.is_dir():
            raise SourceError(f"{self.path} is a folder; pass it as an image sequence (a folder of images)")
        cap = None
        if self._decode_threads:
            cap = cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, self._decode_threads])
            if not cap.isOpened():
                cap.release()
                cap = None  # not something FFmpeg reads: let OpenCV pick another backend as before
        if cap is None:
            cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            raise SourceError(
                f"cannot read video {self.path}: the file is damaged, truncated or in a format OpenCV cannot decode; "
                "re-export it or convert it to mp4"
            )
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        # Raw .264 streams and some containers report 0, NaN or absurd rates: fall back to 25 fps.
        self._fps = self._fps_override or (fps if math.isfinite(fps) and 1.0 <= fps <= 240.0 else 25.0)
        count = cap.get(cv2.CAP_PROP_FRAME_COUNT)
        self._frame_count = int(count) if math.isfinite(count) and 0 < count < 1e8 else None
        self._cap = cap
        self._index = -1

    @property
    def fps(self) -> float | None:
        return self._fps or None

    @property
    def duration(self) -> float | None:
        if self._frame_count and self._fps:
            return self._frame_count / self._fps
        return None

    @property
    def frame_count(self) -> int | None:
        return self._frame_count

    def _require(self) -> object:
        if self._cap is None:
            raise SourceError(f"video {self.path} is not open")
        return self._cap

    def read(self) -> Frame | None:
        cap = self._require()
        ok, image = cap.read()  # type: ignore[attr-defined]
        if not ok or image is None:
            return None
        self._index += 1
        self.frames_decoded += 1
        return Frame(image, self._index / self._fps, self._index)

    def skip(self) -> bool:
        cap = self._require()
        if not cap.grab():  # type: ignore[attr-defined]
            return False
        return self._skipped()

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()  # type: ignore[attr-defined]
            self._cap = None


class ImageSequenceSource(RecordedSource):
    """A folder or glob of images, ordered by name, played at `fps_in` frames per second."""

    native = True

    def __init__(self, spec: str | Path, fps_in: float = 1.0) -> None:
        super().__init__()
        if fps_in <= 0:
            raise SourceError(f"--fps-in must be positive, got {fps_in}")
        self.spec = str(spec)
        self.name = self.spec
        self._fps = float(fps_in)
        self._files: list[Path] = []
        self._index = -1
        self.unreadable: list[Path] = []

    @staticmethod
    def looks_like(spec: str | Path) -> bool:
        s = str(spec)
        return Path(s).is_dir() or any(ch in s for ch in "*?[")

    def open(self) -> None:
        path = Path(self.spec)
        if path.is_dir():
            files = [p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES]
        else:
            files = [Path(p) for p in globlib.glob(self.spec) if Path(p).suffix.lower() in IMAGE_SUFFIXES]
        if not files:
            raise SourceError(f"no images found in {self.spec}; give a folder or glob of .jpg/.png files")
        self._files = sorted(files, key=_natural_key)
        self._index = -1

    @property
    def fps(self) -> float | None:
        return self._fps

    @property
    def duration(self) -> float | None:
        return len(self._files) / self._fps if self._files else None

    @property
    def frame_count(self) -> int | None:
        return len(self._files)

    @property
    def files(self) -> list[Path]:
        return list(self._files)

    def read(self) -> Frame | None:
        import cv2

        while self._index + 1 < len(self._files):
            self._index += 1
            f = self._files[self._index]
            image = cv2.imread(str(f), cv2.IMREAD_COLOR)
            self.frames_decoded += 1
            if image is None:
                # One unreadable file in a sequence is reported by the caller's counters, not fatal.
                self.unreadable.append(f)
                continue
            return Frame(image, self._index / self._fps, self._index)
        return None

    def skip(self) -> bool:
        if self._index + 1 >= len(self._files):
            return False
        return self._skipped()

    def close(self) -> None:
        pass


class VideoCaptureLike(Protocol):
    """The part of `cv2.VideoCapture` a webcam source uses (the camera simulator in the tests has it too)."""

    def isOpened(self) -> bool: ...
    def set(self, prop: int, value: float) -> bool: ...
    def get(self, prop: int) -> float: ...
    def grab(self) -> bool: ...
    def retrieve(self) -> tuple[bool, np.ndarray | None]: ...
    def release(self) -> None: ...


CaptureFactory = Callable[[int], VideoCaptureLike]

# A grab that returns within this fraction of a frame period took a frame the driver had buffered,
# perhaps seconds ago; one that waited took a frame that just arrived.
_FRESH_WAIT_FRACTION = 0.3
# Drivers keep up to four buffers whatever CAP_PROP_BUFFERSIZE says; one more grab to be sure.
_MAX_STALE_GRABS = 5


def _cv2_capture(index: int) -> VideoCaptureLike:
    import cv2

    return cv2.VideoCapture(index)  # type: ignore[no-any-return]


class WebcamSource(FrameSource):
    """A live camera by index: asks for a low frame rate and a one-frame buffer, and reads the newest frame.

    Frames between two samples are never grabbed: the driver drops them (it keeps at most a few
    buffers). A sample grabs, without decoding, whatever the driver kept until a grab has to wait for
    a new frame, and decodes that one only, so the judged picture is at most one frame period old even
    when the camera delivers 30 fps where 5 were asked for.
    """

    live = True
    warms_up = True

    def __init__(self, index: int, requested_fps: float = 5.0, width: int = 640, height: int = 480,
                 clock: Clock | None = None, capture: CaptureFactory | None = None) -> None:
        super().__init__()
        self.index = index
        self.name = f"camera {index}"
        self._requested_fps = requested_fps
        self._size = (width, height)
        self._clock: Clock = clock or SystemClock()
        self._capture = capture or _cv2_capture
        self.native = capture is None
        self._cap: VideoCaptureLike | None = None
        self._t0 = 0.0
        self._count = -1
        self._delivered_fps = requested_fps
        self.stale_grabs = 0

    def open(self) -> None:
        import cv2

        cap = self._capture(self.index)
        if not cap.isOpened():
            cap.release()
            raise SourceError(
                f"camera {self.index} could not be opened; check it is connected and not used by another app, "
                "or pick another with --camera"
            )
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        cap.set(cv2.CAP_PROP_FPS, self._requested_fps)
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, self._size[0])
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self._size[1])
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        # What the mode delivers, which need not be what was asked for (a camera asked for 5 may send 30).
        self._delivered_fps = fps if math.isfinite(fps) and 1.0 <= fps <= 240.0 else self._requested_fps
        self._cap = cap
        self._t0 = self._clock.monotonic()

    @property
    def fps(self) -> float | None:
        return self._delivered_fps

    def _grab_newest(self, cap: VideoCaptureLike) -> bool:
        fresh_wait = _FRESH_WAIT_FRACTION / self._delivered_fps
        for _ in range(_MAX_STALE_GRABS):
            started = self._clock.monotonic()
            if not cap.grab():
                return False
            if self._clock.monotonic() - started >= fresh_wait:
                return True
            self.stale_grabs += 1
            self.frames_skipped += 1
        return True  # a camera sending faster than we can tell: what we have is recent enough

    def read(self) -> Frame | None:
        cap = self._cap
        if cap is None:
            raise SourceError(f"camera {self.index} is not open")
        if not self._grab_newest(cap):
            return None
        ok, image = cap.retrieve()
        if not ok or image is None:
            return None
        self._count += 1
        self.frames_decoded += 1
        return Frame(image, self._clock.monotonic() - self._t0, self._count)

    def skip(self) -> bool:
        return bool(self._cap is not None and self._cap.grab())

    def close(self) -> None:
        if self._cap is not None:
            cap, self._cap = self._cap, None
            cap.release()


def open_source(spec: str, fps_in: float = 1.0) -> FrameSource:
    """Make a source from what the user typed: a camera index, a folder/glob of images, or a video file."""
    if re.fullmatch(r"\d{1,2}", spec):
        return WebcamSource(int(spec))
    if ImageSequenceSource.looks_like(spec):
        return ImageSequenceSource(spec, fps_in)
    path = Path(spec)
    if not path.exists():
        raise SourceError(f"source not found: {spec}; give a video file, a folder of images, or a camera index")
    return VideoFileSource(path)


def sample_frames(source: FrameSource, rate_hz: float, start: float = 0.0, end: float | None = None,
                  every: Callable[[], int] | None = None) -> Iterator[Frame]:
    """Frames of a recorded source at `rate_hz`, on the source's timeline, skipping the rest undecoded.

    A frame is decoded when its timestamp reaches the next sample time; every other frame is skipped.
    `every`: asked after each frame is used, how many sample times on to take the next one (1 without it).
    """
    if rate_hz <= 0:
        raise SourceError(f"--rate must be positive, got {rate_hz}")
    if source.live:
        raise SourceError("sample_frames is for recorded sources; live cameras are paced by the monitor")
    period = 1.0 / rate_hz
    next_t = start
    while True:
        t = source.next_time()
        if end is not None and t > end:
            return
        if t + 1e-9 >= next_t:
            frame = source.read()
            if frame is None:
                return
            yield frame
            # Stay on the grid start + k*period, even when frames don't land exactly on it.
            step = max(1, every()) if every is not None else 1
            next_t = start + (math.floor((frame.t - start) / period + 1e-9) + step) * period
        elif not source.skip():
            return
