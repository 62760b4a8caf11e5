"""One frame in, one `PostureSample` out: person finding, metrics, baseline fit, judgement and state."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from posture.baseline import Baseline
from posture.events import CalibrationFits, CalibrationMismatch, Event
from posture.metrics import METRIC_NAMES, MetricSet, compute_metrics
from posture.motion import MotionGate
from posture.person import Detection, PersonFinder
from posture.pose import check_frame
from posture.samples import PostureSample
from posture.scoring import FitChecker, Judgement, StateTracker, judge


@dataclass(frozen=True, slots=True)
class Analysis:
    sample: PostureSample
    detection: Detection | None
    metrics: MetricSet | None
    judgement: Judgement | None
    events: tuple[Event, ...] = ()


class Analyzer:
    def __init__(self, finder: PersonFinder, baseline: Baseline | None = None, sensitivity: str = "medium",
                 motion_gate: bool = True) -> None:
        self.finder = finder
        self.gate = MotionGate() if motion_gate else None
        self._last_detection: Detection | None = None
        self.pose_runs = 0
        self.pose_reused = 0
        self.sensitivity = sensitivity
        self.tracker = StateTracker()
        self.baseline: Baseline | None = None
        self.fit: FitChecker | None = None
        self.set_baseline(baseline)

    def set_baseline(self, baseline: Baseline | None) -> None:
        self.baseline = baseline
        self.fit = FitChecker(baseline) if baseline is not None else None

    @property
    def calibration_fits(self) -> bool:
        return self.fit is None or self.fit.fits

    def detect(self, image: np.ndarray, t: float) -> Detection:
        """Find the user, re-using the last result when the picture has not changed since it was taken."""
        image = check_frame(image)  # a malformed frame is a ValueError here, before any native code sees it
        if self.gate is not None and self._last_detection is not None and self.gate.unchanged(image, t):
            self.pose_reused += 1
            return self._last_detection
        detection = self.finder.find(image)
        self.pose_runs += 1
        if self.gate is not None:
            self.gate.ran(image, t)
        self._last_detection = detection
        return detection

    def process(self, image: np.ndarray, t: float, wall: float) -> Analysis:
        return self.judge_detection(self.detect(image, t), t, wall)

    def forget(self) -> None:
        """The cheap presence check saw nobody, so pose was not run: the next frame needs a fresh pose."""
        self._last_detection = None
        if self.gate is not None:
            self.gate.reset()

    def absent(self, t: float, wall: float) -> Analysis:
        """A sample where the cheap presence check saw nobody, so pose was not run."""
        self.forget()
        return self.judge_detection(None, t, wall)

    def judge_detection(self, detection: Detection | None, t: float, wall: float) -> Analysis:
        valid = detection is not None and detection.validity.ok and detection.pose is not None
        metrics = compute_metrics(detection.pose) if valid and detection and detection.pose else None
        events: list[Event] = []
        if self.fit is not None:
            before = self.fit.fits
            after = self.fit.update(t, metrics)
            if before != after:
                events.append(CalibrationFits(t, wall) if after else CalibrationMismatch(t, wall))
        judgement = None
        if metrics is None:
            status = "away"
        elif self.baseline is None or not self.calibration_fits:
            status = "unknown"
        else:
            judgement = judge(metrics, self.baseline, self.sensitivity)
            status = "judged" if judgement is not None else "unknown"
        score, state = self.tracker.update(t, judgement.score if judgement else None, status)
        values = metrics.values if metrics is not None else dict.fromkeys(METRIC_NAMES)
        sample = PostureSample(
            t=t,
            wall=wall,
            person=metrics is not None,
            view=metrics.view if metrics is not None else None,
            metrics=dict(values),
            score=score,
            raw_score=judgement.score if judgement else None,
            raw_state=judgement.state if judgement else None,
            state=state,
            reasons=judgement.reasons if judgement and state not in ("away", "unknown") else (),
        )
        return Analysis(sample, detection, metrics, judgement, tuple(events))
