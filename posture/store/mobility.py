"""Range of motion per watched break: one row per break in the `mobility` table (schema 3).

What is stored is the peak of each movement in that break: turn left / right and side bend left / right
in degrees, chin-tuck depth in percent (how much smaller the face got as the head slid back), plus the
repetition counts. Never a frame, never a landmark. The coach's yardstick ("a little further") is the
median of the person's own last few breaks, read back from here.
"""

from __future__ import annotations

import json
import sqlite3
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

# Literal SQL for the migration that adds the table (schema 3), applied by posture.store.db inside its
# one migration transaction.
MOBILITY_SQL = """
CREATE TABLE mobility (
    id INTEGER PRIMARY KEY,
    wall REAL NOT NULL,              -- epoch seconds when the watched break ended
    routine TEXT NOT NULL,
    turn_left_deg REAL,              -- peak turn to the person's left; NULL when not measured
    turn_right_deg REAL,
    bend_left_deg REAL,
    bend_right_deg REAL,
    tuck_depth_pct REAL,
    reps TEXT NOT NULL DEFAULT '{}'  -- {"turn": 4, ...}: repetitions counted per movement
);
CREATE INDEX mobility_by_wall ON mobility(wall);
"""

# Measures stored per break: (column, movement, side).
MEASURES: tuple[tuple[str, str, str | None], ...] = (
    ("turn_left_deg", "turn", "left"),
    ("turn_right_deg", "turn", "right"),
    ("bend_left_deg", "side_bend", "left"),
    ("bend_right_deg", "side_bend", "right"),
    ("tuck_depth_pct", "chin_tuck", None),
)
MOVEMENTS_STORED: tuple[str, ...] = ("turn", "side_bend", "chin_tuck")
MEASURE_LABELS: dict[str, str] = {
    "turn_left_deg": "turn left",
    "turn_right_deg": "turn right",
    "bend_left_deg": "side bend left",
    "bend_right_deg": "side bend right",
    "tuck_depth_pct": "chin tuck depth",
}
# The usual range is the median of this many recent breaks: one stiff morning does not lower the bar,
# one eager afternoon does not raise it.
USUAL_OF_LAST = 5


@dataclass(frozen=True, slots=True)
class BreakMobility:
    wall: float
    routine: str
    values: dict[str, float | None]  # column -> peak, for the columns in MEASURES
    reps: dict[str, int] = field(default_factory=dict)

    def value(self, column: str) -> float | None:
        return self.values.get(column)


def insert_break(conn: sqlite3.Connection, rec: BreakMobility) -> None:
    cols = [c for c, _, _ in MEASURES]
    conn.execute(
        f"INSERT INTO mobility (wall, routine, {', '.join(cols)}, reps) VALUES (?, ?, {', '.join('?' * len(cols))}, ?)",
        (rec.wall, rec.routine, *(rec.values.get(c) for c in cols), json.dumps(rec.reps, sort_keys=True)),
    )


def record_break(db: str | Path, rec: BreakMobility) -> None:
    """Append one break's range of motion (opens, migrates if needed, commits, closes)."""
    from posture.store.db import open_db

    conn = open_db(db)
    try:
        conn.execute("BEGIN IMMEDIATE")
        insert_break(conn, rec)
        conn.commit()
    finally:
        conn.close()


def _row(r: Sequence[object]) -> BreakMobility:
    cols = [c for c, _, _ in MEASURES]
    values = {c: (None if v is None else float(v)) for c, v in zip(cols, r[2:2 + len(cols)], strict=True)}  # type: ignore[arg-type]
    try:
        reps = {str(k): int(v) for k, v in json.loads(str(r[-1])).items()}
    except (ValueError, AttributeError, TypeError):
        reps = {}
    return BreakMobility(float(r[0]), str(r[1]), values, reps)  # type: ignore[arg-type]


def breaks_between(conn: sqlite3.Connection, start: float, end: float) -> list[BreakMobility]:
    cols = ", ".join(c for c, _, _ in MEASURES)
    try:
        rows = conn.execute(
            f"SELECT wall, routine, {cols}, reps FROM mobility WHERE wall >= ? AND wall < ? ORDER BY wall",
            (start, end),
        ).fetchall()
    except sqlite3.OperationalError:
        return []  # a reader opened on a file from before schema 2 (query_only cannot migrate it)
    return [_row(r) for r in rows]


def usual_range(conn: sqlite3.Connection, movement: str, before: float | None = None) -> dict[str | None, float]:
    """The person's usual peak per side for `movement`: the median of their last `USUAL_OF_LAST` breaks
    that measured it. Empty without history."""
    out: dict[str | None, float] = {}
    for column, m, side in MEASURES:
        if m != movement:
            continue
        try:
            rows = conn.execute(
                f"SELECT {column} FROM mobility WHERE {column} IS NOT NULL AND wall < ? ORDER BY wall DESC LIMIT ?",
                (before if before is not None else float("inf"), USUAL_OF_LAST),
            ).fetchall()
        except sqlite3.OperationalError:
            return {}
        if rows:
            out[side] = float(statistics.median(float(r[0]) for r in rows))
    return out


def usual_ranges(db: str | Path, movements: Sequence[str]) -> dict[str, dict[str | None, float]]:
    """`usual_range` for several movements from a history file; empty when the file has none yet."""
    from posture.errors import StoreError
    from posture.store.db import open_db

    try:
        conn = open_db(db, for_reading=True)
    except StoreError:
        return {}
    try:
        return {m: usual_range(conn, m) for m in movements}
    finally:
        conn.close()


@dataclass(frozen=True, slots=True)
class MeasureTrend:
    column: str
    breaks: int
    median: float | None
    previous_median: float | None


@dataclass(frozen=True, slots=True)
class MobilitySummary:
    breaks: int
    measures: tuple[MeasureTrend, ...]

    def median(self, column: str) -> float | None:
        return next((m.median for m in self.measures if m.column == column), None)

    def asymmetry(self, movement: str) -> float | None:
        """Left minus right median peak for a sided movement (degrees); None unless both were measured."""
        left = self.median(f"{movement}_left_deg")
        right = self.median(f"{movement}_right_deg")
        return None if left is None or right is None else left - right


def summarize(conn: sqlite3.Connection, start: float, end: float, prev_start: float) -> MobilitySummary:
    now = breaks_between(conn, start, end)
    before = breaks_between(conn, prev_start, start)

    def med(rows: list[BreakMobility], column: str) -> float | None:
        values = [v for r in rows if (v := r.value(column)) is not None]
        return statistics.median(values) if values else None

    trends = tuple(
        MeasureTrend(c, sum(1 for r in now if r.value(c) is not None), med(now, c), med(before, c))
        for c, _, _ in MEASURES
    )
    return MobilitySummary(len(now), trends)


def report_lines(summary: MobilitySummary | None, label_width: int = 18) -> list[str]:
    """The 'Range of motion' lines of `posture report` (nothing when no break was watched)."""
    if summary is None or summary.breaks == 0:
        return []
    lines = [f"{'Range of motion':<{label_width}}{summary.breaks} watched break{'s' if summary.breaks != 1 else ''}"
             " (median peak; change vs the period before)"]
    for m in summary.measures:
        if m.median is None:
            continue
        unit = "%" if m.column.endswith("_pct") else "°"
        text = f"  {MEASURE_LABELS[m.column]:<{label_width - 2}}{m.median:5.1f}{unit}"
        if m.previous_median is not None:
            text += f"  ({m.median - m.previous_median:+.1f}{unit})"
        lines.append(text)
    for movement, name in (("turn", "turns"), ("bend", "side bends")):
        a = summary.asymmetry(movement)
        if a is not None:
            side = "left" if a > 0 else "right"
            lines.append(f"  {'asymmetry':<{label_width - 2}}{name}: {abs(a):.1f}° further to the {side}"
                         if round(abs(a), 1) > 0 else f"  {'asymmetry':<{label_width - 2}}{name}: even")
    return lines
