"""The first-use safety screen: questions, stored answers, and how answers filter the catalogue."""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import fields, replace
from pathlib import Path

import pytest

from posture.coach.routines import POINTS, Catalogue, load_catalogue
from posture.coach.safety import (
    BLOOD_THINNERS_NOTE,
    BLOOD_THINNERS_STEP_NOTE,
    BREATHE_WITH_PRESSURE,
    NOT_SCREENED_NOTE,
    PREGNANCY_NOTE,
    PREGNANCY_STEP_NOTE,
    PROFESSIONAL_NOTE,
    SAFETY_QUESTIONS,
    SKIN_STEP_NOTE,
    SafetyProfile,
    adapt_routine,
    default_safety_path,
    filter_catalogue,
    load_safety_profile,
    needs_screen,
    save_safety_profile,
    stop_line,
)
from posture.errors import ConfigError

CATALOGUE = load_catalogue()


def all_steps(cat: Catalogue) -> list[tuple[str, str | None, str]]:
    return [(r.id, s.point, s.type) for r in cat for s in r.steps]


def test_questions_match_the_profile_fields() -> None:
    keys = [q.key for q in SAFETY_QUESTIONS]
    assert keys == ["injury_or_surgery", "neck_condition", "skin_problems", "blood_thinners", "pregnant",
                    "neuro_symptoms"]
    assert set(keys) == {f.name for f in fields(SafetyProfile)} - {"answered_at"}
    for q in SAFETY_QUESTIONS:
        assert q.text.endswith("?") and q.if_yes


def test_a_question_covers_the_conditions_the_article_names() -> None:
    """Neck instability, bone and blood-vessel conditions: the article says to get medical advice first."""
    question = next(q for q in SAFETY_QUESTIONS if q.key == "neck_condition").text
    for word in ("unstable neck", "bones", "blood vessels"):
        assert word in question
    assert SafetyProfile(neck_condition=True).needs_professional


def test_pregnancy_removes_li4_and_gb21_everywhere_and_says_to_check_first() -> None:
    cat = filter_catalogue(CATALOGUE, SafetyProfile(pregnant=True))
    assert not [s for s in all_steps(cat) if s[1] in ("LI4", "GB21")]
    assert cat.ids() == CATALOGUE.ids()  # no routine was only those points
    shoulder = cat.get("shoulder-balance")
    original = CATALOGUE.get("shoulder-balance")
    assert shoulder is not None and original is not None
    # GB21 goes, and with it the warm-hands and strokes that only go with pressing.
    assert [s.title for s in shoulder.steps] == [s.title for s in original.steps
                                                 if s.point != "GB21" and s.type not in ("prepare", "massage")]
    hands = cat.get("hand-points")
    assert hands is not None and hands.points == ("EX-UE8", "SI3", "TE3")
    assert PREGNANCY_NOTE in cat.notes and PREGNANCY_NOTE in hands.notes
    assert "midwife or doctor" in PREGNANCY_NOTE
    assert all(PREGNANCY_STEP_NOTE in s.notes for r in cat for s in r.steps if s.point)
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


@pytest.mark.parametrize("answer", ["injury_or_surgery", "neuro_symptoms", "neck_condition"])
def test_injury_nerve_or_neck_condition_leave_breathing_a_walk_and_a_note(answer: str) -> None:
    cat = filter_catalogue(CATALOGUE, SafetyProfile(**{answer: True}))
    types = {t for _, _, t in all_steps(cat)}
    assert types <= {"breathing", "walk", "posture", "tip", "heat-cold"} and {"breathing", "walk"} <= types
    assert not any(r.has_acupressure for r in cat)
    assert PROFESSIONAL_NOTE in cat.notes and "doctor or physiotherapist" in PROFESSIONAL_NOTE
    assert all(PROFESSIONAL_NOTE in r.notes for r in cat)  # the short note travels with every routine
    # Routines that were neck work are not offered as a shell of three breaths.
    assert cat.ids() == ("walk-and-breathe", "quick-reset", "slow-breathing")
    assert cat.of_kind("micro")


def test_no_heat_after_a_fresh_injury() -> None:
    tips = [s for r in filter_catalogue(CATALOGUE, SafetyProfile(injury_or_surgery=True)) for s in r.steps]
    assert not [s for s in tips if s.type == "heat-cold" or "warm damp" in s.instructions]
    neck_reset = CATALOGUE.get("neck-reset")
    assert neck_reset is not None
    assert adapt_routine(neck_reset, SafetyProfile(injury_or_surgery=True)) is None  # not "Settle" + heat


def test_skin_problems_keep_the_hand_points_only() -> None:
    cat = filter_catalogue(CATALOGUE, SafetyProfile(skin_problems=True))
    used = {p for r in cat for p in r.points}
    assert used == {code for code, p in POINTS.items() if p.region == "hand"}
    for r in cat:
        for s in r.steps:
            if s.point:
                assert SKIN_STEP_NOTE in s.notes
            assert s.type != "massage"  # no stroking the neck either
    assert cat.get("neck-reset") is not None  # the movement steps stay


def test_blood_thinners_keep_points_with_light_wording_and_clinician_advice() -> None:
    cat = filter_catalogue(CATALOGUE, SafetyProfile(blood_thinners=True))
    assert all_steps(cat) == all_steps(CATALOGUE)
    pressed = [s for r in cat for s in r.steps if s.point]
    assert pressed and all(BLOOD_THINNERS_STEP_NOTE in s.notes for s in pressed)
    assert all("light, gentle touch" in s.instructions and "firm" not in s.instructions for s in pressed)
    assert "doctor or nurse before using acupressure" in BLOOD_THINNERS_NOTE
    assert BLOOD_THINNERS_NOTE in cat.notes
    clear = [s for r in filter_catalogue(CATALOGUE, SafetyProfile()) for s in r.steps if s.point]
    assert all("firm but comfortable" in s.instructions for s in clear)


def test_all_no_changes_only_the_wording_and_unanswered_leaves_screened_steps_out() -> None:
    clear = filter_catalogue(CATALOGUE, SafetyProfile())
    assert clear.ids() == CATALOGUE.ids() and clear.notes == ()
    assert all_steps(clear) == all_steps(CATALOGUE)
    unscreened = filter_catalogue(CATALOGUE, None)
    assert not any(r.has_acupressure for r in unscreened)
    assert {t for _, _, t in all_steps(unscreened)} <= {"breathing", "walk", "posture", "tip"}
    assert unscreened.notes == (NOT_SCREENED_NOTE,)
    chin = unscreened.get("chin-tucks")
    assert chin is not None and NOT_SCREENED_NOTE in chin.notes  # kept, so the app can ask first


def test_movement_routines_need_the_screen_like_acupressure() -> None:
    for rid in ("chin-tucks", "side-bends", "neck-turns", "forward-head-care", "neck-reset", "hand-points"):
        routine = CATALOGUE.get(rid)
        assert routine is not None and needs_screen(routine), rid
    for rid in ("walk-and-breathe", "quick-reset", "slow-breathing"):
        routine = CATALOGUE.get(rid)
        assert routine is not None and not needs_screen(routine), rid


# --- the safety matrix: every answer combination x every routine ------------------------------------

COMBINATIONS: list[SafetyProfile | None] = [None] + [
    SafetyProfile.from_answers(dict(zip([q.key for q in SAFETY_QUESTIONS], bits, strict=True)), 0.0)
    for bits in itertools.product((False, True), repeat=len(SAFETY_QUESTIONS))
]
NECK_WORK = {"movement", "acupressure", "massage"}
FIRM = re.compile(r"\bfirm", re.IGNORECASE)


def _label(profile: SafetyProfile | None) -> str:
    if profile is None:
        return "unanswered"
    return "+".join(k for k, v in profile.answers().items() if v) or "all-no"


def test_the_matrix_covers_every_combination() -> None:
    assert len(SAFETY_QUESTIONS) == 6 and len(COMBINATIONS) == 2 ** 6 + 1
    assert len({_label(p) for p in COMBINATIONS}) == len(COMBINATIONS)


@pytest.mark.parametrize("profile", COMBINATIONS, ids=_label)
def test_safety_matrix(profile: SafetyProfile | None) -> None:
    """For this set of answers, every routine as offered keeps every rule; see also the CLI matrix test."""
    excluded: set[str] = set()
    if profile is not None and profile.pregnant:
        excluded |= {"LI4", "GB21"}
    if profile is not None and profile.skin_problems:
        excluded |= {code for code, p in POINTS.items() if p.region == "neck"}
    no_neck_work = profile is None or profile.needs_professional
    offered = filter_catalogue(CATALOGUE, profile)
    assert offered.ids(), "something is always offered"
    assert "slow-breathing" in offered.ids() and "walk-and-breathe" in offered.ids()
    for routine in CATALOGUE:
        adapted = adapt_routine(routine, profile)
        assert offered.get(routine.id) == adapted  # one function decides, the catalogue just applies it
        if adapted is None:
            continue
        words = " ".join([adapted.title, adapted.summary, *adapted.notes]
                         + [f"{s.title} {s.instructions} {' '.join(s.notes)}" for s in adapted.steps])
        assert "{" not in words and "}" not in words, "no placeholder left unfilled"
        assert not set(adapted.points) & excluded, (routine.id, adapted.points)
        assert adapted.stop_signs == CATALOGUE.stop_signs
        if no_neck_work:
            assert not [s for s in adapted.steps if s.type in NECK_WORK], routine.id
        if profile is None or profile.injury_or_surgery:
            assert not [s for s in adapted.steps if s.type == "heat-cold"], routine.id
        if profile is not None and profile.needs_professional:
            assert PROFESSIONAL_NOTE in adapted.notes
        if profile is not None and profile.blood_thinners:
            assert not FIRM.search(words), routine.id
        for step in adapted.steps:
            if step.is_acupressure:
                assert BREATHE_WITH_PRESSURE in step.instructions
                if profile is not None and profile.blood_thinners:
                    assert BLOOD_THINNERS_STEP_NOTE in step.notes
                    assert BLOOD_THINNERS_NOTE in adapted.notes
                if profile is not None and profile.pregnant:
                    assert PREGNANCY_STEP_NOTE in step.notes and PREGNANCY_NOTE in adapted.notes
        # Order kept, nothing invented: the adapted steps are the original ones, in order, reworded.
        titles = [s.title for s in routine.steps]
        kept = [s.title for s in adapted.steps]
        assert kept == [t for t in titles if t in kept]


def test_stop_line_names_every_stop_sign() -> None:
    line = stop_line(CATALOGUE.stop_signs)
    for sign in CATALOGUE.stop_signs:
        assert sign.short in line
    assert line.startswith("Stop at once") and line.endswith("worries you.")


# --- stored answers ----------------------------------------------------------------------------------


def test_answers_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "safety.json"
    assert load_safety_profile(path) is None
    profile = SafetyProfile(pregnant=True, blood_thinners=True, answered_at=1_790_000_000.0)
    save_safety_profile(profile, path)
    assert load_safety_profile(path) == profile
    assert json.loads(path.read_text())["answers"]["pregnant"] is True
    assert [p.name for p in path.parent.iterdir()] == ["safety.json"]  # no temporary file left


def test_answers_from_before_the_sixth_question_are_asked_again(tmp_path: Path) -> None:
    path = tmp_path / "safety.json"
    old = ('{"version": 1, "answered_at": 5, "answers": {"injury_or_surgery": false, "skin_problems": false,'
           ' "blood_thinners": false, "pregnant": false, "neuro_symptoms": false}}')
    path.write_text(old, encoding="utf-8")
    assert load_safety_profile(path) is None  # unanswered: the screen comes again, nothing is unlocked
    assert path.read_text(encoding="utf-8") == old  # and the file is left for the new answers to replace


ALL_NO = ('{"injury_or_surgery": false, "neck_condition": false, "skin_problems": false, '
          '"blood_thinners": false, "pregnant": false, "neuro_symptoms": false}')


@pytest.mark.parametrize(
    "content",
    [
        "{broken",
        "[]",
        '{"version": 9}',
        '{"version": 2, "answers": {}}',
        '{"version": 2, "answers": {"pregnant": "yes"}}',
        '{"version": 2, "answered_at": "today", "answers": ' + ALL_NO + '}',
        '{"version": true, "answers": ' + ALL_NO + '}',
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
