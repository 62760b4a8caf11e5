"""`posture run` with a display: the tray companion.

Wiring only. The monitor runs on a worker thread (`ui.worker`), its samples and events arrive through
the bridge (`ui.bridge`), and each window lives in its own module; this file builds the tray icon and
menu, turns events into notices, and turns menu choices into monitor commands.

Where a desktop has no system tray (and offscreen, in tests) the tray icon and its menu still exist, so
every action can be triggered; a small status window stands in for the icon, and notifications appear
as toasts.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCursor
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon, QWidget

from calibration.profiles import ProfileStore
from calibration.services import resolve_baseline, span_builder
from posture.analyzer import Analysis
from posture.baseline import Baseline
from posture.clock import Clock, FakeClock, SystemClock, local_datetime
from posture.coach.routines import Routine, format_duration
from posture.coach.safety import default_safety_path
from posture.companion import SourceSpec, build_monitor
from posture.errors import ConfigError, UserError
from posture.events import (
    BadFrame,
    BreakSuggested,
    Calibrated,
    CalibrationFailed,
    CalibrationFits,
    CalibrationMismatch,
    CameraBack,
    CameraLost,
    Event,
    NudgeShown,
    NudgeWithdrawn,
    RecalibrationSuggested,
)
from posture.monitor import Monitor
from posture.ports import PauseProbe
from posture.samples import REASONS
from posture.settings import Settings
from ui.break_camera import BreakCamera
from ui.break_controller import BreakController
from ui.bridge import MonitorBridge, StatusView
from ui.notify import Notifier
from ui.quit_signals import QuitOnSignals
from ui.single_instance import SingleInstance, instance_key
from ui.tray_icon import StatusWindow, icon_state, menu_status_text, state_icon, tooltip_text
from ui.worker import BuiltMonitor, Command, MonitorFactory, MonitorWorker

log = logging.getLogger(__name__)

PAUSE_CHOICES: tuple[tuple[str, float | None], ...] = (
    ("15 minutes", 15), ("30 minutes", 30), ("1 hour", 60), ("Until I resume", None))
SNOOZE_CHOICES: tuple[tuple[str, float | None], ...] = (
    ("15 minutes", 15), ("30 minutes", 30), ("1 hour", 60), ("Until tomorrow", None))
# Settings a running monitor cannot take on the fly: changing them restarts the worker.
RESTART_KEYS = ("camera_index", "pose_model", "breaks_enabled", "micro_break_every_min", "neck_break_every_min")


def monitor_factory(settings: Settings, spec: SourceSpec, clock: Clock, baseline: Baseline | None,
                    db: Path | None = None, history: bool = True,
                    calibrate_span: tuple[float, float] | None = None,
                    environment: PauseProbe | None = None) -> MonitorFactory:
    """Build everything on the worker thread: MediaPipe graphs and SQLite both care which thread they run on."""

    def build() -> BuiltMonitor:
        writer = None
        closers: list[Callable[[], None]] = []
        if history:
            from posture.store import open_writer

            writer = open_writer(db, clock=clock, on_warning=lambda msg: log.warning("%s", msg))
            if settings.retention_days:
                writer.prune(settings.retention_days)
            closers.append(writer.close)
        try:
            monitor = build_monitor(settings, spec, clock, baseline, writer, calibrate_span=calibrate_span,
                                    environment=environment,
                                    build_baseline=span_builder(calibrate_span) if calibrate_span else None)
        except BaseException:
            for close in closers:
                close()
            raise
        closers.insert(0, monitor.finder.close)
        return BuiltMonitor(monitor, closers)

    return build


def apply_live_settings(monitor: Monitor, settings: Settings) -> None:
    """Settings a running monitor can take without a restart (runs on the monitor thread)."""
    monitor.apply_settings(settings)


class CompanionApp(QObject):
    # The baseline the monitor built itself (--calibrate-from), sent from the monitor thread.
    _span_baseline_ready = Signal(object)

    def __init__(self, settings: Settings, make_factory: Callable[[Settings], MonitorFactory], clock: Clock,
                 realtime: bool, store: ProfileStore | None = None, baseline: Baseline | None = None,
                 profile_name: str | None = None, tray_available: bool | None = None,
                 max_seconds: float | None = None, quit_when_done: bool = False,
                 ui_clock: Clock | None = None, settings_path: Path | None = None,
                 safety_path: Path | None = None, pace_s: float = 0.0, db: Path | None = None,
                 break_camera: BreakCamera | None = None) -> None:
        super().__init__()
        self.settings = settings
        self._make_factory = make_factory
        self.clock = clock
        self.realtime = realtime
        self.max_seconds = max_seconds
        self.pace_s = pace_s
        self.quit_when_done = quit_when_done
        self.ui_clock: Clock = ui_clock or SystemClock()  # breaks and the wizard run in the person's time
        self.store = store or ProfileStore()
        self.baseline = baseline
        self.profile_name = profile_name
        self.settings_path = settings_path
        self.safety_path = safety_path or default_safety_path()
        self.db = db
        self.tray_available = (QSystemTrayIcon.isSystemTrayAvailable() if tray_available is None
                               else tray_available)
        self.bridge = MonitorBridge(self)
        self.worker = self._new_worker(settings)
        self.status: StatusView | None = None
        self.icon_key = "away"
        self.finished = False
        self.finish_message: str | None = None
        self._camera_note = False
        self._mismatch_note = False
        self._frame_users: set[str] = set()
        self.windows: dict[str, QWidget] = {}
        self._shut_down = False
        self.screenshot: Path | None = None
        self.calibrate_span: tuple[float, float] | None = None  # --calibrate-from: the monitor builds one
        self.screenshot_error: str | None = None

        self.tray = QSystemTrayIcon(state_icon("away"), self)
        self.tray.setToolTip("Posture Companion\nStarting…")
        self.notifier = Notifier(self.tray, settings, self.tray_available, self)
        self.breaks = BreakController(self.worker_submit, self.notifier, self.ui_clock, self.safety_path,
                                      lambda: self.worker.monitor,
                                      self._pending_routine,
                                      self._track, self)
        self.breaks.changed.connect(self._break_changed)
        self.breaks.camera = break_camera  # camera coaching in tray breaks (ui/break_camera.py)
        self.actions: dict[str, QAction] = {}
        self.menu = self._build_menu()
        self.tray.setContextMenu(self.menu)
        self.tray.activated.connect(self._tray_activated)
        self.status_window: StatusWindow | None = None
        if not self.tray_available:
            self.status_window = StatusWindow(self.menu)
            self.status_window.closed.connect(self.quit)

        self.span_baseline: Baseline | None = None
        self._span_baseline_ready.connect(self._on_span_baseline)
        self.menu.aboutToHide.connect(self._menu_closed)
        self.bridge.status_changed.connect(self._on_status)
        self.bridge.events_ready.connect(self._on_events)
        self.bridge.frame_ready.connect(self._on_frame)
        self.bridge.worker_finished.connect(self._on_worker_finished)

    # -- life cycle -------------------------------------------------------------------------------
    def _new_worker(self, settings: Settings) -> MonitorWorker:
        return MonitorWorker(self._make_factory(settings), self.bridge, self.clock, self.realtime,
                             self.max_seconds, self.pace_s)

    def start(self) -> None:
        if self.tray_available:
            self.tray.show()
        elif self.status_window is not None:
            self.status_window.show()
        self.worker.start()

    def shutdown(self) -> None:
        """Close windows, stop watching (the camera is released, history flushed), hide the icon."""
        if self._shut_down:
            return
        self._shut_down = True
        for window in list(self.windows.values()):
            window.close()
        self.worker.stop()
        self.notifier.close()
        self.tray.hide()
        if self.status_window is not None:
            self.status_window.close()

    def quit(self) -> None:
        self.shutdown()
        QApplication.quit()

    def restart_worker(self, settings: Settings) -> None:
        self.worker.stop()
        self.finished = False
        self.worker = self._new_worker(settings)
        if self.breaks.camera is not None:
            self.breaks.camera.monitor_restarted()  # a watched break keeps its camera (ui/break_camera.py)
        if self.baseline is not None:
            baseline = self.baseline
            self.worker.submit(lambda m: m.set_baseline(baseline))
        if self._frame_users:
            self.worker.submit(lambda m: m.set_frame_listener(self.bridge.post_frame))
        self.worker.start()

    def worker_submit(self, command: Command) -> None:
        """Run `command` on the monitor thread (whichever worker is current after a restart)."""
        self.worker.submit(command)

    # -- the menu ---------------------------------------------------------------------------------
    def _action(self, key: str, text: str, slot: Callable[[], object], menu: QMenu) -> QAction:
        action = QAction(text, menu)
        action.triggered.connect(lambda *_: slot())
        menu.addAction(action)
        self.actions[key] = action
        return action

    def _build_menu(self) -> QMenu:
        menu = QMenu()
        self.status_action = QAction("Starting…", menu)
        self.status_action.setEnabled(False)
        menu.addAction(self.status_action)
        menu.addSeparator()

        self.pause_menu = menu.addMenu("Pause watching")
        for text, minutes in PAUSE_CHOICES:
            key = f"pause_{int(minutes)}" if minutes else "pause_until_resumed"
            self._action(key, text, partial(self.pause, minutes), self.pause_menu)
        self._action("resume", "Resume watching", self.resume, menu).setVisible(False)
        snooze = menu.addMenu("Snooze nudges")
        for text, minutes in SNOOZE_CHOICES:
            key = f"snooze_{int(minutes)}" if minutes else "snooze_tomorrow"
            self._action(key, text, partial(self.snooze, minutes), snooze)
        self.break_menu = menu.addMenu("Take a break now")
        self.break_menu.aboutToShow.connect(self._rebuild_breaks)
        self._rebuild_breaks()
        menu.addSeparator()
        self._action("live_view", "Why am I flagged?", self.open_live_view, menu)
        self._action("calibrate", "Calibrate…", self.open_wizard, menu)
        self.profile_menu = menu.addMenu("Profile")
        self.profile_menu.aboutToShow.connect(self._rebuild_profiles)
        self._rebuild_profiles()
        self._action("dashboard", "Dashboard", self.open_dashboard, menu)
        self._action("settings", "Settings…", self.open_settings, menu)
        menu.addSeparator()
        self._action("quit", "Quit", self.quit, menu)
        return menu

    def _rebuild_profiles(self) -> None:
        self.profile_menu.clear()
        for key in [k for k in self.actions if k.startswith("profile:")]:
            del self.actions[key]
        group = QActionGroup(self.profile_menu)
        group.setExclusive(True)
        names = [n for n in self.store.names() if not n.endswith("(corrupt)")]
        active = self.profile_name or self.store.active_name()
        for name in names:
            action = self._action(f"profile:{name}", name, partial(self.choose_profile, name), self.profile_menu)
            action.setCheckable(True)
            action.setChecked(name == active)
            group.addAction(action)
        if not names:
            empty = self.profile_menu.addAction("No profiles yet: use Calibrate…")
            empty.setEnabled(False)
        self.profile_menu.addSeparator()
        self._action("profile_new", "New profile…", self.open_wizard, self.profile_menu)

    def _rebuild_breaks(self) -> None:
        self.break_menu.clear()
        for key in [k for k in self.actions if k.startswith("break")]:
            del self.actions[key]
        pending = self.status.break_pending if self.status else None
        self._action("break_now", f"Start: {pending.title}" if pending else "Start a short break",
                     lambda: self.start_break(None), self.break_menu)
        if pending:
            self._action("break_later", "Remind me in 5 minutes", lambda: self.answer_break("postpone"),
                         self.break_menu)
            self._action("break_skip", "Skip this one", lambda: self.answer_break("skip"), self.break_menu)
        self.break_menu.addSeparator()
        for routine in self._catalogue():
            self._action(f"break:{routine.id}", f"{routine.title} ({format_duration(routine.seconds)})",
                         partial(self.start_break, routine.id), self.break_menu)

    def _tray_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger and sys.platform != "darwin":
            self.menu.popup(QCursor.pos())

    # -- commands ---------------------------------------------------------------------------------
    def pause(self, minutes: float | None) -> None:
        self.worker.submit(lambda m: m.pause(minutes))

    def resume(self) -> None:
        self.worker.submit(lambda m: m.resume())

    def snooze(self, minutes: float | None) -> None:
        self.worker.submit(lambda m: m.snooze(minutes))

    def choose_profile(self, name: str) -> bool:
        try:
            profile = self.store.load(name)
            self.store.set_active(name)
        except ConfigError as exc:
            self.notifier.notify("info", "That profile can't be used", str(exc), on_click=self.open_wizard)
            return False
        self.use_baseline(name, profile.baseline)
        return True

    def use_baseline(self, name: str, baseline: Baseline) -> None:
        self.baseline, self.profile_name = baseline, name
        self._mismatch_note = False
        self.worker.submit(lambda m: m.set_baseline(baseline))
        self._rebuild_profiles()
        live = self.windows.get("live_view")
        if live is not None:
            self._show_baseline(live)

    def _show_baseline(self, live: QWidget) -> None:
        if self.baseline is None and self.span_baseline is not None:
            live.set_baseline(self.span_baseline, source="built from the start of this recording")  # type: ignore[attr-defined]
        elif self.baseline is None and self.calibrate_span is not None:
            a, b = self.calibrate_span
            live.set_pending(f"Learning your upright posture from seconds {a:g}–{b:g} of the "  # type: ignore[attr-defined]
                             "recording; I start comparing once that part has played.")
        else:
            live.set_baseline(self.baseline, self.profile_name)  # type: ignore[attr-defined]

    def _on_span_baseline(self, baseline: object) -> None:
        if isinstance(baseline, Baseline):
            self.span_baseline = baseline
            live = self.windows.get("live_view")
            if live is not None:
                self._show_baseline(live)

    # -- breaks (the flow itself lives in ui.break_controller) -------------------------------------
    def answer_break(self, answer: str) -> None:
        self.breaks.answer(answer)

    def start_break(self, routine_id: str | None) -> bool:
        return self.breaks.start(routine_id)

    def _catalogue(self) -> tuple[Routine, ...]:
        return self.breaks.catalogue()

    def _pending_routine(self) -> str | None:
        pending = self.status.break_pending if self.status else None
        return pending.routine_id if pending is not None else None

    def _break_changed(self) -> None:
        if self.breaks.active:
            self.notifier.quiet_down()  # a nudge showing when the break began has had its answer

    # -- windows ----------------------------------------------------------------------------------
    def _track(self, key: str, window: QWidget) -> None:
        self.windows[key] = window
        # LiveView, CalibrationWizard and the break window say `closed`; QDialog says `finished`.
        closed = getattr(window, "closed", None) or getattr(window, "finished", None)
        if closed is not None:
            closed.connect(lambda *_: self._window_closed(key, window))

    def _window_closed(self, key: str, window: QWidget) -> None:
        if key in ("live_view", "wizard"):
            self._want_frames(key, False)
        if self.windows.get(key) is window:
            del self.windows[key]
            # Delete it once the event loop is back (deleting a window inside its own closeEvent crashes).
            # Dropping the Python reference is not enough: the signal connections made here hold the
            # window, so every closed live view, wizard or break window used to stay in memory.
            window.deleteLater()

    def _want_frames(self, who: str, on: bool) -> None:
        """Frames leave the monitor only while the live view or the wizard is open (privacy)."""
        if on:
            self._frame_users.add(who)
        else:
            self._frame_users.discard(who)
        listener = self.bridge.post_frame if self._frame_users else None
        self.worker.submit(lambda m: m.set_frame_listener(listener))

    def open_live_view(self) -> QWidget:
        if "live_view" in self.windows:
            window = self.windows["live_view"]
        else:
            from ui.live_view import LiveView

            window = LiveView()
            self._show_baseline(window)
            self._track("live_view", window)
            self._want_frames("live_view", True)
        window.show()
        window.raise_()
        return window

    def open_wizard(self) -> QWidget:
        if "wizard" in self.windows:
            window = self.windows["wizard"]
        else:
            from ui.wizard import CalibrationWizard

            window = CalibrationWizard(self.store, clock=self.ui_clock)
            window.saved.connect(self.use_baseline)
            self._track("wizard", window)
            self._want_frames("wizard", True)
        window.show()
        window.raise_()
        return window

    def open_settings(self) -> QWidget:
        if "settings" in self.windows:
            window = self.windows["settings"]
        else:
            from ui.settings_dialog import SettingsDialog

            window = SettingsDialog(self.settings, self.settings_path)
            window.saved.connect(self.apply_settings)
            self._track("settings", window)
        window.show()
        window.raise_()
        return window

    def open_dashboard(self) -> QWidget | None:
        if "dashboard" in self.windows:
            window = self.windows["dashboard"]
            window.show()
            window.raise_()
            return window
        # Lazily: pyqtgraph is only loaded when someone asks for their history.
        from posture.store import HistoryUnavailable, resolve_db_path
        from ui.dashboard import Dashboard

        try:
            window = Dashboard(resolve_db_path(self.db))
        except (HistoryUnavailable, OSError, sqlite3.Error) as exc:
            self.notifier.notify("info", "The history can't be opened", str(exc))
            return None
        # The dashboard closes its database on close; let it go then, and open a fresh one next time.
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        window.destroyed.connect(lambda *_: self.windows.pop("dashboard", None))
        self.windows["dashboard"] = window
        window.show()
        return window

    def apply_settings(self, settings: Settings) -> None:
        old, self.settings = self.settings, settings
        self.notifier.set_settings(settings)
        if any(getattr(old, k) != getattr(settings, k) for k in RESTART_KEYS):
            self.restart_worker(settings)
        else:
            self.worker.submit(lambda m: apply_live_settings(m, settings))

    # -- what the monitor says --------------------------------------------------------------------
    def _on_frame(self, image: np.ndarray, analysis: Analysis) -> None:
        live = self.windows.get("live_view")
        if live is not None:
            live.show_frame(image, analysis)  # type: ignore[attr-defined]
        wizard = self.windows.get("wizard")
        if wizard is not None:
            wizard.feed(image, analysis)  # type: ignore[attr-defined]

    def _on_status(self, status: StatusView) -> None:
        self.status = status
        key = icon_state(status)
        if key != self.icon_key:
            self.icon_key = key
            self.tray.setIcon(state_icon(key))
        # The pause's end comes with the snapshot: the engine owns it, the tray only shows it.
        until = (local_datetime(status.pause_until_wall).strftime("%H:%M")
                 if status.pause_until_wall is not None and status.paused_reason == "paused" else None)
        tip = tooltip_text(status, until)
        if self.finished and self.finish_message:
            tip += f"\n{self.finish_message}"
        if tip != self.tray.toolTip():
            self.tray.setToolTip(tip)
            if self.status_window is not None:
                self.status_window.show_state(key, tip)
        self._menu_status = menu_status_text(status)
        if not self.menu.isVisible():
            # An open menu is never re-laid out under the pointer: it would grow, shrink and creep off
            # the screen edge every second. It catches up when it closes.
            self._menu_closed()
        paused = status.paused_reason == "paused"
        self.actions["resume"].setVisible(paused)
        self.pause_menu.setEnabled(not paused)

    def _menu_closed(self) -> None:
        text = getattr(self, "_menu_status", None)
        if text is not None and text != self.status_action.text():
            self.status_action.setText(text)

    def _on_events(self, events: list[Event]) -> None:
        for event in events:
            self.handle_event(event)

    def handle_event(self, e: Event) -> None:
        if isinstance(e, NudgeShown | BreakSuggested) and self.breaks.active:
            # Someone doing their neck exercises is not slouching at the screen: no notice, no glow.
            log.info("%s held back during a guided break", e.kind)
            return
        match e:
            case NudgeShown(reasons=reasons, text=text):
                title = REASONS.get(reasons[0], "Posture check").capitalize() if reasons else "Posture check"
                self.notifier.notify("nudge", title, text, on_click=self.open_live_view,
                                     hint="Click to see what I noticed.", sound=True, glow="poor",
                                     action="See what I noticed")
            case NudgeWithdrawn():  # also sent before a recovery
                if self.notifier.toast.isVisible() and self.notifier.history and \
                        self.notifier.history[-1].kind == "nudge":
                    self.notifier.toast.hide()  # they've already sorted themselves out
            case BreakSuggested(routine=routine, text=text):
                self.notifier.notify("break", "Time for a short break", text,
                                     on_click=lambda: self.start_break(routine),
                                     hint="Click to start. “Take a break now” in the menu can postpone it.",
                                     sound=True, glow="break", action="Start the break")
            case CameraLost():
                if not self._camera_note:  # one note per fault, then quiet retries
                    self._camera_note = True
                    self.notifier.notify("info", "Camera unavailable",
                                         "Another app may be using the camera, or it was unplugged. Watching is "
                                         "paused, and I'll keep checking quietly.")
            case CameraBack():
                self._camera_note = False
            case CalibrationMismatch():
                if not self._mismatch_note:
                    self._mismatch_note = True
                    self.notifier.notify("info", "Your setup seems to have changed",
                                         "The camera or your seat moved, so I've stopped judging. Recalibrate, or "
                                         "choose the profile for this setup.", on_click=self.open_wizard)
            case CalibrationFits():
                self._mismatch_note = False  # the setup fits again: the next change is news again
            case RecalibrationSuggested(changed=changed):
                # Said once per sustained change by the engine (posture/judgeable.py); click to recalibrate.
                self.notifier.notify("info", f"The {changed} has changed since you calibrated",
                                     "I'm still judging, but a new calibration would be fairer.",
                                     on_click=self.open_wizard)
            case Calibrated(source="span"):
                ready = self._span_baseline_ready
                self.worker.submit(lambda m: ready.emit(m.session.baseline))
            case CalibrationFailed(error=error):
                self.notifier.notify("info", "Calibration didn't work", error, on_click=self.open_wizard)
            case BadFrame(error=error):
                self.notifier.notify("info", "The camera sends pictures I can't read", error)
            case _:
                pass

    def _on_worker_finished(self, message: str) -> None:
        self.finished = True
        self.finish_message = message or None
        if message:
            self.notifier.notify("info", "Watching stopped", message)
            say(f"Watching stopped: {message}")
        if self.status is not None:
            self._on_status(replace(self.status, ended=True))
            if self.status.ended and not message:
                say("The recording has ended." + ("" if self.quit_when_done else
                                                  " Quit from the tray menu, or press Ctrl-C here."))
        if self.screenshot is not None:
            self._save_screenshot(self.screenshot)
        if self.quit_when_done:
            QTimer.singleShot(0, self.quit)

    def _save_screenshot(self, png: Path) -> None:
        """The dashboard of what was just recorded, saved without showing a window (`make demo`)."""
        from ui.dashboard_cmd import save_dashboard_screenshot

        try:
            save_dashboard_screenshot(self.db, png)
        except (UserError, OSError, sqlite3.Error) as exc:
            self.screenshot_error = str(exc)
            return
        say(f"dashboard screenshot saved to {png}")

    def quit_on_signal(self, signum: int) -> None:
        say("Stopping: the session is closed and the history saved.")
        self.quit()

    def already_running(self) -> None:
        self.notifier.notify("info", "Already running", "Posture Companion is already watching: this is its icon.")


def build_companion(args: argparse.Namespace, settings: Settings, tray_available: bool | None = None,
                    store: ProfileStore | None = None) -> CompanionApp:
    """From the `run` arguments to a ready (not yet started) companion."""
    from posture.environment import Environment
    from posture.store import claim_for_writing
    from posture.store.replays import run_history_path

    spec = SourceSpec.parse(args.source, settings, loop=getattr(args, "loop", False),
                            fps_in=getattr(args, "fps_in", 1.0))
    realtime = spec.camera is not None or bool(getattr(args, "realtime", False))
    if realtime:
        clock: Clock = SystemClock()
    else:
        # A recording without --realtime runs as fast as it can on its own timeline, as in headless mode.
        start = getattr(args, "start_time", None)
        clock = FakeClock(wall_start=start if start is not None else time.time(), monotonic_start=0.0)
    store = store or ProfileStore()
    try:
        baseline = resolve_baseline(getattr(args, "profile", None), getattr(args, "calibrate_from", None), store)
    except ConfigError as exc:
        raise UserError(str(exc)) from exc
    profile_name = getattr(args, "profile", None) or (store.active_name() if baseline is not None else None)
    span = getattr(args, "calibrate_from", None)
    db = getattr(args, "db", None)
    target = None if getattr(args, "no_history", False) else run_history_path(db, replay=spec.camera is None)
    history = target is not None
    if target is not None:
        claim_for_writing(target)  # one companion per (readable) history: else stop here, before the camera
    # Screen-lock and running-app checks matter for a real camera; a replay is not paused by them.
    environment = Environment() if spec.camera is not None else None

    def make_factory(s: Settings) -> MonitorFactory:
        live_spec = replace(spec, camera=s.camera_index) if spec.camera is not None and args.source is None else spec
        return monitor_factory(s, live_spec, clock, baseline, db, history, span, environment)

    duration = getattr(args, "duration", None)
    app = CompanionApp(settings, make_factory, clock, realtime, store=store, baseline=baseline,
                       profile_name=profile_name, tray_available=tray_available, max_seconds=duration,
                       quit_when_done=duration is not None, db=db)
    app.calibrate_span = span if baseline is None else None
    if spec.camera is not None:
        app.breaks.camera = tray_break_camera(app, None if args.source is None else spec.camera, target)
    return app


def tray_break_camera(app: CompanionApp, index: int | None, db: Path | None) -> BreakCamera:
    """Camera coaching for the tray's guided breaks: the monitor's camera (index None: the one in the
    settings), lent for the break at the watching rate, while the monitor watches and is not paused."""
    from posture.exercise.watch import WATCH_FPS
    from posture.sources import WebcamSource

    def camera_on() -> bool:
        status = app.status
        return app.worker.running and status is not None and status.paused_reason is None and not status.ended

    def open_camera() -> WebcamSource:
        # Twice the analysis rate, so the newest frame is never more than half a watch period old.
        return WebcamSource(app.settings.camera_index if index is None else index, requested_fps=WATCH_FPS * 2)

    return BreakCamera(app.worker_submit, camera_on, open_camera, db, parent=app,
                       wanted=lambda: app.settings.watch_breaks)


def say(text: str) -> None:
    """One line on the terminal the app was started from (there may be none: then nothing)."""
    with contextlib.suppress(OSError, ValueError):
        print(text, flush=True)


def run_app(args: argparse.Namespace, settings: Settings) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Posture Companion")
    app.setQuitOnLastWindowClosed(False)  # closing a window must not end the tray app
    guard = single_instance_guard(args, settings)
    if guard is not None and not guard.acquire():
        pid = guard.owner_pid()
        guard.tell_owner()
        # The same words and status as the history lock gives a second headless companion.
        print("error: Posture Companion is already running" + (f" (pid {pid})" if pid else "")
              + "; use its tray icon, or quit it first", file=sys.stderr)
        return 2
    try:
        companion = build_companion(args, settings)
    except BaseException:
        if guard is not None:
            guard.release()
        raise
    if guard is not None:
        guard.activated.connect(companion.already_running)
    screenshot: Path | None = getattr(args, "screenshot", None)
    if screenshot is not None:
        # `make demo` on a desktop: play the recording, save the dashboard, end (it used to wait forever).
        companion.quit_when_done = True
        companion.screenshot = screenshot
    signals = QuitOnSignals(companion.quit_on_signal)
    signals.install()
    companion.start()
    say("Posture Companion is running: its icon is in the system tray"
        + ("" if companion.tray_available else " (no tray here, so a small status window stands in)")
        + ". Quit from its menu, or press Ctrl-C here.")
    if companion.baseline is None and not getattr(args, "calibrate_from", None):
        def welcome() -> None:
            if companion.worker.running:
                companion.notifier.notify(
                    "info", "Welcome to Posture Companion",
                    "Let's teach me your upright posture first: it takes about 15 seconds.",
                    on_click=companion.open_wizard, hint="Click to calibrate.")

        QTimer.singleShot(1500, companion, welcome)
    try:
        rc = int(app.exec())
    finally:
        companion.shutdown()
        signals.uninstall()
        if guard is not None:
            guard.release()
    if companion.screenshot_error:
        print(f"error: {companion.screenshot_error}", file=sys.stderr)
        return 2
    # Ctrl-C, SIGTERM and SIGHUP are the user's way to quit, not a failure: the same exit 0 as Quit, as
    # the headless companion does (the session was closed and the history flushed).
    return rc


def single_instance_guard(args: argparse.Namespace, settings: Settings) -> SingleInstance | None:
    spec_camera: int | None = None
    source = getattr(args, "source", None)
    if source is None:
        spec_camera = settings.camera_index
    elif str(source).isdigit():
        spec_camera = int(source)
    history = not getattr(args, "no_history", False)
    db = getattr(args, "db", None)
    if history and db is None:
        from posture.store import resolve_db_path

        db = resolve_db_path(None)
    key = instance_key(spec_camera, Path(db) if db is not None else None, history)
    return SingleInstance(key) if key is not None else None
