"""Pure accounting: posture samples become merged spans and per-minute aggregates, in memory.

Nothing here touches a file; `posture.store.writer` saves what these accumulators hold. Time rule
(every table and test relies on it): samples arrive in wall-time order; sample i at wall w[i] covers
the interval [w[i], w[i] + d[i]) where

* d[i] = w[i+1] - w[i]            when the next sample follows within the pulse window P, else
* d[i] = min(interval, P)         (the stream stopped or paused: the sample holds for one interval),

and `interval` is the latest gap in (0, P] seen so far (the initial `sample_interval` before any).
These intervals never overlap, so summing d[i] neither loses nor double-counts time. A span is a run
of consecutive samples with the same state and reasons, scores in the span's 10-point band (with
BAND_SLACK points of slack), each within P of the previous one; its duration is the sum of its
samples' d[i]. Minutes split each [w[i], w[i] + d[i]) at minute boundaries for state and reason
seconds and the time-weighted mean score; metric medians are over the samples whose wall time falls
in the minute.

The newest sample's d is not known until the next sample arrives, so the sink saves it with its
tentative value (min(interval, P)) and later saves correct it in place, ActivityWatch-style.

A sample whose wall time goes backwards (the system clock was set back) is not dropped: the previous
sample is settled as if the stream had stopped, a new span starts at the new time, and the jump is
reported to the caller so it can be logged as an event.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from posture.samples import PostureSample
from posture.store.db import METRIC_KEYS, STATE_COLUMNS

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


def state_of(sample: PostureSample) -> str:
    return sample.state if sample.state in STATE_COLUMNS else "unknown"


def score_of(sample: PostureSample) -> float | None:
    return sample.score if sample.score is not None and not math.isnan(sample.score) else None


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
class SpanAcc:
    start: float
    state: str
    band: int | None
    reasons: str
    score_sum: float = 0.0
    score_n: int = 0
    samples: int = 0
    settled: float = 0.0  # sum of d[i] of samples whose duration is final
    tail: float = 0.0  # tentative d of the newest sample while it is still open
    rowid: int | None = None  # set by the sink once the span has a row
    dirty: bool = True

    @property
    def duration(self) -> float:
        return self.settled + self.tail


@dataclass(slots=True)
class MinuteRow:
    """One minute's totals, as stored (or as one writer's share of what is stored)."""

    samples: int
    seconds: dict[str, float]
    reasons: dict[str, float]
    score_wsum: float
    score_secs: float
    medians: dict[str, float]

    def is_empty(self) -> bool:
        return self.samples == 0 and not any(self.seconds.values())


@dataclass(slots=True)
class MinuteAcc:
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
    # What this writer added to the minute before the clock went back and it was reopened.
    carried: MinuteRow | None = None
    # The sink's: the row other writers left before we first touched this minute.
    base: MinuteRow | None = None
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

    def reopen(self) -> None:
        """The clock went back into this minute: keep what it holds aside and count afresh."""
        self.carried = merge_rows(self.carried, self.fresh_row())
        self.samples = 0
        self.seconds = dict.fromkeys(STATE_COLUMNS, 0.0)
        self.reasons = {}
        self.score_wsum = self.score_secs = 0.0
        self.values = {}
        self.medians = None
        self.closed = False
        self.dirty = True

    def current_medians(self) -> dict[str, float]:
        if self.medians is not None:
            return self.medians
        return {k: float(statistics.median(v)) for k, v in self.values.items() if v}

    def fresh_row(self) -> MinuteRow:
        return MinuteRow(self.samples, dict(self.seconds), dict(self.reasons), self.score_wsum, self.score_secs,
                         self.current_medians())


def merge_rows(base: MinuteRow | None, own: MinuteRow) -> MinuteRow:
    """Two shares of one minute added together (medians: a sample-weighted mean, close enough)."""
    if base is None or base.is_empty():
        return own
    if own.is_empty():
        return base
    reasons = dict(base.reasons)
    for reason, seconds in own.reasons.items():
        reasons[reason] = reasons.get(reason, 0.0) + seconds
    medians: dict[str, float] = {}
    total = max(base.samples + own.samples, 1)
    for key in set(base.medians) | set(own.medians):
        if key in base.medians and key in own.medians:
            medians[key] = (base.medians[key] * base.samples + own.medians[key] * own.samples) / total
        else:
            medians[key] = base.medians.get(key, own.medians.get(key, 0.0))
    return MinuteRow(
        samples=base.samples + own.samples,
        seconds={s: base.seconds.get(s, 0.0) + own.seconds.get(s, 0.0) for s in STATE_COLUMNS},
        reasons=reasons,
        score_wsum=base.score_wsum + own.score_wsum,
        score_secs=base.score_secs + own.score_secs,
        medians=medians,
    )


def subtract_rows(total: MinuteRow, part: MinuteRow) -> MinuteRow:
    """`total` without `part` (an earlier copy of a recording being replaced). Medians stay as they
    were while samples remain: a median cannot be un-mixed, and the remaining samples dominate it."""
    samples = max(total.samples - part.samples, 0)
    seconds = {s: max(total.seconds.get(s, 0.0) - part.seconds.get(s, 0.0), 0.0) for s in STATE_COLUMNS}
    reasons = {r: total.reasons.get(r, 0.0) - part.reasons.get(r, 0.0) for r in total.reasons}
    return MinuteRow(
        samples=samples,
        seconds={s: (0.0 if v < 1e-6 else v) for s, v in seconds.items()},
        reasons={r: v for r, v in reasons.items() if v > 1e-6},
        score_wsum=max(total.score_wsum - part.score_wsum, 0.0),
        score_secs=max(total.score_secs - part.score_secs, 0.0),
        medians=total.medians if samples else {},
    )


@dataclass(frozen=True, slots=True)
class ClockJump:
    """A sample came earlier than the previous one: the wall clock was set back by `seconds`."""

    wall: float
    previous_wall: float

    @property
    def seconds(self) -> float:
        return self.previous_wall - self.wall


class HistoryAccumulator:
    """Spans and minutes for a stream of samples; the sink asks what changed and marks it saved."""

    def __init__(self, *, pulse: float = 10.0, sample_interval: float = 1.0, max_pending_rows: int = 20_000) -> None:
        if pulse <= 0 or sample_interval <= 0:
            raise ValueError("pulse and sample_interval must be positive")
        self.pulse = pulse
        self.interval = min(sample_interval, pulse)
        self.max_pending = max_pending_rows
        self.last: PostureSample | None = None  # the newest sample; its duration is still open
        self.span: SpanAcc | None = None  # the span the next sample may extend
        self.spans: list[SpanAcc] = []  # finished spans not yet saved (oldest first)
        self.minutes: dict[int, MinuteAcc] = {}
        self._open_minutes: set[int] = set()  # minutes that may still receive time (one or two)
        self.samples = 0
        self.dropped = 0
        self.clock_jumps = 0

    # ------------------------------------------------------------------ adding

    def add(self, sample: PostureSample) -> ClockJump | None:
        """Account for one sample; returns the jump when its wall time went backwards."""
        last = self.last
        continuous = False
        jump = None
        if last is not None:
            gap = sample.wall - last.wall
            if gap < 0:
                # Settle the previous sample as if the stream had stopped there, then start over at
                # the new time: every minute in memory may now receive time again.
                jump = ClockJump(sample.wall, last.wall)
                self.clock_jumps += 1
                self._settle(last, self.interval)
                self._close_minutes_before(math.inf)
            else:
                continuous = gap <= self.pulse
                self._settle(last, gap if continuous else self.interval)
                if 0 < gap <= self.pulse:
                    self.interval = gap
                self._close_minutes_before(sample.wall)
        self.samples += 1
        state = state_of(sample)
        score = score_of(sample)
        reasons = reasons_key(sample.reasons)
        span = self.span
        if span is None or not continuous or (span.state, span.reasons) != (state, reasons) or not in_band(
            span.band, score
        ):
            self._finish_span()
            span = self.span = SpanAcc(round(sample.wall, 3), state, score_band(score), reasons)
        span.samples += 1
        if score is not None:
            span.score_sum += score
            span.score_n += 1
        span.tail = self.interval
        span.dirty = True

        acc = self.minute(minute_of(sample.wall))
        acc.samples += 1
        for metric, value in sample.metrics.items():
            if value is not None and metric in _METRICS and not math.isnan(value):
                acc.values.setdefault(metric, []).append(float(value))
        self.last = sample
        return jump

    def finish(self) -> None:
        """The stream ended: the newest sample holds for one interval; every minute closes."""
        if self.last is not None:
            self._settle(self.last, self.interval)
            self.last = None
        self._finish_span()
        for acc in self.minutes.values():
            if not acc.closed:
                acc.close()
        self._open_minutes.clear()

    def _settle(self, sample: PostureSample, duration: float) -> None:
        """Fix the newest sample's duration: its span and minutes get their final seconds."""
        if self.span is not None:
            self.span.settled += duration
            self.span.tail = 0.0
            self.span.dirty = True
        state = state_of(sample)
        score = score_of(sample)
        reasons = tuple(sorted(set(sample.reasons)))
        for minute, seconds in split_by_minute(sample.wall, duration):
            self.minute(minute).add_time(state, reasons, score, seconds)

    def _close_minutes_before(self, wall: float) -> None:
        # Everything before the minute holding `wall` has had all its time attributed.
        frontier = minute_of(wall) if math.isfinite(wall) else math.inf
        for minute in [m for m in self._open_minutes if m < frontier]:
            self._open_minutes.discard(minute)
            acc = self.minutes.get(minute)
            if acc is not None:
                acc.close()

    def _finish_span(self) -> None:
        if self.span is not None:
            self.spans.append(self.span)
            self.span = None
            self.bound(self.spans)

    def minute(self, minute: int) -> MinuteAcc:
        acc = self.minutes.get(minute)
        if acc is None:
            acc = self.minutes[minute] = MinuteAcc(minute)
            self._open_minutes.add(minute)
            self._bound_minutes()
        elif acc.closed and minute not in self._open_minutes:
            acc.reopen()  # only after a backward clock jump
            self._open_minutes.add(minute)
        return acc

    # ------------------------------------------------------------------ what the sink saves

    def overlay(self) -> dict[int, float]:
        """Tentative seconds the newest sample adds to each minute if it ended now."""
        if self.last is None:
            return {}
        return dict(split_by_minute(self.last.wall, self.interval))

    def dirty_spans(self) -> list[SpanAcc]:
        spans = [s for s in self.spans if s.dirty]
        if self.span is not None and self.span.dirty:
            spans.append(self.span)
        return spans

    def own_row(self, acc: MinuteAcc, tentative: float | None) -> MinuteRow:
        """What this stream adds to the minute, the newest sample's tentative seconds included."""
        row = acc.fresh_row()
        last = self.last
        if tentative and last is not None:
            row.seconds[state_of(last)] += tentative
            for reason in set(last.reasons):
                row.reasons[reason] = row.reasons.get(reason, 0.0) + tentative
            score = score_of(last)
            if score is not None:
                row.score_wsum += score * tentative
                row.score_secs += tentative
        return merge_rows(acc.carried, row) if acc.carried is not None else row

    def saved(self, spans: list[SpanAcc], minutes: list[MinuteAcc], overlay: Iterable[int]) -> None:
        """The sink committed these: forget finished spans and closed minutes nobody will touch again."""
        for span in spans:
            span.dirty = False
        self.spans.clear()
        for acc in minutes:
            acc.dirty = False
        keep = set(overlay)
        for minute in [m for m, acc in self.minutes.items() if acc.closed and m not in keep]:
            del self.minutes[minute]

    def forget_file(self) -> None:
        """The file was replaced: everything still in memory must be written afresh to the new one."""
        for span in [*self.spans, *([self.span] if self.span is not None else [])]:
            span.rowid = None
            span.dirty = True
        for acc in self.minutes.values():
            acc.base = None
            acc.base_loaded = False
            acc.dirty = True

    # ------------------------------------------------------------------ memory bound

    def pending_rows(self) -> int:
        # Minutes in memory are all unsaved or about to be (saved closed ones are evicted): cheap to count.
        open_span = 1 if self.span is not None and self.span.dirty else 0
        return len(self.spans) + open_span + len(self.minutes)

    def bound(self, queue: list[SpanAcc]) -> None:
        excess = len(queue) - self.max_pending
        if excess > 0:
            del queue[:excess]
            self.dropped += excess

    def _bound_minutes(self) -> None:
        excess = len(self.minutes) - self.max_pending
        if excess <= 0:
            return
        for minute in sorted(m for m, acc in self.minutes.items() if acc.closed)[:excess]:
            del self.minutes[minute]
            self.dropped += 1
