"""The fixed-rate driver: a recorded source read once at `rate_hz` into a `Session`.

It drives `posture analyze`, `posture evaluate`, the accuracy tests and the benchmarks, through the same
`posture.session.Session` the companion runs. Time follows the recording (`SourceClock`), so a clip
analyses as fast as the CPU allows while nudges and breaks see the clip's own timeline.
`--calibrate-from` is the session's `SpanCalibration`: one decoding pass whatever the span.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypedDict

import numpy as np

from posture.analyzer import Analyzer
from posture.baseline import Baseline
from posture.coach.nudges import NudgeSettings
from posture.events import Event, NudgeShown, event_json
from posture.metrics import METRIC_NAMES
from posture.person import PersonFinder
from posture.ports import HistorySink
from posture.samples import PostureSample
from posture.session import BreakFactory, Session, SpanBuilder, SpanCalibration
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


class MetricRange(TypedDict):
    median: float
    min: float
    max: float


class Summary(TypedDict):
    frames_read: int
    frames_decoded: int
    frames_skipped_undecoded: int
    pose_runs: int
    pose_reused_unchanged_frame: int
    samples: int
    valid_user_pct: float
    duration_s: float
    view: str | None
    metrics: dict[str, MetricRange | None]
    state_pct: dict[str, float]
    nudges: int
    calibrated: bool


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
    calibration_error: str | None = None  # why --calibrate-from made no baseline, if it did not

    def summary(self) -> Summary:
        n = len(self.samples)
        valid = sum(1 for s in self.samples if s.person)
        metrics: dict[str, MetricRange | None] = {}
        for name in METRIC_NAMES:
            vals = np.array([s.metrics[name] for s in self.samples if s.metrics.get(name) is not None], dtype=float)
            metrics[name] = (
                MetricRange(median=round(float(np.median(vals)), 4), min=round(float(vals.min()), 4),
                            max=round(float(vals.max()), 4))
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
            "nudges": sum(1 for e in self.events if isinstance(e, NudgeShown)),
            "calibrated": self.baseline is not None,
        }

    def to_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "samples": [s.to_json() for s in self.samples],
            "events": [event_json(e) for e in self.events],
            "summary": self.summary(),
        }


def analyze_source(
    source: FrameSource,
    finder: PersonFinder,
    rate_hz: float = 2.0,
    baseline: Baseline | None = None,
    calibrate_span: tuple[float, float] | None = None,
    build_baseline: SpanBuilder | None = None,
    sensitivity: str = "medium",
    nudge_settings: NudgeSettings | None = None,
    wall_start: float = 0.0,
    motion_gate: bool = True,
    breaks: BreakFactory | None = None,
    history: HistorySink | None = None,
    progress: Callable[[float], None] | None = None,
) -> AnalysisResult:
    if calibrate_span is not None and build_baseline is None:
        raise ValueError("--calibrate-from needs a baseline builder")
    clock = SourceClock(wall_start)
    analyzer = Analyzer(finder, baseline, sensitivity, motion_gate=motion_gate)
    calibration = (SpanCalibration(calibrate_span, build_baseline)
                   if calibrate_span is not None and build_baseline is not None else None)
    session = Session(analyzer, clock, nudge_settings, breaks=breaks, history=history, calibration=calibration,
                      source_name=source.name)
    result = AnalysisResult(source.name, baseline=baseline)
    session.on_sample(result.samples.append)
    session.on_event(result.events.append)
    session.start(0.0, wall_start)  # a recording's --calibrate-from counts from its first frame
    duration = source.duration
    try:
        for frame in sample_frames(source, rate_hz):
            t = frame.t
            clock.t = t
            try:
                detection = session.detect(frame.image, t)
            except ValueError as exc:  # a frame of the wrong size or type: report and go on
                session.bad_frame(t, clock.wall(), str(exc))
                continue
            session.judge(detection, t, clock.wall())
            if progress and duration:
                progress(min(1.0, t / duration))
        session.finish(clock.t, clock.wall())
    finally:
        result.baseline = session.baseline
        result.calibration_error = session.calibration_error
        result.frames_read = source.frames_read
        result.frames_decoded = source.frames_decoded
        result.frames_skipped = source.frames_skipped
        result.pose_runs = analyzer.pose_runs
        result.pose_reused = analyzer.pose_reused
        fps = source.fps or 0
        result.duration = result.frames_read / fps if fps else (result.samples[-1].t if result.samples else 0.0)
    return result
