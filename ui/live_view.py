""""Why am I flagged?": the camera picture with the skeleton, the baseline, and each metric's deviation.

Frames reach this window only while it is open (the app registers the monitor's frame listener when it
opens and removes it when it closes); nothing is saved. The deviations are the ones `judge` computed
for the sample, in units of that metric's "poor" threshold, so the bars read the same for every metric.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QCloseEvent, QColor, QFont, QImage, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from posture.analyzer import Analysis
from posture.baseline import Baseline
from posture.landmarks import SKELETON_EDGES, P, Pose
from posture.scoring import DEAD_ZONE, RULE_BY_METRIC
from ui.tray_icon import COLOURS, TITLES, reasons_words

METRIC_WORDS: dict[str, str] = {
    "head_height": "Head height above shoulders",
    "face_scale": "Head size (leaning in)",
    "head_roll_deg": "Head tilt",
    "shoulder_tilt_deg": "Shoulder tilt",
    "lateral_offset": "Head off-centre",
    "screen_distance": "Distance from screen",
    "cva_deg": "Neck angle (side view)",
}
KEY_POINTS = (P.NOSE, P.LEFT_EYE, P.RIGHT_EYE, P.LEFT_EAR, P.RIGHT_EAR, P.LEFT_SHOULDER, P.RIGHT_SHOULDER)


def frame_to_qimage(image_bgr: np.ndarray) -> QImage:
    """A deep copy, so the frame array can be dropped (or reused by the source) right away."""
    if image_bgr.ndim == 2:
        h, w = image_bgr.shape
        return QImage(np.ascontiguousarray(image_bgr).data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    img = np.ascontiguousarray(image_bgr[:, :, :3])
    h, w = img.shape[:2]
    return QImage(img.data, w, h, 3 * w, QImage.Format.Format_BGR888).copy()


def format_value(metric: str, value: float | None) -> str:
    if value is None:
        return "–"
    if metric.endswith("_deg"):
        return f"{value:+.0f}°" if metric != "cva_deg" else f"{value:.0f}°"
    if metric == "screen_distance":
        return f"~{value:.0f} cm"
    return f"{value:.2f}"


class PreviewWidget(QWidget):
    """The picture scaled to fit, with the upper-body skeleton drawn over it."""

    def __init__(self, parent: QWidget | None = None, placeholder: str = "Waiting for the camera…") -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self._pose: Pose | None = None
        self._colour = QColor("#00C896")
        self.placeholder = placeholder
        self.setMinimumSize(320, 240)

    def sizeHint(self) -> QSize:
        return QSize(480, 360)

    def set_frame(self, image: QImage | None, pose: Pose | None, colour: str = "#00C896") -> None:
        self._image = image
        self._pose = pose
        self._colour = QColor(colour)
        self.update()

    @property
    def has_frame(self) -> bool:
        return self._image is not None

    def clear(self) -> None:
        self.set_frame(None, None)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("#1E1E1E"))
        if self._image is None:
            p.setPen(QColor("#D0D0D0"))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder)
            p.end()
            return
        iw, ih = self._image.width(), self._image.height()
        scale = min(self.width() / iw, self.height() / ih)
        w, h = iw * scale, ih * scale
        box = QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)
        p.drawImage(box, self._image)
        if self._pose is not None:
            draw_skeleton(p, self._pose, box, self._colour)
        p.end()


def draw_skeleton(p: QPainter, pose: Pose, box: QRectF, colour: QColor) -> None:
    def at(i: int) -> QPointF:
        lm = pose[i]
        return QPointF(box.x() + lm.x * box.width(), box.y() + lm.y * box.height())

    def shown(i: int) -> bool:
        return pose[i].visibility >= 0.5 and pose[i].inside(0.02)

    width = max(2.0, box.width() / 160)
    p.setPen(QPen(QColor(0, 0, 0, 150), width + 2, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    for a, b in SKELETON_EDGES:
        if shown(a) and shown(b):
            p.drawLine(at(a), at(b))
    p.setPen(QPen(colour, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    for a, b in SKELETON_EDGES:
        if shown(a) and shown(b):
            p.drawLine(at(a), at(b))
    p.setPen(QPen(QColor("black"), 1))
    p.setBrush(colour)
    for i in KEY_POINTS:
        if shown(i):
            p.drawEllipse(at(i), width * 1.6, width * 1.6)


class DeviationBar(QWidget):
    """A centred bar: zero in the middle, ±1 is the metric's own "poor" threshold (ticked)."""

    RANGE = 1.5

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.value: float | None = None
        self.setMinimumSize(140, 16)

    def set_value(self, value: float | None) -> None:
        self.value = value
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w, h = self.width(), self.height()
        mid = w / 2
        p.setPen(QPen(QColor("#B8B8B8"), 1))
        p.setBrush(QColor("#DCDCDC"))
        p.drawRect(QRectF(0.5, h / 2 - 5, w - 1, 10))
        per = (w / 2) / self.RANGE
        p.setPen(QPen(QColor("#909090"), 1))
        for x in (mid - per, mid + per):
            p.drawLine(QPointF(x, 1), QPointF(x, h - 1))
        if self.value is not None:
            v = max(-self.RANGE, min(self.RANGE, self.value))
            a = abs(self.value)
            colour = COLOURS["good"] if a <= DEAD_ZONE else COLOURS["drifting"] if a < 1.0 else COLOURS["poor"]
            p.fillRect(QRectF(min(mid, mid + v * per), h / 2 - 5, abs(v * per), 10), QColor(colour))
        p.setPen(QPen(QColor("#303030"), 1))
        p.drawLine(QPointF(mid, 0), QPointF(mid, h))
        p.end()


class LiveView(QWidget):
    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Why am I flagged? · Posture Companion")
        self.preview = PreviewWidget(placeholder="Waiting for the next picture from the camera…")
        self.state_label = QLabel("Waiting…")
        font = QFont(self.state_label.font())
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.state_label.setFont(font)
        self.reasons_label = QLabel("")
        self.reasons_label.setWordWrap(True)
        self.baseline_label = QLabel("No calibration yet.")
        self.baseline_label.setWordWrap(True)
        self.baseline_label.setStyleSheet("color: #404040;")

        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        for col, text in enumerate(("", "Baseline", "Now", "Change (tick = poor)")):
            head = QLabel(text)
            head.setStyleSheet("font-weight: bold;")
            grid.addWidget(head, 0, col)
        self._rows: dict[str, tuple[QLabel, QLabel, DeviationBar]] = {}
        for row, (metric, words) in enumerate(METRIC_WORDS.items(), start=1):
            base, now, bar = QLabel("–"), QLabel("–"), DeviationBar()
            grid.addWidget(QLabel(words), row, 0)
            grid.addWidget(base, row, 1)
            grid.addWidget(now, row, 2)
            grid.addWidget(bar, row, 3)
            self._rows[metric] = (base, now, bar)
        grid.setColumnStretch(3, 1)

        note = QLabel("The picture is shown only while this window is open, and is never saved.")
        note.setWordWrap(True)
        note.setStyleSheet("color: #505050;")
        side = QVBoxLayout()
        side.addWidget(self.state_label)
        side.addWidget(self.reasons_label)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        side.addWidget(line)
        side.addWidget(self.baseline_label)
        side.addLayout(grid)
        legend = QLabel("Each bar shows how far a measure has moved from your upright baseline. Green is within "
                        "your usual range, orange is drifting, red is past the tick where I call it poor. "
                        "Only a change that lasts brings a nudge.")
        legend.setWordWrap(True)
        legend.setStyleSheet("color: #404040;")
        side.addSpacing(8)
        side.addWidget(legend)
        side.addStretch(1)
        side.addWidget(note)
        layout = QHBoxLayout(self)
        layout.addWidget(self.preview, 3)
        layout.addLayout(side, 2)
        self.resize(980, 480)
        self._baseline: Baseline | None = None
        self._pending = False
        self.frames_shown = 0

    def set_pending(self, text: str) -> None:
        """No baseline yet, but one is on its way (built from the start of a recording)."""
        self._pending = True
        self.set_baseline(None)
        self.baseline_label.setText(text)

    def set_baseline(self, baseline: Baseline | None, profile: str | None = None, source: str | None = None) -> None:
        """`profile` names the saved profile; `source` says where an unsaved baseline came from."""
        if baseline is not None:
            self._pending = False
        self._baseline = baseline
        if baseline is None:
            self.baseline_label.setText("No calibration yet: choose “Calibrate…” in the menu, and I'll compare "
                                        "with your own upright posture.")
        else:
            where = f"{source}, " if source else f"profile “{profile}”, " if profile else ""
            quality = baseline.meta.get("quality")
            self.baseline_label.setText(f"Compared with your upright baseline ({where}{baseline.view} view"
                                        + (f", {quality} capture" if quality else "") + ").")
        for metric, (base, _now, _bar) in self._rows.items():
            stat = baseline.stats.get(metric) if baseline is not None else None
            base.setText(format_value(metric, stat.median if stat else None))

    def show_frame(self, image: np.ndarray, analysis: Analysis) -> None:
        if not self.isVisible():
            return  # a frame that was in flight when the window closed is dropped, not shown
        sample = analysis.sample
        pose = analysis.detection.pose if analysis.detection is not None else None
        key = sample.state if sample.state in COLOURS else "away"
        self.preview.set_frame(frame_to_qimage(image), pose, COLOURS.get(key, "#00C896"))
        self.frames_shown += 1
        self.show_analysis(analysis)

    def show_analysis(self, analysis: Analysis) -> None:
        sample = analysis.sample
        if sample.state in ("good", "drifting", "poor"):
            text = TITLES[sample.state] + (f" · score {sample.score:.0f}" if sample.score is not None else "")
        elif not sample.person:
            why = analysis.detection.validity.reason if analysis.detection is not None else "nobody in view"
            text = f"Not judged: {why}"
        elif self._baseline is None:
            text = "Not judged yet: learning your upright posture" if self._pending else \
                "Not judged: no calibration yet"
        else:
            text = "Not judged right now"
        self.state_label.setText(text)
        if sample.reasons and sample.state == "unknown":  # why the picture cannot be judged
            self.reasons_label.setText(reasons_words(sample.reasons).capitalize())
        elif sample.reasons:
            self.reasons_label.setText("Flagged for: " + reasons_words(sample.reasons))
        elif sample.state == "good":
            self.reasons_label.setText("Nothing flagged. Nicely done.")
        else:
            self.reasons_label.setText("")
        deviations = analysis.judgement.deviations if analysis.judgement is not None else {}
        for metric, (_base, now, bar) in self._rows.items():
            now.setText(format_value(metric, sample.metrics.get(metric)))
            dev = deviations.get(metric)
            rule = RULE_BY_METRIC.get(metric)
            if dev is not None and rule is not None and rule.direction != "both":
                # One-sided rules only flag one way; show the other way as harmless (no colour, no length).
                harmful = dev < 0 if rule.direction == "down" else dev > 0
                dev = dev if harmful else 0.0
            bar.set_value(dev)

    def deviation(self, metric: str) -> float | None:
        return self._rows[metric][2].value

    def closeEvent(self, event: QCloseEvent) -> None:
        self.preview.clear()  # drop the last picture as the window goes away
        self.closed.emit()
        super().closeEvent(event)
