"""Offline analysis of a recorded source: the engine behind `posture analyze` and `posture evaluate`.

The source is read once. With `calibrate_span`, detections are buffered until the span has been seen,
the baseline is built from it, and the buffered samples are then judged as if the baseline had been
known from the start, so calibrating from any span of a clip costs no second decoding pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from posture.analyzer import Analysis, Analyzer
from posture.baseline import Baseline
from posture.coach.nudges import NudgePolicy, NudgeSettings
from posture.errors import SourceError
from posture.metrics import METRIC_NAMES, MetricSet, compute_metrics
from posture.person import Detection, PersonFinder
from posture.samples import Event, PostureSample
from posture.sources import FrameSource, sample_frames


class SourceClock:
    """A clock that reads the source's timeline: nudge timing in a clip follows the clip, not the CPU."""

    def __init__(self, wall_start: float) -> None:
        self.t = 0.0
        self.wall_start = wall_start

    def monotonic(self) -> float:
        return self.t

    def wall(self) -> float:
        return self.wall_start + self.t

    def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)


@dataclass
class AnalysisResult:
    source: str
    samples: list[PostureSample] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    frames_read: int = 0
    frames_decoded: int = 0
    frames_skipped: int = 0
    duration: float = 0.0
    baseline: Baseline | None = None
    pose_runs: int = 0
    pose_reused: int = 0

    def summary(self) -> dict[str, Any]:
        n = len(self.samples)
        valid = sum(1 for s in self.samples if s.person)
        metrics: dict[str, dict[str, float] | None] = {}
        for name in METRIC_NAMES:
            vals = np.array([s.metrics[name] for s in self.samples if s.metrics.get(name) is not None], dtype=float)
            metrics[name] = (
                {"median": round(float(np.median(vals)), 4), "min": round(float(vals.min()), 4),
                 "max": round(float(vals.max()), 4)}
                if len(vals) else None
            )
        states: dict[str, float] = {}
        for s in self.samples:
            states[s.state] = states.get(s.state, 0) + 1
        views = [s.view for s in self.samples if s.view]
        return {
            "frames_read": self.frames_read,
            "frames_decoded": self.frames_decoded,
            "frames_skipped_undecoded": self.frames_skipped,
            "pose_runs": self.pose_runs,
            "pose_reused_unchanged_frame": self.pose_reused,
            "samples": n,
            "valid_user_pct": round(100.0 * valid / n, 1) if n else 0.0,
            "duration_s": round(self.duration, 2),
            "view": max(set(views), key=views.count) if views else None,
            "metrics": metrics,
            "state_pct": {k: round(100.0 * v / n, 1) for k, v in sorted(states.items())} if n else {},
            "nudges": sum(1 for e in self.events if e.kind == "nudge"),
            "calibrated": self.baseline is not None,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "samples": [s.to_json() for s in self.samples],
            "events": [e.to_json() for e in self.events],
            "summary": self.summary(),
        }


BaselineBuilder = Callable[[list[MetricSet | None]], Baseline]


def analyze_source(
    source: FrameSource,
    finder: PersonFinder,
    rate_hz: float = 2.0,
    baseline: Baseline | None = None,
    calibrate_span: tuple[float, float] | None = None,
    build_baseline: BaselineBuilder | None = None,
    sensitivity: str = "medium",
    nudge_settings: NudgeSettings | None = None,
    wall_start: float = 0.0,
    motion_gate: bool = True,
    breaks: Callable[[SourceClock], Any] | None = None,
    on_sample: Callable[[PostureSample], None] | None = None,
    on_event: Callable[[Event], None] | None = None,
    progress: Callable[[float], None] | None = None,
) -> AnalysisResult:
    clock = SourceClock(wall_start)
    analyzer = Analyzer(finder, baseline, sensitivity, motion_gate=motion_gate)
    nudges = NudgePolicy(clock, nudge_settings or NudgeSettings())
    scheduler = breaks(clock) if breaks is not None else None
    result = AnalysisResult(source.name, baseline=baseline)
    pending: list[tuple[float, Detection]] = []
    span_obs: list[MetricSet | None] = []
    waiting_for_span = calibrate_span is not None

    def emit(analysis: Analysis) -> None:
        clock.t = analysis.sample.t
        result.samples.append(analysis.sample)
        if on_sample:
            on_sample(analysis.sample)
        events = list(analysis.events) + nudges.observe(analysis.sample.state, analysis.sample.reasons)
        if scheduler is not None:
            events += scheduler.observe(analysis.sample)
        for e in events:
            result.events.append(e)
            if on_event:
                on_event(e)

    def finish_calibration() -> None:
        nonlocal waiting_for_span
        waiting_for_span = False
        if build_baseline is None:
            raise SourceError("no baseline builder given for --calibrate-from")
        base = build_baseline(span_obs)
        analyzer.set_baseline(base)
        result.baseline = base
        result.events.append(Event(calibrate_span[1] if calibrate_span else 0.0, wall_start, "calibration",
                                   {"span": list(calibrate_span or ()), "view": base.view}))
        for t, det in pending:
            emit(analyzer.judge_detection(det, t, wall_start + t))
        pending.clear()

    duration = source.duration
    try:
        for frame in sample_frames(source, rate_hz):
            t = frame.t
            if waiting_for_span and calibrate_span is not None and t > calibrate_span[1]:
                finish_calibration()
            try:
                detection = analyzer.detect(frame.image, t)
            except ValueError as exc:  # a frame of the wrong size or type: report and go on
                result.events.append(Event(t, wall_start + t, "bad_frame", {"error": str(exc)}))
                continue
            if waiting_for_span and calibrate_span is not None:
                if calibrate_span[0] <= t <= calibrate_span[1]:
                    ok = detection.validity.ok and detection.pose is not None
                    span_obs.append(compute_metrics(detection.pose) if ok and detection.pose else None)
                pending.append((t, detection))
            else:
                emit(analyzer.judge_detection(detection, t, wall_start + t))
            if progress and duration:
                progress(min(1.0, t / duration))
        if waiting_for_span:
            if calibrate_span is not None and not span_obs:
                raise SourceError(
                    f"--calibrate-from {calibrate_span[0]:g}:{calibrate_span[1]:g} lies outside {source.name}, "
                    "which is shorter; pick a span inside the clip"
                )
            finish_calibration()
    finally:
        result.frames_read = source.frames_read
        result.frames_decoded = source.frames_decoded
        result.frames_skipped = source.frames_skipped
        result.pose_runs = analyzer.pose_runs
        result.pose_reused = analyzer.pose_reused
        fps = source.fps or 0
        result.duration = result.frames_read / fps if fps else (result.samples[-1].t if result.samples else 0.0)
    return result
