"""Posture reports for a day, a week or a month, built from stored history.

`build_report` gathers the numbers (also used by the dashboard); `render_report` lays them out as a
plain-text table for the terminal. Percentages of good / drifting / poor are shares of the time a
posture was assessed (at the desk and seen); away time is a share of all monitored time.
"""

from __future__ import annotations

import bisect
import sqlite3
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from posture.samples import REASONS
from posture.store.mobility import MobilitySummary
from posture.store.mobility import report_lines as mobility_report_lines
from posture.store.mobility import summarize as summarize_mobility
from posture.store.queries import (
    StateTotals,
    StoredEvent,
    days_bounds,
    events_between,
    reason_seconds,
    state_totals,
    weekday_hour_seconds,
)

PeriodKind = Literal["day", "week", "month"]
PERIOD_DAYS: dict[str, int] = {"day": 1, "week": 7, "month": 30}
# A nudge counts as followed by recovery if, within this window (and before the next nudge), the coach
# logged "recovery"/"nudge_withdrawn" or the posture state returned to good.
RECOVERY_WINDOW_S = 5 * 60.0
# An hour needs this much assessed time per day of the period before it can be called the worst one:
# a single late evening must not outrank an afternoon seen every day.
WORST_HOUR_MIN_S_PER_DAY = 10 * 60.0


@dataclass(frozen=True, slots=True)
class Period:
    kind: PeriodKind
    first: date
    last: date

    @classmethod
    def ending(cls, kind: PeriodKind, last: date) -> Period:
        return cls(kind, last - timedelta(days=PERIOD_DAYS[kind] - 1), last)

    def previous(self) -> Period:
        return Period.ending(self.kind, self.first - timedelta(days=1))

    def bounds(self) -> tuple[float, float]:
        return days_bounds(self.first, self.last)

    def label(self) -> str:
        if self.kind == "day":
            return self.last.strftime("%a %d %b %Y")
        return f"last {PERIOD_DAYS[self.kind]} days ({self.first:%d %b} - {self.last:%d %b %Y})"

    def noun(self) -> str:
        return {"day": "day", "week": "7 days", "month": "30 days"}[self.kind]


@dataclass(frozen=True, slots=True)
class NudgeSummary:
    nudges: int
    recovered: int
    recovery_seconds: tuple[float, ...]

    @property
    def median_recovery_s(self) -> float | None:
        return statistics.median(self.recovery_seconds) if self.recovery_seconds else None


@dataclass(frozen=True, slots=True)
class BreakSummary:
    suggested: int
    taken: int
    skipped: int
    before: tuple[float, ...]  # mean score before each measured break
    after: tuple[float, ...]
    deltas: tuple[float, ...]

    @property
    def mean_delta(self) -> float | None:
        return statistics.fmean(self.deltas) if self.deltas else None

    @property
    def mean_before(self) -> float | None:
        return statistics.fmean(self.before) if self.before else None

    @property
    def mean_after(self) -> float | None:
        return statistics.fmean(self.after) if self.after else None


@dataclass(frozen=True, slots=True)
class Report:
    period: Period
    totals: StateTotals
    previous: StateTotals
    nudges: NudgeSummary
    breaks: BreakSummary
    worst_hour: tuple[int, float] | None  # (local hour, poor share)
    reasons: tuple[tuple[str, float], ...]  # (reason key, seconds), largest first
    mobility: MobilitySummary | None = None  # range of motion from watched breaks (posture/store/mobility.py)

    @property
    def empty(self) -> bool:
        return self.totals.monitored <= 0 and self.nudges.nudges == 0 and self.breaks.suggested == 0


def summarize_nudges(conn: sqlite3.Connection, start: float, end: float) -> NudgeSummary:
    events = events_between(conn, start, end + RECOVERY_WINDOW_S, ("nudge", "recovery", "nudge_withdrawn"))
    nudges = [e.wall for e in events if e.kind == "nudge" and e.wall < end]
    # Good spans starting after a nudge are what "the state returned to good" looks like on disk.
    good_starts = [
        r[0]
        for r in conn.execute(
            "SELECT start FROM spans WHERE state = 'good' AND duration > 0 AND start > ? AND start <= ?",
            (start, end + RECOVERY_WINDOW_S),
        )
    ]
    signs = sorted([e.wall for e in events if e.kind != "nudge"] + good_starts)
    times: list[float] = []
    for i, at in enumerate(nudges):
        until = min(at + RECOVERY_WINDOW_S, nudges[i + 1] if i + 1 < len(nudges) else float("inf"))
        j = bisect.bisect_right(signs, at)
        if j < len(signs) and signs[j] <= until:
            times.append(signs[j] - at)
    return NudgeSummary(len(nudges), len(times), tuple(times))


def summarize_breaks(events: Sequence[StoredEvent]) -> BreakSummary:
    """Counts and before/after effects. `break_effect` events are the measurement; a period without
    any falls back to before/after values carried on `break_completed` events."""
    kinds = [e.kind for e in events]
    measured = [e for e in events if e.kind == "break_effect"] or [
        e for e in events if e.kind == "break_completed"
    ]
    before: list[float] = []
    after: list[float] = []
    deltas: list[float] = []
    for e in measured:
        b, a, d = (_number(e.data.get(k)) for k in ("before", "after", "delta"))
        if d is None and a is not None and b is not None:
            d = a - b
        if d is None:
            continue
        deltas.append(d)
        if a is not None and b is not None:
            before.append(b)
            after.append(a)
    return BreakSummary(
        suggested=kinds.count("break_suggested"),
        taken=kinds.count("break_completed"),
        skipped=kinds.count("break_skipped"),
        before=tuple(before),
        after=tuple(after),
        deltas=tuple(deltas),
    )


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def worst_hour(conn: sqlite3.Connection, start: float, end: float, days: int) -> tuple[int, float] | None:
    poor, assessed = weekday_hour_seconds(conn, start, end)
    poor_h, assessed_h = poor.sum(axis=0), assessed.sum(axis=0)
    best: tuple[int, float] | None = None
    for hour in range(24):
        if assessed_h[hour] >= WORST_HOUR_MIN_S_PER_DAY * days:
            share = float(poor_h[hour] / assessed_h[hour])
            if best is None or share > best[1]:
                best = (hour, share)
    return best


def build_report(conn: sqlite3.Connection, period: Period) -> Report:
    start, end = period.bounds()
    prev_start, prev_end = period.previous().bounds()
    return Report(
        period=period,
        totals=state_totals(conn, start, end),
        previous=state_totals(conn, prev_start, prev_end),
        nudges=summarize_nudges(conn, start, end),
        breaks=summarize_breaks(events_between(conn, start, end)),
        worst_hour=worst_hour(conn, start, end, PERIOD_DAYS[period.kind]),
        reasons=tuple(reason_seconds(conn, start, end).items()),
        mobility=summarize_mobility(conn, start, end, prev_start),
    )


# ---------------------------------------------------------------- text layout

LABEL_WIDTH = 18
BAR_WIDTH = 30


def format_duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def _short_duration(seconds: float) -> str:
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    m, s = divmod(whole, 60)
    return f"{m} min {s} s" if s else f"{m} min"


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{share * 100:.1f} %"


def _signed(value: float, unit: str) -> str:
    if round(value, 1) == 0:
        return f"0.0 {unit}"  # never "+0.0" or "-0.0"
    return f"{value:+.1f} {unit}"


def _line(label: str, text: str) -> str:
    return f"{label:<{LABEL_WIDTH}}{text}".rstrip()


def render_report(report: Report) -> str:
    title = f"Posture report: {report.period.label()}"
    lines = [title, "=" * len(title)]
    t = report.totals
    if report.empty:
        where = "for this day" if report.period.kind == "day" else f"in these {report.period.noun()}"
        lines.append(f"No posture history {where}.")
        lines += mobility_report_lines(report.mobility, LABEL_WIDTH)
        return "\n".join(lines) + "\n"
    lines.append(
        _line(
            "Time monitored",
            f"{format_duration(t.monitored)} (at the desk {format_duration(t.assessed)}, "
            f"away {format_duration(t.seconds['away'])})",
        )
    )
    for state in ("good", "drifting", "poor"):
        share = t.share(state)
        bar = "#" * round((share or 0.0) * BAR_WIDTH)
        lines.append(_line(state.capitalize(), f"{_pct(share):<9}{bar}"))
    if t.mean_score is not None:
        lines.append(_line("Average score", f"{t.mean_score:.0f}"))
    lines.append(_line("Nudges", _nudge_text(report.nudges)))
    lines.append(_line("Breaks", _break_text(report.breaks)))
    if report.worst_hour is not None:
        hour, share = report.worst_hour
        lines.append(_line("Worst hour", f"{hour:02d}:00-{(hour + 1) % 24:02d}:00 ({_pct(share)} poor)"))
    if report.reasons:
        for i, (key, seconds) in enumerate(report.reasons[:5]):
            label = "Main reasons" if i == 0 else ""
            words = REASONS.get(key, key.replace("_", " "))
            lines.append(_line(label, f"{words:<26}{format_duration(seconds)}"))
    else:
        lines.append(_line("Main reasons", "none recorded"))
    lines.append(_line("Trend", _trend_text(report)))
    lines += mobility_report_lines(report.mobility, LABEL_WIDTH)
    return "\n".join(lines) + "\n"


def _nudge_text(n: NudgeSummary) -> str:
    if n.nudges == 0:
        return "none"
    text = f"{n.nudges}, followed by recovery {n.recovered} time{'s' * (n.recovered != 1)} ({n.recovered / n.nudges * 100:.0f} %)"
    if n.median_recovery_s is not None:
        text += f", typically after {_short_duration(n.median_recovery_s)}"
    return text


def _break_text(b: BreakSummary) -> str:
    if b.suggested == 0 and b.taken == 0 and b.skipped == 0:
        return "none"
    text = f"{b.taken} taken, {b.skipped} skipped"
    if b.mean_delta is not None:
        effect = _signed(b.mean_delta, "points")
        text += f"; score after a break {effect} on average ({len(b.deltas)} measured)"
    return text


def _trend_text(report: Report) -> str:
    now, before = report.totals, report.previous
    if before.assessed <= 0:
        return f"no history for the previous {report.period.noun()}"
    parts = []
    for state in ("good", "poor"):
        a, b = now.share(state), before.share(state)
        if a is not None and b is not None:
            parts.append(f"{state} {_signed((a - b) * 100, 'pts')}")
    diff = now.monitored - before.monitored
    sign = "+" if diff >= 0 else "-"
    parts.append(f"monitored {sign}{format_duration(abs(diff))}")
    return ", ".join(parts) + f" vs the previous {report.period.noun()}"
