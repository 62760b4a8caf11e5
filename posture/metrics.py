"""Head-over-shoulder metrics: pure functions of one `Pose`.

All geometry is done in isotropic image units (x scaled by the aspect ratio) so that angles and ratios
mean the same on a 16:9 webcam as on a square test clip. Every metric carries a confidence (the lowest
visibility of the landmarks it uses); a metric whose landmarks are unusable is None, never a guess.

Sign conventions (camera not mirrored, so the person's left side is on the image's right):
- `head_roll_deg` / `shoulder_tilt_deg`: angle of the right→left ear (shoulder) vector; 0 when level,
  positive when the person's left ear (shoulder) is lower, i.e. tilted toward their left.
- `lateral_offset`: head centre minus shoulder centre across the picture (horizontally), in shoulder
  widths; positive toward the person's left. Measured across the picture rather than along the shoulder
  line, because leaning sideways from the hips tilts the shoulder line with the trunk: along that line the
  head hardly moves, across the picture it moves with the lean.

Every definition is mirror-symmetric: in a mirrored picture (left and right landmarks swapped, x → 1 - x)
the angles and the offset change sign and every other metric is unchanged, so a mirror can change which
side a reason names but never a score. A property test checks this.

Which landmarks measure what was chosen so that one posture moves one metric (measured on the sample
clips, where the posture shown is known): the face size uses the eyes, not the ears (MediaPipe places
the ears poorly when the head rolls or the trunk leans: ear span grew 25 % in a lean, eye span 6 %), and
the distance uses the shoulders, not the face (a forward head brings the face, not the body, closer).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from posture.landmarks import P, Pose

METRIC_NAMES: tuple[str, ...] = (
    "head_height",
    "face_scale",
    "head_roll_deg",
    "shoulder_tilt_deg",
    "lateral_offset",
    "screen_distance",
    "cva_deg",
)
FRONT_METRICS = METRIC_NAMES[:6]
SIDE_METRICS = ("cva_deg", "screen_distance")

MIN_VISIBILITY = 0.5
# Landmarks may sit a hair outside the frame on a tight crop; farther out they are extrapolations.
INSIDE_MARGIN = 0.02
# Pinhole model for `screen_distance`: a typical webcam sees ~60° horizontally, and eye centres sit
# ~6.3 cm apart in adults. The absolute number is approximate; scoring only uses it relative to baseline.
ASSUMED_HFOV_DEG = 60.0
EYE_DISTANCE_CM = 6.3
SHOULDER_WIDTH_CM = 36.0


@dataclass(frozen=True, slots=True)
class MetricSet:
    values: dict[str, float | None]
    confidence: dict[str, float]
    view: str | None
    # Where the shoulders sit in the frame (fractions of width/height) and how wide they look: what the
    # stale-calibration check compares against the baseline.
    anchor: tuple[float, float, float] | None = None
    extras: dict[str, float] = field(default_factory=dict)

    def value(self, name: str) -> float | None:
        return self.values.get(name)


def _usable(pose: Pose, idx: int) -> bool:
    lm = pose[idx]
    return lm.visibility >= MIN_VISIBILITY and lm.inside(INSIDE_MARGIN)


def _angle_deg(vec: np.ndarray) -> float:
    return math.degrees(math.atan2(float(vec[1]), float(vec[0])))


def detect_view(pose: Pose) -> str | None:
    """'front' or 'side' from how wide the shoulders look next to the neck's length.

    Seen from the front the shoulders are about 1.5-2x wider than the ear-to-shoulder distance; from the
    side they collapse onto each other while the neck keeps its length. A turned head alone (nose past an
    ear) does not make a side view: the shoulders decide.
    """
    if not (_usable(pose, P.LEFT_SHOULDER) or _usable(pose, P.RIGHT_SHOULDER)):
        return None
    ls, rs = pose.xy(P.LEFT_SHOULDER), pose.xy(P.RIGHT_SHOULDER)
    sw = float(np.linalg.norm(ls - rs))
    ears = [pose.xy(i) for i in (P.LEFT_EAR, P.RIGHT_EAR) if _usable(pose, i)]
    head = np.mean(ears, axis=0) if ears else (pose.xy(P.NOSE) if _usable(pose, P.NOSE) else None)
    if head is None:
        return None
    neck = float(np.linalg.norm(head - (ls + rs) / 2))
    if neck <= 1e-6:
        return None
    ratio = sw / neck
    nose_x = pose.xy(P.NOSE)[0]
    ear_xs = [pose.xy(P.LEFT_EAR)[0], pose.xy(P.RIGHT_EAR)[0]]
    nose_outside_ears = not (min(ear_xs) <= nose_x <= max(ear_xs))
    if ratio < 0.9 or (ratio < 1.25 and nose_outside_ears):
        return "side"
    return "front"


def _head_centre(pose: Pose) -> tuple[np.ndarray, float] | None:
    for a, b in ((P.LEFT_EAR, P.RIGHT_EAR), (P.LEFT_EYE, P.RIGHT_EYE)):
        if _usable(pose, a) and _usable(pose, b):
            conf = min(pose[a].visibility, pose[b].visibility)
            return (pose.xy(a) + pose.xy(b)) / 2, conf
    return None


def _pair_vector(pose: Pose, right: int, left: int) -> tuple[np.ndarray, float] | None:
    if _usable(pose, left) and _usable(pose, right):
        return pose.xy(left) - pose.xy(right), min(pose[left].visibility, pose[right].visibility)
    return None


def _focal_widths() -> float:
    return 0.5 / math.tan(math.radians(ASSUMED_HFOV_DEG / 2))


def compute_metrics(pose: Pose) -> MetricSet:
    values: dict[str, float | None] = dict.fromkeys(METRIC_NAMES)
    conf: dict[str, float] = dict.fromkeys(METRIC_NAMES, 0.0)
    view = detect_view(pose)
    if view is None:
        return MetricSet(values, conf, None)

    shoulders_ok = _usable(pose, P.LEFT_SHOULDER) and _usable(pose, P.RIGHT_SHOULDER)
    ls, rs = pose.xy(P.LEFT_SHOULDER), pose.xy(P.RIGHT_SHOULDER)
    s_mid = (ls + rs) / 2
    sw = float(np.linalg.norm(ls - rs))
    s_conf = min(pose[P.LEFT_SHOULDER].visibility, pose[P.RIGHT_SHOULDER].visibility)
    anchor = None
    if shoulders_ok and sw > 1e-6:
        anchor = (float(s_mid[0] / pose.aspect), float(s_mid[1]), sw / pose.aspect)

    # Apparent distance of the body from the shoulder width (fallback: eye spacing), in approximate cm.
    # The shoulders, not the face: bringing the head forward is `face_scale`, the whole body closer is this.
    eyes = _pair_vector(pose, P.RIGHT_EYE, P.LEFT_EYE)
    if view == "front" and shoulders_ok and sw > 1e-6:
        values["screen_distance"] = _focal_widths() * SHOULDER_WIDTH_CM / (sw / pose.aspect)
        conf["screen_distance"] = s_conf
    elif view == "front" and eyes is not None and np.linalg.norm(eyes[0]) > 1e-6:
        values["screen_distance"] = _focal_widths() * EYE_DISTANCE_CM / (float(np.linalg.norm(eyes[0])) / pose.aspect)
        conf["screen_distance"] = eyes[1]

    if view == "side":
        _side_metrics(pose, values, conf)
        return MetricSet(values, conf, view, anchor)

    if not shoulders_ok or sw <= 1e-6:
        return MetricSet(values, conf, view, anchor)
    u = (ls - rs) / sw  # unit vector along the shoulder line, toward the person's left
    n = np.array([u[1], -u[0]])  # perpendicular, pointing up in the image when shoulders are level

    values["shoulder_tilt_deg"] = _angle_deg(ls - rs)
    conf["shoulder_tilt_deg"] = s_conf

    head = _head_centre(pose)
    if head is not None:
        centre, h_conf = head
        c = min(h_conf, s_conf)
        values["head_height"] = float(np.dot(centre - s_mid, n)) / sw
        # Across the picture, oriented toward the person's left (their left shoulder's side of the image).
        side = 1.0 if u[0] >= 0 else -1.0
        values["lateral_offset"] = side * float(centre[0] - s_mid[0]) / sw
        conf["head_height"] = conf["lateral_offset"] = c

    roll = _pair_vector(pose, P.RIGHT_EAR, P.LEFT_EAR) or eyes
    if roll is not None:
        values["head_roll_deg"] = _angle_deg(roll[0])
        conf["head_roll_deg"] = roll[1]

    if eyes is not None:
        values["face_scale"] = float(np.linalg.norm(eyes[0])) / sw
        conf["face_scale"] = min(eyes[1], s_conf)
    return MetricSet(values, conf, view, anchor)


def _side_metrics(pose: Pose, values: dict[str, float | None], conf: dict[str, float]) -> None:
    """Craniovertebral-angle proxy from the side nearer the camera: ear over shoulder.

    The true CVA uses the C7 vertebra, which a webcam cannot see; the shoulder landmark stands in for it,
    so the number is only meaningful relative to the user's own baseline.
    """
    best: tuple[float, P, P] | None = None
    for ear, sh in ((P.LEFT_EAR, P.LEFT_SHOULDER), (P.RIGHT_EAR, P.RIGHT_SHOULDER)):
        if _usable(pose, ear) and _usable(pose, sh):
            c = min(pose[ear].visibility, pose[sh].visibility)
            if best is None or c > best[0]:
                best = (c, ear, sh)
    if best is None:
        return
    c, ear, sh = best
    vec = pose.xy(ear) - pose.xy(sh)
    rise = -float(vec[1])  # image y grows downward
    run = abs(float(vec[0]))
    values["cva_deg"] = math.degrees(math.atan2(rise, run))
    conf["cva_deg"] = c
    eye_ear = pose.xy(P.NOSE) - pose.xy(ear)
    if _usable(pose, P.NOSE) and np.linalg.norm(eye_ear) > 1e-6:
        # Nose-to-ear length stands in for face size when the eyes overlap in profile.
        values["screen_distance"] = _focal_widths() * 10.0 / (float(np.linalg.norm(eye_ear)) / pose.aspect)
        conf["screen_distance"] = min(c, pose[P.NOSE].visibility)
