"""The first-use safety screen: questions, stored answers, and how answers filter the catalogue."""

from __future__ import annotations

import json
from dataclasses import fields, replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from posture.coach.routines import POINTS, Catalogue, load_catalogue
from posture.coach.safety import (
    GENTLE_NOTE,
    NOT_SCREENED_NOTE,
    PREGNANCY_NOTE,
    PROFESSIONAL_NOTE,
    SAFETY_QUESTIONS,
    SKIN_STEP_NOTE,
    SafetyProfile,
    default_safety_path,
    filter_catalogue,
    load_safety_profile,
    save_safety_profile,
)
from posture.errors import ConfigError

CATALOGUE = load_catalogue()


def all_steps(cat: Catalogue) -> list[tuple[str, str | None, str]]:
    return [(r.id, s.point, s.type) for r in cat for s in r.steps]


def test_questions_match_the_profile_fields() -> None:
    keys = [q.key for q in SAFETY_QUESTIONS]
    assert keys == ["injury_or_surgery", "skin_problems", "blood_thinners", "pregnant", "neuro_symptoms"]
    assert set(keys) == {f.name for f in fields(SafetyProfile)} - {"answered_at"}
    for q in SAFETY_QUESTIONS:
        assert q.text.endswith("?") and q.if_yes


def test_pregnancy_removes_li4_and_gb21_everywhere_and_keeps_the_rest() -> None:
    cat = filter_catalogue(CATALOGUE, SafetyProfile(pregnant=True))
    assert not [s for s in all_steps(cat) if s[1] in ("LI4", "GB21")]
    assert cat.ids() == CATALOGUE.ids()  # no routine was only those points
    shoulder = cat.get("shoulder-balance")
    original = CATALOGUE.get("shoulder-balance")
    assert shoulder is not None and original is not None
    assert [s.title for s in shoulder.steps] == [s.title for s in original.steps if s.point != "GB21"]
    hands = cat.get("hand-points")
    assert hands is not None and hands.points == ("EX-UE8", "SI3", "TE3")
    assert PREGNANCY_NOTE in cat.notes
    # The other points are untouched.
    assert {p for r in cat for p in r.points} == set(POINTS) - {"LI4", "GB21"}


def test_a_routine_left_empty_disappears() -> None:
    base = CATALOGUE.get("hand-points")
    assert base is not None
    only_li4 = replace(base, id="li4-only", steps=tuple(s for s in base.steps if s.point == "LI4"))
    cat = CATALOGUE.with_routines((*CATALOGUE.routines, only_li4))
    assert cat.get("li4-only") is not None
    filtered = filter_catalogue(cat, SafetyProfile(pregnant=True))
    assert filtered.get("li4-only") is None and filtered.get("hand-points") is not None


@pytest.mark.parametrize("answer", ["injury_or_surgery", "neuro_symptoms"])
def test_injury_or_nerve_symptoms_mean_no_acupressure_and_no_neck_exercise(answer: str) -> None:
    cat = filter_catalogue(CATALOGUE, SafetyProfile(**{answer: True}))
    types = {t for _, _, t in all_steps(cat)}
    assert types <= {"breathing", "posture", "tip"} and "breathing" in types
    assert not any(r.has_acupressure for r in cat)
    assert PROFESSIONAL_NOTE in cat.notes and "doctor or physiotherapist" in PROFESSIONAL_NOTE
    # Something is still offered at each break: breathing and posture resets.
    assert cat.of_kind("micro") and cat.get("slow-breathing") == CATALOGUE.get("slow-breathing")


def test_skin_problems_keep_the_hand_points_only() -> None:
    cat = filter_catalogue(CATALOGUE, SafetyProfile(skin_problems=True))
    used = {p for r in cat for p in r.points}
    assert used == {code for code, p in POINTS.items() if p.region == "hand"}
    for r in cat:
        for s in r.steps:
            if s.point:
                assert SKIN_STEP_NOTE in s.notes
    assert cat.get("neck-reset") is not None  # the movement steps stay


def test_blood_thinners_keep_points_with_a_gentle_note() -> None:
    cat = filter_catalogue(CATALOGUE, SafetyProfile(blood_thinners=True))
    assert all_steps(cat) == all_steps(CATALOGUE)
    pressed = [s for r in cat for s in r.steps if s.point]
    assert pressed and all(GENTLE_NOTE in s.notes for s in pressed)
    assert GENTLE_NOTE in cat.notes


def test_all_no_changes_nothing_and_unanswered_leaves_acupressure_out() -> None:
    clear = filter_catalogue(CATALOGUE, SafetyProfile())
    assert clear.routines == CATALOGUE.routines and clear.notes == ()
    unscreened = filter_catalogue(CATALOGUE, None)
    assert not any(r.has_acupressure for r in unscreened)
    assert {t for _, _, t in all_steps(unscreened)} == {"movement", "breathing", "posture", "tip"}
    assert unscreened.notes == (NOT_SCREENED_NOTE,)


@given(st.builds(SafetyProfile, st.booleans(), st.booleans(), st.booleans(), st.booleans(), st.booleans()))
def test_any_answers_only_ever_remove_steps(profile: SafetyProfile) -> None:
    cat = filter_catalogue(CATALOGUE, profile)
    for r in cat:
        original = CATALOGUE.get(r.id)
        assert original is not None and r.steps
        titles = [s.title for s in original.steps]
        kept = [s.title for s in r.steps]
        assert kept == [t for t in titles if t in kept]  # same order, a subset
        assert r.stop_signs == CATALOGUE.stop_signs  # stop signs always travel with the routine
    points = {p for r in cat for p in r.points}
    if profile.pregnant:
        assert not points & {"LI4", "GB21"}
    if profile.injury_or_surgery or profile.neuro_symptoms:
        assert not points and all(s.type != "movement" for r in cat for s in r.steps)


# --- stored answers ----------------------------------------------------------------------------------


def test_answers_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "safety.json"
    assert load_safety_profile(path) is None
    profile = SafetyProfile(pregnant=True, blood_thinners=True, answered_at=1_790_000_000.0)
    save_safety_profile(profile, path)
    assert load_safety_profile(path) == profile
    assert json.loads(path.read_text())["answers"]["pregnant"] is True
    assert [p.name for p in path.parent.iterdir()] == ["safety.json"]  # no temporary file left


@pytest.mark.parametrize(
    "content",
    [
        "{broken",
        "[]",
        '{"version": 1}',
        '{"version": 2, "answers": {}}',
        '{"version": 1, "answers": {"pregnant": "yes"}}',
        '{"version": 1, "answered_at": "today", "answers": '
        '{"injury_or_surgery": false, "skin_problems": false, "blood_thinners": false, "pregnant": false,'
        ' "neuro_symptoms": false}}',
    ],
)
def test_a_damaged_answers_file_is_a_config_error_and_is_left_alone(tmp_path: Path, content: str) -> None:
    path = tmp_path / "safety.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_safety_profile(path)
    message = str(err.value)
    assert str(path) in message and "delete the file" in message and "\n" not in message
    assert path.read_text(encoding="utf-8") == content


def test_from_answers_needs_every_answer() -> None:
    with pytest.raises(ValueError, match="neuro_symptoms"):
        SafetyProfile.from_answers({q.key: False for q in SAFETY_QUESTIONS[:-1]}, 0.0)


def test_default_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("POSTURE_CONFIG_DIR", str(tmp_path))
    assert default_safety_path() == tmp_path / "safety.json"
    monkeypatch.delenv("POSTURE_CONFIG_DIR")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    path = default_safety_path()
    assert path.name == "safety.json" and path.parent.name == "posture-companion"
