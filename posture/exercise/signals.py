"""Movement signals from one pose: the angles and distances the repetition detectors follow.

Everything is measured in isotropic image units (see `Pose.xy`) and relative to the body itself, so a
person sitting closer or farther from the camera gives the same numbers. Sign conventions follow
`posture.metrics` (camera not mirrored: the person's left is on the image's right):

- `yaw_deg`: head rotation, + when the person turns to look over their LEFT shoulder. From the nose's
  offset along the ear line, over half the ear distance: a head seen from the front is roughly a
  sphere with the ears at its sides, so offset / half-distance = tan(yaw).
- `roll_deg`: side bend of the neck, + toward the person's LEFT shoulder: the ear line's angle minus the
  shoulder line's, so leaning the whole trunk is not taken for a side bend.
- `pitch`: nose below the ear line, in half ear distances; a nod changes it, a chin tuck does not.
- `face_size`: ear distance corrected for yaw, in shoulder widths. A chin tuck moves the head back,
  away from the camera, so the face gets smaller while the shoulders stay.
- `neck`: vertical ear-to-shoulder distance in shoulder widths; shoulders rising (a shrug, the top of a
  shoulder roll) shorten it.
- `shoulder_span`: shoulder width over the yaw-corrected ear distance; drawing the shoulder blades
  together pulls the shoulders back and in, which narrows it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from posture.landmarks import P, Pose

MIN_VISIBILITY = 0.5
INSIDE_MARGIN = 0.02
# The far ear of a turned head is hidden; MediaPipe still places it, but past this turn the ear line
# no longer measures the head's size.
MAX_SIZE_YAW_DEG = 35.0


@dataclass(frozen=True, slots=True)
class Signals:
    """One frame's movement signals; a value is None when the landmarks it needs are not usable."""

    t: float
    yaw_deg: float | None
    roll_deg: float | None
    pitch: float | None
    face_size: float | None
    neck: float | None
    shoulder_span: float | None


def _usable(pose: Pose, idx: int) -> bool:
    lm = pose[idx]
    return lm.visibility >= MIN_VISIBILITY and lm.inside(INSIDE_MARGIN)


def _angle(vec: np.ndarray) -> float:
    return math.degrees(math.atan2(float(vec[1]), float(vec[0])))


def signals_from_pose(pose: Pose, t: float) -> Signals:
    """The movement signals of one pose at time `t` (seconds on the source's timeline)."""
    # A turned head hides one ear; MediaPipe still places it (from the face), and it is the only way to
    # measure the turn from the front, so ears only need to be inside the frame, not 'visible'.
    head_ok = all(pose[i].inside(INSIDE_MARGIN) for i in (P.LEFT_EAR, P.RIGHT_EAR, P.NOSE)) and _usable(pose, P.NOSE)
    shoulders_ok = _usable(pose, P.LEFT_SHOULDER) and _usable(pose, P.RIGHT_SHOULDER)
    yaw = roll = pitch = size = neck = span = None
    ls, rs = pose.xy(P.LEFT_SHOULDER), pose.xy(P.RIGHT_SHOULDER)
    sw = float(np.linalg.norm(ls - rs))
    if head_ok:
        el, er, nose = pose.xy(P.LEFT_EAR), pose.xy(P.RIGHT_EAR), pose.xy(P.NOSE)
        axis = el - er
        ear_dist = float(np.linalg.norm(axis))
        if ear_dist > 1e-6:
            u = axis / ear_dist
            normal = np.array([-u[1], u[0]])  # points down the face when the head is upright
            rel = nose - (el + er) / 2
            half = ear_dist / 2
            yaw = math.degrees(math.atan2(float(rel @ u), half))
            pitch = float(rel @ normal) / half
            head_angle = _angle(axis)
            if shoulders_ok and sw > 1e-6:
                roll = head_angle - _angle(ls - rs)
                if abs(yaw) <= MAX_SIZE_YAW_DEG:
                    true_ears = ear_dist / math.cos(math.radians(yaw))
                    size = true_ears / sw
                    span = sw / true_ears
                ear_mid, sh_mid = (el + er) / 2, (ls + rs) / 2
                neck = float(sh_mid[1] - ear_mid[1]) / sw
            else:
                roll = head_angle
    elif shoulders_ok and sw > 1e-6 and _usable(pose, P.LEFT_EAR) and _usable(pose, P.RIGHT_EAR):
        ear_mid, sh_mid = (pose.xy(P.LEFT_EAR) + pose.xy(P.RIGHT_EAR)) / 2, (ls + rs) / 2
        neck = float(sh_mid[1] - ear_mid[1]) / sw
    return Signals(t, yaw, roll, pitch, size, neck, span)
