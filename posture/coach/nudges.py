"""When to nudge, how often, and what to say — a state machine on the injected clock.

Only sustained poor posture earns a nudge (an onset delay, 45 s by default), a cooldown follows each one,
a second, firmer nudge with a concrete tip comes if poor posture continues past the cooldown, and a daily
cap keeps the app from nagging. Nothing is said while the user is away, paused, snoozed or in quiet
hours, and a shown nudge is withdrawn as soon as posture recovers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from posture.clock import Clock, local_datetime
from posture.events import Event, NudgeShown, NudgeWithdrawn, Paused, Recovery, Resumed, Snoozed
from posture.quiet import QuietHours
from posture.samples import REASONS

# Gentle first words, then a firmer second nudge with something concrete to do. Several variants per
# reason so the same sentence does not come back every time; they rotate in order.
GENTLE: dict[str, tuple[str, ...]] = {
    "head_forward": (
        "Your head has crept toward the screen. Draw your chin back a little and let your ears settle over your shoulders.",
        "Head drifting forward? Lengthen the back of your neck and bring your head back over your body.",
        "Your screen has pulled you in. Sit back into the chair and let your head rest over your shoulders.",
    ),
    "head_dropped": (
        "You've sunk a little. Grow tall through the crown of your head and let your shoulders soften.",
        "Your head has dropped toward your shoulders. Sit up from the hips and give your neck some length.",
        "A small slump has set in. Plant your feet, lift your chest a touch and breathe out slowly.",
    ),
    "tilted_left": (
        "Your head is tipping to the left. Bring it back to level and relax your jaw.",
        "Head leaning left for a while now. Centre it and let both shoulders drop evenly.",
    ),
    "tilted_right": (
        "Your head is tipping to the right. Bring it back to level and relax your jaw.",
        "Head leaning right for a while now. Centre it and let both shoulders drop evenly.",
    ),
    "leaning_left": (
        "You're leaning to the left. Shift your weight back onto both sit bones.",
        "Your body has drifted left. Centre yourself over the chair and let your spine stack up.",
    ),
    "leaning_right": (
        "You're leaning to the right. Shift your weight back onto both sit bones.",
        "Your body has drifted right. Centre yourself over the chair and let your spine stack up.",
    ),
    "too_close": (
        "You've moved close to the screen. Ease back to about an arm's length away.",
        "The screen has drawn you in. Sit back and let your eyes do the reaching instead of your neck.",
    ),
    "shoulders_uneven": (
        "One shoulder is riding higher. Let both drop away from your ears.",
        "Your shoulders are uneven. Roll them back once and let them settle level.",
    ),
}
FIRM_TIPS: dict[str, str] = {
    "head_forward": "Try five slow chin tucks: glide your chin straight back, hold for five seconds, release.",
    "head_dropped": "Stand up for a moment, then sit back down with your hips all the way back in the chair.",
    "tilted_left": "Check your screen is straight in front of you, not off to one side.",
    "tilted_right": "Check your screen is straight in front of you, not off to one side.",
    "leaning_left": "Move your mouse and keyboard closer so you don't have to reach sideways.",
    "leaning_right": "Move your mouse and keyboard closer so you don't have to reach sideways.",
    "too_close": "Raise the text size rather than leaning in; the top of the screen should sit at eye level.",
    "shoulders_uneven": "Rest both forearms on the desk or armrests so neither shoulder has to hold itself up.",
}
GENERIC = ("Time for a posture check: sit back, lengthen your neck, relax your shoulders.",)


@dataclass(frozen=True, slots=True)
class NudgeSettings:
    onset_delay_s: float = 45.0
    cooldown_s: float = 300.0
    daily_cap: int = 12
    quiet_hours: QuietHours = field(default_factory=QuietHours)

    def validate(self) -> None:
        if not 0 <= self.onset_delay_s <= 600:
            raise ValueError("onset_delay_s must be between 0 and 600 seconds")
        if not 30 <= self.cooldown_s <= 7200:
            raise ValueError("cooldown_s must be between 30 and 7200 seconds")
        if not 1 <= self.daily_cap <= 200:
            raise ValueError("daily_cap must be between 1 and 200")


@dataclass(frozen=True, slots=True)
class Nudge:
    level: int  # 1 gentle, 2 firmer with a tip
    reasons: tuple[str, ...]
    text: str

    @property
    def title(self) -> str:
        if not self.reasons:
            return "Posture check"
        return REASONS.get(self.reasons[0], self.reasons[0]).capitalize()


class NudgePolicy:
    def __init__(self, clock: Clock, settings: NudgeSettings | None = None) -> None:
        self.clock = clock
        self.settings = settings or NudgeSettings()
        self.active: Nudge | None = None
        self._poor_since: float | None = None
        self._last_nudge_at: float | None = None
        self._level_in_episode = 0
        self._paused_until: float | None = None  # monotonic; inf = until resumed
        self._snoozed_until_wall: float | None = None
        self._day = self._today()
        self.count_today = 0
        self._variant: dict[str, int] = {}
        self._reason_time: dict[str, float] = {}
        self._last_t: float | None = None

    # -- controls ---------------------------------------------------------------------------------
    def pause(self, minutes: float | None = None) -> Paused:
        now = self.clock.monotonic()
        self._paused_until = float("inf") if minutes is None else now + minutes * 60
        self._reset_episode()
        return Paused(now, self.clock.wall(), minutes=minutes)

    def resume(self) -> Resumed:
        self._paused_until = None
        self._snoozed_until_wall = None
        return Resumed(self.clock.monotonic(), self.clock.wall())

    @property
    def paused_until(self) -> float | None:
        """Monotonic end of a manual pause (inf: until resumed), None when not paused."""
        return self._paused_until

    def snooze(self, minutes: float | None = None) -> Snoozed:
        """Snooze nudges for `minutes`, or until tomorrow (local midnight) when None."""
        wall = self.clock.wall()
        if minutes is None:
            tomorrow = (local_datetime(wall) + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
            self._snoozed_until_wall = tomorrow.timestamp()
        else:
            self._snoozed_until_wall = wall + minutes * 60
        return Snoozed(self.clock.monotonic(), wall, minutes=minutes, until=self._snoozed_until_wall)

    @property
    def paused(self) -> bool:
        return self._paused_until is not None and self.clock.monotonic() < self._paused_until

    @property
    def snoozed(self) -> bool:
        return self._snoozed_until_wall is not None and self.clock.wall() < self._snoozed_until_wall

    def quiet(self) -> bool:
        return self.paused or self.snoozed or self.settings.quiet_hours.active(self.clock.wall())

    # -- the state machine ------------------------------------------------------------------------
    def observe(self, state: str, reasons: tuple[str, ...] = ()) -> list[Event]:
        """Feed the smoothed state after every sample; returns the events this caused."""
        now = self.clock.monotonic()
        events: list[Event] = []
        today = self._today()
        if today != self._day:
            self._day, self.count_today = today, 0
        if self._paused_until is not None and now >= self._paused_until:
            self._paused_until = None
            events.append(Resumed(now, self.clock.wall(), after="pause"))
        dt = 0.0 if self._last_t is None else max(0.0, now - self._last_t)
        self._last_t = now

        if state == "poor":
            if self._poor_since is None:
                self._poor_since = now
                self._reason_time.clear()
            for r in reasons:
                self._reason_time[r] = self._reason_time.get(r, 0.0) + dt
        elif state in ("good", "away", "unknown"):
            if self.active is not None:
                wall = self.clock.wall()
                level, shown = self.active.level, self.active.reasons
                after = None if self._last_nudge_at is None else round(now - self._last_nudge_at, 1)
                # The notice goes away in every case; sitting up is also worth a word of its own.
                events.append(NudgeWithdrawn(now, wall, level, shown, after))
                if state == "good":
                    events.append(Recovery(now, wall, level, shown, after))
                self.active = None
            self._reset_episode()
        # "drifting" neither extends nor ends a poor episode: it holds the clock where it is.

        if state == "poor" and self._poor_since is not None and not self.quiet():
            sustained = now - self._poor_since
            due = sustained >= self.settings.onset_delay_s and (
                self._last_nudge_at is None or now - self._last_nudge_at >= self.settings.cooldown_s
            )
            if due and self.count_today < self.settings.daily_cap:
                level = 1 if self._level_in_episode == 0 else 2
                top = self._dominant(reasons)
                nudge = Nudge(level, top, self._text(level, top))
                self.active = nudge
                self._level_in_episode = level
                self._last_nudge_at = now
                self.count_today += 1
                events.append(NudgeShown(now, self.clock.wall(), level, top, nudge.text))
        return events

    # -- helpers ----------------------------------------------------------------------------------
    def _reset_episode(self) -> None:
        self._poor_since = None
        self._level_in_episode = 0
        self._reason_time.clear()

    def _dominant(self, reasons: tuple[str, ...]) -> tuple[str, ...]:
        ranked = sorted(self._reason_time, key=lambda r: -self._reason_time[r])
        for r in reasons:
            if r not in ranked:
                ranked.append(r)
        return tuple(ranked[:2])

    def _text(self, level: int, reasons: tuple[str, ...]) -> str:
        key = reasons[0] if reasons else ""
        variants = GENTLE.get(key, GENERIC)
        i = self._variant.get(key, 0)
        self._variant[key] = i + 1
        text = variants[i % len(variants)]
        if level >= 2:
            text = f"Still slipping. {FIRM_TIPS.get(key, 'Stand up, roll your shoulders and reset your seat.')}"
        return text

    def _today(self) -> datetime:
        return local_datetime(self.clock.wall()).replace(hour=0, minute=0, second=0, microsecond=0)
