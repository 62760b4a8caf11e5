"""Adaptive sampling: look often while posture is changing or near a threshold, rarely while it is
steady and good, and only run the cheap face check while nobody is there.
"""

from __future__ import annotations

from dataclasses import dataclass

from posture.samples import PostureSample


@dataclass
class AdaptiveRate:
    fast_hz: float = 2.0
    slow_hz: float = 0.33
    # Run the full pose model at least this often while away, so a user the face check misses
    # (profile view, face turned away) is still found.
    away_pose_every_s: float = 10.0
    _interval: float = 0.0
    _steady_since: float | None = None
    _last_state: str | None = None
    _last_pose_t: float = -1e9

    def __post_init__(self) -> None:
        self._interval = 1.0 / self.fast_hz

    @property
    def interval(self) -> float:
        return self._interval

    def next_interval(self, sample: PostureSample) -> float:
        fast, slow = 1.0 / self.fast_hz, 1.0 / self.slow_hz
        if sample.state != self._last_state:
            self._steady_since = sample.t
            self._last_state = sample.state
        steady_good = (
            sample.state == "good"
            and sample.raw_state == "good"
            and sample.score is not None
            and sample.score >= 82
            and sample.raw_score is not None
            and abs(sample.raw_score - sample.score) < 10
        )
        if sample.state in ("away", "unknown") and sample.raw_state is None:
            # Nobody to judge: the presence check is cheap, so keep a moderate pace to notice a return.
            self._interval = min(slow, 1.0)
        elif steady_good and self._steady_since is not None and sample.t - self._steady_since >= 6.0:
            self._interval = min(slow, self._interval * 1.5)
        else:
            self._interval = fast
        return self._interval

    def wants_pose(self, t: float, last_state: str | None) -> bool:
        """While away, only run pose now and then; otherwise always."""
        return last_state != "away" or t - self._last_pose_t >= self.away_pose_every_s

    def pose_ran(self, t: float) -> None:
        self._last_pose_t = t
