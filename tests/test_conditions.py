"""Fast tests (no pose model) for the webcam conditions, mirror symmetry, reason scoring, and what
happens when a picture cannot be judged."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posture.analyzer import Analyzer
from posture.baseline import Baseline, MetricStat
from posture.conditions import CONDITION_BY_NAME, CONDITIONS, ConditionSource, HeldFramesSource
from posture.evaluation import Interval, evaluate, expected_reason, format_reasons
from posture.judgeable import CHANGED_FOR_S, RecalibrationAdvisor, assess
from posture.landmarks import NUM_LANDMARKS, P, Pose, pose_from_arrays
from posture.metrics import compute_metrics
from posture.person import Detection, Validity
from posture.preprocess import MIRROR_INDEX, MirrorSymmetricPose, average_poses, frame_quality, mirror_pose
from posture.samples import PostureSample
from posture.scoring import judge

from test_metrics_properties import ASPECT, frontal_pose


def _room() -> np.ndarray:
    """A lit room in 320x240: a wall gradient, a window, a desk, a head and shoulders, a little noise."""
    import cv2

    yy, xx = np.mgrid[0:240, 0:320].astype(np.float32)
    img = np.dstack([90 + 60 * xx / 320, 100 + 50 * yy / 240, 120 + 20 * xx / 320]).astype(np.float32)
    cv2.rectangle(img, (20, 20), (90, 110), (230, 230, 220), -1)
    cv2.rectangle(img, (0, 200), (320, 240), (40, 60, 90), -1)
    cv2.ellipse(img, (160, 200), (90, 50), 0, 180, 360, (60, 80, 160), -1)
    cv2.circle(img, (160, 100), 38, (120, 150, 200), -1)
    img += np.random.default_rng(0).normal(0, 3, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


ROOM = _room()


@pytest.mark.parametrize("condition", [c.name for c in CONDITIONS])
def test_every_condition_gives_a_frame_deterministically(condition: str) -> None:
    c = CONDITION_BY_NAME[condition]
    for fn in (c.before, c.after):
        a, b = fn(ROOM, 7), fn(ROOM, 7)
        assert a.dtype == np.uint8 and a.ndim == 3 and a.shape[2] == 3
        assert np.array_equal(a, b), "the same frame index must give the same picture"


def test_conditions_do_what_they_say() -> None:
    day = frame_quality(ROOM)
    dim = CONDITION_BY_NAME["dim"].after(ROOM, 1)
    assert frame_quality(dim).brightness < 0.75 * day.brightness
    assert CONDITION_BY_NAME["small"].after(ROOM, 1).shape[:2] == (480, 640)
    assert CONDITION_BY_NAME["lowres_jpeg"].after(ROOM, 1).shape[1] == 320
    assert np.array_equal(CONDITION_BY_NAME["mirrored"].after(ROOM, 1), ROOM[:, ::-1])
    higher = CONDITION_BY_NAME["camera_higher"].after(ROOM, 1)
    assert higher.shape == ROOM.shape and not np.array_equal(higher, ROOM)
    blurred = CONDITION_BY_NAME["motion_blur"].after(ROOM, 1)
    assert frame_quality(blurred).sharpness < day.sharpness


def test_a_light_change_applies_only_after_calibration() -> None:
    frames = [ROOM] * 4
    src = ConditionSource(HeldFramesSource("room", frames, [1.0] * 4, fps=1.0), CONDITION_BY_NAME["light_to_dim"], 1.5)
    with src:
        got = []
        while (f := src.read()) is not None:
            got.append(f)
    assert [f.t for f in got] == [0.0, 1.0, 2.0, 3.0]
    assert np.array_equal(got[0].image, ROOM) and np.array_equal(got[1].image, ROOM)
    assert frame_quality(got[2].image).brightness < 0.75 * frame_quality(ROOM).brightness
    assert src.frames_read == 4


def _leant_into_the_window() -> np.ndarray:
    """ROOM with the user's head moved up and left, in front of the window region."""
    import cv2

    img = ROOM.copy()
    cv2.circle(img, (45, 70), 38, (120, 150, 200), -1)
    return img


def test_a_window_behind_the_user_is_hidden_where_the_user_sits_in_front_of_it() -> None:
    """The backlight's window is behind the user: a head leant in front of it stays a (dark) head, while
    the rest of the window still blows out. Painted over the head, it made the user vanish (a lean into
    the window read as nobody there), which a real window cannot do."""
    from posture.conditions import backlight

    leant = _leant_into_the_window()
    over = backlight(leant, 3)  # no room given: painted wherever it is (the user assumed clear of it)
    behind = backlight(leant, 3, ROOM)
    head, corner = (70, 45), (4, 4)  # (row, column)
    assert over[head].mean() > 235, "without the room the window covers everything in its region"
    assert behind[head].mean() < 150, "the head in front of the window must stay dark"
    assert behind[corner].mean() > 235, "the window beside the head still blows out"
    # With nobody in front of it, the window is the same as before.
    assert np.array_equal(backlight(ROOM, 3, ROOM), backlight(ROOM, 3))


def test_the_backlight_condition_takes_its_room_from_the_first_picture_of_the_run() -> None:
    leant = _leant_into_the_window()
    src = ConditionSource(HeldFramesSource("lean", [ROOM, leant], [1.0, 1.0], fps=1.0),
                          CONDITION_BY_NAME["backlight"], 0.5)
    with src:
        first, second = src.read(), src.read()
    assert first is not None and second is not None
    assert second.image[70, 45].mean() < 150, "the user leant into the window must not be painted over"


# --- mirror symmetry --------------------------------------------------------------------------------

def test_mirror_index_swaps_left_and_right() -> None:
    assert MIRROR_INDEX[P.NOSE] == P.NOSE
    assert MIRROR_INDEX[P.LEFT_SHOULDER] == P.RIGHT_SHOULDER and MIRROR_INDEX[P.RIGHT_EAR] == P.LEFT_EAR
    assert all(MIRROR_INDEX[MIRROR_INDEX[i]] == i for i in range(NUM_LANDMARKS))


@settings(max_examples=60, deadline=None)
@given(st.floats(-0.04, 0.06), st.floats(-25, 25), st.floats(-0.08, 0.08))
def test_metrics_of_a_mirrored_pose_are_mirror_images(drop: float, roll: float, lean: float) -> None:
    pose = pose_from_arrays(frontal_pose(drop, roll, lean), aspect=ASPECT)
    a, b = compute_metrics(pose), compute_metrics(mirror_pose(pose))
    for name in ("head_height", "face_scale", "screen_distance"):
        assert math.isclose(a.values[name] or 0, b.values[name] or 0, rel_tol=1e-9, abs_tol=1e-9), name
    for name in ("head_roll_deg", "shoulder_tilt_deg", "lateral_offset"):
        assert math.isclose(a.values[name] or 0, -(b.values[name] or 0), abs_tol=1e-9), name


def _baseline_of(pose: Pose) -> Baseline:
    m = compute_metrics(pose)
    stats = {k: MetricStat(v, 0.0, 10) for k, v in m.values.items() if v is not None}
    return Baseline("front", stats, m.anchor)


@settings(max_examples=60, deadline=None)
@given(st.floats(-0.04, 0.08), st.floats(-30, 30), st.floats(-0.12, 0.12))
def test_a_mirror_gives_the_same_score_and_mirror_image_reasons(drop: float, roll: float, lean: float) -> None:
    upright = pose_from_arrays(frontal_pose(), aspect=ASPECT)
    now = pose_from_arrays(frontal_pose(drop, roll, lean), aspect=ASPECT)
    a = judge(compute_metrics(now), _baseline_of(upright))
    b = judge(compute_metrics(mirror_pose(now)), _baseline_of(mirror_pose(upright)))
    assert a is not None and b is not None
    assert math.isclose(a.score, b.score, abs_tol=1e-6)
    swap = {"tilted_left": "tilted_right", "tilted_right": "tilted_left",
            "leaning_left": "leaning_right", "leaning_right": "leaning_left"}
    assert tuple(swap.get(r, r) for r in a.reasons) == b.reasons


class LopsidedPose:
    """A pose 'model' that is not mirror-symmetric: it reads the picture's left half brighter."""

    def detect(self, frame: np.ndarray) -> Pose | None:
        left = float(frame[:, : frame.shape[1] // 2].mean())
        right = float(frame[:, frame.shape[1] // 2 :].mean())
        pts = frontal_pose(drop := (left - right) / 2000.0, roll_deg=(left - 2 * right) / 20.0, lean=drop)
        return pose_from_arrays(pts, aspect=frame.shape[1] / frame.shape[0])

    def close(self) -> None:
        pass


def test_symmetric_pose_turns_a_lopsided_model_mirror_equivariant() -> None:
    lopsided, sym = LopsidedPose(), MirrorSymmetricPose(LopsidedPose())
    flipped = np.ascontiguousarray(ROOM[:, ::-1])
    raw_a, raw_b = lopsided.detect(ROOM), lopsided.detect(flipped)
    assert raw_a is not None and raw_b is not None
    assert compute_metrics(raw_a).values["head_roll_deg"] != pytest.approx(
        -(compute_metrics(raw_b).values["head_roll_deg"] or 0))
    a, b = sym.detect(ROOM), sym.detect(flipped)
    assert a is not None and b is not None
    mb = mirror_pose(b)
    for p, q in zip(a.landmarks, mb.landmarks, strict=True):
        assert p.x == pytest.approx(q.x, abs=1e-12) and p.y == pytest.approx(q.y, abs=1e-12)


def test_average_of_two_poses_is_order_free() -> None:
    a = pose_from_arrays(frontal_pose(0.01, 5, 0.02), aspect=ASPECT)
    b = pose_from_arrays(frontal_pose(-0.02, -3, 0.0), aspect=ASPECT)
    assert average_poses(a, b).landmarks == average_poses(b, a).landmarks


# --- reasons scored ---------------------------------------------------------------------------------

def _samples(spec: list[tuple[float, float, str, tuple[str, ...]]]) -> list[PostureSample]:
    out = []
    for start, end, state, reasons in spec:
        t = start
        while t < end - 1e-9:
            out.append(PostureSample(t, t, True, "front", {}, 50.0, 50.0, state, state, reasons))
            t += 0.5
    return out


LABELS = [Interval(0, 10, "good", "upright"), Interval(10, 20, "poor", "head_tilt_left"),
          Interval(20, 30, "good", "upright"), Interval(30, 40, "poor", "lateral_lean_right")]


def test_label_reasons_map_to_app_reasons_and_mirror() -> None:
    assert expected_reason("slouch") == "head_dropped"
    assert expected_reason("forward_head") == "head_forward"
    assert expected_reason("head_tilt_left") == "tilted_left"
    assert expected_reason("head_tilt_left", mirrored=True) == "tilted_right"
    assert expected_reason("lateral_lean_right", mirrored=True) == "leaning_left"
    assert expected_reason("slouch", mirrored=True) == "head_dropped"
    assert expected_reason("upright") is None and expected_reason("too_close") == "too_close"


def test_main_reason_of_each_poor_span_and_per_reason_figures() -> None:
    samples = _samples([(0, 10, "good", ()), (10, 20, "poor", ("tilted_left", "shoulders_uneven")),
                        (20, 30, "good", ()), (30, 40, "poor", ("shoulders_uneven",))])
    ev = evaluate("clip", samples, [], LABELS)
    assert ev.span_reasons == [(10, "tilted_left", "tilted_left"), (30, "leaning_right", "shoulders_uneven")]
    assert ev.reason_accuracy == 0.5
    assert ev.reason_recall("tilted_left") == 1.0 and ev.reason_recall("leaning_right") == 0.0
    assert ev.reason_precision("tilted_left") == 1.0
    assert ev.reason_precision("shoulders_uneven") == 0.0
    assert ev.reason_confusion["leaning_right"]["shoulders_uneven"] > 0
    text = format_reasons(ev)
    assert "main reason of each poor span right: 1/2" in text and "leaning_right" in text


def test_a_mirrored_run_expects_mirror_image_reasons() -> None:
    samples = _samples([(0, 10, "good", ()), (10, 20, "poor", ("tilted_right",)),
                        (20, 30, "good", ()), (30, 40, "poor", ("leaning_left",))])
    assert evaluate("clip", samples, [], LABELS, mirrored=True).reason_accuracy == 1.0
    assert evaluate("clip", samples, [], LABELS, mirrored=False).reason_accuracy == 0.0


def test_a_poor_span_without_any_reason_counts_as_wrong() -> None:
    samples = _samples([(0, 10, "good", ()), (10, 20, "good", ()), (20, 30, "good", ()), (30, 40, "good", ())])
    ev = evaluate("clip", samples, [], LABELS)
    assert ev.span_reasons and all(got == "none" for _, _, got in ev.span_reasons)
    assert ev.reason_accuracy == 0.0


# --- when the picture cannot be judged -------------------------------------------------------------

class StillUser:
    """A finder that always sees the same upright user, whatever the picture (no pose model)."""

    def __init__(self) -> None:
        self.pose = pose_from_arrays(frontal_pose(), aspect=320 / 240)

    def find(self, frame: np.ndarray) -> Detection:
        return Detection(self.pose, Validity(True), 1)

    def presence(self, frame: np.ndarray) -> int:
        return 1

    def close(self) -> None:
        pass


def _analyzer() -> Analyzer:
    finder = StillUser()
    baseline = _baseline_of(finder.pose)
    return Analyzer(finder, baseline, motion_gate=False)  # type: ignore[arg-type]


def test_a_dark_picture_is_unknown_with_its_reason_and_never_poor() -> None:
    an = _analyzer()
    dark = (ROOM // 16).astype(np.uint8)  # mean grey ~8: a room with the lights off
    states = []
    for i in range(20):
        s = an.process(dark, i * 0.5, i * 0.5).sample
        states.append(s.state)
    assert states[-1] == "unknown"
    assert s.reasons == ("too_dark",)
    assert "poor" not in states
    lit = an.process(ROOM, 10.5, 10.5).sample
    for i in range(22, 30):
        lit = an.process(ROOM, i * 0.5, i * 0.5).sample
    assert lit.state == "good" and lit.reasons == ()


def test_a_blurred_or_flat_picture_cannot_be_judged() -> None:
    import cv2

    pose = StillUser().pose
    smeared = cv2.GaussianBlur(ROOM, (0, 0), 6)  # out of focus
    assert assess(frame_quality(smeared), pose, (320, 240)).unjudgeable == "too_blurred"
    fog = np.full_like(ROOM, 128)
    assert assess(frame_quality(fog), pose, (320, 240)).unjudgeable == "too_dark"
    fine = assess(frame_quality(ROOM), pose, (320, 240))
    assert fine.unjudgeable is None and fine.quality > 0.9


def test_a_tiny_user_cannot_be_judged() -> None:
    pose = StillUser().pose  # shoulders 0.3 of the width
    assert assess(frame_quality(ROOM), pose, (100, 75)).unjudgeable == "too_small"
    assert assess(frame_quality(ROOM), pose, (640, 480)).unjudgeable is None


def test_recalibration_is_suggested_once_after_a_sustained_light_change() -> None:
    adv = RecalibrationAdvisor(120.0, (0.5, 0.7, 0.3))
    said = [adv.update(t, 50.0, (0.5, 0.7, 0.3)) for t in range(0, int(CHANGED_FOR_S) + 20)]
    assert said.count("light") == 1 and said.index("light") == int(CHANGED_FOR_S)
    # A short dip (a cloud, a hand in front of the lamp) says nothing.
    adv = RecalibrationAdvisor(120.0, None)
    assert all(adv.update(t, 50.0 if t < 10 else 120.0, None) is None for t in range(60))
    # The framing: the user's shoulders sit well away from where calibration put them.
    adv = RecalibrationAdvisor(None, (0.5, 0.7, 0.3))
    said = [adv.update(t, None, (0.5 + 0.2, 0.7, 0.3)) for t in range(0, 40)]
    assert "framing" in said


def test_the_analyzer_suggests_recalibrating_when_the_light_has_changed() -> None:
    an = _analyzer()
    for i in range(4):
        an.detect(ROOM, i)  # what the camera saw around calibration
    an.set_baseline(an.baseline)
    dim = (ROOM.astype(np.float32) * 0.35).astype(np.uint8)
    kinds = []
    for i in range(80):
        kinds += [e.kind for e in an.process(dim, 10 + i * 0.5, 10 + i * 0.5).events]
    assert kinds.count("recalibration_suggested") == 1


def test_sided_postures_are_labelled_with_her_side() -> None:
    from sample_videos import make_samples as ms

    # warp.DEFAULT_SIDE: a positive tilt goes toward her left shoulder, a positive lean toward her right.
    assert ms.label_for("head_tilt", 1.0) == ("poor", "head_tilt_left")
    assert ms.label_for("head_tilt", -1.0) == ("poor", "head_tilt_right")
    assert ms.label_for("lateral_lean", 1.0) == ("poor", "lateral_lean_right")
    assert ms.label_for("lateral_lean", -0.8) == ("poor", "lateral_lean_left")
    assert ms.label_for("head_tilt", 0.25) == ("good", "head_tilt_left")
    assert ms.label_for("slouch", 1.0) == ("poor", "slouch")


class TwoPeople:
    """A 'model' that finds the user (large, central) directly and a smaller person at the side in the
    mirror image, as the pose model did on two people at a table."""

    def detect(self, frame: np.ndarray) -> Pose | None:
        flipped = bool(frame[0, 0, 0] == 255)
        pts = frontal_pose()
        if flipped:
            pts = (pts - 0.5) * 0.6 + np.array([0.15, 0.5])  # smaller, off to the left
        return pose_from_arrays(pts, aspect=frame.shape[1] / frame.shape[0])

    def close(self) -> None:
        pass


def test_two_looks_at_different_people_keep_the_user_and_never_average() -> None:
    frame = ROOM.copy()
    frame[0, -1] = 255  # marks the mirrored look for TwoPeople
    frame[0, 0] = 0
    pose = MirrorSymmetricPose(TwoPeople()).detect(frame)
    assert pose is not None
    user = pose_from_arrays(frontal_pose(), aspect=ASPECT)
    assert pose[P.NOSE].x == pytest.approx(user[P.NOSE].x)
