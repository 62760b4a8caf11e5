"""The read side of history, shared by `posture report`, `posture export` and the dashboard.

Everything reads the per-minute aggregates (small, indexed by minute) unless it needs exact state
changes, which come from `spans`. Ranges are half-open [start, end) in epoch seconds; "days" are the
person's local calendar days.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from posture.jsonvalues import JsonObject
from posture.store.db import METRIC_KEYS, STATE_COLUMNS, open_db

ASSESSED = ("good", "drifting", "poor")  # states with a posture judgement; away/unknown are not


def open_reader(path: str | Path) -> sqlite3.Connection:
    """A read-only connection (created and migrated if missing) for reports and the dashboard."""
    return open_db(path, for_reading=True)


def day_bounds(day: date) -> tuple[float, float]:
    """[start, end) epoch seconds of a local calendar day (23 or 25 hours on DST changes)."""
    start = datetime(day.year, day.month, day.day).timestamp()
    nxt = day + timedelta(days=1)
    return start, datetime(nxt.year, nxt.month, nxt.day).timestamp()


def days_bounds(first: date, last: date) -> tuple[float, float]:
    """[start, end) epoch seconds covering local days first..last inclusive."""
    return day_bounds(first)[0], day_bounds(last)[1]


def data_version(conn: sqlite3.Connection) -> int:
    """Changes whenever another connection commits: a free 'anything new?' check for polling."""
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


@dataclass(frozen=True, slots=True)
class StateTotals:
    seconds: dict[str, float]
    score_wsum: float = 0.0
    score_secs: float = 0.0

    @property
    def monitored(self) -> float:
        return sum(self.seconds.values())

    @property
    def assessed(self) -> float:
        return sum(self.seconds[s] for s in ASSESSED)

    def share(self, state: str) -> float | None:
        """Share of assessed time (good/drifting/poor), or of monitored time for away/unknown."""
        whole = self.assessed if state in ASSESSED else self.monitored
        return self.seconds[state] / whole if whole > 0 else None

    @property
    def mean_score(self) -> float | None:
        return self.score_wsum / self.score_secs if self.score_secs > 0 else None


_SUMS = ", ".join(f"coalesce(sum({s}), 0)" for s in STATE_COLUMNS)


def state_totals(conn: sqlite3.Connection, start: float, end: float) -> StateTotals:
    row = conn.execute(
        f"SELECT {_SUMS}, coalesce(sum(score_wsum), 0), coalesce(sum(score_secs), 0) FROM minutes "
        "WHERE minute >= ? AND minute < ?",
        (start, end),
    ).fetchone()
    n = len(STATE_COLUMNS)
    return StateTotals(dict(zip(STATE_COLUMNS, row[:n], strict=True)), row[n], row[n + 1])


@dataclass(frozen=True, slots=True)
class DayTotals:
    day: date
    totals: StateTotals


# Local-time grouping is done on 15-minute buckets in Python rather than with SQLite's 'localtime'
# per row: ~100x fewer conversions, and every real UTC offset is a multiple of 15 minutes, so a bucket
# never straddles a local hour or day.
BUCKET_S = 900
_BUCKET_SUMS = ", ".join(f"sum({s})" for s in STATE_COLUMNS)


Buckets = list[tuple[datetime, tuple[float, ...]]]


def local_buckets(conn: sqlite3.Connection, start: float, end: float) -> Buckets:
    """(local start, (seconds per state..., score_wsum, score_secs)) per 15-minute bucket with history.

    One scan serves several views (daily totals, the weekday x hour grid), so callers that need both
    fetch buckets once and use `daily_from_buckets` / `weekday_hour_from_buckets`.
    """
    rows = conn.execute(
        f"SELECT minute / {BUCKET_S} AS b, {_BUCKET_SUMS}, sum(score_wsum), sum(score_secs) FROM minutes "
        "WHERE minute >= ? AND minute < ? GROUP BY b ORDER BY b",
        (start, end),
    )
    return [(datetime.fromtimestamp(r[0] * BUCKET_S), tuple(r[1:])) for r in rows]


def daily_from_buckets(buckets: Buckets, first: date, last: date) -> list[DayTotals]:
    """One entry per local day from first to last inclusive (days without history have zero time)."""
    n = len(STATE_COLUMNS)
    sums: dict[date, list[float]] = {}
    for local, values in buckets:
        acc = sums.setdefault(local.date(), [0.0] * (n + 2))
        for i, v in enumerate(values):
            acc[i] += v
    out = []
    day = first
    while day <= last:
        acc = sums.get(day, [0.0] * (n + 2))
        out.append(DayTotals(day, StateTotals(dict(zip(STATE_COLUMNS, acc[:n], strict=True)), acc[n], acc[n + 1])))
        day += timedelta(days=1)
    return out


def weekday_hour_from_buckets(buckets: Buckets) -> tuple[np.ndarray, np.ndarray]:
    """(poor seconds, assessed seconds) as 7 x 24 arrays: rows Monday..Sunday, columns local hour."""
    poor = np.zeros((7, 24))
    assessed = np.zeros((7, 24))
    i_good, i_drift, i_poor = (STATE_COLUMNS.index(s) for s in ASSESSED)
    for local, values in buckets:
        cell = (local.weekday(), local.hour)
        poor[cell] += values[i_poor]
        assessed[cell] += values[i_good] + values[i_drift] + values[i_poor]
    return poor, assessed


def daily_totals(conn: sqlite3.Connection, first: date, last: date) -> list[DayTotals]:
    return daily_from_buckets(local_buckets(conn, *days_bounds(first, last)), first, last)


def weekday_hour_seconds(conn: sqlite3.Connection, start: float, end: float) -> tuple[np.ndarray, np.ndarray]:
    return weekday_hour_from_buckets(local_buckets(conn, start, end))


def reason_seconds(conn: sqlite3.Connection, start: float, end: float) -> dict[str, float]:
    """Seconds per reason key, largest first."""
    rows = conn.execute(
        "SELECT reason, sum(seconds) AS s FROM minute_reasons WHERE minute >= ? AND minute < ? "
        "GROUP BY reason ORDER BY s DESC, reason",
        (start, end),
    )
    return {reason: float(seconds) for reason, seconds in rows}


@dataclass(frozen=True, slots=True)
class MinuteSeries:
    """Per-minute columns for plotting; `score` is NaN where a minute had no score."""

    minute: np.ndarray
    score: np.ndarray
    seconds: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.minute)

    def dominant_state(self) -> list[str]:
        """The state holding most of each minute (ties go to the first in STATE_COLUMNS order)."""
        stacked = np.vstack([self.seconds[s] for s in STATE_COLUMNS]) if len(self) else np.zeros((5, 0))
        return [STATE_COLUMNS[i] for i in np.argmax(stacked, axis=0)]


def minute_series(conn: sqlite3.Connection, start: float, end: float) -> MinuteSeries:
    rows = conn.execute(
        "SELECT minute, CASE WHEN score_secs > 0 THEN score_wsum / score_secs END, "
        f"{', '.join(STATE_COLUMNS)} "
        "FROM minutes WHERE minute >= ? AND minute < ? ORDER BY minute",
        (start, end),
    ).fetchall()
    if not rows:
        empty = np.zeros(0)
        return MinuteSeries(np.zeros(0, dtype=np.int64), empty, {s: empty for s in STATE_COLUMNS})
    arr = np.array([[np.nan if v is None else v for v in r] for r in rows], dtype=float)
    return MinuteSeries(
        minute=arr[:, 0].astype(np.int64),
        score=arr[:, 1],
        seconds={s: arr[:, 2 + i] for i, s in enumerate(STATE_COLUMNS)},
    )


@dataclass(frozen=True, slots=True)
class StoredSpan:
    id: int
    start: float
    duration: float
    state: str
    band: int | None
    reasons: tuple[str, ...]
    mean_score: float | None
    samples: int

    @property
    def end(self) -> float:
        return self.start + self.duration


def spans_between(conn: sqlite3.Connection, start: float, end: float) -> list[StoredSpan]:
    """Spans that overlap [start, end), oldest first."""
    rows = conn.execute(
        "SELECT id, start, duration, state, band, reasons, score_sum, score_n, samples FROM spans "
        "WHERE start < ? AND start + duration >= ? ORDER BY start, id",
        (end, start),
    )
    return [
        StoredSpan(
            id=r[0],
            start=r[1],
            duration=r[2],
            state=r[3],
            band=r[4],
            reasons=tuple(x for x in r[5].split(",") if x),
            mean_score=r[6] / r[7] if r[7] else None,
            samples=r[8],
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: int
    wall: float
    kind: str
    data: JsonObject = field(default_factory=dict)


def events_between(
    conn: sqlite3.Connection, start: float, end: float, kinds: Iterable[str] | None = None, after_id: int = 0
) -> list[StoredEvent]:
    sql = "SELECT id, wall, kind, data FROM events WHERE wall >= ? AND wall < ? AND id > ?"
    params: list[float | str] = [start, end, after_id]
    if kinds is not None:
        wanted = list(kinds)
        sql += f" AND kind IN ({', '.join('?' * len(wanted))})"
        params += wanted
    rows = conn.execute(sql + " ORDER BY wall, id", params)
    return [StoredEvent(r[0], r[1], r[2], _load_json(r[3])) for r in rows]


def _load_json(text: str) -> JsonObject:
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return {"raw": text}
    return value if isinstance(value, dict) else {"value": value}


def history_range(conn: sqlite3.Connection) -> tuple[float, float] | None:
    """(first, last) epoch seconds with any history, or None for an empty file."""
    row = conn.execute(
        "SELECT min(t0), max(t1) FROM ("
        " SELECT min(minute) AS t0, max(minute) + 60 AS t1 FROM minutes"
        " UNION ALL SELECT min(wall), max(wall) FROM events)"
    ).fetchone()
    if row is None or row[0] is None:
        return None
    return float(row[0]), float(row[1])


# ---------------------------------------------------------------- raw rows for export


def table_columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]


def iter_spans(conn: sqlite3.Connection) -> Iterator[JsonObject]:
    for s in spans_between(conn, float("-inf"), float("inf")):
        yield {
            "start": s.start,
            "start_local": _local_iso(s.start),
            "duration_s": s.duration,
            "state": s.state,
            "score_band": s.band,
            "mean_score": None if s.mean_score is None else round(s.mean_score, 2),
            "reasons": list(s.reasons),
            "samples": s.samples,
        }


def iter_minutes(conn: sqlite3.Connection, reason_keys: Sequence[str]) -> Iterator[JsonObject]:
    reasons: dict[int, dict[str, float]] = {}
    for minute, reason, seconds in conn.execute("SELECT minute, reason, seconds FROM minute_reasons"):
        reasons.setdefault(minute, {})[reason] = seconds
    cols = ("minute", "samples", *STATE_COLUMNS, "score_wsum", "score_secs", *METRIC_KEYS)
    for row in conn.execute(f"SELECT {', '.join(cols)} FROM minutes ORDER BY minute"):
        rec = dict(zip(cols, row, strict=True))
        minute = rec.pop("minute")
        wsum, secs = rec.pop("score_wsum"), rec.pop("score_secs")
        out: JsonObject = {"minute": minute, "minute_local": _local_iso(minute)}
        out["samples"] = rec["samples"]
        out["mean_score"] = round(wsum / secs, 2) if secs else None
        for s in STATE_COLUMNS:
            out[f"{s}_s"] = rec[s]
        mine = reasons.get(minute, {})
        out["reasons_s"] = {k: mine[k] for k in reason_keys if k in mine}
        for key in METRIC_KEYS:
            out[f"{key}_median"] = rec[key]
        yield out


def reason_keys_in(conn: sqlite3.Connection, known: Iterable[str]) -> list[str]:
    """Known reason keys first (in their order), then any others found in the file."""
    found = {r[0] for r in conn.execute("SELECT DISTINCT reason FROM minute_reasons")}
    ordered = list(known)
    return ordered + sorted(found - set(ordered))


def iter_events(conn: sqlite3.Connection) -> Iterator[JsonObject]:
    for e in events_between(conn, float("-inf"), float("inf")):
        yield {"wall": e.wall, "wall_local": _local_iso(e.wall), "kind": e.kind, "data": e.data}


def _local_iso(epoch: float) -> str:
    try:
        return datetime.fromtimestamp(epoch).isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):  # a time no calendar function can show (a corrupt row)
        return ""
