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
# A side of the comparison counts only when its samples cover at least half of the window and are not
# a handful: "10 min after" from 7 s of data (a recording that ended right after the break) is no
# measurement, so that side stays empty and no difference is claimed.
MIN_COVERAGE = 0.5
MIN_SAMPLES = 20


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
                 window_s: float = WINDOW_S, min_samples: int = MIN_SAMPLES,
                 min_coverage: float = MIN_COVERAGE) -> BreakEffect:
    """Mean score over [start - window, start) against (end, end + window]; a side whose samples cover
    less than half its window (or are fewer than `MIN_SAMPLES`) has no mean, and then no delta."""
    if ended_wall < started_wall:
        raise ValueError("a break cannot end before it starts")
    before: list[float] = []
    after: list[float] = []
    before_walls: list[float] = []
    after_walls: list[float] = []
    for s in samples:
        if s.score is None or s.state == "away":
            continue
        if started_wall - window_s <= s.wall < started_wall:
            before.append(s.score)
            before_walls.append(s.wall)
        elif ended_wall < s.wall <= ended_wall + window_s:
            after.append(s.score)
            after_walls.append(s.wall)
    mean_before = _mean_if_enough(before, before_walls, min_samples, min_coverage * window_s)
    mean_after = _mean_if_enough(after, after_walls, min_samples, min_coverage * window_s)
    delta = None if mean_before is None or mean_after is None else mean_after - mean_before
    return BreakEffect(mean_before, mean_after, delta, len(before), len(after))


def _mean_if_enough(scores: list[float], walls: list[float], min_samples: int, min_span_s: float) -> float | None:
    if not scores or len(scores) < min_samples or max(walls) - min(walls) < min_span_s:
        return None
    return sum(scores) / len(scores)


def effect_event(effect: BreakEffect, t: float, wall: float, routine_id: str) -> BreakEffectMeasured:
    """The 'break_effect' event for history, once the window after the break has passed."""
    def r(v: float | None) -> float | None:
        return None if v is None else round(v, 1)

    return BreakEffectMeasured(t, wall, routine=routine_id, before=r(effect.before), after=r(effect.after),
                               delta=r(effect.delta), n_before=effect.n_before, n_after=effect.n_after)
