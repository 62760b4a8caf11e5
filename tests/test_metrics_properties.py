"""Metric invariants on synthetic landmarks: what must not change when the whole person moves or
scales, and what must follow a rotation exactly."""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from posture.landmarks import NUM_LANDMARKS, P, Pose, pose_from_arrays
from posture.metrics import METRIC_NAMES, compute_metrics, detect_view

ASPECT = 4 / 3


def frontal_pose(head_drop: float = 0.0, roll_deg: float = 0.0, lean: float = 0.0) -> np.ndarray:
    """A seated user facing the camera, in normalised coordinates (x in image widths)."""
    pts = np.full((NUM_LANDMARKS, 2), 0.5)
    sw = 0.30  # shoulder width, image widths
    cx, sy = 0.5, 0.75
    pts[P.LEFT_SHOULDER] = (cx + sw / 2, sy)
    pts[P.RIGHT_SHOULDER] = (cx - sw / 2, sy)
    hy = sy - 0.25 + head_drop
    hx = cx + lean
    r = math.radians(roll_deg)
    for idx, dx, dy in (
        (P.LEFT_EAR, 0.07, 0.0), (P.RIGHT_EAR, -0.07, 0.0), (P.LEFT_EYE, 0.03, -0.02), (P.RIGHT_EYE, -0.03, -0.02),
        (P.NOSE, 0.0, 0.01), (P.MOUTH_LEFT, 0.02, 0.05), (P.MOUTH_RIGHT, -0.02, 0.05),
    ):
        # rotate in isotropic units so the roll angle is a true image-plane angle
        ix, iy = dx * ASPECT, dy
        rx, ry = ix * math.cos(r) - iy * math.sin(r), ix * math.sin(r) + iy * math.cos(r)
        pts[idx] = (hx + rx / ASPECT, hy + ry)
    return pts


def make(pts: np.ndarray) -> Pose:
    return pose_from_arrays(pts, aspect=ASPECT)


def test_frontal_pose_values_are_sensible() -> None:
    m = compute_metrics(make(frontal_pose()))
    assert m.view == "front"
    assert m.values["head_height"] is not None and 0.5 < m.values["head_height"] < 0.7
    roll, tilt = m.values["head_roll_deg"], m.values["shoulder_tilt_deg"]
    assert roll is not None and abs(roll) < 1e-9
    assert tilt is not None and abs(tilt) < 1e-9
    assert m.values["cva_deg"] is None


def test_head_height_falls_when_head_drops() -> None:
    heights = [compute_metrics(make(frontal_pose(head_drop=d))).values["head_height"] for d in (0, 0.02, 0.04, 0.06)]
    assert all(a is not None and b is not None and a > b for a, b in pairwise(heights))


@settings(max_examples=60, deadline=None)
@given(
    dx=st.floats(-0.15, 0.15), dy=st.floats(-0.1, 0.1), scale=st.floats(0.6, 1.3),
    drop=st.floats(0, 0.06), roll=st.floats(-20, 20), lean=st.floats(-0.05, 0.05),
)
def test_metrics_invariant_to_translation_and_scale(dx: float, dy: float, scale: float, drop: float,
                                                    roll: float, lean: float) -> None:
    base = make(frontal_pose(drop, roll, lean))
    centre = (0.5, 0.6)
    moved = base.transformed(lambda x, y: (centre[0] + (x - centre[0]) * scale + dx, centre[1] + (y - centre[1]) * scale + dy))
    a, b = compute_metrics(base), compute_metrics(moved)
    for name in METRIC_NAMES:
        if name == "screen_distance":
            # Apparent distance must scale inversely with the person's size, exactly.
            assert b.values[name] is not None and a.values[name] is not None
            assert math.isclose(b.values[name] * scale, a.values[name], rel_tol=1e-6)
            continue
        va, vb = a.values[name], b.values[name]
        assert (va is None) == (vb is None), name
        if va is not None and vb is not None:
            assert math.isclose(va, vb, rel_tol=1e-6, abs_tol=1e-6), name


@settings(max_examples=60, deadline=None)
@given(theta=st.floats(-40, 40), roll=st.floats(-15, 15))
def test_head_roll_follows_rotation_exactly(theta: float, roll: float) -> None:
    base = make(frontal_pose(roll_deg=roll))
    c = (0.5 * ASPECT, 0.6)
    t = math.radians(theta)

    def rotate(x: float, y: float) -> tuple[float, float]:
        ix, iy = x * ASPECT - c[0], y - c[1]
        return ((c[0] + ix * math.cos(t) - iy * math.sin(t)) / ASPECT, c[1] + ix * math.sin(t) + iy * math.cos(t))

    rotated = base.transformed(rotate)
    a, b = compute_metrics(base), compute_metrics(rotated)
    assert a.values["head_roll_deg"] is not None and b.values["head_roll_deg"] is not None
    assert math.isclose(a.values["head_roll_deg"], roll, abs_tol=1e-6)
    assert math.isclose(b.values["head_roll_deg"] - a.values["head_roll_deg"], theta, abs_tol=1e-6)
    assert b.values["shoulder_tilt_deg"] is not None
    assert math.isclose(b.values["shoulder_tilt_deg"], theta, abs_tol=1e-6)
    # Rotating the whole person changes neither head height nor face scale…
    for name in ("head_height", "face_scale"):
        assert math.isclose(a.values[name] or 0, b.values[name] or 0, abs_tol=1e-6), name
    # …but carries the head across the picture, as leaning sideways from the hips does: the lateral
    # offset is measured across the picture, so it follows the rotation exactly.
    hh, off = a.values["head_height"] or 0.0, a.values["lateral_offset"] or 0.0
    expected = off * math.cos(t) + hh * math.sin(t)
    assert math.isclose(b.values["lateral_offset"] or 0.0, expected, abs_tol=1e-6)


def test_unknown_rather_than_garbage() -> None:
    pts = frontal_pose()
    vis = np.ones(NUM_LANDMARKS)
    vis[[P.LEFT_EAR, P.RIGHT_EAR, P.LEFT_EYE, P.RIGHT_EYE]] = 0.1
    m = compute_metrics(pose_from_arrays(pts, vis, ASPECT))
    assert m.values["head_height"] is None and m.values["face_scale"] is None and m.values["head_roll_deg"] is None
    assert m.values["shoulder_tilt_deg"] is not None  # shoulders are still fine
    # A shoulder outside the frame, even with high visibility, makes shoulder metrics unknown.
    pts2 = frontal_pose()
    pts2[P.LEFT_SHOULDER] = (1.2, 0.75)
    m2 = compute_metrics(make(pts2))
    assert m2.values["shoulder_tilt_deg"] is None and m2.values["head_height"] is None


def test_side_view_detected_and_cva_computed() -> None:
    pts = np.full((NUM_LANDMARKS, 2), 0.5)
    pts[P.LEFT_SHOULDER] = (0.50, 0.70)
    pts[P.RIGHT_SHOULDER] = (0.52, 0.69)
    pts[P.LEFT_EAR] = (0.55, 0.45)
    pts[P.RIGHT_EAR] = (0.56, 0.45)
    pts[P.NOSE] = (0.62, 0.47)
    pts[P.LEFT_EYE] = (0.60, 0.44)
    pts[P.RIGHT_EYE] = (0.61, 0.44)
    pose = make(pts)
    assert detect_view(pose) == "side"
    m = compute_metrics(pose)
    assert m.values["head_height"] is None
    cva = m.values["cva_deg"]
    assert cva is not None
    expected = math.degrees(math.atan2(0.25, 0.05 * ASPECT))
    assert math.isclose(cva, expected, abs_tol=1e-6)
    # Ear further forward of the shoulder → smaller angle (more forward head).
    pts[P.LEFT_EAR] = (0.62, 0.47)
    assert (compute_metrics(make(pts)).values["cva_deg"] or 99) < cva
