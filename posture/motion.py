"""A cheap "has anything moved?" check that lets a steady user skip the pose model.

A thumbnail of each analysed frame is compared with the thumbnail of the frame the pose model last ran
on (not the previous frame, so a slow drift still adds up and triggers a fresh pose). Cost: a resize of
the frame to 48x48 grey, well under a millisecond, against ~30 ms for a pose inference.

When asked to (`ran(..., settle=True)`, for a user small in the picture, see `settles`, and for any user
coming back to the desk, see `Analyzer.detect`), a pose taken while the picture was changing is not
re-used: once the picture is still again the pose model looks once more. A sample falls mid-movement as
often as not, and for a small user the rest of the movement (a head settling back the last centimetre) is
a few pixels, under the threshold: a small user returning upright was judged on the half-way pose for the
next five seconds. A user who fills more of the picture changes enough of it to bring a fresh look anyway,
and there every extra look in a noisy picture was one more chance of a misplaced landmark (re-looking after
every movement turned two clips under motion blur from met to missed). Sitting back down after a break is
the exception: a movement of several seconds for anyone, which ends in the user's first posture. So is a look
taken as the picture changed a lot (`large_change`) that is judged neither clearly good nor clearly poor
(`Analyzer._undecided`): half-way between two postures, or badly read. A steady user costs nothing more.
"""

from __future__ import annotations

import numpy as np

from posture.landmarks import P, Pose

THUMB = (48, 48)
# Mean absolute grey-level change (0-255) above which the frame counts as changed. Sensor noise on a
# webcam stays around 1-2; a head moving by a few pixels in a 48px thumbnail exceeds 3.
DEFAULT_THRESHOLD = 3.0
MAX_REUSE_S = 15.0
# In poor light a posture change moves a dim, flat picture less (a head tilt changed the thumbnail by 2.2-3.8
# grey levels under an evening lamp and 1.5-2.6 behind a bright window, 4-7 in daylight), so once the
# analyzer has stopped looking afresh at a still user in poor light it asks the gate to be `sensitive`: a
# change is whatever stands out from how much the still picture varies from
# sample to sample (grain and breathing: 0.7-1.6 under the lamp, 0.4-1.0 backlit), measured as the least of
# the last few comparisons (a movement raises them, it never lowers them), times this factor; never above
# the good-light threshold nor below FLOOR_MIN, which keeps a noiseless still picture from calling every
# flicker a change.
SENSITIVE_FACTOR = 2.5
FLOOR_MIN = 1.0
FLOOR_WINDOW = 8  # comparisons remembered (a few seconds to a minute of samples)
FLOOR_LEAST = 3  # comparisons needed before the still picture's variation is trusted
# A change of the picture at least this large is a movement of the user, not the picture's own unrest: with
# motion blur a steady upright user's picture changed by up to 4.6 grey levels from sample to sample (the blur's
# direction changes every frame), a head tilt by 7.2-8.7, a lean in daylight by 17-29, a real man's changes
# of posture (slouch_session_a) by 17-43. See `large_change`.
LARGE_CHANGE = 2 * DEFAULT_THRESHOLD


def thumbnail(image: np.ndarray) -> np.ndarray:
    import cv2

    # Shrink first, then convert: area averaging and the grey conversion are both linear, so this is the same
    # thumbnail (the same decision on 5958 of 5965 frame pairs of the long clip, the rest within 0.05 grey
    # levels of the threshold) for ~60 % of the CPU, the colour conversion running on 48x48 pixels only.
    small = cv2.resize(image, THUMB, interpolation=cv2.INTER_AREA)
    grey = small if small.ndim == 2 else cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    return grey.astype(np.float32)


# A user whose shoulders span less than this share of the picture's width is small in it: the end of a
# movement is a few pixels of the thumbnail (measured: 0.16-0.22 for the conditions suite's user at arm's
# length on a 640x480 camera, 0.39-0.64 for users at a desk in the clips and the real footage).
SMALL_IN_PICTURE = 0.3


def settles(pose: Pose | None) -> bool:
    """Whether a look at this user, taken mid-movement, should be taken again once the picture is still."""
    if pose is None:
        return False
    width = abs(pose[P.LEFT_SHOULDER].x - pose[P.RIGHT_SHOULDER].x)
    return 0.0 < width < SMALL_IN_PICTURE


class MotionGate:
    def __init__(self, threshold: float = DEFAULT_THRESHOLD, max_reuse_s: float = MAX_REUSE_S) -> None:
        self.threshold = threshold
        self.max_reuse_s = max_reuse_s
        self._ref: np.ndarray | None = None
        self._ref_t = -1e18
        self.reused = 0
        self._moving = False  # the last check saw the picture change
        self._mid_movement = False  # the reference (the last pose) was taken while the picture changed
        self._diffs: list[float] = []  # the latest comparisons, for the still picture's own variation
        # The last check found the picture as it was at the last look, whether or not that look may still
        # stand for it (after MAX_REUSE_S the pose model looks again at the same picture).
        self.same_picture = False
        # The last check found the picture changed by at least LARGE_CHANGE: the user moved (the analyzer may
        # then ask, through `ran(settle=True)`, for one more look once the picture is still).
        self.large_change = False

    def unchanged(self, image: np.ndarray, t: float, sensitive: bool = False) -> bool:
        """True when the last pose result can stand for this frame. `sensitive` (poor light): a change is
        judged against how much the still picture varies rather than the good-light threshold."""
        self.same_picture = self.large_change = False
        if self._ref is None:
            return False
        thumb = thumbnail(image)
        if thumb.shape != self._ref.shape:
            return False
        diff = float(np.mean(np.abs(thumb - self._ref)))
        self._diffs = [*self._diffs[-(FLOOR_WINDOW - 1):], diff]
        changed = diff >= (self.sensitive_threshold() if sensitive else self.threshold)
        self.same_picture = not changed
        self.large_change = diff >= LARGE_CHANGE
        if t - self._ref_t > self.max_reuse_s:
            return False  # a look every so often anyway (the picture may be the same: see same_picture)
        self._moving = changed
        return not self._moving and not self._mid_movement

    def sensitive_threshold(self) -> float:
        if len(self._diffs) < FLOOR_LEAST:
            return self.threshold
        return min(self.threshold, max(FLOOR_MIN, SENSITIVE_FACTOR * min(self._diffs)))

    def ran(self, image: np.ndarray, t: float, settle: bool = False) -> None:
        """Remember the frame the pose model just ran on. `settle`: if the picture was changing, look
        again once it is still rather than re-using this pose."""
        self._ref = thumbnail(image)
        self._ref_t = t
        self._mid_movement = settle and self._moving
        self._moving = False

    def reset(self) -> None:
        self._ref = None
        self._diffs = []
        self.same_picture = self.large_change = False
        self._moving = self._mid_movement = False
