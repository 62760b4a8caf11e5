"""`posture history check` and `posture history repair`.

Check changes nothing. Repair first copies the damaged file (and its write-ahead log) aside, then reads
every row SQLite can still reach, table by table in key order, stepping over unreadable pages, into a
fresh history file that replaces the damaged one. The copy stays, so nothing is lost by repairing.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from posture.errors import StoreError
from posture.store.accumulators import merge_rows
from posture.store.db import APPLICATION_ID, SCHEMA_VERSION, SQLITE_MAGIC, damaged, is_corruption, open_db
from posture.store.lock import claim_history, holds, is_locked_elsewhere, release
from posture.store.writer import RESCUE_INFIX, read_minute, write_minute_row

# Tables in dependency order, with the key a scan walks (an indexed column, so a range query seeks
# straight past a damaged page instead of reading through it).
TABLES: tuple[tuple[str, str], ...] = (
    ("recordings", "id"),
    ("spans", "id"),
    ("minutes", "minute"),
    ("minute_reasons", "minute"),
    ("events", "id"),
    ("recording_minutes", "recording"),
)


@dataclass(frozen=True, slots=True)
class CheckResult:
    ok: bool
    problems: list[str]
    summary: str = ""


@dataclass(frozen=True, slots=True)
class RepairResult:
    backup: Path
    recovered: dict[str, int]
    unreadable: list[str] = field(default_factory=list)


def _connect_existing(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise StoreError(f"{path} does not exist; nothing to check (pass --db to name another history file)")
    try:
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open {path} ({exc}); check its permissions") from exc


def check_history(path: Path) -> CheckResult:
    """SQLite's own integrity check plus ours (application id, schema version). Changes nothing."""
    conn = _connect_existing(path)
    try:
        try:
            app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            lines = [str(r[0]) for r in conn.execute("PRAGMA integrity_check(100)")]
        except sqlite3.DatabaseError as exc:
            return CheckResult(False, [str(exc)])
        problems = [line for line in lines if line != "ok"]
        if app_id != APPLICATION_ID:
            problems.append(f"application id {app_id:#x} is not Posture Companion's ({APPLICATION_ID:#x})")
        if version > SCHEMA_VERSION:
            problems.append(f"schema {version} is newer than this app's ({SCHEMA_VERSION}); update the app")
        try:
            counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("spans", "minutes", "events")}
        except sqlite3.DatabaseError as exc:
            problems.append(str(exc))
            counts = {}
        summary = ", ".join(f"{n} {t}" for t, n in counts.items())
        return CheckResult(not problems, problems, f"schema {version}; {summary}")
    finally:
        conn.close()


def ensure_readable(path: Path) -> None:
    """Raise the one-line "damaged" error now, before a command starts work it could not save or show.

    A missing file is fine (it will be created). `quick_check` reads every page once: a few tens of
    milliseconds for months of history.
    """
    if not path.is_file():
        return
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(SQLITE_MAGIC))
    except OSError:
        return  # the opener that follows says why it cannot be read
    if head != SQLITE_MAGIC:
        return  # not SQLite at all (or empty): the opener refuses it as not a history file
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return  # cannot even open it: the opener that follows reports why
    try:
        first = str(conn.execute("PRAGMA quick_check(1)").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        if is_corruption(exc):
            raise damaged(path, exc) from exc
        return
    finally:
        conn.close()
    if first != "ok":
        raise damaged(path, RuntimeError(first))


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [str(r[1]) for r in conn.execute(f"PRAGMA table_info({table})")]


def _readable_from(conn: sqlite3.Connection, table: str, key: str, lower: int) -> bool:
    try:
        conn.execute(f"SELECT {key} FROM {table} WHERE {key} >= ? ORDER BY {key} LIMIT 1", (lower,)).fetchall()
    except sqlite3.DatabaseError:
        return False
    return True


def _next_readable(conn: sqlite3.Connection, table: str, key: str, bad: int) -> int | None:
    """The smallest key above `bad` from which the table reads again (None: nothing further reads).

    Keys just past a damaged page seek into that page and fail; keys beyond it read. Probe 1, 2, 4…
    ahead until one reads, then bisect back to the first that does, so at most the damaged page's
    own rows are lost.
    """
    step = 1
    while not _readable_from(conn, table, key, bad + step):
        step *= 2
        if bad + step > 2**62:
            return None
    lo, hi = bad + step // 2, bad + step
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _readable_from(conn, table, key, mid):
            hi = mid
        else:
            lo = mid
    return hi


def _salvage(conn: sqlite3.Connection, table: str, key: str, columns: list[str]) -> Iterator[tuple[object, ...]]:
    """Rows of `table` in key order (our keys are integers), stepping over pages SQLite cannot read."""
    cols = ", ".join(columns)
    key_index = columns.index(key)
    lower: int | None = None
    last_good: int | None = None
    while True:
        where, params = (f"WHERE {key} >= ?", (lower,)) if lower is not None else ("", ())
        try:
            for row in conn.execute(f"SELECT {cols} FROM {table} {where} ORDER BY {key}", params):
                yield row
                last_good = int(row[key_index])  # type: ignore[call-overload]
            return
        except sqlite3.DatabaseError:
            # Rows of the last good key are all read only if the failure came after them; a repeat
            # (minute_reasons) is ignored by the caller's INSERT OR IGNORE.
            start = last_good if last_good is not None else -(2**62)
            found = _next_readable(conn, table, key, start if lower is None or start >= lower else lower)
            if found is None:
                return
            lower = found


def repair_history(path: Path, now: datetime | None = None) -> RepairResult:
    """Rebuild `path` from what can be read; the damaged file is kept beside it. Refuses while a
    companion writes the file."""
    holder = is_locked_elsewhere(path)
    if holder is not None:
        raise StoreError(f"Posture Companion is running ({holder}) and writing {path}; quit it first, then repair")
    if not path.is_file():
        raise StoreError(f"{path} does not exist; nothing to repair (pass --db to name another history file)")
    held_before = holds(path)
    claim_history(path)  # nobody may start writing while we rebuild
    try:
        return _repair(path, now or datetime.now())
    finally:
        if not held_before:
            release(path)


def _repair(path: Path, now: datetime) -> RepairResult:
    stamp = now.strftime("%Y%m%d-%H%M%S")
    backup = path.with_name(f"{path.name}.damaged-{stamp}")
    try:
        shutil.copy2(path, backup)
        for suffix in ("-wal",):
            side = path.with_name(path.name + suffix)
            if side.exists():
                shutil.copy2(side, backup.with_name(backup.name + suffix))
    except OSError as exc:
        raise StoreError(f"cannot keep a copy of {path} ({exc.strerror}); free some space, then try again") from exc

    fresh = path.with_name(f".{path.name}.repair.tmp")
    for leftover in (fresh, fresh.with_name(fresh.name + "-wal"), fresh.with_name(fresh.name + "-shm")):
        leftover.unlink(missing_ok=True)
    recovered: dict[str, int] = {}
    unreadable: list[str] = []
    # Read from the copy (so the write-ahead log is replayed there, not into the damaged original).
    source: sqlite3.Connection | None = sqlite3.connect(str(backup), isolation_level=None)
    try:
        assert source is not None
        source.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        assert source is not None
        source.close()
        source = None
        unreadable.append(f"the whole file ({exc})")
    target = open_db(fresh)
    try:
        target.execute("BEGIN IMMEDIATE")
        for table, key in TABLES:
            if source is None:
                break
            try:
                have = _columns(source, table)
            except sqlite3.DatabaseError as exc:
                unreadable.append(f"{table} ({exc})")
                continue
            if not have:
                continue  # an older schema without this table
            columns = [c for c in _columns(target, table) if c in have]
            if key not in columns:
                continue
            n = 0
            placeholders = ", ".join("?" * len(columns))
            insert = f"INSERT OR IGNORE INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
            for row in _salvage(source, table, key, columns):
                target.execute(insert, row)
                n += 1
            recovered[table] = n
        rescued = _merge_rescued(target, path)
        if rescued:
            recovered["unsaved files added back"] = len(rescued)
        target.execute("COMMIT")
    except BaseException:
        if target.in_transaction:
            target.execute("ROLLBACK")
        target.close()
        fresh.unlink(missing_ok=True)
        raise
    finally:
        if source is not None:
            source.close()
    target.close()
    # The damaged file's own log and shared memory belong to it; the copy above keeps them.
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    os.replace(fresh, path)
    for done in rescued:
        done.unlink(missing_ok=True)  # its rows are in the rebuilt file now
    return RepairResult(backup, recovered, unreadable)


def rescued_files(history: Path) -> list[Path]:
    """Files a companion closing on the damaged history saved its unsaved rows into."""
    return sorted(history.parent.glob(f"{history.name}{RESCUE_INFIX}*.db"))


def _merge_rescued(target: sqlite3.Connection, history: Path) -> list[Path]:
    """Add the rows of each rescue file to `target` (inside the caller's transaction)."""
    merged: list[Path] = []
    for rescue in rescued_files(history):
        try:
            conn = sqlite3.connect(f"file:{rescue}?mode=ro", uri=True)
        except sqlite3.Error:
            continue
        try:
            spans = conn.execute(
                "SELECT start, duration, state, band, reasons, score_sum, score_n, samples FROM spans"
            ).fetchall()
            events = conn.execute("SELECT wall, kind, data FROM events").fetchall()
            minutes = [m for (m,) in conn.execute("SELECT minute FROM minutes")]
            rows = [(m, read_minute(conn, m)) for m in minutes]
        except sqlite3.DatabaseError:
            continue
        finally:
            conn.close()
        # The rescue file holds the closing companion's rows in full, including any it had already
        # saved into the damaged file before the damage: its spans replace ones with the same start,
        # and its minutes replace a salvaged minute with no more samples (that was its own earlier part).
        target.executemany("DELETE FROM spans WHERE start = ?", [(span[0],) for span in spans])
        target.executemany(
            "INSERT INTO spans (start, duration, state, band, reasons, score_sum, score_n, samples) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", spans)
        target.executemany("INSERT INTO events (wall, kind, data) VALUES (?, ?, ?)", events)
        for minute, row in rows:
            if row is None:
                continue
            existing = read_minute(target, minute)
            keep = row if existing is None or row.samples >= existing.samples else merge_rows(existing, row)
            write_minute_row(target, minute, keep)
        merged.append(rescue)
    return merged
