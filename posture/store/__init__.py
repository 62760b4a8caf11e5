"""Posture history on disk: a small SQLite file (WAL) with merged state spans, per-minute aggregates
and events. `HistoryWriter` appends; `posture.store.queries` reads; `open_db` checks and migrates.
"""

from __future__ import annotations

from pathlib import Path

from posture.clock import Clock, SystemClock
from posture.store.db import SCHEMA_VERSION, HistoryUnavailable, PruneResult, open_db, prune
from posture.store.paths import default_db_path, resolve_db_path
from posture.store.queries import open_reader
from posture.store.writer import HistoryWriter, Recording, WarnCallback, WriterStats


def claim_for_writing(path: Path) -> None:
    """What a command does before it starts writing `path`: become its one writer (or stop with the
    pid of the one that is), and stop with the one-line "damaged" error if SQLite cannot read it."""
    from posture.store.lock import claim_history
    from posture.store.repair import ensure_readable

    claim_history(path)
    ensure_readable(path)


def open_writer(
    db: str | Path | None = None,
    clock: Clock | None = None,
    *,
    on_warning: WarnCallback | None = None,
    recording: Recording | None = None,
    horizon: bool = False,
) -> HistoryWriter:
    """A `HistoryWriter` on `--db` (or the default file), committing by `clock` (the system clock).

    For the commands: the file is claimed and checked first (`claim_for_writing`). See `HistoryWriter`
    for `recording` (replace an earlier copy of the same clip at the same start) and `horizon`.
    """
    path = resolve_db_path(db)
    claim_for_writing(path)
    return HistoryWriter(path, clock or SystemClock(), on_warning=on_warning, recording=recording, horizon=horizon)


__all__ = [
    "SCHEMA_VERSION",
    "HistoryUnavailable",
    "HistoryWriter",
    "PruneResult",
    "Recording",
    "WriterStats",
    "claim_for_writing",
    "default_db_path",
    "open_db",
    "open_reader",
    "open_writer",
    "prune",
    "resolve_db_path",
]
