"""SIGTERM and Ctrl-C end the tray app the way "Quit" does: the session is closed and the history flushed.

Python runs signal handlers only between bytecodes, and Qt's event loop runs in C++: a handler alone
would wait for the next Python call, which may be never (Ctrl-C seemed ignored). The signal's number is
written to a socket pair through `signal.set_wakeup_fd`; a QSocketNotifier wakes the event loop on it
and the quit runs on the GUI thread like a menu click.
"""

from __future__ import annotations

import logging
import signal
import socket
from collections.abc import Callable
from types import FrameType

from PySide6.QtCore import QObject, QSocketNotifier

log = logging.getLogger(__name__)

QUIT_SIGNALS = (signal.SIGINT, signal.SIGTERM) + ((signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ())


class QuitOnSignals(QObject):
    """Install with `install()`, undo with `uninstall()`; `on_quit(signum)` runs on the GUI thread."""

    def __init__(self, on_quit: Callable[[int], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._on_quit = on_quit
        self._read, self._write = socket.socketpair()
        self._read.setblocking(False)
        self._write.setblocking(False)
        self._notifier = QSocketNotifier(self._read.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._wake)
        self._old: dict[int, object] = {}
        self._old_fd = -1
        self.received: list[int] = []

    def install(self) -> None:
        self._old_fd = signal.set_wakeup_fd(self._write.fileno(), warn_on_full_buffer=False)
        for sig in QUIT_SIGNALS:
            self._old[sig] = signal.signal(sig, self._noted)

    def uninstall(self) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)  # type: ignore[arg-type]
        self._old.clear()
        signal.set_wakeup_fd(self._old_fd)
        self._notifier.setEnabled(False)
        self._read.close()
        self._write.close()

    def _noted(self, signum: int, frame: FrameType | None) -> None:
        # The wakeup fd already carries the number; nothing else is safe to do here.
        pass

    def _wake(self) -> None:
        try:
            data = self._read.recv(64)
        except (BlockingIOError, OSError):
            return
        for signum in data:
            if signum in QUIT_SIGNALS:
                self.received.append(signum)
                log.info("signal %d: quitting", signum)
                self._on_quit(signum)
                return
