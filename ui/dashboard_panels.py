"""The dashboard's panels: small titled cards, each drawing one kind of history with pyqtgraph.

Panels only draw what they are given (`DayData`, `RangeData`); loading lives in `ui.dashboard`. Every
panel shows a sentence instead of a blank plot when it has nothing to draw.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QStackedWidget, QVBoxLayout, QWidget

from posture.report import BreakSummary
from posture.samples import REASONS
from posture.store.queries import ASSESSED, DayTotals, StateTotals

# Calm colours that stay distinguishable for the common colour-vision deficiencies (green vs coral
# also differ in lightness).
STATE_COLORS: dict[str, str] = {
    "good": "#5aae61",
    "drifting": "#f0b43c",
    "poor": "#e46a55",
    "away": "#b8bec6",
    "unknown": "#dde1e6",
}
TEXT = "#2f3a40"
MUTED = "#6c7780"
AXIS = "#a9b1b8"
LINE = "#2f4858"
NUDGE = "#c0392b"
BREAK = "#2e86ab"
CARD_BG = "#ffffff"
PAGE_BG = "#f4f6f8"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# OrRd: white for no poor posture, deepening to brick red; cells without data stay blank.
HEAT = pg.ColorMap([0.0, 0.35, 0.7, 1.0], ["#fff7ec", "#fdbb84", "#e34a33", "#b30000"])


@dataclass(frozen=True, slots=True)
class DayData:
    """One local day for the timeline: per-minute mean score and dominant state, plus markers."""

    day: date
    minute_hours: np.ndarray  # minute starts, in hours since local midnight
    score: np.ndarray  # mean score per minute (NaN without a score)
    state: tuple[str, ...]  # dominant state per minute
    totals: StateTotals
    nudges: tuple[float, ...] = ()  # hours since midnight
    breaks_taken: tuple[float, ...] = ()
    breaks_skipped: tuple[float, ...] = ()

    @property
    def empty(self) -> bool:
        return len(self.minute_hours) == 0


@dataclass(frozen=True, slots=True)
class RangeData:
    """The days up to the selected one: daily totals, weekday x hour poor share, reasons, breaks."""

    first: date
    last: date
    days: tuple[DayTotals, ...]
    poor: np.ndarray  # 7 x 24 seconds
    assessed: np.ndarray  # 7 x 24 seconds
    heat_first: date
    reasons: dict[str, float] = field(default_factory=dict)  # seconds per reason key
    breaks: BreakSummary = field(default_factory=lambda: BreakSummary(0, 0, 0, (), (), ()))


# ---------------------------------------------------------------- shared look


def _font(points: float, bold: bool = False) -> QFont:
    font = QFont()
    font.setPointSizeF(points)
    font.setBold(bold)
    return font


def styled_plot(plot: pg.PlotItem) -> pg.PlotItem:
    """Light, quiet axes; no mouse zoom or context menu (this is a report, not an editor)."""
    plot.hideButtons()
    plot.setMenuEnabled(False)
    plot.setMouseEnabled(x=False, y=False)
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(AXIS))
        axis.setTextPen(pg.mkPen(TEXT))
        axis.setStyle(tickFont=_font(9), tickTextOffset=4)
        # pyqtgraph would otherwise rescale small values and write "(x0.001)" into the axis label.
        axis.enableAutoSIPrefix(False)
    return plot


def new_plot_widget() -> pg.PlotWidget:
    # enableMenu=False also skips building the context menus, a large share of a plot's creation time.
    widget = pg.PlotWidget(background=CARD_BG, enableMenu=False)
    styled_plot(widget.getPlotItem())
    return widget


def _muted_label(text: str = "", points: float = 10) -> QLabel:
    label = QLabel(text)
    label.setFont(_font(points))
    label.setStyleSheet(f"color: {MUTED};")
    label.setWordWrap(True)
    return label


class Panel(QFrame):
    """A card with a title, a one-line summary, and either its content or an empty-state sentence."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.setStyleSheet(
            f"QFrame#panel {{ background: {CARD_BG}; border: 1px solid #e1e5e9; border-radius: 8px; }}"
        )
        self.title = QLabel(title)
        self.title.setFont(_font(12.5, bold=True))
        self.title.setStyleSheet(f"color: {TEXT};")
        self.subtitle = _muted_label()
        self.empty_label = _muted_label(points=11)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._stack = QStackedWidget()
        self._stack.addWidget(self.empty_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        layout.addWidget(self._stack, 1)

    def set_content(self, widget: QWidget) -> None:
        self._stack.addWidget(widget)
        self._stack.setCurrentWidget(widget)

    def show_empty(self, text: str) -> None:
        self.empty_label.setText(text)
        self._stack.setCurrentWidget(self.empty_label)

    def show_content(self) -> None:
        self._stack.setCurrentIndex(1)

    @property
    def is_empty(self) -> bool:
        return self._stack.currentWidget() is self.empty_label


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f} %"


def _hm(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def state_summary(totals: StateTotals) -> str:
    if totals.monitored <= 0:
        return ""
    parts = [f"{s} {_pct(totals.share(s))}" for s in ASSESSED]
    text = " · ".join(parts) + f"   |   {_hm(totals.monitored)} monitored"
    if totals.mean_score is not None:
        text += f", average score {totals.mean_score:.0f}"
    return text


def timeline_legend_html() -> str:
    swatch = '<span style="color:{c}; font-size:13pt;">&#9632;</span>&nbsp;{t}'
    parts = [swatch.format(c=STATE_COLORS[s], t=s) for s in ("good", "drifting", "poor", "away")]
    parts.append(f'<span style="color:{LINE};">&#9472;&#9472;</span>&nbsp;score')
    parts.append(f'<span style="color:{NUDGE};">&#9660;</span>&nbsp;nudge')
    parts.append(f'<span style="color:{BREAK};">&#9733;</span>&nbsp;break taken')
    parts.append(f'<span style="color:{MUTED};">&#10005;</span>&nbsp;break skipped')
    return f'<span style="color:{TEXT};">' + "&nbsp;&nbsp;&nbsp;&nbsp;".join(parts) + "</span>"


def _runs(states: tuple[str, ...], minutes: np.ndarray) -> list[tuple[str, int, int]]:
    """(state, first index, last index) runs of one state over consecutive minutes."""
    runs: list[tuple[str, int, int]] = []
    for i, state in enumerate(states):
        if runs and runs[-1][0] == state and minutes[i] - minutes[runs[-1][2]] <= 1 / 60 + 1e-9:
            runs[-1] = (state, runs[-1][1], i)
        else:
            runs.append((state, i, i))
    return runs


# ---------------------------------------------------------------- today


class TimelinePanel(Panel):
    """The chosen day's score, minute by minute, over coloured state bands, with nudge/break markers."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Today", parent)
        self.plot_widget = new_plot_widget()
        self.plot = self.plot_widget.getPlotItem()
        self.plot.setLabel("left", "score", color=MUTED)
        self.plot.setYRange(0, 110, padding=0)
        self.plot.getAxis("left").setTicks([[(v, str(v)) for v in range(0, 101, 25)]])
        self.plot.showGrid(x=True, y=True, alpha=0.12)
        # A legend line above the plot rather than pyqtgraph's in-plot legend, which covers the data.
        self.legend = QLabel(timeline_legend_html())
        self.legend.setFont(_font(9.5))
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        content = QWidget()
        box = QVBoxLayout(content)
        box.setContentsMargins(0, 2, 0, 0)
        box.setSpacing(0)
        box.addWidget(self.legend)
        box.addWidget(self.plot_widget, 1)
        self.set_content(content)
        self.data: DayData | None = None

    def show_day(self, data: DayData) -> None:
        self.data = data
        self.title.setText(f"Today's posture — {data.day:%A %d %B %Y}" if data.day == date.today() else
                           f"Posture on {data.day:%A %d %B %Y}")
        self.plot.clear()
        if data.empty:
            self.subtitle.setText("")
            self.show_empty(
                f"No posture history for {data.day:%A %d %B}.\n"
                "The timeline fills in minute by minute while the companion runs."
            )
            return
        self.subtitle.setText(state_summary(data.totals))
        self._draw_bands(data)
        self._draw_score(data)
        self._draw_markers(data)
        first, last = float(data.minute_hours[0]), float(data.minute_hours[-1]) + 1 / 60
        if last - first < 1.0:
            # A short session (a demo, the first hour of use): zoom in with quarter-hour ticks instead of
            # squeezing a few minutes into a day-wide axis.
            lo, hi = max(0.0, math.floor(first * 4) / 4 - 0.25), min(24.0, math.ceil(last * 4) / 4 + 0.25)
            marks = [q / 4 for q in range(0, 97) if lo <= q / 4 <= hi]
            ticks = [(m, f"{int(m):02d}:{round((m % 1) * 60):02d}") for m in marks]
        else:
            lo, hi = max(0.0, math.floor(first) - 0.25), min(24.0, math.ceil(last) + 0.25)
            step = 1 if hi - lo <= 14 else 2
            ticks = [(float(h), f"{h:02d}:00") for h in range(0, 25, step) if lo <= h <= hi]
        self.plot.setXRange(lo, hi, padding=0)
        self.plot.getAxis("bottom").setTicks([ticks])
        self.show_content()

    def _draw_bands(self, data: DayData) -> None:
        runs = _runs(data.state, data.minute_hours)
        for state in ("good", "drifting", "poor", "away", "unknown"):
            mine = [(a, b) for s, a, b in runs if s == state]
            if not mine:
                continue
            x0 = np.array([data.minute_hours[a] for a, _ in mine])
            width = np.array([data.minute_hours[b] - data.minute_hours[a] + 1 / 60 for a, b in mine])
            color = QColor(STATE_COLORS[state])
            color.setAlpha(70 if state in ASSESSED else 110)
            bands = pg.BarGraphItem(x0=x0, width=width, y0=0, height=100, brush=color, pen=pg.mkPen(None))
            self.plot.addItem(bands)

    def _draw_score(self, data: DayData) -> None:
        ok = np.isfinite(data.score)
        x, y = data.minute_hours[ok] + 0.5 / 60, data.score[ok]
        if len(x) == 0:
            return
        # Connect only neighbouring minutes: a gap (away, paused, camera off) stays a gap.
        connect = np.append(np.diff(x) <= 1.5 / 60, False)
        self.plot.addItem(pg.PlotDataItem(x, y, connect=connect, pen=pg.mkPen(LINE, width=1.6)))

    def _draw_markers(self, data: DayData) -> None:
        for xs, symbol, color in (
            (data.nudges, "t", NUDGE),
            (data.breaks_taken, "star", BREAK),
            (data.breaks_skipped, "x", MUTED),
        ):
            if xs:
                self.plot.addItem(
                    pg.ScatterPlotItem(
                        x=list(xs), y=[105.0] * len(xs), symbol=symbol, size=9 if symbol != "star" else 12,
                        brush=pg.mkBrush(color), pen=pg.mkPen(color),
                    )
                )


# ---------------------------------------------------------------- last 30 days


class TrendPanel(Panel):
    """Daily % good with a least-squares trend line, above the hours monitored each day."""

    MIN_DAY_S = 10 * 60.0  # a day needs this much assessed time to count in the % good trend

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Last 30 days", parent)
        self.layout_widget = pg.GraphicsLayoutWidget()
        self.layout_widget.setBackground(CARD_BG)
        self.good_plot = styled_plot(self.layout_widget.addPlot(row=0, col=0, enableMenu=False))
        self.hours_plot = styled_plot(self.layout_widget.addPlot(row=1, col=0, enableMenu=False))
        self.layout_widget.ci.layout.setRowStretchFactor(0, 3)
        self.layout_widget.ci.layout.setRowStretchFactor(1, 2)
        self.hours_plot.setXLink(self.good_plot)
        self.good_plot.setLabel("left", "% good", color=MUTED)
        self.hours_plot.setLabel("left", "hours", color=MUTED)
        self.good_plot.hideAxis("bottom")  # the dates are on the bars below; the x axes are linked
        for plot in (self.good_plot, self.hours_plot):
            plot.showGrid(y=True, alpha=0.12)
            plot.getAxis("left").setWidth(46)
        self.set_content(self.layout_widget)
        self.trend_per_week: float | None = None

    def show_range(self, data: RangeData) -> None:
        n = len(data.days)
        self.title.setText(f"Last {n} days")
        self.good_plot.clear()
        self.hours_plot.clear()
        monitored = np.array([d.totals.assessed / 3600 for d in data.days])
        if not monitored.any():
            self.subtitle.setText("")
            self.show_empty(f"No posture history between {data.first:%d %b} and {data.last:%d %b}.")
            return
        x = np.arange(n, dtype=float)
        good = np.array([(d.totals.share("good") or 0.0) * 100 for d in data.days])
        counted = np.array([d.totals.assessed >= self.MIN_DAY_S for d in data.days])
        # A short history reads better in minutes than in fractions of an hour.
        in_minutes = monitored.max() < 1.0
        bars = monitored * 60 if in_minutes else monitored
        self.hours_plot.setLabel("left", "minutes" if in_minutes else "hours", color=MUTED)
        self.hours_plot.addItem(pg.BarGraphItem(x=x, height=bars, width=0.7, brush="#9ecae1", pen=None))
        self.good_plot.plot(x[counted], good[counted], pen=pg.mkPen(STATE_COLORS["good"], width=1.5),
                            symbol="o", symbolSize=6, symbolBrush=STATE_COLORS["good"], symbolPen=None)
        short = ~counted & (monitored > 0)
        if short.any():
            # Days with only a few minutes still show, hollow, but stay out of the trend.
            self.good_plot.plot(x[short], good[short], pen=None, symbol="o", symbolSize=6, symbolBrush=None,
                                symbolPen=pg.mkPen(STATE_COLORS["good"], width=1.2))
        self.trend_per_week = None
        if counted.sum() >= 2:
            slope, intercept = np.polyfit(x[counted], good[counted], 1)
            xs = np.array([x[counted][0], x[counted][-1]])
            self.good_plot.plot(xs, slope * xs + intercept, pen=pg.mkPen(TEXT, width=1.5, style=Qt.PenStyle.DashLine))
            self.trend_per_week = float(slope * 7)
        self.good_plot.setYRange(0, 100, padding=0.04)
        self.good_plot.getAxis("left").setTicks([[(v, str(v)) for v in range(0, 101, 25)]])
        self.good_plot.setXRange(-0.8, n + 0.2, padding=0)  # room for the last date label
        ticks = [(float(i), f"{d.day:%d %b}") for i, d in enumerate(data.days) if (n - 1 - i) % 7 == 0]
        self.hours_plot.getAxis("bottom").setTicks([ticks])
        days_seen = int((monitored > 0).sum())
        total = monitored.sum()
        at_desk = f"{total * 60:.0f} min" if total < 1 else f"{total:.0f} h"
        text = f"{days_seen} day{'s' if days_seen != 1 else ''} with history, {at_desk} at the desk"
        if self.trend_per_week is not None:
            text += f"   |   trend {self.trend_per_week:+.1f} pts of good posture per week (dashed)"
        self.subtitle.setText(text)
        self.show_content()


class ColorScale(QWidget):
    """A vertical colour bar with a few labelled values, painted directly.

    pyqtgraph's ColorBarItem is a whole PlotItem with menus; this costs a fraction of it to build.
    """

    def __init__(self, label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = label
        self.high = 100.0
        self.setFixedWidth(62)
        self._colors = [QColor(*c) for c in HEAT.getLookupTable(nPts=64, alpha=False)]

    def set_range(self, high: float) -> None:
        self.high = high
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # Qt's name for the hook
        painter = QPainter(self)
        top, bottom, bar_x, bar_w = 12, self.height() - 40, 6, 13
        span = max(1, bottom - top)
        for i, color in enumerate(reversed(self._colors)):  # high values at the top
            y0 = top + span * i // len(self._colors)
            y1 = top + span * (i + 1) // len(self._colors)
            painter.fillRect(bar_x, y0, bar_w, y1 - y0, color)
        painter.setPen(QPen(QColor(AXIS), 1))
        painter.drawRect(bar_x, top, bar_w, span)
        painter.setFont(_font(9))
        painter.setPen(QColor(TEXT))
        for k in range(4):
            value = self.high * k / 3
            y = bottom - span * k // 3
            painter.drawLine(bar_x + bar_w, y, bar_x + bar_w + 3, y)
            painter.drawText(bar_x + bar_w + 6, y - 8, 40, 16, Qt.AlignmentFlag.AlignVCenter, f"{value:.0f}")
        painter.setPen(QColor(MUTED))
        painter.drawText(0, bottom + 8, self.width(), 18, Qt.AlignmentFlag.AlignHCenter, self.label)
        painter.end()


class HeatmapPanel(Panel):
    """Share of poor posture by weekday and hour of day."""

    MIN_CELL_S = 15 * 60.0  # cells with less assessed time are left blank rather than guessed
    MIN_WORST_S = 60 * 60.0  # and the "worst" callout needs an hour of it, not one odd Sunday

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("When posture slips", parent)
        self.plot_widget = new_plot_widget()
        self.plot = self.plot_widget.getPlotItem()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.plot.invertY(True)  # Monday on top, as in a calendar
        self.plot.setLabel("bottom", "hour of day", color=MUTED)
        self.plot.getAxis("left").setTicks([[(i + 0.5, d) for i, d in enumerate(WEEKDAYS)]])
        self.plot.getAxis("bottom").setTicks([[(h + 0.5, str(h)) for h in range(24)]])
        self.plot.setXRange(0, 24, padding=0.01)
        self.plot.setYRange(0, 7, padding=0.02)
        self.image.setLookupTable(HEAT.getLookupTable(nPts=256))
        self.scale = ColorScale("% poor")
        content = QWidget()
        row = QHBoxLayout(content)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.plot_widget, 1)
        row.addWidget(self.scale)
        self.set_content(content)
        self.share: np.ndarray = np.full((7, 24), np.nan)

    def show_range(self, data: RangeData) -> None:
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(data.assessed >= self.MIN_CELL_S, data.poor / data.assessed * 100, np.nan)
        self.share = share
        weeks = round(((data.last - data.heat_first).days + 1) / 7)
        self.title.setText(f"When posture slips (last {weeks} weeks)")
        if not np.isfinite(share).any():
            self.subtitle.setText("")
            self.show_empty("Not enough history yet to show when posture tends to slip.")
            return
        top = float(np.nanmax(share))
        high = max(10.0, math.ceil(top / 10) * 10)
        self.image.setImage(share, autoLevels=False, levels=(0, high))
        self.image.setRect(0, 0, 24, 7)
        self.scale.set_range(high)
        text = "share of poor posture while at the desk; blank = too little data"
        solid = np.where(data.assessed >= self.MIN_WORST_S, share, np.nan)
        if np.isfinite(solid).any():
            row, col = np.unravel_index(np.nanargmax(solid), solid.shape)
            text += f"; worst: {WEEKDAYS[row]} {col:02d}:00 ({solid[row, col]:.0f} %)"
        self.subtitle.setText(text)
        self.show_content()


class ReasonsPanel(Panel):
    """Minutes per reason, as horizontal bars labelled in plain words."""

    TOP = 6

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("What drags the score", parent)
        self.plot_widget = new_plot_widget()
        self.plot = self.plot_widget.getPlotItem()
        self.plot.setLabel("bottom", "minutes", color=MUTED)
        left = self.plot.getAxis("left")
        left.setStyle(tickFont=_font(10))
        left.setWidth(170)  # room for "too close to the screen"; auto-width ignores custom tick text
        self.set_content(self.plot_widget)
        self.labels: list[str] = []

    def show_range(self, data: RangeData) -> None:
        self.plot.clear()
        items = [(k, s / 60) for k, s in data.reasons.items() if s >= 30][: self.TOP]
        self.labels = [REASONS.get(k, k.replace("_", " ")) for k, _ in items]
        if not items:
            self.subtitle.setText("")
            has_history = any(d.totals.monitored > 0 for d in data.days)
            self.show_empty(
                "Nothing pulled the score down in this period — well done."
                if has_history
                else "No posture history in this period yet."
            )
            return
        n = len(items)
        ys = np.arange(n)[::-1].astype(float)  # largest on top
        minutes = np.array([m for _, m in items])
        # Long periods read better in hours than in four-digit minutes.
        scale, unit = (60.0, "hours") if minutes.max() > 300 else (1.0, "minutes")
        lengths = minutes / scale
        self.plot.setLabel("bottom", unit, color=MUTED)
        self.plot.addItem(pg.BarGraphItem(x0=0, y=ys, height=0.62, width=lengths, brush="#e9967a", pen=None))
        for y, m, length in zip(ys, minutes, lengths, strict=True):
            text = pg.TextItem(_hm(m * 60), color=TEXT, anchor=(0, 0.5))
            text.setFont(_font(9))
            text.setPos(length, y)
            self.plot.addItem(text)
        self.plot.getAxis("left").setTicks([[(y, label) for y, label in zip(ys, self.labels, strict=True)]])
        self.plot.setYRange(-0.6, n - 0.4, padding=0)
        self.plot.setXRange(0, float(lengths.max()) * 1.22, padding=0)
        self.subtitle.setText(f"time each reason was present, last {len(data.days)} days")
        self.show_content()


class BeforeAfterBars(QWidget):
    """Two bars, average score before and after a break, drawn directly: a full plot is overkill."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values: tuple[float, float] | None = None
        # Low enough that the captions stay inside the card when the window is short (a laptop screen):
        # the bars shrink, the numbers and captions keep their size.
        self.setMinimumHeight(84)

    def set_values(self, before: float | None, after: float | None) -> None:
        self.values = None if before is None or after is None else (before, after)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # Qt's name for the hook
        if self.values is None:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        w, h = self.width(), self.height()
        caption_h, value_h, bar_w = 22, 22, min(140, w // 5)
        top, bottom = value_h + 4, h - caption_h - 4
        painter.setPen(QPen(QColor(AXIS), 1))
        painter.drawLine(int(w * 0.12), bottom, int(w * 0.88), bottom)
        colors = (STATE_COLORS["away"], STATE_COLORS["good"])
        for i, (value, caption) in enumerate(zip(self.values, ("10 min before", "10 min after"), strict=True)):
            cx = int(w * (0.33 if i == 0 else 0.67))
            bar_h = int((bottom - top) * max(0.0, min(value, 100.0)) / 100)
            painter.fillRect(cx - bar_w // 2, bottom - bar_h, bar_w, bar_h, QColor(colors[i]))
            painter.setPen(QColor(TEXT))
            painter.setFont(_font(10.5, bold=True))
            painter.drawText(cx - bar_w, bottom - bar_h - value_h, 2 * bar_w, value_h,
                             Qt.AlignmentFlag.AlignCenter, f"{value:.0f}")
            painter.setFont(_font(9.5))
            painter.setPen(QColor(MUTED))
            painter.drawText(cx - bar_w, bottom + 2, 2 * bar_w, caption_h, Qt.AlignmentFlag.AlignCenter, caption)
        painter.end()


class BreaksPanel(Panel):
    """Breaks taken and skipped, and the average score before and after a break."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Breaks", parent)
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 4, 0, 0)
        stats = QHBoxLayout()
        self.taken = self._stat(stats, "taken")
        self.skipped = self._stat(stats, "skipped")
        self.effect = self._stat(stats, "average effect")
        layout.addLayout(stats)
        self.bars = BeforeAfterBars()
        layout.addWidget(self.bars, 1)
        self.set_content(content)

    @staticmethod
    def _stat(row: QHBoxLayout, caption: str) -> QLabel:
        box = QVBoxLayout()
        value = QLabel("–")
        value.setFont(_font(20, bold=True))
        value.setStyleSheet(f"color: {TEXT};")
        box.addWidget(value, alignment=Qt.AlignmentFlag.AlignHCenter)
        box.addWidget(_muted_label(caption), alignment=Qt.AlignmentFlag.AlignHCenter)
        row.addLayout(box)
        return value

    def show_range(self, data: RangeData) -> None:
        b = data.breaks
        if b.suggested == 0 and b.taken == 0 and b.skipped == 0:
            self.subtitle.setText("")
            self.show_empty(f"No breaks suggested in the last {len(data.days)} days.")
            return
        self.taken.setText(str(b.taken))
        self.skipped.setText(str(b.skipped))
        delta = b.mean_delta
        self.effect.setText("–" if delta is None else f"{delta:+.1f} pts")
        self.bars.set_values(b.mean_before, b.mean_after)
        self.subtitle.setText(
            f"last {len(data.days)} days; average score in the 10 minutes before and after a break "
            f"({len(b.deltas)} measured)"
        )
        self.show_content()
