"""Measures every break's effect once the ten minutes after it have passed, from the live samples.

Keeps only the last ~25 minutes of (wall, score, state) in memory, so an all-day run stays flat.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from posture.coach.effect import WINDOW_S, break_effect, effect_event
from posture.events import BreakCompleted, Event
from posture.samples import PostureSample


@dataclass(frozen=True, slots=True)
class _Point:
    wall: float
    score: float | None
    state: str


@dataclass(frozen=True, slots=True)
class _Pending:
    routine: str
    started_wall: float
    ended_wall: float


class EffectTracker:
    def __init__(self, window_s: float = WINDOW_S) -> None:
        self.window = window_s
        self._points: deque[_Point] = deque()
        self._pending: list[_Pending] = []

    def add(self, sample: PostureSample) -> None:
        self._points.append(_Point(sample.wall, sample.score, sample.state))
        horizon = sample.wall - 2.5 * self.window
        while self._points and self._points[0].wall < horizon:
            self._points.popleft()

    def break_completed(self, event: BreakCompleted) -> None:
        self._pending.append(_Pending(event.routine, event.started_wall, event.wall))

    def due(self, t: float, wall: float, final: bool = False) -> list[Event]:
        """Effects whose after-window has passed (all of them when `final`, with what was seen)."""
        out: list[Event] = []
        keep: list[_Pending] = []
        for p in self._pending:
            if final or wall >= p.ended_wall + self.window:
                eff = break_effect(self._points, p.started_wall, p.ended_wall, self.window)
                out.append(effect_event(eff, t, wall, p.routine))
            else:
                keep.append(p)
        self._pending = keep
        return out
