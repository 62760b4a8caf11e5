"""Opening the history database: file checks, WAL, schema version and ordered migrations.

The file is only ever changed by a migration we know. Anything we do not recognise (not SQLite,
another program's SQLite file, a schema from a newer release) is refused with a one-line `StoreError`
and left byte-for-byte untouched, so a wrong `--db` can never destroy someone's data.
"""

from __future__ import annotations

import contextlib
import math
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from posture.errors import StoreError
from posture.store.mobility import MOBILITY_SQL

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


# The released migrations, as literal SQL. Entry i brings the schema from version i to i + 1. A released
# entry is never edited (not even to add a metric column): a new column is a new entry appended below.
# Tables use IF NOT EXISTS so a file half-created by an older release (whose creation was not atomic)
# is completed rather than refused.
V1_SQL = """
CREATE TABLE IF NOT EXISTS spans (
    id INTEGER PRIMARY KEY,
    start REAL NOT NULL,            -- epoch seconds of the span's first sample
    duration REAL NOT NULL,         -- seconds covered (see accumulators.py for the exact rule)
    state TEXT NOT NULL,
    band INTEGER,                   -- lower bound of the 10-point score band; NULL without a score
    reasons TEXT NOT NULL DEFAULT '',  -- sorted reason keys joined by ','
    score_sum REAL NOT NULL DEFAULT 0,
    score_n INTEGER NOT NULL DEFAULT 0,
    samples INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS spans_by_start ON spans(start);

CREATE TABLE IF NOT EXISTS minutes (
    minute INTEGER PRIMARY KEY,     -- epoch seconds at the start of the minute
    samples INTEGER NOT NULL,
    good REAL NOT NULL DEFAULT 0,
    drifting REAL NOT NULL DEFAULT 0,
    poor REAL NOT NULL DEFAULT 0,
    away REAL NOT NULL DEFAULT 0,
    unknown REAL NOT NULL DEFAULT 0,
    score_wsum REAL NOT NULL DEFAULT 0,   -- sum of score x seconds
    score_secs REAL NOT NULL DEFAULT 0,   -- seconds that had a score
    head_height REAL,
    face_scale REAL,
    head_roll_deg REAL,
    shoulder_tilt_deg REAL,
    lateral_offset REAL,
    screen_distance REAL,
    cva_deg REAL
);

CREATE TABLE IF NOT EXISTS minute_reasons (
    minute INTEGER NOT NULL,
    reason TEXT NOT NULL,
    seconds REAL NOT NULL,
    PRIMARY KEY (minute, reason)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    wall REAL NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS events_by_wall ON events(wall);
"""

# v2: recordings (a replayed clip placed at a start time) are remembered with what they added, so
# recording the same clip at the same time again replaces the earlier copy instead of doubling it.
V2_SQL = """
CREATE TABLE recordings (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,           -- the recording's resolved path
    start REAL NOT NULL,            -- epoch seconds its first sample was placed at
    created REAL NOT NULL,          -- when it was recorded (real wall clock)
    UNIQUE (source, start)
);
ALTER TABLE spans ADD COLUMN recording INTEGER;
ALTER TABLE events ADD COLUMN recording INTEGER;
CREATE TABLE recording_minutes (
    recording INTEGER NOT NULL,
    minute INTEGER NOT NULL,
    samples INTEGER NOT NULL,
    good REAL NOT NULL DEFAULT 0,
    drifting REAL NOT NULL DEFAULT 0,
    poor REAL NOT NULL DEFAULT 0,
    away REAL NOT NULL DEFAULT 0,
    unknown REAL NOT NULL DEFAULT 0,
    score_wsum REAL NOT NULL DEFAULT 0,
    score_secs REAL NOT NULL DEFAULT 0,
    reasons TEXT NOT NULL DEFAULT '{}',   -- JSON {reason: seconds}
    PRIMARY KEY (recording, minute)
) WITHOUT ROWID;
"""

# The tables (and their columns) of a v1 file: what a half-created file may hold and still be ours.
V1_TABLES: dict[str, tuple[str, ...]] = {
    "spans": ("id", "start", "duration", "state", "band", "reasons", "score_sum", "score_n", "samples"),
    "minutes": ("minute", "samples", *STATE_COLUMNS, "score_wsum", "score_secs", *METRIC_KEYS),
    "minute_reasons": ("minute", "reason", "seconds"),
    "events": ("id", "wall", "kind", "data"),
}


def sql_statements(script: str) -> list[str]:
    """Split a literal SQL script into statements (so each runs inside our transaction)."""
    out: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            out.append(pending.strip())
            pending = ""
    if pending.strip():
        raise ValueError("incomplete SQL statement at the end of a migration")
    return out


def sql_migration(script: str) -> Callable[[sqlite3.Connection], None]:
    statements = sql_statements(script)

    def apply(conn: sqlite3.Connection) -> None:
        # Never `executescript`: it commits first, which would make the migration non-atomic.
        for statement in statements:
            conn.execute(statement)

    return apply


Migration = Callable[[sqlite3.Connection], None]
# Ordered: entry i brings the schema from version i to i + 1. Never edit a released entry; append.
# v3: range of motion per watched break (the SQL lives with its queries in posture/store/mobility.py).
MIGRATIONS: tuple[Migration, ...] = (sql_migration(V1_SQL), sql_migration(V2_SQL), sql_migration(MOBILITY_SQL))
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


DAMAGED_HINT = (
    "run 'posture history repair' to rebuild it from what can be read (it keeps a copy of the damaged "
    "file), or pass --db to use another file"
)


def damaged(path: Path, exc: BaseException) -> StoreError:
    """The one-line error every command gives for a file SQLite cannot read."""
    return StoreError(f"{path} is damaged ({exc}); {DAMAGED_HINT}")


def is_corruption(exc: BaseException) -> bool:
    """SQLite errors that mean the file's content is broken (as opposed to busy, read-only or full)."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text or "corrupt" in text or (
        not isinstance(exc, sqlite3.OperationalError) and "locked" not in text and "full" not in text
    )


def _half_created(conn: sqlite3.Connection) -> bool:
    """A version-0 file holding only (some of) our v1 tables, exactly as v1 defined them: ours.

    Releases before atomic creation could stop half-way (a full disk, a second process) and leave
    such a file; it is completed instead of being called another program's database.
    """
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        columns = tuple(r[1] for r in conn.execute(f"PRAGMA table_info({table})"))
        if V1_TABLES.get(table) != columns:
            return False
    return True


def _identify(conn: sqlite3.Connection, path: Path, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """The file's schema version, refusing files that are not ours or are from a newer release."""
    try:
        # One read transaction, so the answers come from one snapshot: read one by one, they could
        # straddle another process's migration (version 0 from before it, tables from after it).
        own_snapshot = not conn.in_transaction
        if own_snapshot:
            conn.execute("BEGIN")
        try:
            version = schema_version(conn)
            app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
            has_tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0] > 0
            ours = app_id == APPLICATION_ID or not has_tables or (
                app_id == 0 and version == 0 and _half_created(conn)
            )
        finally:
            if own_snapshot:
                _rollback(conn)
    except sqlite3.OperationalError as exc:
        if is_corruption(exc):
            raise damaged(path, exc) from exc
        raise HistoryUnavailable(f"cannot read {path} ({exc}); check the path and its permissions") from exc
    except sqlite3.DatabaseError as exc:
        raise damaged(path, exc) from exc
    if app_id not in (0, APPLICATION_ID) or not ours:
        raise StoreError(
            f"{path} is an SQLite database from another program, not Posture Companion history; "
            "it was left untouched — pass --db to use another file"
        )
    if version > len(migrations):
        raise StoreError(
            f"{path.name} was written by a newer Posture Companion (schema {version} > {len(migrations)}); "
            f"update the app or pass --db to use another file ({path})"
        )
    return version


def migrate(conn: sqlite3.Connection, path: Path, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Apply the missing migrations in order, all in one transaction; returns the resulting version.

    Either every step lands (tables, version, application id) or none does: a full disk or a crash
    half-way leaves the file as it was, and a second process opening the same new file waits on the
    write lock and then finds the work done.
    """
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        raise HistoryUnavailable(f"cannot prepare {path} ({exc}); check free space and permissions") from exc
    try:
        # Re-read inside the write lock: another process may have migrated while we were opening.
        version = _identify(conn, path, migrations)
        for target in range(version + 1, len(migrations) + 1):
            migrations[target - 1](conn)
            conn.execute(f"PRAGMA user_version = {target}")
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute("COMMIT")
        return len(migrations)
    except sqlite3.OperationalError as exc:
        _rollback(conn)
        if is_corruption(exc):
            raise damaged(path, exc) from exc
        raise HistoryUnavailable(f"cannot prepare {path} ({exc}); check free space and permissions") from exc
    except sqlite3.DatabaseError as exc:
        _rollback(conn)
        raise damaged(path, exc) from exc
    except BaseException:
        _rollback(conn)
        raise


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        # The transaction may already be gone (SQLite rolls back by itself on some errors).
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


def _use_wal(conn: sqlite3.Connection, path: Path) -> None:
    """Switch to WAL, waiting out another process doing the same on a new file.

    Changing the journal mode does not always go through the busy handler, so two first opens at
    the same moment can see "database is locked" here; it clears as soon as the other one is done.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    delay = 0.005
    while True:
        try:
            mode = str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()
            # Only switch when needed: a read-only file already in WAL still opens.
            if mode != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                if is_corruption(exc):
                    raise damaged(path, exc) from exc
                raise HistoryUnavailable(f"cannot prepare {path} ({exc}); check permissions") from exc
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
        except sqlite3.DatabaseError as exc:
            raise damaged(path, exc) from exc


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
        if version < SCHEMA_VERSION:
            migrate(conn, path)
        _use_wal(conn, path)
        # WAL + NORMAL: a crash loses at most the last commits, never corrupts the file.
        conn.execute("PRAGMA synchronous = NORMAL")
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


def newest_history(conn: sqlite3.Connection) -> float | None:
    """End (epoch seconds) of the newest thing in the file, or None when it is empty."""
    row = conn.execute(
        "SELECT max(t) FROM ("
        " SELECT max(start + duration) AS t FROM spans"
        " UNION ALL SELECT max(minute) + 60 FROM minutes"
        " UNION ALL SELECT max(wall) FROM events)"
    ).fetchone()
    return None if row is None or row[0] is None else float(row[0])


class PruneRefused(StoreError):
    """History reaches past the real clock: counting retention from such a clock would lose data."""


# History this far past the real clock means a clock (this one or an earlier one) is wrong.
FUTURE_SLACK_S = 300.0


def prune(conn: sqlite3.Connection, older_than_days: float, now_wall: float) -> PruneResult:
    """Delete history older than `older_than_days` before `now_wall` (the retention setting).

    `now_wall` must come from the real wall clock, never a replay's timeline. The window is counted
    back from now, but never from later than the newest history on file: a clock set years ahead
    then deletes nothing that a correct clock would keep. A file whose newest history is later than
    now (a replay placed in the future, or a clock that was set ahead) is not pruned at all
    (`PruneRefused`). A span or minute is removed only when it ends before the cutoff.
    """
    if not older_than_days > 0 or not math.isfinite(older_than_days):
        raise ValueError("older_than_days must be positive")
    conn.execute("BEGIN IMMEDIATE")
    try:
        newest = newest_history(conn)
        if newest is None:
            conn.execute("COMMIT")
            return PruneResult(0, 0, 0)
        if newest > now_wall + FUTURE_SLACK_S:
            raise PruneRefused(
                f"not applying retention_days: the history reaches {_iso(newest)}, later than the clock "
                f"now ({_iso(now_wall)}); check the system clock (nothing was deleted)"
            )
        cutoff = min(now_wall, newest) - older_than_days * 86400.0
        spans = conn.execute("DELETE FROM spans WHERE start + duration <= ?", (cutoff,)).rowcount
        minutes = conn.execute("DELETE FROM minutes WHERE minute + 60 <= ?", (cutoff,)).rowcount
        conn.execute("DELETE FROM minute_reasons WHERE minute + 60 <= ?", (cutoff,))
        conn.execute("DELETE FROM recording_minutes WHERE minute + 60 <= ?", (cutoff,))
        events = conn.execute("DELETE FROM events WHERE wall < ?", (cutoff,)).rowcount
        conn.execute("DELETE FROM mobility WHERE wall < ?", (cutoff,))  # retention covers range of motion too
        conn.execute("COMMIT")
    except BaseException:
        _rollback(conn)
        raise
    return PruneResult(spans=spans, minutes=minutes, events=events)


def _iso(epoch: float) -> str:
    try:
        return datetime.fromtimestamp(epoch).isoformat(timespec="minutes")
    except (OverflowError, OSError, ValueError):
        return f"{epoch:.0f} s after 1970"
