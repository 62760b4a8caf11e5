"""Landmarks, metrics, validity and user-following on real people at webcams (../shared/footage)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from posture.metrics import compute_metrics
from posture.person import default_finder, validate_pose

from footage import FOOTAGE, need, slouch_frames


def head_height(still_pose, path) -> float:  # type: ignore[no-untyped-def]
    pose = still_pose.detect(cv2.imread(str(path)))
    assert validate_pose(pose).ok, path
    value = compute_metrics(pose).values["head_height"]
    assert value is not None
    return float(value)


def test_upright_frames_have_higher_head_height_than_slouched(still_pose) -> None:  # type: ignore[no-untyped-def]
    up, down = slouch_frames()
    upright = [head_height(still_pose, p) for p in up]
    slouched = [head_height(still_pose, p) for p in down]
    print(f"head_height upright {min(upright):.3f}-{max(upright):.3f}, slouched {min(slouched):.3f}-{max(slouched):.3f}")
    assert np.median(upright) > np.median(slouched) + 0.04
    # Nearly separable for this one person: the lowest upright beats most slouched frames.
    assert sum(s < min(upright) for s in slouched) >= len(slouched) - 2


def test_two_people_yield_one_tracked_user() -> None:
    path = need(FOOTAGE / "two_people_table.264")
    finder = default_finder()
    cap = cv2.VideoCapture(str(path))
    noses = []
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            det = finder.find(frame)
            assert det.faces >= 2, "the presence check should see both people"
            assert det.validity.ok and det.pose is not None
            noses.append(det.pose[0].x)
    finally:
        cap.release()
        finder.close()
    assert len(noses) >= 8
    # One user, the same one in every frame: the larger, more central person on the right.
    assert max(noses) - min(noses) < 0.1
    assert min(noses) > 0.5


@pytest.mark.parametrize("name", [
    "desk_hunch.jpeg", "hunchback_left.jpg", "hunchback_right.jpg", "reclined_2.jpg", "straight_2.jpg",
    "straight_armsfolded.jpg",
])
def test_side_view_images_are_recognised(still_pose, name: str) -> None:  # type: ignore[no-untyped-def]
    pose = still_pose.detect(cv2.imread(str(need(FOOTAGE / "side_view" / name))))
    assert pose is not None
    m = compute_metrics(pose)
    assert m.view == "side"
    assert m.values["cva_deg"] is not None and m.values["head_height"] is None


def test_side_view_cva_separates_straight_from_hunched(still_pose) -> None:  # type: ignore[no-untyped-def]
    def cva(name: str) -> float:
        pose = still_pose.detect(cv2.imread(str(need(FOOTAGE / "side_view" / name))))
        value = compute_metrics(pose).values["cva_deg"]
        assert value is not None
        return value

    assert cva("straight_2.jpg") > cva("hunchback_left.jpg") > cva("desk_hunch.jpeg")


@pytest.mark.parametrize("name", ["portrait.jpg"])
def test_frontal_images_are_front_view(still_pose, name: str) -> None:  # type: ignore[no-untyped-def]
    pose = still_pose.detect(cv2.imread(str(need(FOOTAGE / name))))
    assert validate_pose(pose).ok
    assert compute_metrics(pose).view == "front"


def test_blank_and_noise_frames_are_not_a_user(still_pose) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(1)
    for frame in (np.zeros((360, 640, 3), np.uint8), rng.integers(0, 255, (360, 640, 3), dtype=np.uint8)):
        assert not validate_pose(still_pose.detect(frame)).ok


def test_head_and_shoulders_cut_off_is_rejected() -> None:
    """The video-call clip crops the shoulders: MediaPipe still guesses them (visibility high, outside the
    frame), and validity must say so instead of producing metrics."""
    path = need(FOOTAGE / "video_call_640x320.264")
    finder = default_finder()
    cap = cv2.VideoCapture(str(path))
    reasons = []
    try:
        ok, frame = cap.read()
        while ok:
            reasons.append(finder.find(frame).validity.reason)
            ok, frame = cap.read()
    finally:
        cap.release()
        finder.close()
    assert sum(r == "shoulders not in the frame" for r in reasons) >= len(reasons) // 2
