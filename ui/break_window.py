"""The guided break: one step at a time, with a countdown ring, a breathing circle and a way out.

Before the first routine that presses a point or moves the neck the safety questions come first (answers
stored through the coach's safety module), on a page that also lists the red flags and the stop signs;
"Not now" goes on without those steps. The stop signs stay visible on every step, and "Hold longer"
stays on a step that is doing the person good. At the end a small
"Did that help?" feeds the scheduler. Time comes from an injected clock through `RoutineRunner`, so the
whole routine runs in milliseconds in tests.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QColor, QFont, QPainter, QPaintEvent, QPen, QPixmap, QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from posture.clock import Clock, SystemClock
from posture.coach.routines import (
    EXHALE_S,
    INHALE_S,
    SECONDS_PER_BREATH,
    Routine,
    Step,
    StopSign,
    format_duration,
    load_catalogue,
)
from posture.coach.runner import (
    HOLD_LONGER_S,
    BreathCue,
    RoutineFinished,
    RoutineRunner,
    RunnerEvent,
    StepExtended,
    StepStarted,
    Tick,
)
from posture.coach.safety import (
    POINTS,
    SAFETY_QUESTIONS,
    SafetyProfile,
    catalogue_notes,
    save_safety_profile,
    stop_line,
)
from posture.errors import ConfigError
from ui.fonts import bigger

RING_COLOUR = "#0072B2"
BREATH_COLOUR = "#56B4E9"
STEP_KIND_WORDS = {"movement": "Move", "acupressure": "Acupressure", "massage": "Light strokes",
                   "breathing": "Breathe", "walk": "Walk", "posture": "Posture", "rest": "Rest",
                   "prepare": "Get ready", "tip": "A tip", "heat-cold": "A tip"}
# Shown if the routines file cannot be read for its red flags; the same advice in fewer words.
FALLBACK_RED_FLAGS = ("new numbness, tingling or weakness", "dizziness, fainting, double vision",
                      "trouble speaking or swallowing", "neck pain with chest pain or fever")


def breath_phase(elapsed_in_step: float) -> tuple[str, float]:
    """('inhale'|'exhale', 0..1 circle size) at this point of a paced-breathing step (4 s in, 6 s out)."""
    t = elapsed_in_step % SECONDS_PER_BREATH
    if t < INHALE_S:
        x = t / INHALE_S
        return "inhale", 0.5 - 0.5 * math.cos(math.pi * x)  # eased growth
    x = (t - INHALE_S) / EXHALE_S
    return "exhale", 0.5 + 0.5 * math.cos(math.pi * x)


def paced(step: Step) -> bool:
    return step.breaths is not None or step.type == "breathing"


class CountdownRing(QWidget):
    """A ring that empties as the step runs, with the time left in the middle."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fraction = 1.0
        self.text = ""
        self.setMinimumSize(150, 150)

    def sizeHint(self) -> QSize:
        return QSize(170, 170)

    def set_remaining(self, remaining: float, total: float) -> None:
        self.fraction = max(0.0, min(1.0, remaining / total)) if total > 0 else 0.0
        self.text = format_duration(math.ceil(remaining))
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        side = min(self.width(), self.height()) - 16
        box = QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)
        p.setPen(QPen(QColor("#E2E2E2"), 12))
        p.drawEllipse(box)
        p.setPen(QPen(QColor(RING_COLOUR), 12, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        p.drawArc(box, 90 * 16, int(-360 * 16 * self.fraction))  # clockwise from 12 o'clock
        font = QFont(self.font())
        font.setPointSizeF(max(12.0, side / 7))
        font.setBold(True)
        p.setFont(font)
        p.setPen(QColor("#202020"))
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, self.text)
        p.end()


class BreathPacer(QWidget):
    """A circle that grows while breathing in and shrinks while breathing out."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.phase = "inhale"
        self.size_fraction = 0.0
        self.setMinimumSize(150, 150)

    def sizeHint(self) -> QSize:
        return QSize(170, 170)

    def set_phase(self, phase: str, fraction: float) -> None:
        self.phase = phase
        self.size_fraction = fraction
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        full = min(self.width(), self.height()) - 16
        r = full * (0.35 + 0.65 * self.size_fraction) / 2
        cx, cy = self.width() / 2, self.height() / 2
        p.setPen(QPen(QColor("#9CC9E6"), 2, Qt.PenStyle.DashLine))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawEllipse(QRectF(cx - full / 2, cy - full / 2, full, full))
        colour = QColor(BREATH_COLOUR)
        colour.setAlpha(200)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(colour)
        p.drawEllipse(QRectF(cx - r, cy - r, 2 * r, 2 * r))
        p.setPen(QColor("#0B2A40"))
        font = QFont(self.font())
        font.setBold(True)
        p.setFont(font)
        p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Breathe in" if self.phase == "inhale" else "Breathe out")
        p.end()


def _red_flags() -> tuple[tuple[str, ...], str, tuple[StopSign, ...]]:
    """Red flags, their advice and the stop signs from the routines file, with a fallback if unreadable."""
    try:
        catalogue = load_catalogue()
    except ConfigError:
        return FALLBACK_RED_FLAGS, "Please see a doctor about these.", ()
    return catalogue.red_flags, catalogue.red_flag_advice, catalogue.stop_signs


class SafetyPage(QWidget):
    """The yes/no questions, asked once, with the red flags and stop signs above them."""

    answered = Signal(object)  # SafetyProfile
    declined = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title = QLabel(f"Before the first break that presses or moves the neck: {len(SAFETY_QUESTIONS)} "
                       "quick questions")
        title.setFont(bigger(title.font(), 1.25, bold=True))
        title.setWordWrap(True)
        flags, advice, signs = _red_flags()
        self.red_flags = QLabel("<b>First, these need a doctor, not a break:</b> " + "; ".join(flags)
                                + ". " + advice)
        self.red_flags.setWordWrap(True)
        self.red_flags.setStyleSheet("color: #6A1B00;")
        self.stop_signs = QLabel(stop_line(signs) if signs else "Stop at once if anything hurts or feels wrong.")
        self.stop_signs.setWordWrap(True)
        self.stop_signs.setStyleSheet("color: #6A4A00;")
        intro = QLabel("Your answers stay on this computer. They decide which steps are offered; you can "
                       "change them any time by deleting the saved answers.")
        intro.setWordWrap(True)
        grid = QGridLayout()
        grid.setColumnStretch(0, 1)
        self.groups: dict[str, QButtonGroup] = {}
        for row, q in enumerate(SAFETY_QUESTIONS):
            text = QLabel(q.text)
            text.setWordWrap(True)
            yes, no = QRadioButton("Yes"), QRadioButton("No")
            group = QButtonGroup(self)
            group.addButton(yes, 1)
            group.addButton(no, 0)
            group.buttonToggled.connect(self._update)
            self.groups[q.key] = group
            grid.addWidget(text, row, 0)
            grid.addWidget(yes, row, 1)
            grid.addWidget(no, row, 2)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet("color: #404040;")
        self.save_button = QPushButton("Save answers and start")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self._save)
        later = QPushButton("Not now (no acupressure or neck exercises)")
        later.clicked.connect(self.declined.emit)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(later)
        buttons.addWidget(self.save_button)
        v = QVBoxLayout(self)
        v.addWidget(title)
        v.addWidget(self.red_flags)
        v.addWidget(intro)
        v.addLayout(grid)
        v.addWidget(self.summary)
        v.addStretch(1)
        v.addWidget(self.stop_signs)
        v.addLayout(buttons)

    def answer(self, key: str, yes: bool) -> None:
        button = self.groups[key].button(1 if yes else 0)
        button.setChecked(True)

    def answers(self) -> dict[str, bool] | None:
        out = {}
        for key, group in self.groups.items():
            if group.checkedId() < 0:
                return None
            out[key] = group.checkedId() == 1
        return out

    def _update(self) -> None:
        answers = self.answers()
        self.save_button.setEnabled(answers is not None)
        changes = [q.if_yes for q in SAFETY_QUESTIONS if answers and answers.get(q.key)]
        self.summary.setText(" ".join(dict.fromkeys(changes)))

    def _save(self) -> None:
        answers = self.answers()
        if answers is not None:
            self.answered.emit(SafetyProfile.from_answers(answers, time.time()))


class BreakWindow(QWidget):
    started = Signal(str)  # routine id, when the routine actually begins
    finished = Signal(object, bool)  # effect ("better"/"same"/"worse" or None), reached the end
    safety_answered = Signal(object)  # SafetyProfile
    closed = Signal()  # the window was closed, at any page

    def __init__(self, routine: Routine, clock: Clock | None = None, needs_safety_screen: bool = False,
                 safety_path: Path | None = None,
                 refilter: Callable[[SafetyProfile], Routine | None] | None = None,
                 tick_ms: int = 100, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{routine.title} · Posture Companion")
        self.routine = routine
        self.clock: Clock = clock or SystemClock()
        self.safety_path = safety_path
        self._refilter = refilter
        self.runner: RoutineRunner | None = None
        self.result: RoutineFinished | None = None
        self.effect: str | None = None
        self._reported = False
        # Called with every batch of runner events (camera coaching hooks in here: ui/break_coaching.py).
        self.event_hooks: list[Callable[[list[RunnerEvent]], None]] = []
        self.pages = QStackedWidget()
        self.safety_page = SafetyPage()
        self.safety_page.answered.connect(self._safety_answered)
        self.safety_page.declined.connect(self.begin)
        self.pages.addWidget(self.safety_page)
        self.pages.addWidget(self._routine_page())
        self.pages.addWidget(self._feedback_page())
        self.pages.addWidget(self._not_offered_page())
        QVBoxLayout(self).addWidget(self.pages)
        self.resize(780, 660)  # room for the point diagram under longer, answer-dependent text
        self._timer = QTimer(self)
        self._timer.setInterval(tick_ms)
        self._timer.timeout.connect(self.tick)
        # The routine begins when the window is first shown, not here: `started` must reach the
        # listeners connected after construction (a break that skipped the safety page went unrecorded).
        self._needs_safety_screen = needs_safety_screen
        self.pages.setCurrentIndex(0 if needs_safety_screen else 1)

    # -- pages ------------------------------------------------------------------------------------
    def _routine_page(self) -> QWidget:
        page = QWidget()
        self.title_label = QLabel(self.routine.title)
        self.title_label.setFont(bigger(self.title_label.font(), 1.2))
        self.title_label.setStyleSheet("color: #404040;")
        self.routine_notes = QLabel("")
        self.routine_notes.setWordWrap(True)
        self.routine_notes.setStyleSheet("color: #6A4A00;")
        self.counter_label = QLabel("")
        self.counter_label.setStyleSheet("color: #404040;")
        self.step_label = QLabel("")
        self.step_label.setFont(bigger(self.step_label.font(), 1.6, bold=True))
        self.step_label.setWordWrap(True)
        self.instructions = QLabel("")
        self.instructions.setWordWrap(True)
        self.instructions.setFont(bigger(self.instructions.font(), 1.15))
        self.instructions.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.notes_label = QLabel("")
        self.notes_label.setWordWrap(True)
        self.notes_label.setStyleSheet("color: #6A4A00;")
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.ring = CountdownRing()
        self.pacer = BreathPacer()
        self.pause_button = QPushButton("Pause")
        self.pause_button.clicked.connect(self.toggle_pause)
        self.hold_button = QPushButton(f"Hold longer (+{HOLD_LONGER_S} s)")
        self.hold_button.setToolTip("Stay on this step a little longer, for a spot that is still tight")
        self.hold_button.clicked.connect(self.hold_longer)
        skip = QPushButton("Skip step")
        skip.clicked.connect(self.skip_step)
        finish = QPushButton("Finish")
        finish.clicked.connect(self.finish_now)
        # Every stop sign, always visible: the same line the terminal repeats with every step.
        self.stop_label = QLabel(stop_line(self.routine.stop_signs))
        self.stop_label.setWordWrap(True)
        self.stop_label.setStyleSheet("color: #6A1B00;")
        # Words and the point diagram on the left; the clock and the breathing circle on the right.
        text = QVBoxLayout()
        text.addWidget(self.counter_label)
        text.addWidget(self.step_label)
        text.addWidget(self.instructions)
        text.addWidget(self.notes_label)
        self.coaching_box = QVBoxLayout()  # filled by BreakCoaching when the camera watches the break
        text.addLayout(self.coaching_box)
        text.addWidget(self.picture, 0, Qt.AlignmentFlag.AlignLeft)
        text.addStretch(1)
        visuals = QVBoxLayout()
        visuals.addWidget(self.ring, 0, Qt.AlignmentFlag.AlignHCenter)
        visuals.addWidget(self.pacer, 0, Qt.AlignmentFlag.AlignHCenter)
        visuals.addStretch(1)
        middle = QHBoxLayout()
        middle.addLayout(text, 3)
        middle.addLayout(visuals, 2)
        buttons = QHBoxLayout()
        buttons.addWidget(self.pause_button)
        buttons.addWidget(self.hold_button)
        buttons.addWidget(skip)
        buttons.addStretch(1)
        buttons.addWidget(finish)
        v = QVBoxLayout(page)
        v.addWidget(self.title_label)
        v.addWidget(self.routine_notes)
        v.addLayout(middle, 1)
        v.addWidget(self.stop_label)
        v.addLayout(buttons)
        return page

    def _not_offered_page(self) -> QWidget:
        """After answers that leave nothing of this routine: say so, and why; nothing is started."""
        page = QWidget()
        self.not_offered_label = QLabel("")
        self.not_offered_label.setWordWrap(True)
        self.not_offered_label.setFont(bigger(self.not_offered_label.font(), 1.15))
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        v = QVBoxLayout(page)
        v.addStretch(1)
        v.addWidget(self.not_offered_label)
        v.addWidget(close, 0, Qt.AlignmentFlag.AlignRight)
        v.addStretch(1)
        return page

    def _feedback_page(self) -> QWidget:
        page = QWidget()
        self.done_label = QLabel("Well done.")
        self.done_label.setFont(bigger(self.done_label.font(), 1.5, bold=True))
        self.done_label.setWordWrap(True)
        ask = QLabel("Did that help?")
        ask.setFont(bigger(ask.font(), 1.2))
        self.feel_buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        for feel, text in (("better", "Better"), ("same", "About the same"), ("worse", "Worse")):
            b = QPushButton(text)
            b.setMinimumHeight(40)
            b.clicked.connect(lambda _=False, f=feel: self.answer(f))
            self.feel_buttons[feel] = b
            row.addWidget(b)
        skip = QPushButton("Don't ask")
        skip.clicked.connect(lambda: self.answer(None))
        self.worse_note = QLabel("If something hurts or feels wrong, rest, and if it does not settle, talk to "
                                 "a doctor or physiotherapist.")
        self.worse_note.setWordWrap(True)
        v = QVBoxLayout(page)
        v.addStretch(1)
        v.addWidget(self.done_label)
        v.addWidget(ask)
        v.addLayout(row)
        v.addWidget(skip, 0, Qt.AlignmentFlag.AlignRight)
        v.addWidget(self.worse_note)
        v.addStretch(1)
        return page

    # -- running ----------------------------------------------------------------------------------
    def begin(self) -> None:
        """Start the routine (after the safety questions, if they were asked)."""
        if self.runner is not None:
            return
        self.pages.setCurrentIndex(1)
        self.title_label.setText(self.routine.title)
        self.routine_notes.setText(" ".join(self.routine.notes))
        self.routine_notes.setVisible(bool(self.routine.notes))
        self.stop_label.setText(stop_line(self.routine.stop_signs))
        self.runner = RoutineRunner(self.routine, self.clock)
        self.started.emit(self.routine.id)
        self._render(self.runner.start())
        self._timer.start()

    def tick(self) -> None:
        if self.runner is not None and self.runner.finished is None:
            self._render(self.runner.tick())

    def toggle_pause(self) -> None:
        if self.runner is None or self.runner.finished is not None:
            return
        if self.runner.paused:
            self._render(self.runner.resume())
            self.pause_button.setText("Pause")
        else:
            self._render(self.runner.pause())
            self.pause_button.setText("Resume")

    def skip_step(self) -> None:
        if self.runner is not None:
            self._render(self.runner.skip_step())

    def hold_longer(self) -> None:
        if self.runner is not None:
            self._render(self.runner.hold_longer())

    def finish_now(self) -> None:
        if self.runner is not None:
            self._render(self.runner.stop())

    def answer(self, effect: str | None) -> None:
        self.effect = effect
        self._report()
        self.close()

    def _render(self, events: list[RunnerEvent]) -> None:
        runner = self.runner
        for hook in self.event_hooks:
            hook(events)
        for e in events:
            if isinstance(e, StepStarted):
                self._show_step(e)
            elif isinstance(e, BreathCue):
                self.pacer.set_phase(e.phase, 0.0 if e.phase == "inhale" else 1.0)
            elif isinstance(e, StepExtended) and runner is not None:
                self.hold_button.setEnabled(runner.can_hold_longer)
            elif isinstance(e, Tick) and runner is not None and runner.current_step is not None:
                step = runner.current_step
                self.ring.set_remaining(e.step_remaining, runner.step_length)
                if paced(step):
                    self.pacer.set_phase(*breath_phase(runner.step_length - e.step_remaining))
            elif isinstance(e, RoutineFinished):
                self._timer.stop()
                self.result = e
                if e.completed:
                    self.done_label.setText("Well done. That's the break finished.")
                else:
                    self.done_label.setText("Break ended early. Every bit counts.")
                self.pages.setCurrentIndex(2)

    def _show_step(self, e: StepStarted) -> None:
        step = e.step
        self.counter_label.setText(f"Step {e.index + 1} of {e.count} · {STEP_KIND_WORDS.get(step.type, '')}")
        self.step_label.setText(step.title)
        where = f"\n\nWhere: {POINTS[step.point].where}" if step.point in POINTS else ""
        self.instructions.setText(step.instructions + where)
        self.notes_label.setText(" ".join(step.notes))
        self.notes_label.setVisible(bool(step.notes))
        self.ring.set_remaining(step.duration, step.duration)
        self.hold_button.setEnabled(True)
        self.pacer.setVisible(paced(step))
        if paced(step):
            self.pacer.set_phase("inhale", 0.0)
        pm = QPixmap(str(step.picture)) if step.picture is not None else QPixmap()
        if not pm.isNull():
            self.picture.setPixmap(pm.scaledToWidth(min(220, pm.width()), Qt.TransformationMode.SmoothTransformation))
        else:
            self.picture.clear()
        self.picture.setVisible(not pm.isNull())

    def _safety_answered(self, profile: SafetyProfile) -> None:
        if self.safety_path is not None:
            try:
                save_safety_profile(profile, self.safety_path)
            except OSError as exc:
                self.safety_page.summary.setText(f"Could not save the answers ({exc}); they apply to this "
                                                 "break only.")
        self.safety_answered.emit(profile)
        if self._refilter is not None:
            routine = self._refilter(profile)
            if routine is None:
                # Never fall back to the unscreened routine: say why there is nothing to do here.
                why = " ".join(catalogue_notes(profile))
                self.not_offered_label.setText(f"After your answers, “{self.routine.title}” is not offered. "
                                               f"{why}")
                self.pages.setCurrentIndex(3)
                return
            self.routine = routine
        self.begin()

    def _report(self) -> None:
        if self._reported or self.runner is None:
            return
        self._reported = True
        completed = self.result.completed if self.result is not None else False
        self.finished.emit(self.effect, completed)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._needs_safety_screen:
            self.begin()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._timer.stop()
        if self.runner is not None and self.runner.finished is None:
            self._render(self.runner.stop())
        self._report()
        super().closeEvent(event)
        self.closed.emit()
