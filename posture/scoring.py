"""From metrics to a judgement: deviations from the user's baseline, a 0–100 score, plain reasons, and a
state that ignores glances but follows sustained posture within about three seconds.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Literal

from posture.baseline import Baseline
from posture.light_shift import POOR_LIGHT_ALLOWANCE
from posture.metrics import MetricSet

Direction = Literal["down", "up", "both"]


@dataclass(frozen=True, slots=True)
class Rule:
    """How one metric's deviation reads as posture.

    `poor_at` is the change that, alone, makes posture poor at medium sensitivity: relative to the
    baseline value when `relative`, otherwise in the metric's own unit. It is also the floor of the
    tolerance, so a user with a very still calibration is not flagged for noise.
    """

    metric: str
    direction: Direction
    poor_at: float
    relative: bool
    reason_down: str | None
    reason_up: str | None


RULES: tuple[Rule, ...] = (
    # Ears sink toward the shoulder line when slouching; one user measured ~13% lower when slouched.
    Rule("head_height", "down", 0.08, True, "head_dropped", None),
    # The face (eye span) grows against the shoulders when the head comes forward toward the screen: 12 %
    # is the head about 7 cm nearer at 60 cm. Only growth counts (a turned head shrinks the eye span), and
    # only as far as the face also grew in the picture (see `_forward_growth`).
    Rule("face_scale", "up", 0.12, True, None, "head_forward"),
    # The three sideways metrics are judged as one movement; `_sideways_reason` names it.
    Rule("head_roll_deg", "both", 12.0, False, "tilted_right", "tilted_left"),
    Rule("shoulder_tilt_deg", "both", 8.0, False, "shoulders_uneven", "shoulders_uneven"),
    # 0.15 shoulder widths is a lean of about 13° from the hips for a typical head height.
    Rule("lateral_offset", "both", 0.15, False, "leaning_right", "leaning_left"),
    # The body (shoulder width) 22 % nearer than at calibration.
    Rule("screen_distance", "down", 0.22, True, "too_close", None),
    # Clinical CVA cut-offs sit ~7° below healthy means (50.6 vs 43.9); the proxy is judged relative.
    Rule("cva_deg", "down", 8.0, False, "head_forward", None),
)
RULE_BY_METRIC = {r.metric: r for r in RULES}

SENSITIVITY = {"low": 1.35, "medium": 1.0, "high": 0.75}
NOISE_SDS = 3.0  # deviations inside three of the user's own standard deviations are noise
GOOD_BELOW = 0.6  # badness under this is good (score > 70)
REASON_AT = 0.6
# Deviations under this share of a metric's poor threshold are ordinary fidgeting and count for nothing;
# above it the push grows linearly so that the threshold itself still means "poor".
DEAD_ZONE = 0.3


@dataclass(frozen=True, slots=True)
class Judgement:
    score: float
    state: str  # good / drifting / poor, from this sample alone
    reasons: tuple[str, ...]
    deviations: dict[str, float]  # signed, in units of that metric's poor threshold


def score_from_badness(badness: float) -> float:
    return max(0.0, min(100.0, 100.0 * (1.0 - badness / 2.0)))


def state_from_score(score: float) -> str:
    if score > 100.0 * (1 - GOOD_BELOW / 2):
        return "good"
    if score <= 50.0:
        return "poor"
    return "drifting"


def tolerance(rule: Rule, baseline: Baseline, sensitivity: str = "medium", light_shift: bool = False) -> float | None:
    """`light_shift`: the baseline was taken in poor light and the picture is now good, so the baseline may
    sit off the user's posture by the poor-light reading's shift (`posture.light_shift`): its allowance is added.
    The shift is a measurement error, not a preference, so the sensitivity setting does not scale it."""
    stat = baseline.stats.get(rule.metric)
    if stat is None:
        return None
    scale = abs(stat.median) if rule.relative else 1.0
    floor = rule.poor_at * scale * SENSITIVITY[sensitivity]
    shift = POOR_LIGHT_ALLOWANCE.get(rule.metric, 0.0) * scale if light_shift else 0.0
    return max(floor, NOISE_SDS * stat.sd) + shift


SIDEWAYS = ("head_roll_deg", "shoulder_tilt_deg", "lateral_offset")
# A head tilt rolls the head well beyond any sideways movement of the body; in a lean from the hips the
# neck stays about in line, so the head rolls about as much as the trunk tilts. Measured on the sample
# clips: roll / trunk angle 1.7 in head tilts, 0.5-0.95 in leans.
TILT_OVER_TRUNK = 1.25
# A sideways head movement under this many degrees does not count as evidence of a lean.
LEAN_EVIDENCE_DEG = 2.0


def _change(metrics: MetricSet, baseline: Baseline, name: str) -> float:
    value = metrics.values.get(name)
    stat = baseline.stats.get(name)
    return 0.0 if value is None or stat is None else value - stat.median


def _lean_angle(offset: float | None, height: float | None) -> float | None:
    """Angle (degrees) of the shoulder-centre-to-head line from the vertical, toward the person's left."""
    if offset is None or height is None:
        return None
    return math.degrees(math.atan2(offset, max(height, 1e-6)))


@dataclass(frozen=True, slots=True)
class _Sideways:
    """The sideways changes since calibration, in degrees: head roll, shoulder line, and the lean of the
    shoulder-centre-to-head line; `same_way` when the shoulders tilt the way the head went across."""

    roll: float
    shoulders: float
    lean: float
    same_way: bool


def _sideways(metrics: MetricSet, baseline: Baseline) -> _Sideways:
    roll = _change(metrics, baseline, "head_roll_deg")
    shoulders = _change(metrics, baseline, "shoulder_tilt_deg")
    now = _lean_angle(metrics.values.get("lateral_offset"), metrics.values.get("head_height"))
    stats = baseline.stats
    then = _lean_angle(stats["lateral_offset"].median if "lateral_offset" in stats else None,
                       stats["head_height"].median if "head_height" in stats else None)
    lean = now - then if now is not None and then is not None else 0.0
    return _Sideways(roll, shoulders, lean, shoulders * lean > 0 and abs(lean) >= LEAN_EVIDENCE_DEG)


# How much more a head roll counts for the part of it that bends the neck (see `_neck_bend`).
NECK_BEND_WEIGHT = 0.5


def _neck_bend(sw: _Sideways) -> float:
    """Degrees of head roll (the roll's sign) that a sideways bend of the neck accounts for, 0 when none does.

    A head tilt bends the neck sideways: the head rolls about the neck, above the shoulders, so it rolls
    further than the line from the shoulder centre to the head leans, and that line leans the same way
    (measured from calibration on the sample head tilt: the roll 1.2-2.1 times the line's lean across the
    conditions, 1.6-1.9 in the dim one). A head carried across with the upper body rolls about as much as that line leans or less (the
    real man's upright holds that roll 6-9°: 0.8-1.0 times, once 1.4 in a blurred picture; a lean from the
    hips: 0.4-0.8). The pose model reads a held tilt short in a dim picture (11° for 18°), yet the roll beyond
    the lean is still there (about 5°). The bend is the smaller of that excess and the lean itself: a roll more
    than twice its lean would put the pivot inside the head, and a roll without the head going across at all
    is no bend of the neck, so neither is taken as one.
    """
    roll, lean = sw.roll, sw.lean
    if roll * lean <= 0.0:
        return 0.0
    bend = min(abs(roll) - abs(lean), abs(lean))
    return math.copysign(bend, roll) if bend > 0.0 else 0.0


def _sideways_reason(sw: _Sideways) -> str:
    """Name one sideways movement from the three metrics it moves together.

    A lean from the hips tilts the shoulder line and carries the head across the picture, and the head
    rolls with the trunk; a head tilt rolls the head far more than the body moves; uneven shoulders tilt
    the shoulder line without carrying the head that way. Judging each metric alone reported a tilt as
    uneven shoulders and a lean as uneven shoulders or a tilt.
    """
    roll, shoulders, lean = sw.roll, sw.shoulders, sw.lean
    trunk = max(abs(lean), abs(shoulders) if sw.same_way else 0.0)
    if abs(roll) > TILT_OVER_TRUNK * trunk and abs(roll) >= abs(shoulders):
        return "tilted_left" if roll > 0 else "tilted_right"
    if sw.same_way or abs(lean) >= abs(shoulders):
        return "leaning_left" if lean > 0 else "leaning_right"
    return "shoulders_uneven"


def _forward_growth(metrics: MetricSet, baseline: Baseline) -> float | None:
    """How much the face grew for `face_scale`: against the shoulders, but no more than it grew in the
    picture. Shoulders that look narrower (a lean, a twist, rounded shoulders) make the face look bigger
    against them without the head coming any closer; measured on the sample clips, a lean grew the face
    31 % against the shoulders but 6 % in the picture, a forward head 20 % and 25 %."""
    face = metrics.values.get("face_scale")
    stat = baseline.stats.get("face_scale")
    if face is None or stat is None or stat.median <= 0:
        return None
    rel = face / stat.median
    dist, dstat = metrics.values.get("screen_distance"), baseline.stats.get("screen_distance")
    if dist is not None and dstat is not None and dist > 0:
        # Shoulder width in the picture goes as 1 / distance, so eye span ∝ face_scale / distance.
        rel = min(rel, rel * dstat.median / dist)
    return stat.median * rel


def _sank_back(metrics: MetricSet, baseline: Baseline, sensitivity: str, light_shift: bool = False) -> float:
    """How clearly (0..1) the body moved back from the screen since calibration, on the `too_close` scale.

    Slumping in a chair slides the hips forward and lays the trunk back, so the shoulders, head and all
    move away from the screen while the head sinks toward the shoulders. Measured on real footage of a
    man slouching at his desk: every slouch put the body 25-45 % farther away (shoulder width), every
    upright hold within 8 %; the head drop, measured with the smaller head landmarks, read 2-15 % and
    lost most of its size in dim or backlit pictures while the shoulder width did not.
    """
    value, stat = metrics.values.get("screen_distance"), baseline.stats.get("screen_distance")
    rule = RULE_BY_METRIC["screen_distance"]
    tol = tolerance(rule, baseline, sensitivity, light_shift)
    if value is None or stat is None or tol is None or tol <= 0:
        return 0.0
    away = (value - stat.median) / tol
    return max(0.0, min(1.0, (away - DEAD_ZONE) / (1 - DEAD_ZONE)))


# A head drop that comes with the body sinking back (`_sank_back` = 1) counts this many times its size:
# the two cues together are one slump, so a third of the usual drop is enough. A third because that is how
# much of a slouch's head drop the pose model keeps in a poor picture (real footage: 8-14 % by day, 2-6 %
# under the lamp; blurred or compressed, slouches read 0.42-0.49 of the line while the body sat 33 %
# farther back), while the shoulders, the biggest landmarks, keep their size. At 2 (half the drop) those
# slouches stayed `drifting`. Sitting back alone, head up, counts for nothing: a reclined, upright user is
# not slouching, and an upright user sat at most 8 % farther back, where the support lifts a drop by under a fifth.
SLUMP_SUPPORT = 3.0
SLUMP_AT_MOST = 1.15


def judge(metrics: MetricSet, baseline: Baseline, sensitivity: str = "medium",
          light_shift: bool = False) -> Judgement | None:
    """Score one sample against the baseline; None when no metric can be compared.

    `light_shift`: the baseline was taken in poor light and this sample in good light (see `tolerance`)."""
    deviations: dict[str, float] = {}
    pushes: list[tuple[float, str]] = []
    sideways = 0.0
    slump = 1.0 + (SLUMP_SUPPORT - 1.0) * _sank_back(metrics, baseline, sensitivity, light_shift)
    # A lean from the hips tilts the shoulder line with the trunk, by about the angle the head went across
    # (the neck stays in line). When the lean accounts for the whole shoulder tilt, that tilt is the lean's
    # own and is judged with it at the lean line (`lateral_offset`, ~13°), not again at the 8° line meant for
    # uneven shoulders: judged twice, a 6-7° lean read drifting (the real man's upright holds in small and
    # compressed pictures, shoulders 0.65-0.76 of their line, the head across 0.56-0.57 of its own). A shoulder
    # line tilted further than the head went across is more than a lean explains and still counts in full:
    # the pose model tilted the still shoulders of a head tilt by 8.7° while the head went across ~5-6°
    # (light-to-dim head_tilt.mp4: without this condition 1.00 -> 0.82 balanced accuracy).
    sw = _sideways(metrics, baseline)
    lean_tilts_shoulders = sw.same_way and abs(sw.lean) >= abs(sw.shoulders)
    for rule in RULES:
        value = metrics.values.get(rule.metric)
        if rule.metric == "face_scale":
            value = _forward_growth(metrics, baseline)
        tol = tolerance(rule, baseline, sensitivity, light_shift)
        if value is None or tol is None or tol <= 0:
            continue
        signed = (value - baseline.stats[rule.metric].median) / tol
        deviations[rule.metric] = signed
        if rule.metric == "head_roll_deg" and abs(signed) < SLUMP_AT_MOST:
            # A roll that bends the neck counts more than one the head's lean explains (`_neck_bend`). As with
            # a slump's support, it lifts a weak roll to a clear one and never further: a tilt plain from the
            # roll alone reads as before, and the way back to good is not slowed by a deeper score (uncapped, in
            # an earlier form, the blurred head tilt fell 0.86 -> 0.80: its return to good came later).
            lifted = abs(signed) + NECK_BEND_WEIGHT * abs(_neck_bend(sw)) / tol
            signed = math.copysign(min(lifted, SLUMP_AT_MOST), signed)
        if rule.metric in SIDEWAYS:
            if rule.metric != "shoulder_tilt_deg" or not lean_tilts_shoulders:
                sideways = max(sideways, (abs(signed) - DEAD_ZONE) / (1 - DEAD_ZONE))
            continue
        if rule.direction in ("up", "both") and signed > DEAD_ZONE and rule.reason_up:
            pushes.append(((signed - DEAD_ZONE) / (1 - DEAD_ZONE), rule.reason_up))
        if rule.metric == "head_height" and signed < -DEAD_ZONE:
            # Support lifts a weak drop to a clear one (SLUMP_AT_MOST: past "poor", with room for the
            # smoothing to settle below its line), never further: a slouch already plain from the head
            # alone reads as before, and the way back to "good" is not slowed by a deeper score.
            signed = min(signed, max(signed * slump, -SLUMP_AT_MOST))
        if rule.direction in ("down", "both") and -signed > DEAD_ZONE and rule.reason_down:
            pushes.append(((-signed - DEAD_ZONE) / (1 - DEAD_ZONE), rule.reason_down))
    if not deviations:
        return None
    if sideways > 0:
        # One sideways movement is one problem: a lean must not count three times.
        pushes.append((sideways, _sideways_reason(sw)))
    pushes.sort(reverse=True)
    # The worst problem dominates; a second one adds a little, so two moderate faults read worse than one.
    badness = pushes[0][0] + 0.25 * pushes[1][0] if len(pushes) > 1 else (pushes[0][0] if pushes else 0.0)
    score = score_from_badness(badness)
    reasons: list[str] = []
    for amount, reason in pushes:
        if amount >= REASON_AT and reason not in reasons:
            reasons.append(reason)
    return Judgement(score, state_from_score(score), tuple(reasons), deviations)


# Minimum time a new state must persist before it is reported: a glance at the keyboard (~2 s) must
# not become "poor", but a sustained slouch should show within about three seconds.
DWELL_S = {"good": 1.5, "drifting": 2.0, "poor": 2.0, "away": 3.0, "unknown": 1.0}
EMA_TAU_S = 1.0
# A sample's quality weighs its step against the best picture of this many seconds: a few times the longest
# dwell (2 s), and at least three samples at the slowest sampling rate (one every 3 s), so a passing shadow
# or a movement's blur (a few seconds) is outvoted by the clear samples around it.
QUALITY_WINDOW_S = 10.0


# Smoothed scores that make a state good, or poor, from any other state (hysteresis: once there, a state
# is left only at KEEP_GOOD / KEEP_POOR).
ENTER_GOOD = 74.0
ENTER_POOR = 50.0
KEEP_GOOD = 66.0
KEEP_POOR = 58.0


class StateTracker:
    """EMA smoothing, separate enter/exit thresholds and a minimum dwell time per state."""

    def __init__(self, tau_s: float = EMA_TAU_S, dwell_s: dict[str, float] | None = None) -> None:
        self.tau = tau_s
        self.dwell = dict(DWELL_S if dwell_s is None else dwell_s)
        self.state = "unknown"
        self.smoothed: float | None = None
        self._last_t: float | None = None
        self._pending: str | None = None
        self._pending_since = 0.0
        self._started = False
        self._qualities: deque[tuple[float, float]] = deque()

    def _relative_weight(self, t: float, weight: float) -> float:
        """A sample's weight against the best picture of the last QUALITY_WINDOW_S: a doubtful sample among
        better ones counts less, but in a picture that stays equally doubtful nothing outvotes anything."""
        q = max(0.0, min(1.0, weight))
        while self._qualities and t - self._qualities[0][0] > QUALITY_WINDOW_S:
            self._qualities.popleft()
        self._qualities.append((t, q))
        best = max(w for _, w in self._qualities)
        return q / best if best > 0 else 0.0

    def _candidate(self, s: float) -> str:
        if self.state == "poor":
            return "poor" if s < KEEP_POOR else ("good" if s >= ENTER_GOOD else "drifting")
        if self.state == "good":
            return "good" if s >= KEEP_GOOD else ("poor" if s <= ENTER_POOR else "drifting")
        return "good" if s >= ENTER_GOOD else ("poor" if s <= ENTER_POOR else "drifting")

    def update(self, t: float, raw_score: float | None, status: str = "judged",
               weight: float = 1.0) -> tuple[float | None, str]:
        """`status` is 'judged' (raw_score given), 'away' (no valid user) or 'unknown' (cannot judge).

        `weight` (0..1) is the sample's picture quality: a sample counts as much as its picture is good
        next to the best of the last QUALITY_WINDOW_S, so one doubtful sample among clear ones cannot flip
        the state. A picture that stays equally doubtful (motion blur: every sample ~0.65) is followed at
        the usual pace: weighting every step by its quality alone only slowed every change by half again
        (on the real footage each way back to good after a slouch took a sample longer)."""
        if status == "judged" and raw_score is not None:
            weight = self._relative_weight(t, weight)
            if self.smoothed is None or self._last_t is None:
                self.smoothed = raw_score
            else:
                dt = max(0.0, t - self._last_t)
                alpha = 1.0 - math.exp(-dt / self.tau) if self.tau > 0 else 1.0
                self.smoothed += weight * alpha * (raw_score - self.smoothed)
            self._last_t = t
            candidate = self._candidate(self.smoothed)
        else:
            candidate = "away" if status == "away" else "unknown"
            if candidate != self.state and self._pending == candidate and t - self._pending_since >= self.dwell[candidate]:
                # Once the user is really gone, start the next stretch fresh rather than from stale EMA.
                self.smoothed = None
                self._last_t = None
        if not self._started:
            # The very first reading is reported at once: there is no earlier state to protect.
            self._started = True
            self.state = candidate
            self._pending = None
        elif candidate == self.state:
            self._pending = None
        else:
            if self._pending != candidate:
                # Sliding on the same way (good → drifting → poor, or back) keeps the time already spent
                # leaving the state: a clear tilt whose smoothed score passes through "drifting" on its way
                # to "poor" must not wait out two dwell times (4 s) before it shows.
                same_way = self._pending == "drifting" and (self.state, candidate) in (("good", "poor"), ("poor", "good"))
                self._pending = candidate
                if not same_way:
                    self._pending_since = t
            if t - self._pending_since >= self.dwell[candidate]:
                self.state = candidate
                self._pending = None
        score = self.smoothed if self.state not in ("away", "unknown") else None
        return score, self.state


class FitChecker:
    """Does the baseline still fit the scene? Compares where the shoulders sit and how big they look.

    Sustained misfit means the camera moved, the user changed setup or stood up: posture judged against
    that baseline would be nonsense, so we stop judging and say so.
    """

    def __init__(self, baseline: Baseline, misfit_after_s: float = 20.0, refit_after_s: float = 5.0) -> None:
        self.baseline = baseline
        self.misfit_after = misfit_after_s
        self.refit_after = refit_after_s
        self.fits = True
        self._since: float | None = None

    @staticmethod
    def sample_fits(metrics: MetricSet, baseline: Baseline) -> bool:
        if metrics.view != baseline.view:
            return False
        if metrics.anchor is None or baseline.anchor is None:
            return True
        x, y, w = metrics.anchor
        bx, by, bw = baseline.anchor
        ratio = w / bw
        return abs(x - bx) <= 1.2 * bw and abs(y - by) <= 1.0 * bw and 0.65 <= ratio <= 1.6

    def update(self, t: float, metrics: MetricSet | None) -> bool:
        """Feed a valid user's metrics (None while away, which neither confirms nor refutes the fit)."""
        if metrics is None:
            self._since = None
            return self.fits
        ok = self.sample_fits(metrics, self.baseline)
        if ok == self.fits:
            self._since = None
        else:
            if self._since is None:
                self._since = t
            if t - self._since >= (self.refit_after if ok else self.misfit_after):
                self.fits = ok
                self._since = None
        return self.fits
