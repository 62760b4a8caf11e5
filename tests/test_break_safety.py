"""Scheduled breaks respect the safety answers: what a micro-break becomes for each kind of answer."""

from __future__ import annotations

import pytest

from posture.clock import FakeClock
from posture.coach.breaks import BreakScheduler, BreakSettings, BreakSuggestion
from posture.coach.routines import load_catalogue
from posture.coach.safety import SafetyProfile
from posture.samples import PostureSample

CATALOGUE = load_catalogue()


def first_suggestion(profile: SafetyProfile | None, reasons: tuple[str, ...]) -> BreakSuggestion:
    """Sit drifting for up to an hour, one sample every 2 s, until the first break is suggested."""
    clock = FakeClock()
    sched = BreakScheduler(clock, BreakSettings(), CATALOGUE, profile)
    for _ in range(1800):
        clock.advance(2.0)
        sched.observe(PostureSample(t=0.0, wall=0.0, person=True, state="drifting", reasons=reasons))
        if sched.pending is not None:
            return sched.pending
    raise AssertionError("no break was suggested in an hour")


@pytest.mark.parametrize("answer", ["injury_or_surgery", "neck_condition", "neuro_symptoms"])
def test_after_an_injury_or_nerve_answer_the_micro_break_is_a_walk_not_neck_work(answer: str) -> None:
    for reasons in (("head_forward",), ("tilted_right",), ()):
        pending = first_suggestion(SafetyProfile(**{answer: True}), reasons)
        assert pending.kind == "micro" and pending.routine_id == "walk-and-breathe", reasons
        assert not pending.needs_safety_screen


def test_before_the_questions_a_movement_break_asks_them_first_and_shows_its_real_length() -> None:
    pending = first_suggestion(None, ("head_forward",))
    full = CATALOGUE.get("chin-tucks")
    assert full is not None
    assert pending.routine_id == "chin-tucks" and pending.needs_safety_screen
    assert pending.seconds == full.seconds and "chin tucks" in pending.text.lower()


def test_with_clear_answers_the_micro_break_follows_posture_as_before() -> None:
    pending = first_suggestion(SafetyProfile(), ("head_forward",))
    assert pending.routine_id == "chin-tucks" and not pending.needs_safety_screen
