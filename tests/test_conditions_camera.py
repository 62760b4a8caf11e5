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


def _placed(points: dict[int, tuple[float, float]]):  # type: ignore[no-untyped-def]
    """A pose with the given landmarks (nose, eyes, ears, shoulders) placed, the rest at the picture's centre."""
    from posture.landmarks import pose_from_arrays

    pts = np.full((33, 2), 0.5)
    for idx, xy in points.items():
        pts[idx] = xy
    return pose_from_arrays(pts)


class _CountingFinder:
    """The person finder's interface around a fixed small user (the analyzer under test decides when to look)."""

    def __init__(self) -> None:
        # A user in the middle of the frame, a tenth of it wide: nose, eyes, ears, shoulders.
        self.pose = _placed({0: (0.5, 0.40), 2: (0.49, 0.39), 5: (0.51, 0.39), 7: (0.48, 0.40), 8: (0.52, 0.40),
                             11: (0.55, 0.47), 12: (0.45, 0.47)})
        self.looks = 0

    def find(self, frame: np.ndarray):  # type: ignore[no-untyped-def]
        from posture.person import Detection, Validity

        self.looks += 1
        return Detection(self.pose, Validity(True), -1)


def test_the_motion_gate_watches_a_small_user_not_the_whole_frame() -> None:
    """A small user's posture change is a few pixels of a 640x480 frame: too little to change the whole
    picture's thumbnail, so the pose taken before the change stood for all of it."""
    from posture.analyzer import Analyzer

    finder = _CountingFinder()
    analyzer = Analyzer(finder)  # type: ignore[arg-type]
    frame = np.full((480, 640, 3), 120, np.uint8)
    analyzer.detect(frame, 0.0)
    assert finder.looks == 1
    analyzer.detect(frame.copy(), 1.0)
    assert finder.looks == 1, "an unchanged picture must re-use the last look"
    moved = frame.copy()
    moved[190:230, 290:350] = 30  # the head coming forward: 2400 pixels of 307200 (0.7 grey levels overall)
    analyzer.detect(moved, 2.0)
    assert finder.looks == 2, "a small user's movement must bring a fresh look"


def _frames(name: str, indices: tuple[int, ...]) -> list[np.ndarray]:
    from posture.condition_suite import video_frames

    got = video_frames(SAMPLES / name, indices)
    return [np.asarray(got[i]) for i in indices]


def _astronaut():  # type: ignore[no-untyped-def]
    """The seated user of second_person.mp4 where the pose model places her (nose, eyes, ears, shoulders)."""
    return _placed({0: (0.436, 0.256), 2: (0.483, 0.219), 5: (0.403, 0.205), 7: (0.515, 0.23),
                    8: (0.36, 0.215), 11: (0.588, 0.497), 12: (0.193, 0.479)})


def test_someone_close_behind_the_user_is_seen_beside_the_head() -> None:
    """second_person.mp4: a man walks behind the seated user and stops with his head beside hers (22 s), where
    every pose backend read her face 11-15 % larger. The room beside her head shows him; it does not when he
    is gone (19 s), nor after a change of light."""
    from posture.camera_motion import CROWDED_FROM, crowded_weight

    calm, alone, beside = _frames("second_person.mp4", (0, 570, 660))
    user = _astronaut()
    motion = CameraMotion(calm, user)
    assert motion.crowding(alone, user) < 0.05
    assert motion.crowding(dim_noisy(alone, 3), user) < 0.05
    crowded = motion.crowding(beside, user)
    assert crowded > CROWDED_FROM
    assert crowded_weight(crowded) < 1.0
    assert crowded_weight(0.0) == 1.0 and crowded_weight(1.0) > 0.0
