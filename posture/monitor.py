"""The live driver: the capture loop that runs all day and feeds the one `posture.session.Session`.

Paced by an injected clock, it samples adaptively, releases the camera whenever it is not needed,
pauses for the person or the desktop, and survives camera faults without an error storm. Everything
after "a person was (not) found in this frame" is the Session's, exactly as for `posture analyze`.

Camera handling sits in one place, `CameraSupervisor` below: opening, retrying with backoff, the
stall guard, lost and back notes, settling before judging (`posture/camera_settle.py`) and when the
camera light is on (`posture/camera_policy.py`).

One `Monitor` drives the headless service (`posture run --headless`) and the tray app's worker thread
alike. Commands from other threads (pause, snooze, calibrate, take a break…) go through a queue and
run inside the loop, so the session is only ever touched by one thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from posture.analyzer import Analysis, Analyzer
from posture.baseline import Baseline
from posture.camera_policy import BREAK_RELEASE, CameraLightPolicy
from posture.camera_settle import CameraUnsettled, settled
from posture.clock import Clock
from posture.coach.nudges import NudgePolicy
from posture.errors import SourceError
from posture.events import CameraBack, CameraLost, CameraUnsettledNote, Event, Paused, Resumed
from posture.person import Detection, PersonFinder
from posture.ports import BreakCoach, HistorySink, PauseProbe
from posture.replay import ReplaySource
from posture.samples import PostureSample
from posture.sampling import AdaptiveRate
from posture.session import BreakFactory, Session, SessionSnapshot, SpanBuilder, SpanCalibration
from posture.settings import Settings
from posture.sources import Frame, FrameSource
from posture.stall import SourceStalled, guard, unwrap

SampleCallback = Callable[[PostureSample], None]
EventCallback = Callable[[Event], None]
FrameCallback = Callable[[np.ndarray, Analysis], None]
Emit = Callable[[list[Event]], None]

# OpenCV's own worker threads while the monitor runs (process-wide). A sample's OpenCV work is a few small
# operations, too short to gain from a second thread; handing each to OpenCV's pool woke its worker ~70 times
# a look, and an idle worker waits for the next job by spinning and yielding, which costs nothing while
# other programs want the core but burns CPU on a quiet machine. One thread gives the same pixels and the
# same landmarks (checked frame by frame on the sample clips, tests/test_monitor_threads.py).
LIVE_OPENCV_THREADS = 1

# Retry a busy or missing camera quietly, backing off up to this interval.
RETRY_MIN_S = 2.0
RETRY_MAX_S = 30.0
# A camera read that returns nothing this many times in a row means the camera is gone.
LOST_AFTER_FAILED_READS = 3


@dataclass
class MonitorStatus:
    """Why the monitor is (not) watching, plus counters for the summary line and the benchmarks."""

    sample: PostureSample | None = None
    paused_reason: str | None = None  # "paused", "camera_busy", "camera_lost", "screen_locked", "app:NAME"
    calibrated: bool = False
    calibration_fits: bool = True
    samples: int = 0
    pose_runs: int = 0
    presence_checks: int = 0


class CameraSupervisor:
    """Opens, reads and releases the source; turns faults into one note and quiet retries.

    The only place that touches the frame source. A webcam's warm-up frames after each open are read
    and dropped, never judged; while someone is there the camera stays open (a steady light), and
    `light` decides when it is released between samples.
    """

    def __init__(self, open_source: Callable[[], FrameSource], clock: Clock, status: MonitorStatus, emit: Emit) -> None:
        self._open_source = open_source
        self.clock = clock
        self.status = status
        self._emit = emit
        self.source: FrameSource | None = None
        self._opening: FrameSource | None = None  # a source inside open(), so stop() can interrupt it
        self.retry_at = 0.0
        self._retry_delay = RETRY_MIN_S
        self._failed_reads = 0
        self.ended = False
        self.stopping = False
        self.light = CameraLightPolicy()
        self.off_because: str | None = None  # the light policy released the camera: "away", "battery"
        self._unsettled_noted = False

    @property
    def is_open(self) -> bool:
        return self.source is not None

    def read(self, now: float) -> tuple[Frame | None, float]:
        """The newest settled frame, or (None, seconds until it is worth trying again)."""
        if self.source is None:
            hold = self.light.wait_before_open(now)
            if hold > 0:
                return None, hold  # off while nobody is there; the presence check is not due yet
        source = self._ensure(now)
        if source is None:
            return None, 0.0 if self.ended else max(1.0, self.retry_at - now)
        try:
            frame = source.read()
        except SourceStalled as exc:
            if self.stopping:
                return None, 0.0
            self._fault(str(exc))
            return None, 1.0
        except CameraUnsettled as exc:
            # Never judge a warm-up frame: skip this sample, keep the camera open, try again soon.
            if not self._unsettled_noted:
                self._unsettled_noted = True
                self._emit([CameraUnsettledNote(now, self.clock.wall(), str(exc))])
            return None, 1.0
        except SourceError:
            frame = None
        if frame is None:
            if getattr(source, "ended", False) or not source.live:
                self.ended = True
                return None, 0.0
            self._failed_reads += 1
            if self._failed_reads >= LOST_AFTER_FAILED_READS:
                self._fault("camera stopped delivering frames; paused until it is back")
            return None, 1.0
        self._failed_reads = 0
        return frame, 0.0

    def between_samples(self, now: float, person: bool, interval: float, battery: bool, close_allowed: bool,
                        frames_watched: bool) -> float:
        """Keep a webcam open until the next sample, or release it (the light goes off); returns the
        seconds until the next sample, which an absence stretches to the next presence check."""
        if self.source is None or not getattr(unwrap(self.source), "warms_up", False):
            return interval
        decision = self.light.after_sample(now, person, interval, battery=battery, close_between=close_allowed,
                                           frames_watched=frames_watched)
        self.off_because = decision.why
        if not decision.keep_open:
            self.release(None)
        return decision.next_in

    def interrupt(self) -> None:
        """Quitting: a camera opening, settling or stalled must not hold the loop up."""
        self.stopping = True
        source = self.source or self._opening
        if source is not None:
            source.interrupt()

    def release(self, reason: str | None) -> None:
        if self.source is not None:
            self.source.close()
            self.source = None
        if reason is not None:
            self.status.paused_reason = reason

    def resume_now(self) -> None:
        self.retry_at = 0.0
        self.light.reset()  # someone just resumed: look now, whatever the absence before the pause

    def _ensure(self, now: float) -> FrameSource | None:
        if self.source is not None:
            return self.source
        if self.ended or now < self.retry_at:
            return None
        raw = self._open_source()
        # Live sources run behind a stall guard: a driver stuck in open() or read() becomes a reported
        # camera fault instead of a frozen loop that no longer answers pause or quit. A camera's
        # warm-up frames after each open are then read (each read guarded) and dropped, never judged.
        source = settled(guard(raw) if raw.live else raw, self.clock)
        self._opening = source
        try:
            if self.stopping:
                raise SourceStalled(f"{source.name}: stopping")
            source.open()
        except SourceError as exc:
            # Let go of what failed to open: a stalled open that completes later is then released by
            # the guard, instead of leaving the camera (and its light) on with nobody reading it.
            source.close()
            if self.stopping:
                return None  # quitting while the camera opened
            if isinstance(unwrap(source), ReplaySource):
                # A recording that cannot be opened will not get better by retrying: say so and end.
                self._emit([CameraLost(now, self.clock.wall(), str(exc), retrying=False)])
                self.ended = True
                return None
            first = self.status.paused_reason not in ("camera_busy", "camera_lost")
            self.retry_at = now + self._retry_delay
            self._retry_delay = min(RETRY_MAX_S, self._retry_delay * 2)
            if first:
                # One note, then quiet retries: a meeting app holding the camera is not an emergency.
                self.status.paused_reason = "camera_busy"
                self._emit([CameraLost(now, self.clock.wall(), str(exc), retrying=True)])
            return None
        finally:
            self._opening = None
        if self.status.paused_reason in ("camera_busy", "camera_lost"):
            self._emit([CameraBack(now, self.clock.wall())])
        self.status.paused_reason = None
        self._retry_delay = RETRY_MIN_S
        self.source = source
        self._unsettled_noted = False
        self.light.opened(now)
        return source

    def _fault(self, message: str) -> None:
        now = self.clock.monotonic()
        self.release("camera_lost")
        self._failed_reads = 0
        self.retry_at = now + self._retry_delay
        self._emit([CameraLost(now, self.clock.wall(), message, retrying=True)])


class Monitor:
    def __init__(
        self,
        open_source: Callable[[], FrameSource],
        finder: PersonFinder,
        clock: Clock,
        settings: Settings,
        baseline: Baseline | None = None,
        writer: HistorySink | None = None,
        breaks: BreakFactory | None = None,
        calibrate_span: tuple[float, float] | None = None,
        build_baseline: SpanBuilder | None = None,
        adaptive: bool = True,
        fixed_interval_s: float | None = None,
        environment: PauseProbe | None = None,
        source_name: str = "source",
    ) -> None:
        if calibrate_span is not None and build_baseline is None:
            raise ValueError("--calibrate-from needs a baseline builder")
        self.finder = finder
        self.clock = clock
        self.settings = settings
        calibration = (SpanCalibration(calibrate_span, build_baseline)
                       if calibrate_span is not None and build_baseline is not None else None)
        self.session = Session(Analyzer(finder, baseline, settings.sensitivity), clock, settings.nudge_settings(),
                               breaks=breaks, history=writer, calibration=calibration, source_name=source_name)
        fast, slow = settings.rates
        self.rate = AdaptiveRate(fast, slow)
        self.adaptive = adaptive
        self.fixed_interval = fixed_interval_s
        self.environment = environment  # screen lock / running apps probes, optional
        self.status = MonitorStatus(calibrated=baseline is not None)
        self.camera = CameraSupervisor(open_source, clock, self.status, self.session.emit)
        self.session.on_event(self._track_calibration)
        self._commands: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._frame_listener: FrameCallback | None = None
        self._manual_pause_until: float | None = None
        self._lent = False  # the camera is lent to a watched guided break (lend_camera / take_camera_back)
        self._last_env_check = -1e9
        self._env_reason: str | None = None
        self.source_name = source_name
        self.stop_event = threading.Event()

    # -- what the session owns, for readers on this thread and tests -------------------------------
    @property
    def analyzer(self) -> Analyzer:
        return self.session.analyzer

    @property
    def nudges(self) -> NudgePolicy:
        return self.session.nudges

    @property
    def breaks(self) -> BreakCoach | None:
        return self.session.breaks

    @property
    def ended(self) -> bool:
        return self.camera.ended

    @property
    def camera_open(self) -> bool:
        return self.camera.is_open

    # -- wiring -----------------------------------------------------------------------------------
    def on_sample(self, cb: SampleCallback) -> None:
        self.session.on_sample(cb)

    def on_event(self, cb: EventCallback) -> None:
        self.session.on_event(cb)

    def set_frame_listener(self, cb: FrameCallback | None) -> None:
        """Only the live view registers one, and only while it is open: no frame leaves the loop otherwise."""
        self._frame_listener = cb

    def submit(self, command: Callable[[], None]) -> None:
        """Run `command` on the monitor's thread before the next sample (thread-safe)."""
        self._commands.put(command)

    def emit(self, events: list[Event]) -> None:
        self.session.emit(events)

    def snapshot(self) -> SessionSnapshot:
        """What the tray shows, copied here on the monitor's thread."""
        breaks = self.session.breaks
        until = self._manual_pause_until
        return SessionSnapshot(
            sample=self.status.sample,
            paused_reason=self.status.paused_reason,
            pause_until_wall=(None if until is None or until == float("inf")
                              else self.clock.wall() + (until - self.clock.monotonic())),
            calibrated=self.analyzer.baseline is not None,
            calibration_fits=self.analyzer.calibration_fits,
            camera_open=self.camera.is_open,
            snoozed=self.nudges.snoozed,
            break_pending=breaks.pending if breaks is not None else None,
            break_state=breaks.state if breaks is not None else None,
            ended=self.ended,
            samples=self.status.samples,
        )

    # -- commands (call through submit() from other threads) --------------------------------------
    def pause(self, minutes: float | None = None) -> None:
        now = self.clock.monotonic()
        self._manual_pause_until = float("inf") if minutes is None else now + minutes * 60
        self.session.pause(minutes)
        self.camera.release("paused")

    def resume(self) -> None:
        self._manual_pause_until = None
        self.session.resume()
        self.status.paused_reason = None
        self.camera.resume_now()

    def lend_camera(self, released: threading.Event | None = None) -> None:
        """A guided break watches through the camera: let go of it until `take_camera_back`.

        `released` is set once the device is closed, so the break opens it only after the monitor let go
        (two opens of one webcam fail or fight on most drivers). Posture is not judged meanwhile: someone
        doing neck exercises is not slouching.
        """
        self._lent = True
        self.camera.release(BREAK_RELEASE)
        if released is not None:
            released.set()

    def take_camera_back(self) -> None:
        """The break is over (finished, skipped, closed or quit): watch again from the next sample."""
        if not self._lent:
            return
        self._lent = False
        if self.status.paused_reason == BREAK_RELEASE:
            self.status.paused_reason = None
        self.camera.resume_now()  # the person was just seen exercising: look at once, no presence back-off

    def snooze(self, minutes: float | None) -> None:
        self.session.snooze(minutes)

    def set_baseline(self, baseline: Baseline | None, source: str = "profile") -> None:
        self.session.set_baseline(baseline, source)
        self.status.calibrated = baseline is not None

    def stop(self) -> None:
        self.stop_event.set()
        self.camera.interrupt()

    def apply_settings(self, settings: Settings) -> None:
        """Take new settings without a restart: sensitivity, nudge timing, quiet hours, sampling mode.

        Camera, model and break-interval changes need a new monitor (the caller restarts it).
        """
        self.settings = settings
        self.session.apply_settings(settings)
        self.rate = AdaptiveRate(*settings.rates)

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
        import cv2

        opencv_threads = cv2.getNumThreads()
        cv2.setNumThreads(LIVE_OPENCV_THREADS)
        start = self.clock.monotonic()
        # --calibrate-from counts seconds from the start of the run (= of a replayed clip), not on the clock's
        # own scale: SystemClock.monotonic() counts from boot.
        self.session.start(start, self.clock.wall())
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
            cv2.setNumThreads(opencv_threads)  # the rest of the process (an analysis, the app) as it was

    def shutdown(self) -> None:
        try:
            # Commands sent just before quitting (e.g. "finish the break") still count.
            self.run_pending_commands()
            self.camera.release(None)
            for analysis in self.session.finish(self.clock.monotonic(), self.clock.wall()):
                self._after(analysis)
        finally:
            # The person finder's models are closed here, on the thread that ran them, whoever built the
            # finder: a Tasks model left to the garbage collector closes itself from a finalizer, which can
            # deadlock at exit on Python 3.13. Closing is idempotent, so an owner closing it again is fine.
            self.finder.close()

    def step(self) -> float:
        """Take one sample (or decide not to) and return the seconds until the next one."""
        self.run_pending_commands()
        now = self.clock.monotonic()
        self.session.start(now, self.clock.wall())
        reason = self._pause_reason(now)
        if reason is not None:
            self.camera.release(reason)
            return 1.0
        frame, wait = self.camera.read(now)
        if frame is None:
            return wait
        t, wall = self.clock.monotonic(), self.clock.wall()
        try:
            detection = self._detect(frame.image, t)
        except ValueError as exc:  # a frame of the wrong size or type: say so once per run, carry on
            self.session.bad_frame(t, wall, str(exc))
            return 1.0
        analyses = self.session.judge(detection, t, wall)
        for analysis in analyses:
            self._after(analysis)
        if self._frame_listener is not None and analyses:
            self._frame_listener(frame.image, analyses[-1])
        last = analyses[-1].sample if analyses else None
        interval = self.fixed_interval or (self.rate.next_interval(last) if self.adaptive and last is not None
                                           else 1.0 / self.rate.fast_hz)
        if last is not None:
            interval = self.camera.between_samples(
                last.t, last.person, interval, battery=self.settings.sampling_mode == "battery",
                close_allowed=self.settings.close_camera_between_samples,
                frames_watched=self._frame_listener is not None)
        return interval

    # -- internals --------------------------------------------------------------------------------
    def _detect(self, image: np.ndarray, t: float) -> Detection | None:
        last = self.status.sample.state if self.status.sample else None
        if self.adaptive and not self.rate.wants_pose(t, last) and self.finder.presence(image) == 0:
            # Nobody here a moment ago and the cheap face check still sees no one: skip the pose model.
            self.status.presence_checks += 1
            self.session.nobody()
            return None
        self.rate.pose_ran(t)
        detection = self.session.detect(image, t)
        self.status.pose_runs = self.analyzer.pose_runs
        return detection

    def _after(self, analysis: Analysis) -> None:
        self.status.sample = analysis.sample
        self.status.samples += 1
        self.status.calibration_fits = self.analyzer.calibration_fits

    def _track_calibration(self, event: Event) -> None:
        self.status.calibrated = self.analyzer.baseline is not None

    def _pause_reason(self, now: float) -> str | None:
        if self._manual_pause_until is not None:
            if now < self._manual_pause_until:
                return "paused"
            self.resume()
        if self._lent:
            return BREAK_RELEASE
        if self.environment is not None and now - self._last_env_check >= 10.0:
            self._last_env_check = now
            reason = self.environment.pause_reason(self.settings)
            if reason != self._env_reason:
                if reason is not None:
                    self.emit([Paused(now, self.clock.wall(), reason=reason)])
                else:
                    self.emit([Resumed(now, self.clock.wall(), reason=self._env_reason)])
                self._env_reason = reason
        return self._env_reason
