"""The break scheduler, driven through whole days on a FakeClock with irregular sample rates."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posture.clock import FakeClock
from posture.coach.breaks import (
    AWAY,
    ON_BREAK,
    PAUSED,
    POSTPONED,
    QUIET,
    SITTING,
    SUGGESTING,
    BreakScheduler,
    BreakSettings,
)
from posture.coach.routines import Catalogue, load_catalogue
from posture.coach.safety import SafetyProfile
from posture.quiet import QuietHours
from posture.samples import Event, PostureSample

CATALOGUE = load_catalogue()
SUGGESTED = "break_suggested"


def sample(state: str = "good", reasons: tuple[str, ...] = ()) -> PostureSample:
    # t is deliberately meaningless: the scheduler must take time from its clock, never from samples.
    return PostureSample(t=0.0, wall=0.0, person=state != "away", state=state, reasons=reasons)


@dataclass
class Day:
    """Feeds the scheduler samples at an irregular 0.3-2 Hz and records what comes out."""

    settings: BreakSettings = field(default_factory=BreakSettings)
    profile: SafetyProfile | None = field(default_factory=SafetyProfile)
    quiet: QuietHours | None = None
    wall_start: float | None = None
    catalogue: Catalogue = CATALOGUE
    seed: int = 1

    def __post_init__(self) -> None:
        self.clock = FakeClock(self.wall_start)
        self.sched = BreakScheduler(self.clock, self.settings, self.catalogue, self.profile, self.quiet)
        self.rng = random.Random(self.seed)
        self.t0 = self.clock.monotonic()
        self.log: list[tuple[float, Event]] = []  # (clock minutes since start, event)

    @property
    def now_min(self) -> float:
        return (self.clock.monotonic() - self.t0) / 60

    def record(self, events: list[Event]) -> list[Event]:
        self.log += [(self.now_min, e) for e in events]
        return events

    def run(self, minutes: float, state: str = "good", reasons: tuple[str, ...] = (),
            respond: Callable[[Day], None] | None = None) -> None:
        end = self.clock.monotonic() + minutes * 60
        while self.clock.monotonic() < end:
            self.clock.advance(min(self.rng.uniform(0.5, 3.3), end - self.clock.monotonic()))
            events = self.record(self.sched.observe(sample(state, reasons)))
            if respond and any(e.kind == SUGGESTED for e in events):
                respond(self)

    def take_break(self) -> None:
        self.record(self.sched.accept())
        routine = self.sched.active_routine
        assert routine is not None
        self.clock.advance(routine.seconds)
        self.record(self.sched.complete("better"))

    def skip(self) -> None:
        self.record(self.sched.skip())

    def kinds(self, kind: str) -> list[tuple[float, Event]]:
        return [(m, e) for m, e in self.log if e.kind == kind]


def take(day: Day) -> None:
    day.take_break()


def skip(day: Day) -> None:
    day.skip()


# --- settings ----------------------------------------------------------------------------------------


def test_default_settings_are_valid_and_plain() -> None:
    s = BreakSettings()
    s.validate()
    assert 20 <= s.micro_interval_min <= 30 and 50 <= s.neck_care_after_min <= 60
    assert (s.micro_min_s, s.micro_max_s) == (20, 40)
    assert s.away_reset_s == 120 and s.postpone_choices == (5, 10) and s.skip_limit == 3


@pytest.mark.parametrize(
    ("changes", "field_name"),
    [
        ({"micro_interval_min": 0}, "micro_interval_min"),
        ({"away_reset_s": -5}, "away_reset_s"),
        ({"debt_threshold_min": float("nan")}, "debt_threshold_min"),
        ({"micro_min_s": 50}, "micro_min_s"),
        ({"neck_care_after_min": 5.0}, "neck_care_after_min"),
        ({"escalated_interval_min": 40.0}, "escalated_interval_min"),
        ({"skip_limit": 2.5}, "skip_limit"),
        ({"postpone_short_min": True}, "postpone_short_min"),
    ],
)
def test_validate_names_the_bad_field(changes: dict[str, object], field_name: str) -> None:
    with pytest.raises(ValueError, match=field_name):
        BreakSettings(**changes).validate()  # type: ignore[arg-type]


@given(micro=st.floats(10, 120), neck=st.floats(20, 240))
def test_every_interval_the_settings_file_allows_is_valid(micro: float, neck: float) -> None:
    # posture/settings.py lets people choose micro 10-120 and neck care 20-240 minutes.
    BreakSettings(micro_interval_min=micro, neck_care_after_min=neck).validate()


def test_scheduler_refuses_invalid_settings() -> None:
    with pytest.raises(ValueError, match="skip_limit"):
        BreakScheduler(FakeClock(), BreakSettings(skip_limit=0), CATALOGUE, SafetyProfile())


# --- the rhythm of a day -----------------------------------------------------------------------------


def test_a_good_day_alternates_micro_and_neck_care_at_the_intended_times() -> None:
    day = Day()
    day.run(8 * 60, respond=take)
    suggested = day.kinds(SUGGESTED)
    kinds = [e.data["break_kind"] for _, e in suggested]
    first, second = suggested[0], suggested[1]
    assert first[1].data["break_kind"] == "micro" and first[0] == pytest.approx(25, abs=0.1)
    assert first[1].data["routine"] == "neck-turns"  # good posture: the general routine
    # Neck care comes at 55 sitting minutes; the 40 s micro-break in between is not sitting.
    assert second[1].data["break_kind"] == "neck_care" and second[0] == pytest.approx(55 + 40 / 60, abs=0.1)
    assert second[1].data["routine"] == "neck-reset"
    assert kinds[:6] == ["micro", "neck_care"] * 3
    assert 14 <= len(suggested) <= 18  # about two breaks per hour, eight hours
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(suggested)]
    assert min(gaps) >= 24
    assert day.sched.today.suggested == day.sched.today.completed == len(suggested)
    assert len(day.kinds("break_started")) == len(day.kinds("break_completed")) == len(suggested)


def test_events_carry_clock_time_not_sample_time() -> None:
    day = Day()
    day.run(26, respond=take)
    _, event = day.kinds(SUGGESTED)[0]
    assert event.t > 1000 and event.wall > 1e9  # FakeClock readings; every sample said t=0


def test_walking_away_two_minutes_resets_sitting_and_counts_as_a_natural_break() -> None:
    day = Day()
    day.run(20)
    assert day.sched.sitting_s / 60 == pytest.approx(20, abs=0.1)
    day.run(3, state="away")
    assert day.sched.state == AWAY
    day.run(1)
    natural = day.kinds("natural_break")
    assert len(natural) == 1 and natural[0][1].data["away_s"] == pytest.approx(180, abs=4)
    assert day.sched.sitting_s < 61 and day.sched.today.natural_breaks == 1
    day.run(30)
    first = day.kinds(SUGGESTED)[0][0]
    assert first == pytest.approx(20 + 3 + 25, abs=0.1)  # the micro timer restarted on return


def test_a_short_absence_is_not_a_break() -> None:
    day = Day()
    day.run(20)
    day.run(1.5, state="away")
    day.run(10)
    assert day.kinds("natural_break") == []
    # 25 sitting minutes are reached 1.5 minutes late: time away is not sitting, but nothing reset.
    assert day.kinds(SUGGESTED)[0][0] == pytest.approx(26.5, abs=0.1)


def test_a_sleeping_laptop_counts_as_absence() -> None:
    day = Day()
    day.run(20)
    day.clock.advance(15 * 60)  # no samples at all for 15 minutes
    day.run(1)
    assert [e.data["away_s"] for _, e in day.kinds("natural_break")] == [pytest.approx(15 * 60, abs=4)]


def test_high_posture_debt_brings_neck_care_forward() -> None:
    good = Day()
    good.run(30)
    assert good.kinds(SUGGESTED)[0][1].data["break_kind"] == "micro"

    slouched = Day()
    slouched.run(30, state="poor", reasons=("head_forward",))
    minute, event = slouched.kinds(SUGGESTED)[0]
    assert minute == pytest.approx(25, abs=0.1)  # at the first break, 30 minutes before neck care was due
    assert event.data["break_kind"] == "neck_care" and event.data["reason"] == "posture_debt"
    assert event.data["routine"] == "forward-head-care" and event.data["focus"] == "forward"
    assert slouched.sched.debt_min == pytest.approx(30, abs=0.1)  # every minute so far was poor
    slouched.take_break()
    assert slouched.sched.debt_min == 0


def test_debt_below_the_threshold_leaves_the_micro_break_alone() -> None:
    day = Day()
    day.run(8, state="poor", reasons=("head_forward",))  # 8 poor minutes < 10
    day.run(20)
    minute, event = day.kinds(SUGGESTED)[0]
    assert minute == pytest.approx(25, abs=0.1) and event.data["break_kind"] == "micro"
    assert event.data["routine"] == "chin-tucks"  # but the focus still follows the reasons


def test_a_natural_break_pays_down_the_debt() -> None:
    day = Day()
    day.run(8, state="poor", reasons=("head_forward",))
    day.run(3, state="away")
    day.run(0.1)
    assert day.sched.debt_min == pytest.approx(8 - 2 * 3, abs=0.15)  # two debt minutes per minute away


@pytest.mark.parametrize(
    ("reasons", "micro", "neck"),
    [
        (("head_forward",), "chin-tucks", "forward-head-care"),
        (("head_dropped",), "chin-tucks", "forward-head-care"),
        (("tilted_left",), "side-bends", "shoulder-balance"),
        (("leaning_right", "shoulders_uneven"), "side-bends", "shoulder-balance"),
        ((), "neck-turns", "neck-reset"),
    ],
)
def test_the_routine_follows_the_dominant_reasons(reasons: tuple[str, ...], micro: str, neck: str) -> None:
    day = Day()
    day.run(26, state="drifting", reasons=reasons)  # drifting: reasons count, no debt
    assert day.sched.pending is not None and day.sched.pending.routine_id == micro
    assert day.sched.routine(micro) is not None

    long_micro = Day(settings=BreakSettings(micro_interval_min=120))
    long_micro.run(56, state="drifting", reasons=reasons)
    assert long_micro.sched.pending is not None
    assert (long_micro.sched.pending.kind, long_micro.sched.pending.routine_id) == ("neck_care", neck)


def test_pregnancy_keeps_the_side_routine_but_without_gb21() -> None:
    day = Day(profile=SafetyProfile(pregnant=True), settings=BreakSettings(micro_interval_min=120))
    day.run(56, state="drifting", reasons=("tilted_right",))
    assert day.sched.pending is not None and day.sched.pending.routine_id == "shoulder-balance"
    day.take_break()
    assert all(s.point not in ("GB21", "LI4") for r in day.sched.catalogue for s in r.steps)
    started = day.kinds("break_started")[0][1]
    assert started.data["routine"] == "shoulder-balance"
    # GB21 on both sides (2 x 40 s) goes, and the warm-hands (10 s) and strokes (15 s) that go with pressing
    assert started.data["seconds"] == CATALOGUE.get("shoulder-balance").seconds - 105  # type: ignore[union-attr]


# --- answers: skip, postpone, ignore -----------------------------------------------------------------


def test_skips_are_counted_and_escalate_gently() -> None:
    day = Day()
    day.run(6 * 60, respond=skip)
    suggested = day.kinds(SUGGESTED)
    skipped = day.kinds("break_skipped")
    assert [e.data["consecutive"] for _, e in skipped[:4]] == [1, 2, 3, 4]
    assert day.sched.today.skipped == len(skipped) and day.sched.consecutive_skips == len(skipped)
    escalated = [(m, e) for m, e in suggested if e.data["escalated"]]
    # After the 3rd skip and the 6th (the short offer counts as one), once each time.
    assert [suggested.index(x) for x in escalated][:2] == [3, 6]
    minute, event = escalated[0]
    assert event.data["routine"] == "quick-reset" and event.data["break_kind"] == "micro"
    assert event.data["seconds"] < min(r.seconds for r in CATALOGUE.of_kind("micro") if r.id != "quick-reset")
    # Sooner: 10 minutes after the third skip instead of 25...
    assert minute - skipped[2][0] == pytest.approx(10, abs=0.1)
    # ...and the one after it returns to the normal rhythm.
    assert suggested[4][0] - skipped[3][0] == pytest.approx(25, abs=0.1)
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(suggested)]
    assert min(gaps) >= 10  # never a nag storm
    assert len(suggested) <= 6 * 60 / 10


def test_escalated_text_says_so() -> None:
    day = Day()
    day.run(82, respond=skip)
    day.run(10)
    assert day.sched.pending is not None and day.sched.pending.escalated
    assert "3 breaks" in day.sched.pending.text and "30 seconds" in day.sched.pending.text


def test_taking_a_break_clears_the_skip_streak() -> None:
    day = Day()
    day.run(60, respond=skip)
    assert day.sched.consecutive_skips == 2
    day.run(30, respond=take)
    assert day.sched.consecutive_skips == 0


def test_postpone_brings_the_same_break_back_later() -> None:
    day = Day()
    day.run(25.1)
    pending = day.sched.pending
    assert pending is not None and day.sched.state == SUGGESTING
    with pytest.raises(ValueError, match="5 or 10"):
        day.sched.postpone(7)
    event = day.record(day.sched.postpone(10))[0]
    assert event.kind == "break_postponed" and event.data["minutes"] == 10
    assert day.sched.state == POSTPONED and day.sched.today.postponed == 1
    day.run(9.5)
    assert day.sched.state == POSTPONED
    day.run(1)
    again = day.kinds(SUGGESTED)[-1]
    assert again[1].data["postponed"] is True and again[1].data["routine"] == pending.routine_id
    assert again[0] == pytest.approx(25.1 + 10, abs=0.1)
    assert day.sched.state == SUGGESTING and day.sched.today.suggested == 1
    day.take_break()
    assert day.kinds("break_started")[0][1].data["suggested"] is True


def test_an_unanswered_suggestion_lapses_as_an_ignored_skip() -> None:
    day = Day()
    day.run(36)
    skipped = day.kinds("break_skipped")
    assert len(skipped) == 1 and skipped[0][1].data["ignored"] is True
    assert skipped[0][0] == pytest.approx(35, abs=0.1)
    assert day.sched.state == SITTING and day.sched.pending is None


def test_walking_away_withdraws_a_waiting_suggestion() -> None:
    day = Day()
    day.run(25.5)
    assert day.sched.state == SUGGESTING
    day.run(4, state="away")
    day.run(0.1)
    assert day.sched.pending is None and day.sched.state == SITTING
    assert day.kinds("natural_break")[0][1].data["withdrawn"] == "neck-turns"
    assert day.kinds("break_skipped") == []


# --- when not to interrupt ---------------------------------------------------------------------------


def test_no_suggestion_while_paused_and_pause_is_a_blank() -> None:
    day = Day()
    day.run(20)
    day.sched.set_paused(True)
    assert day.sched.state == PAUSED
    day.run(60)
    assert day.kinds(SUGGESTED) == [] and day.sched.sitting_s / 60 == pytest.approx(20, abs=0.1)
    day.sched.set_paused(False)
    day.run(6)
    assert day.kinds("natural_break") == []
    assert day.kinds(SUGGESTED)[0][0] == pytest.approx(80 + 5, abs=0.1)


def test_pausing_withdraws_a_pending_suggestion() -> None:
    day = Day()
    day.run(25.5)
    assert day.sched.pending is not None
    assert day.sched.set_paused(True) == []
    assert day.sched.pending is None and day.sched.state == PAUSED


def test_no_suggestion_in_quiet_hours() -> None:
    start = datetime(2026, 11, 23, 9, 0).timestamp()
    day = Day(quiet=QuietHours.parse("08:00-10:00"), wall_start=start)
    day.run(50)
    assert day.sched.state == QUIET and day.kinds(SUGGESTED) == []
    day.run(20)
    minute, event = day.kinds(SUGGESTED)[0]
    assert minute == pytest.approx(60, abs=0.1)  # the first sample after 10:00
    assert event.data["break_kind"] == "neck_care"  # 60 sitting minutes by then


def test_no_suggestion_while_away_and_one_when_back() -> None:
    day = Day()
    day.run(24.5)
    day.run(1.5, state="away")  # the micro-break falls due while away (short absence)
    assert day.kinds(SUGGESTED) == []
    day.run(0.6)
    assert day.kinds(SUGGESTED)[0][0] == pytest.approx(26.5, abs=0.1)


def test_day_counters_reset_at_local_midnight() -> None:
    start = datetime(2026, 11, 23, 23, 0).timestamp()
    day = Day(wall_start=start)
    day.run(57, respond=skip)  # skips at 23:25 (micro) and 23:55 (neck care)
    assert day.sched.today.skipped == 2 and day.sched.consecutive_skips == 2
    day.run(35, respond=skip)  # one more at 00:20
    status = day.sched.status()
    assert status.today.day == (datetime(2026, 11, 23) + timedelta(days=1)).date()
    assert status.today.skipped == 1 and status.today.suggested == 1  # only the one after midnight
    assert status.consecutive_skips == 1  # and yesterday's streak did not make it an escalation
    assert not day.kinds(SUGGESTED)[-1][1].data["escalated"]


# --- commands ----------------------------------------------------------------------------------------


def test_start_complete_and_the_events_they_make() -> None:
    day = Day()
    assert day.sched.accept() == []  # nothing pending: a stale click does nothing
    with pytest.raises(ValueError, match="unknown routine 'nope'"):
        day.sched.start("nope")
    started = day.record(day.sched.start("slow-breathing"))
    assert started[0].kind == "break_started" and started[0].data["suggested"] is False
    assert day.sched.state == ON_BREAK and day.sched.start("chin-tucks") == []
    with pytest.raises(ValueError, match="better, same, worse"):
        day.sched.complete("great")
    day.clock.advance(50)
    done = day.sched.complete("same", finished=False)
    assert done[0].kind == "break_completed"
    assert done[0].data == {"routine": "slow-breathing", "break_kind": "breathing", "finished": False,
                            "felt": "same", "seconds": 50.0, "started_wall": started[0].wall}
    assert day.sched.today.started == 1 and day.sched.today.completed == 0
    assert day.sched.complete() == [] and day.sched.skip() == [] and day.sched.postpone(5) == []


def test_time_on_a_break_is_not_sitting_or_debt() -> None:
    day = Day()
    day.run(5, state="poor", reasons=("head_forward",))
    day.sched.start("chin-tucks")
    day.run(10, state="poor", reasons=("head_forward",))  # a long, stretchy break
    assert day.sched.debt_min == pytest.approx(5, abs=0.1) and day.sched.sitting_s / 60 == pytest.approx(5, abs=0.1)
    day.record(day.sched.complete())
    assert day.kinds("natural_break") == []


def test_without_safety_answers_acupressure_waits_for_the_screen() -> None:
    day = Day(profile=None, settings=BreakSettings(micro_interval_min=120))
    day.run(56)
    pending = day.sched.pending
    assert pending is not None and pending.routine_id == "neck-reset" and pending.needs_safety_screen
    assert not day.sched.routine("neck-reset").has_acupressure  # type: ignore[union-attr]
    day.sched.set_safety_profile(SafetyProfile())
    assert day.sched.routine("neck-reset").has_acupressure  # type: ignore[union-attr]
    day.take_break()
    assert day.kinds("break_started")[0][1].data["seconds"] == CATALOGUE.get("neck-reset").seconds  # type: ignore[union-attr]


def test_status_snapshot_for_the_ui() -> None:
    day = Day()
    day.run(10, state="poor", reasons=("tilted_left",))
    status = day.sched.status()
    assert status.state == SITTING and status.sitting_min == pytest.approx(10, abs=0.1)
    assert status.debt_min == pytest.approx(10, abs=0.1)
    assert status.next_break_in_s == pytest.approx(15 * 60, abs=5)
    day.run(16)
    assert day.sched.status().next_break_in_s is None and day.sched.status().pending is not None


# --- properties --------------------------------------------------------------------------------------

STATES = st.sampled_from(["good", "drifting", "poor", "away", "unknown"])
REASONS = st.lists(st.sampled_from(["head_forward", "tilted_left", "leaning_right", "shoulders_uneven",
                                    "too_close"]), max_size=2).map(tuple)
SEGMENT = st.tuples(st.floats(5, 900), STATES, REASONS)
ANSWERS = st.sampled_from(["take", "skip", "postpone", "ignore", "pause"])


@settings(max_examples=40, deadline=None)
@given(segments=st.lists(SEGMENT, min_size=1, max_size=25), answers=st.lists(ANSWERS, min_size=1, max_size=8),
       seed=st.integers(0, 1000))
def test_any_day_never_nags(segments: list[tuple[float, str, tuple[str, ...]]], answers: list[str],
                            seed: int) -> None:
    day = Day(seed=seed)
    count = 0

    def respond(d: Day) -> None:
        nonlocal count
        answer = answers[count % len(answers)]
        count += 1
        if answer == "take":
            d.take_break()
        elif answer == "skip":
            d.skip()
        elif answer == "postpone" and d.sched.state == SUGGESTING:
            d.record(d.sched.postpone(5))
        elif answer == "pause":
            d.sched.set_paused(True)
            d.clock.advance(60)
            d.sched.set_paused(False)

    for seconds, state, reasons in segments:
        day.run(seconds / 60, state, reasons, respond)
    allowed = {SUGGESTED, "break_started", "break_completed", "break_skipped", "break_postponed",
               "natural_break"}
    assert {e.kind for _, e in day.log} <= allowed
    assert day.sched.debt_s >= 0 and day.sched.sitting_s >= 0
    fresh = [m for m, e in day.kinds(SUGGESTED) if not e.data["postponed"]]
    gaps = [b - a for a, b in itertools.pairwise(fresh)]
    assert all(g >= BreakSettings().escalated_interval_min - 0.01 for g in gaps)
    assert day.sched.state in {SITTING, AWAY, SUGGESTING, POSTPONED, QUIET}
