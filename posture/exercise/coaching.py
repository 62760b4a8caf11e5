"""What to say while a movement step is watched: the count, "a little further", "slower", "not seen".

The person's own earlier breaks are the only yardstick. "A little further" is said only when a
repetition stays well short of what this person has comfortably done before, never against a textbook
range, and never more than once a step; a repetition well past their usual range gets a reminder to stay
comfortable instead of praise. With no history the coach counts and watches the tempo, nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass

from posture.exercise.movements import MOVEMENTS, Movement
from posture.exercise.reps import RepDetector, Repetition
from posture.exercise.signals import Signals

# Below this share of the person's usual peak (the median of their last breaks) a repetition is short.
SHORT_SHARE = 0.75
# Past this share of the usual peak: a reminder that further is not the goal.
PAST_USUAL_SHARE = 1.3
# No usable person for this long: ask whether they are in view.
NOT_SEEN_S = 1.5

NOT_SEEN_TEXT = "not seen — are you in view?"


@dataclass(frozen=True, slots=True)
class CoachMessage:
    """One thing to show or print. `kind`: count, further, slower, easy, nod, not_seen, seen, done."""

    t: float
    kind: str
    text: str
    repetition: Repetition | None = None


class StepCoach:
    """Coaching for one movement step of a routine.

    Feed it `Signals` (or `missing(t)` when no person is seen) at the camera's pace; it returns the
    messages caused by each frame. `usual` holds the person's typical peak per side ("left", "right", or
    None for one-sided movements) from earlier breaks; empty when there is no history yet.
    """

    def __init__(self, movement: str, target: int, usual: dict[str | None, float] | None = None,
                 side: str | None = None) -> None:
        self.movement: Movement = MOVEMENTS[movement]
        self.target = max(1, target)
        self.usual = dict(usual or {})
        self.detector = RepDetector(self.movement, side)
        self.counted: list[Repetition] = []
        self._last_seen: float | None = None
        self._first_t: float | None = None
        self._warned_not_seen = False
        self._said_further = False
        self._said_easy = False
        self.latest: CoachMessage | None = None

    @property
    def count(self) -> int:
        return len(self.counted)

    @property
    def done(self) -> bool:
        return self.count >= self.target

    def progress_text(self) -> str:
        return f"{self.count} of {self.target}"

    def feed(self, s: Signals | None, t: float) -> list[CoachMessage]:
        if self._first_t is None:
            self._first_t = t
        if s is None or self.movement.raw(s) is None:
            self.detector.missing(t)
            since = t - (self._last_seen if self._last_seen is not None else self._first_t)
            if since >= NOT_SEEN_S and not self._warned_not_seen:
                self._warned_not_seen = True
                return self._say(CoachMessage(t, "not_seen", NOT_SEEN_TEXT))
            return []
        self._last_seen = t
        out: list[CoachMessage] = []
        if self._warned_not_seen:
            self._warned_not_seen = False
            out.append(CoachMessage(t, "seen", f"seen again — {self.progress_text()}"))
        rep = self.detector.feed(s)
        if rep is not None:
            out.extend(self._on_rep(rep))
        for m in out:
            self._say(m)
        return out

    def _say(self, m: CoachMessage) -> list[CoachMessage]:
        self.latest = m
        return [m]

    def _on_rep(self, rep: Repetition) -> list[CoachMessage]:
        t = rep.end
        if rep.nodded:
            return [CoachMessage(t, "nod", "keep your eyes level: slide the head back rather than nodding", rep)]
        self.counted.append(rep)
        count = CoachMessage(t, "done" if self.done else "count",
                             f"{self.progress_text()}" + (" — well done" if self.done else ""), rep)
        extra: list[CoachMessage] = []
        if rep.seconds < self.movement.min_seconds:
            extra.append(CoachMessage(t, "slower", "slower — glide out, pause, glide back", rep))
        usual = self.usual.get(rep.side)
        if usual is not None and usual > 0:
            if rep.peak < SHORT_SHARE * usual and not self._said_further and not self.done:
                self._said_further = True
                extra.append(CoachMessage(t, "further", self.movement.further, rep))
            elif rep.peak > PAST_USUAL_SHARE * usual and not self._said_easy:
                self._said_easy = True
                extra.append(CoachMessage(t, "easy", "further than usual — only as far as stays comfortable", rep))
        return [count, *extra]
