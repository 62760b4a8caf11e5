"""Synthetic but realistic posture history, written through the real `HistoryWriter`.

Used by the store tests (size per day), the dashboard tests (a 30-day fixture) and
`bench_dashboard.py` (90 days). A working day looks like a person's: start around nine, lunch away,
short trips away, a guided break roughly every 50 minutes (some skipped), posture that holds well in
the morning and sags mid-afternoon, nudges after poor posture persists, mostly followed by recovery.
Weekends have occasional short sessions. Deterministic for a given seed.

    python benchmarks/make_history.py OUT.db --days 90 [--interval 1] [--end 2026-11-23] [--mobility]

`--mobility` also stores a range-of-motion row for most completed breaks, as watched breaks would
(a neck that loosens slowly over the weeks, the right side a little stiffer), from its own random
stream so the posture rows stay the same with or without it.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from posture.clock import FakeClock  # noqa: E402
from posture.samples import PostureSample  # noqa: E402
from posture.store.writer import HistoryWriter  # noqa: E402


@dataclass(frozen=True)
class Event:
    """A history row as the writer stores it (kind + payload): the generator fakes the rows, not the engine."""

    t: float
    wall: float
    kind: str
    data: dict[str, object] = field(default_factory=dict)


Item = PostureSample | Event

# How often each reason explains drifting/poor posture (head forward dominates at a desk).
REASON_WEIGHTS: dict[str, float] = {
    "head_forward": 0.40,
    "too_close": 0.14,
    "head_dropped": 0.12,
    "leaning_left": 0.10,
    "leaning_right": 0.07,
    "shoulders_uneven": 0.08,
    "tilted_left": 0.05,
    "tilted_right": 0.04,
}
SCORE_TARGET = {"good": 86.0, "drifting": 70.0, "poor": 47.0}
NUDGE_AFTER_S = 45.0


@dataclass(frozen=True, slots=True)
class GeneratedHistory:
    path: Path
    days: int
    samples: int
    events: int
    monitored_hours: float
    seconds: float  # time the generator took

    @property
    def bytes(self) -> int:
        return self.path.stat().st_size


def _fatigue(hour: float) -> float:
    """0 in the morning, peaking mid-afternoon (15:30), easing towards evening."""
    return math.exp(-(((hour - 15.5) / 2.2) ** 2))


class _DaySim:
    def __init__(self, rng: random.Random, day: date, interval: float) -> None:
        self.rng = rng
        self.day = day
        self.interval = interval
        self.midnight = datetime(day.year, day.month, day.day).timestamp()
        self.items: list[Item] = []
        self.scores: list[tuple[float, float]] = []  # (wall, score) for break effects
        self.score = 80.0
        self.fresh_until = 0.0  # posture holds better right after a break
        self.weekday_penalty = {0: 0.15, 4: 0.2}.get(day.weekday(), 0.0)

    # --------------------------------------------------------------- emitting

    def event(self, wall: float, kind: str, **data: object) -> None:
        self.items.append(Event(t=wall - self.midnight, wall=wall, kind=kind, data=dict(data)))

    def emit(self, t: float, end: float, state: str, reasons: tuple[str, ...] = ()) -> float:
        """Samples of one state from t until end; returns where the next segment starts."""
        rng = self.rng
        alpha = 1.0 - 0.85**self.interval  # the scorer's smoothing, at this sample rate
        offset = rng.gauss(0.0, 3.0)
        while t < end:
            if state in SCORE_TARGET:
                target = SCORE_TARGET[state] + offset
                self.score += alpha * (target - self.score) + rng.gauss(0.0, 0.8)
                self.score = min(100.0, max(5.0, self.score))
                score: float | None = round(self.score, 1)
                self.scores.append((t, self.score))
            else:
                score = None
            self.items.append(
                PostureSample(
                    t=t - self.midnight,
                    wall=t,
                    person=state != "away",
                    view="front" if state != "away" else None,
                    metrics=self.metrics(state, reasons),
                    score=score,
                    raw_score=score,
                    raw_state=state,
                    state=state,
                    reasons=reasons,
                )
            )
            t += self.interval
        return t

    def metrics(self, state: str, reasons: tuple[str, ...]) -> dict[str, float | None]:
        if state in ("away", "unknown"):
            return {}
        g = self.rng.gauss
        fwd = 1.0 if "head_forward" in reasons or "too_close" in reasons else 0.0
        lean = {"leaning_left": -1.0, "leaning_right": 1.0}
        tilt = {"tilted_left": -1.0, "tilted_right": 1.0}
        return {
            "head_height": 0.42 - 0.04 * fwd - (0.05 if "head_dropped" in reasons else 0.0) + g(0, 0.01),
            "face_scale": 0.18 + 0.03 * fwd + g(0, 0.005),
            "head_roll_deg": sum(tilt.get(r, 0.0) for r in reasons) * 9.0 + g(0, 1.5),
            "shoulder_tilt_deg": (6.0 if "shoulders_uneven" in reasons else 0.0) + g(0, 1.0),
            "lateral_offset": sum(lean.get(r, 0.0) for r in reasons) * 0.08 + g(0, 0.01),
            "screen_distance": 0.62 - 0.12 * fwd + g(0, 0.02),
            "cva_deg": 52.0 - 9.0 * fwd + g(0, 1.5),
        }

    def mean_score(self, start: float, end: float) -> float | None:
        vals = [s for w, s in self.scores if start <= w < end]
        return sum(vals) / len(vals) if vals else None

    # --------------------------------------------------------------- the day

    def reasons(self, count: int) -> tuple[str, ...]:
        keys, weights = zip(*REASON_WEIGHTS.items(), strict=True)
        chosen: set[str] = set()
        while len(chosen) < count:
            chosen.add(self.rng.choices(keys, weights)[0])
        return tuple(sorted(chosen))

    def run(self, start_h: float, hours: float, lunch: bool) -> list[Item]:
        rng = self.rng
        t = self.midnight + start_h * 3600
        end = t + hours * 3600
        self.event(t, "session_start")
        if self.day.weekday() == 0:
            self.event(t + 2, "calibration", setup="desk monitor")
        lunch_at = self.midnight + rng.uniform(12.2, 13.0) * 3600 if lunch else math.inf
        next_break = t + rng.uniform(45, 55) * 60
        pending_effect: tuple[float, float] | None = None  # (break end, before score)
        state = "good"
        while t < end:
            if pending_effect and t >= pending_effect[0] + 600:
                after = self.mean_score(pending_effect[0], t)
                before = pending_effect[1]
                if after is not None:
                    self.event(t, "break_effect", before=round(before, 1), after=round(after, 1),
                               delta=round(after - before, 1))
                pending_effect = None
            hour = (t - self.midnight) / 3600
            if t >= lunch_at:
                t = self.emit(t, t + rng.uniform(30, 55) * 60, "away")
                lunch_at = math.inf
                next_break = max(next_break, t + rng.uniform(40, 55) * 60)
                continue
            if t >= next_break:
                self.event(t, "break_suggested")
                if rng.random() < 0.72:
                    before = self.mean_score(t - 600, t) or self.score
                    self.event(t + 1, "break_started", routine="neck basics")
                    t = self.emit(t + 1, t + rng.uniform(2.0, 4.0) * 60, "away")
                    self.event(t, "break_completed", routine="neck basics")
                    pending_effect = (t, before)
                    self.fresh_until = t + 20 * 60
                    # People sit up straight after a stretch: a good stretch of posture follows.
                    self.score = max(self.score, 84.0)
                    state = "good"
                    t = self.emit(t, t + rng.uniform(6, 14) * 60, "good")
                    next_break = t + rng.uniform(45, 58) * 60
                else:
                    self.event(t + 5, "break_skipped")
                    next_break = t + rng.uniform(20, 35) * 60
                continue
            roll = rng.random()
            if roll < 0.035:  # a short trip away
                t = self.emit(t, t + rng.uniform(1, 7) * 60, "away")
                continue
            if roll < 0.06:  # the camera briefly loses the person (light, occlusion)
                t = self.emit(t, t + rng.uniform(4, 25), "unknown")
                continue
            if roll < 0.065:  # a deliberate pause: no samples at all
                self.event(t, "pause")
                t += rng.uniform(5, 20) * 60
                self.event(t, "resume")
                continue
            strain = _fatigue(hour) + self.weekday_penalty - (0.4 if t < self.fresh_until else 0.0)
            state = self.next_state(state, strain)
            t = self.posture_segment(t, state, strain)
        self.event(t, "session_end")
        return self.items

    def next_state(self, state: str, strain: float) -> str:
        rng = self.rng
        p_poor = min(0.85, max(0.05, 0.25 + 0.35 * strain))
        if state == "good":
            return "poor" if rng.random() < p_poor * 0.6 else "drifting"
        if state == "drifting":
            return "poor" if rng.random() < p_poor else "good"
        return "good" if rng.random() < 0.6 else "drifting"

    def posture_segment(self, t: float, state: str, strain: float) -> float:
        rng = self.rng
        if state == "good":
            return self.emit(t, t + rng.expovariate(1 / (420 * max(0.35, 1 - 0.55 * strain))), "good")
        if state == "drifting":
            return self.emit(t, t + rng.expovariate(1 / 100), "drifting", self.reasons(1))
        reasons = self.reasons(1 if rng.random() < 0.7 else 2)
        length = 20 + rng.expovariate(1 / (70 * (1 + strain)))
        if length <= NUDGE_AFTER_S:
            return self.emit(t, t + length, "poor", reasons)
        nudge_at = t + NUDGE_AFTER_S
        t = self.emit(t, nudge_at, "poor", reasons)
        self.event(nudge_at, "nudge", reasons=list(reasons))
        if rng.random() < 0.75:  # most people straighten up within a minute or two
            t = self.emit(t, t + rng.uniform(10, 110), "poor", reasons)
            self.event(t, "recovery", after_s=round(t - nudge_at, 1))
            return self.emit(t, t + rng.expovariate(1 / 300), "good")
        return self.emit(t, nudge_at + length, "poor", reasons)


def simulate_day(rng: random.Random, day: date, interval: float) -> list[Item]:
    """One day's samples and events in wall-time order (empty for most weekend days)."""
    sim = _DaySim(rng, day, interval)
    if day.weekday() >= 5:
        if rng.random() > 0.3:
            return []
        items = sim.run(rng.uniform(10, 16), rng.uniform(0.7, 2.5), lunch=False)
    else:
        items = sim.run(rng.gauss(8.9, 0.35), min(10.0, max(5.0, rng.gauss(8.0, 0.6))), lunch=True)
    # Events are stamped a moment after the samples around them; a stable sort keeps samples in order.
    return sorted(items, key=lambda item: item.wall)


def iter_history(days: int, end: date, interval: float, seed: int) -> Iterator[Item]:
    rng = random.Random(seed)
    for offset in range(days - 1, -1, -1):
        yield from simulate_day(rng, end - timedelta(days=offset), interval)


def generate_history(
    path: str | Path, *, days: int, end: date | None = None, interval: float = 5.0, seed: int = 7
) -> GeneratedHistory:
    """Write `days` days of history ending on `end` (default today) into `path`, one sample per
    `interval` seconds."""
    return _write(Path(path), iter_history(days, end or date.today(), interval, seed), days=days, interval=interval)


def readme_month(path: str | Path) -> date:
    """The README pictures' history: 30 days up to yesterday, with watched breaks' range of motion.
    Returns the day to show (yesterday: a whole working day)."""
    shown = date.today() - timedelta(days=1)
    generate_history(path, days=30, end=shown)
    add_mobility(path)
    return shown


def generate_workday(
    path: str | Path, *, day: date, hours: float = 8.0, interval: float = 1.0, seed: int = 7
) -> GeneratedHistory:
    """Exactly one working day of `hours` from 09:00 (lunch included): the per-day size yardstick."""
    rng = random.Random(seed)
    items = sorted(_DaySim(rng, day, interval).run(9.0, hours, lunch=True), key=lambda item: item.wall)
    return _write(Path(path), items, days=1, interval=interval)


def add_mobility(path: str | Path, seed: int = 7) -> int:
    """A range-of-motion row for ~70 % of the completed breaks in `path`; returns how many were added."""
    from posture.store.db import open_db
    from posture.store.mobility import BreakMobility, insert_break

    rng = random.Random(seed + 1)
    conn = open_db(path)
    try:
        walls = [w for (w,) in conn.execute("SELECT wall FROM events WHERE kind = 'break_completed' ORDER BY wall")]
        if not walls:
            return 0
        first, span = walls[0], max(walls[-1] - walls[0], 1.0)
        added = 0
        with conn:
            for wall in walls:
                if rng.random() > 0.7:  # camera off or the person said no
                    continue
                loosen = (wall - first) / span  # 0 → 1 over the period
                turn = 58 + 8 * loosen
                bend = 31 + 5 * loosen
                values: dict[str, float | None] = {
                    "turn_left_deg": round(rng.gauss(turn, 3.0), 1),
                    "turn_right_deg": round(rng.gauss(turn - 6, 3.0), 1),
                    "bend_left_deg": round(rng.gauss(bend, 2.0), 1),
                    "bend_right_deg": round(rng.gauss(bend - 3, 2.0), 1),
                    "tuck_depth_pct": round(rng.gauss(6.0 + 1.5 * loosen, 0.8), 1),
                }
                insert_break(conn, BreakMobility(wall, "neck basics", values, {"turn": 4, "side_bend": 4, "chin_tuck": 5}))
                added += 1
        return added
    finally:
        conn.close()


def _write(path: Path, items: Iterable[Item], *, days: int, interval: float) -> GeneratedHistory:
    began = time.perf_counter()
    n_samples = n_events = 0
    # The writer's clock never advances, so it commits by batch size: fast, and the same rows.
    writer = HistoryWriter(path, FakeClock(), sample_interval=interval, batch_rows=5_000)
    try:
        for item in items:
            if isinstance(item, Event):
                writer.add_event(item)
                n_events += 1
            else:
                writer.add_sample(item)
                n_samples += 1
    finally:
        writer.close()
    hours = n_samples * interval / 3600
    return GeneratedHistory(path, days, n_samples, n_events, hours, time.perf_counter() - began)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path, help="history file to create (must not exist)")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--end", type=date.fromisoformat, default=None, help="last day (default today)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--mobility", action="store_true", help="also store range of motion for watched breaks")
    args = parser.parse_args(argv)
    if args.db.exists():
        parser.error(f"{args.db} exists; pick a new file")
    made = generate_history(args.db, days=args.days, end=args.end, interval=args.interval, seed=args.seed)
    print(
        f"{made.days} days, {made.samples} samples, {made.events} events, "
        f"{made.monitored_hours:.1f} h monitored, written in {made.seconds:.1f} s -> "
        f"{made.bytes / 1024:.0f} KiB ({made.bytes / made.monitored_hours:.0f} B/h)"
    )
    if args.mobility:
        print(f"{add_mobility(args.db, args.seed)} breaks with range of motion")
    return 0


if __name__ == "__main__":
    sys.exit(main())
