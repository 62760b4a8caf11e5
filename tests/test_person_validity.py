"""Validity: a drawing or a title card the pose model reads as a person is not judged as the user."""

from __future__ import annotations

import math

import pytest

from posture.landmarks import Landmark, P, Pose
from posture.person import MAX_FACE_TURN_DEG, Validity, default_finder, face_turn_deg, validate_pose

from conftest import REPO, seated_pose

REAL = REPO / "tests" / "real_footage"


def _face_turned(pose: Pose, degrees: float) -> Pose:
    """The same body with the face (landmarks 0-10) turned about the nose, as a rolled head would be."""
    nose = pose[P.NOSE]
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    lms = list(pose.landmarks)
    for i in range(11):
        lm = lms[i]
        dx, dy = (lm.x - nose.x) * pose.aspect, lm.y - nose.y
        lms[i] = Landmark(nose.x + (c * dx - s * dy) / pose.aspect, nose.y + s * dx + c * dy, lm.z, lm.visibility)
    return Pose(tuple(lms), pose.world, pose.aspect)


def test_an_upright_or_rolled_face_is_a_user() -> None:
    pose = seated_pose()
    assert isinstance(pose, Pose)
    assert face_turn_deg(pose) < 1.0
    for roll in (-60.0, -30.0, 30.0, 60.0):
        turned = _face_turned(pose, roll)
        assert face_turn_deg(turned) == pytest.approx(abs(roll), abs=0.5)
        assert validate_pose(turned).ok, roll


@pytest.mark.parametrize("roll", [-100.0, 100.0, 135.0, 180.0])
def test_a_sideways_or_upside_down_face_is_not_a_user(roll: float) -> None:
    pose = seated_pose()
    assert isinstance(pose, Pose)
    turned = _face_turned(pose, roll)
    assert face_turn_deg(turned) > MAX_FACE_TURN_DEG
    assert validate_pose(turned) == Validity(False, "face sideways or upside down")


def test_the_cartoon_title_the_pose_model_reads_as_a_person_is_rejected() -> None:
    """Real frames: the pose model reports a person (high visibility, shoulders in the frame, big enough)
    on a cartoon's title card; the man at his webcam in the same recording stays a user."""
    from posture.condition_suite import video_frames

    first = REAL / "face_noface.mov"
    if not first.exists():
        pytest.skip(f"{first} absent: fetched by `make real-footage` (tests/real_footage/fetch.py)")
    frames = video_frames(first, [0, 96])
    finder = default_finder()
    try:
        assert finder.find(frames[0]).validity.ok
        title = finder.find(frames[96])
    finally:
        finder.close()
    assert not title.validity.ok
