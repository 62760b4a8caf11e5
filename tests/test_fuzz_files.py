"""Fuzzing the files people edit or that can be damaged on disk: label files, calibration profiles and
the settings file. A bad file must produce a clear one-line error of the documented type (labels and
profiles: `ConfigError`; settings: never an exception at all, only problem lines and defaults), never
a traceback from somewhere inside.

Routine files are fuzzed in tests/test_routines.py (random JSON, mutations of the packaged catalogue,
arbitrary bytes, deep nesting), so they are not repeated here.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from calibration.profiles import PROFILE_VERSION, Profile, ProfileStore, parse_profile
from posture.errors import ConfigError
from posture.evaluation import Interval, load_labels, parse_labels
from posture.metrics import METRIC_NAMES
from posture.settings import Settings, load_settings, parse_settings

# Numbers that break naive validation: huge integers (float() overflows), NaN/Infinity (which Python's
# json module reads), negative zero, values just outside the ranges.
NUMBERS = (
    st.integers(-10**6, 10**6)
    | st.sampled_from([0, -1, 1, 2**63, -(2**63), 10**400, -(10**400)])
    | st.floats(allow_nan=True, allow_infinity=True)
)
SCALARS = st.none() | st.booleans() | NUMBERS | st.text(max_size=12)
JSON = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
# File contents: random bytes, random text, and JSON text with the values above (json.dumps writes
# NaN/Infinity, which json.loads accepts back, exactly as a hand-edited file could contain them).
CONTENT = (
    st.binary(max_size=300)
    | st.text(max_size=300).map(str.encode)
    | JSON.map(lambda v: json.dumps(v).encode())
)
DEEP = "[" * 100_000 + "]" * 100_000  # json.loads raises RecursionError on this


def one_line(exc: Exception) -> str:
    text = str(exc)
    assert text and "\n" not in text and "Traceback" not in text
    return text


def mutate(doc: Any, draw_path: list[Any], action: str, value: Any) -> Any:
    """Apply one edit (delete/replace/add) at a path; an edit the shape no longer allows is skipped."""
    doc = copy.deepcopy(doc)
    parent = doc
    try:
        for key in draw_path[:-1]:
            parent = parent[key]
        last = draw_path[-1]
        if action == "delete":
            del parent[last]
        elif action == "replace":
            parent[last] = value
        elif isinstance(parent, list):
            parent.insert(int(last), value)
        else:
            parent[f"{last}_extra"] = value
    except (KeyError, IndexError, TypeError, ValueError):
        pass
    return doc


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += paths(v, (*prefix, i))
    return out


def mutations(doc: Any) -> st.SearchStrategy[list[tuple[tuple[Any, ...], str, Any]]]:
    return st.lists(
        st.tuples(st.sampled_from(paths(doc)[1:]), st.sampled_from(["delete", "replace", "add"]), JSON),
        min_size=1, max_size=4,
    )


def apply(doc: Any, edits: list[tuple[tuple[Any, ...], str, Any]]) -> Any:
    for path, action, value in edits:
        doc = mutate(doc, list(path), action, value)
    return doc


# --- label files ----------------------------------------------------------------------------------------

LABELS = [
    {"start": 0, "end": 10, "state": "good", "reason": "upright"},
    {"start": 10, "end": 25.5, "state": "poor", "reason": "slouch"},
    {"start": 25.5, "end": 40, "state": "away", "reason": "away"},
]


def check_labels(data: Any) -> None:
    try:
        out = parse_labels(data, "clip.labels.json")
    except ConfigError as exc:
        assert one_line(exc).startswith("clip.labels.json: ")
    else:
        assert out and all(isinstance(iv, Interval) for iv in out)
        assert all(math.isfinite(iv.start) and iv.end > iv.start >= 0 for iv in out)


def test_valid_labels_parse() -> None:
    assert [iv.state for iv in parse_labels(LABELS)] == ["good", "poor", "away"]


@settings(max_examples=300, deadline=None)
@given(JSON)
@example([{"start": 10**400, "end": 10**401, "state": "good"}])
@example([{"start": 0, "end": float("inf"), "state": "good"}])
def test_random_label_json_only_raises_config_error(data: Any) -> None:
    check_labels(data)


@settings(max_examples=300, deadline=None)
@given(mutations(LABELS))
def test_mutated_labels_only_raise_config_error(edits: list[tuple[tuple[Any, ...], str, Any]]) -> None:
    check_labels(apply(LABELS, edits))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(CONTENT)
def test_any_label_file_content_only_raises_config_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "clip.labels.json"
    path.write_bytes(content)
    try:
        load_labels(path)
    except ConfigError as exc:
        one_line(exc)


@pytest.mark.parametrize("content", [DEEP, '[{"start": 1e999, "end": 2e999, "state": "good"}]', "\ufeff[]", ""],
                         ids=["deeply nested", "overflowing floats", "BOM", "empty"])
def test_label_file_edge_cases_are_config_errors(tmp_path: Path, content: str) -> None:
    path = tmp_path / "clip.labels.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError):
        load_labels(path)


def test_missing_and_folder_label_paths_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_labels(tmp_path / "nope.labels.json")
    with pytest.raises(ConfigError):
        load_labels(tmp_path)


# --- calibration profiles ---------------------------------------------------------------------------------

PROFILE = {
    "version": PROFILE_VERSION,
    "name": "desk",
    "created": 1795000000.0,
    "source": "camera 0",
    "baseline": {
        "view": "front",
        "stats": {name: {"median": 0.5, "mad": 0.02, "n": 20} for name in METRIC_NAMES[:3]},
        "anchor": [0.5, 0.6, 0.3],
        "meta": {"frames": 20},
    },
}


def check_profile(doc: Any) -> None:
    try:
        profile = parse_profile(doc, "desk.json")
    except ConfigError as exc:
        assert "desk.json" in one_line(exc)
    else:
        assert isinstance(profile, Profile) and profile.baseline.stats
        json.dumps(profile.baseline.to_json())  # what we accepted can be saved again


def test_valid_profile_parses() -> None:
    assert parse_profile(PROFILE, "desk.json").name == "desk"


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_random_profile_json_only_raises_config_error(data: Any) -> None:
    check_profile(data)


@settings(max_examples=250, deadline=None)
@given(mutations(PROFILE))
@example([(("created",), "replace", 10**400)])
@example([(("baseline", "stats", METRIC_NAMES[0], "n"), "replace", float("inf"))])
@example([(("baseline", "stats", METRIC_NAMES[0], "median"), "replace", -(10**400))])
@example([(("baseline", "anchor"), "replace", [10**400, 0, 1])])
def test_mutated_profiles_only_raise_config_error(edits: list[tuple[tuple[Any, ...], str, Any]]) -> None:
    check_profile(apply(PROFILE, edits))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(CONTENT)
def test_profile_store_on_any_file_content_only_raises_config_error(tmp_path: Path, content: bytes) -> None:
    store = ProfileStore(tmp_path / "profiles")
    store.save("desk", parse_profile(PROFILE, "x").baseline)
    store.set_active("desk")
    store._path("desk").write_bytes(content)
    try:
        store.load("desk")
    except ConfigError as exc:
        one_line(exc)
    # Listing and the active profile never raise for a damaged file: it is shown as corrupt instead.
    assert store.names() in (["desk"], ["desk (corrupt)"])
    try:
        store.active()
    except ConfigError as exc:
        one_line(exc)


def test_deeply_nested_profile_is_a_config_error(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    (tmp_path / "desk.json").write_text(DEEP, encoding="utf-8")
    with pytest.raises(ConfigError):
        store.load("desk")
    assert store.names() == ["desk (corrupt)"]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(CONTENT)
def test_damaged_active_file_means_no_active_profile(tmp_path: Path, content: bytes) -> None:
    store = ProfileStore(tmp_path)
    (tmp_path / "active.json").write_bytes(content)
    name = store.active_name()
    assert name is None or isinstance(name, str)


# --- the settings file: never raises ------------------------------------------------------------------------

SETTINGS = Settings().to_json()


def check_settings(data: Any) -> None:
    result = parse_settings(data, "settings.json")  # must not raise, whatever the content
    assert isinstance(result.settings, Settings)
    for problem in result.problems:
        assert problem.startswith("settings.json: ") and "\n" not in problem
    s = result.settings
    assert s.sampling_mode in ("battery", "balanced", "responsive") and len(s.rates) == 2
    assert all(math.isfinite(v) for v in (s.onset_delay_s, s.cooldown_s, s.micro_break_every_min))
    json.dumps(s.to_json())  # what we run on can be saved again


@settings(max_examples=200, deadline=None)
@given(JSON)
def test_random_settings_json_never_raises(data: Any) -> None:
    check_settings(data)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(SETTINGS)), JSON, max_size=6))
@example({"onset_delay_s": 10**400})
@example({"daily_nudge_cap": -(10**400)})
@example({"cooldown_s": float("nan"), "quiet_hours": "25:00-07:00"})
@example({"quiet_hours": "-"})
def test_settings_with_bad_values_never_raise(overrides: dict[str, Any]) -> None:
    check_settings({**SETTINGS, **overrides})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(CONTENT)
@example(DEEP.encode())
@example(b'{"onset_delay_s": 1e999}')
@example(b'{"daily_nudge_cap": 1' + b"0" * 400 + b"}")
def test_any_settings_file_content_never_raises(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "settings.json"
    path.write_bytes(content)
    result = load_settings(path)
    assert isinstance(result.settings, Settings)
    assert all("\n" not in p for p in result.problems)


def test_settings_path_that_is_a_folder_falls_back_to_defaults(tmp_path: Path) -> None:
    result = load_settings(tmp_path)
    assert result.settings == Settings() and result.problems
