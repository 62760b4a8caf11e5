"""The routine catalogue: the packaged file, validation messages, fuzzing, and the point diagrams."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from posture.coach import diagrams
from posture.coach.routines import (
    DEFAULT_PATH,
    POINTS,
    SECONDS_PER_BREATH,
    Catalogue,
    Routine,
    format_duration,
    load_catalogue,
    parse_catalogue,
)
from posture.errors import ConfigError

RAW: dict[str, Any] = json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))


def raw() -> dict[str, Any]:
    return copy.deepcopy(RAW)


def routine_raw(data: dict[str, Any], rid: str) -> dict[str, Any]:
    return next(r for r in data["routines"] if r["id"] == rid)


# --- the packaged catalogue --------------------------------------------------------------------------


def test_packaged_catalogue_has_what_the_coach_needs() -> None:
    cat = load_catalogue()
    assert len(cat) >= 6
    kinds = {r.kind for r in cat}
    assert {"micro", "neck_care", "hands_only"} <= kinds
    for r in cat:
        assert 30 <= r.seconds <= 5 * 60, r.id
        assert r.steps and r.areas and r.title
        assert r.stop_signs == cat.stop_signs  # written once, attached to every routine
    micro = cat.of_kind("micro")
    assert all(20 <= r.seconds <= 40 for r in micro)
    assert all(180 <= r.seconds <= 300 for r in cat.of_kind("neck_care"))
    # Every focus has a micro and a neck-care routine for the scheduler to pick.
    for kind in ("micro", "neck_care"):
        assert {r.focus for r in cat.of_kind(kind)} == {"forward", "sideways", "general"}


def test_stop_signs_and_red_flags_cover_the_safety_advice() -> None:
    cat = load_catalogue()
    # The article's "discontinue" and "stop if" lists: worse pain, numbness or tingling, a change in
    # strength, dizziness, chest discomfort, faintness.
    signs = " ".join(s.text for s in cat.stop_signs)
    for word in ("pain that gets worse", "numbness", "tingling", "weakness", "faint", "dizziness",
                 "chest"):
        assert word in signs
    shorts = [s.short for s in cat.stop_signs]
    assert shorts == ["pain getting worse", "numbness or tingling", "weakness or feeling faint", "dizziness",
                      "chest discomfort"]
    flags = " ".join(cat.red_flags)
    for word in ("weakness", "seeing double", "swallowing", "fever", "chest pain", "operation", "cancer"):
        assert word in flags
    assert "doctor" in cat.red_flag_advice
    assert "not a treatment" in cat.acupressure_note and "optional" in cat.acupressure_note


def test_every_point_is_used_and_has_a_picture() -> None:
    cat = load_catalogue()
    used = {s.point for r in cat for s in r.steps if s.point}
    assert used == set(POINTS)
    for r in cat:
        for s in r.steps:
            if s.point:
                assert s.picture == POINTS[s.point].picture and s.picture.is_file()
                assert s.type == "acupressure"


def test_durations_are_summed_with_ten_seconds_a_breath() -> None:
    cat = load_catalogue()
    neck_reset = cat.get("neck-reset")
    assert neck_reset is not None
    # settle 3 breaths, warm hands 10 s, GB20 6 breaths, turns 40 s, GV14 3 breaths, strokes 15 s,
    # rolls 30 s, warmth tip 15 s, water and rest 15 s
    assert SECONDS_PER_BREATH == 10
    assert neck_reset.seconds == 30 + 10 + 60 + 40 + 30 + 15 + 30 + 15 + 15
    assert neck_reset.areas == ("breath", "hands", "head", "neck", "upper-back", "shoulders", "body")
    assert neck_reset.points == ("GB20", "GV14")
    assert format_duration(neck_reset.seconds) == "4:05"
    assert cat.get("nope") is None
    longest = max(cat, key=lambda r: r.seconds)
    assert longest.id == "hand-points" and format_duration(longest.seconds) == "4:55"


def test_the_hand_routine_needs_no_neck_touching() -> None:
    hands = load_catalogue().get("hand-points")
    assert hands is not None and hands.kind == "hands_only"
    assert all(POINTS[p].region == "hand" for p in hands.points) and "EX-UE8" in hands.points


def _seconds_per_side(routine: Routine, point: str) -> list[int]:
    return [s.duration for s in routine.steps if s.point == point]


def test_every_point_is_held_30_s_to_2_min_on_each_side() -> None:
    """The sources: several slow breaths, about 30 s to 2 min, on both sides (each hand in turn)."""
    cat = load_catalogue()
    for r in cat:
        for code in r.points:
            holds = _seconds_per_side(r, code)
            assert all(30 <= h <= 120 for h in holds), (r.id, code, holds)
    hands = cat.get("hand-points")
    assert hands is not None
    for code in ("EX-UE8", "SI3", "TE3", "LI4"):
        titles = [s.title for s in hands.steps if s.point == code]
        assert len(titles) == 2 and titles[0].endswith("right hand") and titles[1].endswith("left hand")
    shoulder = cat.get("shoulder-balance")
    assert shoulder is not None and len(_seconds_per_side(shoulder, "GB21")) == 2


def test_routines_with_points_follow_the_article_from_preparation_to_aftercare() -> None:
    """Warm, clean hands first; rest between groups of points; light strokes down the neck, water and a
    moment's rest after."""
    cat = load_catalogue()
    with_points = [r for r in cat if r.has_acupressure]
    assert {r.id for r in with_points} == {"forward-head-care", "shoulder-balance", "neck-reset", "hand-points"}
    for r in with_points:
        types = [s.type for s in r.steps]
        first_point = types.index("acupressure")
        last_point = len(types) - 1 - types[::-1].index("acupressure")
        assert "prepare" in types[:first_point], r.id
        prepare = r.steps[types.index("prepare")]
        assert "warm" in prepare.instructions and "Wash" in prepare.instructions
        last = r.steps[-1]
        assert last.type == "tip" and "water" in last.instructions and "quietly" in last.instructions
        if any(POINTS[p].region == "neck" for p in r.points):
            strokes = [i for i, t in enumerate(types) if t == "massage"]
            assert strokes and strokes[0] > last_point, r.id
            assert "lightly down the back of the neck" in r.steps[strokes[0]].instructions
    hands = cat.get("hand-points")
    assert hands is not None
    rest = [i for i, s in enumerate(hands.steps) if s.type == "rest"]
    assert rest and all(hands.steps[i - 1].is_acupressure and hands.steps[i + 1].is_acupressure for i in rest)


def test_pressure_wording_is_left_to_the_safety_answers() -> None:
    """Every point step says {pressure} (filled in by the safety module) and never 'firm' by itself."""
    for r in RAW["routines"]:
        for step in r["steps"]:
            if step["type"] == "acupressure":
                assert "{pressure}" in step["instructions"], (r["id"], step["title"])
            assert "firm" not in step["instructions"].lower()


def test_where_texts_read_after_a_where_label() -> None:
    for code, point in POINTS.items():
        assert not point.where.lower().startswith("where"), code
        assert point.where.endswith(".")



# --- validation messages -----------------------------------------------------------------------------


def test_missing_duration_is_named_by_routine_and_step() -> None:
    data = raw()
    del routine_raw(data, "neck-reset")["steps"][2]["breaths"]
    with pytest.raises(ConfigError) as err:
        parse_catalogue(data)
    assert str(err.value) == "routines.json: routine 'neck-reset', step 3: missing 'seconds' or 'breaths'"


def test_unknown_point_lists_the_known_ones() -> None:
    data = raw()
    routine_raw(data, "neck-reset")["steps"][2]["point"] = "GB99"
    with pytest.raises(ConfigError) as err:
        parse_catalogue(data)
    message = str(err.value)
    assert message.startswith("routines.json: routine 'neck-reset', step 3: unknown acupressure point \"GB99\"")
    assert "known: GB20, GV16, GV14, GB21, SI3, TE3, LI4, EX-UE8" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.update(version=2), "'version' must be 1"),
        (lambda d: d.update(routines=[]), "'routines' must be a non-empty list"),
        (lambda d: d.update(stop_signs=[]), "'stop_signs' must be a non-empty list"),
        (lambda d: d.update(stop_signs=["dizziness"]), "stop sign 1: a stop sign must be a JSON object"),
        (lambda d: d["stop_signs"][0].pop("short"), "stop sign 1: missing or empty 'short'"),
        (lambda d: routine_raw(d, "neck-reset")["steps"][2].update(instructions="Press firmly {pressure}."),
         "step 3: 'instructions' say 'firmly'; write {pressure} instead"),
        (lambda d: routine_raw(d, "neck-reset")["steps"][2].update(instructions="Press the point hard."),
         "step 3: an acupressure step's 'instructions' must say {pressure}"),
        (lambda d: d["routines"][0]["steps"][1].update(instructions="Tuck with {pressure}."),
         "step 2: {pressure} is only for 'acupressure' steps"),
        (lambda d: d["routines"][0]["steps"][1].update(instructions="Tuck {gently}."),
         "step 2: 'instructions' may only contain the placeholder {pressure}"),
        (lambda d: d["routines"].append(copy.deepcopy(d["routines"][0])), "routine 'chin-tucks' is defined twice"),
        (lambda d: d["routines"][0].update(kind="marathon"), "routine 'chin-tucks': 'kind' must be one of"),
        (lambda d: d["routines"][0].update(id="Chin Tucks"), "routine #1: 'id' must be lower-case"),
        (lambda d: d["routines"][0].update(steps=[]), "routine 'chin-tucks': 'steps' must be a non-empty list"),
        (lambda d: d["routines"][0]["steps"][0].update(seconds=-3), "step 1: 'seconds' must be a whole number"),
        (lambda d: d["routines"][0]["steps"][0].update(seconds=True), "step 1: 'seconds' must be a whole number"),
        (lambda d: d["routines"][0]["steps"][0].update(seconds=2.5), "step 1: 'seconds' must be a whole number"),
        (lambda d: d["routines"][0]["steps"][0].update(breaths=2), "give either 'seconds' or 'breaths'"),
        (lambda d: d["routines"][0]["steps"][0].update(secs=4), "step 1: unknown field 'secs'"),
        (lambda d: d["routines"][0]["steps"][0].update(area="knees"), "step 1: 'area' must be one of"),
        (lambda d: d["routines"][0]["steps"][0].update(title=""), "step 1: missing or empty 'title'"),
        (lambda d: d["routines"][0]["steps"][1].update(point="GB20"),
         "step 2: 'point' is only for 'acupressure' steps"),
        (lambda d: d["routines"][0]["steps"][1].update(type="acupressure"), "step 2: an acupressure step needs a 'point'"),
        (lambda d: d["routines"][0]["steps"][1].update(picture="points/none.png"),
         "step 2: picture 'points/none.png' not found"),
        (lambda d: d["routines"][0]["steps"][1].update(seconds=600) or d["routines"][0]["steps"].extend(
            copy.deepcopy(d["routines"][0]["steps"][1]) for _ in range(2)), "routine 'chin-tucks': lasts"),
    ],
)
def test_validation_messages_name_the_problem(mutate: Any, expected: str) -> None:
    data = raw()
    mutate(data)
    with pytest.raises(ConfigError) as err:
        parse_catalogue(data)
    assert expected in str(err.value)
    assert str(err.value).startswith("routines.json: ")


def test_a_picture_next_to_the_file_is_accepted(tmp_path: Path) -> None:
    data = raw()
    (tmp_path / "mine.png").write_bytes(b"\x89PNG not really")
    routine_raw(data, "chin-tucks")["steps"][0]["picture"] = "mine.png"
    path = tmp_path / "my-routines.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    cat = load_catalogue(path)
    assert cat.get("chin-tucks").steps[0].picture == tmp_path / "mine.png"  # type: ignore[union-attr]


def test_file_problems_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_catalogue(tmp_path / "missing.json")
    bad = tmp_path / "routines.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"routines\.json: not valid JSON"):
        load_catalogue(bad)
    bad.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="cannot read"):
        load_catalogue(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        load_catalogue(tmp_path)  # a directory


# --- fuzzing: only ConfigError, never anything else --------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


def _check(data: Any) -> None:
    try:
        cat = parse_catalogue(data)
    except ConfigError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("routines.json: ")
    else:
        assert isinstance(cat, Catalogue) and len(cat) >= 1


@settings(max_examples=200, deadline=None)
@given(JSON)
def test_random_json_only_raises_config_error(data: Any) -> None:
    _check(data)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


PATHS = _paths(RAW)[1:]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(PATHS), st.sampled_from(["delete", "replace", "add"]), JSON),
                min_size=1, max_size=4))
def test_mutated_catalogue_only_raises_config_error(mutations: list[tuple[tuple[Any, ...], str, Any]]) -> None:
    data = raw()
    for path, action, value in mutations:
        parent: Any = data
        try:
            for key in path[:-1]:
                parent = parent[key]
            last = path[-1]
            if action == "delete":
                del parent[last]
            elif action == "replace":
                parent[last] = value
            elif isinstance(parent, list):
                parent.insert(int(last), value)
            else:
                parent[f"{last}_extra"] = value
        except (KeyError, IndexError, TypeError, ValueError):
            continue  # an earlier mutation changed the shape under this path
    _check(data)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_file_content_only_raises_config_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "routines.json"
    path.write_bytes(content)
    try:
        load_catalogue(path)
    except ConfigError as exc:
        assert "\n" not in str(exc)


def test_deeply_nested_json_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "routines.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(ConfigError):
        load_catalogue(path)


# --- diagrams ----------------------------------------------------------------------------------------


def test_committed_diagrams_exist_and_are_small() -> None:
    for code, point in POINTS.items():
        assert point.picture.is_file(), f"{code}: run python -m posture.coach.diagrams"
        assert point.picture.stat().st_size < 30_000


def test_diagram_script_draws_one_labelled_picture_per_point(tmp_path: Path) -> None:
    written = diagrams.write_all(tmp_path)
    assert sorted(p.name for p in written) == sorted(f"{code}.png" for code in POINTS)
    for path in written:
        img = cv2.imread(str(path))
        assert img.shape == (diagrams.SIZE + diagrams.CAPTION_H, diagrams.WIDTH, 3)
        orange = np.all(img == np.array(diagrams.DOT, dtype=np.uint8), axis=2)
        assert orange.sum() > 20  # the dot is there
        ys, _ = np.nonzero(orange)
        assert ys.max() < diagrams.SIZE  # and it is on the figure, not in the caption
        dark = np.all(img[diagrams.SIZE:] < 150, axis=2)
        assert dark.sum() > 100  # the caption is written


def test_paired_points_are_drawn_on_both_sides() -> None:
    for code, expected in (("GB20", 2), ("GB21", 2), ("GV14", 1), ("LI4", 1)):
        img = diagrams.draw(code)
        orange = np.all(img == np.array(diagrams.DOT, dtype=np.uint8), axis=2).astype(np.uint8)
        merged = cv2.dilate(orange, np.ones((9, 9), np.uint8))  # a ring and its centre make one dot
        n, _ = cv2.connectedComponents(merged)
        assert n - 1 == expected, code


def _dot_centre(img: np.ndarray) -> tuple[float, float]:
    orange = np.all(img == np.array(diagrams.DOT, dtype=np.uint8), axis=2)
    ys, xs = np.nonzero(orange)
    return float(xs.mean()), float(ys.mean())


def test_li4_sits_in_the_middle_of_a_drawn_thumb_web() -> None:
    """The sources put LI4 in the web between thumb and index finger, not at the knuckle."""
    web = diagrams.web_outline()
    assert cv2.contourArea(web) > 400  # a web wide enough to see, not a sliver
    figure = diagrams.draw("LI4")[:, (diagrams.WIDTH - diagrams.SIZE) // 2:][:diagrams.SIZE, :diagrams.SIZE]
    x, y = _dot_centre(figure)
    assert cv2.pointPolygonTest(web, (x, y), True) > 3  # well inside the web, not on its edge
    # The dot is near the centre of the web, below the knuckles and above where the thumb meets the palm.
    cx, cy = diagrams.web_centre()
    assert abs(x - cx) <= 1.5 and abs(y - cy) <= 1.5
    assert cy > diagrams.KNUCKLE_Y - 12
    # The web skin is visibly tinted around the dot.
    tinted = np.all(figure == np.array(diagrams.SKIN, dtype=np.uint8), axis=2)
    assert tinted.sum() > 150


@pytest.mark.parametrize("code", ["GB20", "GV16", "GV14", "GB21"])
def test_no_dot_hides_the_neck_landmarks(code: str) -> None:
    """C7 (GV14 lies just under it) and the skull bump (GV16 just under it) stay visible next to the dots."""
    figure = diagrams.draw(code)[:diagrams.SIZE, (diagrams.WIDTH - diagrams.SIZE) // 2:][:, :diagrams.SIZE]
    landmark = np.all(figure == np.array(diagrams.LANDMARK, dtype=np.uint8), axis=2)
    cx, cy = diagrams.C7
    assert landmark[cy - 2:cy + 3, cx - 2:cx + 3].sum() >= 9, f"{code}: the C7 marker is covered"
    bx, by = diagrams.SKULL_BUMP
    assert landmark[by - 5:by + 2, bx - 9:bx + 10].sum() >= 8, f"{code}: the skull bump is covered"


def test_gv14_is_just_under_c7_and_gv16_just_under_the_skull_bump() -> None:
    for code, landmark in (("GV14", diagrams.C7), ("GV16", diagrams.SKULL_BUMP)):
        figure = diagrams.draw(code)[:diagrams.SIZE, (diagrams.WIDTH - diagrams.SIZE) // 2:][:, :diagrams.SIZE]
        x, y = _dot_centre(figure)
        assert abs(x - landmark[0]) <= 1, code  # on the midline
        assert diagrams.DOT_RING + 3 <= y - landmark[1] <= diagrams.DOT_RING + 20, code  # just below it
