"""The tray icon: one drawing per state that differs in shape *and* colour, plus the words beside it.

Colours are from the Okabe-Ito palette (distinguishable with the common colour-vision deficiencies),
and each state also has its own outline and glyph, so nobody needs colour to read it:

    good          green circle, check mark          drifting   orange diamond, slanted line
    poor          red-orange triangle, "!"          away       grey hollow ring
    paused        blue rounded square, pause bars   uncalibrated  purple hexagon, "?"
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QCloseEvent, QColor, QFont, QIcon, QPainter, QPainterPath, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMenu, QPushButton, QVBoxLayout, QWidget

from posture.samples import REASONS
from posture.scoring import state_from_score
from ui.bridge import StatusView

ICON_STATES: tuple[str, ...] = ("good", "drifting", "poor", "away", "paused", "uncalibrated")
COLOURS: dict[str, str] = {
    "good": "#009E73",
    "drifting": "#E69F00",
    "poor": "#D55E00",
    "away": "#8C8C8C",
    "paused": "#0072B2",
    "uncalibrated": "#CC79A7",
}
SHAPES: dict[str, str] = {
    "good": "circle", "drifting": "diamond", "poor": "triangle", "away": "ring", "paused": "square",
    "uncalibrated": "hexagon",
}
TITLES: dict[str, str] = {
    "good": "Good posture",
    "drifting": "Drifting a little",
    "poor": "Posture needs attention",
    "away": "Nobody at the desk",
    "paused": "Paused",
    "uncalibrated": "Not calibrated",
}
PAUSE_WORDS: dict[str, str] = {
    "paused": "Paused: the camera is off",
    "screen_locked": "Screen locked: the camera is off",
    "camera_busy": "The camera is in use by another app or unplugged. Trying again quietly",
    "camera_lost": "The camera stopped sending pictures. Trying again quietly",
    "break": "Guided break: the camera follows the exercises, posture is not judged",
}


def icon_state(status: StatusView | None) -> str:
    """Which of `ICON_STATES` a status shows."""
    if status is None:
        return "away"
    if status.paused_reason is not None:
        return "paused"
    if not status.calibrated or not status.calibration_fits:
        return "uncalibrated"
    state = status.state
    if state in ("good", "drifting", "poor"):
        return state
    if state == "unknown" and status.sample is not None and status.sample.person:
        return "uncalibrated"
    return "away"


def pause_words(reason: str) -> str:
    if reason.startswith("app:"):
        return f"Paused while {reason[4:]} is running: the camera is off"
    return PAUSE_WORDS.get(reason, f"Paused ({reason.replace('_', ' ')})")


def reasons_words(reasons: tuple[str, ...]) -> str:
    return ", ".join(REASONS.get(r, r.replace("_", " ")) for r in reasons)


RANK = {"poor": 0, "drifting": 1, "good": 2}


def score_words(state: str, score: float) -> str:
    """The score beside the state. The state holds for a few seconds after the score crosses a band
    (so the icon doesn't flicker); say which way it is heading rather than show "Good (score 2)"."""
    now = state_from_score(score)
    if now == state or now not in RANK or state not in RANK:
        return f"score {score:.0f}"
    heading = "improving" if RANK[now] > RANK[state] else "slipping"
    return f"{heading}: score {score:.0f}"


def menu_status_text(status: StatusView | None) -> str:
    """The menu's first line: short (a long line makes the whole menu wide) and without the score, so
    it changes only when the state does."""
    if status is None:
        return "Starting…"
    if status.ended:
        return "The recording has ended"
    if status.paused_reason is not None:
        return "Paused" if status.paused_reason == "paused" else pause_words(status.paused_reason).split(":")[0]
    if not status.calibrated:
        return "Not calibrated yet"
    if not status.calibration_fits:
        return "Your setup seems to have changed"
    return TITLES[icon_state(status)]


def tooltip_text(status: StatusView | None, pause_until: str | None = None) -> str:
    """Title line, then the score and reasons (or why nothing is judged), in plain words."""
    lines = ["Posture Companion"]
    if status is None:
        return "Posture Companion\nStarting…"
    if status.ended:
        lines.append("The recording has ended")
    elif status.paused_reason is not None:
        text = pause_words(status.paused_reason)
        if status.paused_reason == "paused" and pause_until:
            text = f"Paused until {pause_until}: the camera is off"
        lines.append(text)
    elif not status.calibrated:
        lines.append("Not calibrated yet: choose “Calibrate…” to teach me your upright posture")
    elif not status.calibration_fits:
        lines.append("Your setup seems to have changed: recalibrate or choose another profile")
    else:
        key = icon_state(status)
        sample = status.sample
        title = TITLES[key]
        if key == "uncalibrated" and sample is not None and sample.reasons:
            title = "Can't judge right now"  # the picture is too dark, blurred or small: the reason follows
        if sample is not None and sample.score is not None and key in ("good", "drifting", "poor"):
            title += f" ({score_words(key, sample.score)})"
        lines.append(title)
        if sample is not None and sample.reasons:
            lines.append(reasons_words(sample.reasons).capitalize())
    if status.snoozed and status.paused_reason is None:
        lines.append("Nudges snoozed")
    if status.break_pending:
        lines.append(f"Break waiting: {status.break_pending.title}")
    return "\n".join(lines)


# --- drawing -------------------------------------------------------------------------------------

def _polygon(cx: float, cy: float, r: float, sides: int, rotation_deg: float) -> QPolygonF:
    pts = []
    for i in range(sides):
        a = math.radians(rotation_deg + 360.0 * i / sides)
        pts.append(QPointF(cx + r * math.cos(a), cy + r * math.sin(a)))
    return QPolygonF(pts)


def draw_state_pixmap(state: str, size: int = 64) -> QPixmap:
    """The tray picture for `state`, drawn at `size` pixels (vector shapes, crisp at any size)."""
    if state not in ICON_STATES:
        raise ValueError(f"unknown icon state {state!r}")
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.scale(size / 64.0, size / 64.0)  # draw in a 64-unit box
    colour = QColor(COLOURS[state])
    outline = QPen(QColor(20, 20, 20, 200), 2.5)
    white = QPen(QColor("white"), 6.5, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
    p.setPen(outline)
    p.setBrush(colour)
    shape = SHAPES[state]
    if shape == "circle":
        p.drawEllipse(QRectF(4, 4, 56, 56))
        p.setPen(white)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPolyline(QPolygonF([QPointF(18, 33), QPointF(28, 43), QPointF(46, 22)]))
    elif shape == "diamond":
        p.drawPolygon(_polygon(32, 32, 29, 4, -90))
        p.setPen(white)
        p.drawLine(QPointF(22, 40), QPointF(42, 24))
    elif shape == "triangle":
        p.drawPolygon(QPolygonF([QPointF(32, 3), QPointF(61, 58), QPointF(3, 58)]))
        p.setPen(white)
        p.drawLine(QPointF(32, 22), QPointF(32, 39))
        p.setBrush(QColor("white"))
        p.setPen(Qt.PenStyle.NoPen)
        p.drawEllipse(QPointF(32, 49), 3.8, 3.8)
    elif shape == "ring":
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(QColor(20, 20, 20, 200), 14))
        p.drawEllipse(QRectF(11, 11, 42, 42))
        p.setPen(QPen(colour, 9))
        p.drawEllipse(QRectF(11, 11, 42, 42))
    elif shape == "square":
        p.drawRoundedRect(QRectF(5, 5, 54, 54), 12, 12)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("white"))
        p.drawRoundedRect(QRectF(21, 18, 8, 28), 2, 2)
        p.drawRoundedRect(QRectF(35, 18, 8, 28), 2, 2)
    elif shape == "hexagon":
        p.drawPolygon(_polygon(32, 32, 30, 6, 0))
        path = QPainterPath()
        font = QFont("DejaVu Sans", 30, QFont.Weight.Bold)
        path.addText(0, 0, font, "?")
        box = path.boundingRect()
        path.translate(32 - box.center().x(), 32 - box.center().y())
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("white"))
        p.drawPath(path)
    p.end()
    return pm


_ICON_CACHE: dict[str, QIcon] = {}


def state_icon(state: str) -> QIcon:
    """A QIcon with hand-drawn sizes for the usual tray sizes (16, 22, 24, 32, 48, 64)."""
    icon = _ICON_CACHE.get(state)
    if icon is None:
        icon = QIcon()
        for size in (16, 22, 24, 32, 48, 64):
            icon.addPixmap(draw_state_pixmap(state, size))
        _ICON_CACHE[state] = icon
    return icon


class StatusWindow(QWidget):
    """Stand-in for the tray where a desktop has none: a small window with the icon, words and menu.

    It is the app's only handle there, so closing it quits the app (minimising keeps it running).
    """

    closed = Signal()

    def __init__(self, menu: QMenu, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Posture Companion")
        self.setObjectName("statusWindow")
        self._icon = QLabel()
        self._icon.setFixedSize(40, 40)
        self._text = QLabel("Starting…")
        self._text.setWordWrap(True)
        self._text.setMinimumWidth(260)
        button = QPushButton("Menu")
        button.setMenu(menu)
        hint = QLabel("Closing this window quits Posture Companion; minimise it to keep watching.")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #505050;")
        row = QHBoxLayout()
        row.addWidget(self._icon)
        row.addWidget(self._text, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(hint)
        layout.addWidget(button, 0, Qt.AlignmentFlag.AlignRight)
        self.show_state("away", "Posture Companion\nStarting…")

    def show_state(self, state: str, tooltip: str) -> None:
        self._icon.setPixmap(draw_state_pixmap(state, 40))
        self._text.setText(tooltip)

    @property
    def text(self) -> str:
        return self._text.text()

    def closeEvent(self, event: QCloseEvent) -> None:
        super().closeEvent(event)
        self.closed.emit()
