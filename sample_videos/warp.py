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


def stance_for(posture: str, amount: float = 1.0) -> Stance:
    """The stance of one named posture at `amount` (tilt and lean accept -1..1 for the other side)."""
    if posture not in POSTURES:
        raise ValueError(f"unknown posture {posture!r}; expected one of {', '.join(POSTURES)}")
    signed = posture in ("head_tilt", "lateral_lean")
    lo = -1.0 if signed else 0.0
    if not lo <= amount <= 1.0:
        raise ValueError(f"{posture} amount must be in [{lo:g}, 1], got {amount}")
    if posture == "upright":
        return Stance()
    return Stance(**{posture: float(amount)})


@dataclass(frozen=True)
class Walker:
    """A second person crossing behind the user: `x` is the cutout's centre in frame pixels."""

    x: float
    bob: float = 0.0


# ---------------------------------------------------------------------------------------------- rig


@dataclass(frozen=True)
class Rig:
    plate: Image  # float32 HxWx3, BGR 0..255
    body: Image  # float32 (H+PAD)xWx4, premultiplied BGR + alpha
    head: Image  # float32 HxWx4, premultiplied
    front: Image  # float32 HxWx4, premultiplied
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
    num = [img * known[..., None]]
    den = [known.astype(np.float32)]
    while min(den[-1].shape) > 4:
        num.append(cv2.pyrDown(num[-1]))
        den.append(cv2.pyrDown(den[-1]))
    value = np.broadcast_to(num[-1].sum((0, 1)) / max(float(den[-1].sum()), 1e-6), num[-1].shape).copy()
    for n, d in zip(reversed(num), reversed(den), strict=True):
        up = cv2.resize(value, (d.shape[1], d.shape[0]), interpolation=cv2.INTER_LINEAR)
        w = np.clip(d * 4.0, 0.0, 1.0)[..., None]
        value = w * (n / np.maximum(d, 1e-6)[..., None]) + (1 - w) * up
    return value.astype(np.float32)


def _texture(shape: tuple[int, int], seed: int) -> np.ndarray:
    """Mottled studio-backdrop texture, zero mean, a few grey levels."""
    rng = np.random.default_rng(seed)
    coarse = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), 9)
    fine = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), 1.2)
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
    cv2.fillPoly(m, [np.round(points).astype(np.int32)], 1)
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
    person = cv2.GaussianBlur(person, (0, 0), 0.8)

    # The helmet on the desk (bottom right) is a static foreground layer: an ellipse fitted to its rim on
    # the 448 px photo, plus the bracket at the frame's right edge.
    helmet = np.zeros(shape, np.float32)
    cv2.ellipse(helmet, ((336.2, 413.2), (185.7, 236.4), 13.5), 1.0, -1, cv2.LINE_AA)
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
    under_helmet = (helmet > 0) & (xs < 0.726 * SIZE)
    suit = solid & (cv2.dilate(region, np.ones((9, 9), np.uint8)) == 0) & (cv2.dilate(helmet, np.ones((7, 7))) == 0)
    hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)
    orange = (hsv[..., 0] < 20) & (hsv[..., 1] > 90)
    neck_fill = _fill_holes(imgf, suit.astype(np.float32))
    arm_fill = _fill_holes(imgf, (suit & orange).astype(np.float32))
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
        front=front,
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
    alpha = cv2.GaussianBlur(alpha, (0, 0), 1.0)
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


def transforms(rig: Rig, st: Stance, motion: Motion) -> tuple[Mat3, Mat3, Mat3]:
    """(head, shoulders, whole body) as 3x3 matrices in source pixels. The head and shoulder matrices
    are local (before the body's); the body's applies to everything that moves."""
    sw = rig.shoulder_width
    piv, chin, ear = rig.neck_pivot, rig.chin, rig.ear_mid

    # Head. Slouch: drops toward the shoulders, a little nearer and pitched down (vertical squash).
    s = st.slouch
    head = _t(0.0, 0.11 * sw * s) @ _scale(1 + 0.04 * s, (1 + 0.04 * s) * (1 - 0.06 * s), chin)
    # Forward head: the head comes toward the camera (bigger) and sinks a little.
    f = st.forward_head
    head = _t(0.0, 0.07 * sw * f) @ _scale(1 + 0.22 * f, 1 + 0.22 * f, ear) @ head
    # Glance down: a quick pitch (foreshortened face) and dip.
    g = st.glance
    head = _t(0.0, 0.07 * sw * g) @ _scale(1.0, 1 - 0.12 * g, chin) @ head
    # Head tilt: rotation about the neck.
    head = _rot(18.0 * st.head_tilt + motion.head_roll, piv) @ head
    # Lateral lean: the head goes a little farther than the trunk.
    lean = st.lateral_lean
    head = _t(0.06 * sw * lean + motion.head_dx, motion.head_dy + 0.5 * motion.breath) @ _rot(5.0 * lean, piv) @ head

    # Shoulders: slouching rounds them up and in; breathing lifts them.
    mid = rig.shoulder_mid
    shoulders = _t(0.0, -0.06 * sw * s - 0.015 * sw * f - 1.1 * motion.breath) @ _scale(
        1 - 0.03 * s - 0.015 * f, 1.0, mid
    )

    # Whole body: lean about the hips (below the frame), sink when slouching, walk away.
    a = st.away
    rise = 14.0 * math.sin(math.pi * min(a / 0.6, 1.0)) if a > 0 else 0.0
    slide = -(SIZE + 40.0) * _smooth((a - 0.15) / 0.85)
    body = _t(slide + motion.body_dx, 0.03 * sw * s - rise) @ _rot(9.0 * lean, rig.hip_pivot)
    return head, shoulders, body


def _smooth(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return x * x * (3 - 2 * x)


def mesh_targets(rig: Rig, head: Mat3, shoulders: Mat3, body: Mat3) -> np.ndarray:
    p = rig.mesh_src
    local = p + rig.mesh_head_w[:, None] * (_apply(head, p) - p) + rig.mesh_shoulder_w[:, None] * (
        _apply(shoulders, p) - p
    )
    return _apply(body, local)


def piecewise_affine_maps(
    src: np.ndarray, dst: np.ndarray, simplices: np.ndarray, size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Inverse maps for cv2.remap: for every destination pixel, where it comes from in the source.

    Each destination triangle is rasterised into a label image; its affine (destination -> source) is
    then applied to all of its pixels at once. Pixels outside every triangle map outside the source.
    """
    w, h = size
    labels = np.full((h, w), -1, np.int32)
    affines = np.zeros((len(simplices), 2, 3), np.float64)
    for i, tri in enumerate(simplices):
        d = dst[tri].astype(np.float32)
        affines[i] = cv2.getAffineTransform(d, src[tri].astype(np.float32))
        # Rasterise at 1/16 px precision so neighbouring triangles tile without gaps.
        cv2.fillConvexPoly(labels, np.round(d * 16).astype(np.int32), int(i), cv2.LINE_8, 4)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    a = affines[np.maximum(labels, 0)]
    map_x = a[..., 0, 0] * xs + a[..., 0, 1] * ys + a[..., 0, 2]
    map_y = a[..., 1, 0] * xs + a[..., 1, 1] * ys + a[..., 1, 2]
    outside = labels < 0
    map_x[outside] = -1e4
    map_y[outside] = -1e4
    return map_x.astype(np.float32), map_y.astype(np.float32)


def _over(dst: Image, layer: Image) -> Image:
    """Premultiplied 'over' of a BGRA layer onto a BGR image."""
    a = layer[..., 3:4]
    return layer[..., :3] + dst * (1.0 - a)


def render(rig: Rig, st: Stance, motion: Motion | None = None, walker: Walker | None = None) -> Image:
    """One 448x448 BGR uint8 frame of the astronaut in stance `st`."""
    motion = motion or Motion()
    head_m, shoulder_m, body_m = transforms(rig, st, motion)

    dst = mesh_targets(rig, head_m, shoulder_m, body_m)
    map_x, map_y = piecewise_affine_maps(rig.mesh_src, dst, rig.simplices, (SIZE, SIZE))
    # A light blur of the maps rounds the creases between triangles; affine interiors are unchanged.
    map_x = cv2.GaussianBlur(map_x, (0, 0), 2.0)
    map_y = cv2.GaussianBlur(map_y, (0, 0), 2.0)
    body = cv2.remap(rig.body, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)

    hm = (body_m @ head_m)[:2]
    head = cv2.warpAffine(rig.head, hm, (SIZE, SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)

    out = rig.plate.copy()
    if walker is not None:
        out = _over(out, _place_walker(rig.walker, walker))
    out = _over(out, body)
    out = _over(out, head)
    out = _over(out, rig.front)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


WALKER_TOP = 34.0


def _place_walker(layer: Image, walker: Walker) -> Image:
    h, w = layer.shape[:2]
    m = np.array([[1.0, 0.0, walker.x - w / 2], [0.0, 1.0, WALKER_TOP + walker.bob]])
    return cv2.warpAffine(layer, m, (SIZE, SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


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
