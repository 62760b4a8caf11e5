"""Injected time.

Everything that waits, debounces or schedules takes a `Clock`, so tests can drive hours of behaviour
through `FakeClock` in milliseconds and the app never calls `time` directly where behaviour depends on it.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards (for durations)."""

    def wall(self) -> float:
        """Seconds since the Unix epoch (for history, quiet hours and 'today')."""

    def sleep(self, seconds: float) -> None:
        """Wait; a fake clock just advances."""


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class FakeClock:
    """A clock that only moves when told to. `wall` starts at a fixed, readable date by default."""

    def __init__(self, wall_start: float | None = None, monotonic_start: float = 1000.0) -> None:
        if wall_start is None:
            wall_start = datetime(2026, 11, 23, 9, 0, 0).timestamp()
        self._mono = monotonic_start
        self._wall = wall_start

    def monotonic(self) -> float:
        return self._mono

    def wall(self) -> float:
        return self._wall

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        self._mono += seconds
        self._wall += seconds


def local_datetime(epoch_seconds: float) -> datetime:
    """Local, naive datetime for an epoch time: what a person reads on their own clock."""
    return datetime.fromtimestamp(epoch_seconds)
