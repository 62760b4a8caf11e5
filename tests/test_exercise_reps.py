"""Repetition detection, coaching and step plans on synthetic signal traces (no camera, no model).

A trace is what a camera at 6-8 frames a second gives: samples with sensor noise, a person who settles
for a second before moving, and moments out of view.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from posture.coach.routines import load_catalogue
from posture.exercise.coaching import NOT_SEEN_TEXT, StepCoach
from posture.exercise.movements import MOVEMENTS
from posture.exercise.reps import RepDetector
from posture.exercise.signals import Signals, signals_from_pose
from posture.exercise.watch import WatchedBreak, plan_for, watched_steps
from posture.landmarks import NUM_LANDMARKS, P, pose_from_arrays

FPS = 8.0


def yaw_signals(yaws: list[float], t0: float = 0.0) -> list[Signals]:
    return [Signals(t0 + i / FPS, y, 0.0, 0.0, 0.5, 0.7, 2.0) for i, y in enumerate(yaws)]


def bump(peak: float, go: float, hold: float, back: float, rest: float) -> list[float]:
    """A smooth excursion to `peak` and back, sampled at FPS."""
    out = []
    for i in range(round((go + hold + back + rest) * FPS)):
        u = i / FPS
        if u < go:
            w = 0.5 - 0.5 * math.cos(math.pi * u / go)
        elif u < go + hold:
            w = 1.0
        elif u < go + hold + back:
            w = 0.5 + 0.5 * math.cos(math.pi * (u - go - hold) / back)
        else:
            w = 0.0
        out.append(peak * w)
    return out


def trace(*bumps: list[float], lead: float = 1.5, noise: float = 0.8, seed: int = 0) -> list[float]:
    rng = np.random.default_rng(seed)
    values = [0.0] * round(lead * FPS)
    for b in bumps:
        values += b
    return [v + float(rng.normal(0, noise)) for v in values]


def run(detector: RepDetector, sigs: list[Signals]) -> None:
    for s in sigs:
        detector.feed(s)


def test_turns_each_side_counted_once_with_start_peak_end_and_peak_value() -> None:
    yaws = trace(bump(38, 1.5, 1.0, 1.5, 1.0), bump(-33, 1.5, 1.0, 1.5, 1.0), bump(30, 1.5, 1.0, 1.5, 1.0))
    d = RepDetector(MOVEMENTS["turn"])
    run(d, yaw_signals(yaws))
    reps = d.repetitions
    assert [r.side for r in reps] == ["left", "right", "left"]
    for rep, peak, start in zip(reps, (38, 33, 30), (1.5, 6.5, 11.5), strict=True):
        assert abs(rep.peak - peak) < 3.0
        # Start and end are where the movement passes a third of its peak (RETURN_SHARE), on the way out
        # and back; with these 1.5 s eased moves that is 0.6 s after the onset and before the rest.
        assert start + 0.6 - 0.25 <= rep.start <= start + 0.6 + 0.25
        assert rep.start < rep.peak_t < rep.end
        assert abs(rep.peak_t - (start + 2.0)) < 0.8
        assert start + 4.0 - 0.6 - 0.25 <= rep.end <= start + 4.0 - 0.6 + 0.25


def test_wobble_around_the_threshold_is_one_repetition_not_several() -> None:
    # Holding near the start threshold with sensor noise: hysteresis keeps it one movement.
    values = [0.0] * 12 + [16 + 3 * math.sin(i * 2.1) for i in range(40)] + [0.0] * 10
    d = RepDetector(MOVEMENTS["turn"])
    run(d, yaw_signals(values))
    assert len(d.repetitions) == 1


def test_small_movements_talking_and_a_single_bad_frame_count_nothing() -> None:
    rng = np.random.default_rng(3)
    talking = [6 * math.sin(i / 3) + float(rng.normal(0, 2)) for i in range(200)]
    talking[90] = 40.0  # one frame where the landmarks jumped
    d = RepDetector(MOVEMENTS["turn"])
    run(d, yaw_signals(talking))
    assert d.repetitions == []


def test_resting_position_is_the_persons_own_not_zero() -> None:
    # A camera off to one side: the person "looks" 20° turned while facing the screen.
    yaws = [20 + v for v in trace(bump(30, 1.5, 1.0, 1.5, 1.0), bump(-28, 1.5, 1.0, 1.5, 1.0))]
    d = RepDetector(MOVEMENTS["turn"])
    run(d, yaw_signals(yaws))
    assert [r.side for r in d.repetitions] == ["left", "right"]
    assert abs(d.repetitions[1].peak - 28) < 3.0


def test_out_of_view_mid_repetition_drops_it_instead_of_guessing() -> None:
    yaws = trace(bump(35, 1.5, 1.0, 1.5, 1.0))
    sigs = yaw_signals(yaws)
    d = RepDetector(MOVEMENTS["turn"])
    for s in sigs:
        if 2.6 <= s.t <= 4.2:
            d.missing(s.t)
        else:
            d.feed(s)
    assert d.repetitions == []


def test_one_sided_step_counts_only_that_side() -> None:
    rolls = trace(bump(-20, 1.5, 2, 1.5, 1), bump(22, 1.5, 2, 1.5, 1), bump(-18, 1.5, 2, 1.5, 1))
    d = RepDetector(MOVEMENTS["side_bend"], side="right")
    run(d, [Signals(i / FPS, 0.0, r, 0.0, 0.5, 0.7, 2.0) for i, r in enumerate(rolls)])
    assert [r.side for r in d.repetitions] == ["right", "right"]


def test_chin_tuck_that_is_really_a_nod_is_flagged() -> None:
    n = round(1.5 * FPS)
    rest = [(0.50, 0.30)] * n
    tuck = [(0.50 * (1 - 0.06 * w), 0.30) for w in bump(1, 1, 1.5, 1, 1)]
    nod = [(0.50 * (1 - 0.06 * w), 0.30 + 0.5 * w) for w in bump(1, 1, 1.5, 1, 1)]
    sigs = [Signals(i / FPS, 0.0, 0.0, p, s, 0.7, 2.0) for i, (s, p) in enumerate(rest + tuck + nod)]
    d = RepDetector(MOVEMENTS["chin_tuck"])
    run(d, sigs)
    assert [r.nodded for r in d.repetitions] == [False, True]
    assert abs(d.repetitions[0].peak - 6.2) < 0.5  # -100 ln(0.94)


# ------------------------------------------------------------------------------------------ coaching


def coach_run(coach: StepCoach, values: list[float | None]) -> list[str]:
    said = []
    for i, v in enumerate(values):
        t = i / FPS
        s = None if v is None else Signals(t, v, 0.0, 0.0, 0.5, 0.7, 2.0)
        said += [m.text for m in coach.feed(s, t)]
    return said


def test_coach_counts_toward_the_target() -> None:
    coach = StepCoach("turn", target=3)
    said = coach_run(coach, trace(*(bump(s * 35, 1.5, 1, 1.5, 1) for s in (1, -1, 1))))
    assert said == ["1 of 3", "2 of 3", "3 of 3 — well done"]


def test_further_only_against_own_history_and_only_when_well_short() -> None:
    values = trace(bump(20, 1.5, 1, 1.5, 1), bump(-34, 1.5, 1, 1.5, 1))
    # No history: never "further", whatever the angle.
    assert not any("further" in s for s in coach_run(StepCoach("turn", 4), values))
    # Usual 40° to the left, 35° to the right: 20° left is well short, 34° right is not.
    coach = StepCoach("turn", 4, usual={"left": 40.0, "right": 35.0})
    said = coach_run(coach, values)
    assert said[:2] == ["1 of 4", MOVEMENTS["turn"].further]
    assert said[2:] == ["2 of 4"]


def test_well_past_usual_range_gets_a_comfort_reminder_not_praise() -> None:
    coach = StepCoach("turn", 4, usual={"left": 20.0})
    said = coach_run(coach, trace(bump(40, 1.5, 1, 1.5, 1)))
    assert any("only as far as stays comfortable" in s for s in said)


def test_rushed_repetition_is_told_slower() -> None:
    coach = StepCoach("turn", 4)
    said = coach_run(coach, trace(bump(35, 0.4, 0.2, 0.4, 1.5), bump(-35, 1.5, 1, 1.5, 1)))
    assert said[0] == "1 of 4" and said[1].startswith("slower")
    assert not any(s.startswith("slower") for s in said[2:])


def test_not_seen_is_said_once_then_seen_again() -> None:
    coach = StepCoach("turn", 4)
    values: list[float | None] = [0.0] * 12 + [None] * 20 + [0.0] * 5
    said = coach_run(coach, values)
    assert said.count(NOT_SEEN_TEXT) == 1
    assert said[-1].startswith("seen again")


# ----------------------------------------------------------------------------------------- planning


def test_movement_steps_of_the_catalogue_are_planned_and_stretches_are_not() -> None:
    cat = load_catalogue()
    plans = {(r.id, s.title): plan_for(s) for r in cat for s in r.steps}
    assert plans[("neck-turns", "Slow turns")] is not None
    assert plans[("neck-turns", "Slow turns")].movement == "turn"  # type: ignore[union-attr]
    assert plans[("neck-turns", "Shoulder-blade squeeze")].movement == "squeeze"  # type: ignore[union-attr]
    assert plans[("chin-tucks", "Chin tucks")].target == 5  # type: ignore[union-attr]
    right = plans[("side-bends", "Side bend to the right")]
    assert right is not None and right.movement == "side_bend" and right.side == "right"
    assert plans[("forward-head-care", "Back-of-neck stretch")] is None
    assert plans[("chin-tucks", "Line up")] is None
    # Every routine with a movement step the issue names has something to watch.
    for rid in ("chin-tucks", "side-bends", "neck-turns", "neck-reset", "shoulder-balance"):
        assert watched_steps(cat.get(rid)), rid  # type: ignore[arg-type]


def test_watched_break_keeps_the_peaks_per_side_for_the_history() -> None:
    cat = load_catalogue()
    routine = cat.get("neck-turns")
    assert routine is not None
    wb = WatchedBreak(routine)
    wb.step_started(routine.steps[0])
    for i, v in enumerate(trace(bump(36, 1.5, 1, 1.5, 1), bump(-29, 1.5, 1, 1.5, 1))):
        wb.coach.feed(Signals(i / FPS, v, 0.0, 0.0, 0.5, 0.7, 2.0), i / FPS)  # type: ignore[union-attr]
    wb.step_started(None)
    rec = wb.mobility(1000.0)
    assert rec is not None and rec.reps == {"turn": 2}
    assert abs(rec.values["turn_left_deg"] - 36) < 3  # type: ignore[operator]
    assert abs(rec.values["turn_right_deg"] - 29) < 3  # type: ignore[operator]
    assert rec.values["bend_left_deg"] is None


# ------------------------------------------------------------------------------------------ signals


def _frontal(nose_dx: float = 0.0, ear_drop_left: float = 0.0) -> np.ndarray:
    pts = np.full((NUM_LANDMARKS, 2), 0.5)
    pts[P.LEFT_EAR] = (0.58, 0.30 + ear_drop_left)
    pts[P.RIGHT_EAR] = (0.42, 0.30 - ear_drop_left)
    pts[P.NOSE] = (0.50 + nose_dx, 0.33)
    pts[P.LEFT_SHOULDER] = (0.70, 0.55)
    pts[P.RIGHT_SHOULDER] = (0.30, 0.55)
    return pts


def test_signal_signs_follow_the_persons_own_left() -> None:
    # The person's left ear is on the image's right (camera not mirrored).
    left_turn = signals_from_pose(pose_from_arrays(_frontal(nose_dx=0.05)), 0.0)
    assert left_turn.yaw_deg is not None and left_turn.yaw_deg > 20
    bend_left = signals_from_pose(pose_from_arrays(_frontal(ear_drop_left=0.03)), 0.0)
    assert bend_left.roll_deg is not None and bend_left.roll_deg > 10
    level = signals_from_pose(pose_from_arrays(_frontal()), 0.0)
    assert level.yaw_deg == pytest.approx(0.0, abs=1e-6) and level.roll_deg == pytest.approx(0.0, abs=1e-6)


def span_signals(narrowing: list[float | None], t0: float = 0.0, fps: float = 6.0) -> list[tuple[float, Signals | None]]:
    """Shoulder-blade squeezes at the watching rate: the shoulder span narrowing by `narrowing` percent
    (None: nobody in view)."""
    out: list[tuple[float, Signals | None]] = []
    for i, v in enumerate(narrowing):
        t = t0 + i / fps
        out.append((t, None if v is None else Signals(t, 0.0, 0.0, 0.0, 0.5, 0.7, 0.75 * math.exp(-v / 100))))
    return out


def feed_squeezes(samples: list[tuple[float, Signals | None]]) -> RepDetector:
    detector = RepDetector(MOVEMENTS["squeeze"])
    for t, s in samples:
        if s is None:
            detector.missing(t)
        else:
            detector.feed(s)
    return detector


def test_a_squeeze_that_comes_back_to_a_slightly_different_rest_still_ends() -> None:
    # What the tracking pose model gives on a real webcam: after the squeeze the shoulders settle 4 %
    # narrower than before (a new fit, or shoulders that stay a little back). Waiting for the old
    # resting position would run the squeeze into the next one and lose both.
    rng = np.random.default_rng(3)
    fps = 6.0

    def seg(value: float, seconds: float) -> list[float]:
        return [value + float(rng.normal(0, 0.3)) for _ in range(round(seconds * fps))]

    values = [*seg(0.0, 1.5), *seg(5.0, 0.3), *seg(11.0, 2.0), *seg(7.0, 0.3), *seg(4.3, 2.5),
              *seg(9.0, 0.3), *seg(14.0, 2.0), *seg(8.0, 0.3), *seg(4.3, 2.5)]
    detector = feed_squeezes(span_signals(list(values), fps=fps))
    reps = detector.repetitions
    assert len(reps) == 2
    # The first ends where it settled (about 4.1 s in), not a second later when that was clear.
    assert 3.9 <= reps[0].end <= 4.5
    assert reps[1].peak == pytest.approx(14.0 - 4.3, abs=1.5)  # measured from the new resting position


def test_a_squeeze_right_after_coming_back_into_view_is_counted() -> None:
    # The person steps out of view and back; the pose model's first frames after finding them again
    # are a few percent off (here 6 % wider, then settling), and the squeeze starts at once.
    rng = np.random.default_rng(4)
    before = [float(rng.normal(0, 0.3)) for _ in range(12)]
    away: list[float | None] = [None] * 15
    back = [-6.0, -2.5, 0.4, 3.0, 7.0, 10.0, 10.5, 10.2, 10.4, 10.1, 10.3, 6.0, 2.0, 0.5, 0.3, 0.2]
    detector = feed_squeezes(span_signals([*before, *away, *back]))
    assert len(detector.repetitions) == 1
    assert detector.repetitions[0].peak == pytest.approx(10.3, abs=1.0)


def test_a_smoothed_repetition_is_placed_at_the_moment_its_values_describe() -> None:
    """Squeezes are followed on the median of the last three frames, which on the way out or back is the
    middle frame's value: the start and end are placed at that frame's time, not a frame late. A squeeze
    gliding out and back linearly at the watching rate (7.5 fps): the start is the last frame still short
    of the return threshold (35 % of the peak) on the way out, the end the first frame past it on the way
    back, both within one frame of where the glide crosses it."""
    fps, peak = 7.5, 8.0

    def narrowing(t: float) -> float:  # rest 2 s, out 1.2 s, hold 2 s, back 1.2 s, rest
        if t < 2.0 or t >= 6.4:
            return 0.0
        if t < 3.2:
            return peak * (t - 2.0) / 1.2
        return peak if t < 5.2 else peak * (6.4 - t) / 1.2

    detector = feed_squeezes(span_signals([narrowing(i / fps) for i in range(round(9.0 * fps))], fps=fps))
    (rep,) = detector.repetitions
    out_crossing, back_crossing = 2.0 + 0.35 * 1.2, 6.4 - 0.35 * 1.2
    assert out_crossing - 1 / fps <= rep.start <= out_crossing
    assert back_crossing <= rep.end < back_crossing + 1 / fps


def test_a_squeeze_held_at_its_peak_is_not_cut_short() -> None:
    # Holding the squeeze (steady at the peak) is not "settled short": it ends only on the way back.
    values = [0.0] * 9 + [5.0, 9.0] + [10.0] * 24 + [6.0, 2.0, 0.5, 0.0, 0.0]
    detector = feed_squeezes(span_signals(values))
    assert len(detector.repetitions) == 1
    assert detector.repetitions[0].end == pytest.approx((9 + 2 + 24 + 1) / 6.0, abs=0.2)


def test_back_in_view_with_the_fit_a_few_percent_off_a_squeeze_ends_on_its_return() -> None:
    # After the gap the pose model sees the same resting shoulders 6 % narrower, and the squeeze starts
    # on the second frame. Measured from the old resting position it never comes back within 35 % of its
    # peak, and only the "settled" rule would count it, a second late. Measured from the level it rose
    # from, it ends on the frame its median is back (two frames below 9.6 %), and that level is the new
    # resting position, so the next squeeze is measured from it too.
    rng = np.random.default_rng(5)
    before = [float(rng.normal(0, 0.3)) for _ in range(12)]
    away: list[float | None] = [None] * 15
    squeeze = [9.0, 12.0, 15.0, 16.0, 16.2, 16.0, 16.1, 12.0, 8.5, 7.0, 6.3, 6.1, 6.2, 6.0, 6.1, 6.0, 6.2]
    back = [6.0, 6.2, *squeeze, *squeeze]
    samples = span_signals([*before, *away, *back])
    detector = RepDetector(MOVEMENTS["squeeze"])
    counted_at = []  # when each was counted (a repetition's `end` may be backdated; the message is not)
    for t, s in samples:
        if s is None:
            detector.missing(t)
        elif detector.feed(s) is not None:
            counted_at.append(t)
    reps = detector.repetitions
    assert len(reps) == 2
    first_back = len(before) + len(away) + 2
    assert counted_at[0] == pytest.approx(samples[first_back + 9][0])  # the 7.0 frame
    assert counted_at[1] == pytest.approx(samples[first_back + len(squeeze) + 9][0])
    for rep in reps:
        assert rep.peak == pytest.approx(10.1, abs=1.0)  # from where the person rests, not from before the gap


def test_back_in_view_holding_a_squeeze_counts_it_once_on_the_way_back() -> None:
    # The person comes back into view already squeezing: there is no lower level to measure from, so the
    # hold is not taken for a resting position (that would end it at once and count its return again).
    away: list[float | None] = [None] * 15
    back = [12.0, 12.3, 11.8, 12.1, 12.0, 11.9, 12.2, 8.0, 4.0, 1.0, 0.2, 0.0, 0.1, 0.0, 0.0, 0.1]
    detector = feed_squeezes(span_signals([0.0] * 12 + away + back))
    assert len(detector.repetitions) == 1
    assert detector.repetitions[0].peak == pytest.approx(12.3, abs=0.5)


def test_a_squeeze_step_asks_for_every_frame_only_while_a_repetition_comes_back() -> None:
    """Squeezes are found afresh in every frame, which costs ~1.6x a tracked fit: the detector asks for every
    other frame of the watching rate at rest, on the way out and at the peak, and for every frame once the
    newest frame has fallen below COMING_BACK_SHARE of the peak, until the repetition has ended."""
    from posture.exercise.reps import COMING_BACK_SHARE

    detector = RepDetector(MOVEMENTS["squeeze"])
    values = [0.0] * 9 + [5.0, 9.0, 10.0, 10.0, 10.0, 9.5, 8.5, 4.0, 1.0, 0.5, 0.0, 0.0]
    asked = []
    for _, s in span_signals(values):
        assert s is not None
        detector.feed(s)
        asked.append(detector.every)
    assert MOVEMENTS["squeeze"].resting_every == 2
    assert asked[:14] == [2] * 14  # resting, going out, at the peak (10 %)
    assert 9.5 > COMING_BACK_SHARE * 10.0 > 8.5
    assert asked[14] == 2 and asked[15] == 1  # 9.5 % is above 90 % of the peak, 8.5 % below
    assert len(detector.repetitions) == 1 and asked[-1] == 2  # ended: back to every other frame
    assert RepDetector(MOVEMENTS["turn"]).every == 1  # tracked movements take every frame


def test_a_recording_of_squeezes_is_sampled_as_a_watched_break_samples_it() -> None:
    """`analyze_exercise` (the labelled-clip tests, `posture exercise analyze`) asks the detectors how far on
    the next frame is, as the watched break does: squeezes at rest take every other sample time."""
    from posture.exercise.tracker import ExerciseTracker

    tracker = ExerciseTracker(("squeeze",))
    assert tracker.every() == 2
    assert ExerciseTracker(("turn", "squeeze")).every() == 1
