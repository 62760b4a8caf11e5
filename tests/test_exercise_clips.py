"""Repetition counts on the labelled exercise clips (sample_videos/ex_*.mp4, made by
make_exercise_samples.py): exact, with each repetition where the labels put it.

Clips are analysed at the watching rate (WATCH_FPS, 7.5 frames a second), with the watching pose model
and face detector of the installed backend (legacy on Python 3.11/3.12, Tasks on 3.13+). Turns and side bends are found in a free search (what `posture exercise analyze`
does by default); chin tucks, shoulder rolls and squeezes are searched for by name, as a break step names them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from posture.exercise.analysis import ExerciseAnalysis, analyze_exercise
from posture.exercise.movements import FREE_DEFAULT, MOVEMENTS
from posture.exercise.watch import WATCH_FPS, fresh_fit, watch_models
from posture.sources import VideoFileSource

CLIPS = Path(__file__).resolve().parents[1] / "sample_videos"
FREE = ("ex_head_turns", "ex_side_bends")
NAMED = {"ex_chin_tucks": "chin_tuck", "ex_shoulder_rolls": "shoulder_roll", "ex_squeezes": "squeeze"}


def labels(name: str) -> dict[str, object]:
    return json.loads((CLIPS / f"{name}.reps.json").read_text())


_cache: dict[str, ExerciseAnalysis] = {}


def analysed(name: str) -> ExerciseAnalysis:
    if name not in _cache:
        movements = FREE_DEFAULT if name in FREE else (NAMED[name],)
        pose, faces = watch_models(fresh_fit(movements))
        try:
            _cache[name] = analyze_exercise(VideoFileSource(CLIPS / f"{name}.mp4"), pose, WATCH_FPS, movements,
                                            faces=faces)
        finally:
            pose.close()
            faces.close()
    return _cache[name]


@pytest.mark.parametrize("name", [*FREE, *NAMED])
def test_repetition_counts_are_exact(name: str) -> None:
    assert_counts(name, analysed(name))


def assert_counts(name: str, result: ExerciseAnalysis) -> None:
    """Every movement's count is the labels' (also used on the clips seen through sensor noise)."""
    expected = labels(name)["counts"]
    assert isinstance(expected, dict)
    found = {m: s.count for m, s in result.movements.items()}
    want = {m: int(expected.get(m, 0)) for m in found}
    assert found == want


# Measured shortfalls per backend (strict: a fix shows up as a failure to remove the entry). None now. The
# Tasks backend's video mode in mediapipe 0.10.33 (the version pinned on Python 3.13: later ones send usage
# data, see README "Privacy") reads squeezes late on the way out (peaks 6-8 % against legacy 7-12 %): their
# starts came 1.2-1.8 s after the labels' (allowance 1.25 s) until the smoothed movements placed starts and
# ends at the frame the median of three describes (posture/exercise/reps.py); measured 2026-12-02: worst
# 1.03 s on the clip, 0.63-1.07 s over eight runs with sensor noise (sd 1.5 grey levels) added to its frames.
KNOWN_SHORT_TASKS: dict[str, str] = {}


def _placed() -> list[object]:
    from posture.pose import backend_name

    short = KNOWN_SHORT_TASKS if backend_name() == "tasks" else {}
    return [pytest.param(n, marks=[pytest.mark.xfail(strict=True, reason=short[n])] if n in short else [])
            for n in (*FREE, *NAMED)]


@pytest.mark.parametrize("name", _placed())
def test_each_repetition_is_where_the_labels_put_it(name: str) -> None:
    assert_placed(name, analysed(name))


def assert_placed(name: str, result: ExerciseAnalysis) -> None:
    """Every repetition is where the labels put it (also used on the clips seen through sensor noise)."""
    reps_by_movement = labels(name)["repetitions"]
    assert isinstance(reps_by_movement, dict)
    for movement, wanted in reps_by_movement.items():
        got = result.movements[movement].repetitions
        for rep, label in zip(got, wanted, strict=True):
            # The peak inside the labelled movement. Start and end are where the movement leaves and comes
            # back within the thresholds, so they sit a little inside the labelled ease-in and ease-out
            # (which start from and return to stillness): within 1.25 s, a third of a repetition.
            assert label["start"] <= rep.peak_t <= label["end"], (rep, label)
            assert abs(rep.start - label["start"]) <= 1.25 and abs(rep.end - label["end"]) <= 1.25, (rep, label)
            assert rep.side == label["side"]
            assert rep.peak >= MOVEMENTS[movement].enter


def test_glance_and_rushed_turn() -> None:
    """The small glance is not a turn; the rushed turn counts but is shorter than a comfortable one."""
    reps = analysed("ex_head_turns").movements["turn"].repetitions
    rushed = [r for r in reps if r.seconds < MOVEMENTS["turn"].min_seconds]
    assert len(rushed) == 1
    label = labels("ex_head_turns")["repetitions"]["turn"][3]  # type: ignore[index]
    assert rushed[0].start <= label["peak"] <= rushed[0].end  # type: ignore[index]


def test_turn_peaks_follow_the_rendered_angles_in_order() -> None:
    """Bigger rendered turns give bigger measured peaks, per side (the clip's angles are nominal: a warped
    photo is not a head, so only the order is checked here; real footage checks the degrees)."""
    reps = analysed("ex_head_turns").movements["turn"].repetitions
    wanted = labels("ex_head_turns")["repetitions"]["turn"]  # type: ignore[index]
    right = [(abs(w["rendered"]["yaw_deg"]), r.peak) for r, w in zip(reps, wanted, strict=True) if r.side == "right"]
    slow_right = [p for p in right if p[0] != 40.0]  # the rushed one is not held long enough to compare
    assert sorted(slow_right) == sorted(slow_right, key=lambda p: p[1])
