"""The guided break as the tray app runs it: which routine, the window, and what the monitor records.

Moved out of `CompanionApp` so the break flow has one owner. It opens the break window, tells the
monitor (on its own thread) when the routine really starts and how it ended, answers a waiting
suggestion (later / skip), and knows whether a break is under way, so the app can keep nudges and
the glow away from someone who is doing their neck exercises.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from posture.clock import Clock
from posture.coach.routines import Routine, load_catalogue
from posture.coach.safety import SafetyProfile, filter_catalogue, load_safety_profile
from posture.coach.safety import needs_screen as screened
from posture.errors import ConfigError
from posture.monitor import Monitor
from ui.break_camera import BreakCamera
from ui.notify import Notifier
from ui.worker import Command

log = logging.getLogger(__name__)

BREAK_KEY = "break"


class BreakController(QObject):
    """One guided break at a time. `submit` runs a command on the monitor thread."""

    changed = Signal()  # a break window opened or closed

    def __init__(self, submit: Callable[[Command], None], notifier: Notifier, clock: Clock, safety_path: Path,
                 monitor: Callable[[], Monitor | None], pending: Callable[[], str | None],
                 track: Callable[[str, QWidget], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._submit = submit
        self._notifier = notifier
        self.clock = clock
        self.safety_path = safety_path
        self._monitor = monitor
        self._pending = pending
        self._track = track
        self.window: QWidget | None = None
        # Camera coaching for breaks with movement steps (ui/break_camera.py); the app sets it when the
        # monitor watches a camera. None: breaks run uncoached.
        self.camera: BreakCamera | None = None

    # -- what the app asks ------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        """A break window is open (safety questions, the routine or its "did that help?")."""
        return self.window is not None

    def safety_profile(self) -> tuple[SafetyProfile | None, bool]:
        """(answers, asked): a damaged answers file counts as asked, so it is never overwritten."""
        try:
            profile = load_safety_profile(self.safety_path)
        except ConfigError:
            return None, True
        return profile, profile is not None

    def catalogue(self) -> tuple[Routine, ...]:
        monitor = self._monitor()
        breaks = monitor.breaks if monitor is not None else None
        if breaks is not None:
            return breaks.catalogue.routines  # an immutable snapshot: safe to read from this thread
        try:
            return filter_catalogue(load_catalogue(), self.safety_profile()[0]).routines
        except ConfigError:
            return ()

    # -- commands ---------------------------------------------------------------------------------
    def answer(self, answer: str) -> None:
        """"postpone" or "skip" the waiting suggestion."""
        self._submit(lambda m: m.session.answer_break(answer))

    def start(self, routine_id: str | None) -> bool:
        """Open the guided break for `routine_id`, the waiting suggestion, or a short general one."""
        if self.window is not None:
            self.window.show()
            self.window.raise_()
            return False
        pending = self._pending()
        routines = {r.id: r for r in self.catalogue()}
        rid = routine_id or pending
        if rid is None or rid not in routines:
            micro = [r for r in routines.values() if r.kind == "micro"]
            rid = next((r.id for r in micro if r.focus == "general"), micro[0].id if micro else None)
        if rid is None or rid not in routines:
            self._notifier.notify("info", "No break to start", "The routines file could not be read.")
            return False
        _profile, asked = self.safety_profile()
        try:
            full = load_catalogue().get(rid)
        except ConfigError:
            full = None
        needs_screen = not asked and full is not None and screened(full)  # acupressure or neck movement
        chosen = rid

        def refilter(p: SafetyProfile) -> Routine | None:
            return filter_catalogue(load_catalogue(), p).get(chosen)

        from ui.break_window import BreakWindow

        window = BreakWindow(routines[rid], clock=self.clock, needs_safety_screen=needs_screen,
                             safety_path=self.safety_path, refilter=refilter)
        use_pending = pending == rid
        # Connected before the window is shown: showing it is what begins the routine (and emits
        # `started`), so a break without the safety page is recorded like any other.
        window.safety_answered.connect(self._safety_answered)
        window.started.connect(lambda r: self._started(r, use_pending))
        window.finished.connect(self._finished)
        window.closed.connect(lambda: self._closed(window))
        if self.camera is not None:
            # Before show(): the coaching must see the first step. It lends the monitor's camera to the
            # break and takes it back when the window closes; without a camera nothing changes.
            self.camera.attach(window)
        self.window = window
        self._track(BREAK_KEY, window)
        window.show()
        self.changed.emit()
        return True

    def close(self) -> None:
        if self.window is not None:
            self.window.close()

    # -- from the window --------------------------------------------------------------------------
    def _closed(self, window: QWidget) -> None:
        if self.window is window:
            self.window = None
            self.changed.emit()

    def _safety_answered(self, profile: SafetyProfile) -> None:
        self._submit(lambda m: m.breaks.set_safety_profile(profile) if m.breaks is not None else None)

    def _started(self, routine_id: str, use_pending: bool) -> None:
        def command(m: Monitor) -> None:
            if m.breaks is not None and not m.session.start_break(routine_id, take_pending=use_pending):
                log.info("routine %s is not offered after the safety answers; not recorded", routine_id)

        self._submit(command)

    def _finished(self, effect: str | None, completed: bool) -> None:
        self._submit(lambda m: m.session.finish_break(effect, completed))
