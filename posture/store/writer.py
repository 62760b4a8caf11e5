"""The history sink: saves what `posture.store.accumulators` holds into the SQLite file, in batches.

Writes are batched: the injected clock is checked on every `add_*` call and a short transaction is
committed at least every `commit_interval` seconds. When the disk is full or the file read-only the
writer warns once, keeps unsaved rows in memory up to a bound (dropping the oldest and counting them)
and retries every `retry_interval` seconds.

What the sink promises beyond that:

* one writer per history: constructing a writer takes the history's OS lock (`posture.store.lock`)
  for the life of the process, so a second companion is refused with the pid of the first;
* retention is counted from `wall_clock` (the real clock), never from a replay's timeline;
* a recording (`Recording`: a clip's path and the time its first sample was placed at) replaces an
  earlier recording of the same clip at the same time instead of adding to it;
* `horizon=True` refuses samples later than the real clock (replays into the person's own history);
* a backward clock jump starts a new span and is logged as a `clock_jump` event;
* a history file deleted or replaced while running is noticed (inode check before every save and
  at least once a minute) and recreated, with one warning; what was unsaved is written to the new file;
* a damaged file is reported once with the way out (`posture history repair`); rows stay in memory.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from posture.clock import Clock, SystemClock
from posture.errors import StoreError
from posture.samples import Event, PostureSample
from posture.store.accumulators import (
    BAND_SLACK,
    BAND_WIDTH,
    MINUTE,
    ClockJump,
    HistoryAccumulator,
    MinuteAcc,
    MinuteRow,
    SpanAcc,
    in_band,
    merge_rows,
    minute_of,
    reasons_key,
    score_band,
    split_by_minute,
    subtract_rows,
)
from posture.store.db import (
    DAMAGED_HINT,
    FUTURE_SLACK_S,
    METRIC_KEYS,
    STATE_COLUMNS,
    HistoryUnavailable,
    PruneRefused,
    PruneResult,
    is_corruption,
    open_db,
    prune,
)
from posture.store.lock import claim_history, holds, lock_path, release

log = logging.getLogger("posture.store")

# The file's identity is checked before every save and at least this often (seconds, monotonic).
IDENTITY_CHECK_S = 30.0

__all__ = [
    "BAND_SLACK",
    "BAND_WIDTH",
    "MINUTE",
    "HistoryWriter",
    "Recording",
    "RunsAhead",
    "WriterStats",
    "in_band",
    "minute_of",
    "reasons_key",
    "score_band",
    "split_by_minute",
]


@dataclass(frozen=True, slots=True)
class Recording:
    """A replayed clip placed on the timeline: recording it again at the same start replaces it."""

    source: str
    start: float


class RunsAhead(StoreError):
    """A replay reached past the real clock while writing the person's own history."""


@dataclass(frozen=True, slots=True)
class WriterStats:
    samples: int
    events: int
    commits: int
    failures: int
    dropped_rows: int
    out_of_order: int  # backward clock jumps (each started a new span; nothing was dropped)
    pending_rows: int
    healthy: bool
    recreated: int = 0


WarnCallback = Callable[[str], None]


class HistoryWriter:
    """Append posture history to the SQLite file at `path`.

    `clock` decides when to commit (monotonic); `wall_clock` (the real clock; the system clock unless a
    test injects one) is what retention and `horizon` count from. Sample and event times come from
    `sample.wall` / `event.wall`, so a recorded clip can be placed anywhere in the past. Thread-safe:
    the capture loop and the UI may both add. Raises `StoreError` at construction only for files it
    must never touch (not SQLite, newer schema, damaged) or when another process writes the file;
    everything else is retried.
    """

    def __init__(
        self,
        path: str | Path,
        clock: Clock,
        *,
        pulse: float = 10.0,
        commit_interval: float = 5.0,
        retry_interval: float = 30.0,
        sample_interval: float = 1.0,
        max_pending_rows: int = 20_000,
        batch_rows: int = 2_000,
        on_warning: WarnCallback | None = None,
        wall_clock: Clock | None = None,
        recording: Recording | None = None,
        horizon: bool = False,
    ) -> None:
        if commit_interval <= 0:
            raise ValueError("commit_interval must be positive")
        self.path = Path(path)
        self._clock = clock
        self._wall_clock: Clock = wall_clock or SystemClock()
        self._commit_interval = commit_interval
        self._retry_interval = retry_interval
        self._batch_rows = batch_rows
        self._max_pending = max_pending_rows
        self._warn = on_warning or (lambda message: log.warning("%s", message))
        self._lock = threading.RLock()
        self._acc = HistoryAccumulator(pulse=pulse, sample_interval=sample_interval,
                                       max_pending_rows=max_pending_rows)
        self._events: list[tuple[float, str, str]] = []
        self._recording = recording
        self._recording_id: int | None = None
        self._horizon = horizon
        self._overlaid: set[int] = set()  # minutes the last save gave tentative seconds (rewritten next time)

        self._n_events = self._commits = self._failures = self._recreated = 0
        self._dropped_events = 0
        self._warned = False
        self._closed = False
        self._last_flush = clock.monotonic()
        self._next_retry = self._last_flush
        self._next_identity_check = self._last_flush + IDENTITY_CHECK_S
        self._identity: tuple[int, int] | None = None
        self._conn: sqlite3.Connection | None = None
        self._damaged = False
        # A companion claims the lock for its whole life (it rebuilds writers); a lone writer
        # (`analyze --record`, a test) holds it while open.
        self._owns_lock = not holds(self.path)
        claim_history(self.path)
        try:
            self._open()
        except HistoryUnavailable as exc:
            self._fail(str(exc))
        except BaseException:
            if self._owns_lock:
                release(self.path)
            raise

    # ------------------------------------------------------------------ public API

    def add_sample(self, sample: PostureSample) -> None:
        with self._lock:
            self._check_open()
            if self._horizon:
                self._check_horizon(sample.wall)
            jump = self._acc.add(sample)
            if jump is not None:
                self._clock_jumped(jump)
            self._maybe_flush()

    def add_event(self, event: Event) -> None:
        with self._lock:
            self._check_open()
            self._queue_event(event.wall, event.kind, event.data)
            self._maybe_flush()

    def flush(self) -> bool:
        """Save everything pending now; False if the file could not be written (rows are kept)."""
        with self._lock:
            return self._flush()

    def close(self) -> None:
        """Settle the newest sample, save what can be saved and release the file. Idempotent.

        The history lock is let go only if this writer took it (a companion keeps it while it runs).
        """
        with self._lock:
            if self._closed:
                return
            self._acc.finish()
            if not self._flush() and not (self._damaged and self._rescue()):
                lost = self._pending_rows()
                self._dropped_events += lost
                log.warning("history: %d unsaved rows lost on close (%s)", lost, self.path)
            self._closed = True
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            if self._owns_lock:
                release(self.path)

    def prune(self, older_than_days: float) -> PruneResult | None:
        """Apply the retention setting, counted from the real wall clock. None if nothing was pruned
        because the file is unwritable or its history reaches past the real clock (warned)."""
        with self._lock:
            self._check_open()
            if not self._flush() or self._conn is None:
                return None
            try:
                return prune(self._conn, older_than_days, self._wall_clock.wall())
            except PruneRefused as exc:
                self._warn(f"history: {exc}")
                return None
            except sqlite3.DatabaseError as exc:
                self._fail(_describe(exc))
                return None

    def stats(self) -> WriterStats:
        with self._lock:
            return WriterStats(
                samples=self._acc.samples,
                events=self._n_events,
                commits=self._commits,
                failures=self._failures,
                dropped_rows=self._acc.dropped + self._dropped_events,
                out_of_order=self._acc.clock_jumps,
                pending_rows=self._pending_rows(),
                healthy=not self._warned,
                recreated=self._recreated,
            )

    def __enter__(self) -> HistoryWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ accounting helpers

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("HistoryWriter is closed")

    def _check_horizon(self, wall: float) -> None:
        now = self._wall_clock.wall()
        if wall > now + FUTURE_SLACK_S:
            raise RunsAhead(
                f"this replay runs ahead of the real clock (it reached {_hhmm(wall)}; it is {_hhmm(now)} now) "
                "and would write the future into your history; pass --db FILE to record it elsewhere, "
                "or --start-time early enough for the whole clip to end before now"
            )

    def _clock_jumped(self, jump: ClockJump) -> None:
        # Recorded, not hidden: the samples after the jump are kept, starting a new span.
        self._queue_event(jump.wall, "clock_jump", {"seconds": round(-jump.seconds, 3),
                                                    "previous_wall": round(jump.previous_wall, 3)})
        log.info("history: the clock went back %.0f s; a new span starts at the new time", jump.seconds)

    def _queue_event(self, wall: float, kind: str, data: object) -> None:
        text = json.dumps(data, separators=(",", ":"), sort_keys=True, default=str)
        self._events.append((round(wall, 3), kind, text))
        self._n_events += 1
        excess = len(self._events) - self._max_pending
        if excess > 0:
            del self._events[:excess]
            self._dropped_events += excess

    def _pending_rows(self) -> int:
        return self._acc.pending_rows() + len(self._events)

    # ------------------------------------------------------------------ the file

    def _open(self) -> None:
        self._conn = open_db(self.path)
        self._identity = _identity(self.path)

    def _file_replaced(self) -> bool:
        if self._identity is None:
            return False
        return _identity(self.path) != self._identity

    def _recreate(self) -> None:
        """The file was deleted or replaced under us: start a new one, keeping what is in memory."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._identity = None
        self._recording_id = None
        self._acc.forget_file()
        if not lock_path(self.path).exists():
            # The whole folder went: take the lock again on a new lock file, so a second companion
            # started now still finds this one.
            release(self.path)
            claim_history(self.path)
        self._recreated += 1
        if self._recreated == 1:
            self._warn(
                f"history: {self.path} was deleted or replaced while the companion was running; "
                "starting a new history file there (history saved before that is in the old file)"
            )
        self._open()

    # ------------------------------------------------------------------ saving

    def _maybe_flush(self) -> None:
        now = self._clock.monotonic()
        if self._warned:
            due = now >= self._next_retry
        else:
            due = (now - self._last_flush >= self._commit_interval or self._pending_rows() >= self._batch_rows
                   or now >= self._next_identity_check)
        if due:
            self._flush()

    def _flush(self) -> bool:
        now = self._clock.monotonic()
        self._last_flush = now
        self._next_identity_check = now + IDENTITY_CHECK_S
        try:
            if self._conn is None:
                self._open()
            elif self._file_replaced():
                self._recreate()
        except HistoryUnavailable as exc:
            self._fail(str(exc))
            return False
        except StoreError as exc:
            # Damaged, or replaced by something that is not history: keep rows in memory, say so once.
            self._conn = None
            self._damaged = True
            self._fail(str(exc))
            return False
        conn = self._conn
        assert conn is not None
        acc = self._acc
        overlay = acc.overlay()
        for minute in overlay:
            acc.minute(minute)
        touched = [m for m in acc.minutes.values() if m.dirty or m.minute in overlay or m.minute in self._overlaid]
        spans = acc.dirty_spans()
        if not touched and not spans and not self._events:
            return True
        new_rowids: dict[int, int] = {}
        try:
            conn.execute("BEGIN IMMEDIATE")
            if self._recording is not None and self._recording_id is None:
                self._recording_id = _replace_recording(conn, self._recording, self._wall_clock.wall())
            for i, span in enumerate(spans):
                rowid = self._write_span(conn, span)
                if rowid is not None:
                    new_rowids[i] = rowid
            for m in touched:
                self._write_minute(conn, m, overlay.get(m.minute))
            conn.executemany(
                "INSERT INTO events (wall, kind, data, recording) VALUES (?, ?, ?, ?)",
                [(*e, self._recording_id) for e in self._events],
            )
            conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            if self._recording is not None:
                self._recording_id = None  # the replacement was rolled back too
            if is_corruption(exc):
                conn.close()
                self._conn = None
                self._damaged = True
                self._fail(f"the file is damaged ({exc}); {DAMAGED_HINT}")
            else:
                self._fail(_describe(exc))
            return False
        # Only now, with the commit done, does memory reflect what is on disk.
        for i, rowid in new_rowids.items():
            spans[i].rowid = rowid
        acc.saved(spans, touched, overlay)
        self._events.clear()
        self._overlaid = set(overlay)
        self._commits += 1
        self._damaged = False
        if self._warned:
            log.info("history: saving to %s again (%d rows dropped so far)", self.path, self.stats().dropped_rows)
            self._warned = False
        return True

    def _write_span(self, conn: sqlite3.Connection, span: SpanAcc) -> int | None:
        values = (
            round(span.duration, 3),
            span.state,
            span.band,
            span.reasons,
            round(span.score_sum, 3),
            span.score_n,
            span.samples,
        )
        if span.rowid is not None:
            conn.execute(
                "UPDATE spans SET duration=?, state=?, band=?, reasons=?, score_sum=?, score_n=?, samples=? "
                "WHERE id=?",
                (*values, span.rowid),
            )
            return None
        cur = conn.execute(
            "INSERT INTO spans (start, duration, state, band, reasons, score_sum, score_n, samples, recording) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (span.start, *values, self._recording_id),
        )
        return cur.lastrowid

    def _write_minute(self, conn: sqlite3.Connection, acc: MinuteAcc, tentative: float | None) -> None:
        if not acc.base_loaded:
            # Another writer (an earlier run, `analyze --record`) may already have saved part of this
            # minute: ours is added to theirs, never replaces it.
            acc.base = read_minute(conn, acc.minute)
            acc.base_loaded = True
        own = self._acc.own_row(acc, tentative)
        write_minute_row(conn, acc.minute, merge_rows(acc.base, own))
        if self._recording_id is not None:
            conn.execute(
                "INSERT OR REPLACE INTO recording_minutes (recording, minute, samples, "
                f"{', '.join(STATE_COLUMNS)}, score_wsum, score_secs, reasons) "
                f"VALUES ({', '.join('?' * (len(STATE_COLUMNS) + 6))})",
                (self._recording_id, acc.minute, own.samples, *(own.seconds[s] for s in STATE_COLUMNS),
                 own.score_wsum, own.score_secs, json.dumps(own.reasons, sort_keys=True)),
            )

    def _rescue(self) -> bool:
        """Closing on a damaged file: save what is unsaved into a new file beside it, which
        `posture history repair` adds back. True if that worked."""
        damaged_path = self.path
        rescue = rescue_path(damaged_path, self._wall_clock.wall())
        try:
            self._conn = open_db(rescue)
        except StoreError:
            return False
        self.path = rescue
        self._identity = _identity(rescue)
        self._recording_id = None
        self._acc.forget_file()
        self._overlaid = set()
        saved = self._flush()
        self.path = damaged_path
        if saved:
            self._warn(f"history: {damaged_path} is damaged; what was not saved yet is in {rescue} — "
                       "'posture history repair' rebuilds the file and adds it back")
        return saved

    def _fail(self, reason: str) -> None:
        self._failures += 1
        self._next_retry = self._clock.monotonic() + self._retry_interval
        if not self._warned:
            self._warned = True
            self._warn(
                f"history: cannot save to {self.path} ({reason}); keeping up to {self._max_pending} unsaved "
                f"rows in memory and retrying every {self._retry_interval:g} s"
            )


RESCUE_INFIX = ".unsaved-"


def rescue_path(history: Path, now: float) -> Path:
    stamp = datetime.fromtimestamp(now).strftime("%Y%m%d-%H%M%S")
    return history.with_name(f"{history.name}{RESCUE_INFIX}{stamp}.db")


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _describe(exc: sqlite3.DatabaseError) -> str:
    text = str(exc)
    if "full" in text:
        return "disk full"
    if "readonly" in text or "read-only" in text:
        return "the file is read-only"
    return text


def _hhmm(epoch: float) -> str:
    from posture.store.db import _iso

    return _iso(epoch)


def _round_or_none(value: float | None) -> float | None:
    return None if value is None else round(value, 5)


_MINUTE_COLS = ("samples", *STATE_COLUMNS, "score_wsum", "score_secs", *METRIC_KEYS)


def read_minute(conn: sqlite3.Connection, minute: int) -> MinuteRow | None:
    found = conn.execute(f"SELECT {', '.join(_MINUTE_COLS)} FROM minutes WHERE minute = ?", (minute,)).fetchone()
    if found is None:
        return None
    n_states = len(STATE_COLUMNS)
    seconds = dict(zip(STATE_COLUMNS, found[1 : 1 + n_states], strict=True))
    score_wsum, score_secs = found[1 + n_states], found[2 + n_states]
    medians = {k: v for k, v in zip(METRIC_KEYS, found[3 + n_states :], strict=True) if v is not None}
    reasons = dict(conn.execute("SELECT reason, seconds FROM minute_reasons WHERE minute = ?", (minute,)))
    return MinuteRow(found[0], seconds, reasons, score_wsum, score_secs, medians)


def write_minute_row(conn: sqlite3.Connection, minute: int, row: MinuteRow) -> None:
    conn.execute("DELETE FROM minute_reasons WHERE minute = ?", (minute,))
    if row.is_empty():
        conn.execute("DELETE FROM minutes WHERE minute = ?", (minute,))
        return
    cols = ("minute", *_MINUTE_COLS)
    values = (
        minute,
        row.samples,
        *(round(row.seconds[s], 3) for s in STATE_COLUMNS),
        round(row.score_wsum, 3),
        round(row.score_secs, 3),
        *(_round_or_none(row.medians.get(k)) for k in METRIC_KEYS),
    )
    placeholders = ", ".join("?" * len(cols))
    conn.execute(f"INSERT OR REPLACE INTO minutes ({', '.join(cols)}) VALUES ({placeholders})", values)
    conn.executemany(
        "INSERT INTO minute_reasons (minute, reason, seconds) VALUES (?, ?, ?)",
        [(minute, r, round(s, 3)) for r, s in sorted(row.reasons.items()) if s > 0],
    )


def _replace_recording(conn: sqlite3.Connection, recording: Recording, now: float) -> int:
    """Take out an earlier recording of the same clip at the same start; returns the recording's id.

    Runs inside the caller's transaction, so the old copy disappears only together with the first
    rows of the new one.
    """
    found = conn.execute(
        "SELECT id FROM recordings WHERE source = ? AND start = ?", (recording.source, recording.start)
    ).fetchone()
    if found is None:
        cur = conn.execute(
            "INSERT INTO recordings (source, start, created) VALUES (?, ?, ?)",
            (recording.source, recording.start, now),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid
    rec_id = int(found[0])
    shares = conn.execute(
        f"SELECT minute, samples, {', '.join(STATE_COLUMNS)}, score_wsum, score_secs, reasons "
        "FROM recording_minutes WHERE recording = ?",
        (rec_id,),
    ).fetchall()
    n = len(STATE_COLUMNS)
    for r in shares:
        part = MinuteRow(r[1], dict(zip(STATE_COLUMNS, r[2 : 2 + n], strict=True)), json.loads(r[4 + n]),
                         r[2 + n], r[3 + n], {})
        total = read_minute(conn, r[0])
        if total is not None:
            write_minute_row(conn, r[0], subtract_rows(total, part))
    conn.execute("DELETE FROM recording_minutes WHERE recording = ?", (rec_id,))
    conn.execute("DELETE FROM spans WHERE recording = ?", (rec_id,))
    conn.execute("DELETE FROM events WHERE recording = ?", (rec_id,))
    conn.execute("UPDATE recordings SET created = ? WHERE id = ?", (now, rec_id))
    return rec_id
