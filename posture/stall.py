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

Quitting must not wait for a slow open or a hung read: `interrupt()` makes the call being waited for
fail at once (the monitor's `stop()` calls it). At interpreter exit, calls still running get a short
grace to return (an abandoned helper then releases its camera); one still stuck after it ends the
process with `os._exit`, because a daemon thread returning from native capture code while the
interpreter finalizes is torn down mid-call and crashes the process. A source whose helper returns
during finalization is kept alive, never released or collected there.

Cost: one hand-off to a long-lived helper thread per call, a few microseconds; no thread is started
per frame.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import TypeVar, cast

from posture.errors import SourceError
from posture.sources import Frame, FrameSource, WrappedSource

# Generous for a webcam at a requested 5 fps that is warming up (first frames can take ~1-2 s), short
# enough that a frozen camera is reported within a few seconds. Read at guard construction, so tests
# may monkeypatch these module constants.
READ_TIMEOUT_S = 5.0
OPEN_TIMEOUT_S = 15.0
# On close, how long a call still running (interrupted by quitting) may take to return before the
# source is left to the helper thread to release.
CLOSE_GRACE_S = 0.5

T = TypeVar("T")


def _name_native_thread(name: str) -> None:
    """Give the calling thread `name` where the system shows threads (top -H, /proc/PID/task/*/comm), so
    the CPU spent reading frames is told apart from the loop's; Python 3.11 leaves every thread "python".
    Linux only, and nothing is lost where it fails."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        libc.prctl(15, name.encode()[:15], 0, 0, 0)  # PR_SET_NAME; the kernel keeps 15 bytes
    except (OSError, AttributeError):
        pass


class SourceStalled(SourceError):
    """The source did not answer within its deadline; the call may still be stuck in the driver."""


class _Worker:
    """One daemon thread that runs calls handed to it, one at a time."""

    def __init__(self, name: str, native: bool = True) -> None:
        self.native = native  # the calls it runs go into native code (OpenCV)
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._job: Callable[[], object] | None = None
        self._answered = threading.Event()  # the call finished, or the caller was interrupted
        self._done = False
        self._interrupted = False
        self._result: object = None
        self._error: BaseException | None = None
        self._abandoned = False
        self._on_return: Callable[[], None] | None = None
        self._keep: object | None = None  # what the running call holds on to (the source)
        self.busy = False  # inside a call, or cleaning up after an abandoned one
        self._idle = threading.Event()
        self._idle.set()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        with _registry_lock:
            _workers.add(self)
        _install_exit_guard()
        self._thread.start()

    def _loop(self) -> None:
        _name_native_thread("camera-read")
        try:
            self._serve()
        finally:
            with _registry_lock:
                _workers.discard(self)

    def _serve(self) -> None:
        while True:
            with self._wake:
                while self._job is None and not self._abandoned:
                    self._wake.wait()
                if self._job is None:  # abandoned while idle: nothing left to do
                    self.busy = False
                    return
                job = self._job
            result: object = None
            error: BaseException | None = None
            try:
                result = job()
            except BaseException as exc:  # handed back to the caller, never lost in this thread
                error = exc
            with self._wake:
                self._job = None
                self._result, self._error = result, error
                self._done = True
                self._answered.set()
                abandoned, on_return = self._abandoned, self._on_return
                if not abandoned:
                    self.busy = False
                    self._idle.set()
            if abandoned:
                # Nobody waits for this result any more (the call overran and the source was given
                # up): clean up here, on the only thread that may touch the source now. Never once
                # the interpreter is finalizing: native release code running on a daemon thread then
                # is what crashes the process; the source is kept alive instead and the OS frees it.
                if on_return is not None and not sys.is_finalizing():
                    with contextlib.suppress(Exception):  # best effort: the source is being thrown away
                        on_return()
                else:
                    _pin(self._keep)
                with self._wake:
                    self.busy = False
                return

    def call(self, job: Callable[[], T], timeout: float) -> tuple[bool, T | None, BaseException | None]:
        """(finished, result, error): finished is False when `job` is still running after `timeout`,
        or the caller was interrupted meanwhile."""
        with self._wake:
            if self.busy or self._abandoned or self._interrupted:
                return False, None, None
            self._answered.clear()
            self._done = False
            self._job = job
            self.busy = True
            self._idle.clear()
            self._wake.notify()
        self._answered.wait(timeout)
        with self._wake:
            if not self._done:
                return False, None, None
            # The worker runs one job at a time and stores only what that job returned, so the result
            # read here is the return value of `job`, a T by construction (or None when it raised).
            return True, cast(T | None, self._result), self._error

    def finish(self, timeout: float) -> bool:
        """Wait up to `timeout` for a call in progress to return; True when the worker is idle."""
        return self._idle.wait(timeout)

    def interrupt(self) -> None:
        """Make a waiting `call` return now, as if the call had stalled (used when quitting)."""
        with self._wake:
            self._interrupted = True
            self._answered.set()

    def abandon(self, on_return: Callable[[], None] | None = None, keep: object | None = None) -> bool:
        """Stop the thread once it is idle; True when it was idle (the caller may clean up itself)."""
        with self._wake:
            self._abandoned = True
            self._on_return = on_return
            self._keep = keep
            idle = not self.busy
            self._wake.notify()
        return idle

    def wait_idle(self, timeout: float) -> bool:
        self._thread.join(timeout)
        return not self.busy


# -- shutdown ---------------------------------------------------------------------------------------
# A capture call still running on a daemon thread when the interpreter finalizes is a crash waiting to
# happen: when the native call returns, the thread is torn down mid-way through OpenCV's C++ code. At
# exit we give such calls a moment to return (an abandoned worker then releases the camera itself);
# if one is still stuck in a driver, the process ends at once with os._exit(0) (this only happens
# when quitting: the history was flushed by the normal shutdown before) and the OS frees the device.
# Sources that run no native code (test doubles) are left alone, so a process keeps its exit status.
EXIT_GRACE_S = 2.0
_workers: set[_Worker] = set()
_registry_lock = threading.Lock()
_pinned: list[object] = []
_exit_guard_installed = False


def _pin(obj: object | None) -> None:
    if obj is None:
        return
    _pinned.append(obj)
    # Never collected, not even while the interpreter clears module globals at exit.
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.pythonapi.Py_IncRef(ctypes.py_object(obj))


def _install_exit_guard() -> None:
    global _exit_guard_installed
    with _registry_lock:
        if _exit_guard_installed:
            return
        _exit_guard_installed = True
    atexit.register(_at_exit)


def _at_exit() -> None:
    # Only native calls matter: a pure-Python source (a test double) stuck at exit is simply stopped
    # with its thread, and the process keeps its own exit status.
    with _registry_lock:
        workers = [w for w in _workers if w.busy and w.native]
    if not workers:
        return
    deadline = time.monotonic() + EXIT_GRACE_S
    for w in workers:
        w.wait_idle(max(0.0, deadline - time.monotonic()))
    if any(w.busy for w in workers):
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        logging.shutdown()
        os._exit(0)


class StallGuard(WrappedSource):
    """Wrap `inner` so that neither `open()` nor `read()` can block the caller past a deadline."""

    def __init__(self, inner: FrameSource, read_timeout_s: float | None = None,
                 open_timeout_s: float | None = None) -> None:
        super().__init__(inner)
        self.read_timeout_s = READ_TIMEOUT_S if read_timeout_s is None else read_timeout_s
        self.open_timeout_s = OPEN_TIMEOUT_S if open_timeout_s is None else open_timeout_s
        self.stalls = 0
        self._worker: _Worker | None = None
        self._stalled = False
        self._interrupted = False

    # -- what the monitor reads through the wrapper ------------------------------------------------
    @property
    def warms_up(self) -> bool:  # type: ignore[override]
        return bool(getattr(self.inner, "warms_up", False))

    @property
    def ended(self) -> bool:
        return bool(getattr(self.inner, "ended", False))

    @property
    def stalled(self) -> bool:
        """True once a call overran its deadline; the guard then refuses further calls until reopened."""
        return self._stalled

    # -- guarded calls ---------------------------------------------------------------------------
    def _run(self, what: str, job: Callable[[], T], timeout: float) -> T | None:
        if self._interrupted:
            raise SourceStalled(f"{self.name}: stopping")
        if self._stalled:
            raise SourceStalled(f"{self.name} is still stuck in a {what}; it will be reopened")
        if self._worker is None:
            self._worker = _Worker(f"stall-guard {self.name}", native=self.inner.native)
        finished, result, error = self._worker.call(job, timeout)
        if not finished:
            self._stalled = True
            if self._interrupted:
                raise SourceStalled(f"{self.name}: stopped while waiting for {what}")
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

    def interrupt(self) -> None:
        """Stop waiting for a call in progress (quitting): it fails now as a stall, and no new call starts."""
        self._interrupted = True
        worker = self._worker
        if worker is not None:
            worker.interrupt()

    def close(self) -> None:
        worker, self._worker = self._worker, None
        if worker is None:
            self._close_inner()
            return
        # Closing a capture while another thread is inside its read() is what crashes native code:
        # a call interrupted by quitting usually returns within a frame, so wait a moment and close it
        # here; a stuck worker closes the source itself if its call ever returns.
        worker.finish(CLOSE_GRACE_S)
        if worker.abandon(on_return=self._close_inner, keep=self.inner):
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
    """The source inside any guard or settle gate, for checks such as `isinstance(..., WebcamSource)`."""
    while source is not None and isinstance(getattr(source, "inner", None), FrameSource):
        source = source.inner  # type: ignore[attr-defined]
    return source
