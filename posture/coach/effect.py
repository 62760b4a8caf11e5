"""'Did it help?': posture score in the minutes before a break against the minutes after it.

A plain comparison of means, not a trial: it shows a person whether their posture tends to be better
after a break, nothing more. Samples without a score, or with the person away, are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from posture.events import BreakEffectMeasured

WINDOW_S = 10 * 60.0


class Scored(Protocol):
    """Anything with a wall time, a score and a state: a `PostureSample` or a history row."""

    @property
    def wall(self) -> float: ...

    @property
    def score(self) -> float | None: ...

    @property
    def state(self) -> str: ...


@dataclass(frozen=True, slots=True)
class BreakEffect:
    before: float | None  # mean score in the window before the break started
    after: float | None  # mean score in the window after it ended
    delta: float | None  # after - before; positive means better posture after the break
    n_before: int
    n_after: int

    def to_json(self) -> dict[str, float | int | None]:
        def r(v: float | None) -> float | None:
            return None if v is None else round(v, 1)

        return {"before": r(self.before), "after": r(self.after), "delta": r(self.delta),
                "n_before": self.n_before, "n_after": self.n_after}


def break_effect(samples: Iterable[Scored], started_wall: float, ended_wall: float,
                 window_s: float = WINDOW_S) -> BreakEffect:
    """Mean score over [start - window, start) against (end, end + window]."""
    if ended_wall < started_wall:
        raise ValueError("a break cannot end before it starts")
    before: list[float] = []
    after: list[float] = []
    for s in samples:
        if s.score is None or s.state == "away":
            continue
        if started_wall - window_s <= s.wall < started_wall:
            before.append(s.score)
        elif ended_wall < s.wall <= ended_wall + window_s:
            after.append(s.score)
    mean_before = sum(before) / len(before) if before else None
    mean_after = sum(after) / len(after) if after else None
    delta = None if mean_before is None or mean_after is None else mean_after - mean_before
    return BreakEffect(mean_before, mean_after, delta, len(before), len(after))


def effect_event(effect: BreakEffect, t: float, wall: float, routine_id: str) -> BreakEffectMeasured:
    """The 'break_effect' event for history, once the window after the break has passed."""
    def r(v: float | None) -> float | None:
        return None if v is None else round(v, 1)

    return BreakEffectMeasured(t, wall, routine=routine_id, before=r(effect.before), after=r(effect.after),
                               delta=r(effect.delta), n_before=effect.n_before, n_after=effect.n_after)
