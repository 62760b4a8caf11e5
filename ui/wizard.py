"""The calibration wizard: set up, sit upright, hold still, and save the result as a named profile.

Frames come from the running monitor (the app registers its frame listener while the wizard is open),
so the camera is never opened twice. Time comes from an injected clock, so tests run the countdown and
capture in milliseconds. The checklist and setup diagnostics are plain functions of one frame and its
analysis, kept free of Qt so they can be tested on their own.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from calibration.capture import GUIDANCE, CaptureQuality, CaptureRejected, build_baseline
from calibration.profiles import ProfileStore
from posture.analyzer import Analysis
from posture.baseline import Baseline
from posture.camera_settle import measure
from posture.clock import Clock, SystemClock
from posture.errors import ConfigError
from posture.landmarks import P
from posture.light_shift import with_calibration_light
from posture.metrics import MetricSet
from posture.pose import describe_backend
from posture.preprocess import FrameQuality
from ui.fonts import bigger
from ui.live_view import PreviewWidget, frame_to_qimage

COUNTDOWN_S = 3
CAPTURE_S = 10.0
DARK_BELOW = 55.0  # mean grey level (0-255) under which landmarks get unreliable
BRIGHT_ABOVE = 215.0
LATERAL_OK = 0.12  # head centre within this many shoulder widths of the shoulder centre
SHOULDER_TILT_OK_DEG = 5.0
SIDE_CVA_OK_DEG = 40.0
SHOULDERS_LOW_Y = 0.85  # shoulder line this far down the picture: the camera looks up from far below
HEAD_LARGE = 0.42  # ear-to-ear span as a share of the picture width: the camera is very close or low
CUT_OFF = ("shoulders not in the frame", "a shoulder is outside the frame", "face not visible",
           "head below the shoulders")


@dataclass(frozen=True, slots=True)
class Check:
    key: str
    label: str
    ok: bool | None  # None: cannot tell yet


@dataclass(frozen=True, slots=True)
class Diagnostic:
    key: str
    problem: str
    fix: str


def brightness(image: np.ndarray) -> float:
    """Mean grey level: the same luma the camera's settle gate measures (posture/camera_settle.py)."""
    return measure(image).luma


def upright_checks(image: np.ndarray, analysis: Analysis) -> list[Check]:
    det = analysis.detection
    m = analysis.metrics
    light = brightness(image)
    face = None
    if det is not None:
        face = det.pose is not None and det.validity.reason != "face not visible" and (
            det.pose[P.NOSE].visibility >= 0.5 and det.pose[P.NOSE].inside(0.0))
    ears: bool | None = None
    level: bool | None = None
    if m is not None and m.view == "front":
        # A head tilted to one side is judged against the baseline later; here only "is the head centred
        # over the shoulders" matters, since many people's natural resting head is slightly tilted.
        lat, tilt = m.values.get("lateral_offset"), m.values.get("shoulder_tilt_deg")
        if lat is not None:
            ears = abs(lat) <= LATERAL_OK
        if tilt is not None:
            level = abs(tilt) <= SHOULDER_TILT_OK_DEG
    elif m is not None and m.view == "side":
        cva = m.values.get("cva_deg")
        ears = None if cva is None else cva >= SIDE_CVA_OK_DEG
        level = True  # one shoulder hides the other in profile: nothing to compare
    return [
        Check("ears", "Ears over shoulders", ears),
        Check("level", "Shoulders level", level),
        Check("face", "Face visible", face),
        Check("light", "Lighting adequate", DARK_BELOW <= light <= BRIGHT_ABOVE),
    ]


def diagnostics(image: np.ndarray, analysis: Analysis) -> list[Diagnostic]:
    """Setup problems, each with what to do about it."""
    out: list[Diagnostic] = []
    light = brightness(image)
    if light < DARK_BELOW:
        out.append(Diagnostic("dark", "The picture is too dark.",
                              "Turn on a lamp in front of you or face a window; light from behind leaves "
                              "your face in shadow."))
    elif light > BRIGHT_ABOVE:
        out.append(Diagnostic("bright", "The picture is washed out.",
                              "Close the blind behind you, or move the lamp so it lights your face."))
    det = analysis.detection
    if det is None or det.pose is None or det.validity.reason == "no person found":
        out.append(Diagnostic("nobody", "I can't see anyone yet.",
                              "Sit in front of the camera as you normally do at this desk."))
    elif det.validity.reason in CUT_OFF:
        out.append(Diagnostic("cut_off", "Your face or shoulders are cut off.",
                              "Tilt the screen or sit back a little so your head and both shoulders are in "
                              "the picture."))
    elif det.validity.reason == "person too small or too far away":
        out.append(Diagnostic("far", "You look very small in the picture.",
                              "Move closer, or use the camera on this screen rather than a distant one."))
    if det is not None and det.pose is not None:
        pose = det.pose
        shoulders_y = (pose[P.LEFT_SHOULDER].y + pose[P.RIGHT_SHOULDER].y) / 2
        ear_span = abs(pose[P.LEFT_EAR].x - pose[P.RIGHT_EAR].x)
        if shoulders_y > SHOULDERS_LOW_Y or ear_span > HEAD_LARGE:
            out.append(Diagnostic("steep", "The camera looks up at you from a steep angle.",
                                  "Raise the camera to about eye level (a few books under the laptop help), "
                                  "or sit a little further back."))
    if det is not None and det.faces > 1:
        out.append(Diagnostic("people", f"I can see {det.faces} people.",
                              "Calibrate when you're alone in the picture; afterwards I follow the person "
                              "nearest the middle."))
    return out


def suggest_name(store: ProfileStore) -> str:
    names = set(store.names())
    if not names:
        return "Desk"
    n = 2
    while f"Setup {n}" in names:
        n += 1
    return f"Setup {n}"


class CalibrationWizard(QWidget):
    """Pages: setup (preview + checklist + diagnostics) → countdown and capture → verdict and save."""

    saved = Signal(str, object)  # profile name, Baseline
    closed = Signal()

    def __init__(self, store: ProfileStore | None = None, clock: Clock | None = None,
                 capture_s: float = CAPTURE_S, countdown_s: int = COUNTDOWN_S, tick_ms: int = 200,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Calibrate · Posture Companion")
        self.store = store or ProfileStore()
        self.clock: Clock = clock or SystemClock()
        self.capture_s = capture_s
        self.countdown_s = countdown_s
        self.phase = "setup"  # setup → countdown → capturing → result
        self._phase_started = 0.0
        self.observations: list[MetricSet | None] = []
        self.light_seen: list[FrameQuality | None] = []  # each capture picture's light, for the profile
        self.baseline: Baseline | None = None
        self.quality: CaptureQuality | None = None
        self.rejection: str | None = None
        self.frames_seen = 0

        self.preview = PreviewWidget(placeholder="Waiting for the camera…\nSit as you normally do at this desk.")
        self.pages = QStackedWidget()
        self.pages.addWidget(self._setup_page())
        self.pages.addWidget(self._capture_page())
        self.pages.addWidget(self._result_page())
        layout = QHBoxLayout(self)
        layout.addWidget(self.preview, 3)
        layout.addWidget(self.pages, 2)
        self.resize(960, 500)
        self._timer = QTimer(self)
        self._timer.setInterval(tick_ms)
        self._timer.timeout.connect(self.tick)

    # -- pages ------------------------------------------------------------------------------------
    def _setup_page(self) -> QWidget:
        page = QWidget()
        title = QLabel("Teach me your upright posture")
        title.setFont(bigger(title.font(), 1.35, bold=True))
        intro = QLabel(GUIDANCE + " One profile per setup: laptop, desk monitor, standing desk…")
        intro.setWordWrap(True)
        self.name_edit = QLineEdit(suggest_name(self.store))
        self.name_edit.setPlaceholderText("Profile name, e.g. Desk monitor")
        self.name_edit.textChanged.connect(self._name_changed)
        self.name_note = QLabel("")
        self.name_note.setWordWrap(True)
        self.name_note.setStyleSheet("color: #6A4A00;")
        self.check_labels: dict[str, QLabel] = {}
        checks = QVBoxLayout()
        checks_title = QLabel("Before you start")
        checks_title.setStyleSheet("font-weight: bold;")
        checks.addWidget(checks_title)
        for key, label in (("ears", "Ears over shoulders"), ("level", "Shoulders level"),
                           ("face", "Face visible"), ("light", "Lighting adequate")):
            lab = QLabel()
            self.check_labels[key] = lab
            checks.addWidget(lab)
            _set_check(lab, Check(key, label, None))
        self.diag_label = QLabel("")
        self.diag_label.setWordWrap(True)
        self.diag_label.setTextFormat(Qt.TextFormat.RichText)
        self.start_button = QPushButton("Start (3-second countdown)")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start_capture)
        self.start_button.setEnabled(False)
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(self.start_button)
        v = QVBoxLayout(page)
        v.addWidget(title)
        v.addWidget(intro)
        v.addWidget(QLabel("Profile name"))
        v.addWidget(self.name_edit)
        v.addWidget(self.name_note)
        v.addLayout(checks)
        v.addWidget(self.diag_label)
        v.addStretch(1)
        how = QLabel(f"After a {self.countdown_s}-second countdown, sit still for {self.capture_s:g} seconds. "
                     "I'll tell you how the capture went before anything is saved. Pictures are never stored, "
                     "only the measurements.")
        how.setWordWrap(True)
        how.setStyleSheet("color: #404040;")
        v.addWidget(how)
        v.addLayout(buttons)
        self._name_changed(self.name_edit.text())
        return page

    def _capture_page(self) -> QWidget:
        page = QWidget()
        self.count_label = QLabel("3")
        self.count_label.setFont(bigger(self.count_label.font(), 5.0, bold=True))
        self.count_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.capture_hint = QLabel("Sit upright and comfortable, and look at your screen.")
        self.capture_hint.setWordWrap(True)
        self.capture_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setFormat("Holding still… %p%")
        v = QVBoxLayout(page)
        v.addStretch(1)
        v.addWidget(self.count_label)
        v.addWidget(self.capture_hint)
        v.addWidget(self.progress)
        v.addStretch(1)
        return page

    def _result_page(self) -> QWidget:
        page = QWidget()
        self.verdict_label = QLabel("")
        self.verdict_label.setFont(bigger(self.verdict_label.font(), 1.35, bold=True))
        self.verdict_label.setWordWrap(True)
        self.detail_label = QLabel("")
        self.detail_label.setWordWrap(True)
        self.save_button = QPushButton("Save profile")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        again = QPushButton("Try again")
        again.clicked.connect(self.restart)
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (cancel, again, self.save_button):
            buttons.addWidget(b)
        v = QVBoxLayout(page)
        v.addWidget(self.verdict_label)
        v.addWidget(self.detail_label)
        v.addStretch(1)
        v.addLayout(buttons)
        return page

    # -- input ------------------------------------------------------------------------------------
    def feed(self, image: np.ndarray, analysis: Analysis) -> None:
        """One frame from the monitor with its analysis (the app connects the bridge here)."""
        self.frames_seen += 1
        det = analysis.detection
        pose = det.pose if det is not None else None
        ok = analysis.metrics is not None and analysis.metrics.view is not None
        self.preview.set_frame(frame_to_qimage(image), pose, "#00C896" if ok else "#E69F00")
        if self.phase == "setup":
            for check in upright_checks(image, analysis):
                _set_check(self.check_labels[check.key], check)
            problems = diagnostics(image, analysis)
            # The pose backend (it differs per Python) closes the list, for anyone reporting a problem.
            self.diag_label.setText(("".join(f"<p><b>{d.problem}</b> {d.fix}</p>" for d in problems)
                                     or "<p>Everything looks ready.</p>")
                                    + f"<p><small>{html.escape(describe_backend())}</small></p>")
            self._name_changed(self.name_edit.text())
        elif self.phase == "capturing":
            self.observations.append(analysis.metrics if ok else None)
            self.light_seen.append(det.quality if det is not None else None)
        self.tick()

    def tick(self) -> None:
        now = self.clock.monotonic()
        elapsed = now - self._phase_started
        if self.phase == "countdown":
            left = self.countdown_s - elapsed
            if left <= 0:
                self._enter("capturing")
                self.count_label.setText("Hold still")
            else:
                self.count_label.setText(str(int(np.ceil(left))))
        elif self.phase == "capturing":
            self.progress.setValue(min(100, int(100 * elapsed / self.capture_s)))
            if elapsed >= self.capture_s:
                self._finish_capture()

    # -- actions ----------------------------------------------------------------------------------
    def start_capture(self) -> None:
        if self._name_error() is not None:
            return
        self.observations = []
        self.light_seen = []
        self.progress.setValue(0)
        self.count_label.setText(str(self.countdown_s))
        self.pages.setCurrentIndex(1)
        self._enter("countdown" if self.countdown_s > 0 else "capturing")
        self._timer.start()

    def restart(self) -> None:
        self._timer.stop()
        self.baseline = self.quality = self.rejection = None
        self.pages.setCurrentIndex(0)
        self._enter("setup")

    def save(self) -> bool:
        if self.baseline is None:
            return False
        name = self.name_edit.text().strip()
        try:
            self.store.save(name, self.baseline, source="wizard")
            self.store.set_active(name)
        except (ConfigError, OSError) as exc:
            self.detail_label.setText(f"Could not save the profile: {exc}")
            return False
        self.saved.emit(name, self.baseline)
        self.close()
        return True

    # -- internals --------------------------------------------------------------------------------
    def _enter(self, phase: str) -> None:
        self.phase = phase
        self._phase_started = self.clock.monotonic()

    def _finish_capture(self) -> None:
        self._timer.stop()
        self._enter("result")
        self.pages.setCurrentIndex(2)
        try:
            self.baseline, self.quality = build_baseline(self.observations, label="The capture",
                                                         seconds=self.capture_s)
            # The light it was taken in goes with the profile: a baseline from poor light is judged by day
            # with the poor-light reading's shift allowed for (posture.light_shift).
            self.baseline = with_calibration_light(self.baseline, self.light_seen)
        except CaptureRejected as exc:
            self.baseline, self.quality, self.rejection = None, None, str(exc)
            self.verdict_label.setText("That didn't work this time")
            self.detail_label.setText(f"{exc}.\n\nNothing was saved. Adjust the setup and try again.")
            self.save_button.setEnabled(False)
            return
        q = self.quality
        words = {"excellent": "Excellent capture", "good": "Good capture", "usable": "Usable capture"}
        self.verdict_label.setText(words.get(q.verdict, q.verdict.capitalize()))
        if q.too_few:
            extra = (f" Only {q.present} pictures in {self.capture_s:g} seconds: the camera or the computer was "
                     "slow, so this baseline rests on very little. It works, but trying again with other apps "
                     "closed gives a firmer one.")
            held = ""
        elif q.verdict == "usable":
            extra, held = " You moved a little; a steadier capture makes judgements finer.", ""
        else:
            extra, held = "", ", and held still"
        self.detail_label.setText(
            f"You were in view in {q.present} of {q.samples} pictures in {self.capture_s:g} seconds{held}.{extra}\n\n"
            f"Save it as “{self.name_edit.text().strip()}” to start judging posture against it.")
        self.save_button.setEnabled(True)

    def _name_error(self) -> str | None:
        try:
            self.store.check_name(self.name_edit.text().strip())
        except ConfigError as exc:
            return str(exc)
        return None

    def _name_changed(self, text: str) -> None:
        error = self._name_error()
        if error:
            self.name_note.setText("Use up to 48 letters, digits, spaces, dashes, dots or underscores.")
        elif text.strip() in self.store.names():
            self.name_note.setText(f"This replaces the existing profile “{text.strip()}”.")
        else:
            self.name_note.setText("")
        self.start_button.setEnabled(error is None and self.frames_seen > 0)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._timer.stop()
        self.preview.clear()
        self.closed.emit()
        super().closeEvent(event)




def _set_check(label: QLabel, check: Check) -> None:
    mark, colour = {True: ("✔", "#00795A"), False: ("✘", "#B34700"), None: ("…", "#707070")}[check.ok]
    state = {True: "", False: " (not yet)", None: " (waiting)"}[check.ok]
    label.setText(f"<span style='color:{colour}; font-weight:bold'>{mark}</span> {check.label}{state}")
