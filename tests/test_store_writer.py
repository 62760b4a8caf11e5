"""HistoryWriter: heartbeat merge, per-minute aggregates, batching by the injected clock.

The property tests compare what lands on disk with an independent recomputation from the raw samples,
using the time-accounting rule stated in posture/store/writer.py.
"""

from __future__ import annotations

import itertools
import math
import sqlite3
import statistics
import tempfile
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from posture.clock import FakeClock
from posture.samples import PostureSample
from posture.store.db import STATE_COLUMNS
from posture.store.writer import HistoryWriter, in_band

from conftest import StoredEvent as Event

PULSE = 10.0
DEFAULT_INTERVAL = 1.0
T0 = 1_795_000_000.0 + 37.25  # not on a minute boundary, so minute splits are exercised
TOL = 0.02  # rows store times rounded to the millisecond

REASON_KEYS = ("head_forward", "too_close", "leaning_left")


def sample(wall: float, state: str, score: float | None, reasons: tuple[str, ...] = (), cva: float = 50.0) -> PostureSample:
    metrics: dict[str, float | None] = {} if state == "away" else {"cva_deg": cva, "head_height": cva / 100}
    return PostureSample(
        t=wall - T0, wall=wall, person=state != "away", metrics=metrics, score=score, state=state, reasons=reasons
    )


# ------------------------------------------------------------------ reference model


def reference_durations(walls: list[float], pulse: float = PULSE, default: float = DEFAULT_INTERVAL) -> list[float]:
    """d[i] per the documented rule, computed independently of the writer."""
    out = []
    for i in range(len(walls)):
        positive_gaps = [
            walls[j + 1] - walls[j] for j in range(i) if 0 < walls[j + 1] - walls[j] <= pulse
        ]
        interval = min(positive_gaps[-1] if positive_gaps else default, pulse)
        if i + 1 < len(walls) and walls[i + 1] - walls[i] <= pulse:
            out.append(walls[i + 1] - walls[i])
        else:
            out.append(interval)
    return out


def split(start: float, length: float) -> list[tuple[int, float]]:
    pieces = []
    t, end = start, start + length
    while t < end - 1e-12:
        minute = math.floor(t / 60) * 60
        stop = min(end, minute + 60)
        pieces.append((minute, stop - t))
        t = stop
    return pieces


def reference_minutes(samples: list[PostureSample]) -> dict[int, dict[str, float]]:
    durations = reference_durations([s.wall for s in samples])
    out: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for s, d in zip(samples, durations, strict=True):
        for minute, secs in split(s.wall, d):
            row = out[minute]
            row[s.state] += secs
            for r in s.reasons:
                row["reason:" + r] += secs
            if s.score is not None:
                row["wsum"] += s.score * secs
                row["ssecs"] += secs
        out[math.floor(s.wall / 60) * 60]["samples"] += 1
    return out


def reference_medians(samples: list[PostureSample]) -> dict[int, float]:
    values: dict[int, list[float]] = defaultdict(list)
    for s in samples:
        cva = s.metrics.get("cva_deg")
        if cva is not None:
            values[math.floor(s.wall / 60) * 60].append(cva)
    return {m: statistics.median(v) for m, v in values.items()}


def read_spans(path: Path) -> list[tuple[float, float, str, int | None, str, int]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT start, duration, state, band, reasons, samples FROM spans ORDER BY start, id"
        ).fetchall()


def read_minutes(path: Path) -> dict[int, dict[str, float]]:
    out: dict[int, dict[str, float]] = {}
    with sqlite3.connect(path) as conn:
        cols = ("minute", "samples", *STATE_COLUMNS, "score_wsum", "score_secs", "cva_deg")
        for row in conn.execute(f"SELECT {', '.join(cols)} FROM minutes"):
            rec = dict(zip(cols, row, strict=True))
            out[int(rec.pop("minute"))] = rec
        for minute, reason, secs in conn.execute("SELECT minute, reason, seconds FROM minute_reasons"):
            out[minute]["reason:" + reason] = secs
    return out


# ------------------------------------------------------------------ strategies

gaps = st.one_of(
    st.sampled_from([0.0, 0.5, 1.0, 1.0, 1.0, 2.0, 5.0, 9.75, 10.0, 10.25, 30.0, 61.0, 600.0]),
    st.integers(0, 160).map(lambda q: q / 8),  # multiples of 1/8 s: exact in binary floating point
)
steps = st.tuples(
    gaps,
    st.sampled_from(STATE_COLUMNS),
    st.one_of(st.none(), st.integers(0, 100).map(float)),
    st.sets(st.sampled_from(REASON_KEYS), max_size=2).map(lambda r: tuple(sorted(r))),
    st.booleans(),  # flush here
    st.integers(20, 80).map(float),  # cva value
)


def build(steps_: list[tuple[float, str, float | None, tuple[str, ...], bool, float]]) -> list[PostureSample]:
    out, wall = [], T0
    for i, (gap, state, score, reasons, _flush, cva) in enumerate(steps_):
        if i:
            wall += gap
        scored = None if state in ("away", "unknown") else score
        out.append(sample(wall, state, scored, reasons if state in ("drifting", "poor") else (), cva))
    return out


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(steps, min_size=1, max_size=60))
def test_merge_never_loses_or_double_counts_time(steps_: list) -> None:
    samples = build(steps_)
    expected = reference_durations([s.wall for s in samples])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "h.db"
        clock = FakeClock()
        writer = HistoryWriter(path, clock, pulse=PULSE, sample_interval=DEFAULT_INTERVAL)
        for i, (s, step) in enumerate(zip(samples, steps_, strict=True)):
            writer.add_sample(s)
            clock.advance(1.0)
            if step[4]:
                writer.flush()
                # A flushed file always reads as if the stream had ended at the newest sample.
                prefix = reference_durations([x.wall for x in samples[: i + 1]])
                on_disk = sum(r[1] for r in read_spans(path))
                assert on_disk == pytest.approx(sum(prefix), abs=TOL * (1 + len(read_spans(path))))
        writer.close()
        spans = read_spans(path)

    assert sum(r[5] for r in spans) == len(samples)
    assert sum(r[1] for r in spans) == pytest.approx(sum(expected), abs=TOL * len(spans))
    # Per state too: time is neither moved between states nor duplicated.
    by_state: dict[str, float] = defaultdict(float)
    for s, d in zip(samples, expected, strict=True):
        by_state[s.state] += d
    for state in STATE_COLUMNS:
        got = sum(r[1] for r in spans if r[2] == state)
        assert got == pytest.approx(by_state[state], abs=TOL * len(spans))
    # Spans never overlap, so no wall-clock second is counted twice.
    for (a_start, a_dur, *_), (b_start, *_) in itertools.pairwise(spans):
        assert a_start + a_dur <= b_start + 0.002
    # Spans hold consecutive runs of samples, each with the span's state, reasons and band.
    holders = [r for r in spans for _ in range(r[5])]
    for s, holder in zip(samples, holders, strict=True):
        assert (holder[2], holder[4]) == (s.state, ",".join(s.reasons))
        assert in_band(holder[3], s.score)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(steps, min_size=1, max_size=60))
def test_minute_aggregates_equal_recomputation_from_raw_samples(steps_: list) -> None:
    samples = build(steps_)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "h.db"
        clock = FakeClock()
        writer = HistoryWriter(path, clock, pulse=PULSE, sample_interval=DEFAULT_INTERVAL)
        for s, step in zip(samples, steps_, strict=True):
            writer.add_sample(s)
            clock.advance(2.0)
            if step[4]:
                writer.flush()
        writer.close()
        got = read_minutes(path)

    expected = reference_minutes(samples)
    medians = reference_medians(samples)
    nonempty = {m for m, row in expected.items() if row.get("samples") or any(v > 1e-9 for v in row.values())}
    assert set(got) == nonempty
    for minute in nonempty:
        exp, row = expected[minute], got[minute]
        assert row["samples"] == exp.get("samples", 0)
        for state in STATE_COLUMNS:
            assert row[state] == pytest.approx(exp.get(state, 0.0), abs=TOL)
        assert sum(row[s] for s in STATE_COLUMNS) <= 60 + TOL
        for reason in REASON_KEYS:
            assert row.get("reason:" + reason, 0.0) == pytest.approx(exp.get("reason:" + reason, 0.0), abs=TOL)
        assert row["score_secs"] == pytest.approx(exp.get("ssecs", 0.0), abs=TOL)
        assert row["score_wsum"] == pytest.approx(exp.get("wsum", 0.0), abs=TOL * 100)
        if minute in medians:
            assert row["cva_deg"] == pytest.approx(medians[minute], abs=1e-4)
        else:
            assert row["cva_deg"] is None


def test_steady_state_is_one_growing_row(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "h.db"
    with HistoryWriter(path, clock) as writer:
        for i in range(3600):
            writer.add_sample(sample(T0 + i, "good", 85.0 + (i % 5)))  # scores wobble inside one band
            clock.advance(1.0)
    spans = read_spans(path)
    assert len(spans) == 1
    start, duration, state, band, reasons, n = spans[0]
    assert (start, duration, state, band, reasons, n) == (T0, 3600.0, "good", 80, "", 3600)


def test_new_span_on_state_band_reason_or_gap_change(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "h.db"
    walls_states = [
        (0, "good", 85.0, ()),
        (1, "good", 78.5, ()),  # just under the band edge: slack keeps the span
        (2, "good", 77.0, ()),  # band 70 -> new
        (3, "drifting", 77.0, ("too_close",)),  # state -> new
        (4, "drifting", 77.0, ("head_forward",)),  # reasons -> new
        (20, "drifting", 77.0, ("head_forward",)),  # gap 16 s > pulse -> new
    ]
    with HistoryWriter(path, clock) as writer:
        for dt, state, score, reasons in walls_states:
            writer.add_sample(sample(T0 + dt, state, score, reasons))
    spans = read_spans(path)
    assert [(r[0] - T0, r[1], r[2], r[3], r[4], r[5]) for r in spans] == [
        (0.0, 2.0, "good", 80, "", 2),
        (2.0, 1.0, "good", 70, "", 1),
        (3.0, 1.0, "drifting", 70, "too_close", 1),
        (4.0, 1.0, "drifting", 70, "head_forward", 1),  # before a long gap the sample holds one interval
        (20.0, 1.0, "drifting", 70, "head_forward", 1),
    ]


def test_commits_every_five_seconds_by_the_injected_clock(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "h.db"
    writer = HistoryWriter(path, clock)
    reader = sqlite3.connect(path)

    def visible() -> int:
        return int(reader.execute("SELECT coalesce(sum(samples), 0) FROM spans").fetchone()[0])

    for i in range(5):
        writer.add_sample(sample(T0 + i, "good", 90.0))
        if i < 4:
            clock.advance(1.0)
    assert visible() == 0  # 4 s elapsed: still batched
    clock.advance(1.0)
    writer.add_sample(sample(T0 + 5, "good", 90.0))  # the check runs on every add and fires now
    assert visible() == 6
    assert writer.stats().commits == 1
    # Events trigger the same check.
    clock.advance(5.0)
    writer.add_event(Event(t=0, wall=T0 + 6, kind="nudge", data={"reasons": ["head_forward"]}))
    assert reader.execute("SELECT kind, data FROM events").fetchall() == [("nudge", '{"reasons":["head_forward"]}')]
    writer.close()
    reader.close()


def test_a_backward_clock_jump_starts_a_new_span_and_is_logged(tmp_path: Path) -> None:
    """The system clock set back 600 s: nothing after the jump is dropped (it used to be, silently)."""
    clock = FakeClock()
    path = tmp_path / "h.db"
    with HistoryWriter(path, clock) as writer:
        for i in range(60):
            writer.add_sample(sample(T0 + 600 + i, "good", 90.0))
        for i in range(60):  # the clock now reads 600 s earlier: a minute of poor posture
            writer.add_sample(sample(T0 + i, "poor", 30.0, ("head_forward",)))
        assert writer.stats().out_of_order == 1
    spans = read_spans(path)
    assert [(round(s[0] - T0), s[2], s[5]) for s in spans] == [(0, "poor", 60), (600, "good", 60)]
    assert sum(s[1] for s in spans) == pytest.approx(120.0)
    minutes = read_minutes(path)
    assert sum(m["poor"] for m in minutes.values()) == pytest.approx(60.0)
    assert sum(m["good"] for m in minutes.values()) == pytest.approx(60.0)
    with sqlite3.connect(path) as conn:
        kinds = conn.execute("SELECT kind, data FROM events").fetchall()
    assert len(kinds) == 1 and kinds[0][0] == "clock_jump" and '"seconds":-659.0' in kinds[0][1]


def test_a_second_writer_adds_to_a_shared_minute(tmp_path: Path) -> None:
    """Restarting within a minute (or recording a clip over live history) adds, never overwrites."""
    path = tmp_path / "h.db"
    minute = math.floor(T0 / 60) * 60 + 60
    with HistoryWriter(path, FakeClock()) as first:
        for i in range(20):
            first.add_sample(sample(minute + i, "good", 90.0))
    with HistoryWriter(path, FakeClock()) as second:
        for i in range(30, 40):
            second.add_sample(sample(minute + i, "poor", 40.0, ("head_forward",)))
    row = read_minutes(path)[minute]
    assert (row["samples"], row["good"], row["poor"], row["reason:head_forward"]) == (30, 20.0, 10.0, 10.0)
    assert row["score_wsum"] / row["score_secs"] == pytest.approx((20 * 90 + 10 * 40) / 30)


def test_prune_keeps_recent_history(tmp_path: Path) -> None:
    clock = FakeClock(wall_start=T0 + 10 * 86400)
    path = tmp_path / "h.db"
    writer = HistoryWriter(path, clock)
    for day in (0, 5, 9):
        for i in range(30):
            writer.add_sample(sample(T0 + day * 86400 + i, "good", 90.0))
        writer.add_event(Event(t=0, wall=T0 + day * 86400, kind="session_start"))
    result = writer.prune(older_than_days=7)
    assert result is not None and result.spans == 1 and result.events == 1
    writer.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 2
        assert conn.execute("SELECT min(start) FROM spans").fetchone()[0] == T0 + 5 * 86400
