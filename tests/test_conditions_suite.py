"""The conditions table as tests: every labelled clip (the posture clips and real footage) replayed under
every webcam condition through the real pose model and pipeline, held to the targets fixed in
posture/condition_suite.py before anything was measured: balanced accuracy >= 0.95 in every condition, no
false nudge, the main reason of each poor span right >= 90 %, and a mirrored picture giving the same states
with mirror-image reasons, for every clip.

Pose inference costs ~30 ms a look and the machine is shared, so clips are sampled at 1 Hz (the companion
samples at 0.33-2 Hz), each condition x clip is run once per session and shared between tests, and the
motion gate re-uses the pose on unchanged frames exactly as the companion does.
"""

from __future__ import annotations

import pytest

from posture.condition_suite import (
    MAX_FALSE_NUDGES,
    MIN_BALANCED_ACCURACY,
    MIN_REASON_ACCURACY,
    ConditionRun,
    SuiteClip,
    clips_in,
    format_conditions,
    held_stills_clip,
    run_condition,
    webcam_man_clip,
)
from posture.conditions import CONDITION_BY_NAME, CONDITIONS
from posture.evaluation import format_reasons, mirror_reasons
from posture.landmarks import Pose
from posture.person import PersonFinder, default_finder
from posture.pose import backend_name

from conftest import REPO, SAMPLES
from footage import SLOUCH, slouch_frames

RATE_HZ = 1.0
POSTURE_CLIPS = ("forward_head", "head_tilt", "lateral_lean", "slouch")
CALIBRATION_FRAMES = 5

# Condition x clip pairs whose measured figure (benchmarks/RESULTS.md, same code, same rate) misses a
# target. The test still asserts the target; it is expected to fail until the judgement is good enough,
# and `strict` turns the first pass into a failure so this list cannot go stale. Never lower the target.
KNOWN_SHORT: dict[tuple[str, str], str] = {}


def _builder(obs):  # type: ignore[no-untyped-def]
    from calibration.capture import build_baseline

    return build_baseline(obs)[0]


def _real_clips() -> list[SuiteClip]:
    out: list[SuiteClip] = []
    man = webcam_man_clip(REPO / "tests" / "real_footage")  # fetched by tests/real_footage/fetch.py; absent in a fresh clone
    if man is not None:
        out.append(man)
    if not SLOUCH.exists():
        return out
    up, down = slouch_frames()
    judged = []
    held_up = up[CALIBRATION_FRAMES:]
    for i in range(max(len(held_up), len(down))):
        if i < len(down):
            judged.append((down[i], "poor", "slouch"))
        if i < len(held_up):
            judged.append((held_up[i], "good", "upright"))
    return [*out, held_stills_clip("slouch_session_a", up[:CALIBRATION_FRAMES], judged, hold_s=8.0)]


_CLIPS: dict[str, SuiteClip] = {}
_RUNS: dict[tuple[str, str], ConditionRun] = {}
# Every pose look of the session, by picture content: a mirrored run re-uses the plain run's two looks
# (the same two pictures, swapped), and conditions that share frames (a light change and each light) look
# once. The answers are the model's own, so nothing is approximated.
_LOOKS: dict[bytes, Pose | None] = {}


def _finder() -> PersonFinder:
    return default_finder(memory=_LOOKS)


def clip(name: str) -> SuiteClip:
    if not _CLIPS:
        for c in clips_in(SAMPLES) + _real_clips():
            _CLIPS[c.name.removesuffix(".mp4")] = c
    if name not in _CLIPS:
        pytest.skip(f"clip {name} not available (real footage lives in ../shared/footage beside the project)")
    return _CLIPS[name]


def run(condition: str, name: str) -> ConditionRun:
    key = (condition, name)
    if key not in _RUNS:
        _RUNS[key] = run_condition(clip(name), CONDITION_BY_NAME[condition], _finder, _builder, RATE_HZ)
    return _RUNS[key]


REAL_CLIPS = ("slouch_session_a", "webcam_man")

# The same list for the Tasks backend (Python 3.13+, or POSTURE_POSE_BACKEND=tasks), measured in a 3.13
# venv with `benchmarks/bench_backends.py --conditions`, which prints these entries. Both backends run
# the same networks, but not through the same graph, so a few pairs land on either side of a target.
KNOWN_SHORT_TASKS: dict[tuple[str, str], str] = {}


def known_short() -> dict[tuple[str, str], str]:
    """The shortfalls measured on the backend this install runs."""
    return KNOWN_SHORT_TASKS if backend_name() == "tasks" else KNOWN_SHORT


def suite_clips() -> list[str]:
    return [*POSTURE_CLIPS, *REAL_CLIPS]


def _pairs() -> list[object]:
    out: list[object] = []
    short = known_short()
    for c in CONDITIONS:
        for name in suite_clips():
            marks: list[pytest.MarkDecorator] = [pytest.mark.slow]
            if (c.name, name) in short:
                marks.append(pytest.mark.xfail(strict=True, reason=short[(c.name, name)]))
            out.append(pytest.param(c.name, name, marks=marks, id=f"{c.name}-{name}"))
    return out


@pytest.mark.parametrize(("condition", "name"), _pairs())
def test_condition_meets_the_targets(condition: str, name: str) -> None:
    r = run(condition, name)
    print("\n" + format_conditions([r]))
    ev = r.evaluation
    assert not r.error, f"{condition} x {name}: {r.error}"
    assert ev.balanced_accuracy >= MIN_BALANCED_ACCURACY, f"{condition} x {name}: {ev.balanced_accuracy:.2f}"
    assert ev.false_alarms <= MAX_FALSE_NUDGES, f"{condition} x {name}: {ev.false_alarms} false nudges"


@pytest.mark.slow
def test_in_poor_light_a_still_user_costs_little_more_than_in_daylight_and_a_slouch_is_noticed_as_fast() -> None:
    """Under the evening lamp every frame brings fresh sensor noise, yet a still user's posture does not
    change: once the still looks have settled (posture.burst) the picture is only looked at again when it
    changes, so poor light costs at most the median's looks more than daylight. And the gate, sensitive in
    poor light, still brings the fresh look a slouch needs: noticed as fast as in daylight."""
    from posture.burst import LOOKS

    day, dim = run("daylight", "upright"), run("dim", "upright")
    assert not day.error and not dim.error
    assert dim.pose_runs <= day.pose_runs + LOOKS, f"still user: {dim.pose_runs} looks under the lamp, {day.pose_runs} in daylight"
    for name in ("slouch", "forward_head"):
        daylight = run("daylight", name).mean_latency
        assert daylight is not None
        for condition in ("dim", "light_to_dim"):
            lat = run(condition, name).mean_latency
            assert lat is not None and lat <= daylight + 1e-9, f"{condition} x {name}: followed in {lat} s, daylight {daylight} s"


def _every_clip() -> list[str]:
    return [p.name.removesuffix(".mp4") for p in sorted(SAMPLES.glob("*.mp4"))
            if p.with_name(p.stem + ".labels.json").exists()] + list(REAL_CLIPS)


@pytest.mark.slow
@pytest.mark.parametrize("name", _every_clip())
def test_a_mirrored_picture_gives_the_same_states_and_mirror_image_reasons(name: str) -> None:
    plain, mirrored = run("daylight", name), run("mirrored", name)
    assert not plain.error and not mirrored.error
    assert [s.t for s in plain.samples] == [s.t for s in mirrored.samples]
    assert [s.state for s in plain.samples] == [s.state for s in mirrored.samples]
    assert [mirror_reasons(s.reasons) for s in plain.samples] == [s.reasons for s in mirrored.samples]


@pytest.mark.slow
def test_reasons_of_poor_spans_are_right_on_the_labelled_clips() -> None:
    clip(POSTURE_CLIPS[0])
    names = [n for n in _every_clip() if n in _CLIPS]
    runs = [run("daylight", n) for n in names]
    spans = [s for r in runs for s in r.evaluation.span_reasons]
    for r in runs:
        if r.evaluation.span_reasons:
            print(f"\n== {r.clip}\n" + format_reasons(r.evaluation))
    right = sum(1 for _, want, got in spans if want == got)
    assert len(spans) >= 8, "the labelled clips hold at least eight poor spans with a reason"
    assert right / len(spans) >= MIN_REASON_ACCURACY, f"main reason right in {right}/{len(spans)} poor spans"


@pytest.mark.slow
def test_evaluate_conditions_prints_one_table(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from posture.cli import main

    out_json = tmp_path / "conditions.json"
    rc = main(["evaluate", str(SAMPLES / "upright.mp4"), "--conditions", "mirrored,dim", "--rate", "1",
               "--json", str(out_json)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "mirrored" in out and "dim" in out and "bal acc" in out and "condition × clip runs meet" in out
    import json

    rows = json.loads(out_json.read_text())
    assert [r["condition"] for r in rows] == ["mirrored", "dim"] and all(r["clip"] == "upright.mp4" for r in rows)


def test_an_unknown_condition_is_one_clear_line(capsys) -> None:  # type: ignore[no-untyped-def]
    from posture.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["evaluate", str(SAMPLES / "upright.mp4"), "--conditions", "fog"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "unknown condition 'fog'" in err and "Traceback" not in err
