"""Posture warps of a public-domain portrait: every frame of the sample clips comes from here.

The scene is scikit-image's `astronaut()` photo (NASA, public domain) resized to 448x448 and split once,
with MediaPipe Pose's landmarks and person segmentation, into layers (back to front):

- `plate`: the room with the person removed (push-pull inpainting plus a little backdrop texture);
- the optional walker: the man from `camera()` (CC0), scaled down, crossing behind the user;
- `body`: the torso, collar ring and arms, deformed by a piecewise-affine mesh whose control points sit on
  the shoulders, collar, neck and chest, with fixed anchors outside the frame;
- `head`: hair and face down to the chin, moved rigidly about the neck (rotation, scale, drop);
- `front`: the helmet on the desk, which never moves.

A `Stance` says how far each posture is taken (0 = the photo as it is). Revealed background comes from
the plate, so the room never bends when the person moves. Rendering one frame costs a few milliseconds.
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass, fields

import cv2
import numpy as np
from scipy.spatial import Delaunay

SIZE = 448
PAD_BOTTOM = 96  # the body layer continues below the frame, so leaning or standing shows no cut edge

# MediaPipe Pose indices of the landmarks the rig is built from.
_LANDMARKS = {
    "nose": 0,
    "left_eye": 2,
    "right_eye": 5,
    "left_ear": 7,
    "right_ear": 8,
    "mouth_left": 9,
    "mouth_right": 10,
    "left_shoulder": 11,
    "right_shoulder": 12,
}

Image = np.ndarray
Mat3 = np.ndarray


@dataclass(frozen=True)
class Stance:
    """How far each posture is taken. Tilt and lean are signed: + tips the top toward the image's right
    (the person's own left); the others run from 0 (upright) to 1 (clearly poor)."""

    forward_head: float = 0.0
    slouch: float = 0.0
    head_tilt: float = 0.0
    lateral_lean: float = 0.0
    glance: float = 0.0
    away: float = 0.0

    def blend(self, other: Stance, w: float) -> Stance:
        """`self` at w=0, `other` at w=1."""
        return Stance(**{f.name: (1 - w) * getattr(self, f.name) + w * getattr(other, f.name) for f in fields(self)})


POSTURES: tuple[str, ...] = (
    "upright",
    "forward_head",
    "slouch",
    "head_tilt",
    "lateral_lean",
    "glance",
    "away",
)


# Which way a positive amount goes for the two sided postures (in Stance's sign, + = image right):
# the tilt continues her natural tilt toward her left shoulder; the lean goes toward her right, away from
# the helmet on the desk (leaning into it hides her arm, which is a harder, noisier case: use -amount).
DEFAULT_SIDE = {"head_tilt": 1.0, "lateral_lean": -1.0}


def stance_for(posture: str, amount: float = 1.0) -> Stance:
    """The stance of one named posture at `amount` in [0, 1]; head_tilt and lateral_lean also take
    negative amounts, for the other side (see DEFAULT_SIDE)."""
    if posture not in POSTURES:
        raise ValueError(f"unknown posture {posture!r}; expected one of {', '.join(POSTURES)}")
    lo = -1.0 if posture in DEFAULT_SIDE else 0.0
    if not lo <= amount <= 1.0:
        raise ValueError(f"{posture} amount must be in [{lo:g}, 1], got {amount}")
    if posture == "upright":
        return Stance()
    return Stance(**{posture: float(amount) * DEFAULT_SIDE.get(posture, 1.0)})


@dataclass(frozen=True)
class Walker:
    """A second person crossing behind the user: `x` is the cutout's centre in frame pixels."""

    x: float
    bob: float = 0.0
    facing_left: bool = False


# ---------------------------------------------------------------------------------------------- rig


@dataclass(frozen=True)
class Rig:
    plate: Image  # float32 HxWx3, BGR 0..255
    body: Image  # float32 (H+PAD)xWx4, premultiplied BGR + alpha
    head: Image  # float32 HxWx4, premultiplied
    front_split: tuple[Image, Image]  # the helmet: premultiplied BGR and alpha, float32
    head_bbox: tuple[int, int, int, int]  # where the head layer is not transparent
    walker: Image  # float32 hxwx4, premultiplied, already at its on-screen scale
    landmarks: dict[str, np.ndarray]  # pixel positions in the 448x448 source
    ear_mid: np.ndarray
    ear_dist: float
    shoulder_mid: np.ndarray
    shoulder_width: float
    neck_pivot: np.ndarray
    chin: np.ndarray
    hip_pivot: np.ndarray
    mesh_src: np.ndarray  # (N, 2) control points
    mesh_head_w: np.ndarray  # (N,) share of the head's motion
    mesh_shoulder_w: np.ndarray  # (N,) share of the shoulders' motion
    simplices: np.ndarray  # (M, 3) triangles over mesh_src


def load_astronaut() -> Image:
    """scikit-image's astronaut (Eileen Collins, NASA, public domain) as 448x448 BGR uint8."""
    from skimage import data

    rgb = data.astronaut()
    return cv2.resize(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), (SIZE, SIZE), interpolation=cv2.INTER_AREA)


def load_cameraman() -> Image:
    """scikit-image's `camera()` (Lav Varshney, CC0) as BGR uint8 with a faint warm tint."""
    from skimage import data

    gray = data.camera().astype(np.float32)
    tint = np.array([0.90, 0.97, 1.06], dtype=np.float32)
    return np.clip(gray[..., None] * tint, 0, 255).astype(np.uint8)


def _mediapipe_person(img_bgr: Image) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Landmarks (pixels, rounded to 1/4 px) and the soft person mask, from one static MediaPipe run."""
    os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's native start-up chatter
    import mediapipe as mp

    with mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1, enable_segmentation=True) as pose:
        res = pose.process(cv2.cvtColor(img_bgr, cv2.COLOR_BGR2RGB))
    if res.pose_landmarks is None or res.segmentation_mask is None:
        raise RuntimeError("MediaPipe found no person in the source photo")
    h, w = img_bgr.shape[:2]
    lms = res.pose_landmarks.landmark
    pts = {name: np.round(np.array([lms[i].x * w, lms[i].y * h]) * 4) / 4 for name, i in _LANDMARKS.items()}
    mask = np.round(np.asarray(res.segmentation_mask, dtype=np.float32) * 64) / 64
    return pts, mask


def _fill_holes(img: Image, known: np.ndarray) -> Image:
    """Push-pull pyramid fill: smooth extrapolation of `img` into pixels where `known` is 0."""
    num: list[np.ndarray] = [img * known[..., None]]
    den: list[np.ndarray] = [known.astype(np.float32)]
    while min(den[-1].shape) > 4:
        num.append(np.asarray(cv2.pyrDown(num[-1]), np.float32))
        den.append(np.asarray(cv2.pyrDown(den[-1]), np.float32))
    value = np.broadcast_to(num[-1].sum((0, 1)) / max(float(den[-1].sum()), 1e-6), num[-1].shape).copy()
    for n, d in zip(reversed(num), reversed(den), strict=True):
        up = cv2.resize(value, (d.shape[1], d.shape[0]), interpolation=cv2.INTER_LINEAR)
        w = np.clip(d * 4.0, 0.0, 1.0)[..., None]
        value = w * (n / np.maximum(d, 1e-6)[..., None]) + (1 - w) * up
    return value.astype(np.float32)


def _texture(shape: tuple[int, int], seed: int) -> np.ndarray:
    """Mottled studio-backdrop texture, zero mean, a few grey levels."""
    rng = np.random.default_rng(seed)
    coarse = np.asarray(cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), 9), np.float32)
    fine = np.asarray(cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), 1.2), np.float32)
    coarse *= 5.0 / max(float(coarse.std()), 1e-6)
    fine *= 1.5 / max(float(fine.std()), 1e-6)
    return coarse + fine


def _room_plate(img: Image, hole: np.ndarray) -> Image:
    """The photo's room with the person (and helmet) removed.

    The backdrop is extrapolated from visible backdrop pixels only (push-pull) with a mottled texture;
    the flag, hidden behind the left arm, is taken to drape diagonally toward the frame's bottom-left and
    is continued by mirroring the strip of it that stays visible at the frame's edge; the black cabinet on
    the right keeps its own colour.
    """
    h, w = hole.shape
    ys, xs = np.mgrid[0:h, 0:w]
    flag_edge = np.interp(ys, [0.0, 0.51 * h, h], [0.18 * w, 0.18 * w, 0.054 * w])
    in_flag = xs < flag_edge
    value = cv2.cvtColor(img.astype(np.uint8), cv2.COLOR_BGR2HSV)[..., 2]
    backdrop = (~hole) & (~in_flag) & (value > 110)
    fill = _fill_holes(img, backdrop.astype(np.float32)) + _texture((h, w), 7)[..., None]

    # Repeat the strip of flag visible down to the photo's bottom sideways, along the stripes' slope.
    strip, slope = 10, 0.55
    src_x = xs % strip
    src_y = np.clip(np.round(ys - slope * (xs - src_x)), 0, h - 1).astype(np.int64)
    flag = img[src_y, src_x] * 0.95  # a little shade where it drapes
    flag_w = np.clip(flag_edge - xs + 0.5, 0.0, 1.0)[..., None]
    fill = flag_w * flag + (1 - flag_w) * fill

    cabinet = (xs >= 0.721 * w) & (ys >= 0.5625 * h)
    visible_cabinet = cabinet & ~hole
    if visible_cabinet.any():
        fill[cabinet] = img[visible_cabinet].mean(axis=0)

    soft = cv2.GaussianBlur(hole.astype(np.float32), (0, 0), 1.5)[..., None]
    return np.clip(soft * fill + (1 - soft) * img, 0, 255).astype(np.float32)


def _premultiply(rgb: Image, alpha: np.ndarray) -> Image:
    a = alpha.astype(np.float32)[..., None]
    return np.concatenate([rgb.astype(np.float32) * a, a], axis=2)


def _poly_mask(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    cv2.fillPoly(m, [np.round(points).astype(np.int32)], (1,))
    return m.astype(np.float32)


def _head_region(ear_mid: np.ndarray, ear_dist: float) -> np.ndarray:
    """Hair and face down to the chin, in pixels: a generous box above the jaw (the person mask trims it)
    and the jaw line below, in head units (origin at the ear midpoint, unit = ear-to-ear distance)."""
    jaw = [
        (0.74, 0.26), (0.62, 0.51), (0.44, 0.74), (0.22, 0.88), (0.0, 0.94),
        (-0.22, 0.88), (-0.44, 0.74), (-0.62, 0.51), (-0.71, 0.26),
    ]  # fmt: skip
    box = [(-1.45, 0.26), (-1.45, -1.7), (1.45, -1.7), (1.45, 0.26)]
    return ear_mid + np.array(jaw + box) * ear_dist


def _mesh(lm: dict[str, np.ndarray], sw: float, mid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Control points of the body mesh with their shares of head and shoulder motion.

    Positions are in body units (origin at the shoulder midpoint, unit = shoulder width) measured on the
    astronaut; the two shoulder landmarks themselves are control points too.
    """
    # (u, v, head share, shoulder share)
    body = [
        # collar ring, rigid with the shoulders
        (-0.45, -0.30, 0, 1), (-0.30, -0.48, 0, 1), (0.52, -0.45, 0, 1), (0.58, -0.19, 0, 1),
        (0.40, 0.13, 0, 1), (0.11, 0.21, 0, 1), (-0.18, 0.17, 0, 1), (-0.40, -0.04, 0, 1),
        # shoulder and upper-arm outline
        (-0.71, -0.10, 0, 1), (-0.92, 0.26, 0, 1), (0.70, 0.00, 0, 1), (0.83, 0.26, 0, 1),
        # jaw and neck inside the collar: partly with the head
        (0.0, -0.57, 1.0, 0), (-0.18, -0.45, 0.7, 0.3), (0.29, -0.45, 0.7, 0.3),
        (0.02, -0.26, 0.5, 0.5), (0.20, -0.26, 0.5, 0.5),
        # chest and lower arms: half, then a third of the shoulders' motion
        (-0.71, 0.66, 0, 0.5), (-0.01, 0.61, 0, 0.5), (0.70, 0.66, 0, 0.5),
        (-0.96, 0.95, 0, 0.3), (0.82, 0.95, 0, 0.3),
        # the frame's bottom edge and below it (moves only with the whole body)
        (-0.98, 1.36, 0, 0), (-0.01, 1.36, 0, 0), (0.88, 1.36, 0, 0),
        (-0.98, 1.80, 0, 0), (0.88, 1.80, 0, 0),
        # backdrop around the person
        (-0.83, -0.70, 0, 0), (-0.42, -0.92, 0, 0), (0.64, -0.92, 0, 0), (1.05, -0.57, 0, 0), (1.17, -0.10, 0, 0),
    ]  # fmt: skip
    pts = [mid + np.array([u, v]) * sw for u, v, _, _ in body]
    head_w = [h for _, _, h, _ in body]
    shoulder_w = [s for _, _, _, s in body]
    for name in ("left_shoulder", "right_shoulder"):
        pts.append(lm[name])
        head_w.append(0)
        shoulder_w.append(1)
    # Fixed anchors well outside the frame.
    lo, hi, c = -120.0, SIZE + PAD_BOTTOM + 120.0, SIZE / 2
    for x, y in ((lo, lo), (c, lo), (SIZE - lo, lo), (lo, c), (SIZE - lo, c), (lo, hi), (c, hi), (SIZE - lo, hi)):
        pts.append(np.array([x, y]))
        head_w.append(0)
        shoulder_w.append(0)
    return np.array(pts, dtype=np.float64), np.array(head_w, dtype=np.float64), np.array(shoulder_w, dtype=np.float64)


@functools.lru_cache(maxsize=1)
def build_rig() -> Rig:
    """Split the astronaut photo into layers (runs MediaPipe once; cached for the process)."""
    img = load_astronaut()
    lm, seg = _mediapipe_person(img)
    shape = (SIZE, SIZE)
    ear_mid = (lm["left_ear"] + lm["right_ear"]) / 2
    ear_dist = float(np.linalg.norm(lm["left_ear"] - lm["right_ear"]))
    s_mid = (lm["left_shoulder"] + lm["right_shoulder"]) / 2
    sw = float(np.linalg.norm(lm["left_shoulder"] - lm["right_shoulder"]))
    imgf = img.astype(np.float32)

    person = np.clip((seg - 0.25) / 0.5, 0.0, 1.0).astype(np.float32)
    person = np.asarray(cv2.GaussianBlur(person, (0, 0), 0.8), np.float32)

    # The helmet on the desk (bottom right) is a static foreground layer: an ellipse fitted to its rim on
    # the 448 px photo, plus the bracket at the frame's right edge.
    helmet = np.zeros(shape, np.float32)
    cv2.ellipse(helmet, ((336.2, 413.2), (190.0, 240.0), 13.5), (1.0,), -1, cv2.LINE_AA)
    helmet[380:, 416:] = 1.0
    front_a = cv2.GaussianBlur(helmet, (0, 0), 0.7)

    # The room without the person.
    hole = cv2.dilate(((seg > 0.08) | (helmet > 0)).astype(np.uint8), np.ones((13, 13), np.uint8)) > 0
    plate = _room_plate(imgf, hole)

    # Head: hair and face above the jaw line.
    region = _poly_mask(_head_region(ear_mid, ear_dist), shape)
    head_a = person * cv2.GaussianBlur(region, (0, 0), 1.2)
    head = _premultiply(imgf, head_a)

    # Body: the person minus the head and the helmet. Under the head's core the neck and collar are
    # extended upward so a tilted or dropped head uncovers neck rather than a hole; above the jaw the body
    # is transparent (the backdrop shows). Behind the helmet's left part the suit is extended too. Both
    # fills extrapolate only from visible suit pixels.
    solid = person > 0.5
    core = (cv2.erode(region, np.ones((5, 5), np.uint8)) > 0) & solid
    xs = np.arange(SIZE)[None, :]
    under_helmet = (front_a > 0.002) & (xs < 0.719 * SIZE)
    suit = solid & (cv2.dilate(region, np.ones((9, 9), np.uint8)) == 0) & (cv2.dilate(helmet, np.ones((7, 7))) == 0)
    neck_fill = _fill_holes(imgf, suit.astype(np.float32))
    # Her right arm behind the helmet: her left arm, mirrored (outer edges at x~22 and x~322 of 448).
    ys, xs_full = np.mgrid[0:SIZE, 0:SIZE]
    mirror_x = np.clip(round(0.768 * SIZE) - xs_full, 0, SIZE - 1)
    arm_fill = imgf[ys, mirror_x]
    body_rgb = np.where(core[..., None], neck_fill, np.where(under_helmet[..., None], arm_fill, imgf))
    jaw_line_y = ear_mid[1] + 0.26 * ear_dist
    upper = region * (np.arange(SIZE)[:, None] < jaw_line_y)
    upper = cv2.GaussianBlur(upper.astype(np.float32), (0, 0), 1.5)
    body_a = person * (1.0 - upper)
    body_a = np.where(under_helmet, 1.0, body_a * (1.0 - front_a)).astype(np.float32)
    body = _premultiply(body_rgb, body_a)
    body = cv2.copyMakeBorder(body, 0, PAD_BOTTOM, 0, 0, cv2.BORDER_REFLECT)

    front = _premultiply(imgf, front_a)
    walker = _walker_layer()

    mesh_src, head_w, shoulder_w = _mesh(lm, sw, s_mid)
    tri = Delaunay(mesh_src)
    return Rig(
        plate=plate,
        body=body,
        head=head,
        front_split=_split(front),
        head_bbox=_bbox(head[..., 3]),
        walker=walker,
        landmarks=lm,
        ear_mid=ear_mid,
        ear_dist=ear_dist,
        shoulder_mid=s_mid,
        shoulder_width=sw,
        neck_pivot=ear_mid + np.array([0.0, 1.1 * ear_dist]),
        chin=ear_mid + np.array([0.0, 0.94 * ear_dist]),
        hip_pivot=np.array([s_mid[0], SIZE + 200.0]),
        mesh_src=mesh_src,
        mesh_head_w=head_w,
        mesh_shoulder_w=shoulder_w,
        simplices=np.asarray(tri.simplices, dtype=np.int64),
    )


WALKER_SCALE = 0.78


def _walker_layer() -> Image:
    """The cameraman cut out with MediaPipe's segmentation, scaled and softened as if farther away."""
    img = load_cameraman()
    _, seg = _mediapipe_person(img)
    alpha = np.clip((seg - 0.3) / 0.4, 0.0, 1.0).astype(np.float32)
    alpha[:, int(0.645 * img.shape[1]) :] = 0.0  # the tripod's head and the sky beyond his hands
    alpha = np.asarray(cv2.GaussianBlur(alpha, (0, 0), 1.0), np.float32)
    rgb = cv2.GaussianBlur(img.astype(np.float32), (0, 0), 1.0) * 0.9 + 12.0
    layer = _premultiply(rgb, alpha)
    ys, xs = np.nonzero(alpha > 0.02)
    layer = layer[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    h, w = layer.shape[:2]
    return cv2.resize(layer, (round(w * WALKER_SCALE), round(h * WALKER_SCALE)), interpolation=cv2.INTER_AREA)


# ------------------------------------------------------------------------------------- transforms


def _t(dx: float, dy: float) -> Mat3:
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]])


def _about(p: np.ndarray, m: Mat3) -> Mat3:
    return _t(p[0], p[1]) @ m @ _t(-p[0], -p[1])


def _rot(deg: float, p: np.ndarray) -> Mat3:
    """Rotation about p; positive tips points above p toward +x (clockwise on screen)."""
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return _about(p, np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]))


def _scale(sx: float, sy: float, p: np.ndarray) -> Mat3:
    return _about(p, np.diag([sx, sy, 1.0]))


def _apply(m: Mat3, pts: np.ndarray) -> np.ndarray:
    return pts @ m[:2, :2].T + m[:2, 2]


@dataclass(frozen=True)
class Motion:
    """Small natural movement at time t: breathing and idle sway (pixels and degrees)."""

    breath: float = 0.0
    head_roll: float = 0.0
    head_dx: float = 0.0
    head_dy: float = 0.0
    body_dx: float = 0.0


def natural_motion(t: float, seed: int = 0) -> Motion:
    """Deterministic breathing (~0.24 Hz) and slow sway: sums of sines with seeded phases."""
    ph = np.random.default_rng(seed).uniform(0, 2 * math.pi, 7)

    def s(freq: float, i: int) -> float:
        return math.sin(2 * math.pi * freq * t + ph[i])

    return Motion(
        breath=s(0.24, 0),
        head_roll=0.7 * s(0.11, 1) + 0.35 * s(0.37, 2),
        head_dx=1.2 * s(0.07, 3),
        head_dy=0.6 * s(0.19, 4),
        body_dx=1.4 * s(0.05, 5) + 0.4 * s(0.21, 6),
    )


@dataclass(frozen=True)
class Gains:
    """How strongly amount 1 of each posture moves the rig (fractions of shoulder width, degrees)."""

    slouch_drop: float = 0.15  # head sinks toward the shoulders
    slouch_scale: float = 0.04  # ... comes a little nearer
    slouch_squash: float = 0.06  # ... and pitches down (vertical foreshortening)
    slouch_shoulder_rise: float = 0.14  # shoulders round up
    slouch_narrow: float = 0.0  # ... and in
    slouch_sink: float = 0.03  # the whole trunk sinks in the chair
    forward_scale: float = 0.22  # head comes toward the camera
    forward_drop: float = 0.07
    glance_drop: float = 0.07
    glance_squash: float = 0.12
    tilt_deg: float = 18.0
    lean_deg: float = 9.0  # trunk about the hips
    lean_head_deg: float = 5.0  # the neck bends a little farther the same way
    lean_head_shift: float = 0.06
    lean_shoulder_counter_deg: float = 4.0  # the shoulder girdle levels a little against the lean


GAINS = Gains()


def transforms(rig: Rig, st: Stance, motion: Motion, gains: Gains = GAINS) -> tuple[Mat3, Mat3, Mat3]:
    """(head, shoulders, whole body) as 3x3 matrices in source pixels. The head and shoulder matrices
    are local (before the body's); the body's applies to everything that moves."""
    k = gains
    sw = rig.shoulder_width
    piv, chin, ear, mid = rig.neck_pivot, rig.chin, rig.ear_mid, rig.shoulder_mid

    # Head. Slouch: drops toward the shoulders, a little nearer and pitched down.
    s = st.slouch
    head = _t(0.0, k.slouch_drop * sw * s) @ _scale(
        1 + k.slouch_scale * s, (1 + k.slouch_scale * s) * (1 - k.slouch_squash * s), chin
    )
    # Forward head: the head comes toward the camera (bigger) and sinks a little.
    f = st.forward_head
    head = _t(0.0, k.forward_drop * sw * f) @ _scale(1 + k.forward_scale * f, 1 + k.forward_scale * f, ear) @ head
    # Glance down: a quick pitch (foreshortened face) and dip.
    g = st.glance
    head = _t(0.0, k.glance_drop * sw * g) @ _scale(1.0, 1 - k.glance_squash * g, chin) @ head
    # Head tilt: rotation about the neck.
    head = _rot(k.tilt_deg * st.head_tilt + motion.head_roll, piv) @ head
    # Lateral lean: the neck bends a little farther than the trunk.
    lean = st.lateral_lean
    head = (
        _t(k.lean_head_shift * sw * lean + motion.head_dx, motion.head_dy + 0.5 * motion.breath)
        @ _rot(k.lean_head_deg * lean, piv)
        @ head
    )

    # Shoulders: slouching rounds them up and in; breathing lifts them; leaning levels them a little.
    shoulders = (
        _t(0.0, -k.slouch_shoulder_rise * sw * s - 0.015 * sw * f - 1.1 * motion.breath)
        @ _scale(1 - k.slouch_narrow * s - 0.015 * f, 1.0, mid)
        @ _rot(-k.lean_shoulder_counter_deg * lean, mid)
    )

    # Whole body: lean about the hips (below the frame), sink when slouching, walk away.
    a = st.away
    rise = 14.0 * math.sin(math.pi * min(a / 0.6, 1.0)) if a > 0 else 0.0
    slide = (SIZE + 40.0) * _smooth((a - 0.15) / 0.85)  # off to the right, behind the desk
    body = _t(slide + motion.body_dx, k.slouch_sink * sw * s - rise) @ _rot(k.lean_deg * lean, rig.hip_pivot)
    return head, shoulders, body


def _smooth(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return x * x * (3 - 2 * x)


def mesh_targets(rig: Rig, head: Mat3, shoulders: Mat3, body: Mat3) -> np.ndarray:
    p = rig.mesh_src
    local = (
        p + rig.mesh_head_w[:, None] * (_apply(head, p) - p) + rig.mesh_shoulder_w[:, None] * (_apply(shoulders, p) - p)
    )
    return _apply(body, local)


def piecewise_affine_maps(
    src: np.ndarray, dst: np.ndarray, simplices: np.ndarray, size: tuple[int, int], step: int = 4
) -> tuple[np.ndarray, np.ndarray]:
    """Inverse maps for cv2.remap: for every destination pixel, where it comes from in the source.

    Each destination triangle is rasterised into a label image; its affine (destination -> source) is
    then applied to all of its samples at once. The maps are evaluated every `step` pixels and resized
    up linearly, which is exact inside a triangle and rounds the creases between neighbours a little.
    Samples outside every triangle map far outside the source (transparent).
    """
    w, h = size
    cw, ch = -(-w // step), -(-h // step)
    off = (step - 1) / 2  # coarse sample k sits at full-resolution coordinate step*k + off
    labels = np.full((ch, cw), -1, np.int32)
    affines = np.zeros((len(simplices), 2, 3), np.float32)
    for i, tri in enumerate(simplices):
        d = dst[tri].astype(np.float32)
        affines[i] = cv2.getAffineTransform(d, src[tri].astype(np.float32))
        coarse = (dst[tri] - off) / step
        cv2.fillConvexPoly(labels, np.round(coarse * 16).astype(np.int32), (int(i),), cv2.LINE_8, 4)
    ys, xs = np.mgrid[0:ch, 0:cw].astype(np.float32) * step + off
    a = affines[np.maximum(labels, 0)]
    map_x = a[..., 0, 0] * xs + a[..., 0, 1] * ys + a[..., 0, 2]
    map_y = a[..., 1, 0] * xs + a[..., 1, 1] * ys + a[..., 1, 2]
    outside = labels < 0
    map_x[outside] = -1e4
    map_y[outside] = -1e4
    map_x = cv2.resize(map_x, (cw * step, ch * step), interpolation=cv2.INTER_LINEAR)[:h, :w]
    map_y = cv2.resize(map_y, (cw * step, ch * step), interpolation=cv2.INTER_LINEAR)[:h, :w]
    return np.ascontiguousarray(map_x), np.ascontiguousarray(map_y)


def _split(layer: Image) -> tuple[Image, Image]:
    """Premultiplied BGRA -> (BGR, alpha), both contiguous."""
    b, g, r, a = cv2.split(layer)
    return cv2.merge((b, g, r)), a


def _over(dst: Image, rgb: Image, alpha: Image) -> Image:
    """Premultiplied 'over' of (rgb, alpha) onto a BGR float32 image."""
    inv = 1.0 - alpha
    return cv2.add(rgb, cv2.multiply(dst, cv2.merge((inv, inv, inv))))


def _warp_over(out: Image, layer: Image, m: np.ndarray, bbox: tuple[int, int, int, int]) -> None:
    """Warp the premultiplied `layer` by the 2x3 affine `m` and composite it onto `out` in place,
    touching only the destination box of the layer's visible `bbox` (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = bbox
    corners = np.array([[x0, y0], [x1, y0], [x0, y1], [x1, y1]], np.float64) @ m[:, :2].T + m[:, 2]
    h, w = out.shape[:2]
    dx0, dy0 = max(int(np.floor(corners[:, 0].min())) - 2, 0), max(int(np.floor(corners[:, 1].min())) - 2, 0)
    dx1, dy1 = min(int(np.ceil(corners[:, 0].max())) + 3, w), min(int(np.ceil(corners[:, 1].max())) + 3, h)
    if dx1 <= dx0 or dy1 <= dy0:
        return
    shifted = m.copy()
    shifted[:, 2] -= (dx0, dy0)
    roi = cv2.warpAffine(layer, shifted, (dx1 - dx0, dy1 - dy0), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    out[dy0:dy1, dx0:dx1] = _over(np.ascontiguousarray(out[dy0:dy1, dx0:dx1]), *_split(roi))


def _bbox(alpha: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(alpha > 0)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def render(
    rig: Rig, st: Stance, motion: Motion | None = None, walker: Walker | None = None, gains: Gains = GAINS
) -> Image:
    """One 448x448 BGR uint8 frame of the astronaut in stance `st`."""
    motion = motion or Motion()
    head_m, shoulder_m, body_m = transforms(rig, st, motion, gains)

    dst = mesh_targets(rig, head_m, shoulder_m, body_m)
    map_x, map_y = piecewise_affine_maps(rig.mesh_src, dst, rig.simplices, (SIZE, SIZE))
    body = cv2.remap(
        rig.body, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(0.0, 0.0, 0.0, 0.0)
    )

    out = rig.plate.copy()
    if walker is not None:
        layer = rig.walker[:, ::-1] if walker.facing_left else rig.walker  # the photo faces right
        h, w = layer.shape[:2]
        m = np.array([[1.0, 0.0, walker.x - w / 2], [0.0, 1.0, WALKER_TOP + walker.bob]])
        _warp_over(out, np.ascontiguousarray(layer), m, (0, 0, w, h))
    out = _over(out, *_split(body))
    _warp_over(out, rig.head, (body_m @ head_m)[:2], rig.head_bbox)
    out = _over(out, *rig.front_split)
    return cv2.convertScaleAbs(out)


WALKER_TOP = 34.0


def walker_span() -> tuple[float, float]:
    """Walker centre positions just off the left and right edges of the frame."""
    w = build_rig().walker.shape[1]
    return -w / 2 - 4.0, SIZE + w / 2 + 4.0


def flipped_triangles(rig: Rig, dst: np.ndarray) -> int:
    """How many mesh triangles a warp turns over (0 for a valid warp)."""

    def area(p: np.ndarray) -> np.ndarray:
        a, b, c = p[rig.simplices[:, 0]], p[rig.simplices[:, 1]], p[rig.simplices[:, 2]]
        return (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])

    return int(np.sum(np.sign(area(rig.mesh_src)) != np.sign(area(dst))))
