"""The batched history writer: samples become merged spans and per-minute aggregates; events are kept.

Time accounting (the rule every table and test relies on). Samples arrive in wall-time order; sample
i at wall w[i] covers the interval [w[i], w[i] + d[i]) where

* d[i] = w[i+1] - w[i]            when the next sample follows within the pulse window P, else
* d[i] = min(interval, P)         (the stream stopped or paused: the sample holds for one interval),

and `interval` is the latest gap in (0, P] seen so far (the initial `sample_interval` before any).
These intervals never overlap, so summing d[i] neither loses nor double-counts time. A span is a run
of consecutive samples with the same state and reasons, scores in the span's 10-point band (with
BAND_SLACK points of slack), each within P of the previous one; its duration is the sum of its samples' d[i]. Minutes split each [w[i], w[i] + d[i]) at minute
boundaries for state and reason seconds and the time-weighted mean score; metric medians are over
the samples whose wall time falls in the minute.

The newest sample's d is not known until the next sample arrives, so each flush writes it with its
tentative value (min(interval, P)) and later flushes correct it in place, ActivityWatch-style. Samples
whose wall time goes backwards are ignored and counted.

Writes are batched: the injected clock is checked on every `add_*` call and a short transaction is
committed at least every `commit_interval` seconds. When the disk is full or the file read-only the
writer warns once, keeps unsaved rows in memory up to a bound (dropping the oldest and counting them)
and retries every `retry_interval` seconds.
"""

from __future__ import annotations

import json
import logging
import math
import sqlite3
import statistics
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from posture.clock import Clock
from posture.samples import Event, PostureSample
from posture.store.db import METRIC_KEYS, STATE_COLUMNS, HistoryUnavailable, PruneResult, open_db, prune

log = logging.getLogger("posture.store")

MINUTE = 60
BAND_WIDTH = 10
# A span keeps its band while the score stays within this many points outside it, so a smoothed score
# hovering on a band edge (79.8, 80.1, 79.9...) does not split the span every second.
BAND_SLACK = 2.0
_METRICS = frozenset(METRIC_KEYS)


def score_band(score: float | None) -> int | None:
    """Lower bound of the score's 10-point band (0..90; 100 belongs to 90-100)."""
    if score is None or math.isnan(score):
        return None
    return int(min(max(score, 0.0), 99.999) // BAND_WIDTH) * BAND_WIDTH


def in_band(band: int | None, score: float | None) -> bool:
    """Whether a sample's score still belongs to a span of this band (slack included)."""
    if band is None or score is None:
        return band is None and score is None
    return band - BAND_SLACK <= score < band + BAND_WIDTH + BAND_SLACK


def reasons_key(reasons: Iterable[str]) -> str:
    return ",".join(sorted(set(reasons)))


def _state_of(sample: PostureSample) -> str:
    return sample.state if sample.state in STATE_COLUMNS else "unknown"


def minute_of(wall: float) -> int:
    """Epoch seconds at the start of the minute holding `wall`."""
    return math.floor(wall / MINUTE) * MINUTE


def split_by_minute(start: float, duration: float) -> Iterator[tuple[int, float]]:
    """(minute start, seconds) pieces of [start, start + duration)."""
    end = start + duration
    t = start
    while t < end:
        minute = minute_of(t)
        piece_end = min(end, minute + MINUTE)
        yield minute, piece_end - t
        t = piece_end


@dataclass(slots=True)
class _Span:
    start: float
    state: str
    band: int | None
    reasons: str
    score_sum: float = 0.0
    score_n: int = 0
    samples: int = 0
    settled: float = 0.0  # sum of d[i] of samples whose duration is final
    tail: float = 0.0  # tentative d of the newest sample while it is still open
    rowid: int | None = None
    dirty: bool = True

    @property
    def duration(self) -> float:
        return self.settled + self.tail


@dataclass(slots=True)
class _Minute:
    """One minute's aggregate while this writer still has something to add or save for it."""

    minute: int
    samples: int = 0
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STATE_COLUMNS, 0.0))
    reasons: dict[str, float] = field(default_factory=dict)
    score_wsum: float = 0.0
    score_secs: float = 0.0
    values: dict[str, list[float]] = field(default_factory=dict)  # raw metric values while open
    medians: dict[str, float] | None = None  # set when the minute closes; `values` is then dropped
    closed: bool = False
    dirty: bool = True
    base: _MinuteRow | None = None  # the row other writers left before we first touched this minute
    base_loaded: bool = False

    def add_time(self, state: str, reasons: tuple[str, ...], score: float | None, seconds: float) -> None:
        self.seconds[state] += seconds
        for reason in reasons:
            self.reasons[reason] = self.reasons.get(reason, 0.0) + seconds
        if score is not None:
            self.score_wsum += score * seconds
            self.score_secs += seconds
        self.dirty = True

    def close(self) -> None:
        self.medians = self.current_medians()
        self.values = {}
        self.closed = True
        self.dirty = True

    def current_medians(self) -> dict[str, float]:
        if self.medians is not None:
            return self.medians
        return {k: float(statistics.median(v)) for k, v in self.values.items() if v}


@dataclass(slots=True)
class _MinuteRow:
    samples: int
    seconds: dict[str, float]
    reasons: dict[str, float]
    score_wsum: float
    score_secs: float
    medians: dict[str, float]

    def is_empty(self) -> bool:
        return self.samples == 0 and not any(self.seconds.values())


@dataclass(frozen=True, slots=True)
class WriterStats:
    samples: int
    events: int
    commits: int
    failures: int
    dropped_rows: int
    out_of_order: int
    pending_rows: int
    healthy: bool


WarnCallback = Callable[[str], None]


class HistoryWriter:
    """Append posture history to the SQLite file at `path`.

    `clock` decides when to commit (monotonic) and when `prune` cuts (wall); sample and event times
    come from `sample.wall` / `event.wall`, so a recorded clip can be placed anywhere in the past.
    Thread-safe: the capture loop and the UI may both add. Raises `StoreError` at construction only
    for files it must never touch (not SQLite, newer schema); everything else is retried.
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
    ) -> None:
        if pulse <= 0 or commit_interval <= 0 or sample_interval <= 0:
            raise ValueError("pulse, commit_interval and sample_interval must be positive")
        self.path = Path(path)
        self._clock = clock
        self._pulse = pulse
        self._commit_interval = commit_interval
        self._retry_interval = retry_interval
        self._interval = min(sample_interval, pulse)
        self._max_pending = max_pending_rows
        self._batch_rows = batch_rows
        self._warn = on_warning or (lambda message: log.warning("%s", message))
        self._lock = threading.RLock()

        self._last: PostureSample | None = None  # the newest sample; its duration is still open
        self._span: _Span | None = None  # the span the next sample may extend
        self._spans: list[_Span] = []  # finished spans not yet saved (oldest first)
        self._minutes: dict[int, _Minute] = {}
        self._open_minutes: set[int] = set()  # minutes that may still receive time (one or two)
        self._overlay_minutes: set[int] = set()  # minutes the last save gave tentative seconds
        self._events: list[tuple[float, str, str]] = []

        self._n_samples = self._n_events = self._commits = self._failures = 0
        self._dropped = self._out_of_order = 0
        self._warned = False
        self._closed = False
        self._last_flush = clock.monotonic()
        self._next_retry = self._last_flush
        self._conn: sqlite3.Connection | None = None
        try:
            self._conn = open_db(self.path)
        except HistoryUnavailable as exc:
            self._fail(str(exc))

    # ------------------------------------------------------------------ public API

    def add_sample(self, sample: PostureSample) -> None:
        with self._lock:
            self._check_open()
            self._add_sample(sample)
            self._maybe_flush()

    def add_event(self, event: Event) -> None:
        with self._lock:
            self._check_open()
            data = json.dumps(event.data, separators=(",", ":"), sort_keys=True, default=str)
            self._events.append((round(event.wall, 3), event.kind, data))
            self._n_events += 1
            self._bound(self._events)
            self._maybe_flush()

    def flush(self) -> bool:
        """Save everything pending now; False if the file could not be written (rows are kept)."""
        with self._lock:
            return self._flush()

    def close(self) -> None:
        """Settle the newest sample, save what can be saved and release the file. Idempotent."""
        with self._lock:
            if self._closed:
                return
            if self._last is not None:
                self._settle(self._last, min(self._interval, self._pulse))
                self._last = None
            self._finish_span()
            for acc in self._minutes.values():
                if not acc.closed:
                    acc.close()
            self._open_minutes.clear()
            if not self._flush():
                lost = self._pending_rows()
                self._dropped += lost
                log.warning("history: %d unsaved rows lost on close (%s)", lost, self.path)
            self._closed = True
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def prune(self, older_than_days: float) -> PruneResult | None:
        """Apply the retention setting: delete history older than this many days. None if unwritable."""
        with self._lock:
            self._check_open()
            if not self._flush() or self._conn is None:
                return None
            return prune(self._conn, older_than_days, self._clock.wall())

    def stats(self) -> WriterStats:
        with self._lock:
            return WriterStats(
                samples=self._n_samples,
                events=self._n_events,
                commits=self._commits,
                failures=self._failures,
                dropped_rows=self._dropped,
                out_of_order=self._out_of_order,
                pending_rows=self._pending_rows(),
                healthy=not self._warned,
            )

    def __enter__(self) -> HistoryWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ accounting

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("HistoryWriter is closed")

    def _add_sample(self, sample: PostureSample) -> None:
        last = self._last
        continuous = False
        if last is not None:
            gap = sample.wall - last.wall
            if gap < 0:
                self._out_of_order += 1
                return
            continuous = gap <= self._pulse
            self._settle(last, gap if continuous else min(self._interval, self._pulse))
            if 0 < gap <= self._pulse:
                self._interval = gap
            self._close_minutes_before(sample.wall)
        self._n_samples += 1
        state = _state_of(sample)
        score = sample.score if sample.score is not None and not math.isnan(sample.score) else None
        reasons = reasons_key(sample.reasons)
        span = self._span
        if span is None or not continuous or (span.state, span.reasons) != (state, reasons) or not in_band(
            span.band, score
        ):
            self._finish_span()
            span = self._span = _Span(round(sample.wall, 3), state, score_band(score), reasons)
        span.samples += 1
        if score is not None:
            span.score_sum += score
            span.score_n += 1
        span.tail = min(self._interval, self._pulse)
        span.dirty = True

        acc = self._minute(minute_of(sample.wall))
        acc.samples += 1
        for metric, value in sample.metrics.items():
            if value is not None and metric in _METRICS and not math.isnan(value):
                acc.values.setdefault(metric, []).append(float(value))
        self._last = sample

    def _settle(self, sample: PostureSample, duration: float) -> None:
        """Fix the newest sample's duration: its span and minutes get their final seconds."""
        if self._span is not None:
            self._span.settled += duration
            self._span.tail = 0.0
            self._span.dirty = True
        state = _state_of(sample)
        score = sample.score if sample.score is not None and not math.isnan(sample.score) else None
        reasons = tuple(sorted(set(sample.reasons)))
        for minute, seconds in split_by_minute(sample.wall, duration):
            self._minute(minute).add_time(state, reasons, score, seconds)

    def _close_minutes_before(self, wall: float) -> None:
        # Everything before the minute holding `wall` has had all its time attributed.
        frontier = minute_of(wall)
        for minute in [m for m in self._open_minutes if m < frontier]:
            self._open_minutes.discard(minute)
            acc = self._minutes.get(minute)
            if acc is not None:
                acc.close()

    def _finish_span(self) -> None:
        if self._span is not None:
            self._spans.append(self._span)
            self._span = None
            self._bound(self._spans)

    def _minute(self, minute: int) -> _Minute:
        acc = self._minutes.get(minute)
        if acc is None:
            acc = self._minutes[minute] = _Minute(minute)
            self._open_minutes.add(minute)
            self._bound_minutes()
        return acc

    # ------------------------------------------------------------------ memory bound

    def _pending_rows(self) -> int:
        # Minutes in memory are all unsaved or about to be (saved closed ones are evicted): cheap to count.
        open_span = 1 if self._span is not None and self._span.dirty else 0
        return len(self._spans) + open_span + len(self._events) + len(self._minutes)

    def _bound(self, queue: list[Any]) -> None:
        excess = len(queue) - self._max_pending
        if excess > 0:
            del queue[:excess]
            self._dropped += excess

    def _bound_minutes(self) -> None:
        excess = len(self._minutes) - self._max_pending
        if excess <= 0:
            return
        for minute in sorted(m for m, acc in self._minutes.items() if acc.closed)[:excess]:
            del self._minutes[minute]
            self._dropped += 1

    # ------------------------------------------------------------------ saving

    def _maybe_flush(self) -> None:
        now = self._clock.monotonic()
        if self._warned:
            due = now >= self._next_retry
        else:
            due = now - self._last_flush >= self._commit_interval or self._pending_rows() >= self._batch_rows
        if due:
            self._flush()

    def _flush(self) -> bool:
        now = self._clock.monotonic()
        self._last_flush = now
        if self._conn is None:
            try:
                self._conn = open_db(self.path)
            except HistoryUnavailable as exc:
                self._fail(str(exc))
                return False
        conn = self._conn
        overlay = self._overlay()
        for minute in overlay:
            self._minute(minute)
        # Minutes whose tentative seconds changed since the last save must be rewritten too.
        retouch = self._overlay_minutes | overlay.keys()
        touched = [acc for acc in self._minutes.values() if acc.dirty or acc.minute in retouch]
        spans = [s for s in self._spans if s.dirty]
        if self._span is not None and self._span.dirty:
            spans.append(self._span)
        if not touched and not spans and not self._events:
            return True
        new_rowids: dict[int, int] = {}
        try:
            conn.execute("BEGIN IMMEDIATE")
            for i, span in enumerate(spans):
                rowid = self._write_span(conn, span)
                if rowid is not None:
                    new_rowids[i] = rowid
            for acc in touched:
                self._write_minute(conn, acc, overlay.get(acc.minute))
            conn.executemany("INSERT INTO events (wall, kind, data) VALUES (?, ?, ?)", self._events)
            conn.commit()
        except sqlite3.OperationalError as exc:
            if conn.in_transaction:
                conn.rollback()
            self._fail(_describe(exc))
            return False
        # Only now, with the commit done, does memory reflect what is on disk.
        for i, rowid in new_rowids.items():
            spans[i].rowid = rowid
        for span in spans:
            span.dirty = False
        self._spans.clear()
        self._events.clear()
        for acc in touched:
            acc.dirty = False
        self._overlay_minutes = set(overlay)
        for minute in [m for m, acc in self._minutes.items() if acc.closed and m not in overlay]:
            del self._minutes[minute]
        self._commits += 1
        if self._warned:
            log.info("history: saving to %s again (%d rows dropped so far)", self.path, self._dropped)
            self._warned = False
        return True

    def _overlay(self) -> dict[int, float]:
        """Tentative seconds the newest sample adds to each minute if it ended now."""
        if self._last is None:
            return {}
        return dict(split_by_minute(self._last.wall, min(self._interval, self._pulse)))

    def _write_span(self, conn: sqlite3.Connection, span: _Span) -> int | None:
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
            "INSERT INTO spans (start, duration, state, band, reasons, score_sum, score_n, samples) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (span.start, *values),
        )
        return cur.lastrowid

    def _write_minute(self, conn: sqlite3.Connection, acc: _Minute, tentative: float | None) -> None:
        if not acc.base_loaded:
            # Another writer (an earlier run, `analyze --record`) may already have saved part of this
            # minute: ours is added to theirs, never replaces it.
            acc.base = _read_minute(conn, acc.minute)
            acc.base_loaded = True
        row = _merge(acc.base, self._own_row(acc, tentative))
        conn.execute("DELETE FROM minute_reasons WHERE minute = ?", (acc.minute,))
        if row.is_empty():
            conn.execute("DELETE FROM minutes WHERE minute = ?", (acc.minute,))
            return
        cols = ("minute", "samples", *STATE_COLUMNS, "score_wsum", "score_secs", *METRIC_KEYS)
        values = (
            acc.minute,
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
            [(acc.minute, r, round(s, 3)) for r, s in sorted(row.reasons.items()) if s > 0],
        )

    def _own_row(self, acc: _Minute, tentative: float | None) -> _MinuteRow:
        seconds = dict(acc.seconds)
        reasons = dict(acc.reasons)
        score_wsum, score_secs = acc.score_wsum, acc.score_secs
        last = self._last
        if tentative and last is not None:
            seconds[_state_of(last)] += tentative
            for reason in set(last.reasons):
                reasons[reason] = reasons.get(reason, 0.0) + tentative
            if last.score is not None and not math.isnan(last.score):
                score_wsum += last.score * tentative
                score_secs += tentative
        return _MinuteRow(acc.samples, seconds, reasons, score_wsum, score_secs, acc.current_medians())

    def _fail(self, reason: str) -> None:
        self._failures += 1
        self._next_retry = self._clock.monotonic() + self._retry_interval
        if not self._warned:
            self._warned = True
            self._warn(
                f"history: cannot save to {self.path} ({reason}); keeping up to {self._max_pending} unsaved "
                f"rows in memory and retrying every {self._retry_interval:g} s"
            )


def _describe(exc: sqlite3.OperationalError) -> str:
    text = str(exc)
    if "full" in text:
        return "disk full"
    if "readonly" in text or "read-only" in text:
        return "the file is read-only"
    return text


def _round_or_none(value: float | None) -> float | None:
    return None if value is None else round(value, 5)


def _read_minute(conn: sqlite3.Connection, minute: int) -> _MinuteRow | None:
    cols = ("samples", *STATE_COLUMNS, "score_wsum", "score_secs", *METRIC_KEYS)
    found = conn.execute(f"SELECT {', '.join(cols)} FROM minutes WHERE minute = ?", (minute,)).fetchone()
    if found is None:
        return None
    n_states = len(STATE_COLUMNS)
    seconds = dict(zip(STATE_COLUMNS, found[1 : 1 + n_states], strict=True))
    score_wsum, score_secs = found[1 + n_states], found[2 + n_states]
    medians = {k: v for k, v in zip(METRIC_KEYS, found[3 + n_states :], strict=True) if v is not None}
    reasons = dict(conn.execute("SELECT reason, seconds FROM minute_reasons WHERE minute = ?", (minute,)))
    return _MinuteRow(found[0], seconds, reasons, score_wsum, score_secs, medians)


def _merge(base: _MinuteRow | None, own: _MinuteRow) -> _MinuteRow:
    if base is None or base.is_empty():
        return own
    reasons = dict(base.reasons)
    for reason, seconds in own.reasons.items():
        reasons[reason] = reasons.get(reason, 0.0) + seconds
    medians: dict[str, float] = {}
    total = max(base.samples + own.samples, 1)
    for key in set(base.medians) | set(own.medians):
        if key in base.medians and key in own.medians:
            # Two writers in one minute (a restart): a sample-weighted mean of medians is close enough.
            medians[key] = (base.medians[key] * base.samples + own.medians[key] * own.samples) / total
        else:
            medians[key] = base.medians.get(key, own.medians.get(key, 0.0))
    return _MinuteRow(
        samples=base.samples + own.samples,
        seconds={s: base.seconds.get(s, 0.0) + own.seconds.get(s, 0.0) for s in STATE_COLUMNS},
        reasons=reasons,
        score_wsum=base.score_wsum + own.score_wsum,
        score_secs=base.score_secs + own.score_secs,
        medians=medians,
    )
