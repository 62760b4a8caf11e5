"""A real webcam's habits, through the camera simulator, on a fake clock: settle before judging, a steady
camera light, unplug/replug, a camera that sends 30 fps when asked for 5, and a stall.

The monitor runs with the real MediaPipe person finder on the simulator's frames (the upright clip as
the camera sees it), so what is asserted is what a user at a real camera would get.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import cv2
import numpy as np
import pytest
from camera_sim import Behaviour, CameraRig, Recording, empty_room, upright
from sim_camera_run import run_guarded

import posture.stall as stall
from posture.baseline import Baseline
from posture.camera_policy import AWAY_RELEASE_AFTER_S, PRESENCE_CHECK_EVERY_S
from posture.camera_settle import CameraUnsettled, SettledSource, SettleGate, measure
from posture.clock import FakeClock
from posture.events import Event
from posture.monitor import Monitor
from posture.samples import PostureSample
from posture.settings import Settings
from posture.sources import WebcamSource

HANG_S = 120.0  # only a guard against a hung loop; these runs take seconds


# --- set-up ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def baseline() -> Baseline:
    """The user's calibration, taken from clean (settled) frames of the clip the camera films."""
    from calibration.capture import build_baseline
    from posture.analyzer import Analyzer
    from posture.person import default_finder

    finder = default_finder()
    try:
        analyzer = Analyzer(finder)
        rec = upright()
        obs = [analyzer.process(decode(rec.frames[i]), i / rec.fps, 0.0).metrics for i in range(40)]
        return build_baseline(obs)[0]
    finally:
        finder.close()


def decode(jpeg: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)


class Run:
    """A monitor on a simulated camera, with everything it said."""

    def __init__(self, rig: CameraRig, monitor: Monitor) -> None:
        self.rig = rig
        self.monitor = monitor
        self.samples: list[PostureSample] = []
        self.events: list[Event] = []
        monitor.on_sample(self.samples.append)
        monitor.on_event(self.events.append)

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]

    def run(self, seconds: float) -> None:
        run_guarded(self.monitor, seconds, hang_s=HANG_S)


@pytest.fixture
def make_run(baseline: Baseline) -> Iterator[Callable[..., Run]]:
    finders: list[Any] = []

    def make(rig: CameraRig, settings: Settings | None = None, requested_fps: float = 5.0) -> Run:
        from posture.person import default_finder

        finder = default_finder()
        finders.append(finder)
        clock = rig.clock
        monitor = Monitor(lambda: WebcamSource(0, requested_fps=requested_fps, clock=clock, capture=rig.capture),
                          finder, clock, settings or Settings(), baseline=baseline)
        return Run(rig, monitor)

    yield make
    for f in finders:
        f.close()


def camera(recording: Recording | None = None, **behaviour: Any) -> CameraRig:
    """A laptop webcam: opens in 0.4 s, exposure and colour settle over about a second, 30 fps."""
    return CameraRig(FakeClock(monotonic_start=0.0), recording or upright(), Behaviour(**behaviour))


def good_range(s: PostureSample) -> bool:
    return s.state == "good" and s.raw_state == "good"


# --- settle before judging ------------------------------------------------------------------------


def test_settle_gate_waits_out_black_frames_the_exposure_ramp_and_the_colour_cast() -> None:
    rig = camera()
    src = SettledSource(WebcamSource(0, clock=rig.clock, capture=rig.capture), rig.clock)
    clean = measure(decode(upright().frames[0]))
    src.open()
    frame = src.read()
    assert frame is not None
    got = measure(frame.image)
    # The first frame handed out already looks like the settled picture: brightness and colour balance.
    assert got.luma == pytest.approx(clean.luma, rel=0.03)
    assert got.b_g == pytest.approx(clean.b_g, rel=0.03) and got.r_g == pytest.approx(clean.r_g, rel=0.03)
    # ...and everything before it was read and dropped: the black frames and most of the 1 s ramp.
    assert src.warmup_frames >= 20
    assert 0.6 <= src.settle_times[0] <= 1.6  # from the end of open(), so the 0.4 s open is not included
    src.close()
    # Every open starts over: the camera warms up again.
    src.open()
    assert src.settling
    assert src.read() is not None and src.warmup_frames >= 40
    src.close()
    assert rig.opens == 2 and rig.closes == 2 and not rig.light_on


def test_three_identical_black_frames_are_not_a_settled_picture() -> None:
    gate = SettleGate()
    black = np.zeros((48, 64, 3), np.uint8)
    assert not any(gate.feed(black) for _ in range(5))
    grey = np.full((48, 64, 3), 90, np.uint8)
    assert [gate.feed(grey) for _ in range(3)] == [False, False, True]


def test_a_picture_that_never_settles_is_skipped_after_a_bounded_wait_never_judged() -> None:
    rig = camera(flicker=0.08)  # brightness that keeps changing (a flickering lamp, a hunting camera)
    src = SettledSource(WebcamSource(0, clock=rig.clock, capture=rig.capture), rig.clock)
    src.open()
    t0 = rig.clock.monotonic()
    with pytest.raises(CameraUnsettled, match="still changing"):
        src.read()
    waited = rig.clock.monotonic() - t0
    assert 2.0 <= waited <= 2.1  # about 2 s, then the sample is given up
    with pytest.raises(CameraUnsettled):
        src.read()  # and the next sample goes on waiting: nothing from the warm-up is ever returned
    src.close()


def test_a_steady_upright_user_for_ten_minutes_sees_no_dip_no_state_change_and_few_opens(
        make_run: Callable[..., Run]) -> None:
    rig = camera()
    run = make_run(rig)
    run.run(600.0)
    judged = [s for s in run.samples if s.raw_score is not None]
    assert len(judged) >= 150  # it really watched: the slow rate is one sample every 3 s
    low = [(round(s.t, 1), s.raw_score, s.state) for s in run.samples if not good_range(s)]
    assert not low, f"samples outside the upright range: {low[:5]}"
    assert {s.state for s in run.samples} == {"good"}
    assert rig.opens <= 5
    assert rig.max_opens_in(120.0) <= 1  # never blinks
    assert "camera_unsettled" not in run.kinds()
    # The light was steady, not blinking: one stretch, on from the start until quit.
    assert not rig.light_on and rig.light_on_s() >= 599.0


def test_without_settling_and_with_a_duty_cycle_the_same_user_gets_blinks_and_false_states(
        make_run: Callable[..., Run], monkeypatch: pytest.MonkeyPatch) -> None:
    """The failure the settle gate and the light policy exist for, shown on the same simulator:
    judging the first frame after each open and closing the camera between distant samples."""
    import posture.monitor as monitor_module
    from posture.camera_policy import LightDecision

    class DutyCycle:  # the old policy: close whenever the next sample is >= 3 s away
        def opened(self, now: float) -> None: ...
        def wait_before_open(self, now: float) -> float:
            return 0.0

        def after_sample(self, now: float, person: bool, interval: float, **_: Any) -> LightDecision:
            return LightDecision(interval < 3.0, interval)

    monkeypatch.setattr(monitor_module, "settled", lambda source, clock: source)
    rig = camera()
    run = make_run(rig)
    run.monitor.camera.light = DutyCycle()  # type: ignore[assignment]
    run.run(300.0)
    assert rig.opens > 5
    assert any(not good_range(s) for s in run.samples)


# --- the light while away -------------------------------------------------------------------------


def test_a_user_away_for_ten_minutes_turns_the_light_off_and_the_return_is_noticed_within_a_minute(
        make_run: Callable[..., Run]) -> None:
    rig = camera()
    leave, back = 120.0, 720.0
    rig.show(empty_room(), at=leave)
    rig.show(upright(), at=back)
    run = make_run(rig)
    run.run(900.0)
    # While away: on until the absence is certain, then only the short presence checks.
    assert rig.light_on_s(leave + AWAY_RELEASE_AFTER_S + 10.0, back) <= 9 * 3.0
    assert rig.light_on_s(leave, back) <= 0.2 * (back - leave)
    assert rig.max_opens_in(PRESENCE_CHECK_EVERY_S - 0.01, since=leave, until=back) <= 1
    ons = [on for on, _ in rig.light_log if leave < on < back]
    assert len(ons) >= 8  # it kept checking, about once a minute
    # The return: noticed within a minute, and the camera then stays open.
    seen = [s.t for s in run.samples if s.t >= back and s.person]
    assert seen and seen[0] - back <= 60.0
    assert rig.opens_between(seen[0], 900.0) == 0
    assert rig.light_log[-1][1] == pytest.approx(900.0, abs=5.0)  # on until quit
    # While she was really there, only good samples; while away, nobody was judged.
    assert all(good_range(s) for s in run.samples if s.person and (s.t < leave or s.t > seen[0] + 10))
    assert not any(s.person for s in run.samples if leave + 5.0 < s.t < back)


# --- faults -----------------------------------------------------------------------------------------


def test_unplug_and_replug_pause_with_one_note_and_resume_settled(make_run: Callable[..., Run]) -> None:
    rig = camera()
    rig.at(60.0, rig.unplug)
    rig.at(100.0, rig.replug)
    run = make_run(rig)
    run.run(240.0)
    kinds = run.kinds()
    assert kinds.count("camera_lost") == 1 and kinds.count("camera_back") == 1
    lost = next(e.t for e in run.events if e.kind == "camera_lost")
    back = next(e.t for e in run.events if e.kind == "camera_back")
    assert 60.0 <= lost <= 60.0 + 3 * 3.5  # a few failed reads at most
    assert 100.0 <= back <= 100.0 + 30.0  # the quiet retries reach it within the longest back-off
    # Released when lost, reopened once, released on quit.
    assert rig.opens == 2 and rig.closes == 2 and not rig.light_on
    assert rig.light_log[0][1] is not None and rig.light_log[0][1] <= lost
    assert not any(s.t > 60 and s.t < back for s in run.samples if s.raw_score is not None)
    # The reopened camera warms up again: still nothing outside the upright range.
    assert all(good_range(s) for s in run.samples), [(s.t, s.raw_score) for s in run.samples if not good_range(s)]
    assert any(s.t > back for s in run.samples)


def test_a_camera_sending_30_fps_when_asked_for_5_is_read_newest_frame_only(make_run: Callable[..., Run]) -> None:
    rig = camera(delivered_fps=30.0, drop_every=7, late_every=5, late_s=0.02)
    run = make_run(rig, requested_fps=5.0)
    run.run(120.0)
    assert rig.requested_fps == [5.0]
    judged = [s for s in run.samples if s.raw_score is not None]
    assert len(judged) >= 40
    source = run.monitor  # the frames decoded: the warm-up, then one per sample and no more
    assert rig.decodes <= len(run.samples) + 60
    assert rig.frames_dropped > 20 * rig.decodes // 2  # the rest were left to the driver, never decoded
    settled_ages = rig.decoded_ages[-len(judged):]
    assert max(settled_ages) <= 1 / 30 + 0.02 + 1e-6  # each sample saw the newest frame (late ones included)
    assert all(good_range(s) for s in run.samples)
    del source


def test_a_camera_honouring_5_fps_still_gives_the_newest_frame_not_a_buffered_one(
        make_run: Callable[..., Run]) -> None:
    rig = camera(honour_fps=True, driver_buffers=4)
    run = make_run(rig, requested_fps=5.0)
    run.run(60.0)
    judged = [s for s in run.samples if s.raw_score is not None]
    assert max(rig.decoded_ages[-len(judged):]) <= 0.2 + 1e-6


def test_a_stalled_camera_is_released_without_touching_it_mid_read_and_comes_back(
        make_run: Callable[..., Run], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stall, "READ_TIMEOUT_S", 1.0)  # real seconds: the stall blocks like a driver
    rig = camera()
    rig.at(30.0, rig.stall)
    rig.at(40.0, rig.unstall)
    run = make_run(rig)
    run.run(150.0)
    assert rig.violations == []  # never released while a thread was inside grab()
    kinds = run.kinds()
    assert "camera_lost" in kinds and "camera_back" in kinds
    assert rig.closes >= 1 and rig.opens >= 2
    assert not rig.light_on and rig.closes == rig.opens  # the stuck capture released once it came back
    assert all(good_range(s) for s in run.samples)
    assert any(s.t > 45.0 and s.raw_score is not None for s in run.samples)


# --- the light policy on its own --------------------------------------------------------------------


def test_light_policy_keeps_the_camera_on_for_a_present_user_in_every_mode_but_battery_with_long_gaps() -> None:
    from posture.camera_policy import CameraLightPolicy

    p = CameraLightPolicy()
    p.opened(0.0)
    for t in range(0, 3600, 3):
        assert p.after_sample(float(t), True, 3.0).keep_open
    # Battery mode releases only between samples a minute or more apart, and only when allowed to.
    assert p.after_sample(4000.0, True, 5.0, battery=True).keep_open
    off = p.after_sample(4001.0, True, 60.0, battery=True)
    assert not off.keep_open and off.why == "battery" and off.next_in == 60.0
    assert p.after_sample(4100.0, True, 60.0, battery=True, close_between=False).keep_open
    assert p.wait_before_open(4100.0) == 0.0  # only an absence holds the next open back


def test_light_policy_releases_after_a_minute_away_then_checks_once_a_minute() -> None:
    from posture.camera_policy import CameraLightPolicy

    p = CameraLightPolicy()
    p.opened(0.0)
    assert p.after_sample(10.0, False, 1.0).keep_open  # a moment away: stay on
    assert p.after_sample(69.0, False, 1.0).keep_open
    off = p.after_sample(70.0, False, 1.0)
    assert not off.keep_open and off.why == "away"
    assert off.next_in == pytest.approx(1.0)  # the last open was long ago: the first check is due now
    p.opened(71.0)
    check = p.after_sample(72.5, False, 1.0)  # the check found nobody
    assert not check.keep_open and check.next_in == pytest.approx(71.0 + PRESENCE_CHECK_EVERY_S - 72.5)
    assert p.wait_before_open(100.0) == pytest.approx(31.0)  # woken early (a command): still not due
    assert p.wait_before_open(131.0) == 0.0
    p.reset()  # the user resumed a pause meanwhile: look at once
    assert p.wait_before_open(101.0) == 0.0
    p.opened(131.0)
    assert p.after_sample(132.4, True, 0.5).keep_open  # someone is back: the light stays on
    assert p.wait_before_open(133.0) == 0.0


def test_light_policy_keeps_the_camera_on_while_the_picture_is_being_watched() -> None:
    from posture.camera_policy import CameraLightPolicy

    p = CameraLightPolicy()
    p.opened(0.0)
    for t in range(0, 300, 5):
        assert p.after_sample(float(t), False, 1.0, frames_watched=True).keep_open


def test_a_camera_hanging_in_open_is_reported_once_and_retried_until_it_answers(
        make_run: Callable[..., Run], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stall, "OPEN_TIMEOUT_S", 0.3)
    rig = camera()
    rig.stall()  # the driver hangs in open()...
    rig.at(40.0, rig.unstall)  # ...until 40 s in
    run = make_run(rig)
    run.run(120.0)
    kinds = run.kinds()
    assert kinds.count("camera_lost") == 1 and kinds.count("camera_back") == 1
    back = next(e.t for e in run.events if e.kind == "camera_back")
    assert 40.0 <= back <= 40.0 + 30.0
    assert not any(s.t < back for s in run.samples)
    assert all(good_range(s) for s in run.samples) and len(run.samples) > 20
    assert rig.violations == [] and rig.opens == 1 and rig.closes == 1


def test_the_light_goes_off_while_paused_locked_or_a_listed_app_runs_and_each_return_settles_again(
        baseline: Baseline) -> None:
    from dataclasses import replace

    from posture.environment import Environment
    from posture.person import default_finder

    rig = camera()
    clock = rig.clock
    locked, running = [False], [set[str]()]
    env = Environment(lock_probe=lambda: locked[0], process_lister=lambda: running[0])
    settings = replace(Settings(), pause_apps=("zoom",))
    finder = default_finder()
    monitor = Monitor(lambda: WebcamSource(0, clock=clock, capture=rig.capture), finder, clock, settings,
                      baseline=baseline, environment=env)
    samples: list[PostureSample] = []
    monitor.on_sample(samples.append)
    paused = False
    try:
        monitor.session.start(clock.monotonic(), clock.wall())
        while clock.monotonic() < 420.0:
            now = clock.monotonic()
            locked[0] = 60.0 <= now < 120.0
            running[0] = {"zoom"} if 180.0 <= now < 240.0 else set()
            if now >= 300.0 and not paused:
                paused = True
                monitor.pause(1.0)  # the tray's "pause for a minute"
            clock.advance(monitor.step())
    finally:
        monitor.shutdown()
        finder.close()
    # The desktop is asked every 10 s, at the next sample (up to ~3 s apart); the pause acts at once.
    off = [(60.0 + 13.5, 120.0), (180.0 + 13.5, 240.0), (300.0 + 3.5, 360.0)]
    for a, b in off:
        assert rig.light_on_s(a, b) == 0.0, (a, b, rig.light_log)
        assert not any(a <= s.t < b for s in samples)
    assert rig.opens == 4  # the start, and once after each of the three
    assert rig.max_opens_in(120.0, since=0.0, until=60.0) == 1
    assert samples and all(good_range(s) for s in samples)
    assert not rig.light_on
