"""The sample clips and the warps behind them.

The warp tests render single frames and run the real pose model on them: a posture's warp must move the
metric that the app scores it by, monotonically with the warp's amount. The clip tests only read the
committed files (container metadata and a few decoded frames).
"""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # sample_videos/ is a folder of the repo, not an installed package
    sys.path.insert(0, str(ROOT))

from posture.landmarks import P, Pose  # noqa: E402
from posture.metrics import compute_metrics  # noqa: E402
from posture.pose import PoseBackend, legacy_available, make_pose  # noqa: E402
from sample_videos import make_samples as ms  # noqa: E402
from sample_videos import warp  # noqa: E402

CLIP_DIR = ROOT / "sample_videos"
CLIP_NAMES = (
    "upright",
    "forward_head",
    "slouch",
    "head_tilt",
    "lateral_lean",
    "leave_return",
    "second_person",
    "demo_session",
)
STATES = {"good", "poor", "away"}
REASONS = {"upright", "forward_head", "slouch", "head_tilt_left", "head_tilt_right", "lateral_lean_left",
           "lateral_lean_right", "away", "glance"}
AMOUNTS = (0.0, 0.25, 0.5, 0.75, 1.0)


@pytest.fixture(scope="module")
def rig() -> warp.Rig:
    if not legacy_available():
        # The clip generator cuts the person out with the legacy API's segmentation mask.
        pytest.skip("the sample-clip generator needs mediapipe < 0.10.30 (Python 3.11 or 3.12)")
    return warp.build_rig()


@pytest.fixture(scope="module")
def detector() -> Iterator[PoseBackend]:
    det = make_pose(tracking=False)  # unrelated stills: no tracking between them
    yield det
    det.close()


def _metrics(detector: PoseBackend, frame: np.ndarray) -> dict[str, float | None]:
    pose = detector.detect(frame)
    assert pose is not None, "no person found in a rendered frame"
    return compute_metrics(pose).values


def _series(rig: warp.Rig, detector: PoseBackend, posture: str, key: str) -> list[float]:
    out = []
    for amount in AMOUNTS:
        value = _metrics(detector, warp.render(rig, warp.stance_for(posture, amount)))[key]
        assert value is not None, f"{key} missing at {posture} {amount}"
        out.append(value)
    return out


def _strictly_increasing(values: list[float]) -> bool:
    return all(b > a for a, b in itertools.pairwise(values))


# ------------------------------------------------------------------------------ warps move the metric


def test_slouch_lowers_head_height(rig: warp.Rig, detector: PoseBackend) -> None:
    h = _series(rig, detector, "slouch", "head_height")
    assert _strictly_increasing([-v for v in h]), h
    assert (h[0] - h[-1]) / h[0] > 0.15, h  # the head-to-shoulder distance shrinks 15-30%


def test_forward_head_raises_face_scale(rig: warp.Rig, detector: PoseBackend) -> None:
    s = _series(rig, detector, "forward_head", "face_scale")
    assert _strictly_increasing(s), s
    assert s[-1] / s[0] > 1.12, s


def test_head_tilt_raises_roll(rig: warp.Rig, detector: PoseBackend) -> None:
    roll = _series(rig, detector, "head_tilt", "head_roll_deg")
    # She already holds her head a little tilted toward her left; the warp tilts it further that way.
    assert _strictly_increasing([abs(r) for r in roll]), roll
    assert _strictly_increasing([abs(r - roll[0]) for r in roll]), roll
    assert abs(roll[-1] - roll[0]) > 10.0, roll


def test_lateral_lean_moves_head_off_centre(rig: warp.Rig, detector: PoseBackend) -> None:
    off = _series(rig, detector, "lateral_lean", "lateral_offset")
    # Relative to her own upright offset (what the app compares against after calibration).
    shift = [abs(o - off[0]) for o in off]
    assert _strictly_increasing(shift), off
    assert shift[-1] > 0.15, off


def test_glance_dips_the_head(rig: warp.Rig, detector: PoseBackend) -> None:
    up = _metrics(detector, warp.render(rig, warp.Stance()))["head_height"]
    down = _metrics(detector, warp.render(rig, warp.stance_for("glance", 1.0)))["head_height"]
    assert up is not None and down is not None
    assert down < up


def test_warps_keep_the_mesh_valid(rig: warp.Rig) -> None:
    for posture in warp.POSTURES:
        for amount in (-1.0, -0.5, 0.5, 1.0) if posture in warp.DEFAULT_SIDE else (0.5, 1.0):
            st = warp.stance_for(posture, amount)
            head, shoulders, body = warp.transforms(rig, st, warp.natural_motion(1.3, 0))
            assert warp.flipped_triangles(rig, warp.mesh_targets(rig, head, shoulders, body)) == 0, (posture, amount)


def test_render_is_deterministic_and_moves(rig: warp.Rig) -> None:
    a = warp.render(rig, warp.Stance(), warp.natural_motion(2.0, 1))
    b = warp.render(rig, warp.Stance(), warp.natural_motion(2.0, 1))
    c = warp.render(rig, warp.Stance(), warp.natural_motion(3.0, 1))
    assert a.shape == (448, 448, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)  # breathing and sway: frames are never identical
    assert np.abs(a.astype(int) - c.astype(int)).mean() < 8  # ... but only just


def test_stance_for_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        warp.stance_for("cartwheel", 1.0)
    with pytest.raises(ValueError):
        warp.stance_for("slouch", 1.5)
    with pytest.raises(ValueError):
        warp.stance_for("slouch", -0.5)
    assert warp.stance_for("lateral_lean", -1.0).lateral_lean == -warp.stance_for("lateral_lean", 1.0).lateral_lean


# ---------------------------------------------------------------------------------- segment timeline


def test_stances_ease_continuously() -> None:
    segs = [("upright", 0.0, 3.0), ("slouch", 1.0, 3.0), ("glance", 1.0, 1.0), ("away", 1.0, 4.0)]
    sts = list(ms.stances(segs))
    assert len(sts) == ms.frame_count(segs) == 330
    slouch = [s.slouch for s in sts]
    assert slouch[0] == 0.0 and max(slouch) == pytest.approx(1.0)
    # No jumps: smoothstep's steepest slope is 1.5 per ease; the quickest ease is a glance's.
    steepest = 1.5 / (ms.EASE_GLANCE * ms.FPS)
    for field in ("slouch", "glance", "away"):
        v = np.array([getattr(s, field) for s in sts])
        assert np.abs(np.diff(v)).max() <= steepest + 1e-9, field
    assert sts[-1].away == pytest.approx(1.0)


def test_labels_cover_the_timeline_with_boundaries_mid_ease() -> None:
    segs = [("upright", 0.0, 10.0), ("slouch", 0.2, 4.0), ("slouch", 1.0, 10.0), ("upright", 0.0, 5.0)]
    labels = ms.labels_for(segs)
    assert [(lb.state, lb.reason) for lb in labels] == [
        ("good", "upright"),
        ("good", "slouch"),
        ("poor", "slouch"),
        ("good", "upright"),
    ]
    assert labels[1].start == pytest.approx(10.0 + ms.EASE_SECONDS / 2)
    assert labels[-1].end == pytest.approx(29.0)
    merged = ms.labels_for([("upright", 0.0, 5.0), ("upright", 0.0, 5.0)])
    assert len(merged) == 1 and merged[0].end == 10.0


def test_long_clip_plan_is_a_realistic_mix() -> None:
    segs = ms.long_clip_segments(10.0, seed=0)
    assert sum(s for _, _, s in segs) == pytest.approx(600.0)
    assert segs[0][0] == "upright" and segs[0][2] >= 8.0
    assert {p for p, _, _ in segs} >= {"upright", "glance", "slouch"}
    assert ms.long_clip_segments(10.0, seed=0) == segs


@pytest.mark.slow
def test_make_long_clip_renders(tmp_path: Path) -> None:
    if not legacy_available():
        pytest.skip("the sample-clip generator needs mediapipe < 0.10.30 (Python 3.11 or 3.12)")
    path = tmp_path / "long.mp4"
    labels = ms.make_long_clip(path, minutes=0.5, seed=3)
    cap = cv2.VideoCapture(str(path))
    assert cap.isOpened()
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 900
    assert labels[-1].end == pytest.approx(30.0)
    assert ms.labels_path(path).exists()


# ------------------------------------------------------------------------------- the committed clips


def _labels(name: str) -> list[dict[str, object]]:
    return json.loads((CLIP_DIR / f"{name}.labels.json").read_text())


def _read_frame(cap: cv2.VideoCapture, index: int) -> np.ndarray:
    cap.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, frame = cap.read()
    assert ok, f"cannot decode frame {index}"
    return frame


def test_every_clip_is_defined_and_present() -> None:
    assert set(ms.CLIPS) == set(CLIP_NAMES)
    total = 0
    for name in CLIP_NAMES:
        assert (CLIP_DIR / f"{name}.mp4").is_file(), name
        assert (CLIP_DIR / f"{name}.labels.json").is_file(), name
        total += (CLIP_DIR / f"{name}.mp4").stat().st_size
    assert total <= 8_000_000


@pytest.mark.parametrize("name", CLIP_NAMES)
def test_clip_opens_with_expected_geometry(name: str) -> None:
    clip = ms.CLIPS[name]
    seconds = sum(s for _, _, s in clip.segments)
    cap = cv2.VideoCapture(str(CLIP_DIR / f"{name}.mp4"))
    try:
        assert cap.isOpened()
        assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(30.0)
        assert int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) == 448
        assert int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)) == 448
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        assert n == ms.frame_count(clip.segments) == round(seconds * 30)
        first, last = _read_frame(cap, 0), _read_frame(cap, n - 1)
        assert first.shape == last.shape == (448, 448, 3)
    finally:
        cap.release()
    if name == "demo_session":
        assert 120 <= seconds <= 190
    else:
        assert 20 <= seconds <= 40


@pytest.mark.parametrize("name", CLIP_NAMES)
def test_clip_labels_cover_the_clip(name: str) -> None:
    labels = _labels(name)
    seconds = sum(s for _, _, s in ms.CLIPS[name].segments)
    assert labels[0]["start"] == 0.0
    assert labels[-1]["end"] == pytest.approx(seconds)
    for a, b in itertools.pairwise(labels):
        assert a["end"] == b["start"]  # no gap, no overlap
        assert (a["state"], a["reason"]) != (b["state"], b["reason"])
    for lb in labels:
        assert set(lb) == {"start", "end", "state", "reason"}
        assert lb["state"] in STATES and lb["reason"] in REASONS
        assert float(lb["end"]) > float(lb["start"])  # type: ignore[arg-type]
    # `--calibrate-from 0:8` works on every clip.
    assert labels[0]["state"] == "good" and labels[0]["reason"] == "upright"
    assert float(labels[0]["end"]) >= 8.0  # type: ignore[arg-type]
    assert labels == [vars(lb) for lb in ms.labels_for(ms.CLIPS[name].segments)]


def test_demo_session_tells_its_story() -> None:
    labels = _labels("demo_session")

    def spans(reason: str) -> list[float]:
        return [float(lb["end"]) - float(lb["start"]) for lb in labels if lb["reason"] == reason]  # type: ignore[arg-type]

    assert len(spans("glance")) == 2 and all(s <= 2.0 for s in spans("glance"))
    assert all(lb["state"] == "good" for lb in labels if lb["reason"] == "glance")
    assert max(spans("slouch")) >= 55.0  # a nudge with a 45 s onset delay can fire
    assert spans("head_tilt_left") and spans("lateral_lean_right")
    assert 18.0 <= max(spans("away")) <= 22.0
    assert labels[-1]["reason"] == "upright"


def _plausible_person(pose: Pose | None) -> bool:
    if pose is None:
        return False
    ls, rs = pose[P.LEFT_SHOULDER], pose[P.RIGHT_SHOULDER]
    if abs(ls.x - rs.x) < 0.1:
        return False
    key = (P.NOSE, P.LEFT_EAR, P.RIGHT_EAR, P.LEFT_SHOULDER, P.RIGHT_SHOULDER)
    return all(pose[i].inside(0.02) and pose[i].visibility >= 0.5 for i in key)


def test_empty_room_has_no_person(detector: PoseBackend) -> None:
    away = [lb for lb in _labels("leave_return") if lb["state"] == "away"]
    assert len(away) == 1
    start, end = float(away[0]["start"]), float(away[0]["end"])  # type: ignore[arg-type]
    cap = cv2.VideoCapture(str(CLIP_DIR / "leave_return.mp4"))
    try:
        # Past the walk-out (the label starts mid-way through it) and before the walk back.
        for t in np.linspace(start + ms.EASE_AWAY, end - ms.EASE_AWAY, 4):
            frame = _read_frame(cap, round(t * 30))
            assert not _plausible_person(detector.detect(frame)), f"a person at {t:.1f} s"
    finally:
        cap.release()


def test_second_person_leaves_the_user_tracked(detector: PoseBackend) -> None:
    """While the walker is in frame the pose found is still hers: shoulders where calibration saw them."""
    cap = cv2.VideoCapture(str(CLIP_DIR / "second_person.mp4"))
    try:
        base = detector.detect(_read_frame(cap, 30))
        assert base is not None
        for t in (12.0, 13.5, 22.0, 23.5):
            pose = detector.detect(_read_frame(cap, round(t * 30)))
            assert pose is not None
            for i in (P.LEFT_SHOULDER, P.RIGHT_SHOULDER, P.NOSE):
                assert abs(pose[i].x - base[i].x) < 0.08 and abs(pose[i].y - base[i].y) < 0.08, (t, i)
    finally:
        cap.release()
