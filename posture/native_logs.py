"""Keep MediaPipe's native log lines (TensorFlow Lite, absl) off the user's terminal.

They are written by C++ threads straight to file descriptor 2, so Python's logging cannot filter them.
We point fd 2 at /dev/null and give Python's own `sys.stderr` a private duplicate of the real stderr,
so our one-line errors and the progress bar still show. Set POSTURE_NATIVE_LOGS=1 to see them.
"""

from __future__ import annotations

import io
import os
import sys

_done = False


def silence_native_stderr() -> None:
    global _done
    if _done or os.environ.get("POSTURE_NATIVE_LOGS") == "1":
        return
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        return  # stderr is not a real file (pytest capture, IDE console): nothing native to hide
    try:
        saved = os.dup(fd)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)
    except OSError:
        return
    sys.stderr = io.TextIOWrapper(os.fdopen(saved, "wb", buffering=0), write_through=True, errors="replace")
    _done = True
