"""One tray companion per camera (and per history file): a second `posture run` steps aside.

A lock file (Qt's QLockFile: a crashed owner's lock is recognised by its process id and taken over)
says who runs; a Unix socket beside it (plain Python: the app never loads Qt's network module) lets
the second start tell the first one, which says so on screen, so a
double start from the menu and from autostart is visible and harmless. The history's own
single-writer lock stays the guard for the database; this one keeps a second icon and a second camera
user from ever starting.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import logging
import os
import socket
import stat
import tempfile
from pathlib import Path

from PySide6.QtCore import QDir, QLockFile, QObject, QSocketNotifier, QStandardPaths, Signal

log = logging.getLogger(__name__)


def instance_key(camera: int | None, db: Path | None, history: bool) -> str | None:
    """What must not run twice: the camera; for a replay, the history file it writes; else nothing."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (containers)
        user = "user"
    if camera is not None:
        return f"posture-companion-{user}"
    if history and db is not None:
        digest = hashlib.sha1(str(db.expanduser().resolve()).encode()).hexdigest()[:12]
        return f"posture-companion-{user}-{digest}"
    return None


def runtime_dir() -> Path:
    place = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.RuntimeLocation)
    return Path(place or QDir.tempPath())


# A Unix socket's path must fit in sockaddr_un: 108 bytes on Linux, 104 on macOS and the BSDs, counting
# the final NUL. A runtime folder deep inside a home or a test's temporary folder passes that easily, and
# bind() then fails with "AF_UNIX path too long" (the second start could no longer ring the first).
SOCKET_PATH_MAX = 103


def socket_path_for(folder: Path, key: str) -> Path | None:
    """Where the owner listens: beside the lock; where that path is too long for a socket, in a short
    private folder of this user's under the temp folder, named by a digest of the long path (both starts
    compute the same name). None where no safe short place exists."""
    beside = folder / f"{key}.sock"
    if len(os.fsencode(beside)) <= SOCKET_PATH_MAX:
        return beside
    digest = hashlib.sha1(os.fsencode(beside)).hexdigest()[:16]
    uid = os.getuid() if hasattr(os, "getuid") else 0
    short = Path(tempfile.gettempdir()) / f"posture-companion-{uid}"
    try:
        short.mkdir(mode=0o700, exist_ok=True)
        info = short.lstat()
    except OSError:
        return None
    # Someone else's folder (or a link planted there) would let them answer in our place.
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != uid or info.st_mode & 0o077:
        log.info("single-instance socket: %s is not this user's private folder", short)
        return None
    path = short / f"{digest}.sock"
    return path if len(os.fsencode(path)) <= SOCKET_PATH_MAX else None


class SingleInstance(QObject):
    """`acquire()` once; the owner hears `activated` whenever another start is turned away."""

    activated = Signal()

    def __init__(self, key: str, folder: Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.key = key
        folder = folder or runtime_dir()
        folder.mkdir(parents=True, exist_ok=True)
        self.lock_path = folder / f"{key}.lock"
        self._lock = QLockFile(str(self.lock_path))
        self._lock.setStaleLockTime(0)  # never by age (the app runs all day); only a dead owner is stale
        self.socket_path = socket_path_for(folder, key)
        self._server: socket.socket | None = None
        self._notifier: QSocketNotifier | None = None

    def acquire(self) -> bool:
        if not self._lock.tryLock(200):
            return False
        if self.socket_path is None:
            log.info("single-instance socket: no short enough private path; a second start stays silent")
            return True
        with contextlib.suppress(OSError):
            self.socket_path.unlink()  # left by a crashed owner
        try:
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            server.bind(str(self.socket_path))
            server.listen(4)
            server.setblocking(False)
        except (OSError, AttributeError) as exc:  # the lock still guards; a second start can't ring the bell
            log.info("single-instance socket unavailable: %s", exc)
            return True
        self._server = server
        self._notifier = QSocketNotifier(server.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._knock)
        return True

    def owner_pid(self) -> int | None:
        info = self._lock.getLockInfo()  # (pid, host, app name); pid 0 when unknown
        pid = int(info[0]) if info else 0
        return pid or None

    def tell_owner(self, timeout_s: float = 1.0) -> bool:
        """From the second start: ask the running one to show itself."""
        if self.socket_path is None:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.settimeout(timeout_s)
                conn.connect(str(self.socket_path))
                conn.sendall(b"activate\n")
            return True
        except (OSError, AttributeError):
            return False

    def _knock(self) -> None:
        server = self._server
        if server is None:
            return
        while True:
            try:
                conn, _ = server.accept()
            except (BlockingIOError, OSError):
                break
            conn.close()
        self.activated.emit()

    def release(self) -> None:
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            self._notifier = None
        if self._server is not None:
            self._server.close()
            self._server = None
            if self.socket_path is not None:
                with contextlib.suppress(OSError):
                    self.socket_path.unlink()
        if self._lock.isLocked():
            self._lock.unlock()
