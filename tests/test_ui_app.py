"""The tray app: state reaches the icon, nudges become notices, pause frees the camera, the menu works.

Qt runs offscreen, where there is no system tray: the tray icon and its menu still exist (that is the
design), a status window stands in for the icon and notices appear as toasts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from calibration.capture import build_baseline
from calibration.profiles import ProfileStore
from posture.baseline import Baseline, MetricStat
from posture.clock import FakeClock
from posture.companion import SourceSpec
from posture.events import BreakSuggested, CameraBack, CameraLost, Event, NudgeShown
from posture.monitor import Monitor
from posture.samples import PostureSample
from posture.settings import Settings, load_settings
from ui.app import CompanionApp, build_companion
from ui.bridge import StatusView
from ui.tray_icon import ICON_STATES, draw_state_pixmap, icon_state, state_icon, tooltip_text
from ui.worker import BuiltMonitor, MonitorFactory

from conftest import seated_pose
from ui_helpers import (  # noqa: F401  (no_message_boxes is an autouse fixture)
    CountingSource,
    FakeFinder,
    StillSource,
    analyses_from,
    no_message_boxes,
    run_args,
    single_face_clip,
    slouch_sequence,
)

QUIET = replace(Settings(), breaks_enabled=False)


@pytest.fixture
def apps() -> Iterator[list[CompanionApp]]:
    """Every companion a test makes is shut down afterwards, even when the test fails."""
    made: list[CompanionApp] = []
    yield made
    for app in made:
        app.shutdown()


def still_app(apps: list[CompanionApp], source: Any = None, settings: Settings = QUIET,
              **kwargs: Any) -> tuple[CompanionApp, list[Monitor]]:
    """A companion on a still 'camera' and a finder that sees nobody: the loop without MediaPipe."""
    monitors: list[Monitor] = []

    def make_factory(s: Settings) -> MonitorFactory:
        def build() -> BuiltMonitor:
            src = source or StillSource()
            m = Monitor(lambda: src, FakeFinder(), FakeClock(monotonic_start=0.0), s,  # type: ignore[arg-type]
                        baseline=kwargs.pop("baseline", None))
            monitors.append(m)
            return BuiltMonitor(m, [])

        return build

    app = CompanionApp(settings, make_factory, FakeClock(monotonic_start=0.0), realtime=False,
                       tray_available=kwargs.pop("tray_available", False), pace_s=0.002, **kwargs)
    apps.append(app)
    return app, monitors


# --- end to end on real footage --------------------------------------------------------------------

def test_real_footage_reaches_the_tray_and_a_nudge_becomes_a_notice(qtbot: Any, tmp_path: Path,
                                                                    apps: list[CompanionApp]) -> None:
    folder, calib_end = slouch_sequence(tmp_path)
    settings = replace(QUIET, onset_delay_s=0.0, sound=True, glow=True)
    args = run_args(source=str(folder), calibrate_from=(0.0, calib_end), duration=48.0)
    app = build_companion(args, settings, tray_available=False)
    app.quit_when_done = False  # the test's event loop is not the app's to end
    apps.append(app)
    keys: list[str] = []
    tips: list[str] = []

    def seen(status: StatusView) -> None:
        keys.append(icon_state(status))
        tips.append(app.tray.toolTip())

    # What the worker posted, in order (every status's icon and tooltip, every event's kind). The bridge
    # hands the GUI only the latest status: on a loaded machine the accelerated replay can run through a
    # whole poor stretch between two deliveries, so the states are checked where they are produced and the
    # GUI is checked for showing what it was last given.
    posted: list[tuple[str, str]] = []
    post_status, post_event = app.bridge.post_status, app.bridge.post_event

    def status_posted(status: StatusView) -> None:
        posted.append((icon_state(status), tooltip_text(status)))
        post_status(status)  # type: ignore[arg-type]

    def event_posted(event: Event) -> None:
        posted.append(("event", event.kind))
        post_event(event)

    app.bridge.post_status = status_posted  # type: ignore[method-assign,assignment]
    app.bridge.post_event = event_posted  # type: ignore[method-assign]
    # What the user saw when the nudge arrived, taken right after the app handled it: the clip plays on, so
    # by the time a loaded test machine polls, the user may have sat back up and the icon turned good.
    at_nudge: list[tuple[bool, int, bool, str, list[str]]] = []

    def delivered(events: list[object]) -> None:
        if not at_nudge and any(n.kind == "nudge" for n in app.notifier.history):
            at_nudge.append((app.notifier.toast.isVisible(), app.notifier.sounds,
                             app.notifier.glow.isVisible(), app.icon_key, list(keys)))

    app.bridge.status_changed.connect(seen)
    app.bridge.events_ready.connect(delivered)  # after the app's own slot, so it sees the app's answer
    app.start()
    qtbot.waitUntil(lambda: bool(at_nudge), timeout=60_000)
    nudge = next(n for n in app.notifier.history if n.kind == "nudge")
    assert nudge.via == "toast" and nudge.title == "Head dropped" and nudge.text
    toast_shown, sounds, glow_shown, icon_then, keys_so_far = at_nudge[0]
    assert toast_shown and sounds >= 1 and glow_shown
    assert icon_then == keys_so_far[-1], "the icon shows the latest state the GUI was given"
    # Clicking the nudge answers "why?": the live view opens.
    app.notifier.toast.clicked.emit()
    assert "live_view" in app.windows
    qtbot.waitUntil(lambda: app.finished, timeout=30_000)

    # With no onset delay the nudge comes in the sample where the score first falls below the poor line,
    # while the state is still 'good (slipping)' for its dwell; the next sample's state is poor. (The
    # worker's order is the clip's timeline: the same on a quiet machine and a loaded one. It is read once
    # the run has finished: when the GUI handles the nudge the worker may not have posted the next sample.)
    i = posted.index(("event", "nudge"))
    assert "poor" in [key for key, _ in posted[i + 1:i + 3]], "the state is poor by the sample after the nudge"

    # The state travelled from the clip, through the worker and the bridge, to the icon and tooltip.
    assert keys[0] == "uncalibrated", "before the calibration span ends nothing is judged"
    states = {key for key, _ in posted}
    assert {"good", "poor"} <= states
    assert set(keys) <= states and len(set(keys) - {"uncalibrated"}) >= 1, "judged states reach the icon"
    assert any("score" in t for t in tips)
    assert any("Head dropped" in tip for key, tip in posted if key == "poor"), \
        "the tooltip names the reason in plain words"
    assert app.tray.icon().cacheKey() == state_icon(app.icon_key).cacheKey()
    assert app.status_window is not None and app.status_window.text == app.tray.toolTip()
    assert "The recording has ended" in app.tray.toolTip()

def test_pause_releases_the_camera_and_resume_takes_it_back(qtbot: Any, apps: list[CompanionApp]) -> None:
    clip = single_face_clip()
    sources: list[CountingSource] = []

    def make_factory(s: Settings) -> MonitorFactory:
        def build() -> BuiltMonitor:
            from posture.person import default_finder

            clock = FakeClock(monotonic_start=0.0)
            source = CountingSource(SourceSpec.parse(str(clip), s, loop=True).factory(clock)())
            sources.append(source)
            m = Monitor(lambda: source, default_finder(), clock, s)
            return BuiltMonitor(m, [m.finder.close])

        return build

    app = CompanionApp(QUIET, make_factory, FakeClock(), realtime=False, tray_available=False, pace_s=0.002)
    apps.append(app)
    app.start()
    qtbot.waitUntil(lambda: app.status is not None and app.status.camera_open and app.status.sample is not None,
                    timeout=20_000)
    app.actions["pause_until_resumed"].trigger()
    qtbot.waitUntil(lambda: app.status is not None and app.status.paused_reason == "paused", timeout=10_000)
    monitor = app.worker.monitor
    assert monitor is not None and monitor.camera_open is False
    assert app.status is not None and app.status.camera_open is False
    assert not sources[0].is_open and sources[0].closes >= 1
    assert app.icon_key == "paused" and "camera is off" in app.tray.toolTip()
    assert app.actions["resume"].isVisible()

    app.actions["resume"].trigger()
    qtbot.waitUntil(lambda: app.status is not None and app.status.camera_open, timeout=10_000)
    assert sources[0].opens >= 2

    app.actions["quit"].trigger()
    assert not app.worker.running and not sources[0].is_open, "quitting releases the camera"


def test_a_busy_camera_gives_one_quiet_note_not_a_storm(qtbot: Any, apps: list[CompanionApp]) -> None:
    busy = StillSource(busy=True)
    app, _ = still_app(apps, source=busy)
    app.start()
    qtbot.waitUntil(lambda: busy.attempts >= 5, timeout=10_000)  # retried quietly on the fast clock
    qtbot.waitUntil(lambda: app.icon_key == "paused", timeout=5_000)
    notes = [n for n in app.notifier.history if n.title == "Camera unavailable"]
    assert len(notes) == 1
    assert "another app" in app.tray.toolTip()
    # Even if the core reported the fault again and again, the tray says it once per fault.
    for _ in range(5):
        app.handle_event(CameraLost(0.0, 0.0, "busy", retrying=True))
    assert len([n for n in app.notifier.history if n.title == "Camera unavailable"]) == 1
    app.handle_event(CameraBack(0.0, 0.0))
    app.handle_event(CameraLost(0.0, 0.0, "unplugged", retrying=True))
    assert len([n for n in app.notifier.history if n.title == "Camera unavailable"]) == 2


# --- through the bridge ----------------------------------------------------------------------------

def real_break_suggestion() -> BreakSuggested:
    """Sit (well) in front of the real break scheduler until it suggests a break; return that event."""
    from posture.coach.breaks import BreakScheduler, BreakSettings
    from posture.coach.routines import load_catalogue

    clock = FakeClock(monotonic_start=0.0)
    scheduler = BreakScheduler(clock, BreakSettings(), load_catalogue(), None)
    for _ in range(40 * 6):  # 40 minutes, a sample every 10 s
        for event in scheduler.observe(PostureSample(clock.monotonic(), clock.wall(), True, state="good")):
            if isinstance(event, BreakSuggested):
                return event
        clock.advance(10)
    raise AssertionError("the scheduler suggested no break in 40 sitting minutes")


def test_a_second_setup_change_warns_again(qtbot: Any, apps: list[CompanionApp]) -> None:
    """The real analyzer says the setup changed, fits again, changes again: the tray says so twice."""
    from posture.analyzer import Analyzer
    from posture.baseline import baseline_from_metrics
    from posture.metrics import compute_metrics
    from posture.person import Detection, Validity

    app, _ = still_app(apps)
    analyzer = Analyzer(FakeFinder(), baseline=None)  # type: ignore[arg-type]
    analyzer.set_baseline(baseline_from_metrics([compute_metrics(seated_pose())] * 10))  # type: ignore[arg-type]
    ok = Validity(True, "")
    t = 0.0
    moved, home = seated_pose(dy=0.35), seated_pose()  # the camera tipped: shoulders 0.35 lower
    for pose, seconds in ((moved, 30), (home, 10), (moved, 30)):
        for _ in range(int(seconds)):
            for event in analyzer.judge_detection(Detection(pose, ok, 1), t, 1.7e9 + t).events:
                app.handle_event(event)
            t += 1.0
    notes = [n for n in app.notifier.history if n.title == "Your setup seems to have changed"]
    assert len(notes) == 2

def post_from_thread(fn: Callable[[], None]) -> None:
    t = threading.Thread(target=fn)
    t.start()
    t.join()


def test_events_from_the_monitor_thread_become_tray_messages(qtbot: Any, apps: list[CompanionApp],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    app, _ = still_app(apps, settings=replace(QUIET, sound=True, glow=False), tray_available=True)
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(app.tray, "showMessage", lambda title, text, *a: shown.append((title, text)))
    monkeypatch.setattr("PySide6.QtWidgets.QSystemTrayIcon.supportsMessages", staticmethod(lambda: True))
    nudge = NudgeShown(10.0, 1.7e9, level=1, reasons=("head_forward",), text="Draw your chin back.")
    post_from_thread(lambda: app.bridge.post_event(nudge))
    qtbot.waitUntil(lambda: bool(shown), timeout=5_000)
    assert shown[0][0] == "Head forward" and "Draw your chin back." in shown[0][1]
    assert app.notifier.history[-1].via == "tray" and app.notifier.sounds == 1
    assert not app.notifier.glow.isVisible(), "the glow is off in these settings"
    app.tray.messageClicked.emit()
    assert "live_view" in app.windows

    # Made by the real scheduler, not by hand: its sentence must reach the notification.
    suggestion = real_break_suggestion()
    post_from_thread(lambda: app.bridge.post_event(suggestion))
    qtbot.waitUntil(lambda: len(shown) == 2, timeout=5_000)
    assert shown[1][0] == "Time for a short break"
    assert suggestion.text and suggestion.text in shown[1][1] and "A short break?" not in shown[1][1]
    app.tray.messageClicked.emit()
    assert "break" in app.windows, "clicking a break suggestion starts the break"


def test_latest_only_bridge_never_builds_a_backlog(qtbot: Any) -> None:
    from ui.bridge import MonitorBridge

    bridge = MonitorBridge()
    got: list[PostureSample] = []
    events: list[Event] = []
    bridge.sample_ready.connect(got.append)
    bridge.events_ready.connect(events.extend)

    def flood() -> None:
        for i in range(500):
            bridge.post_sample(PostureSample(float(i), 0.0, True))
            if i % 100 == 0:
                bridge.post_event(NudgeShown(float(i), 0.0, level=1, reasons=(), text=""))

    post_from_thread(flood)
    qtbot.waitUntil(lambda: bool(got) and got[-1].t == 499.0, timeout=5_000)
    assert len(got) < 500 and bridge.samples_dropped == 500 - len(got)
    assert [e.t for e in events] == [0.0, 100.0, 200.0, 300.0, 400.0], "events are never dropped"


# --- the menu --------------------------------------------------------------------------------------

def tiny_baseline(head: float) -> Baseline:
    return Baseline("front", {"head_height": MetricStat(head, 0.01, 10)}, (0.5, 0.7, 0.3))


def test_menu_profiles_snooze_and_quit(qtbot: Any, apps: list[CompanionApp]) -> None:
    store = ProfileStore()
    store.save("Desk", tiny_baseline(0.6))
    store.save("Laptop", tiny_baseline(0.5))
    store.set_active("Desk")
    app, monitors = still_app(apps, store=store)
    assert app.actions["profile:Desk"].isChecked() and not app.actions["profile:Laptop"].isChecked()
    app.start()
    app.actions["profile:Laptop"].trigger()
    assert store.active_name() == "Laptop" and app.actions["profile:Laptop"].isChecked()
    qtbot.waitUntil(lambda: bool(monitors) and monitors[0].analyzer.baseline is not None, timeout=5_000)
    assert monitors[0].analyzer.baseline.stats["head_height"].median == 0.5  # type: ignore[union-attr]

    app.actions["snooze_30"].trigger()
    qtbot.waitUntil(lambda: app.status is not None and app.status.snoozed, timeout=5_000)
    assert "Nudges snoozed" in app.tray.toolTip()

    app.actions["pause_15"].trigger()
    qtbot.waitUntil(lambda: app.icon_key == "paused", timeout=5_000)
    assert "Paused until" in app.tray.toolTip()

    for key in ("live_view", "calibrate", "settings", "break_now", "dashboard", "snooze_tomorrow", "pause_60"):
        assert key in app.actions, key
    app.actions["quit"].trigger()
    assert not app.worker.running


def test_without_a_tray_a_status_window_stands_in(qtbot: Any, apps: list[CompanionApp]) -> None:
    app, _ = still_app(apps)
    app.start()
    assert app.status_window is not None and app.status_window.isVisible()
    qtbot.waitUntil(lambda: app.status is not None and app.status.sample is not None, timeout=5_000)
    assert app.icon_key == "uncalibrated" or app.icon_key == "away"
    assert "Not calibrated yet" in app.status_window.text
    app.status_window.close()  # the only handle on such a desktop: closing it quits, and frees the camera
    assert not app.worker.running


def test_dashboard_opens_from_the_menu(qtbot: Any, apps: list[CompanionApp], tmp_path: Path) -> None:
    app, _ = still_app(apps, db=tmp_path / "history.db")
    app.actions["dashboard"].trigger()
    window = app.windows.get("dashboard")
    # pyqtgraph is a hard dependency: a dashboard that fails to open is a failure, not a skipped branch.
    assert window is not None and window.isVisible()
    app.actions["dashboard"].trigger()
    assert app.windows["dashboard"] is window, "a second click shows the same window"
    window.close()
    qtbot.waitUntil(lambda: "dashboard" not in app.windows, timeout=5_000)


# --- settings ---------------------------------------------------------------------------------------

def test_settings_validate_inline_save_and_apply(qtbot: Any, apps: list[CompanionApp], tmp_path: Path) -> None:
    from ui.settings_dialog import SettingsDialog

    calls: list[tuple[bool, Path | None]] = []
    path = tmp_path / "settings.json"
    dialog = SettingsDialog(Settings(), path, autostart_dir=tmp_path / "autostart",
                            set_autostart=lambda on, folder: calls.append((on, folder)))
    qtbot.addWidget(dialog)
    dialog.quiet.setText("after lunch")
    assert not dialog.save()
    assert "Quiet hours" in dialog.errors.text() and not path.exists()

    dialog.quiet.setText("12:30-13:30")
    dialog.sensitivity.setCurrentIndex(dialog.sensitivity.findData("high"))
    dialog.sampling.setCurrentIndex(dialog.sampling.findData("battery"))
    assert "Least power" in dialog.sampling_cost.text()
    dialog.autostart.setChecked(True)
    with qtbot.waitSignal(dialog.saved) as got:
        assert dialog.save()
    saved = load_settings(path)
    assert not saved.problems and saved.settings.quiet_hours == "12:30-13:30"
    assert saved.settings == got.args[0]
    assert calls == [(True, tmp_path / "autostart")]

    # The running app takes sensitivity on the fly and restarts the worker for a new camera.
    app, monitors = still_app(apps)
    app.start()
    qtbot.waitUntil(lambda: bool(monitors), timeout=5_000)
    app.apply_settings(replace(QUIET, sensitivity="high"))
    qtbot.waitUntil(lambda: monitors[0].analyzer.sensitivity == "high", timeout=5_000)
    first = app.worker
    app.apply_settings(replace(QUIET, sensitivity="high", camera_index=1))
    assert app.worker is not first and not first.running
    qtbot.waitUntil(lambda: len(monitors) == 2, timeout=5_000)


# --- windows get frames only while open --------------------------------------------------------------

def test_frames_flow_only_while_the_live_view_is_open(qtbot: Any, apps: list[CompanionApp]) -> None:
    app, monitors = still_app(apps)
    app.start()
    qtbot.waitUntil(lambda: bool(monitors), timeout=5_000)
    assert monitors[0]._frame_listener is None, "no frames leave the loop while nothing shows them"
    live = app.open_live_view()
    qtbot.waitUntil(lambda: live.frames_shown > 2, timeout=5_000)  # type: ignore[attr-defined]
    live.close()
    qtbot.waitUntil(lambda: monitors[0]._frame_listener is None, timeout=5_000)
    assert "live_view" not in app.windows
    wizard = app.open_wizard()
    qtbot.waitUntil(lambda: wizard.frames_seen > 0, timeout=5_000)  # type: ignore[attr-defined]
    wizard.close()
    qtbot.waitUntil(lambda: monitors[0]._frame_listener is None, timeout=5_000)


def test_live_view_explains_a_slouch_against_the_baseline(qtbot: Any) -> None:
    from ui.live_view import LiveView

    from footage import slouch_frames

    up, down = slouch_frames()
    frames = analyses_from(up[:6] + down[:1])
    baseline, _q = build_baseline([a.metrics for _img, a in frames[:6]])
    from posture.scoring import judge

    image, slouched = frames[-1]
    assert slouched.metrics is not None
    judgement = judge(slouched.metrics, baseline)
    view = LiveView()
    qtbot.addWidget(view)
    view.set_baseline(baseline, "Desk")
    view.show()
    view.show_frame(image, replace(slouched, judgement=judgement))
    assert view.preview.has_frame and view.frames_shown == 1
    assert "Desk" in view.baseline_label.text()
    head = view.deviation("head_height")
    assert head is not None and head < -0.5, "the slouched frame's head sits well below the baseline"
    view.close()
    assert not view.preview.has_frame, "the last picture is dropped when the window closes"


# --- the icon ----------------------------------------------------------------------------------------

def test_every_state_has_its_own_shape_not_only_its_own_colour(qtbot: Any) -> None:
    masks = {}
    for state in ICON_STATES:
        img = draw_state_pixmap(state, 32).toImage()
        alpha = np.array([[img.pixelColor(x, y).alpha() > 100 for x in range(32)] for y in range(32)])
        lum = np.array([[img.pixelColor(x, y).lightness() > 160 for x in range(32)] for y in range(32)])
        masks[state] = alpha & ~lum  # the dark/coloured silhouette a colour-blind eye still sees
    states = list(masks)
    for i, a in enumerate(states):
        for b in states[i + 1:]:
            differ = float(np.mean(masks[a] != masks[b]))
            assert differ > 0.05, f"{a} and {b} look alike in shape ({differ:.2%})"


def test_tooltips_say_what_is_going_on() -> None:
    sample = PostureSample(1.0, 0.0, True, score=41.0, state="poor", reasons=("head_forward", "too_close"))
    status = StatusView(sample=sample, calibrated=True, camera_open=True)
    assert icon_state(status) == "poor"
    assert tooltip_text(status) == ("Posture Companion\nPosture needs attention (score 41)\n"
                                    "Head forward, too close to the screen")
    assert "Paused while zoom is running" in tooltip_text(replace(status, paused_reason="app:zoom"))
    assert "Screen locked" in tooltip_text(replace(status, paused_reason="screen_locked"))
    assert "Not calibrated" in tooltip_text(StatusView(calibrated=False))
    assert icon_state(replace(status, calibration_fits=False)) == "uncalibrated"
    assert icon_state(replace(status, sample=replace(sample, state="away", person=False))) == "away"
    # A picture too dark to judge: the tooltip says so, not "not calibrated" (posture/judgeable.py).
    dark = replace(sample, state="unknown", score=None, reasons=("too_dark",))
    assert tooltip_text(replace(status, sample=dark)) == "Posture Companion\nCan't judge right now\nToo dark to judge"


# --- the glow and the entry point ---------------------------------------------------------------------

def test_the_glow_lets_clicks_through_never_takes_focus_and_fades_away(qtbot: Any) -> None:
    from PySide6.QtCore import Qt

    from ui.glow import EdgeStripsGlow, TranslucentGlow

    for glow in (TranslucentGlow(), EdgeStripsGlow()):
        for window in glow.windows():
            qtbot.addWidget(window)
            flags = window.windowFlags()
            for flag in (Qt.WindowType.WindowTransparentForInput, Qt.WindowType.WindowDoesNotAcceptFocus,
                         Qt.WindowType.WindowStaysOnTopHint, Qt.WindowType.FramelessWindowHint):
                assert flags & flag, flag
            assert window.testAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
            assert window.focusPolicy() == Qt.FocusPolicy.NoFocus
        glow.glow("#D55E00", hold_ms=20, fade_ms=30)
        assert glow.isVisible() and glow.running
        qtbot.waitUntil(lambda g=glow: not g.isVisible(), timeout=3_000)
        assert glow.strength == 0.0


def test_the_glow_needs_no_translucency_where_nothing_composites(qtbot: Any) -> None:
    """On X11 without a compositor a translucent full-screen window is drawn opaque (a black screen):
    there the glow is four opaque strips along the edges, covering nothing else."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication

    from ui.glow import EdgeStripsGlow, TranslucentGlow, make_glow

    assert isinstance(make_glow(platform="wayland"), TranslucentGlow)
    strips = EdgeStripsGlow(thickness=6)
    for window in strips.windows():
        qtbot.addWidget(window)
        assert not window.testAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
    strips.glow("#D55E00", hold_ms=200, fade_ms=30)
    qtbot.waitUntil(lambda: strips.strength == 1.0, timeout=3_000)
    screen = QGuiApplication.primaryScreen().geometry()
    covered = sum(w.width() * w.height() for w in strips.windows() if w.isVisible())
    edge = 2 * 6 * screen.width() + 2 * 6 * (screen.height() - 12)
    assert covered == edge, "exactly a 6-pixel border, nothing of the screen inside it"
    qtbot.waitUntil(lambda: not strips.isVisible(), timeout=3_000)


def test_run_app_runs_a_recording_and_ends_after_the_duration(qtbot: Any) -> None:
    from ui.app import run_app

    args = run_args(source=str(single_face_clip()), duration=3.0)
    assert run_app(args, QUIET) == 0
