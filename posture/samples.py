"""What flows out of the engine: one `PostureSample` per analysed frame (events are in `posture.events`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from posture.events import Event as Event  # re-exported: the union lives in posture.events

State = Literal["good", "drifting", "poor", "away", "unknown"]
STATES: tuple[State, ...] = ("good", "drifting", "poor", "away", "unknown")
View = Literal["front", "side"]

# Plain-word reasons (keys are stable identifiers stored in history; the UI shows the labels).
REASONS: dict[str, str] = {
    "head_forward": "head forward",
    "head_dropped": "head dropped",
    "tilted_left": "head tilted left",
    "tilted_right": "head tilted right",
    "leaning_left": "leaning left",
    "leaning_right": "leaning right",
    "too_close": "too close to the screen",
    "shoulders_uneven": "shoulders uneven",
    # Why a sample could not be judged (state `unknown`); see posture/judgeable.py.
    "too_dark": "too dark to judge",
    "too_blurred": "picture too blurred to judge",
    "too_small": "too far from the camera to judge",
    "unclear": "picture too unclear to judge",
    "turned_away": "turned away from the camera",
}



@dataclass(frozen=True, slots=True)
class PostureSample:
    """One analysed moment.

    `t` is seconds on the source's own timeline (video position, or monotonic time for a live camera);
    `wall` is epoch seconds, what history and reports use.
    """

    t: float
    wall: float
    person: bool
    view: str | None = None
    metrics: dict[str, float | None] = field(default_factory=dict)
    score: float | None = None
    raw_score: float | None = None
    raw_state: str | None = None
    state: str = "unknown"
    reasons: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "t": round(self.t, 3),
            "person": self.person,
            "metrics": {k: (None if v is None else round(v, 4)) for k, v in self.metrics.items()},
            "view": self.view,
            "score": None if self.score is None else round(self.score, 1),
            "raw_score": None if self.raw_score is None else round(self.raw_score, 1),
            "raw_state": self.raw_state,
            "state": self.state,
            "reasons": list(self.reasons),
        }
