"""Everything the engine can tell the outside world, one frozen dataclass per kind, in one union.

Consumers `match` on the class; nothing downstream reads a string kind or digs in a dict. The JSON
contract (`posture analyze --json`, the history's event rows) is written in exactly one place,
`event_payload` / `event_json`, so a field cannot reach one output and miss another.

Every event carries `t` (seconds on the source's timeline, or monotonic seconds for a camera) and
`wall` (epoch seconds). `kind` is the stable identifier stored in history and written to JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar, TypeAlias

# What a payload value may be: the JSON scalars and lists of them (tuples are written as lists).
Scalar: TypeAlias = str | int | float | bool | None
JsonValue: TypeAlias = Scalar | list[Scalar] | list[str]
Payload: TypeAlias = dict[str, JsonValue]


class _Kind:
    """Shared by every event class: its stable `kind` and its payload (for history writers)."""

    __slots__ = ()
    kind: ClassVar[str]

    @property
    def data(self) -> Payload:
        return event_payload(self)  # type: ignore[arg-type]  # every subclass is a member of Event

    def to_json(self) -> Payload:
        return event_json(self)  # type: ignore[arg-type]


# -- nudges ------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class NudgeShown(_Kind):
    kind: ClassVar[str] = "nudge"
    t: float
    wall: float
    level: int
    reasons: tuple[str, ...]
    text: str


@dataclass(frozen=True, slots=True)
class NudgeWithdrawn(_Kind):
    """A shown nudge is taken back: the user sat up (also sent before `Recovery`), left, or judging stopped."""

    kind: ClassVar[str] = "nudge_withdrawn"
    t: float
    wall: float
    level: int
    reasons: tuple[str, ...]
    after_s: float | None = None


@dataclass(frozen=True, slots=True)
class Recovery(_Kind):
    kind: ClassVar[str] = "recovery"
    t: float
    wall: float
    level: int
    reasons: tuple[str, ...]
    after_s: float | None = None


@dataclass(frozen=True, slots=True)
class Paused(_Kind):
    """Watching paused: by the user for `minutes` (None: until resumed), or for `reason` (screen locked, an app)."""

    kind: ClassVar[str] = "pause"
    t: float
    wall: float
    minutes: float | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Resumed(_Kind):
    kind: ClassVar[str] = "resume"
    t: float
    wall: float
    reason: str | None = None  # the pause reason that ended (screen lock, app), if any
    after: str | None = None  # "pause" when a timed pause ran out


@dataclass(frozen=True, slots=True)
class Snoozed(_Kind):
    kind: ClassVar[str] = "snooze"
    t: float
    wall: float
    minutes: float | None
    until: float | None


# -- calibration -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Calibrated(_Kind):
    """A baseline is in force: from a span of the source (`span`) or a chosen profile (`source`)."""

    kind: ClassVar[str] = "calibration"
    t: float
    wall: float
    view: str
    source: str = "span"
    span: tuple[float, float] | None = None


@dataclass(frozen=True, slots=True)
class CalibrationMismatch(_Kind):
    kind: ClassVar[str] = "calibration_mismatch"
    t: float
    wall: float
    message: str = "calibration doesn't fit: recalibrate or switch profile"


@dataclass(frozen=True, slots=True)
class CalibrationFits(_Kind):
    """The setup matches the baseline again: a later mismatch is news again."""

    kind: ClassVar[str] = "calibration_fits"
    t: float
    wall: float


@dataclass(frozen=True, slots=True)
class RecalibrationSuggested(_Kind):
    """The light (`changed` = "light") or the framing ("framing") has changed a lot since calibration and
    stayed changed: judging goes on, but a new calibration would be fairer (posture/judgeable.py)."""

    kind: ClassVar[str] = "recalibration_suggested"
    t: float
    wall: float
    changed: str
    message: str


@dataclass(frozen=True, slots=True)
class CalibrationFailed(_Kind):
    kind: ClassVar[str] = "calibration_failed"
    t: float
    wall: float
    error: str


# -- the run -----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SessionStarted(_Kind):
    kind: ClassVar[str] = "session_start"
    t: float
    wall: float
    source: str


@dataclass(frozen=True, slots=True)
class SessionEnded(_Kind):
    kind: ClassVar[str] = "session_end"
    t: float
    wall: float


@dataclass(frozen=True, slots=True)
class CameraLost(_Kind):
    kind: ClassVar[str] = "camera_lost"
    t: float
    wall: float
    error: str
    retrying: bool


@dataclass(frozen=True, slots=True)
class CameraBack(_Kind):
    kind: ClassVar[str] = "camera_back"
    t: float
    wall: float


@dataclass(frozen=True, slots=True)
class CameraUnsettledNote(_Kind):
    """After opening, the picture kept changing brightness or colour past the bounded wait: not judged."""

    kind: ClassVar[str] = "camera_unsettled"
    t: float
    wall: float
    error: str


@dataclass(frozen=True, slots=True)
class BadFrame(_Kind):
    kind: ClassVar[str] = "bad_frame"
    t: float
    wall: float
    error: str


# -- breaks ------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class BreakSuggested(_Kind):
    kind: ClassVar[str] = "break_suggested"
    t: float
    wall: float
    routine: str
    break_kind: str  # "micro" or "neck_care"
    title: str
    text: str  # what the notification says
    seconds: int
    reason: str
    focus: str
    escalated: bool
    postponed: bool


@dataclass(frozen=True, slots=True)
class BreakStarted(_Kind):
    kind: ClassVar[str] = "break_started"
    t: float
    wall: float
    routine: str
    break_kind: str
    seconds: int
    suggested: bool


@dataclass(frozen=True, slots=True)
class BreakCompleted(_Kind):
    kind: ClassVar[str] = "break_completed"
    t: float
    wall: float
    routine: str
    break_kind: str
    finished: bool
    felt: str | None
    seconds: float
    started_wall: float


@dataclass(frozen=True, slots=True)
class BreakPostponed(_Kind):
    kind: ClassVar[str] = "break_postponed"
    t: float
    wall: float
    routine: str
    break_kind: str
    minutes: int


@dataclass(frozen=True, slots=True)
class BreakSkipped(_Kind):
    kind: ClassVar[str] = "break_skipped"
    t: float
    wall: float
    routine: str | None
    break_kind: str | None
    consecutive: int
    ignored: bool


@dataclass(frozen=True, slots=True)
class BreakEffectMeasured(_Kind):
    kind: ClassVar[str] = "break_effect"
    t: float
    wall: float
    routine: str
    before: float | None
    after: float | None
    delta: float | None
    n_before: int
    n_after: int


@dataclass(frozen=True, slots=True)
class NaturalBreak(_Kind):
    kind: ClassVar[str] = "natural_break"
    t: float
    wall: float
    away_s: float
    debt_paid_min: float
    withdrawn: str | None  # the routine of a suggestion the absence made moot


Event: TypeAlias = (
    NudgeShown | NudgeWithdrawn | Recovery | Paused | Resumed | Snoozed
    | Calibrated | CalibrationMismatch | CalibrationFits | CalibrationFailed | RecalibrationSuggested
    | SessionStarted | SessionEnded | CameraLost | CameraBack | CameraUnsettledNote | BadFrame
    | BreakSuggested | BreakStarted | BreakCompleted | BreakPostponed | BreakSkipped | BreakEffectMeasured
    | NaturalBreak
)
EVENT_TYPES: tuple[type[Event], ...] = (
    NudgeShown, NudgeWithdrawn, Recovery, Paused, Resumed, Snoozed,
    Calibrated, CalibrationMismatch, CalibrationFits, CalibrationFailed, RecalibrationSuggested,
    SessionStarted, SessionEnded, CameraLost, CameraBack, CameraUnsettledNote, BadFrame,
    BreakSuggested, BreakStarted, BreakCompleted, BreakPostponed, BreakSkipped, BreakEffectMeasured,
    NaturalBreak,
)
EVENT_KINDS: frozenset[str] = frozenset(cls.kind for cls in EVENT_TYPES)


def _value(v: object) -> JsonValue:
    if isinstance(v, tuple | list):
        return [x for x in v if x is None or isinstance(x, str | int | float | bool)]
    if v is None or isinstance(v, str | int | float | bool):
        return v
    return str(v)


def event_payload(e: Event) -> Payload:
    """The event's own fields, without `t`, `wall` and `kind`: what history stores beside the kind."""
    return {f.name: _value(getattr(e, f.name)) for f in fields(e) if f.name not in ("t", "wall")}


def event_json(e: Event) -> Payload:
    """The documented JSON form: {"t": seconds, "kind": ..., <fields>}."""
    out: Payload = {"t": round(e.t, 3), "kind": e.kind}
    out.update(event_payload(e))
    return out
