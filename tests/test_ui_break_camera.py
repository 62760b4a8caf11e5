"""A guided break started from the tray, watched through the monitor's camera (ui/break_camera.py).

The camera is the simulator (tests/camera_sim.py): it takes time to open, its first frames are dark
and tinted, it delivers its own frame rate, and it counts opens, closes and misuse. The monitor is the
real one with the real person finder, stepped on this thread the way its worker would; commands the
break sends it run at once, as the worker's queue would run them before the next sample.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from camera_sim import Behaviour, CameraRig, Recording, upright

from posture.clock import FakeClock
from posture.coach.routines import load_catalogue
from posture.monitor import Monitor
from posture.settings import Settings
from posture.sources import WebcamSource
from posture.store.mobility import usual_ranges
from ui.break_camera import BreakCamera
from ui.break_coaching import run_watched
from ui.break_controller import BreakController
from ui.break_window import BreakWindow

from ui_helpers import no_message_boxes  # noqa: F401

CLIP = Path(__file__).resolve().parents[1] / "sample_videos" / "ex_coached_break.mp4"


class _Notifier:
    def notify(self, *args: object, **kwargs: object) -> None:
        pass


_trays: list[Tray] = []


@pytest.fixture(autouse=True)
def close_the_monitors_models() -> Iterator[None]:
    # The app closes its monitor's person finder when the monitor's worker ends; these tests step the
    # monitor by hand, so they close it. Left to the garbage collector, a Tasks model (Python 3.13)
    # closes itself from a finalizer, which hung a later test when it ran during an import.
    yield
    while _trays:
        _trays.pop().monitor.finder.close()


class Tray:
    """The parts of the tray app a break touches: a monitor on 'its thread', and the break controller."""

    def __init__(self, tmp_path: Path, rig: CameraRig, break_rig: CameraRig | None = None,
                 watch_breaks: bool = True) -> None:
        from posture.person import default_finder

        _trays.append(self)

        self.clock = rig.clock
        assert isinstance(self.clock, FakeClock)
        self.rig = rig
        self.monitor = Monitor(lambda: WebcamSource(0, clock=self.clock, capture=rig.capture), default_finder(),
                               self.clock, Settings())
        self.db = tmp_path / "history.db"
        self.submitted = 0
        self.threads: set[str] = set()
        self.controller = BreakController(self.submit, _Notifier(), self.clock, tmp_path / "safety.json",  # type: ignore[arg-type]
                                          lambda: self.monitor, lambda: None, lambda key, w: None)
        camera_rig = break_rig or rig

        def open_camera() -> WebcamSource:
            return WebcamSource(0, requested_fps=12.0, clock=self.clock, capture=camera_rig.capture)

        self.camera = BreakCamera(self.submit, self.camera_on, open_camera, self.db, lend_timeout_s=1.0,
                                  wanted=lambda: watch_breaks)
        self.controller.camera = self.camera

    def camera_on(self) -> bool:
        return self.monitor.status.paused_reason is None

    def submit(self, command: Any) -> None:
        self.submitted += 1
        self.threads.add(threading.current_thread().name)
        self.monitor.submit(lambda: command(self.monitor))
        self.monitor.run_pending_commands()  # the worker runs the queue before its next sample

    def watch(self, seconds: float) -> None:
        """The monitor samples until `seconds` of clock time have passed."""
        end = self.clock.monotonic() + seconds
        while self.clock.monotonic() < end:
            self.clock.advance(max(0.05, self.monitor.step()))

    def start(self, routine_id: str) -> BreakWindow:
        # Safety answers already given, so the routine starts as the window shows.
        from posture.coach.safety import SafetyProfile, save_safety_profile

        save_safety_profile(SafetyProfile(), self.controller.safety_path)
        assert self.controller.start(routine_id)
        window = self.controller.window
        assert isinstance(window, BreakWindow)
        return window


def _rig(recording: Recording | None = None, **behaviour: Any) -> CameraRig:
    return CameraRig(FakeClock(monotonic_start=0.0), recording or upright(), Behaviour(**behaviour))


def test_a_tray_break_counts_the_clip_and_the_monitor_gets_its_camera_back(qtbot: Any, tmp_path: Path) -> None:
    rig = _rig(delivered_fps=15.0)
    tray = Tray(tmp_path, rig)
    tray.watch(5.0)
    assert tray.monitor.camera_open and rig.opens == 1
    opens_before = rig.opens
    # The person stands up to exercise: from the break's start, the camera films the labelled clip.
    rig.show(Recording.from_video(CLIP, fps=15.0))
    window = tray.start("neck-turns")
    qtbot.addWidget(window)
    coaching = tray.camera.coaching
    assert coaching is not None
    # The monitor let go before the break opened the camera: never two captures on one device.
    assert not tray.monitor.camera_open and tray.monitor.status.paused_reason == "break"
    run_watched(window, coaching, tray.clock, 6.0)
    assert rig.light_on and len(rig._open_caps) == 1
    # A sample due meanwhile does not take the camera back (the clock is not advanced by its wait: the
    # break's timer keeps polling while the monitor sleeps).
    tray.monitor.step()
    assert not tray.monitor.camera_open and tray.monitor.status.paused_reason == "break"
    run_watched(window, coaching, tray.clock, 40.0)
    assert window.result is not None and window.result.completed
    kinds = [m.kind for m in coaching.messages]
    labels = json.loads(CLIP.with_suffix(".reps.json").read_text())["counts"]
    counts = {c.movement.key: c.count for c in coaching.session.all_coaches()}
    # Every labelled repetition is counted, the rushed turn is told "slower", the person leaving the
    # picture is told "not seen". Through the simulated webcam (JPEG frames, letterboxed, its own frame
    # timing) the squeezes are the weakest signal: the tracking pose settles a few percent off its old
    # fit after each one, and its first look after the person steps back in is off too; both used to
    # lose a squeeze (RepDetector: settled short of rest; no resting-position jump across a gap).
    assert counts == {"turn": labels["turn"], "squeeze": labels["squeeze"]}
    assert "done" in kinds and "slower" in kinds and "not_seen" in kinds
    # The routine is over: the break's capture is closed and the monitor is told to watch again while
    # the "did that help?" page is still open; it opens the camera itself.
    assert tray.camera.coaching is None and not tray.camera.lent and window.isVisible()
    assert tray.monitor.status.paused_reason is None
    tray.watch(3.0)
    window.close()
    assert tray.monitor.camera_open and rig.opens == opens_before + 2
    assert len(rig._open_caps) == 1 and not rig.violations
    # The range of motion is stored as the terminal break stores it.
    usual = usual_ranges(tray.db, ["turn", "squeeze"])
    assert set(usual["turn"]) >= {"left", "right"}
    assert tray.threads == {threading.current_thread().name}  # every capture call from the GUI thread


def test_a_camera_that_fails_to_open_leaves_the_break_uncoached_and_working(qtbot: Any, tmp_path: Path) -> None:
    rig = _rig()
    tray = Tray(tmp_path, rig, break_rig=_rig(fail_open=True))
    tray.watch(3.0)
    window = tray.start("neck-turns")
    qtbot.addWidget(window)
    coaching = tray.camera.coaching
    assert coaching is not None
    run_watched(window, coaching, tray.clock, 45.0)
    assert window.result is not None and window.result.completed
    assert coaching.camera_problem and not coaching.panel.isVisibleTo(window)
    window.close()
    tray.watch(3.0)
    assert tray.monitor.camera_open and tray.monitor.status.paused_reason is None
    assert not tray.db.exists()  # nothing counted, nothing stored


def test_paused_or_a_routine_without_movement_is_not_watched(qtbot: Any, tmp_path: Path) -> None:
    rig = _rig()
    tray = Tray(tmp_path, rig)
    tray.watch(3.0)
    tray.submit(lambda m: m.pause(None))
    window = tray.start("neck-turns")
    qtbot.addWidget(window)
    assert tray.camera.coaching is None and tray.monitor.status.paused_reason == "paused"
    window.close()
    tray.submit(lambda m: m.resume())
    still = [r.id for r in load_catalogue().routines if not _watched(r)]
    assert still, "the catalogue has breaks without movement steps"
    window = tray.start(still[0])
    qtbot.addWidget(window)
    assert tray.camera.coaching is None and tray.monitor.status.paused_reason is None
    window.close()


def test_with_watch_breaks_off_a_tray_break_never_touches_the_camera(qtbot: Any, tmp_path: Path) -> None:
    rig = _rig(delivered_fps=15.0)
    tray = Tray(tmp_path, rig, watch_breaks=False)
    tray.watch(3.0)
    window = tray.start("neck-turns")
    qtbot.addWidget(window)
    # The break runs as it does without a camera: no coaching, and the monitor keeps watching posture
    # through its own capture (not lent, not paused, never reopened).
    assert tray.camera.coaching is None and not tray.camera.lent
    tray.watch(2.0)
    assert tray.monitor.camera_open and tray.monitor.status.paused_reason is None
    assert rig.opens == 1 and not rig.violations
    window.close()


def _watched(routine: Any) -> bool:
    from posture.exercise.watch import watched_steps

    return bool(watched_steps(routine))


def test_quitting_mid_break_releases_everything_on_this_thread(qtbot: Any, tmp_path: Path) -> None:
    rig = _rig(delivered_fps=15.0)
    tray = Tray(tmp_path, rig)
    tray.watch(3.0)
    rig.show(Recording.from_video(CLIP, fps=15.0))
    window = tray.start("neck-turns")
    coaching = tray.camera.coaching
    assert coaching is not None
    run_watched(window, coaching, tray.clock, 8.0)
    assert rig.light_on
    # What CompanionApp.shutdown does: close the windows, then stop the monitor (which runs the
    # commands still queued and releases its camera).
    tray.controller.close()
    assert coaching.feed is None and not tray.camera.lent
    tray.monitor.shutdown()
    assert not rig.light_on and not rig._open_caps and not rig.violations
    assert not tray.monitor.camera_open
    assert usual_ranges(tray.db, ["turn"]).get("turn")  # the turns done before quitting are kept


class _NoPose:
    """A pose model that sees nobody: this test is about who holds the camera, not about exercises."""

    def detect(self, frame_bgr: Any) -> None:
        return None

    def close(self) -> None:
        pass


def test_a_settings_change_mid_break_restarts_the_monitor_without_taking_the_camera(
        qtbot: Any, tmp_path: Path) -> None:
    from dataclasses import replace

    from posture.coach.safety import SafetyProfile, save_safety_profile
    from posture.exercise.watch import FrameFeed
    from ui.app import CompanionApp
    from ui.worker import BuiltMonitor

    from ui_helpers import FakeFinder, StillSource

    cameras: list[StillSource] = []  # the device as each monitor opens it

    def make_factory(s: Settings) -> Any:
        def build() -> BuiltMonitor:
            camera = StillSource()
            cameras.append(camera)
            return BuiltMonitor(Monitor(lambda: camera, FakeFinder(), FakeClock(monotonic_start=0.0), s), [])  # type: ignore[arg-type]

        return build

    settings = replace(Settings(), breaks_enabled=False)
    app = CompanionApp(settings, make_factory, FakeClock(monotonic_start=0.0), realtime=False,
                       tray_available=False, pace_s=0.002, safety_path=tmp_path / "safety.json")
    held = StillSource()  # the break's capture of the same device
    app.breaks.camera = BreakCamera(app.worker_submit, lambda: True, lambda: held, None,
                                    make_feed=lambda cam: FrameFeed(cam, _NoPose()))  # type: ignore[arg-type]
    try:
        app.start()
        qtbot.waitUntil(lambda: bool(cameras) and cameras[0].opens == 1, timeout=5_000)
        save_safety_profile(SafetyProfile(), tmp_path / "safety.json")
        assert app.breaks.start("neck-turns")
        window = app.breaks.window
        assert window is not None
        qtbot.waitUntil(lambda: held.opens == 1, timeout=5_000)
        assert cameras[0].closes == 1  # lent: the monitor let go before the break opened it

        # The person changes the camera in the settings while the break watches them: a new monitor.
        first = app.worker
        app.apply_settings(replace(settings, camera_index=1))
        assert app.worker is not first
        qtbot.waitUntil(lambda: len(cameras) == 2 and app.status is not None
                        and app.status.paused_reason == "break", timeout=5_000)
        qtbot.wait(300)  # many of its samples would have been due by now
        assert cameras[1].attempts == 0 and held.closes == 0  # it waits: the break still holds the camera

        window.close()  # the break ends: its capture is closed and the new monitor takes the camera
        assert held.closes == 1
        qtbot.waitUntil(lambda: cameras[1].opens == 1, timeout=5_000)
        assert app.status is not None
        qtbot.waitUntil(lambda: app.status is not None and app.status.paused_reason is None, timeout=5_000)
    finally:
        app.shutdown()
