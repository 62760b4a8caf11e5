"""One writer per history file: an OS lock on `<history>.lock`, held for the life of the process.

The lock is taken on a separate file, never on the database itself: SQLite uses POSIX record locks on
the database, and those are dropped when *any* descriptor of the file in the process is closed. The
operating system releases our lock when the process ends however it ends (crash, SIGKILL, power
loss), so a stale lock can never keep the companion from starting. Readers (`report`, `dashboard`,
`export`) never take it.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import IO

from posture.errors import StoreError

# Locks this process holds, by the history file's resolved path: taking one twice is a no-op, so
# the tray app can rebuild its monitor (and writer) without ever letting go.
_held: dict[Path, IO[bytes]] = {}
_guard = threading.Lock()


class AlreadyRunning(StoreError):
    """Another process writes this history (a second companion, or `analyze --record`)."""


def lock_path(history: Path) -> Path:
    return history.with_name(history.name + ".lock")


def _key(history: Path) -> Path:
    return Path(os.path.abspath(history.expanduser()))


def _try_lock(fh: IO[bytes]) -> bool:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        try:
            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _holder(path: Path) -> str:
    try:
        text = path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return "another process"
    return f"pid {text}" if text.isdigit() else "another process"


def claim_history(history: Path) -> None:
    """Become the one writer of `history`, or raise `AlreadyRunning` naming the process that is.

    A folder that does not exist yet is created (the history file will live there). Failing to
    create the lock file (a read-only folder) is not fatal: the writer will report the folder itself.
    """
    key = _key(history)
    with _guard:
        if key in _held:
            return
        path = lock_path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # "a+" keeps the previous holder's pid readable until we have the lock.
            fh = open(path, "a+b")  # noqa: SIM115 - held open for the life of the process
        except OSError:
            return
        if not _try_lock(fh):
            fh.close()
            raise AlreadyRunning(
                f"Posture Companion is already running ({_holder(path)}) and writing {history}; "
                "stop it first, or pass --db to use another history file"
            )
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()).encode("ascii"))
        fh.flush()
        _held[key] = fh


def holds(history: Path) -> bool:
    with _guard:
        return _key(history) in _held


def release(history: Path) -> None:
    """Let go of the lock early (tests, and `history repair` once it is done)."""
    with _guard:
        fh = _held.pop(_key(history), None)
    if fh is not None:
        fh.close()


def is_locked_elsewhere(history: Path) -> str | None:
    """The holder ("pid N") when another process writes `history`, else None (takes nothing)."""
    key = _key(history)
    with _guard:
        if key in _held:
            return None
    path = lock_path(key)
    if not path.exists():
        return None
    try:
        fh = open(path, "rb")  # noqa: SIM115
    except OSError:
        return None
    try:
        if _try_lock(fh):
            return None
        return _holder(path)
    finally:
        fh.close()  # closing drops the probe lock if we got it
