"""Repetition detection with hysteresis: rest → start → peak → return.

A repetition starts when the value stays past `enter` for two samples running (one stray frame is not a
movement), reaches its peak, and ends when the value comes back inside `exit`. Its start time is the
last moment the value was still at rest, so the tempo covers the whole movement, not only the part past
the threshold. The resting position is learnt from the first second of samples and then follows slow
drift while the person rests, never while a repetition is under way.

After the person has been out of view, the pose model's fit of the same resting position often comes
back a few percent off, and a movement may begin before any resting frame has been seen. Until a frame
at the old resting position turns up, a repetition is measured from the level it rose from (the most
resting frame seen since coming back), so it ends when it comes back there rather than a second later
by the "settled" rule, and that level becomes the resting position.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from posture.exercise.movements import Movement, absolute, relative, side_of
from posture.exercise.signals import Signals

BASELINE_SECONDS = 1.0
# While resting, the resting position follows slow drift (the person settling in the chair) with this
# time constant; a repetition never moves it.
REST_TAU_S = 3.0
# The person out of sight for this long in the middle of a repetition: it is dropped, not guessed.
MAX_GAP_S = 1.0
CONFIRM_SAMPLES = 2
# The peak is the highest mean over this much time: a position the person reached, not one frame's
# jitter (at 25 fps a single frame's turn angle wobbles by several degrees; at the 7.5 fps watching
# rate this is two frames).
PEAK_WINDOW_S = 0.2
# A repetition has ended once the value is back within this share of its peak (or inside `exit`,
# whichever is larger): the resting position after a movement is often a few degrees off the one
# before it, and waiting for the exact old position would merge two repetitions or miss the last.
RETURN_SHARE = 0.35
# Or once it is back below this share of its peak and has stayed within `exit` of itself for SETTLE_S.
SETTLED_SHARE = 0.6
SETTLE_S = 1.0
# A repetition is coming back once its newest frame has fallen below this share of its peak: from here the
# frames come at the full watching rate (movements with `resting_every`), so the end is seen promptly. The
# fit follows a squeeze's return late and then steeply (ex_coached_break, legacy: 84 % of the peak 0.2 s
# before the rendered shoulders were back to 35 %, 40 % 0.15 s after), so at 80 % the full rate began a
# frame too late and the message came 0.5-0.9 s after the movement; at 90 % it begins at the first frame
# clearly off the peak (the fit's noise at the peak is ~±10 % of it).
COMING_BACK_SHARE = 0.9


@dataclass(frozen=True, slots=True)
class Repetition:
    movement: str
    side: str | None  # "left" / "right" for sided movements
    start: float  # seconds on the source's timeline
    peak_t: float
    end: float
    peak: float  # |value| at the peak, in the movement's unit
    nodded: bool = False  # chin tucks: the head pitched instead of sliding back

    @property
    def seconds(self) -> float:
        return self.end - self.start


class RepDetector:
    """Feed `Signals` in time order (or `missing(t)` when no person was seen); collect repetitions."""

    def __init__(self, movement: Movement, side: str | None = None, rest: float | None = None) -> None:
        """`rest`: the resting value when it is known beforehand (0° of turn for a clip of someone who
        faces the camera between turns but starts mid-turn); otherwise it is learnt from the first second."""
        self.movement = movement
        self.only_side = side  # a "side bend to the right" step counts only that side
        self._warmup: list[float] = []
        self._warm_start: float | None = None
        self.rest: float | None = rest
        self._pitch_rest: float | None = None
        self._pitch_warm: list[float] = []
        self._last_t: float | None = None
        self._last_rest_t: float | None = None  # last time the value was inside `exit`
        self._pending = 0
        self._active = False
        self._start = 0.0
        self._peak = 0.0
        self._peak_t = 0.0
        self._sign = 0.0
        self._max_pitch = 0.0
        self._need_rest = False  # after a dropped repetition, wait for rest before counting again
        # Back in view after a gap and no frame at the old resting position yet (see the module's doc).
        self._regained = False
        self._base = 0.0  # signed level a repetition rose from, when it started while `_regained`
        self._window: list[tuple[float, float]] = []  # (t, signed value) within PEAK_WINDOW_S, while active
        self._trail: list[tuple[float, float]] = []  # (t, value) since the last resting sample
        self._recent: list[float] = []  # last raw samples, for movements that smooth
        self._recent_t: list[float] = []  # ... and their times
        self._unsmoothed: float | None = None  # the newest raw sample before the median, while smoothing
        self.value: float | None = None  # latest value relative to rest (for live displays)
        self.repetitions: list[Repetition] = []

    @property
    def active(self) -> bool:
        return self._active

    @property
    def returning(self) -> bool:
        """The newest frame is back past the return threshold but the median of three is not yet.

        The median needs a second frame to agree before the repetition ends (one stray frame never ends,
        or starts, a repetition); asking for that frame early is how the count follows the movement
        promptly at a low frame rate without counting on one frame alone.
        """
        if not self._active or self._unsmoothed is None or self.rest is None:
            return False
        v = relative(self.movement, self._unsmoothed, self.rest) * self._sign
        base = self._base_now()
        return v - base < max(self.movement.exit, RETURN_SHARE * (self._peak - base))

    @property
    def coming_back(self) -> bool:
        """A repetition is under way and the newest frame (before any smoothing) has fallen below
        COMING_BACK_SHARE of its peak: its end is near, and the message must follow it promptly."""
        if not self._active or self.rest is None:
            return False
        v = self.value if self._unsmoothed is None else relative(self.movement, self._unsmoothed, self.rest)
        if v is None:
            return False
        base = self._base_now()
        return v * self._sign - base < COMING_BACK_SHARE * (self._peak - base)

    @property
    def every(self) -> int:
        """Take every how-many-th frame of the watching rate next: the movement's `resting_every`, or every
        frame while a repetition is coming back."""
        return 1 if self.coming_back else self.movement.resting_every

    @property
    def ready(self) -> bool:
        return self.rest is not None

    def missing(self, t: float) -> None:
        """No usable person at `t`: a long enough gap abandons a repetition under way."""
        if self._active and self._last_t is not None and t - self._last_t > MAX_GAP_S:
            self._reset_active()
            self._need_rest = True
        self._pending = 0
        self.value = None

    def feed(self, s: Signals) -> Repetition | None:
        """One frame's signals; returns the repetition that ended on this frame, if any."""
        raw = self.movement.raw(s)
        if raw is None:
            self.missing(s.t)
            return None
        at = s.t  # the moment the value describes
        if self.movement.smooth:
            if self._last_t is not None and s.t - self._last_t > MAX_GAP_S:
                self._recent.clear()
                self._recent_t.clear()
            self._recent = [*self._recent[-2:], raw]
            self._recent_t = [*self._recent_t[-2:], s.t]
            self._unsmoothed = raw
            raw = statistics.median(self._recent)
            # The median of the last three samples describes the middle one: on the way out or back it is
            # that sample's value, a frame older than the newest. Starts, peaks and ends are placed at the
            # moment the value describes, not a frame late (the message still goes out on the newest frame).
            at = statistics.median(self._recent_t)
        if self._last_t is not None and s.t - self._last_t > MAX_GAP_S and self._active:
            self._reset_active()
            self._need_rest = True
        if self.rest is None:
            self._learn(raw, s)
            self._last_t = s.t
            return None
        v = relative(self.movement, raw, self.rest)
        self.value = v
        dt = 0.0 if self._last_t is None else max(0.0, s.t - self._last_t)
        if dt > MAX_GAP_S:
            # Back in view after a while away: the time away was not spent resting in view, so the resting
            # position does not jump to the first frame (the pose model's first look after finding the
            # person again is often a few percent off, and the movement may begin at once). Until a frame
            # at the old resting position is seen, a repetition is measured from the level it rose from.
            dt = 0.0
            self._regained = True
            self._trail = []
        self._last_t = s.t
        pitch = None if s.pitch is None or self._pitch_rest is None else s.pitch - self._pitch_rest
        return self._step(v, at, dt, raw, pitch, s.pitch)

    def finish(self, t: float) -> Repetition | None:
        """The stream ends (the step is over, the recording stopped): a repetition that is on its way
        back (past half its peak) counts; one still near its peak does not."""
        if not self._active or self.value is None:
            return None
        base = self._base_now()
        if self.value * self._sign - base > 0.5 * (self._peak - base):
            self._reset_active()
            return None
        m = self.movement
        rep = Repetition(m.key, side_of(m, self._sign), round(self._start, 3), round(self._peak_t, 3),
                         round(self._last_t if self._last_t is not None else t, 3), round(self._peak - base, 2),
                         nodded=m.pitch_limit is not None and self._max_pitch > m.pitch_limit)
        self._reset_active()
        self.repetitions.append(rep)
        return rep

    # --- internals ---------------------------------------------------------------------------------

    def _learn(self, raw: float, s: Signals) -> None:
        if self._warm_start is None:
            self._warm_start = s.t
        self._warmup.append(raw)
        if s.pitch is not None:
            self._pitch_warm.append(s.pitch)
        if s.t - self._warm_start >= BASELINE_SECONDS and len(self._warmup) >= 3:
            self.rest = statistics.median(self._warmup)
            self._pitch_rest = statistics.median(self._pitch_warm) if self._pitch_warm else None
            self._last_rest_t = s.t

    def _counts(self, v: float) -> bool:
        if abs(v) < self.movement.enter:
            return False
        if not self.movement.sided:
            return v > 0
        return self.only_side is None or side_of(self.movement, v) == self.only_side

    def _step(self, v: float, t: float, dt: float, raw: float, pitch: float | None,
              raw_pitch: float | None) -> Repetition | None:
        m = self.movement
        if not self._active:
            # A one-sided movement rests anywhere short of `exit`, including the other way (a head that
            # settles a little nearer the camera after a chin tuck is resting, not tucking less).
            resting = abs(v) < m.exit if m.sided else v < m.exit
            if resting:
                self._last_rest_t = t
                self._need_rest = False
                self._regained = False
                self._drift(raw, raw_pitch, dt)
                self._trail = [(t, v)]
            else:
                self._trail.append((t, v))
            if self._counts(v) and not self._need_rest:
                self._pending += 1
                if self._pending >= CONFIRM_SAMPLES:
                    self._active = True
                    self._sign = 1.0 if v > 0 else -1.0
                    # Started before any resting frame since coming back into view: the level it rose
                    # from is the lowest seen since then (only an offset towards the movement matters:
                    # the other way, the old threshold is reached sooner anyway).
                    self._base = max(0.0, min(wv * self._sign for _, wv in self._trail)) if (
                        self._regained and self._trail) else 0.0
                    self._start = self._last_rest_t if self._last_rest_t is not None else t
                    self._peak, self._peak_t = abs(v), t
                    self._window = [(t, abs(v))]
                    self._max_pitch = abs(pitch) if pitch is not None else 0.0
            else:
                self._pending = 0
            return None
        signed = v * self._sign
        self._trail.append((t, v))
        self._window = [(wt, wv) for wt, wv in self._window if t - wt < PEAK_WINDOW_S - 1e-9] + [(t, signed)]
        level = sum(wv for _, wv in self._window) / len(self._window)
        if level > self._peak:
            self._peak, self._peak_t = level, (self._window[0][0] + t) / 2
        if pitch is not None:
            self._max_pitch = max(self._max_pitch, abs(pitch))
        # With frames to spare (3 or more within the peak window, i.e. 15 fps and up) the return is judged
        # on the same short mean as the peak, so one jittery frame does not split a turn in two; at the
        # watching rate (7.5 fps) every frame counts at once, for a prompt message.
        back = level if len(self._window) >= 3 else signed
        base = self._base_now()
        returned = back - base < max(m.exit, RETURN_SHARE * (self._peak - base))
        settled_at = None if returned else self._settled_short(t)
        if settled_at is not None or returned:
            end = t if settled_at is None else settled_at
            rep = Repetition(
                m.key, side_of(m, self._sign), round(self._rise_start(), 3), round(self._peak_t, 3), round(end, 3),
                round(self._peak - base, 2),
                nodded=m.pitch_limit is not None and self._max_pitch > m.pitch_limit,
            )
            self._reset_active()
            self._last_rest_t = t
            if settled_at is not None:
                self.rest = raw  # where the person now rests; else the plateau would start the next one
            elif base > 0 and self.rest is not None:
                # The level it rose from is where this person rests now, as the model sees them.
                self.rest = absolute(m, base * self._sign, self.rest)
                self._regained = False
            self.repetitions.append(rep)
            return rep
        return None

    def _base_now(self) -> float:
        """The level the current repetition is measured from: 0 (the resting position), or after a gap
        the level it rose from, once it has risen at least a start threshold above that level (a person
        who comes back into view holding the movement has no lower level to come back to)."""
        if self._base > 0 and self._peak - self._base >= self.movement.enter:
            return self._base
        return 0.0

    def _settled_short(self, t: float) -> float | None:
        """Came most of the way back and has held still there for SETTLE_S: the person rests a little
        off their earlier resting position (shoulders that stay a touch back after a squeeze, or the pose
        model settling on a slightly different fit), which is the end of the repetition, not a hold.
        Returns when it settled there (the repetition's end), or None."""
        recent = [(wt, wv * self._sign) for wt, wv in self._trail if t - wt <= SETTLE_S + 1e-9]
        if len(recent) < 3 or self._trail[0][0] > t - SETTLE_S or t - self._peak_t < SETTLE_S:
            return None
        values = [wv for _, wv in recent]
        if max(values) < SETTLED_SHARE * self._peak and max(values) - min(values) < self.movement.exit:
            return recent[0][0]
        return None

    def _rise_start(self) -> float:
        """When the movement left rest, judged like its return: the last sample before the peak that was
        within `RETURN_SHARE` of the peak (or inside `exit`). A short, jittery rest before the movement
        would otherwise put the start at the end of the previous repetition."""
        level = max(self.movement.exit, RETURN_SHARE * self._peak)
        before = [wt for wt, wv in self._trail if wt <= self._peak_t and wv * self._sign < level]
        return max(before) if before else self._start

    def _drift(self, raw: float, raw_pitch: float | None, dt: float) -> None:
        if self.rest is None or dt <= 0:
            return
        a = min(1.0, dt / REST_TAU_S)
        self.rest += a * (raw - self.rest)
        if raw_pitch is not None and self._pitch_rest is not None:
            self._pitch_rest += a * (raw_pitch - self._pitch_rest)

    def _reset_active(self) -> None:
        self._base = 0.0
        self._window = []
        self._active = False
        self._pending = 0
        self._peak = 0.0
