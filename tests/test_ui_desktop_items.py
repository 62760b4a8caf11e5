"""The tray app's behaviour on a real desktop (issue 14), checked offscreen where a display is not needed:
breaks recorded and left in peace, words that agree with themselves, windows that fit, one instance,
signals that end the session, and `make demo` that ends with its screenshot."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from calibration.capture import build_baseline
from posture.clock import FakeClock
from posture.coach.effect import break_effect
from posture.coach.safety import SafetyProfile, save_safety_profile
from posture.events import BreakCompleted, BreakSuggested, Event, NudgeShown
from posture.monitor import Monitor
from posture.samples import PostureSample
from posture.settings import Settings
from ui.app import CompanionApp
from ui.bridge import StatusView
from ui.tray_icon import menu_status_text, tooltip_text
from ui.worker import BuiltMonitor, MonitorFactory

from ui_helpers import FakeFinder, StillSource, no_message_boxes, run_args  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "sample_videos" / "demo_session.mp4"
BREAKS = replace(Settings(), breaks_enabled=True, onset_delay_s=0.0, glow=True)


@pytest.fixture
def apps() -> Any:
    made: list[CompanionApp] = []
    yield made
    for app in made:
        app.shutdown()


def companion(apps: list[CompanionApp], settings: Settings, tmp_path: Path) -> tuple[CompanionApp, list[Monitor]]:
    monitors: list[Monitor] = []

    def make_factory(s: Settings) -> MonitorFactory:
        def build() -> BuiltMonitor:
            from posture.coach.breaks import BreakScheduler
            from posture.coach.routines import load_catalogue
            from posture.companion import break_settings

            clock = FakeClock(monotonic_start=0.0)
            def breaks(c: Any) -> BreakScheduler:
                return BreakScheduler(c, break_settings(s), load_catalogue())

            m = Monitor(lambda: StillSource(), FakeFinder(), clock, s,  # type: ignore[arg-type]
                        breaks=breaks if s.breaks_enabled else None)
            monitors.append(m)
            return BuiltMonitor(m, [])

        return build

    app = CompanionApp(settings, make_factory, FakeClock(monotonic_start=0.0), realtime=False,
                       tray_available=False, pace_s=0.002, safety_path=tmp_path / "safety.json",
                       ui_clock=FakeClock())
    apps.append(app)
    return app, monitors


def answered_safety(tmp_path: Path) -> None:
    answers = {k: False for k in ("injury_or_surgery", "pregnant", "blood_thinners", "skin_or_bruising",
                                  "severe_or_radiating")}
    try:
        profile = SafetyProfile.from_answers(answers, time.time())
    except ValueError:
        from posture.coach.safety import SAFETY_QUESTIONS

        profile = SafetyProfile.from_answers({q.key: False for q in SAFETY_QUESTIONS}, time.time())
    save_safety_profile(profile, tmp_path / "safety.json")


def kinds(events: list[Event]) -> list[str]:
    return [e.kind for e in events]


def test_a_break_started_without_the_safety_page_is_recorded(qtbot: Any, apps: list[CompanionApp],
                                                             tmp_path: Path) -> None:
    answered_safety(tmp_path)  # the safety page will not be shown
    app, _monitors = companion(apps, BREAKS, tmp_path)
    seen: list[Event] = []
    app.bridge.events_ready.connect(seen.extend)
    app.start()
    qtbot.waitUntil(lambda: app.worker.monitor is not None, timeout=10_000)
    assert app.start_break("chin-tucks")
    window: Any = app.windows["break"]
    assert window.pages.currentIndex() == 1, "straight into the routine"
    qtbot.waitUntil(lambda: "break_started" in kinds(seen), timeout=10_000)
    window.finish_now()
    window.answer("better")
    qtbot.waitUntil(lambda: "break_completed" in kinds(seen), timeout=10_000)
    completed = next(e for e in seen if isinstance(e, BreakCompleted))
    assert completed.routine == "chin-tucks"
    qtbot.waitUntil(lambda: app.status is not None and app.status.break_state != "on_break", timeout=10_000)
    assert not app.breaks.active


def test_no_nudge_and_no_glow_during_a_guided_break(qtbot: Any, apps: list[CompanionApp], tmp_path: Path) -> None:
    answered_safety(tmp_path)
    app, _ = companion(apps, BREAKS, tmp_path)
    nudge = NudgeShown(10.0, 1.7e9, level=1, reasons=("head_forward",), text="Chin back.")
    app.handle_event(nudge)
    assert app.notifier.history[-1].kind == "nudge" and app.notifier.glow.isVisible()
    app.start_break("chin-tucks")
    assert not app.notifier.glow.isVisible(), "starting a break takes the glow away"
    before = len(app.notifier.history)
    app.handle_event(nudge)
    app.handle_event(BreakSuggested(11.0, 1.7e9, routine="quick-reset", break_kind="micro", title="Quick reset",
                                    text="Time.", seconds=60, reason="sitting", focus="general", escalated=False,
                                    postponed=False))
    assert len(app.notifier.history) == before and not app.notifier.glow.isVisible()
    app.windows["break"].close()
    app.handle_event(nudge)
    assert len(app.notifier.history) == before + 1, "after the break, nudges come back"


def sample(state: str, score: float) -> PostureSample:
    return PostureSample(t=1.0, wall=1.7e9, state=state, score=score, person=True)


def test_the_tooltip_never_says_good_with_a_poor_score() -> None:
    good_low = StatusView(sample=sample("good", 2.0), calibrated=True)
    poor_high = StatusView(sample=sample("poor", 93.0), calibrated=True)
    assert "slipping" in tooltip_text(good_low) and "(score 2)" not in tooltip_text(good_low)
    assert "improving" in tooltip_text(poor_high)
    steady = StatusView(sample=sample("good", 90.0), calibrated=True)
    assert "Good posture (score 90)" in tooltip_text(steady)


def test_the_open_menu_is_not_relaid_out_every_second(qtbot: Any, apps: list[CompanionApp],
                                                      tmp_path: Path) -> None:
    app, _ = companion(apps, Settings(), tmp_path)
    calm = StatusView(sample=sample("good", 90.0), calibrated=True)
    app._on_status(calm)
    assert app.status_action.text() == "Good posture"
    app._on_status(replace(calm, sample=sample("good", 80.0)))
    assert app.status_action.text() == "Good posture", "the score changing does not touch the menu line"
    app.menu.popup(app.menu.pos())
    qtbot.waitUntil(app.menu.isVisible, timeout=3_000)
    app._on_status(StatusView(sample=sample("poor", 20.0), calibrated=True))
    assert app.status_action.text() == "Good posture", "no change while the menu is open"
    app.menu.hide()
    qtbot.waitUntil(lambda: app.status_action.text() == "Posture needs attention", timeout=3_000)
    assert menu_status_text(None) == "Starting…"


def test_the_dashboard_fits_the_screen(qtbot: Any, tmp_path: Path) -> None:
    from PySide6.QtGui import QGuiApplication

    from posture.store import open_writer
    from ui.dashboard import Dashboard

    db = tmp_path / "h.db"
    open_writer(db).close()
    window = Dashboard(db, poll_ms=0)
    qtbot.addWidget(window)
    area = QGuiApplication.primaryScreen().availableGeometry()
    assert window.width() <= area.width() and window.height() <= area.height()


def test_one_companion_per_camera(qtbot: Any, tmp_path: Path) -> None:
    from ui.single_instance import SingleInstance, instance_key

    key = "posture-test-" + str(os.getpid())
    first, second = SingleInstance(key, tmp_path), SingleInstance(key, tmp_path)
    try:
        assert first.acquire()
        assert not second.acquire()
        assert second.owner_pid() == os.getpid()
        with qtbot.waitSignal(first.activated, timeout=5_000):
            assert second.tell_owner()
    finally:
        first.release()
    assert second.acquire(), "free again once the first let go"
    second.release()
    assert instance_key(0, None, True) == instance_key(1, tmp_path / "a.db", True), "any camera: one user"
    assert instance_key(None, tmp_path / "a.db", True) != instance_key(None, tmp_path / "b.db", True)
    assert instance_key(None, tmp_path / "a.db", False) is None


def test_sigterm_reaches_the_quit_path(qtbot: Any) -> None:
    from ui.quit_signals import QuitOnSignals

    got: list[int] = []
    guard = QuitOnSignals(got.append)
    guard.install()
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        qtbot.waitUntil(lambda: got == [signal.SIGTERM], timeout=3_000)
    finally:
        guard.uninstall()
    assert signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, signal.default_int_handler, None) or \
        callable(signal.getsignal(signal.SIGTERM))


def test_four_pictures_in_ten_seconds_are_not_an_excellent_capture() -> None:
    from posture.metrics import MetricSet

    steady = MetricSet(view="front", values={"head_height": 1.0}, confidence={"nose": 0.99},  # type: ignore[call-arg]
                       anchor=(0.5, 0.5, 0.3))
    _baseline, few = build_baseline([steady] * 4, seconds=10.0)
    assert few.verdict == "usable" and few.too_few
    _baseline, many = build_baseline([steady] * 20, seconds=10.0)
    assert many.verdict == "excellent" and not many.too_few


def test_no_score_after_a_break_from_seconds_of_data() -> None:
    class S:
        def __init__(self, wall: float, score: float) -> None:
            self.wall, self.score, self.state = wall, score, "good"

    before = [S(1000.0 + i * 2, 80.0) for i in range(300)]  # ten minutes before the break
    after = [S(1700.0 + i, 5.0) for i in range(7)]  # the recording ended 7 s after it
    effect = break_effect(before + after, started_wall=1600.0, ended_wall=1690.0)
    assert effect.before is not None and effect.after is None and effect.delta is None
    assert effect.n_after == 7, "what was seen is still counted, just not called a result"
    full = [S(1691.0 + i * 2, 90.0) for i in range(300)]
    effect = break_effect(before + full, started_wall=1600.0, ended_wall=1690.0)
    assert effect.delta is not None and effect.delta > 0


@pytest.mark.slow
def test_a_demo_on_a_desktop_ends_with_its_screenshot(qtbot: Any, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from ui.app import run_app

    png, db = tmp_path / "dash.png", tmp_path / "h.db"
    args = run_args(source=str(DEMO), calibrate_from=(0.0, 8.0), db=db, no_history=False, screenshot=png)
    assert run_app(args, replace(Settings(), sound=False)) == 0
    assert png.exists() and png.stat().st_size > 10_000
    out = capsys.readouterr().out
    assert "The recording has ended." in out and f"dashboard screenshot saved to {png}" in out
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("select count(*) from events where kind = 'session_end'").fetchone()[0] == 1
    finally:
        conn.close()


@pytest.mark.slow
def test_the_live_view_shows_the_baseline_built_from_the_recording(qtbot: Any, apps: list[CompanionApp]) -> None:
    from ui.app import build_companion

    args = run_args(source=str(DEMO), calibrate_from=(0.0, 8.0), loop=True)
    app = build_companion(args, replace(Settings(), sound=False, glow=False), tray_available=False)
    apps.append(app)
    live: Any = app.open_live_view()
    assert "Learning your upright posture from seconds 0–8" in live.baseline_label.text()
    app.start()
    qtbot.waitUntil(lambda: app.span_baseline is not None, timeout=120_000)
    assert "Compared with your upright baseline (built from the start of this recording" in \
        live.baseline_label.text()
    qtbot.waitUntil(lambda: live.frames_shown > 0 and "no calibration" not in live.state_label.text(),
                    timeout=60_000)


class SlouchingAnalyzer:
    """Judges every moment poor (head forward): the core's nudge path without a camera or a model."""

    baseline = None
    calibration_fits = True
    sensitivity = "medium"

    def judge_detection(self, detection: Any, t: float, wall: float) -> Any:
        from posture.analyzer import Analysis

        sample = PostureSample(t=t, wall=wall, person=True, score=20.0, state="poor",  # type: ignore[call-arg]
                               reasons=("head_forward",))
        return Analysis(sample, None, None, None)


def test_the_engine_does_not_nudge_during_a_guided_break() -> None:
    from posture.coach.breaks import BreakScheduler
    from posture.coach.nudges import NudgeSettings
    from posture.coach.routines import load_catalogue
    from posture.companion import break_settings
    from posture.session import Session

    clock = FakeClock(monotonic_start=0.0)
    session = Session(SlouchingAnalyzer(), clock, NudgeSettings(onset_delay_s=5.0, cooldown_s=30.0),  # type: ignore[arg-type]
                      breaks=lambda c: BreakScheduler(c, break_settings(Settings()), load_catalogue()))
    seen: list[Event] = []
    session.on_event(seen.append)
    session.start(0.0, clock.wall())

    def slouch(seconds: int) -> int:
        before = sum(isinstance(e, NudgeShown) for e in seen)
        for _ in range(seconds):
            session.judge(None, clock.monotonic(), clock.wall())
            clock.advance(1.0)
        return sum(isinstance(e, NudgeShown) for e in seen) - before

    assert slouch(40) >= 1, "slouching is nudged"
    assert session.start_break("chin-tucks")
    assert slouch(120) == 0, "not while the break runs"
    session.finish_break("better", True)
    assert slouch(60) >= 1, "and again after it"
