"""Hours of nudge behaviour on a fake clock, driven through the real state tracker."""

from __future__ import annotations

from datetime import datetime, time

from posture.clock import FakeClock
from posture.coach.nudges import GENTLE, NudgePolicy, NudgeSettings
from posture.quiet import QuietHours
from posture.samples import Event
from posture.scoring import StateTracker

STEP = 0.5  # 2 Hz sampling


class Sim:
    def __init__(self, settings: NudgeSettings | None = None, wall: datetime | None = None) -> None:
        self.clock = FakeClock(wall.timestamp() if wall else None)
        self.tracker = StateTracker()
        self.policy = NudgePolicy(self.clock, settings)
        self.events: list[Event] = []
        self.states: list[str] = []

    def run(self, seconds: float, raw: float | None, reasons: tuple[str, ...] = ("head_dropped",),
            status: str = "judged") -> None:
        for _ in range(round(seconds / STEP)):
            self.clock.advance(STEP)
            _, state = self.tracker.update(self.clock.monotonic(), raw, status)
            self.states.append(state)
            rs = reasons if state == "poor" else ()
            self.events += self.policy.observe(state, rs)

    def kinds(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.kind == kind]


def test_no_nudge_in_ten_minutes_upright_with_glances_every_minute() -> None:
    sim = Sim()
    sim.run(5, 95)
    for _ in range(10):
        sim.run(58, 95)
        sim.run(2, 15)  # a two-second glance down at the keyboard
    assert "poor" not in sim.states
    assert sim.kinds("nudge") == []


def test_exactly_one_nudge_after_onset_in_sustained_slouch() -> None:
    sim = Sim()
    sim.run(10, 95)
    start = sim.clock.monotonic()
    sim.run(240, 20)  # four minutes, shorter than the 5-minute cooldown
    nudges = sim.kinds("nudge")
    assert len(nudges) == 1
    delay = nudges[0].t - start
    assert 45 <= delay <= 45 + 4  # onset delay plus the ~3 s it takes the state to turn poor
    assert nudges[0].data["level"] == 1
    assert nudges[0].data["reasons"] == ["head_dropped"]
    assert nudges[0].data["text"] in GENTLE["head_dropped"]


def test_state_follows_sustained_posture_within_about_three_seconds() -> None:
    sim = Sim()
    sim.run(10, 95)
    n = len(sim.states)
    sim.run(10, 20)
    first_poor = sim.states[n:].index("poor") + 1
    assert first_poor * STEP <= 3.5


def test_escalation_after_cooldown_with_a_concrete_tip() -> None:
    sim = Sim()
    sim.run(10, 95)
    sim.run(45 + 300 + 10, 20, reasons=("head_forward",))
    nudges = sim.kinds("nudge")
    assert [n.data["level"] for n in nudges] == [1, 2]
    assert nudges[1].t - nudges[0].t >= 300
    assert "chin" in nudges[1].data["text"].lower()


def test_nudge_withdrawn_when_posture_recovers() -> None:
    sim = Sim()
    sim.run(10, 95)
    sim.run(60, 20)
    assert sim.policy.active is not None
    sim.run(10, 95)
    assert sim.policy.active is None
    assert len(sim.kinds("nudge_withdrawn")) == 1
    rec = sim.kinds("recovery")
    assert len(rec) == 1 and rec[0].data["after_s"] > 0


def test_no_nudge_while_away() -> None:
    sim = Sim()
    sim.run(10, 95)
    sim.run(600, None, status="away")
    assert sim.kinds("nudge") == []


def test_no_nudge_while_snoozed_then_nudges_again() -> None:
    sim = Sim()
    sim.run(10, 95)
    sim.events.append(sim.policy.snooze(15))
    sim.run(14 * 60, 20)
    assert sim.kinds("nudge") == []
    sim.run(2 * 60, 20)  # snooze over, still slouching
    assert len(sim.kinds("nudge")) == 1


def test_snooze_until_tomorrow_and_pause() -> None:
    sim = Sim(wall=datetime(2026, 11, 23, 16, 0))
    sim.run(5, 95)
    sim.policy.snooze(None)
    sim.run(7 * 3600, 20)  # until 23:00, slouching all along
    assert sim.kinds("nudge") == []
    sim.run(2 * 3600, 20)  # past midnight
    assert sim.kinds("nudge")
    paused = Sim()
    paused.policy.pause(30)
    paused.run(29 * 60, 20)
    assert paused.kinds("nudge") == []
    paused.run(2 * 60, 20)
    assert len(paused.kinds("nudge")) == 1 and paused.kinds("resume")


def test_quiet_hours() -> None:
    sim = Sim(NudgeSettings(quiet_hours=QuietHours(time(12, 0), time(13, 0))), wall=datetime(2026, 11, 23, 12, 0))
    sim.run(55 * 60, 20)
    assert sim.kinds("nudge") == []


def test_daily_cap_and_reset_next_day() -> None:
    sim = Sim(NudgeSettings(cooldown_s=60, daily_cap=3), wall=datetime(2026, 11, 23, 9, 0))
    sim.run(3600, 20)
    assert len(sim.kinds("nudge")) == 3
    sim.run(15 * 3600, 95)  # the evening and night upright; next morning
    sim.run(90, 20)  # one nudge (the next would need another 60 s of cooldown)
    assert len(sim.kinds("nudge")) == 4


def test_variants_rotate() -> None:
    sim = Sim(NudgeSettings(cooldown_s=60))
    texts = []
    for _ in range(3):
        sim.run(10, 95)
        sim.run(50, 20)
        texts.append(sim.kinds("nudge")[-1].data["text"])
    assert len(set(texts)) == 3


def test_onset_delay_is_configurable() -> None:
    sim = Sim(NudgeSettings(onset_delay_s=0))
    sim.run(10, 95)
    start = sim.clock.monotonic()
    sim.run(10, 20)
    assert sim.kinds("nudge") and sim.kinds("nudge")[0].t - start <= 3.5
