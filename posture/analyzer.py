"""One frame in, one `PostureSample` out: person finding, metrics, baseline fit, judgement and state."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from posture.baseline import Baseline
from posture.burst import StillLooks
from posture.camera_motion import CameraMotion, crowded_weight, rectify
from posture.events import CalibrationFits, CalibrationMismatch, Event, RecalibrationSuggested
from posture.judgeable import RECALIBRATE_MESSAGE, RecalibrationAdvisor, SampleQuality, assess
from posture.landmarks import Pose
from posture.light_shift import calibration_light
from posture.metrics import METRIC_NAMES, MetricSet, compute_metrics
from posture.motion import MotionGate, settles
from posture.person import Detection, PersonFinder
from posture.pose import check_frame
from posture.preprocess import FrameQuality, frame_quality, person_box
from posture.samples import PostureSample
from posture.scoring import ENTER_GOOD, ENTER_POOR, FitChecker, Judgement, StateTracker, judge


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


# A user whose head-and-shoulders box covers less than this share of the picture is watched by the motion
# gate in that box alone: in the whole frame, a small user's forward head changed the thumbnail by under
# the gate's threshold, so a whole slouch was judged from the pose taken before it.
SMALL_USER_AREA = 0.3


def _small_user_region(detection: Detection, width: int, height: int) -> tuple[int, int, int, int] | None:
    if not detection.validity.ok or detection.pose is None:
        return None
    box = person_box(detection.pose)
    if box is None or (box[2] - box[0]) * (box[3] - box[1]) >= SMALL_USER_AREA:
        return None
    x0, y0 = int(box[0] * width), int(box[1] * height)
    x1, y1 = int(np.ceil(box[2] * width)), int(np.ceil(box[3] * height))
    return (x0, y0, x1, y1) if x1 - x0 >= 16 and y1 - y0 >= 16 else None


def _gate_view(image: np.ndarray, box: tuple[int, int, int, int] | None) -> np.ndarray:
    if box is None:
        return image
    x0, y0, x1, y1 = box
    view = image[y0:y1, x0:x1]
    return view if view.shape[0] >= 16 and view.shape[1] >= 16 else image


def _poor_light(detection: Detection) -> bool:
    # In poor light a posture change moves a dim, low-contrast picture too little for the good-light motion
    # gate to notice (a whole head tilt under a backlit window changed the thumbnail by 2.5 grey levels, under
    # the gate's 3), and one look at a grainy picture is a noisy measurement: look afresh at every sample
    # and combine the looks at an unchanged picture (posture.burst) until they agree; then stop, and let
    # the gate judge a change against the still picture's own variation (MotionGate `sensitive`). Extra
    # work only while the light is poor and the posture is in doubt.
    return detection.quality is not None and detection.quality.poor_light


# In poor light, at most one fresh look a second (the fast sampling rate is 2 Hz) while the still looks are
# gathered; none once they agree. (0.99: samples a second apart on a recording's timeline.)
POOR_LIGHT_LOOK_S = 0.99
# Still looks agree when each alone would be judged clearly the same: every score at or above the one that
# makes a state good from any other, or every one at or below the one that makes it poor (StateTracker's
# ENTER_GOOD / ENTER_POOR). A borderline posture is where more looks decide what the user is told.


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
        self._light: list[FrameQuality] = []  # the light of the latest analysed frames
        self._baseline_poor_light = False  # the baseline was measured in poor light (posture.light_shift)
        # The last two analysed frames: when a calibration span closes, the newer one is already the first
        # frame after it, so the older one is the scene the baseline was measured in.
        self._recent: list[tuple[np.ndarray, Detection]] = []
        self.camera: CameraMotion | None = None
        self._gate_box: tuple[int, int, int, int] | None = None  # what the motion gate watches (pixels)
        self._still_looks = StillLooks()  # poor light: the latest looks at an unchanged picture
        self._looked_at = -1e18  # when the pose model last ran
        self._looks_agree = False  # poor light: the still looks are settled and each alone is judged alike
        self.set_baseline(baseline)

    def set_baseline(self, baseline: Baseline | None) -> None:
        self.baseline = baseline
        self.fit = FitChecker(baseline) if baseline is not None else None
        self.advisor = None
        if baseline is not None:
            # The light at calibration and whether it was poor: recorded in the profile, or else what the
            # looks just before saw (the calibration's own, when the baseline was just built from them).
            before = calibration_light(self._light)
            light = baseline.meta.get("brightness")
            if not isinstance(light, (int, float)):
                light = before.get("brightness")
            self.advisor = RecalibrationAdvisor(float(light) if isinstance(light, (int, float)) else None,
                                                baseline.anchor)
            poor = baseline.meta.get("poor_light")
            if not isinstance(poor, bool):
                poor = before.get("poor_light")
            self._baseline_poor_light = poor is True
        else:
            self._baseline_poor_light = False
        self.camera = None
        if baseline is not None and self._recent:
            image, seen = self._recent[0]
            self.camera = CameraMotion(image, seen.pose if seen.validity.ok else None)
            # The newest frame may already be after a camera move, and the motion gate would re-use its
            # detection until the picture changes: look afresh at the next frame.
            self.forget()

    @property
    def calibration_fits(self) -> bool:
        return self.fit is None or self.fit.fits

    def detect(self, image: np.ndarray, t: float, fresh: bool = False) -> Detection:
        """Find the user, re-using the last result when the picture has not changed since it was taken.

        `fresh`: look at this frame even when it has not changed (a calibration): never re-use a look. In poor
        light the looks at an unchanged picture are still combined (posture.burst), as at any other time."""
        image = check_frame(image)  # a malformed frame is a ValueError here, before any native code sees it
        last = self._last_detection
        # Only while someone is there: an empty chair has no posture to re-measure, and the gate still sees
        # a return (a whole person entering the picture changes it plenty).
        grainy = last is not None and last.validity.ok and _poor_light(last)
        # ...until the looks at this unchanged picture agree (`_still_looks_agree`): then only the gate,
        # made sensitive, brings the next look (a real sensor's grain changes every frame, a seated user's
        # posture does not). Before that the gate decides as in good light which looks are combined.
        poor = grainy and not self._looks_agree and t - self._looked_at >= POOR_LIGHT_LOOK_S
        still = last is not None and self.gate is not None and self.gate.unchanged(_gate_view(image, self._gate_box), t,
                                                                                  sensitive=grainy and self._looks_agree)
        if last is not None and still and not poor and not fresh:
            self.pose_reused += 1
            return last
        shift = None
        seen = image
        if self.camera is not None:
            # Turned since calibration: show the pose model the picture the calibrated camera would have
            # taken. Undoing the turn on the landmarks instead is not enough: the model does not place
            # them on a keystoned face as the geometry would (measured: the face still 8 % too big).
            previous = self._recent[-1][1].pose if self._recent and self._recent[-1][1].validity.ok else None
            shift = self.camera.update(image, previous)
            if shift is not None:
                seen = rectify(image, shift, self.camera.picture)
        detection = self.finder.find(seen)
        self._looked_at = t
        crowding = self.camera.crowding(seen, detection.pose) if self.camera is not None and detection.validity.ok else 0.0
        detection = replace(detection, quality=frame_quality(image), size=(image.shape[1], image.shape[0]),
                            camera_shift=shift, crowding=crowding)
        if detection.validity.ok and detection.pose is not None and _poor_light(detection):
            # The gate's own refresh of an unchanged picture is one more still look, not a new posture.
            same = self.gate is not None and self.gate.same_picture and not fresh
            detection = replace(detection, pose=self._still_looks.add(detection.pose, (still or same) and grainy))
        else:
            self._still_looks.reset()
        self._looks_agree = self._still_looks_agree()
        self._recent = [*self._recent[-1:], (image, detection)]
        assert detection.quality is not None  # set just above
        self._light.append(detection.quality)
        del self._light[:-LIGHT_HISTORY]
        self.pose_runs += 1
        if self.gate is not None:
            self._gate_box = _small_user_region(detection, image.shape[1], image.shape[0])
            # A user found while still reported away is coming back: sitting down and settling into the chair
            # moves the picture for several seconds, and a look taken during it must not stand for the settled
            # user, whatever their size (in a motion-blurred picture one look taken while sitting down read the
            # face 10 % larger, was re-used, and held the return to good 3 s late). Only until the state has
            # followed the user back, so it costs a look or two per return.
            arriving = detection.validity.ok and self.tracker.state == "away"
            self.gate.ran(_gate_view(image, self._gate_box), t,
                          settle=arriving or settles(detection.pose if detection.validity.ok else None)
                          or (self.gate.large_change and not fresh and self._undecided(detection)))
        self._last_detection = detection
        return detection

    def _undecided(self, detection: Detection) -> bool:
        """A look judged neither clearly good nor clearly poor (between StateTracker's ENTER_POOR and
        ENTER_GOOD). Taken as the user moved (the gate's `large_change`), such a look is what a pose half-way
        between two postures reads, or a badly read one (with motion blur one look at a held head tilt read
        61, the looks after it 16-41): the gate looks once more when the picture is still, instead of
        re-using it for as long as the picture stays still (4 s, and the tilt was reported 6.5 s late). A
        clear look is kept: looking again after every movement took the blurred real man from 0.97 to 0.92
        (a second look at a held upright photo read 71 where the first read 75, and the return to good was
        lost); a steady user brings no large change, so no extra look."""
        if not detection.validity.ok or detection.pose is None:
            return False
        score = self._score_alone(detection.pose)
        return score is not None and ENTER_POOR < score < ENTER_GOOD

    def _score_alone(self, pose: Pose) -> float | None:
        """The score of one look judged on its own, without the smoothing over time (None: not judged)."""
        if self.baseline is None:
            return None
        judgement = judge(compute_metrics(pose), self.baseline, self.sensitivity)
        return judgement.score if judgement is not None else None

    def _still_looks_agree(self) -> bool:
        """A full set of still looks each of which, judged alone, is clearly good or clearly poor, all alike:
        more looks at the picture would not change what the user is told. Looks that disagree or sit on the
        border (47, 71 and 63 for one held slouch behind a bright window; 72-75 for an upright one) keep
        coming, so their median keeps taking in fresh looks."""
        if not self._still_looks.settled:
            return False
        if self.baseline is None:
            return True  # nothing is judged yet: the median of a full set is as good as it gets
        scores = []
        for pose in self._still_looks.poses:
            score = self._score_alone(pose)
            if score is None:
                return False
            scores.append(score)
        return min(scores) >= ENTER_GOOD or max(scores) <= ENTER_POOR

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
            # A baseline from poor light judged in a good picture may sit off by the poor-light reading's
            # shift, which no longer cancels (posture.light_shift): the tolerances carry it.
            shifted = self._baseline_poor_light and detection is not None and detection.quality is not None \
                and not detection.quality.poor_light
            judgement = judge(metrics, self.baseline, self.sensitivity, light_shift=shifted)
            status = "judged" if judgement is not None else "unknown"
        # Someone close behind the user draws the pose model's landmarks toward them: such a look counts less.
        weight = quality.quality * crowded_weight(detection.crowding if detection is not None else 0.0)
        score, state = self.tracker.update(t, judgement.score if judgement else None, status, weight)
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
