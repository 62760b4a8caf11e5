"""The one engine: from a person found in a frame to samples, nudges, breaks, break effects and history.

A `Session` owns the analyzer (judgement, state tracker, baseline fit), the nudge policy, the break
coach, the break-effect tracker and the history sink. It never reads a frame source and never waits:
two thin drivers feed it.

- `posture.pipeline.analyze_source` reads a recording at a fixed rate (`analyze`, `evaluate`, the
  accuracy tests and benchmarks);
- `posture.monitor.Monitor` runs the camera all day (camera supervision, adaptive sampling, pauses).

Because both go through the same `Session.judge`, the accuracy figures measure the path users run, and
`--calibrate-from` behaves the same in both (see `SpanCalibration`).

Time. Nudges and breaks read the clock. While a sample is judged the session's clock reads that
sample's time (`SampleTime`), so a sample judged late — the samples of a calibration span, judged once
the baseline exists — is timed as when it was seen, by either driver.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from posture.analyzer import Analysis, Analyzer
from posture.baseline import Baseline
from posture.clock import Clock
from posture.coach.breaks import ON_BREAK, BreakSuggestion
from posture.coach.nudges import NudgePolicy, NudgeSettings
from posture.effect_tracker import EffectTracker
from posture.errors import UserError
from posture.events import (
    BadFrame,
    BreakCompleted,
    Calibrated,
    CalibrationFailed,
    Event,
    SessionEnded,
    SessionStarted,
)
from posture.metrics import MetricSet, compute_metrics
from posture.person import Detection
from posture.ports import BreakCoach, HistorySink
from posture.samples import PostureSample
from posture.settings import Settings

SampleListener = Callable[[PostureSample], None]
EventListener = Callable[[Event], None]
# Builds a baseline from the metrics seen in a span (None: no valid user in that sample); raises
# ValueError or UserError with a message for the person when the span cannot make one.
SpanBuilder = Callable[[list[MetricSet | None]], Baseline]
BreakFactory = Callable[[Clock], BreakCoach | None]


class SampleTime:
    """The session's clock: the time of the sample being judged, otherwise the driver's clock."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._at: tuple[float, float] | None = None

    def monotonic(self) -> float:
        return self._at[0] if self._at is not None else self.clock.monotonic()

    def wall(self) -> float:
        return self._at[1] if self._at is not None else self.clock.wall()

    def sleep(self, seconds: float) -> None:
        self.clock.sleep(seconds)

    def at(self, t: float, wall: float) -> None:
        self._at = (t, wall)

    def release(self) -> None:
        self._at = None


class SpanCalibration:
    """`--calibrate-from START:END`: one strategy for every driver.

    The span counts seconds from the start of the run (`origin`: 0 for a recording, the first sample's
    clock time for a camera). Samples up to the end of the span are held unjudged; the first sample
    after it (or the end of the source) builds the baseline from the valid users seen inside the span,
    and then every held sample is judged against it, in order, timed as when it was seen.
    """

    def __init__(self, span: tuple[float, float], build: SpanBuilder) -> None:
        self.span = span
        self.build = build
        self.observations: list[MetricSet | None] = []
        # (detection, clock time, wall time, inside the span): inside it the person was asked to sit
        # upright, so those samples are recorded but never start a nudge.
        self.held: list[tuple[Detection | None, float, float, bool]] = []
        self.waiting = True

    def inside(self, rel: float) -> bool:
        return self.span[0] <= rel <= self.span[1]

    def past(self, rel: float) -> bool:
        return rel > self.span[1]

    def hold(self, detection: Detection | None, t: float, wall: float, rel: float) -> None:
        inside = self.inside(rel)
        if inside:
            ok = detection is not None and detection.validity.ok and detection.pose is not None
            self.observations.append(compute_metrics(detection.pose) if ok and detection and detection.pose else None)
        self.held.append((detection, t, wall, inside))

    def describe(self) -> str:
        return f"--calibrate-from {self.span[0]:g}:{self.span[1]:g}"


@dataclass(frozen=True, slots=True)
class SessionSnapshot:
    """What the tray shows, copied on the engine's thread (never a live reference)."""

    sample: PostureSample | None = None
    paused_reason: str | None = None  # "paused", "camera_busy", "camera_lost", "screen_locked", "app:NAME"
    pause_until_wall: float | None = None  # a timed pause's end (epoch s); None: none, or until resumed
    calibrated: bool = False
    calibration_fits: bool = True
    camera_open: bool = False
    snoozed: bool = False
    break_pending: BreakSuggestion | None = None  # the suggestion waiting for an answer
    break_state: str | None = None  # the coach's state, None without breaks
    ended: bool = False  # a recording reached its end
    samples: int = 0

    @property
    def state(self) -> str:
        return self.sample.state if self.sample is not None else "unknown"


class Session:
    def __init__(
        self,
        analyzer: Analyzer,
        clock: Clock,
        nudge_settings: NudgeSettings | None = None,
        *,
        breaks: BreakFactory | None = None,
        history: HistorySink | None = None,
        calibration: SpanCalibration | None = None,
        source_name: str = "source",
    ) -> None:
        self.analyzer = analyzer
        self.time = SampleTime(clock)
        self.nudges = NudgePolicy(self.time, nudge_settings or NudgeSettings())
        self.breaks: BreakCoach | None = breaks(self.time) if breaks is not None else None
        self.history = history
        self.calibration = calibration
        self.effects = EffectTracker()
        self.source_name = source_name
        self.origin: float | None = None
        self.last_sample: PostureSample | None = None
        self.samples = 0
        self.bad_frame_error: str | None = None
        self.calibration_error: str | None = None
        self.started = False
        self._sample_listeners: list[SampleListener] = []
        self._event_listeners: list[EventListener] = []

    # -- wiring -----------------------------------------------------------------------------------
    def on_sample(self, cb: SampleListener) -> None:
        self._sample_listeners.append(cb)

    def on_event(self, cb: EventListener) -> None:
        self._event_listeners.append(cb)

    @property
    def baseline(self) -> Baseline | None:
        return self.analyzer.baseline

    # -- the run ----------------------------------------------------------------------------------
    def start(self, origin: float, wall: float) -> None:
        """The run begins at `origin` (driver clock seconds); `--calibrate-from` counts from here."""
        if self.origin is None:
            self.origin = origin
        if not self.started:
            self.started = True
            self.emit([SessionStarted(origin, wall, self.source_name)])

    def detect(self, image: np.ndarray, t: float) -> Detection:
        """Find the user in a frame; a malformed frame is a ValueError (report it with `bad_frame`)."""
        cal = self.calibration
        origin = self.origin if self.origin is not None else t
        # Inside a calibration span every sample is a fresh look, as in the calibration wizard
        # (calibration/session.py): the baseline is the reference for every later judgement, and the motion
        # gate, re-using one look while a calibrating user's small movements stayed under its threshold,
        # made it one look wide (three of five calibration stills of the real footage read as one).
        fresh = cal is not None and cal.waiting and not cal.past(t - origin)
        return self.analyzer.detect(image, t, fresh=fresh)

    def nobody(self) -> None:
        """The cheap presence check saw no one, so no pose ran: forget the last detection."""
        self.analyzer.forget()

    def judge(self, detection: Detection | None, t: float, wall: float) -> list[Analysis]:
        """Judge one detection (None: nobody there). Returns the analyses made now, in order: none while a
        calibration span is being held, all the held ones (then this one) when the span closes."""
        if self.origin is None:
            self.start(t, wall)
        cal = self.calibration
        if cal is not None and cal.waiting:
            rel = t - (self.origin or 0.0)
            if not cal.past(rel):
                cal.hold(detection, t, wall, rel)
                return []
            out = self._close_span(t, wall)
            return [*out, self._record(detection, t, wall)]
        return [self._record(detection, t, wall)]

    def bad_frame(self, t: float, wall: float, error: str) -> None:
        """A frame of the wrong size or type: said once per run, then the run carries on."""
        if self.bad_frame_error is None:
            self.bad_frame_error = error
            self.emit([BadFrame(t, wall, error)])

    def finish(self, t: float, wall: float) -> list[Analysis]:
        """The run ends (a recording's end, or quitting): close a span still open, measure pending break
        effects with what was seen, and flush the history."""
        out: list[Analysis] = []
        cal = self.calibration
        if cal is not None and cal.waiting:
            if cal.observations:
                out = self._close_span(t, wall)
            else:
                cal.waiting = False
                self._calibration_failed(t, wall, f"{cal.describe()} lies outside {self.source_name}, which is "
                                                  "shorter; pick a span inside it")
                out = self._record_held(cal)
        self.emit(self.effects.due(t, wall, final=True))
        if self.started:
            self.started = False
            self.emit([SessionEnded(t, wall)])
        if self.history is not None:
            self.history.flush()
        return out

    # -- commands (from the driver's thread only) --------------------------------------------------
    def pause(self, minutes: float | None) -> None:
        self.emit([self.nudges.pause(minutes)])
        if self.breaks is not None:
            self.emit(self.breaks.set_paused(True))

    def resume(self) -> None:
        self.emit([self.nudges.resume()])
        if self.breaks is not None:
            self.emit(self.breaks.set_paused(False))

    def snooze(self, minutes: float | None) -> None:
        self.emit([self.nudges.snooze(minutes)])

    def set_baseline(self, baseline: Baseline | None, source: str = "profile") -> None:
        self.analyzer.set_baseline(baseline)
        if baseline is not None:
            self.emit([Calibrated(self.time.monotonic(), self.time.wall(), baseline.view, source=source)])

    def apply_settings(self, settings: Settings) -> None:
        """Sensitivity, nudge timing and quiet hours take effect at once."""
        self.nudges.settings = settings.nudge_settings()
        self.analyzer.sensitivity = settings.sensitivity
        if self.breaks is not None:
            self.breaks.set_quiet_hours(settings.nudge_settings().quiet_hours)

    def answer_break(self, answer: str) -> None:
        """The person's answer to a waiting suggestion: "postpone" (the short delay) or "skip"."""
        if self.breaks is None:
            return
        if answer == "postpone":
            self.emit(self.breaks.postpone(self.breaks.settings.postpone_short_min))
        elif answer == "skip":
            self.emit(self.breaks.skip())
        else:
            raise ValueError(f"answer must be 'postpone' or 'skip', got {answer!r}")

    def start_break(self, routine_id: str, take_pending: bool = False) -> bool:
        """Record that a routine started (the waiting suggestion's, when `take_pending`). False when the
        routine is not offered (e.g. after the safety answers) or no coach runs."""
        if self.breaks is None:
            return False
        try:
            events = self.breaks.accept() if take_pending else []
            self.emit(events or self.breaks.start(routine_id))
        except ValueError:
            return False
        return True

    def finish_break(self, felt: str | None, completed: bool) -> None:
        if self.breaks is not None:
            self.emit(self.breaks.complete(felt, finished=completed))

    # -- internals --------------------------------------------------------------------------------
    def _close_span(self, t: float, wall: float) -> list[Analysis]:
        cal = self.calibration
        assert cal is not None
        cal.waiting = False
        try:
            baseline = cal.build(cal.observations)
        except (UserError, ValueError) as exc:
            # Keep watching without judging; the reason reaches the person as an event.
            self._calibration_failed(t, wall, str(exc))
        else:
            self.analyzer.set_baseline(baseline)
            self.emit([Calibrated(t, wall, baseline.view, source="span", span=cal.span)])
        return self._record_held(cal)

    def _calibration_failed(self, t: float, wall: float, error: str) -> None:
        self.calibration_error = error
        self.emit([CalibrationFailed(t, wall, error)])

    def _record_held(self, cal: SpanCalibration) -> list[Analysis]:
        # A look that misreads one of the calibration frames (a deviant pose-model answer held by the
        # motion gate) must not nudge someone for the upright posture they were asked to hold.
        out = [self._record(d, ht, hw, may_nudge=not inside) for d, ht, hw, inside in cal.held]
        cal.held.clear()
        return out

    def _record(self, detection: Detection | None, t: float, wall: float, may_nudge: bool = True) -> Analysis:
        self.time.at(t, wall)
        try:
            analysis = self.analyzer.judge_detection(detection, t, wall)
            sample = analysis.sample
            self.last_sample = sample
            self.samples += 1
            if self.history is not None:
                self.history.add_sample(sample)
            self.effects.add(sample)
            for cb in self._sample_listeners:
                cb(sample)
            events: list[Event] = list(analysis.events)
            # During a guided break the person is doing their exercises, not slouching at the screen:
            # no nudge (and no poor episode carried over into the break).
            on_break = self.breaks is not None and self.breaks.state == ON_BREAK
            events += self.nudges.observe(sample.state if may_nudge and not on_break else "unknown", sample.reasons)
            if self.breaks is not None:
                events += self.breaks.observe(sample)
            events += self.effects.due(t, wall)
            self.emit(events)
        finally:
            self.time.release()
        return analysis

    def emit(self, events: list[Event]) -> None:
        """Record events (including those a command made, such as a break started) and tell listeners."""
        for e in events:
            if isinstance(e, BreakCompleted):
                self.effects.break_completed(e)
            if self.history is not None:
                self.history.add_event(e)
            for cb in self._event_listeners:
                cb(e)
