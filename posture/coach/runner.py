"""Guide a person through one routine, step by step, on the injected clock.

The UI (or the terminal) calls `tick()` as often as it likes, typically 4-10 times a second, and renders
the events it returns. Time only comes from the clock, so a paused runner does not lose the person's
place and a fast fake clock runs a routine in milliseconds.

Breath steps are paced `INHALE_S` in, `EXHALE_S` out; a `BreathCue` is emitted at each phase change.

`hold_longer()` lets the person stay on a step that is doing them good (the sources say to linger on
a tight spot): it adds `HOLD_LONGER_BREATHS` breaths to a breath-paced step, `HOLD_LONGER_S` seconds to
a timed one, as often as asked, up to `MAX_HOLD_S` extra on one step.
"""

from __future__ import annotations

from dataclasses import dataclass

from posture.clock import Clock
from posture.coach.routines import EXHALE_S, INHALE_S, SECONDS_PER_BREATH, Routine, Step

HOLD_LONGER_BREATHS = 3
HOLD_LONGER_S = HOLD_LONGER_BREATHS * SECONDS_PER_BREATH
MAX_HOLD_S = 4 * HOLD_LONGER_S  # past two extra minutes on one spot, moving on is the better advice


@dataclass(frozen=True, slots=True)
class StepStarted:
    index: int  # 0-based
    count: int
    step: Step


@dataclass(frozen=True, slots=True)
class BreathCue:
    phase: str  # "inhale" or "exhale"
    breath: int  # 1-based
    of: int
    seconds: int  # how long this phase lasts


@dataclass(frozen=True, slots=True)
class StepExtended:
    index: int  # 0-based
    seconds: int  # added now
    length: int  # the step's new length in seconds


@dataclass(frozen=True, slots=True)
class Tick:
    step_remaining: float
    remaining: float  # whole routine


@dataclass(frozen=True, slots=True)
class RoutineFinished:
    completed: bool  # reached the end (possibly with skipped steps) rather than being stopped
    steps_done: int
    steps_skipped: int
    seconds: float  # time spent, pauses excluded


RunnerEvent = StepStarted | BreathCue | StepExtended | Tick | RoutineFinished


class RoutineRunner:
    """Steps through a routine: `start()`, then `tick()` until a `RoutineFinished` comes out.

    `pause()`/`resume()` freeze the countdown, `skip_step()` moves on, `stop()` ends it early. Every
    method returns the events it caused, so the caller has one place to render from.
    """

    def __init__(self, routine: Routine, clock: Clock) -> None:
        if not routine.steps:
            raise ValueError(f"routine '{routine.id}' has no steps")
        self.routine = routine
        self._clock = clock
        self._index = -1
        self._step_elapsed = 0.0  # seconds spent in the current step, pauses excluded
        self._total_elapsed = 0.0
        self._last: float | None = None  # clock reading the elapsed counters were brought up to
        self._paused = False
        self._cue: tuple[int, str] | None = None
        self._extra_s = 0  # added to the current step by hold_longer()
        self._skipped = 0
        self._done = 0
        self.finished: RoutineFinished | None = None

    # --- state ---------------------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return self._index >= 0

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def step_index(self) -> int:
        return self._index

    @property
    def current_step(self) -> Step | None:
        if self.finished is not None or self._index < 0:
            return None
        return self.routine.steps[self._index]

    @property
    def step_length(self) -> int:
        """The current step's length in seconds, including any time added by `hold_longer()`."""
        step = self.current_step
        return 0 if step is None else step.duration + self._extra_s

    @property
    def step_breaths(self) -> int | None:
        """Breaths in the current step, including added ones; None for a timed step."""
        step = self.current_step
        if step is None or step.breaths is None:
            return None
        return step.breaths + self._extra_s // SECONDS_PER_BREATH

    @property
    def can_hold_longer(self) -> bool:
        return self.current_step is not None and self._extra_s + HOLD_LONGER_S <= MAX_HOLD_S

    @property
    def step_remaining(self) -> float:
        step = self.current_step
        return 0.0 if step is None else max(0.0, self.step_length - self._step_elapsed)

    @property
    def remaining(self) -> float:
        if self.finished is not None:
            return 0.0
        if self._index < 0:
            return float(self.routine.seconds)
        later = sum(s.duration for s in self.routine.steps[self._index + 1:])
        return self.step_remaining + later

    @property
    def completed(self) -> bool:
        return self.finished is not None and self.finished.completed

    # --- commands ------------------------------------------------------------------------------------

    def start(self) -> list[RunnerEvent]:
        if self.started:
            return []
        self._last = self._clock.monotonic()
        return [*self._enter(0), *self._cues(), Tick(self.step_remaining, self.remaining)]

    def tick(self) -> list[RunnerEvent]:
        """Bring the routine up to the clock: step changes, breath cues, then one `Tick`."""
        if self.finished is not None:
            return []
        events = self.start() if not self.started else []
        self._catch_up()
        while self.finished is None:
            if self._step_elapsed < self.step_length:
                break
            overflow = self._step_elapsed - self.step_length
            self._done += 1
            events += self._enter(self._index + 1, carry=overflow)
        if self.finished is None:
            events += self._cues()
            events.append(Tick(self.step_remaining, self.remaining))
        return events

    def pause(self) -> list[RunnerEvent]:
        if self.finished is not None or self._paused:
            return []
        events = self.tick() if self.started else []
        self._paused = True
        return events

    def resume(self) -> list[RunnerEvent]:
        if not self._paused:
            return []
        self._paused = False
        self._last = self._clock.monotonic()
        return self.tick() if self.started else []

    def skip_step(self) -> list[RunnerEvent]:
        if self.finished is not None:
            return []
        events = self.tick() if self.started else self.start()
        if self.finished is not None:
            return events
        self._skipped += 1
        return events + self._enter(self._index + 1)

    def hold_longer(self) -> list[RunnerEvent]:
        """Stay longer on the current step (see the module docstring); nothing once at the limit."""
        if self.finished is not None:
            return []
        events = self.tick() if self.started else self.start()
        if self.finished is not None or not self.can_hold_longer:
            return events
        self._extra_s += HOLD_LONGER_S
        return [*events, StepExtended(self._index, HOLD_LONGER_S, self.step_length),
                Tick(self.step_remaining, self.remaining)]

    def stop(self) -> list[RunnerEvent]:
        if self.finished is not None:
            return []
        self._catch_up()
        return [self._finish(completed=False)]

    # --- internals -----------------------------------------------------------------------------------

    def _catch_up(self) -> None:
        now = self._clock.monotonic()
        if self._last is not None and not self._paused:
            delta = max(0.0, now - self._last)
            self._step_elapsed += delta
            self._total_elapsed += delta
        self._last = now

    def _enter(self, index: int, carry: float = 0.0) -> list[RunnerEvent]:
        if index >= len(self.routine.steps):
            return [self._finish(completed=True, overshoot=carry)]
        self._index = index
        self._step_elapsed = carry
        self._extra_s = 0
        self._cue = None
        return [StepStarted(index, len(self.routine.steps), self.routine.steps[index])]

    def _cues(self) -> list[RunnerEvent]:
        breaths = self.step_breaths
        if breaths is None:
            return []
        breath = min(int(self._step_elapsed // SECONDS_PER_BREATH), breaths - 1)
        phase = "inhale" if self._step_elapsed - breath * SECONDS_PER_BREATH < INHALE_S else "exhale"
        if self._cue == (breath, phase):
            return []
        self._cue = (breath, phase)
        return [BreathCue(phase, breath + 1, breaths, INHALE_S if phase == "inhale" else EXHALE_S)]

    def _finish(self, completed: bool, overshoot: float = 0.0) -> RoutineFinished:
        # A late tick does not lengthen the routine: time past the end of the last step is not counted.
        spent = round(self._total_elapsed - overshoot, 3)
        self.finished = RoutineFinished(completed, self._done, self._skipped, spent)
        return self.finished
