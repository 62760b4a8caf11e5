"""Posture history on disk: a small SQLite file (WAL) with merged state spans, per-minute aggregates
and events. `HistoryWriter` appends; `posture.store.queries` reads; `open_db` checks and migrates.
"""

from __future__ import annotations

from posture.store.db import SCHEMA_VERSION, HistoryUnavailable, PruneResult, open_db, prune
from posture.store.paths import default_db_path, resolve_db_path
from posture.store.queries import open_reader
from posture.store.writer import HistoryWriter, WriterStats

__all__ = [
    "SCHEMA_VERSION",
    "HistoryUnavailable",
    "HistoryWriter",
    "PruneResult",
    "WriterStats",
    "default_db_path",
    "open_db",
    "open_reader",
    "prune",
    "resolve_db_path",
]
