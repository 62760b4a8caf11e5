"""The guided routine runner on a FakeClock, and the 'did it help?' before/after comparison."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posture.clock import FakeClock
from posture.coach.effect import BreakEffect, break_effect, effect_event
from posture.coach.routines import Routine, Step, load_catalogue
from posture.coach.runner import (
    HOLD_LONGER_S,
    MAX_HOLD_S,
    BreathCue,
    RoutineFinished,
    RoutineRunner,
    RunnerEvent,
    StepExtended,
    StepStarted,
    Tick,
)
from posture.samples import PostureSample

CATALOGUE = load_catalogue()


def routine(*steps: Step) -> Routine:
    return Routine("test", "Test", "micro", "general", "", steps)


MOVE = Step("Turns", "Turn slowly.", "movement", "neck", seconds=20)
BREATHE = Step("Breathe", "Slowly.", "breathing", "breath", breaths=3)
TIP = Step("Screen", "Raise it.", "posture", "eyes", seconds=5)


def drive(runner: RoutineRunner, clock: FakeClock, step_s: float = 0.5, limit_s: float = 3600
          ) -> list[tuple[float, RunnerEvent]]:
    start = clock.monotonic()
    out = [(0.0, e) for e in runner.start()]
    while runner.finished is None and clock.monotonic() - start < limit_s:
        clock.advance(step_s)
        out += [(clock.monotonic() - start, e) for e in runner.tick()]
    return out


def test_hold_longer_adds_breaths_to_a_breathing_step_and_time_to_a_timed_one() -> None:
    clock = FakeClock()
    runner = RoutineRunner(routine(BREATHE, MOVE), clock)
    runner.start()
    clock.advance(12.0)  # into the second breath
    events = runner.hold_longer()
    assert StepExtended(0, HOLD_LONGER_S, 30 + HOLD_LONGER_S) in events
    assert runner.step_breaths == 6 and runner.step_length == 60
    assert runner.step_remaining == pytest.approx(48.0) and runner.remaining == pytest.approx(68.0)
    cues = [e for t, e in drive(runner, clock) if isinstance(e, BreathCue)]
    assert [c.of for c in cues] == [6] * len(cues) and cues[-1].breath == 6  # the count follows the hold
    assert runner.finished is not None and runner.finished.seconds == pytest.approx(80.0, abs=0.5)

    clock = FakeClock()
    runner = RoutineRunner(routine(MOVE, TIP), clock)
    runner.start()
    runner.hold_longer()
    assert runner.step_length == 20 + HOLD_LONGER_S and runner.step_breaths is None
    starts = [(t, e) for t, e in drive(runner, clock) if isinstance(e, StepStarted)]
    assert starts[0][0] == pytest.approx(20 + HOLD_LONGER_S, abs=0.5)  # the next step waits for the hold


def test_hold_longer_has_a_limit_and_resets_on_the_next_step() -> None:
    clock = FakeClock()
    runner = RoutineRunner(routine(MOVE, TIP), clock)
    runner.start()
    while runner.can_hold_longer:
        runner.hold_longer()
    assert runner.step_length == 20 + MAX_HOLD_S
    assert not any(isinstance(e, StepExtended) for e in runner.hold_longer())
    assert runner.step_length == 20 + MAX_HOLD_S
    runner.skip_step()
    assert runner.step_length == TIP.duration and runner.can_hold_longer
    runner.stop()
    assert runner.hold_longer() == []


def test_runs_every_step_in_order_and_finishes_on_time() -> None:
    clock = FakeClock()
    neck_reset = CATALOGUE.get("neck-reset")
    assert neck_reset is not None
    runner = RoutineRunner(neck_reset, clock)
    assert runner.remaining == neck_reset.seconds and runner.current_step is None
    events = drive(runner, clock)
    starts = [(t, e) for t, e in events if isinstance(e, StepStarted)]
    assert [e.index for _, e in starts] == list(range(len(neck_reset.steps)))
    assert [e.step for _, e in starts] == list(neck_reset.steps)
    expected_start = 0.0
    for (t, _e), step in zip(starts, neck_reset.steps, strict=True):
        assert t == pytest.approx(expected_start, abs=0.5)
        expected_start += step.duration
    finished = [(t, e) for t, e in events if isinstance(e, RoutineFinished)]
    assert len(finished) == 1
    t_end, end = finished[0]
    assert t_end == pytest.approx(neck_reset.seconds, abs=0.5)
    assert end == RoutineFinished(True, len(neck_reset.steps), 0, float(neck_reset.seconds))  # overshoot not counted
    assert runner.completed and runner.remaining == 0 and runner.tick() == []


def test_ticks_count_down_step_and_total() -> None:
    clock = FakeClock()
    runner = RoutineRunner(routine(MOVE, TIP), clock)
    ticks = [e for _, e in drive(runner, clock, step_s=1.0) if isinstance(e, Tick)]
    assert ticks[0] == Tick(20.0, 25.0)  # from start()
    assert ticks[1] == Tick(19.0, 24.0)
    assert ticks[19] == Tick(1.0, 6.0)
    assert ticks[20] == Tick(5.0, 5.0)  # the second step has begun
    assert all(a.remaining > b.remaining for a, b in itertools.pairwise(ticks))


def test_breath_cues_pace_four_in_six_out() -> None:
    clock = FakeClock()
    runner = RoutineRunner(routine(BREATHE), clock)
    cues = [(t, e) for t, e in drive(runner, clock, step_s=0.25) if isinstance(e, BreathCue)]
    assert [(e.phase, e.breath, e.of) for _, e in cues] == [
        ("inhale", 1, 3), ("exhale", 1, 3), ("inhale", 2, 3), ("exhale", 2, 3), ("inhale", 3, 3), ("exhale", 3, 3)]
    assert [t for t, _ in cues] == pytest.approx([0, 4, 10, 14, 20, 24], abs=0.01)
    assert {e.seconds for _, e in cues if e.phase == "inhale"} == {4}
    assert {e.seconds for _, e in cues if e.phase == "exhale"} == {6}


def test_no_breath_cues_on_timed_steps() -> None:
    clock = FakeClock()
    runner = RoutineRunner(routine(MOVE), clock)
    assert not [e for _, e in drive(runner, clock) if isinstance(e, BreathCue)]


def test_pause_freezes_the_countdown() -> None:
    clock = FakeClock()
    runner = RoutineRunner(routine(MOVE, TIP), clock)
    runner.start()
    clock.advance(5)
    runner.pause()
    assert runner.paused and runner.step_remaining == 15
    clock.advance(600)
    assert [e for e in runner.tick() if isinstance(e, StepStarted | RoutineFinished)] == []
    assert runner.step_remaining == 15 and runner.remaining == 20
    runner.resume()
    clock.advance(15)
    events = runner.tick()
    assert any(isinstance(e, StepStarted) and e.index == 1 for e in events)
    clock.advance(5)
    end = [e for e in runner.tick() if isinstance(e, RoutineFinished)]
    assert end == [RoutineFinished(True, 2, 0, 25.0)]  # pause time is not counted


def test_skip_step_and_stop() -> None:
    clock = FakeClock()
    runner = RoutineRunner(routine(MOVE, BREATHE, TIP), clock)
    runner.start()
    clock.advance(3)
    events = runner.skip_step()
    assert [e.index for e in events if isinstance(e, StepStarted)] == [1]
    assert runner.current_step == BREATHE and runner.remaining == 35
    clock.advance(12)
    stopped = runner.stop()
    assert stopped == [RoutineFinished(False, 0, 1, 15.0)]
    assert not runner.completed and runner.tick() == [] and runner.stop() == [] and runner.skip_step() == []


def test_skipping_the_last_step_finishes_the_routine() -> None:
    clock = FakeClock()
    runner = RoutineRunner(routine(MOVE, TIP), clock)
    runner.start()
    runner.skip_step()
    end = runner.skip_step()
    assert isinstance(end[-1], RoutineFinished) and end[-1].completed and end[-1].steps_skipped == 2


def test_a_long_gap_catches_up_through_several_steps() -> None:
    clock = FakeClock()
    runner = RoutineRunner(routine(MOVE, TIP, MOVE), clock)
    runner.start()
    clock.advance(30)
    events = runner.tick()
    assert [e.index for e in events if isinstance(e, StepStarted)] == [1, 2]
    assert runner.step_remaining == pytest.approx(15)


def test_an_empty_routine_is_refused() -> None:
    with pytest.raises(ValueError, match="no steps"):
        RoutineRunner(routine(), FakeClock())


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0.01, 40), min_size=1, max_size=200))
def test_any_tick_rhythm_visits_steps_in_order_and_finishes_once(gaps: list[float]) -> None:
    clock = FakeClock()
    r = routine(MOVE, BREATHE, TIP)
    runner = RoutineRunner(r, clock)
    events = list(runner.start())
    for gap in gaps:
        clock.advance(gap)
        events += runner.tick()
    clock.advance(r.seconds)
    events += runner.tick()
    indices = [e.index for e in events if isinstance(e, StepStarted)]
    assert indices == [0, 1, 2]
    assert sum(isinstance(e, RoutineFinished) for e in events) == 1 and runner.completed
    remaining = [e.remaining for e in events if isinstance(e, Tick)]
    assert remaining == sorted(remaining, reverse=True)


# --- did it help? ------------------------------------------------------------------------------------

START = 1_800_000_000.0
END = START + 200


def s(wall: float, score: float | None, state: str = "good") -> PostureSample:
    return PostureSample(t=0.0, wall=wall, person=state != "away", score=score, state=state)


def test_before_and_after_means() -> None:
    samples = [
        s(START - 700, 10),  # too early: outside the 10-minute window
        s(START - 500, 60), s(START - 100, 70),
        s(START - 50, None),  # no score
        s(START - 40, 5, "away"),  # away
        s(START + 100, 0),  # during the break
        s(END + 60, 80), s(END + 300, 90),
        s(END + 601, 0),  # too late
    ]
    # The arithmetic alone: how much data a side needs is tested with the desktop items.
    effect = break_effect(samples, START, END, min_samples=1, min_coverage=0.0)
    assert effect == BreakEffect(65.0, 85.0, 20.0, 2, 2)


def test_no_samples_on_one_side_gives_no_delta() -> None:
    effect = break_effect([s(START - 10, 50)], START, END, min_samples=1, min_coverage=0.0)
    assert effect == BreakEffect(50.0, None, None, 1, 0)
    assert break_effect([], START, END) == BreakEffect(None, None, None, 0, 0)
    with pytest.raises(ValueError):
        break_effect([], END, START)


def test_effect_event_for_history() -> None:
    effect = BreakEffect(61.234, 70.0, 8.766, 12, 30)
    event = effect_event(effect, t=5.0, wall=END + 600, routine_id="neck-reset")
    assert event.kind == "break_effect" and event.wall == END + 600
    assert event.data == {"routine": "neck-reset", "before": 61.2, "after": 70.0, "delta": 8.8,
                          "n_before": 12, "n_after": 30}


@given(st.lists(st.tuples(st.floats(-900, 900), st.floats(0, 100)), max_size=40))
def test_effect_means_stay_within_the_scores(points: list[tuple[float, float]]) -> None:
    samples = [s(START + dt if dt < 0 else END + dt, score) for dt, score in points]
    effect = break_effect(samples, START, END)
    assert effect.n_before + effect.n_after <= len(samples)
    for mean in (effect.before, effect.after):
        assert mean is None or 0 <= mean <= 100
    assert (effect.delta is None) == (effect.before is None or effect.after is None)
