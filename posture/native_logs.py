"""Keep MediaPipe's native log lines (TensorFlow Lite, absl, glog) off the user's terminal, and only those.

Standard error stays the user's: prompts (`posture break` asks its safety questions there), Qt's own
errors ("could not connect to display", a missing xcb library) and fatal errors must always show. So:
- the native loggers are told through their environment variables to keep to errors
  (`quiet_native_logging`, before MediaPipe is imported), and
- the few lines they print regardless while a graph and its model load are dropped by pointing file
  descriptor 2 at /dev/null for that moment only (`native_stderr_muted`), then putting it back.
Set POSTURE_NATIVE_LOGS=1 to see everything.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

ENV_LEVELS = {
    "GLOG_minloglevel": "2",  # glog (MediaPipe's graph runner): errors only
    "TF_CPP_MIN_LOG_LEVEL": "2",  # TensorFlow Lite: errors only
    "ABSL_MIN_LOG_LEVEL": "2",  # absl logging in newer builds
    "OPENCV_FFMPEG_LOGLEVEL": "-8",  # FFmpeg inside OpenCV ("moov atom not found"): our own line says it
    "OPENCV_LOG_LEVEL": "ERROR",
}

_lock = threading.RLock()


def native_logs_wanted() -> bool:
    return os.environ.get("POSTURE_NATIVE_LOGS") == "1"


def quiet_native_logging() -> None:
    """Ask the native loggers for errors only. Never touches standard error itself."""
    if native_logs_wanted():
        return
    for name, level in ENV_LEVELS.items():
        os.environ.setdefault(name, level)


def silence_native_stderr() -> None:
    """Kept for callers of the old name: now only `quiet_native_logging` (stderr is left alone)."""
    quiet_native_logging()


@contextmanager
def native_stderr_muted() -> Iterator[None]:
    """Drop what native code writes to fd 2 inside the block (a model loading), and restore fd 2 after.

    Only for short, known-noisy native calls: anything written to stderr meanwhile is lost too.
    """
    if native_logs_wanted():
        yield
        return
    try:
        fd = sys.__stderr__.fileno() if sys.__stderr__ is not None else 2
    except (AttributeError, OSError, ValueError):
        fd = 2
    with _lock:
        with suppress(AttributeError, OSError, ValueError):
            sys.stderr.flush()
        try:
            saved = os.dup(fd)
        except OSError:
            yield
            return
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, fd)
            finally:
                os.close(devnull)
            yield
        finally:
            os.dup2(saved, fd)
            os.close(saved)
