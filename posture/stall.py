"""A guard that keeps a stalled camera from freezing the capture loop.

Some drivers block forever inside `read()` (a USB camera unplugged mid-frame, a virtual camera whose
producer died, a network stream that stops sending) or inside `open()`. The monitor must keep
answering pause/stop commands and report the fault, so `StallGuard` runs the wrapped source's
`open()` and `read()` on a helper thread and waits at most a deadline for them:

* a read that takes longer than `read_timeout_s` raises `SourceStalled` (a `SourceError`), which the
  monitor treats as a camera fault: it releases the source and reopens it later with back-off;
* an open that takes longer than `open_timeout_s` raises `SourceStalled` too, like a busy camera;
* any other exception escaping the source (a `cv2.error`, an `OSError` from a driver) becomes a
  `SourceError` naming the source, so an unexpected driver failure is a reported fault, not a crash.

A native call stuck in a driver cannot be interrupted from Python. The stuck helper thread is
abandoned (it is a daemon, so it never keeps the process alive) and, should the call ever return, it
closes the source itself; `close()` never touches a source another thread is still inside, because
releasing a capture under a running read is what crashes native code.

Cost: one hand-off to a long-lived helper thread per call, a few microseconds; no thread is started
per frame.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from posture.errors import SourceError
from posture.sources import Frame, FrameSource

# Generous for a webcam at a requested 5 fps that is warming up (first frames can take ~1-2 s), short
# enough that a frozen camera is reported within a few seconds. Read at guard construction, so tests
# may monkeypatch these module constants.
READ_TIMEOUT_S = 5.0
OPEN_TIMEOUT_S = 15.0

T = TypeVar("T")


class SourceStalled(SourceError):
    """The source did not answer within its deadline; the call may still be stuck in the driver."""


class _Worker:
    """One daemon thread that runs calls handed to it, one at a time."""

    def __init__(self, name: str) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._job: Callable[[], Any] | None = None
        self._done = threading.Event()
        self._result: Any = None
        self._error: BaseException | None = None
        self._abandoned = False
        self._on_return: Callable[[], None] | None = None
        self.busy = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            with self._wake:
                while self._job is None and not self._abandoned:
                    self._wake.wait()
                if self._job is None:  # abandoned while idle: nothing left to do
                    return
                job = self._job
            result: Any = None
            error: BaseException | None = None
            try:
                result = job()
            except BaseException as exc:  # handed back to the caller, never lost in this thread
                error = exc
            with self._wake:
                self._job = None
                self.busy = False
                self._result, self._error = result, error
                self._done.set()
                abandoned, on_return = self._abandoned, self._on_return
            if abandoned:
                # Nobody waits for this result any more (the call overran and the source was given
                # up): clean up here, on the only thread that may touch the source now.
                if on_return is not None:
                    with contextlib.suppress(Exception):  # best effort: the source is being thrown away
                        on_return()
                return

    def call(self, job: Callable[[], T], timeout: float) -> tuple[bool, T | None, BaseException | None]:
        """(finished, result, error): finished is False when `job` is still running after `timeout`."""
        with self._wake:
            if self.busy or self._abandoned:
                return False, None, None
            self._done.clear()
            self._job = job
            self.busy = True
            self._wake.notify()
        if not self._done.wait(timeout):
            return False, None, None
        with self._wake:
            return True, self._result, self._error

    def abandon(self, on_return: Callable[[], None] | None = None) -> bool:
        """Stop the thread once it is idle; True when it was idle (the caller may clean up itself)."""
        with self._wake:
            self._abandoned = True
            self._on_return = on_return
            idle = not self.busy
            self._wake.notify()
        return idle


class StallGuard(FrameSource):
    """Wrap `inner` so that neither `open()` nor `read()` can block the caller past a deadline."""

    def __init__(self, inner: FrameSource, read_timeout_s: float | None = None,
                 open_timeout_s: float | None = None) -> None:
        super().__init__()
        self.inner = inner
        self.name = inner.name
        self.live = inner.live
        self.read_timeout_s = READ_TIMEOUT_S if read_timeout_s is None else read_timeout_s
        self.open_timeout_s = OPEN_TIMEOUT_S if open_timeout_s is None else open_timeout_s
        self.stalls = 0
        self._worker: _Worker | None = None
        self._stalled = False

    # -- what the monitor reads through the wrapper ------------------------------------------------
    @property
    def ended(self) -> bool:
        return bool(getattr(self.inner, "ended", False))

    @property
    def fps(self) -> float | None:
        return self.inner.fps

    @property
    def duration(self) -> float | None:
        return self.inner.duration

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

    @property
    def stalled(self) -> bool:
        """True once a call overran its deadline; the guard then refuses further calls until reopened."""
        return self._stalled

    # -- guarded calls ---------------------------------------------------------------------------
    def _run(self, what: str, job: Callable[[], T], timeout: float) -> T | None:
        if self._stalled:
            raise SourceStalled(f"{self.name} is still stuck in a {what}; it will be reopened")
        if self._worker is None:
            self._worker = _Worker(f"stall-guard {self.name}")
        finished, result, error = self._worker.call(job, timeout)
        if not finished:
            self._stalled = True
            self.stalls += 1
            raise SourceStalled(f"{self.name} gave no answer to {what} within {timeout:g} s (stalled)")
        if error is not None:
            if isinstance(error, SourceError):
                raise error
            if not isinstance(error, Exception):  # KeyboardInterrupt, SystemExit: not ours to hide
                raise error
            detail = " ".join(str(error).split())[:200] or type(error).__name__
            raise SourceError(f"{self.name} failed during {what}: {detail}") from error
        return result

    def open(self) -> None:
        self._run("open", self.inner.open, self.open_timeout_s)

    def read(self) -> Frame | None:
        return self._run("read", self.inner.read, self.read_timeout_s)

    def skip(self) -> bool:
        return bool(self._run("skip", self.inner.skip, self.read_timeout_s))

    def next_time(self) -> float:
        return self.inner.next_time()

    def close(self) -> None:
        worker, self._worker = self._worker, None
        if worker is None:
            self._close_inner()
            return
        # Closing a capture while another thread is inside its read() is what crashes native code:
        # a stuck worker closes the source itself if its call ever returns.
        if worker.abandon(on_return=self._close_inner):
            self._close_inner()

    def _close_inner(self) -> None:
        with contextlib.suppress(Exception):  # a failing release must not stop the monitor moving on
            self.inner.close()


def guard(source: FrameSource, read_timeout_s: float | None = None,
          open_timeout_s: float | None = None) -> FrameSource:
    """`source` behind a `StallGuard` (unchanged if it already is one)."""
    if isinstance(source, StallGuard):
        return source
    return StallGuard(source, read_timeout_s, open_timeout_s)


def unwrap(source: FrameSource | None) -> FrameSource | None:
    """The source inside any guard, for checks such as `isinstance(..., WebcamSource)`."""
    while isinstance(source, StallGuard):
        source = source.inner
    return source
