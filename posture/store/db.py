"""Opening the history database: file checks, WAL, schema version and ordered migrations.

The file is only ever changed by a migration we know. Anything we do not recognise (not SQLite,
another program's SQLite file, a schema from a newer release) is refused with a one-line `StoreError`
and left byte-for-byte untouched, so a wrong `--db` can never destroy someone's data.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from posture.errors import StoreError
from posture.store.mobility import apply_migration as _schema_v2_mobility

SQLITE_MAGIC = b"SQLite format 3\x00"
# 'PCHS' — marks the file as ours, so a foreign SQLite file is never migrated into.
APPLICATION_ID = 0x50434853
# Readers and the writer wait this long for each other instead of failing with "database is locked";
# write transactions are a few milliseconds, so this is a generous ceiling, not an expected wait.
BUSY_TIMEOUT_S = 5.0

# Stable column names for per-minute metric medians (the metric keys the pipeline produces).
METRIC_KEYS: tuple[str, ...] = (
    "head_height",
    "face_scale",
    "head_roll_deg",
    "shoulder_tilt_deg",
    "lateral_offset",
    "screen_distance",
    "cva_deg",
)
STATE_COLUMNS: tuple[str, ...] = ("good", "drifting", "poor", "away", "unknown")


class HistoryUnavailable(StoreError):
    """The file is fine but cannot be opened or written right now (permissions, disk, lock).

    The writer treats this as transient and retries; format problems (plain `StoreError`) are not.
    """


def _schema_v1(conn: sqlite3.Connection) -> None:
    metric_cols = ",\n    ".join(f"{key} REAL" for key in METRIC_KEYS)
    state_cols = ",\n    ".join(f"{s} REAL NOT NULL DEFAULT 0" for s in STATE_COLUMNS)
    conn.executescript(
        f"""
CREATE TABLE spans (
    id INTEGER PRIMARY KEY,
    start REAL NOT NULL,            -- epoch seconds of the span's first sample
    duration REAL NOT NULL,         -- seconds covered (see writer.py for the exact rule)
    state TEXT NOT NULL,
    band INTEGER,                   -- lower bound of the 10-point score band; NULL without a score
    reasons TEXT NOT NULL DEFAULT '',  -- sorted reason keys joined by ','
    score_sum REAL NOT NULL DEFAULT 0,
    score_n INTEGER NOT NULL DEFAULT 0,
    samples INTEGER NOT NULL
);
CREATE INDEX spans_by_start ON spans(start);

CREATE TABLE minutes (
    minute INTEGER PRIMARY KEY,     -- epoch seconds at the start of the minute
    samples INTEGER NOT NULL,
    {state_cols},
    score_wsum REAL NOT NULL DEFAULT 0,   -- sum of score x seconds
    score_secs REAL NOT NULL DEFAULT 0,   -- seconds that had a score
    {metric_cols}
);

CREATE TABLE minute_reasons (
    minute INTEGER NOT NULL,
    reason TEXT NOT NULL,
    seconds REAL NOT NULL,
    PRIMARY KEY (minute, reason)
) WITHOUT ROWID;

CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    wall REAL NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{{}}'
);
CREATE INDEX events_by_wall ON events(wall);
"""
    )


Migration = Callable[[sqlite3.Connection], None]
# Ordered: entry i brings the schema from version i to i + 1. Never edit a released entry; append.
MIGRATIONS: tuple[Migration, ...] = (_schema_v1, _schema_v2_mobility)
SCHEMA_VERSION = len(MIGRATIONS)


def _check_file(path: Path) -> None:
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a history file; pass --db with a file path")
    if not path.exists():
        return
    try:
        with path.open("rb") as fh:
            head = fh.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise HistoryUnavailable(f"cannot read {path} ({exc.strerror}); check its permissions") from exc
    if head and head != SQLITE_MAGIC:
        raise StoreError(
            f"{path} is not a Posture Companion history file (not an SQLite database); "
            "it was left untouched — pass --db to use another file"
        )


def _connect(path: Path) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HistoryUnavailable(
            f"cannot create the folder {path.parent} ({exc.strerror}); pass --db to use another file"
        ) from exc
    try:
        # Autocommit mode: reads never hold a transaction open; writes use explicit short BEGIN/COMMIT.
        conn = sqlite3.connect(
            str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
    except sqlite3.OperationalError as exc:
        raise HistoryUnavailable(f"cannot open {path} ({exc}); check the path and its permissions") from exc
    return conn


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _identify(conn: sqlite3.Connection, path: Path) -> int:
    """The file's schema version, refusing files that are not ours or are from a newer release."""
    try:
        version = schema_version(conn)
        app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
        has_tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0] > 0
    except sqlite3.OperationalError as exc:
        raise HistoryUnavailable(f"cannot read {path} ({exc}); check the path and its permissions") from exc
    except sqlite3.DatabaseError as exc:
        raise StoreError(
            f"{path} is damaged or not a history file ({exc}); it was left untouched — "
            "pass --db to use another file"
        ) from exc
    if app_id not in (0, APPLICATION_ID) or (app_id == 0 and has_tables):
        raise StoreError(
            f"{path} is an SQLite database from another program, not Posture Companion history; "
            "it was left untouched — pass --db to use another file"
        )
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path.name} was written by a newer Posture Companion (schema {version} > {SCHEMA_VERSION}); "
            f"update the app or pass --db to use another file ({path})"
        )
    return version


def migrate(conn: sqlite3.Connection, path: Path, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Apply the missing migrations in order, in one transaction; returns the resulting version."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        # Re-read inside the write lock: another process may have migrated while we were opening.
        version = schema_version(conn)
        if version > len(migrations):
            conn.rollback()
            raise StoreError(
                f"{path.name} was written by a newer Posture Companion (schema {version} > "
                f"{len(migrations)}); update the app or pass --db to use another file ({path})"
            )
        for target in range(version + 1, len(migrations) + 1):
            migrations[target - 1](conn)
            conn.execute(f"PRAGMA user_version = {target}")
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.commit()
        return len(migrations)
    except sqlite3.OperationalError as exc:
        if conn.in_transaction:
            conn.rollback()
        raise HistoryUnavailable(f"cannot prepare {path} ({exc}); check free space and permissions") from exc


def open_db(path: str | Path, *, for_reading: bool = False) -> sqlite3.Connection:
    """Open (creating if missing, with parent folders) and migrate the history database.

    `for_reading` connections are switched to `query_only`, so the dashboard and reports can never
    write by accident. Raises `StoreError` for files we must not touch, `HistoryUnavailable` for
    files we cannot use right now.
    """
    path = Path(path)
    _check_file(path)
    conn = _connect(path)
    try:
        version = _identify(conn, path)
        # Only switch the journal mode when needed: a read-only file already in WAL still opens.
        mode = str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()
        if mode != "wal":
            try:
                conn.execute("PRAGMA journal_mode = WAL")
            except sqlite3.OperationalError as exc:
                raise HistoryUnavailable(f"cannot prepare {path} ({exc}); check permissions") from exc
        # WAL + NORMAL: a crash loses at most the last commits, never corrupts the file.
        conn.execute("PRAGMA synchronous = NORMAL")
        if version < SCHEMA_VERSION:
            migrate(conn, path)
        if for_reading:
            conn.execute("PRAGMA query_only = ON")
    except BaseException:
        conn.close()
        raise
    return conn


@dataclass(frozen=True, slots=True)
class PruneResult:
    spans: int
    minutes: int
    events: int


def prune(conn: sqlite3.Connection, older_than_days: float, now_wall: float) -> PruneResult:
    """Delete history older than `older_than_days` before `now_wall` (the retention setting).

    A span or minute is removed only when it ends before the cutoff, so nothing newer is cut short.
    """
    if older_than_days <= 0:
        raise ValueError("older_than_days must be positive")
    cutoff = now_wall - older_than_days * 86400.0
    conn.execute("BEGIN IMMEDIATE")
    try:
        spans = conn.execute("DELETE FROM spans WHERE start + duration <= ?", (cutoff,)).rowcount
        minutes = conn.execute("DELETE FROM minutes WHERE minute + 60 <= ?", (cutoff,)).rowcount
        conn.execute("DELETE FROM minute_reasons WHERE minute + 60 <= ?", (cutoff,))
        events = conn.execute("DELETE FROM events WHERE wall < ?", (cutoff,)).rowcount
        conn.execute("DELETE FROM mobility WHERE wall < ?", (cutoff,))  # retention covers range of motion too
        conn.commit()
    except BaseException:
        if conn.in_transaction:
            conn.rollback()
        raise
    return PruneResult(spans=spans, minutes=minutes, events=events)
