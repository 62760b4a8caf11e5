"""Movement signals from one pose: the angles and distances the repetition detectors follow.

Everything is measured in isotropic image units (see `Pose.xy`) and relative to the body itself, so a
person sitting closer or farther from the camera gives the same numbers. Sign conventions follow
`posture.metrics` (camera not mirrored: the person's left is on the image's right):

- `yaw_deg`: head rotation, + when the person turns to look over their LEFT shoulder. From the nose's
  offset along the ear line, over half the ear distance, which is the tangent of the turn scaled by
  how far the nose stands in front of the ears on an average head (see NOSE_DEPTH_OVER_HALF_EARS).
- `roll_deg`: side bend of the neck, + toward the person's LEFT shoulder: the ear line's angle minus the
  shoulder line's, so leaning the whole trunk is not taken for a side bend.
- `pitch`: nose below the ear line, in half ear distances; a nod changes it, a chin tuck does not.
- `face_size`: the head's apparent size (ear and outer-eye distances, corrected for yaw), in image
  heights. A chin tuck moves the head back, away from the camera, so the face gets smaller.
- `neck`: vertical ear-to-shoulder distance in shoulder widths; shoulders rising (a shrug, the top of a
  shoulder roll) shorten it.
- `shoulder_span`: shoulder width, corrected for the head's size (see `_span`); drawing the shoulder blades
  together pulls the shoulders back and in, which narrows it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from posture.exercise.face import FaceKeypoints
from posture.landmarks import P, Pose

MIN_VISIBILITY = 0.5
INSIDE_MARGIN = 0.02
# Average adult head: the nose tip sits ~100 mm in front of the line between the ear tragions, which are
# ~145 mm apart. Seen from the front, a turn by yaw moves the nose by 100·sin(yaw) and narrows the
# tragion line to 145·cos(yaw), so offset / half-distance = (100 / 72.5)·tan(yaw).
NOSE_DEPTH_OVER_HALF_EARS = 100.0 / 72.5
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


def _yaw(offset: float, half_ears: float) -> float:
    return math.degrees(math.atan2(offset, half_ears * NOSE_DEPTH_OVER_HALF_EARS))


def _angle(vec: np.ndarray) -> float:
    return math.degrees(math.atan2(float(vec[1]), float(vec[0])))


def signals_from_pose(pose: Pose, t: float, face: FaceKeypoints | None = None) -> Signals:
    """The movement signals of one pose at time `t` (seconds on the source's timeline).

    With the face detector's keypoints (`face`), the head's turn, tilt and size come from the face
    itself (eyes, nose tip and ear tragions) and only the shoulders from the pose.
    """
    if face is not None:
        return _with_face(pose, t, face)
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
            yaw = _yaw(float(rel @ u), half)
            pitch = float(rel @ normal) / half
            head_angle = _angle(axis)
            if shoulders_ok and sw > 1e-6:
                roll = head_angle - _angle(ls - rs)
                if abs(yaw) <= MAX_SIZE_YAW_DEG:
                    size = _head_size(pose, yaw)
                    span = None if size is None else _span(sw, size)
                ear_mid, sh_mid = (el + er) / 2, (ls + rs) / 2
                neck = float(sh_mid[1] - ear_mid[1]) / sw
            else:
                roll = head_angle
    elif shoulders_ok and sw > 1e-6 and _usable(pose, P.LEFT_EAR) and _usable(pose, P.RIGHT_EAR):
        ear_mid, sh_mid = (pose.xy(P.LEFT_EAR) + pose.xy(P.RIGHT_EAR)) / 2, (ls + rs) / 2
        neck = float(sh_mid[1] - ear_mid[1]) / sw
    return Signals(t, yaw, roll, pitch, size, neck, span)


def _with_face(pose: Pose, t: float, face: FaceKeypoints) -> Signals:
    axis = face.left_ear - face.right_ear
    ear_dist = float(np.linalg.norm(axis))
    if ear_dist <= 1e-6:
        return signals_from_pose(pose, t)
    u = axis / ear_dist
    normal = np.array([-u[1], u[0]])
    rel = face.nose - (face.left_ear + face.right_ear) / 2
    half = ear_dist / 2
    yaw = _yaw(float(rel @ u), half)
    pitch = float(rel @ normal) / half
    eye_angle = _angle(face.left_eye - face.right_eye)
    roll = size = neck = span = None
    shoulders_ok = _usable(pose, P.LEFT_SHOULDER) and _usable(pose, P.RIGHT_SHOULDER)
    ls, rs = pose.xy(P.LEFT_SHOULDER), pose.xy(P.RIGHT_SHOULDER)
    sw = float(np.linalg.norm(ls - rs))
    if shoulders_ok and sw > 1e-6:
        roll = eye_angle - _angle(ls - rs)
        if abs(yaw) <= MAX_SIZE_YAW_DEG:
            # The head's size: pose ear and outer-eye distances, corrected for the turn, averaged in log
            # space. Measured against the synthetic chin tucks these follow the movement best (r = 0.89,
            # residual 2 %); dividing by the shoulder width made it worse, because the pose model
            # narrows the shoulders a little whenever the head goes back.
            size = _head_size(pose, yaw)
            span = None if size is None else _span(sw, size)
        ear_mid, sh_mid = (face.left_ear + face.right_ear) / 2, (ls + rs) / 2
        neck = float(sh_mid[1] - ear_mid[1]) / sw
    else:
        roll = eye_angle
    return Signals(t, yaw, roll, pitch, size, neck, span)


def _head_size(pose: Pose, yaw_deg: float) -> float | None:
    pairs = ((P.LEFT_EAR, P.RIGHT_EAR), (P.LEFT_EYE_OUTER, P.RIGHT_EYE_OUTER))
    logs = []
    for a, b in pairs:
        if pose[a].inside(INSIDE_MARGIN) and pose[b].inside(INSIDE_MARGIN):
            d = float(np.linalg.norm(pose.xy(a) - pose.xy(b)))
            if d > 1e-6:
                logs.append(math.log(d / math.cos(math.radians(yaw_deg))))
    return math.exp(sum(logs) / len(logs)) if logs else None


def _span(shoulder_width: float, head_size: float) -> float:
    """Shoulder width, with the part that follows the head taken out: on the synthetic clips the pose
    model narrows the shoulders by about a third as much as the head shrinks in a chin tuck, so
    dividing by the cube root of the head's size leaves squeezes and removes tucks."""
    return shoulder_width / head_size ** (1 / 3)
