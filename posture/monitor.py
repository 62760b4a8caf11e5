"""The capture loop that runs all day: paced by an injected clock, sampling adaptively, releasing the
camera whenever it is not needed, and surviving camera faults without an error storm.

One `Monitor` drives the headless service (`posture run --headless`) and the tray app's worker thread
alike. Commands from other threads (pause, snooze, calibrate, take a break…) go through a queue and
run inside the loop, so the core state machines are only ever touched by one thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from posture.analyzer import Analysis, Analyzer
from posture.baseline import Baseline
from posture.camera_policy import CameraLightPolicy
from posture.camera_settle import CameraUnsettled, settled
from posture.clock import Clock
from posture.coach.nudges import NudgePolicy
from posture.effect_tracker import EffectTracker
from posture.errors import ConfigError, SourceError
from posture.metrics import MetricSet
from posture.person import PersonFinder
from posture.replay import ReplaySource
from posture.samples import Event, PostureSample
from posture.sampling import AdaptiveRate
from posture.settings import Settings
from posture.sources import FrameSource
from posture.stall import SourceStalled, guard, unwrap

SampleCallback = Callable[[PostureSample], None]
EventCallback = Callable[[Event], None]
FrameCallback = Callable[[np.ndarray, Analysis], None]

# Retry a busy or missing camera quietly, backing off up to this interval.
RETRY_MIN_S = 2.0
RETRY_MAX_S = 30.0
# A camera read that returns nothing this many times in a row means the camera is gone.
LOST_AFTER_FAILED_READS = 3


@dataclass
class MonitorStatus:
    """What the UI shows: the latest sample plus why the monitor is (not) watching."""

    sample: PostureSample | None = None
    paused_reason: str | None = None  # "paused", "camera_busy", "camera_lost", "screen_locked", "app:NAME"
    calibrated: bool = False
    calibration_fits: bool = True
    samples: int = 0
    pose_runs: int = 0
    presence_checks: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class Monitor:
    def __init__(
        self,
        open_source: Callable[[], FrameSource],
        finder: PersonFinder,
        clock: Clock,
        settings: Settings,
        baseline: Baseline | None = None,
        writer: Any | None = None,
        breaks: Any | None = None,
        calibrate_span: tuple[float, float] | None = None,
        build_baseline: Callable[[list[MetricSet | None]], Baseline] | None = None,
        adaptive: bool = True,
        fixed_interval_s: float | None = None,
        environment: Any | None = None,
        source_name: str = "source",
    ) -> None:
        self._open_source = open_source
        self.finder = finder
        self.clock = clock
        self.settings = settings
        self.analyzer = Analyzer(finder, baseline, settings.sensitivity)
        self.nudges = NudgePolicy(clock, settings.nudge_settings())
        self.breaks = breaks
        self.writer = writer
        fast, slow = settings.rates
        self.rate = AdaptiveRate(fast, slow)
        self.adaptive = adaptive
        self.fixed_interval = fixed_interval_s
        self.environment = environment  # screen lock / running apps probes, optional
        self.status = MonitorStatus(calibrated=baseline is not None)
        self._calibrate_span = calibrate_span
        self._build_baseline = build_baseline
        self._span_obs: list[MetricSet | None] = []
        # --calibrate-from counts seconds from the start of the run (= of a replayed clip), not on the clock's
        # own scale: SystemClock.monotonic() counts from boot, so an absolute span never matched in real time.
        self._origin: float | None = None
        self._source: FrameSource | None = None
        self._opening: FrameSource | None = None  # a source inside open(), so stop() can interrupt it
        self._commands: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._sample_listeners: list[SampleCallback] = []
        self._event_listeners: list[EventCallback] = []
        self._frame_listener: FrameCallback | None = None
        self._manual_pause_until: float | None = None
        self._retry_at = 0.0
        self._retry_delay = RETRY_MIN_S
        self._failed_reads = 0
        self._last_env_check = -1e9
        self._env_reason: str | None = None
        self.source_name = source_name
        self.effects = EffectTracker()
        # When the camera (and its light) is on: see posture/camera_policy.py.
        self.light = CameraLightPolicy()
        self.stop_event = threading.Event()
        self.ended = False
        self.session_started = False

    # -- wiring -----------------------------------------------------------------------------------
    def on_sample(self, cb: SampleCallback) -> None:
        self._sample_listeners.append(cb)

    def on_event(self, cb: EventCallback) -> None:
        self._event_listeners.append(cb)

    def set_frame_listener(self, cb: FrameCallback | None) -> None:
        """Only the live view registers one, and only while it is open: no frame leaves the loop otherwise."""
        self._frame_listener = cb

    def submit(self, command: Callable[[], None]) -> None:
        """Run `command` on the monitor's thread before the next sample (thread-safe)."""
        self._commands.put(command)

    # -- commands (call through submit() from other threads) --------------------------------------
    def pause(self, minutes: float | None = None) -> None:
        now = self.clock.monotonic()
        self._manual_pause_until = float("inf") if minutes is None else now + minutes * 60
        self.emit([self.nudges.pause(minutes)])
        if self.breaks is not None:
            self.emit(self.breaks.set_paused(True))
        self._release("paused")

    def resume(self) -> None:
        self._manual_pause_until = None
        self.emit([self.nudges.resume()])
        if self.breaks is not None:
            self.emit(self.breaks.set_paused(False))
        self.status.paused_reason = None
        self._retry_at = 0.0

    def snooze(self, minutes: float | None) -> None:
        self.emit([self.nudges.snooze(minutes)])

    def set_baseline(self, baseline: Baseline | None, source: str = "profile") -> None:
        self.analyzer.set_baseline(baseline)
        self.status.calibrated = baseline is not None
        if baseline is not None:
            self.emit([Event(self.clock.monotonic(), self.clock.wall(), "calibration", {"source": source,
                                                                                          "view": baseline.view})])

    def stop(self) -> None:
        self.stop_event.set()
        source = self._source or self._opening
        if source is not None and hasattr(source, "interrupt"):
            source.interrupt()  # a camera opening, settling or stalled must not hold up quitting

    def apply_settings(self, settings: Settings) -> None:
        """Take new settings without a restart: sensitivity, nudge timing, quiet hours, sampling mode.

        Camera, model and break-interval changes need a new monitor (the caller restarts it).
        """
        self.settings = settings
        self.nudges.settings = settings.nudge_settings()
        self.analyzer.sensitivity = settings.sensitivity
        self.rate = AdaptiveRate(*settings.rates)
        if self.breaks is not None:
            self.breaks.set_quiet_hours(settings.nudge_settings().quiet_hours)

    def run_pending_commands(self) -> None:
        while True:
            try:
                self._commands.get_nowait()()
            except queue.Empty:
                return

    # -- the loop ---------------------------------------------------------------------------------
    def run(self, max_seconds: float | None = None, realtime_wait: Callable[[float], bool] | None = None) -> None:
        """Loop until stopped, the source ends, or `max_seconds` of clock time have passed.

        `realtime_wait(seconds) -> stopped` waits on the wall (interruptible); without it the clock's
        own sleep is used, which for a fake clock simply advances time.
        """
        start = self.clock.monotonic()
        if self._origin is None:
            self._origin = start
        self.emit([Event(start, self.clock.wall(), "session_start", {"source": self.source_name})])
        self.session_started = True
        try:
            while not self.stop_event.is_set() and not self.ended:
                interval = self.step()
                if max_seconds is not None and self.clock.monotonic() - start + interval > max_seconds:
                    break
                if realtime_wait is not None:
                    if realtime_wait(interval):
                        break
                else:
                    self.clock.sleep(interval)
        finally:
            self.shutdown()

    def shutdown(self) -> None:
        # Commands sent just before quitting (e.g. "finish the break") still count.
        self.run_pending_commands()
        self._release(None)
        self.emit(self.effects.due(self.clock.monotonic(), self.clock.wall(), final=True))
        if self.session_started:
            self.session_started = False
            self.emit([Event(self.clock.monotonic(), self.clock.wall(), "session_end", {})])
        if self.writer is not None:
            self.writer.flush()

    def step(self) -> float:
        """Take one sample (or decide not to) and return the seconds until the next one."""
        self.run_pending_commands()
        now = self.clock.monotonic()
        if self._origin is None:
            self._origin = now
        reason = self._pause_reason(now)
        if reason is not None:
            self._release(reason)
            return 1.0
        if self._source is None:
            hold = self.light.wait_before_open(now)
            if hold > 0:
                return hold  # the camera is off while nobody is there; the presence check is not due yet
        source = self._ensure_source(now)
        if source is None:
            return max(1.0, self._retry_at - now)
        try:
            frame = source.read()
        except SourceStalled as exc:
            if self.stop_event.is_set():
                return 0.0
            self._camera_fault("camera_lost", str(exc))
            return 1.0
        except CameraUnsettled as exc:
            # Never judge a warm-up frame: skip this sample, keep the camera open and try again soon.
            if not self.status.extra.get("camera_unsettled"):
                self.status.extra["camera_unsettled"] = str(exc)
                self.emit([Event(now, self.clock.wall(), "camera_unsettled", {"error": str(exc)})])
            return 1.0
        except SourceError:
            frame = None
        if frame is None:
            if getattr(source, "ended", False) or not source.live:
                self.ended = True
                return 0.0
            self._failed_reads += 1
            if self._failed_reads >= LOST_AFTER_FAILED_READS:
                self._camera_fault("camera_lost", "camera stopped delivering frames; paused until it is back")
            return 1.0
        self._failed_reads = 0
        t, wall = self.clock.monotonic(), self.clock.wall()
        try:
            analysis = self._analyse(frame.image, t, wall)
        except ValueError as exc:  # a frame of the wrong size or type: say so once per run, carry on
            if not self.status.extra.get("bad_frame"):
                self.status.extra["bad_frame"] = str(exc)
                self.emit([Event(t, wall, "bad_frame", {"error": str(exc)})])
            return 1.0
        self._handle(analysis)
        if self._frame_listener is not None:
            self._frame_listener(frame.image, analysis)
        interval = self.fixed_interval or (self.rate.next_interval(analysis.sample) if self.adaptive
                                           else 1.0 / self.rate.fast_hz)
        if getattr(unwrap(source), "warms_up", False):
            decision = self.light.after_sample(
                analysis.sample.t, analysis.sample.person, interval,
                battery=self.settings.sampling_mode == "battery",
                close_between=self.settings.close_camera_between_samples,
                frames_watched=self._frame_listener is not None)
            self.status.extra["camera_off"] = decision.why
            if not decision.keep_open:
                self._release(None)  # the light goes off until the presence check or the next sample
            interval = decision.next_in
        return interval

    # -- internals --------------------------------------------------------------------------------
    def _analyse(self, image: np.ndarray, t: float, wall: float) -> Analysis:
        last = self.status.sample.state if self.status.sample else None
        if self.adaptive and not self.rate.wants_pose(t, last) and self.finder.presence(image) == 0:
            # Nobody here a moment ago and the cheap face check still sees no one: skip the pose model.
            self.status.presence_checks += 1
            return self.analyzer.absent(t, wall)
        self.rate.pose_ran(t)
        analysis = self.analyzer.process(image, t, wall)
        self.status.pose_runs = self.analyzer.pose_runs
        if self._calibrate_span is not None and self.analyzer.baseline is None:
            a, b = self._calibrate_span
            rel = t - (self._origin or 0.0)
            if a <= rel <= b:
                self._span_obs.append(analysis.metrics)
            elif rel > b and self._build_baseline is not None:
                self._calibrate_span = None
                try:
                    self.set_baseline(self._build_baseline(self._span_obs), source="span")
                except (ConfigError, ValueError) as exc:
                    # Keep watching without judging; the reason reaches the user as an event.
                    self.emit([Event(t, wall, "calibration_failed", {"error": str(exc)})])
        return analysis

    def _handle(self, analysis: Analysis) -> None:
        sample = analysis.sample
        self.status.sample = sample
        self.status.samples += 1
        self.status.calibration_fits = self.analyzer.calibration_fits
        if self.writer is not None:
            self.writer.add_sample(sample)
        self.effects.add(sample)
        for cb in self._sample_listeners:
            cb(sample)
        events = list(analysis.events) + self.nudges.observe(sample.state, sample.reasons)
        if self.breaks is not None:
            events += self.breaks.observe(sample)
        events += self.effects.due(sample.t, sample.wall)
        self.emit(events)

    def emit(self, events: list[Event]) -> None:
        """Record events (including ones made by UI commands such as a break started) and tell listeners."""
        for e in events:
            if e.kind == "break_completed":
                self.effects.break_completed(e)
            if self.writer is not None:
                self.writer.add_event(e)
            for cb in self._event_listeners:
                cb(e)

    def _pause_reason(self, now: float) -> str | None:
        if self._manual_pause_until is not None:
            if now < self._manual_pause_until:
                return "paused"
            self.resume()
        if self.environment is not None and now - self._last_env_check >= 10.0:
            self._last_env_check = now
            reason = self.environment.pause_reason(self.settings)
            if reason != self._env_reason:
                if reason is not None:
                    self.emit([Event(now, self.clock.wall(), "pause", {"reason": reason})])
                else:
                    self.emit([Event(now, self.clock.wall(), "resume", {"reason": self._env_reason})])
                self._env_reason = reason
        return self._env_reason

    def _ensure_source(self, now: float) -> FrameSource | None:
        if self._source is not None:
            return self._source
        if now < self._retry_at:
            return None
        raw = self._open_source()
        # Live sources run behind a stall guard: a driver stuck in open() or read() becomes a reported
        # camera fault instead of a frozen loop that no longer answers pause or quit. A camera's
        # warm-up frames after each open are then read (each read guarded) and dropped, never judged.
        source = settled(guard(raw) if raw.live else raw, self.clock)
        self._opening = source
        try:
            if self.stop_event.is_set():
                raise SourceStalled(f"{source.name}: stopping")
            source.open()
        except SourceError as exc:
            # Let go of what failed to open: a stalled open that completes later is then released by
            # the guard, instead of leaving the camera (and its light) on with nobody reading it.
            source.close()
            if self.stop_event.is_set():
                return None  # quitting while the camera opened
            if isinstance(unwrap(source), ReplaySource):
                # A recording that cannot be opened will not get better by retrying: say so and end.
                self.emit([Event(now, self.clock.wall(), "camera_lost", {"error": str(exc), "retrying": False})])
                self.ended = True
                return None
            first = self.status.paused_reason not in ("camera_busy", "camera_lost")
            self._retry_at = now + self._retry_delay
            self._retry_delay = min(RETRY_MAX_S, self._retry_delay * 2)
            if first:
                # One note, then quiet retries: a meeting app holding the camera is not an emergency.
                self.status.paused_reason = "camera_busy"
                self.emit([Event(now, self.clock.wall(), "camera_lost", {"error": str(exc), "retrying": True})])
            return None
        finally:
            self._opening = None
        if self.status.paused_reason in ("camera_busy", "camera_lost"):
            self.emit([Event(now, self.clock.wall(), "camera_back", {})])
        self.status.paused_reason = None
        self._retry_delay = RETRY_MIN_S
        self._source = source
        self.light.opened(now)
        return source

    def _camera_fault(self, reason: str, message: str) -> None:
        now = self.clock.monotonic()
        self._release(reason)
        self._failed_reads = 0
        self._retry_at = now + self._retry_delay
        self.emit([Event(now, self.clock.wall(), "camera_lost", {"error": message, "retrying": True})])

    def _release(self, reason: str | None) -> None:
        if self._source is not None:
            self._source.close()
            self._source = None
        if reason is not None:
            self.status.paused_reason = reason

    @property
    def camera_open(self) -> bool:
        return self._source is not None
