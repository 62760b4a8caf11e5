"""A camera turned since calibration is found from the room and undone (posture/camera_motion.py), and a
camera that did not move is left alone, whatever the light or the sensor noise does.

The pictures are the sample clips' real frames through the conditions' own transforms (posture/conditions.py):
the pitch a webcam gets when it is moved and re-aimed, an evening lamp, a light change, sensor noise.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from posture.camera_motion import CameraMotion, rectify
from posture.conditions import camera_pitch, dim_noisy

from conftest import SAMPLES


def _frame(name: str = "forward_head.mp4") -> np.ndarray:
    cap = cv2.VideoCapture(str(SAMPLES / name))
    try:
        ok, frame = cap.read()
    finally:
        cap.release()
    if not ok:
        pytest.skip(f"{name} could not be read")
    return np.asarray(frame)


@pytest.mark.parametrize("degrees", [-10.0, -6.0, 7.0, 10.0])
def test_a_turned_camera_is_undone(degrees: float) -> None:
    calm = _frame()
    motion = CameraMotion(calm, None)
    turned = camera_pitch(calm, 0, degrees)
    hom = motion.update(turned, None)
    assert hom is not None, f"a {degrees}° turn was not noticed"
    back = rectify(turned, hom, motion.picture)
    # Undone, the picture is the calibration's again to within resampling (the turned one is far from it).
    assert np.abs(back.astype(int) - calm).mean() < 0.5 * np.abs(turned.astype(int) - calm).mean()
    assert np.abs(back.astype(int) - calm).mean() < 6.0


@pytest.mark.parametrize("name", ["slouch.mp4", "head_tilt.mp4"])
def test_a_still_camera_is_left_alone(name: str) -> None:
    calm = _frame(name)
    motion = CameraMotion(calm, None)
    assert motion.update(calm, None) is None
    # An evening lamp after calibrating in daylight: darker, warmer, noisier, softer, but the same framing.
    assert motion.update(dim_noisy(calm, 3), None) is None
    noisy = np.clip(calm.astype(np.float32) * 0.7 + np.random.default_rng(1).normal(0, 6, calm.shape), 0, 255)
    assert motion.update(noisy.astype(np.uint8), None) is None


def test_a_different_scene_is_not_forced_into_a_turn() -> None:
    """Another picture altogether (a new room) is not a camera turn: nothing is undone."""
    motion = CameraMotion(_frame("forward_head.mp4"), None)
    other = cv2.resize(_frame("forward_head.mp4")[::-1].copy(), None, fx=1.0, fy=1.0)  # upside down
    assert motion.update(other, None) is None
