"""Poor light: a grainy picture is recognised, denoised before the pose model, looked at afresh at every
sample (the motion gate cannot see a posture change in it), and the looks at an unchanged picture are
combined by their median."""

from __future__ import annotations

import numpy as np
import pytest

from posture.analyzer import Analyzer
from posture.burst import StillLooks, median_pose
from posture.conditions import CONDITION_BY_NAME
from posture.landmarks import Pose, pose_from_arrays
from posture.metrics import compute_metrics
from posture.person import Detection, Validity
from posture.preprocess import LOW_LIGHT_NOISE, frame_quality, mirror_pose, prepare_frame, sensor_noise

from test_metrics_properties import ASPECT, frontal_pose


def _clean_room() -> np.ndarray:
    """A lit room without grain (what a webcam in good light delivers after its own compression)."""
    import cv2

    yy, xx = np.mgrid[0:240, 0:320].astype(np.float32)
    img = np.dstack([90 + 60 * xx / 320, 100 + 50 * yy / 240, 120 + 20 * xx / 320]).astype(np.float32)
    cv2.rectangle(img, (20, 20), (90, 110), (230, 230, 220), -1)
    cv2.ellipse(img, (160, 200), (90, 50), 0, 180, 360, (60, 80, 160), -1)
    cv2.circle(img, (160, 100), 38, (120, 150, 200), -1)
    return np.clip(cv2.GaussianBlur(img, (0, 0), 0.7), 0, 255).astype(np.uint8)


ROOM = _clean_room()


def _grainy(img: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0, sigma, img.shape)
    return np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def test_sensor_noise_reads_the_grain_and_not_the_scene() -> None:
    assert sensor_noise(ROOM) < 0.5 * LOW_LIGHT_NOISE
    for sigma in (3.0, 6.0):
        assert sensor_noise(_grainy(ROOM, sigma, 1)) == pytest.approx(sigma, rel=0.25)
    assert not frame_quality(ROOM).poor_light
    # The conditions suite's evening lamp and backlit desk are poor light; its clean-light ones are not.
    for name, poor in (("dim", True), ("backlight", True), ("daylight", False), ("lowres_jpeg", False),
                       ("motion_blur", False), ("small", False)):
        assert frame_quality(CONDITION_BY_NAME[name].after(ROOM, 3)).poor_light is poor, name


def test_a_grainy_small_frame_is_denoised_and_a_clean_one_left_alone() -> None:
    assert prepare_frame(ROOM) is ROOM
    grainy = _grainy(ROOM, 7.0, 2)
    assert sensor_noise(prepare_frame(grainy)) < 0.5 * sensor_noise(grainy)
    # Symmetric: the mirrored picture is prepared into the mirror image of the prepared picture.
    assert np.array_equal(prepare_frame(np.ascontiguousarray(grainy[:, ::-1])), prepare_frame(grainy)[:, ::-1])


def _pose(drop: float = 0.0) -> Pose:
    return pose_from_arrays(frontal_pose(head_drop=drop), aspect=ASPECT)


def test_the_median_of_three_looks_outvotes_one_wild_look() -> None:
    looks = [_pose(0.0), _pose(0.08), _pose(0.004)]
    med = median_pose(looks)
    assert med.landmarks[0].y == pytest.approx(looks[2].landmarks[0].y)
    # Order-free, and a mirror commutes with it (a mirrored camera gets the mirror image of the same answer).
    assert median_pose(looks[::-1]) == med
    mirrored = median_pose([mirror_pose(p) for p in looks])
    assert np.allclose([(p.x, p.y) for p in mirrored.landmarks], [(p.x, p.y) for p in mirror_pose(med).landmarks])


def test_still_looks_forget_everything_when_the_picture_changes() -> None:
    looks = StillLooks(size=3)
    assert looks.add(_pose(0.0), still=False) == _pose(0.0)
    looks.add(_pose(0.08), still=True)
    assert looks.add(_pose(0.004), still=True).landmarks[0].y == pytest.approx(_pose(0.004).landmarks[0].y)
    # At most three are kept: the oldest drops out.
    four = looks.add(_pose(0.08), still=True)
    assert four.landmarks[0].y == pytest.approx(_pose(0.08).landmarks[0].y)
    # A changed picture starts afresh: the user moved, the old looks measure another posture.
    assert looks.add(_pose(0.05), still=False) == _pose(0.05)


class JitteryUser:
    """A pose source that reads a still user with the jitter of a grainy picture: counts its looks."""

    def __init__(self, drops: list[float]) -> None:
        self.drops = drops
        self.looks = 0

    def find(self, frame: np.ndarray) -> Detection:
        drop = self.drops[self.looks % len(self.drops)]
        self.looks += 1
        return Detection(_pose(drop), Validity(True), 1)

    def presence(self, frame: np.ndarray) -> int:
        return 1

    def close(self) -> None:
        pass


def test_in_poor_light_still_looks_are_combined_until_their_median_has_settled() -> None:
    user = JitteryUser([0.0, 0.08, 0.004])
    an = Analyzer(user, motion_gate=True)  # type: ignore[arg-type]
    # The same grainy picture of a still user (a live camera's noise differs frame to frame, the gate's
    # thumbnail hardly does): the gate calls it unchanged, yet the pose model looks at every sample until
    # three looks make the median; then that median stands for the unchanged picture.
    heights = []
    for i in range(6):
        d = an.detect(_grainy(ROOM, 7.0, i), float(i))
        assert d.pose is not None
        heights.append(compute_metrics(d.pose).values["head_height"])
    assert user.looks == 3 and an.pose_reused == 3
    # From the third look on, the wild look (0.08 lower) is outvoted by the two others: the middle one stands.
    middle = compute_metrics(_pose(0.004)).values["head_height"]
    wild = compute_metrics(_pose(0.08)).values["head_height"]
    assert middle is not None and wild is not None
    assert heights[2:] == pytest.approx([middle] * 4)
    assert heights[1] is not None and abs(heights[1] - middle) > 0.3 * abs(wild - middle)


def test_in_good_light_the_motion_gate_still_saves_the_pose_model() -> None:
    user = JitteryUser([0.0])
    an = Analyzer(user, motion_gate=True)  # type: ignore[arg-type]
    for i in range(6):
        an.detect(ROOM, float(i))
    assert user.looks == 1 and an.pose_reused == 5


def test_in_poor_light_a_still_user_costs_at_most_one_look_a_second_until_settled_then_none() -> None:
    user = JitteryUser([0.0])
    an = Analyzer(user, motion_gate=True)  # type: ignore[arg-type]
    for i in range(8):  # 2 Hz, the fast sampling rate, for 4 s: looks at 0, 1 and 2 s
        an.detect(_grainy(ROOM, 7.0, i), i * 0.5)
    assert user.looks == 3 and an.pose_reused == 5
    # A still grainy picture for a minute more: nothing but the gate's own refresh (every 15 s).
    for i in range(8, 128):
        an.detect(_grainy(ROOM, 7.0, i), i * 0.5)
    assert user.looks <= 3 + 4


def _clip_frames(name: str, times: list[float]) -> list[np.ndarray]:
    import cv2

    from conftest import SAMPLES

    cap = cv2.VideoCapture(str(SAMPLES / name))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    out = []
    try:
        for t in times:
            cap.set(cv2.CAP_PROP_POS_FRAMES, round(t * fps))
            ok, frame = cap.read()
            if not ok:
                pytest.skip(f"{name} could not be read")
            out.append(np.asarray(frame))
    finally:
        cap.release()
    return out


def test_in_poor_light_a_faint_change_brings_fresh_looks_again() -> None:
    """Behind a bright window a whole head tilt changes the gate's thumbnail by less than the good-light
    threshold: once the still looks have settled, what counts as a change is set by how much the still
    grainy picture varies, so the tilt still brings a fresh look (and the looks at it are combined anew)."""
    from posture.motion import DEFAULT_THRESHOLD, thumbnail

    backlight = CONDITION_BY_NAME["backlight"].after
    times = [4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 31.0, 31.5, 32.0, 32.5, 33.0]  # upright, then tilted right
    frames = [backlight(f, i) for i, f in enumerate(_clip_frames("head_tilt.mp4", times))]
    user = JitteryUser([0.0])
    an = Analyzer(user, motion_gate=True)  # type: ignore[arg-type]
    for t, f in zip(times[:6], frames[:6], strict=True):
        an.detect(f, t)
    assert user.looks == 3  # settled: the upright picture is not looked at again while it stays
    tilt = float(np.mean(np.abs(thumbnail(frames[6]) - thumbnail(frames[5]))))
    assert tilt < DEFAULT_THRESHOLD  # the good-light gate would not have seen it
    an.detect(frames[6], times[6])
    assert user.looks == 4
    for t, f in zip(times[7:], frames[7:], strict=True):
        an.detect(f, t)
    assert user.looks == 6  # three looks at the tilted head, then settled again


class EmptyChair(JitteryUser):
    def find(self, frame: np.ndarray) -> Detection:
        self.looks += 1
        return Detection(None, Validity(False, "no person found"), 0)


def test_in_poor_light_an_empty_chair_is_not_looked_at_again_while_nothing_changes() -> None:
    nobody = EmptyChair([0.0])
    an = Analyzer(nobody, motion_gate=True)  # type: ignore[arg-type]
    for i in range(6):
        an.detect(_grainy(ROOM, 7.0, i), float(i))
    assert nobody.looks == 1 and an.pose_reused == 5


def test_a_baseline_taken_in_poor_light_allows_for_its_shift_only_when_judged_in_good_light() -> None:
    """Calibrated in a grainy picture, the baseline may sit off by the poor-light reading's shift
    (posture.light_shift): judged in a clean picture the same head drop counts for less than against a
    baseline from a clean picture; judged in the same poor light the shift cancels and nothing changes."""
    from calibration.capture import build_baseline

    def analyzer(grainy: bool) -> Analyzer:
        # Six still looks to calibrate on, then the seventh (the one judged) with the head 0.03 lower (a drop short of saturating the score).
        an = Analyzer(JitteryUser([0.0] * 6 + [0.03]), motion_gate=False)  # type: ignore[arg-type]
        seen = [an.detect(_grainy(ROOM, 7.0, i) if grainy else ROOM, float(i)) for i in range(6)]
        an.set_baseline(build_baseline([compute_metrics(d.pose) for d in seen if d.pose is not None])[0])
        return an

    def dropped_score(an: Analyzer, picture: np.ndarray) -> float:
        judgement = an.process(picture, 10.0, 10.0).judgement
        assert judgement is not None
        return judgement.score

    by_day = dropped_score(analyzer(grainy=False), ROOM)
    lamp_then_day = dropped_score(analyzer(grainy=True), ROOM)
    lamp = dropped_score(analyzer(grainy=True), _grainy(ROOM, 7.0, 7))
    assert by_day < 100.0  # the drop counts
    assert lamp_then_day > by_day
    assert lamp == pytest.approx(by_day)


def test_a_profile_records_the_light_its_calibration_was_taken_in() -> None:
    from posture.baseline import Baseline
    from posture.light_shift import calibration_light

    clean = [frame_quality(ROOM) for _ in range(5)]
    grainy = [frame_quality(_grainy(ROOM, 7.0, i)) for i in range(5)]
    assert calibration_light(clean)["poor_light"] is False
    assert calibration_light([*grainy, None, clean[0]])["poor_light"] is True  # most looks were grainy
    assert calibration_light([None, None]) == {}
    # It survives the profile's JSON, where the analyzer reads it back (set_baseline).
    meta = calibration_light(grainy)
    restored = Baseline.from_json({"view": "front", "stats": {"head_height": {"median": 0.6, "mad": 0.01, "n": 5}},
                                   "meta": meta})
    assert restored.meta["poor_light"] is True and restored.meta["brightness"] == meta["brightness"]
