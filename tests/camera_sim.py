"""A webcam the tests can script: a real UVC camera's habits behind `cv2.VideoCapture`'s interface.

A file never shows what a camera does: it takes a while to open, its first frames are dark and tinted
while auto-exposure and white balance settle (after *every* open), it delivers the frame rate of its
mode rather than the one asked for, frames arrive late or not at all, the driver keeps only a few
buffers (a frame grabbed after a pause is old), a read can hang in the driver, and the cable can be
pulled. `CameraRig` is that camera, driven by a recording and the injected clock; `rig.capture` takes
the place of `cv2.VideoCapture(index)` (pass it to `WebcamSource(capture=...)`, or patch `cv2`).

The rig counts what a user would notice: opens, closes and how long the light was on.

Frames are kept as JPEG, as an MJPEG camera sends them: `grab()` only moves a buffer (cheap), and
`retrieve()` decodes one (the cost a real camera's sampled frame has).

Misuse a real driver punishes is recorded in `rig.violations` (and, with CAMERA_SIM_STRICT=1 in the
environment, aborts the process the way native code would): releasing a capture while another
thread is inside its `grab()`, or releasing / collecting one from a daemon thread at shutdown.
"""

from __future__ import annotations

import math
import os
import sys
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from posture.clock import Clock

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_videos"


@dataclass(frozen=True)
class Behaviour:
    """How this camera behaves. The defaults are a typical laptop webcam."""

    open_latency_s: float = 0.4  # VideoCapture(index) blocks this long before the stream starts
    first_frame_s: float = 0.1  # then the first frame arrives after this
    black_frames: int = 2  # the first frames are all zero
    start_gain: float = 0.05  # then exposure starts nearly black...
    ramp_s: float = 1.0  # ...and reaches its level this long after the first frame
    cast: tuple[float, float, float] = (1.25, 1.0, 0.7)  # BGR gains at the first frame (bluish), fading with the ramp
    delivered_fps: float = 30.0  # the mode's rate, whatever was asked for
    honour_fps: bool = False  # True: deliver what CAP_PROP_FPS asked for
    driver_buffers: int = 4  # what the driver keeps when nobody grabs; CAP_PROP_BUFFERSIZE may lower it
    drop_every: int = 0  # every Nth frame never arrives (0: none)
    late_every: int = 0  # every Nth frame arrives late...
    late_s: float = 0.0  # ...by this much
    fail_open: bool = False  # the device exists but will not open (another app holds it)
    flicker: float = 0.0  # brightness jumps by up to this fraction from frame to frame (a lamp, a hunting camera)


class Recording:
    """What the camera looks at: JPEG frames at `fps`, looping; `at(t)` is the frame for time t."""

    def __init__(self, frames: list[bytes], fps: float, size: tuple[int, int]) -> None:
        if not frames:
            raise ValueError("a recording needs at least one frame")
        self.frames = frames
        self.fps = fps
        self.size = size  # (width, height)

    def at(self, t: float) -> bytes:
        return self.frames[int(max(0.0, t) * self.fps) % len(self.frames)]

    @classmethod
    def from_images(cls, images: list[np.ndarray], fps: float = 5.0) -> Recording:
        frames = [_jpeg(img) for img in images]
        h, w = images[0].shape[:2]
        return cls(frames, fps, (w, h))

    @classmethod
    def from_video(cls, path: Path, fps: float = 5.0, size: tuple[int, int] | None = None,
                   start: float = 0.0, end: float | None = None) -> Recording:
        return _load(str(path), fps, size, start, end)


@lru_cache(maxsize=8)
def _load(path: str, fps: float, size: tuple[int, int] | None, start: float, end: float | None) -> Recording:
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        raise FileNotFoundError(path)
    src_fps = float(cap.get(cv2.CAP_PROP_FPS) or 30.0)
    frames: list[bytes] = []
    i = 0
    next_t = start
    try:
        while True:
            t = i / src_fps
            if end is not None and t >= end:
                break
            if t + 1e-9 < next_t:
                if not cap.grab():
                    break
            else:
                ok, img = cap.read()
                if not ok:
                    break
                if size is not None and (img.shape[1], img.shape[0]) != size:
                    img = _letterbox(img, size)
                frames.append(_jpeg(img))
                next_t += 1.0 / fps
            i += 1
    finally:
        cap.release()
    h, w = cv2.imdecode(np.frombuffer(frames[0], np.uint8), cv2.IMREAD_COLOR).shape[:2]
    return Recording(frames, fps, (w, h))


def _letterbox(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The clip centred on a wider sensor, the borders filled with the clip's own edge colours."""
    w, h = size
    scale = min(w / img.shape[1], h / img.shape[0])
    small = cv2.resize(img, (round(img.shape[1] * scale), round(img.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    top = (h - small.shape[0]) // 2
    left = (w - small.shape[1]) // 2
    return cv2.copyMakeBorder(small, top, h - small.shape[0] - top, left, w - small.shape[1] - left,
                              cv2.BORDER_REPLICATE)


def _jpeg(img: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return buf.tobytes()


def upright(fps: float = 5.0, size: tuple[int, int] | None = None) -> Recording:
    return Recording.from_video(SAMPLES / "upright.mp4", fps, size)


def empty_room(fps: float = 5.0, size: tuple[int, int] | None = None) -> Recording:
    # leave_return.mp4 is labelled away from 11.25 s to 25.25 s; the middle of that is a truly empty room.
    return Recording.from_video(SAMPLES / "leave_return.mp4", fps, size, start=15.0, end=22.0)


def _ease_out(x: float) -> float:
    """Auto-exposure jumps first, then creeps up to its level."""
    x = min(1.0, max(0.0, x))
    return 1.0 - (1.0 - x) ** 3


class CameraRig:
    """The physical camera on device `index`: what it films, how it behaves, and what it was asked to do."""

    def __init__(self, clock: Clock, recording: Recording, behaviour: Behaviour | None = None, index: int = 0) -> None:
        self.clock = clock
        self.behaviour = behaviour or Behaviour()
        self.index = index
        self._scenes: list[tuple[float, Recording]] = [(clock.monotonic(), recording)]
        self.t0 = clock.monotonic()
        self.plugged = True
        self._stall = threading.Event()  # set: reads hang in the "driver"
        self._unstick = threading.Condition()
        self.opens = 0
        self.failed_opens = 0
        self.closes = 0
        self.frames_delivered = 0
        self.frames_dropped = 0  # delivered by the sensor while every driver buffer was full
        self.grabs = 0
        self.decodes = 0
        self.requested_fps: list[float] = []
        self.light_log: list[tuple[float, float | None]] = []  # (on, off) on the clock
        self.violations: list[str] = []
        self.decoded_ages: list[float] = []  # for each decoded frame: clock seconds since it arrived
        self.trace: Callable[[str], None] | None = None  # told "opening", "open", "stalled", "released"...
        self._open_caps: set[int] = set()
        self._lock = threading.RLock()
        self._schedule: list[tuple[float, Callable[[], None]]] = []

    # -- a script of events on the clock ------------------------------------------------------------
    def at(self, t: float, action: Callable[[], None]) -> None:
        """Do `action` (unplug, replug, stall, show...) once the clock reaches `t`.

        Checked whenever the camera is used (opened or grabbed), which is when it would matter.
        """
        self._schedule.append((t, action))
        self._schedule.sort(key=lambda s: s[0])

    def run_due(self) -> None:
        now = self.clock.monotonic()
        while self._schedule and self._schedule[0][0] <= now:
            _, action = self._schedule.pop(0)
            action()

    def _say(self, what: str) -> None:
        if self.trace is not None:
            self.trace(what)

    # -- the room ---------------------------------------------------------------------------------
    def show(self, recording: Recording, at: float | None = None) -> None:
        """From clock time `at` (default now) on, the camera sees `recording` (from its start)."""
        self._scenes.append((self.clock.monotonic() if at is None else at, recording))
        self._scenes.sort(key=lambda s: s[0])

    def jpeg_at(self, t: float) -> bytes:
        start, rec = self._scenes[0]
        for s, r in self._scenes:
            if s <= t:
                start, rec = s, r
        return rec.at(t - start)

    # -- faults -----------------------------------------------------------------------------------
    def unplug(self) -> None:
        self.plugged = False
        self._wake()

    def replug(self) -> None:
        self.plugged = True

    def stall(self) -> None:
        """From now on every grab hangs inside the driver until `unstall()` or `unplug()`."""
        self._stall.set()

    def unstall(self) -> None:
        self._stall.clear()
        self._wake()

    def _wake(self) -> None:
        with self._unstick:
            self._unstick.notify_all()

    def _wait_while_stalled(self, cap: SimCapture, opening: bool = False) -> None:
        with self._unstick:
            while self._stall.is_set() and self.plugged and (cap._open or opening):
                self._unstick.wait(0.05)

    # -- what the user sees ---------------------------------------------------------------------------
    @property
    def light_on(self) -> bool:
        return bool(self._open_caps)

    def light_on_s(self, since: float | None = None, until: float | None = None) -> float:
        now = self.clock.monotonic()
        lo = self.t0 if since is None else since
        hi = now if until is None else until
        total = 0.0
        for on, off in self.light_log:
            a, b = max(on, lo), min(now if off is None else off, hi)
            total += max(0.0, b - a)
        return total

    def opens_between(self, a: float, b: float) -> int:
        return sum(1 for on, _ in self.light_log if a <= on < b)

    def max_opens_in(self, window_s: float, since: float | None = None, until: float | None = None) -> int:
        """The most opens in any `window_s` of clock time within [since, until]."""
        ons = [on for on, _ in self.light_log
               if (since is None or on >= since) and (until is None or on <= until)]
        best = 0
        for i, a in enumerate(ons):
            best = max(best, sum(1 for b in ons[i:] if b < a + window_s))
        return best

    # -- cv2.VideoCapture stand-in --------------------------------------------------------------------
    def capture(self, index: int, api: int | None = None) -> SimCapture:
        return SimCapture(self, index)

    def violation(self, what: str) -> None:
        self.violations.append(what)
        print(f"camera_sim: VIOLATION {what}", file=sys.stderr, flush=True)
        if os.environ.get("CAMERA_SIM_STRICT") == "1":
            os.abort()  # what native capture code does when treated like this

    def _light(self, cap: SimCapture, on: bool) -> None:
        with self._lock:
            now = self.clock.monotonic()
            if on:
                self._open_caps.add(id(cap))
                self.light_log.append((now, None))
                cap._log_index = len(self.light_log) - 1
            else:
                self._open_caps.discard(id(cap))
                on_t, _ = self.light_log[cap._log_index]
                self.light_log[cap._log_index] = (on_t, now)


def _shutting_down() -> bool:
    # atexit handlers still run with every thread alive; from finalization on, a daemon thread coming
    # back from native code is torn down mid-call, and that is when a release crashes.
    return sys.is_finalizing()


class SimCapture:
    """One `VideoCapture(index)` on a `CameraRig`."""

    def __init__(self, rig: CameraRig, index: int) -> None:
        self.rig = rig
        self._open = False
        self._log_index = -1
        self._in_grab: threading.Thread | None = None
        self._queued: deque[int] = deque()
        self._last_delivered = -1
        self._grabbed: int | None = None
        self._said_settling = False
        self._buffers = rig.behaviour.driver_buffers
        self._fps_asked: float | None = None
        b = rig.behaviour
        rig.run_due()
        if index != rig.index or not rig.plugged or rig.light_on:  # absent, or busy with another capture
            rig.clock.sleep(0.01)  # no such device: fails at once
            rig.failed_opens += 1
            return
        if b.fail_open:
            rig.clock.sleep(0.05)
            rig.failed_opens += 1
            return
        if rig._stall.is_set():  # the driver hangs in open() as well
            rig._say("stalled")
            rig._wait_while_stalled(self, opening=True)
            rig.failed_opens += 1
            return
        rig._light(self, True)  # the light comes on as the device is powered up
        rig._say("opening")
        rig.clock.sleep(b.open_latency_s)
        if not rig.plugged:
            rig._light(self, False)
            rig.failed_opens += 1
            return
        self._open = True
        rig.opens += 1
        self._stream_t0 = rig.clock.monotonic()
        rig._say("open")

    # -- properties ---------------------------------------------------------------------------------
    def isOpened(self) -> bool:
        return self._open

    @property
    def fps(self) -> float:
        b = self.rig.behaviour
        if b.honour_fps and self._fps_asked:
            return self._fps_asked
        return b.delivered_fps

    def set(self, prop: int, value: float) -> bool:
        if prop == cv2.CAP_PROP_BUFFERSIZE:
            self._buffers = max(1, int(value))
        elif prop == cv2.CAP_PROP_FPS:
            self._fps_asked = float(value)
            self.rig.requested_fps.append(float(value))
        return self._open

    def get(self, prop: int) -> float:
        if prop == cv2.CAP_PROP_FPS:
            return self.fps
        if prop == cv2.CAP_PROP_BUFFERSIZE:
            return float(self._buffers)
        if prop == cv2.CAP_PROP_FRAME_WIDTH:
            return float(self.rig._scenes[0][1].size[0])
        if prop == cv2.CAP_PROP_FRAME_HEIGHT:
            return float(self.rig._scenes[0][1].size[1])
        return 0.0

    # -- the stream ---------------------------------------------------------------------------------
    def _arrival(self, k: int) -> float:
        b = self.rig.behaviour
        t = self._stream_t0 + b.first_frame_s + k / self.fps
        if b.late_every and k % b.late_every == b.late_every - 1:
            t += b.late_s
        return t

    def _dropped(self, k: int) -> bool:
        b = self.rig.behaviour
        return bool(b.drop_every) and k % b.drop_every == b.drop_every - 1

    def _deliver(self, now: float) -> None:
        """Frames that arrived by `now` fill free driver buffers; the rest are lost, as in V4L2."""
        k = self._last_delivered + 1
        if len(self._queued) >= self._buffers:
            # Every buffer full: nothing can be kept, skip ahead without walking each lost frame.
            newest = math.floor((now - self._stream_t0 - self.rig.behaviour.first_frame_s) * self.fps)
            if newest - 2 > k:
                self.rig.frames_dropped += newest - 2 - k
                self.rig.frames_delivered += newest - 2 - k
                k = newest - 2
        while self._arrival(k) <= now or self._dropped(k):
            if self._dropped(k):
                if self._arrival(k) > now:
                    break
            elif len(self._queued) < self._buffers:
                self._queued.append(k)
                self.rig.frames_delivered += 1
            else:
                self.rig.frames_dropped += 1
                self.rig.frames_delivered += 1
            self._last_delivered = k
            k += 1

    def _next_arrival(self) -> float:
        k = self._last_delivered + 1
        while self._dropped(k):
            k += 1
        return self._arrival(k)

    def grab(self) -> bool:
        rig = self.rig
        if not self._open:
            return False
        self._in_grab = threading.current_thread()
        try:
            rig.run_due()
            if rig._stall.is_set():
                rig._say("stalled")
                rig._wait_while_stalled(self)
                return False  # a driver that comes back from a hang fails that read
            if not rig.plugged or not self._open:
                return False
            self._deliver(rig.clock.monotonic())
            if not self._queued:
                wait = self._next_arrival() - rig.clock.monotonic()
                rig.clock.sleep(max(0.0, wait))  # read() blocks until the next frame
                self._deliver(rig.clock.monotonic())
            if not rig.plugged or not self._queued:
                return False
            self._grabbed = self._queued.popleft()
            rig.grabs += 1
            return True
        finally:
            self._in_grab = None

    def retrieve(self) -> tuple[bool, np.ndarray | None]:
        if not self._open or self._grabbed is None:
            return False, None
        rig = self.rig
        t = self._arrival(self._grabbed)
        img = cv2.imdecode(np.frombuffer(rig.jpeg_at(t), np.uint8), cv2.IMREAD_COLOR)
        rig.decodes += 1
        rig.decoded_ages.append(rig.clock.monotonic() - t)
        if self._grabbed >= rig.behaviour.black_frames and not self._said_settling:
            self._said_settling = True
            rig._say("settling")  # the first picture out of the black frames: exposure starts to ramp
        b = rig.behaviour
        if self._grabbed < b.black_frames:
            return True, np.zeros_like(img)
        age = t - self._arrival(b.black_frames)
        # Irregular from frame to frame, so no sampling pattern can happen to see only the bright ones.
        flicker = 1.0 + b.flicker * ((self._grabbed * 7919) % 13 / 6.0 - 1.0)
        if age < b.ramp_s or flicker != 1.0:
            settled = _ease_out(age / b.ramp_s)
            gain = (b.start_gain + (1.0 - b.start_gain) * settled) * flicker
            cast = np.array([1.0 + (c - 1.0) * (1.0 - settled) for c in b.cast], np.float32)
            img = np.clip(img.astype(np.float32) * (gain * cast), 0, 255).astype(np.uint8)
        return True, img

    def read(self) -> tuple[bool, np.ndarray | None]:
        if not self.grab():
            return False, None
        return self.retrieve()

    def release(self) -> None:
        if not self._open:
            return
        inside = self._in_grab
        if inside is not None and inside is not threading.current_thread():
            self.rig.violation(f"released while thread {inside.name!r} is inside grab()")
        me = threading.current_thread()
        if me.daemon and _shutting_down():
            self.rig.violation(f"released from daemon thread {me.name!r} during interpreter shutdown")
        self._open = False
        self.rig.closes += 1
        self.rig._light(self, False)
        self.rig._say("released")
        self.rig._wake()

    def __del__(self) -> None:
        if getattr(self, "_open", False):
            me = threading.current_thread()
            if me.daemon and _shutting_down():
                self.rig.violation(f"collected while open on daemon thread {me.name!r} during shutdown")
            self.release()
