"""The history dashboard: today's timeline, the last 30 days, when posture slips, what drags the score,
and breaks — read from the history file while the monitor keeps writing it.

Reading is cheap by design: everything comes from per-minute aggregates (at most 1,440 rows for a day;
grouped in SQL for longer ranges), and the live poll first asks SQLite's `data_version` whether anything
was committed at all, then fetches only minutes and events newer than the ones already shown.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import (
    QDateEdit,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from posture.clock import Clock, SystemClock
from posture.report import summarize_breaks
from posture.store.queries import (
    MinuteSeries,
    daily_from_buckets,
    data_version,
    day_bounds,
    days_bounds,
    events_between,
    local_buckets,
    minute_series,
    open_reader,
    reason_seconds,
    state_totals,
    weekday_hour_from_buckets,
)
from ui.dashboard_panels import (
    MUTED,
    PAGE_BG,
    TEXT,
    BreaksPanel,
    DayData,
    HeatmapPanel,
    Panel,
    RangeData,
    ReasonsPanel,
    TimelinePanel,
    TrendPanel,
    _font,
)
from ui.mobility_panel import MobilityPanel

RANGE_DAYS = 30
HEATMAP_DAYS = 84  # twelve weeks: enough Mondays-at-3pm for a pattern to show
MARKER_KINDS = ("nudge", "break_completed", "break_skipped")
# The 30-day panels change slowly; while live they are refreshed at most this often.
RANGE_REFRESH_S = 60.0


def _hours(day_start: float, walls: list[float]) -> tuple[float, ...]:
    return tuple((w - day_start) / 3600 for w in walls)


Marks = list[tuple[float, str]]  # (wall, kind) of nudges and breaks on the timeline


def load_day(conn: sqlite3.Connection, day: date) -> tuple[DayData, MinuteSeries, Marks, int]:
    """The timeline's data, the series and markers behind it, and the newest event id included."""
    start, end = day_bounds(day)
    series = minute_series(conn, start, end)
    events = events_between(conn, start, end, MARKER_KINDS)
    marks = [(e.wall, e.kind) for e in events]
    last_event = max((e.id for e in events), default=0)
    return day_data(conn, day, series, marks), series, marks, last_event


def day_data(conn: sqlite3.Connection, day: date, series: MinuteSeries, marks: Marks) -> DayData:
    start, end = day_bounds(day)
    return DayData(
        day=day,
        minute_hours=(series.minute - start) / 3600.0,
        score=series.score,
        state=tuple(series.dominant_state()),
        totals=state_totals(conn, start, end),
        nudges=_hours(start, [w for w, k in marks if k == "nudge"]),
        breaks_taken=_hours(start, [w for w, k in marks if k == "break_completed"]),
        breaks_skipped=_hours(start, [w for w, k in marks if k == "break_skipped"]),
    )


def load_range(conn: sqlite3.Connection, last: date, days: int = RANGE_DAYS) -> RangeData:
    first = last - timedelta(days=days - 1)
    start, end = days_bounds(first, last)
    heat_first = min(first, last - timedelta(days=HEATMAP_DAYS - 1))
    # One scan of the per-minute table serves both the daily bars and the weekday x hour grid.
    buckets = local_buckets(conn, days_bounds(heat_first, last)[0], end)
    poor, assessed = weekday_hour_from_buckets(buckets)
    return RangeData(
        first=first,
        last=last,
        days=tuple(daily_from_buckets([b for b in buckets if b[0].date() >= first], first, last)),
        poor=poor,
        assessed=assessed,
        heat_first=heat_first,
        reasons=reason_seconds(conn, start, end),
        breaks=summarize_breaks(events_between(conn, start, end)),
    )


def _merge_series(old: MinuteSeries, new: MinuteSeries) -> MinuteSeries:
    """Old minutes up to the first new one, then the new ones (the newest minute is rewritten live)."""
    if len(new) == 0:
        return old
    keep = old.minute < new.minute[0]
    return MinuteSeries(
        minute=np.concatenate([old.minute[keep], new.minute]),
        score=np.concatenate([old.score[keep], new.score]),
        seconds={s: np.concatenate([old.seconds[s][keep], new.seconds[s]]) for s in old.seconds},
    )


def _qdate(d: date) -> QDate:
    return QDate(d.year, d.month, d.day)


DEFAULT_SIZE = (1400, 1040)


def fitting_size(wanted: tuple[int, int], margin: int = 48) -> tuple[int, int]:
    """`wanted`, shrunk to the screen's free area (minus room for a frame), so the title bar and close
    button are always on screen: 1400×1040 does not fit a 1366×768 laptop."""
    screen = QGuiApplication.primaryScreen()
    if screen is None:
        return wanted
    area = screen.availableGeometry()
    if area.width() <= 0 or area.height() <= 0:
        return wanted
    return min(wanted[0], area.width() - margin), min(wanted[1], area.height() - margin)


class Dashboard(QWidget):
    """The dashboard window. `poll()` is the live-update hook (a QTimer calls it every `poll_ms`)."""

    updated = Signal()

    def __init__(
        self,
        db_path: str | Path,
        *,
        day: date | None = None,
        clock: Clock | None = None,
        poll_ms: int = 5000,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.db_path = Path(db_path)
        self._clock = clock or SystemClock()
        self._conn = open_reader(self.db_path)
        self._version = -1
        self._series: MinuteSeries | None = None
        self._marks: Marks = []
        self._last_event_id = 0
        self._range_loaded_at = 0.0
        self.day = day or self._today()
        self.setWindowTitle("Posture Companion — history")
        self.setStyleSheet(f"Dashboard {{ background: {PAGE_BG}; }}")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.resize(*fitting_size(DEFAULT_SIZE))

        self.timeline = TimelinePanel()
        self.trend = TrendPanel()
        self.heatmap = HeatmapPanel()
        self.reasons = ReasonsPanel()
        self.breaks = BreaksPanel()
        self.mobility = MobilityPanel()  # range of motion from watched breaks (ui/mobility_panel.py)
        self._build_layout()
        # Start with the window focused, not the date field (whose day name would show selected).
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setFocus()
        self.refresh()

        self.timer = QTimer(self)
        self.timer.setInterval(poll_ms)
        self.timer.timeout.connect(self.poll)
        if poll_ms > 0:
            self.timer.start()

    # ------------------------------------------------------------ layout

    def _build_layout(self) -> None:
        title = QLabel("Posture history")
        title.setFont(_font(17, bold=True))
        title.setStyleSheet(f"color: {TEXT};")
        self.date_edit = QDateEdit()
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("ddd d MMM yyyy")
        self.date_edit.setFont(_font(11))
        self.date_edit.setMaximumDate(_qdate(self._today()))
        self.date_edit.setDate(_qdate(self.day))
        self.date_edit.dateChanged.connect(lambda d: self.set_day(d.toPython()))
        today = QPushButton("Today")
        today.setFont(_font(10.5))
        today.clicked.connect(lambda: self.date_edit.setDate(_qdate(self._today())))
        self.status = QLabel()
        self.status.setFont(_font(10))
        self.status.setStyleSheet(f"color: {MUTED};")
        header = QHBoxLayout()
        header.addWidget(title)
        header.addSpacing(16)
        header.addWidget(self.date_edit)
        header.addWidget(today)
        header.addStretch(1)
        header.addWidget(self.status)

        grid = QGridLayout()
        grid.setSpacing(12)
        grid.addWidget(self.timeline, 0, 0, 1, 2)
        grid.addWidget(self.trend, 1, 0)
        grid.addWidget(self.heatmap, 1, 1)
        grid.addWidget(self.reasons, 2, 0)
        grid.addWidget(self.breaks, 2, 1)
        grid.addWidget(self.mobility, 3, 0, 1, 2)
        grid.setRowStretch(3, 3)
        grid.setRowStretch(0, 4)
        grid.setRowStretch(1, 4)
        grid.setRowStretch(2, 3)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(16, 12, 16, 16)
        outer.setSpacing(10)
        outer.addLayout(header)
        outer.addLayout(grid, 1)

    @property
    def panels(self) -> tuple[Panel, ...]:
        return (self.timeline, self.trend, self.heatmap, self.reasons, self.breaks)

    # ------------------------------------------------------------ data

    def _today(self) -> date:
        return datetime.fromtimestamp(self._clock.wall()).date()

    def set_day(self, day: date) -> None:
        """Show another day (the date picker calls this); the 30-day panels end on that day too."""
        if day == self.day and self._series is not None:
            return
        self.day = day
        if self.date_edit.date().toPython() != day:
            self.date_edit.setDate(_qdate(day))  # re-enters set_day, which then returns early
        self.refresh()

    def refresh(self) -> None:
        """Reload every panel from the file."""
        self._version = data_version(self._conn)
        data, self._series, self._marks, self._last_event_id = load_day(self._conn, self.day)
        self.timeline.show_day(data)
        self._load_range()
        self._set_status()
        self.updated.emit()

    def _load_range(self) -> None:
        data = load_range(self._conn, self.day)
        for panel in (self.trend, self.heatmap, self.reasons, self.breaks):
            panel.show_range(data)
        self.mobility.load(self._conn, self.day)
        self._range_loaded_at = time.monotonic()

    def poll(self) -> bool:
        """Live update: pick up rows committed since the last look. Returns True if anything changed.

        Costs one PRAGMA when nothing was written; otherwise it queries only the newest minutes (from
        the last one shown, which the writer may have rewritten) and events after the last id.
        """
        try:
            version = data_version(self._conn)
            if version == self._version or self._series is None:
                return False
            self._version = version
            start, end = day_bounds(self.day)
            since = int(self._series.minute[-1]) if len(self._series) else start
            fresh = minute_series(self._conn, since, end)
            events = events_between(self._conn, start, end, MARKER_KINDS, after_id=self._last_event_id)
        except sqlite3.OperationalError as exc:
            # A busy or briefly unavailable file: keep what is shown and try again on the next tick.
            self.status.setText(f"could not read history just now ({exc})")
            return False
        if len(fresh) == 0 and not events:
            return False
        self._series = _merge_series(self._series, fresh)
        self._last_event_id = max([self._last_event_id, *(e.id for e in events)])
        self._marks += [(e.wall, e.kind) for e in events]
        self.timeline.show_day(day_data(self._conn, self.day, self._series, self._marks))
        if time.monotonic() - self._range_loaded_at >= RANGE_REFRESH_S:
            self._load_range()
        self._set_status()
        self.updated.emit()
        return True

    def _set_status(self) -> None:
        live = self.day == self._today()
        stamp = datetime.fromtimestamp(self._clock.wall()).strftime("%H:%M")
        self.status.setText(f"updated {stamp}" + (" · live" if live else "") + f"   ·   {self.db_path}")

    # ------------------------------------------------------------ lifetime

    def close_history(self) -> None:
        """Stop polling and release the file (closing the window does this)."""
        self.timer.stop()
        self._conn.close()

    def closeEvent(self, event: QCloseEvent) -> None:  # Qt's name for the hook
        self.close_history()
        super().closeEvent(event)

