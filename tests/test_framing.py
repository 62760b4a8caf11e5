"""Framing: a small user, a user filling the frame, a camera moved since calibration, and when a pose
look can stand for the next frames (posture.person, posture.camera_motion, posture.motion)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from posture.baseline import Baseline
from posture.camera_motion import CameraMotion, _background_mask
from posture.conditions import camera_lower
from posture.landmarks import Pose, pose_from_arrays
from posture.person import SMALL_USER, STEADY_CROP, Detection, Validity, _small_user_square, _steady

from footage import SLOUCH


def _user(ear_span: float = 0.04, shoulders: float = 0.08, cx: float = 0.5, cy: float = 0.6) -> Pose:
    """A frontal user: nose, eyes, ears, mouth and shoulders (normalised, 4:3 picture)."""
    pts = np.full((33, 2), 0.5)
    e = ear_span / 2
    for idx, (x, y) in {0: (cx, cy - 0.06), 2: (cx + 0.4 * e, cy - 0.08), 5: (cx - 0.4 * e, cy - 0.08),
                        7: (cx + e, cy - 0.07), 8: (cx - e, cy - 0.07), 9: (cx + 0.3 * e, cy - 0.04),
                        10: (cx - 0.3 * e, cy - 0.04), 11: (cx + shoulders / 2, cy), 12: (cx - shoulders / 2, cy)}.items():
        pts[idx] = (x, y)
    return pose_from_arrays(pts, aspect=4 / 3)


def test_the_crop_around_a_small_user_keeps_its_size_while_the_head_comes_forward() -> None:
    """The crop is what the pose model enlarges to its input size: a crop that grew with the head would
    shrink the head back in what the model sees, and hide most of a forward head."""
    upright = _small_user_square(_user(), 640, 480)
    forward = _small_user_square(_user(ear_span=0.05), 640, 480)  # the head a quarter nearer
    assert upright is not None and forward is not None
    assert forward[2] > 1.2 * upright[2], "sized afresh, the crop follows the head"
    held = _steady(forward, upright)
    assert held[2] == upright[2] and held[:2] == forward[:2]  # the same size, centred on the user now
    # The user who moved half again nearer (or farther) gets a crop sized for where they are now.
    nearer = _small_user_square(_user(ear_span=0.06, shoulders=0.12), 640, 480)
    assert nearer is not None and nearer[2] > STEADY_CROP * upright[2]
    assert _steady(nearer, upright) == nearer
    assert _small_user_square(_user(ear_span=0.2, shoulders=0.6), 640, 480) is None  # not small


def test_the_crop_around_a_small_user_shows_the_room_around_their_shoulders() -> None:
    """The crop spans about three shoulder widths, not the 2.2 of the head-and-shoulders square: in the
    tighter crop the pose model read a small user's upright head higher than in the clean picture, and a
    slight slouch labelled good as a drop past the drifting line. Whether the user is small is still judged
    on the head and shoulders, so the wider crop does not make a user near the limit count as large."""
    user = _user(ear_span=0.06, shoulders=0.17)  # 109 px of shoulders on 640x480: 2.2 of them is 239 px
    shoulders_px = 0.17 * 640
    assert 2.2 * shoulders_px < SMALL_USER * 480 < 2.9 * shoulders_px
    square = _small_user_square(user, 640, 480)
    assert square is not None, "small on its head and shoulders"
    assert square[2] >= 2.9 * shoulders_px
    small = _small_user_square(_user(), 640, 480)
    assert small is not None and small[2] >= 2.9 * 0.08 * 640


class _CountingFinder:
    def __init__(self, user: Pose | None = None) -> None:
        self.looks = 0
        self.user = user or _user()

    def find(self, frame: np.ndarray) -> Detection:
        self.looks += 1
        return Detection(self.user, Validity(True), -1)


def _room() -> np.ndarray:
    """Broad shapes (a wall, shelves): a movement of the picture shows in a 48 px thumbnail."""
    yy, xx = np.mgrid[0:480, 0:640]
    grey = 120 + 60 * np.sin(xx / 40.0) * np.cos(yy / 55.0)
    return np.repeat(grey[..., None], 3, axis=2).astype(np.uint8)


def test_a_steady_user_costs_one_look() -> None:
    from posture.analyzer import Analyzer

    finder = _CountingFinder()
    analyzer = Analyzer(finder)  # type: ignore[arg-type]
    frame = _room()
    for t in range(10):
        analyzer.detect(frame.copy(), float(t))
    assert finder.looks == 1


@pytest.mark.parametrize("small", [True, False])
def test_a_look_taken_mid_movement_is_taken_again_once_the_picture_is_still(small: bool) -> None:
    """A sample falls mid-movement as often as not; for a small user the end of the movement (a head
    settling back the last centimetre) can change the picture by less than the gate's threshold, and the
    half-way pose stood for the next fifteen seconds. A user filling the picture changes enough of it to
    bring a fresh look anyway, and is not looked at again for nothing."""
    from posture.analyzer import Analyzer

    finder = _CountingFinder(_user() if small else _user(ear_span=0.3, shoulders=0.7, cy=0.8))
    analyzer = Analyzer(finder, motion_gate=True)  # type: ignore[arg-type]
    still = _room()
    analyzer.detect(still, 0.0)
    moving = np.roll(still, 60, axis=1)  # the user half-way through a movement
    analyzer.detect(moving, 1.0)
    assert finder.looks == 2
    settled = np.roll(still, 61, axis=1)  # the last pixel of it: under the gate's threshold on its own
    from posture.motion import DEFAULT_THRESHOLD, thumbnail

    assert float(np.mean(np.abs(thumbnail(settled) - thumbnail(moving)))) < DEFAULT_THRESHOLD
    analyzer.detect(settled, 2.0)
    looks = 3 if small else 2
    assert finder.looks == looks, "for a small user the pose taken mid-movement must not stand for the settled picture"
    for t in (3.0, 4.0, 5.0):
        analyzer.detect(settled.copy(), t)
    assert finder.looks == looks, "once still, the look is re-used again"


def test_a_user_sitting_back_down_is_looked_at_again_once_the_picture_is_still() -> None:
    """Coming back to the desk is a movement of several seconds for a user of any size: a look taken while
    sitting down (in a motion-blurred picture one read the face 10 % larger) must not stand for the settled
    user, as it may for a large user's ordinary movements once the state has followed them back."""
    from posture.analyzer import Analyzer
    from posture.motion import DEFAULT_THRESHOLD, thumbnail

    finder = _CountingFinder(_user(ear_span=0.3, shoulders=0.7, cy=0.8))  # fills the picture: not `settles`
    analyzer = Analyzer(finder, motion_gate=True)  # type: ignore[arg-type]
    analyzer.absent(0.0, 0.0)
    assert analyzer.tracker.state == "away"
    still = _room()
    analyzer.detect(still, 1.0)  # found again: still reported away until the state follows
    sitting = np.roll(still, 60, axis=1)  # half-way into the chair
    analyzer.detect(sitting, 2.0)
    assert finder.looks == 2
    seated = np.roll(still, 61, axis=1)
    assert float(np.mean(np.abs(thumbnail(seated) - thumbnail(sitting)))) < DEFAULT_THRESHOLD
    analyzer.detect(seated, 3.0)
    assert finder.looks == 3, "the look taken while sitting down must not stand for the seated user"
    for t in (4.0, 5.0, 6.0):
        analyzer.detect(seated.copy(), t)
    assert finder.looks == 3, "once still, the look is re-used again"


def test_an_empty_chair_is_not_looked_at_again_after_the_picture_changed() -> None:
    """Only a user found while away is settling: nobody in a changing room brings no extra look."""
    from posture.analyzer import Analyzer

    class _Nobody(_CountingFinder):
        def find(self, frame: np.ndarray) -> Detection:
            self.looks += 1
            return Detection(None, Validity(False, "no person found"), -1)

    finder = _Nobody()
    analyzer = Analyzer(finder, motion_gate=True)  # type: ignore[arg-type]
    analyzer.absent(0.0, 0.0)
    still = _room()
    analyzer.detect(still, 1.0)
    analyzer.detect(np.roll(still, 60, axis=1), 2.0)
    for t in (3.0, 4.0, 5.0):
        analyzer.detect(np.roll(still, 61, axis=1), t)
    assert finder.looks == 2


def test_a_user_filling_the_frame_leaves_the_room_beside_the_head() -> None:
    """Shoulders across nine tenths of the picture: a box around head and shoulders masks everything, but
    the wall beside the head is there to compare."""
    close = _user(ear_span=0.3, shoulders=0.9, cy=0.85)
    mask = _background_mask((120, 160), close)
    assert (mask > 0).mean() > 0.15
    # Nothing of the user is taken for the room: the face and the shoulders are masked out.
    for idx in (0, 2, 5, 7, 8, 11, 12):
        x, y = close[idx].x, close[idx].y
        assert mask[min(119, int(y * 120)), min(159, int(x * 160))] == 0, idx


def test_a_turned_camera_is_found_behind_a_user_who_fills_the_frame() -> None:
    """Real footage: a man whose shoulders span the whole 224 px picture; the camera moved 10° lower after
    calibration is found from the wall and the door beside his head."""
    if not SLOUCH.exists():
        pytest.skip(f"real footage not available: {SLOUCH} (it lives in ../shared/footage beside the project)")
    from posture.person import default_finder

    frame = cv2.imread(str(sorted((SLOUCH / "upright").glob("*.jpg"))[0]))
    finder = default_finder()
    try:
        pose = finder.find(frame).pose
        motion = CameraMotion(frame, pose)
        turned = camera_lower(frame, 0)
        found = motion.update(turned, finder.find(turned).pose)
    finally:
        finder.close()
    assert found is not None
    assert motion.update(frame, pose) is None  # and the calibration's own picture is left alone


def _leaning(deg: float, jitter: float = 0.0) -> Pose:
    """A user filling the picture with head and face turned `deg` about the middle of the shoulders."""
    import math

    user = _user(ear_span=0.3, shoulders=0.7, cy=0.8)
    pts = np.array([[user[i].x, user[i].y] for i in range(33)])
    centre, a = np.array([0.5, 0.8]), math.radians(deg)
    turn = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    aspect = np.array([4 / 3, 1.0])
    for i in range(11):
        pts[i] = centre + turn @ ((pts[i] - centre) * aspect) / aspect
    pts[:11, 1] += jitter
    return pose_from_arrays(pts, aspect=4 / 3)


def _leaning_baseline() -> Baseline:
    """A calibration of `_leaning` users sitting upright, with a little sway and jitter."""
    from calibration.capture import build_baseline
    from posture.metrics import compute_metrics

    return build_baseline([compute_metrics(_leaning(0.5 * (i % 5 - 2), 0.002 * (i % 3 - 1))) for i in range(20)])[0]


class _ScriptedFinder:
    """The pose model's answers, one per look (the last one repeated)."""

    def __init__(self, poses: list[Pose]) -> None:
        self.poses = poses
        self.looks = 0

    def find(self, frame: np.ndarray) -> Detection:
        pose = self.poses[min(self.looks, len(self.poses) - 1)]
        self.looks += 1
        return Detection(pose, Validity(True), -1)


@pytest.mark.parametrize(("after", "looks"), [(10.0, 3), (20.0, 2), (0.0, 2)])
def test_a_look_taken_as_the_user_moved_is_taken_again_once_still_only_when_it_is_undecided(after: float,
                                                                                          looks: int) -> None:
    """A look taken while the picture changed a lot (a movement, not the picture's own unrest) that is judged
    neither clearly good nor clearly poor is a pose half-way between two postures or a badly read one (with
    motion blur one look at a held head tilt read 61 where the looks after it read 16-41, and stood for 4 s):
    it is taken again once the picture is still, even for a user who fills the picture. A clear look, poor
    or good, is kept, as before."""
    from posture.analyzer import Analyzer
    from posture.metrics import compute_metrics
    from posture.motion import DEFAULT_THRESHOLD, LARGE_CHANGE, thumbnail
    from posture.scoring import ENTER_GOOD, ENTER_POOR, judge

    baseline = _leaning_baseline()
    score = judge(compute_metrics(_leaning(after)), baseline, "medium")
    assert score is not None
    assert (ENTER_POOR < score.score < ENTER_GOOD) == (looks == 3)
    finder = _ScriptedFinder([_leaning(0.0), _leaning(after)])
    analyzer = Analyzer(finder, baseline, motion_gate=True)  # type: ignore[arg-type]
    still = _room()
    analyzer.detect(still, 0.0)
    moved = np.roll(still, 60, axis=1)
    assert float(np.mean(np.abs(thumbnail(moved) - thumbnail(still)))) >= LARGE_CHANGE
    analyzer.detect(moved, 1.0)
    assert finder.looks == 2
    settled = np.roll(still, 61, axis=1)
    assert float(np.mean(np.abs(thumbnail(settled) - thumbnail(moved)))) < DEFAULT_THRESHOLD
    analyzer.detect(settled, 2.0)
    assert finder.looks == looks
    for t in (3.0, 4.0, 5.0):
        analyzer.detect(settled.copy(), t)
    assert finder.looks == looks, "once still, the look is re-used again: one more look per movement at most"


def test_the_picture_s_own_unrest_is_not_a_movement() -> None:
    """A change over the gate's threshold but under LARGE_CHANGE (motion blur's direction changing from
    frame to frame moved a steady user's picture by up to 4.6 grey levels) brings one fresh look, as ever,
    and no second one, however undecided the look."""
    from posture.analyzer import Analyzer
    from posture.motion import DEFAULT_THRESHOLD, LARGE_CHANGE, thumbnail

    baseline = _leaning_baseline()
    finder = _ScriptedFinder([_leaning(10.0)])
    analyzer = Analyzer(finder, baseline, motion_gate=True)  # type: ignore[arg-type]
    still = _room()
    analyzer.detect(still, 0.0)
    nudged = np.roll(still, 6, axis=1)
    diff = float(np.mean(np.abs(thumbnail(nudged) - thumbnail(still))))
    assert DEFAULT_THRESHOLD <= diff < LARGE_CHANGE, diff
    analyzer.detect(nudged, 1.0)
    assert finder.looks == 2
    for t in (2.0, 3.0, 4.0):
        analyzer.detect(nudged.copy(), t)
    assert finder.looks == 2
