"""The movements a break can watch, and how each one turns frame signals into one number to follow.

Each movement's value is relative to the person's own resting position (the `Baseline`), so a camera
placed off to one side, a head that rests a little tilted or a narrow webcam view does not count as
movement. Thresholds are the smallest deliberate movement we count (`enter`) and the point where the
person is back at rest (`exit`); the gap between them is the hysteresis that keeps a wobble at the
threshold from counting twice. They are deliberately low: we count what the person does, and we never
ask for a particular angle.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from posture.exercise.signals import Signals


@dataclass(frozen=True, slots=True)
class Movement:
    key: str
    name: str  # for people: "slow turns"
    unit: str  # "°" or "%"
    sided: bool  # + and - are the person's left and right, counted as separate sides
    enter: float  # |value| that starts a repetition
    exit: float  # |value| below which it has ended
    min_seconds: float  # a repetition shorter than this (start to end) is rushed
    raw: Callable[[Signals], float | None]  # the signal followed, before the baseline
    log_scale: bool = False  # value = -100 * ln(raw / rest): a shrink in percent
    invert: bool = False  # value = rest - raw (times 100) instead of raw - rest
    further: str = "a little further"  # what to say when a repetition is well short of the usual
    # Chin tucks: a nod bigger than this (nose drop below the ear line, in half ear distances) does not
    # count. The nose stands ~100 mm in front of ears ~72 mm from the midline, so 0.25 is a nod of ~10°.
    pitch_limit: float | None = None
    # Median of the last 3 samples: the size measures jitter by a few percent from frame to frame, as
    # much as a small chin tuck. Costs one frame of delay, so only the size-based movements use it.
    smooth: bool = False
    # Measured partly on the face detector's keypoints (turn, tilt, nod, the ears over the shoulders);
    # a squeeze is shoulders and head size from the pose alone, so its steps skip the face detector.
    uses_face: bool = True
    # Found afresh in every frame rather than tracked from the previous frame's fit (see
    # `posture.exercise.watch.make_watch_pose`): for a movement of a few percent of the shoulder width,
    # which the tracked fit's slow wander under a real camera's sensor noise is as big and as slow as.
    fresh_fit: bool = False
    # Watched at 1/`resting_every` of the watching rate except while a repetition is coming back (see
    # `RepDetector.coming_back`). A fresh fit costs ~1.6x a tracked one (the person detector runs as well as
    # the landmark model: ~52 against ~32 ms of CPU a frame on a 2-core AMD EPYC), so at the full 7.5 frames
    # a second squeeze steps took ~40 % of a core (budget 25 %). Only the return needs the full rate: the
    # message must follow the end within 300 ms, while a start is dated back to the last resting frame
    # whenever it is seen and a peak held for a second is found at either rate.
    resting_every: int = 1


def _yaw(s: Signals) -> float | None:
    return s.yaw_deg


def _roll(s: Signals) -> float | None:
    return s.roll_deg


def _size(s: Signals) -> float | None:
    return s.face_size


def _neck(s: Signals) -> float | None:
    return s.neck


def _span(s: Signals) -> float | None:
    return s.shoulder_span


MOVEMENTS: dict[str, Movement] = {
    m.key: m
    for m in (
        Movement("turn", "slow turns", "°", True, enter=15.0, exit=6.0, min_seconds=1.6, raw=_yaw,
                 further="turn a little further, if it stays comfortable"),
        Movement("side_bend", "side bends", "°", True, enter=8.0, exit=3.5, min_seconds=1.6, raw=_roll,
                 further="let the ear drift a little further, if it stays comfortable"),
        Movement("chin_tuck", "chin tucks", "%", False, enter=3.5, exit=1.5, min_seconds=1.2, raw=_size,
                 log_scale=True, smooth=True, further="slide the chin back a little further, if it is comfortable",
                 pitch_limit=0.25),
        Movement("shoulder_roll", "shoulder rolls", "%", False, enter=3.0, exit=1.2, min_seconds=1.2, raw=_neck,
                 log_scale=True, smooth=True, further="let the roll be a little bigger, if it is comfortable"),
        Movement("squeeze", "shoulder-blade squeezes", "%", False, enter=3.5, exit=1.5, min_seconds=1.2,
                 raw=_span, log_scale=True, smooth=True, uses_face=False, fresh_fit=True, resting_every=2,
                 further="draw the shoulder blades a little further back, gently"),
    )
}
# When two movements both seem to happen at once in a free recording, the first one in this order is
# what the person did (a turn also moves the ears, a side bend also lowers them a little).
PRIORITY: tuple[str, ...] = tuple(MOVEMENTS)
# What a free recording is searched for unless movements are named. Turns and side bends are angles of
# the head and stand out from anything else a person does at a desk. Chin tucks, squeezes and shoulder
# rolls each move the same few measures (head size, shoulder width, neck length) by a few percent, and
# in a recording where any of them may happen they are taken for one another; they are found when the
# movement is named, as each step of a guided break names it.
FREE_DEFAULT: tuple[str, ...] = ("turn", "side_bend")


def relative(movement: Movement, raw: float, rest: float) -> float:
    """The movement's value for a raw signal, given the resting value."""
    if movement.log_scale:
        if raw <= 0 or rest <= 0:
            return 0.0
        return -100.0 * math.log(raw / rest)
    if movement.invert:
        return 100.0 * (rest - raw)
    return raw - rest


def absolute(movement: Movement, value: float, rest: float) -> float:
    """The raw signal for a movement's value given the resting value: the inverse of `relative`."""
    if movement.log_scale:
        return rest * math.exp(-value / 100.0)
    if movement.invert:
        return rest - value / 100.0
    return rest + value


def side_of(movement: Movement, value: float) -> str | None:
    if not movement.sided:
        return None
    return "left" if value > 0 else "right"
