"""Ctrl-C, SIGTERM and SIGHUP end the tray app as its Quit menu does: history flushed, camera released.

Python runs a signal handler only between bytecodes, and Qt's event loop runs in C++: without help, a
Ctrl-C waits for the next Python slot and SIGTERM/SIGHUP kill the process before the history is
flushed. So the handlers ask the event loop to quit, and an idle timer hands control to Python a few
times a second so the handler runs promptly. `run_app` then shuts the companion down as usual.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from types import FrameType

from PySide6.QtCore import QCoreApplication, QTimer

WAKE_MS = 250  # how soon a signal is noticed; an empty Python call, nothing measurable


def quit_on_signals(app: QCoreApplication) -> Callable[[], None]:
    """Install the handlers; returns the call that puts the previous ones back (after the loop ends)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        app.quit()

    old: dict[signal.Signals, object] = {}
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None:
            old[sig] = signal.signal(sig, handler)
    timer = QTimer(app)
    timer.timeout.connect(lambda: None)
    timer.start(WAKE_MS)

    def restore() -> None:
        timer.stop()
        timer.deleteLater()
        for sig, previous in old.items():
            signal.signal(sig, previous)  # type: ignore[arg-type]

    return restore
