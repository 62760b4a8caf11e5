"""Can this sample be judged at all, and how much should it count?

A picture can be too dark, too blurred, or show the user too small for the pose model's landmarks to mean
anything; judging such a sample anyway gave wrong flags and missed slouches. Such a sample is `unknown`
with a plain reason (it never feeds a nudge), and a mediocre one counts less in the smoothed score
(`quality` in 0..1) rather than flipping the state on its own.

When the light or the framing has changed a lot since calibration and stays changed, the baseline is
probably no longer a fair reference: `RecalibrationAdvisor` suggests recalibrating, once per change.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from posture.landmarks import P, Pose
from posture.preprocess import FrameQuality

# Limits past which nothing is judged. The conditions suite's evening lamp (mean grey ~68) and 3 % motion
# blur (sharpness 0.18-0.23, against 0.25-0.33 when clean) must still be judged; a picture four times
# darker than the lamp, a blur a fifth of a face wide (0.12), or a user whose shoulders span under 40
# pixels are not.
TOO_DARK = 18.0  # mean grey level
TOO_FLAT = 6.0  # grey-level standard deviation: fog, a lens cap, a black frame with noise
TOO_BLURRED = 0.13  # fine / coarse detail on a 160 px copy (posture.preprocess.frame_quality)
TOO_SMALL_PX = 40.0  # shoulder width in pixels
TOO_UNSURE = 0.55  # mean visibility of the head and shoulder landmarks

# Where each figure is fine (quality 1): between its limit and this it ramps up linearly.
FINE_BRIGHTNESS = 45.0
FINE_SHARPNESS = 0.2
FINE_SHOULDER_PX = 80.0
FINE_VISIBILITY = 0.8

UNJUDGEABLE_WORDS = {
    "too_dark": "too dark to judge",
    "too_blurred": "picture too blurred to judge",
    "too_small": "too far from the camera to judge",
    "unclear": "picture too unclear to judge",
    "turned_away": "turned away from the camera",
}


@dataclass(frozen=True, slots=True)
class SampleQuality:
    quality: float  # 0..1: how much this sample counts
    unjudgeable: str | None  # a key of UNJUDGEABLE_WORDS, or None


def _ramp(value: float, bad: float, fine: float) -> float:
    return float(np.clip((value - bad) / (fine - bad), 0.0, 1.0))


def shoulder_px(pose: Pose, width: int, height: int) -> float:
    ls, rs = pose[P.LEFT_SHOULDER], pose[P.RIGHT_SHOULDER]
    return float(np.hypot((ls.x - rs.x) * width, (ls.y - rs.y) * height))


def head_visibility(pose: Pose) -> float:
    idx = (P.NOSE, P.LEFT_EYE, P.RIGHT_EYE, P.LEFT_SHOULDER, P.RIGHT_SHOULDER)
    return float(np.mean([pose[i].visibility for i in idx]))


def assess(frame: FrameQuality | None, pose: Pose | None, size: tuple[int, int] | None) -> SampleQuality:
    """Quality of one valid detection. `size` is the frame's (width, height) in pixels."""
    if frame is None:
        return SampleQuality(1.0, None)
    if frame.brightness < TOO_DARK or frame.contrast < TOO_FLAT:
        return SampleQuality(0.0, "too_dark")
    if frame.sharpness < TOO_BLURRED:
        return SampleQuality(0.0, "too_blurred")
    q = min(_ramp(frame.brightness, TOO_DARK, FINE_BRIGHTNESS), _ramp(frame.sharpness, TOO_BLURRED, FINE_SHARPNESS))
    if pose is not None and size is not None:
        px = shoulder_px(pose, size[0], size[1])
        if px < TOO_SMALL_PX:
            return SampleQuality(0.0, "too_small")
        vis = head_visibility(pose)
        if vis < TOO_UNSURE:
            return SampleQuality(0.0, "unclear")
        q = min(q, _ramp(px, TOO_SMALL_PX, FINE_SHOULDER_PX), _ramp(vis, TOO_UNSURE, FINE_VISIBILITY))
    return SampleQuality(q, None)


# The light counts as changed when the mean grey level is under half or over twice the calibration's;
# the framing when the user's shoulders moved more than half a shoulder width or changed size by a
# quarter (the stale-calibration check stops judging at twice that). Either for this long:
LIGHT_RATIO = 2.0
FRAMING_SHIFT = 0.5
FRAMING_SCALE = 1.25
CHANGED_FOR_S = 30.0

RECALIBRATE_MESSAGE = "the light or the framing has changed a lot since calibration: recalibrate for a fairer judgement"


class RecalibrationAdvisor:
    """Says once, after a sustained change of light or framing, that recalibrating would help."""

    def __init__(self, brightness: float | None, anchor: tuple[float, float, float] | None) -> None:
        self.brightness = brightness
        self.anchor = anchor
        self._since: float | None = None
        self._said = False

    def changed(self, brightness: float | None, anchor: tuple[float, float, float] | None) -> str | None:
        """What changed ('light', 'framing') or None."""
        if self.brightness and brightness:
            ratio = brightness / self.brightness
            if ratio > LIGHT_RATIO or ratio < 1 / LIGHT_RATIO:
                return "light"
        if self.anchor is not None and anchor is not None:
            x, y, w = anchor
            bx, by, bw = self.anchor
            if max(abs(x - bx), abs(y - by)) > FRAMING_SHIFT * bw or not 1 / FRAMING_SCALE <= w / bw <= FRAMING_SCALE:
                return "framing"
        return None

    def update(self, t: float, brightness: float | None, anchor: tuple[float, float, float] | None) -> str | None:
        """The change to report now (once per sustained change), else None."""
        what = self.changed(brightness, anchor)
        if what is None:
            self._since = None
            self._said = False
            return None
        if self._since is None:
            self._since = t
        if not self._said and t - self._since >= CHANGED_FOR_S:
            self._said = True
            return what
        return None
