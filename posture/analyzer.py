"""One frame in, one `PostureSample` out: person finding, metrics, baseline fit, judgement and state."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from posture.baseline import Baseline
from posture.events import CalibrationFits, CalibrationMismatch, Event, RecalibrationSuggested
from posture.judgeable import RECALIBRATE_MESSAGE, RecalibrationAdvisor, SampleQuality, assess
from posture.metrics import METRIC_NAMES, MetricSet, compute_metrics
from posture.motion import MotionGate
from posture.person import Detection, PersonFinder
from posture.pose import check_frame
from posture.preprocess import frame_quality
from posture.samples import PostureSample
from posture.scoring import FitChecker, Judgement, StateTracker, judge


@dataclass(frozen=True, slots=True)
class Analysis:
    sample: PostureSample
    detection: Detection | None
    metrics: MetricSet | None
    judgement: Judgement | None
    events: tuple[Event, ...] = ()


# Frames whose brightness is remembered as "the light at calibration" when a profile does not record it.
LIGHT_HISTORY = 20


def _reasons(state: str, judgement: Judgement | None, quality: SampleQuality) -> tuple[str, ...]:
    """What the user is told: the posture's reasons while judged; why not, while it cannot be judged."""
    if state == "unknown" and quality.unjudgeable is not None:
        return (quality.unjudgeable,)
    return judgement.reasons if judgement and state not in ("away", "unknown") else ()


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
        self.advisor: RecalibrationAdvisor | None = None
        self._light: list[float] = []  # brightness of the latest analysed frames
        self.set_baseline(baseline)

    def set_baseline(self, baseline: Baseline | None) -> None:
        self.baseline = baseline
        self.fit = FitChecker(baseline) if baseline is not None else None
        self.advisor = None
        if baseline is not None:
            # The light at calibration: recorded in the profile, or else what the camera saw just before.
            light = baseline.meta.get("brightness")
            if not isinstance(light, (int, float)) and self._light:
                light = float(np.median(self._light))
            self.advisor = RecalibrationAdvisor(float(light) if isinstance(light, (int, float)) else None,
                                                baseline.anchor)

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
        detection = replace(detection, quality=frame_quality(image), size=(image.shape[1], image.shape[0]))
        self._light.append(detection.quality.brightness if detection.quality else 0.0)
        del self._light[:-LIGHT_HISTORY]
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
        quality = assess(detection.quality if detection else None, detection.pose if detection else None,
                         detection.size if detection else None)
        if metrics is not None and self.baseline is not None and metrics.view != self.baseline.view:
            # Seen from another side than at calibration (turned away, or the pose model "finding" a person
            # in a poster): nothing here can be compared with the baseline, so nothing is judged.
            quality = SampleQuality(0.0, "turned_away")
        if metrics is not None and self.advisor is not None and self.calibration_fits:
            what = self.advisor.update(t, detection.quality.brightness if detection and detection.quality else None,
                                       metrics.anchor)
            if what is not None:
                events.append(RecalibrationSuggested(t, wall, what, RECALIBRATE_MESSAGE))
        if metrics is None:
            status = "away"
        elif self.baseline is None or not self.calibration_fits or quality.unjudgeable is not None:
            status = "unknown"
        else:
            judgement = judge(metrics, self.baseline, self.sensitivity)
            status = "judged" if judgement is not None else "unknown"
        score, state = self.tracker.update(t, judgement.score if judgement else None, status, quality.quality)
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
            reasons=_reasons(state, judgement, quality),
        )
        return Analysis(sample, detection, metrics, judgement, tuple(events))
