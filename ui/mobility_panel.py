"""Dashboard card: range of motion over time, from the watched breaks.

Two small plots share the date axis: neck turns and side bends (degrees, left and right as separate
lines, so an asymmetry shows as two lines apart) and chin-tuck depth (percent). The subtitle says how
far each movement went recently against the weeks before, and which side moves more. Nothing here is
a target: it is the person's own range, shown back to them.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from posture.store.mobility import BreakMobility, breaks_between
from posture.store.queries import days_bounds
from ui.dashboard_panels import CARD_BG, MUTED, Panel, styled_plot

MOBILITY_DAYS = 90
# Okabe-Ito blue and vermillion: left vs right stays distinguishable for colour-blind readers, and the
# two sides also differ in line style.
SERIES: tuple[tuple[str, str, str, Qt.PenStyle], ...] = (
    ("turn_left_deg", "turn L", "#0072B2", Qt.PenStyle.SolidLine),
    ("turn_right_deg", "turn R", "#D55E00", Qt.PenStyle.SolidLine),
    ("bend_left_deg", "bend L", "#0072B2", Qt.PenStyle.DashLine),
    ("bend_right_deg", "bend R", "#D55E00", Qt.PenStyle.DashLine),
)
TUCK = ("tuck_depth_pct", "chin tuck", "#009E73")


def _asymmetry_text(rows: list[BreakMobility], left: str, right: str, name: str) -> str | None:
    recent = rows[-5:]
    lv = [v for r in recent if (v := r.value(left)) is not None]
    rv = [v for r in recent if (v := r.value(right)) is not None]
    if not lv or not rv:
        return None
    diff = float(np.median(lv) - np.median(rv))
    if abs(diff) < 3.0:  # within what the camera can tell apart
        return f"{name}: even"
    return f"{name}: {abs(diff):.0f}° more to the {'left' if diff > 0 else 'right'}"


class MobilityPanel(Panel):
    """Each day's peaks (the median of its watched breaks) over the last `MOBILITY_DAYS` days;
    `load(conn, last_day)` refreshes it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Range of motion", parent)
        self.layout_widget = pg.GraphicsLayoutWidget()
        self.layout_widget.setBackground(CARD_BG)
        # The legend sits in its own row above the plots: inside the plot it covered the turn lines,
        # which run along the top of the degrees axis.
        self.legend = pg.LegendItem(labelTextSize="8pt", colCount=4)
        self.layout_widget.addItem(self.legend, row=0, col=0)
        self.deg_plot = styled_plot(self.layout_widget.addPlot(row=1, col=0, enableMenu=False))
        self.tuck_plot = styled_plot(self.layout_widget.addPlot(row=1, col=1, enableMenu=False))
        self.layout_widget.ci.layout.setColumnStretchFactor(0, 3)
        self.layout_widget.ci.layout.setColumnStretchFactor(1, 2)
        self.deg_plot.setLabel("left", "degrees", color=MUTED)
        self.tuck_plot.setLabel("left", "chin tuck %", color=MUTED)
        for plot in (self.deg_plot, self.tuck_plot):
            plot.showGrid(y=True, alpha=0.12)
            plot.getAxis("left").setWidth(46)
        self.set_content(self.layout_widget)
        self.rows: list[BreakMobility] = []

    def load(self, conn: sqlite3.Connection, last: date) -> None:
        start, end = days_bounds(last - timedelta(days=MOBILITY_DAYS - 1), last)
        self.show_rows(breaks_between(conn, start, end), last)

    def show_rows(self, rows: list[BreakMobility], last: date) -> None:
        self.rows = rows
        self.deg_plot.clear()
        self.tuck_plot.clear()
        self.legend.clear()
        if not rows:
            self.subtitle.setText("")
            self.show_empty("No watched breaks yet. Start a break with the camera on to see how freely your "
                            "neck turns and bends over the weeks.")
            return
        first = last - timedelta(days=MOBILITY_DAYS - 1)
        x, per_day = daily_medians(rows, first)
        for column, label, colour, style in SERIES:
            y = per_day[column]
            if np.isfinite(y).any():
                ok = np.isfinite(y)
                line = self.deg_plot.plot(x[ok], y[ok], pen=pg.mkPen(colour, width=1.6, style=style),
                                          symbol="o", symbolSize=5, symbolBrush=colour, symbolPen=None)
                self.legend.addItem(line, label)
        column, label, colour = TUCK
        y = per_day[column]
        ok = np.isfinite(y)
        if ok.any():
            self.tuck_plot.plot(x[ok], y[ok], pen=pg.mkPen(colour, width=1.6), symbol="o", symbolSize=5,
                                symbolBrush=colour, symbolPen=None)
        span = max(1.0, float(x.max() - x.min()))
        lo = max(0.0, float(x.min()) - 0.08 * span - 0.5)
        hi = float(x.max()) + 0.08 * span + 0.5
        for plot in (self.deg_plot, self.tuck_plot):
            plot.setXRange(lo, hi, padding=0)
            step = max(1, round((hi - lo) / 5))
            plot.getAxis("bottom").setTicks(
                [[(float(d), f"{first + timedelta(days=d):%d %b}") for d in range(int(lo), int(hi) + 1, step)]])
        self.deg_plot.setYRange(0, max(45.0, float(np.nanmax([r.value(c) or 0.0 for r in rows
                                                               for c, *_ in SERIES])) + 5), padding=0.02)
        parts = [f"{len(rows)} watched break{'s' if len(rows) != 1 else ''} in {MOBILITY_DAYS} days"]
        for left, right, name in (("turn_left_deg", "turn_right_deg", "turns"),
                                  ("bend_left_deg", "bend_right_deg", "side bends")):
            text = _asymmetry_text(rows, left, right, name)
            if text:
                parts.append(text)
        self.subtitle.setText("   |   ".join(parts) + "   (your own peaks; no target)")
        self.show_content()


def daily_medians(rows: list[BreakMobility], first: date) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One point a day (days since `first`) per measure: the median of that day's watched breaks (NaN
    where none measured it). With two or three watched breaks a day, per-break points zig-zag with the
    time of day and hide the trend over weeks, which is what the card is for."""
    days = sorted({datetime.fromtimestamp(r.wall).date() for r in rows})
    x = np.array([(d - first).days for d in days], dtype=float)
    out: dict[str, np.ndarray] = {}
    for column in [c for c, *_ in SERIES] + [TUCK[0]]:
        values: dict[date, list[float]] = {}
        for r in rows:
            v = r.value(column)
            if v is not None:
                values.setdefault(datetime.fromtimestamp(r.wall).date(), []).append(v)
        out[column] = np.array([float(np.median(values[d])) if d in values else np.nan for d in days], dtype=float)
    return x, out


def demo_rows(last: date, breaks: int = 24, seed: int = 3) -> list[BreakMobility]:
    """A plausible six weeks of watched breaks (for the README picture and tests): turns that free up
    slowly, the right side a little stiffer, and the odd stiff morning."""
    rng = np.random.default_rng(seed)
    rows = []
    start = datetime.combine(last - timedelta(days=42), datetime.min.time()).timestamp()
    for i in range(breaks):
        wall = start + (i * 42 / breaks) * 86400 + float(rng.uniform(9, 17)) * 3600
        ease = i / breaks
        stiff = 0.85 if rng.random() < 0.12 else 1.0
        values: dict[str, float | None] = {
            "turn_left_deg": round(stiff * (52 + 8 * ease + float(rng.normal(0, 2))), 1),
            "turn_right_deg": round(stiff * (43 + 9 * ease + float(rng.normal(0, 2))), 1),
            "bend_left_deg": round(stiff * (24 + 3 * ease + float(rng.normal(0, 1.5))), 1) if i % 2 else None,
            "bend_right_deg": round(stiff * (22 + 4 * ease + float(rng.normal(0, 1.5))), 1) if i % 2 else None,
            "tuck_depth_pct": round(5.5 + 1.5 * ease + float(rng.normal(0, 0.5)), 1) if i % 3 == 0 else None,
        }
        rows.append(BreakMobility(wall, "neck-turns", values, {"turn": 4}))
    return rows
