"""The break scheduler: when to suggest a break, which one, and what happened to it.

A small state machine fed by `observe(sample)` and driven only by the injected clock (`sample.t` is
ignored: samples arrive at irregular rates, and a live camera's timeline is not the coach's).

Time accounting. The time between two observations is credited to what the earlier sample showed:
present (any state but "away") counts as sitting, "poor" also adds to the posture debt. An absence of
`away_reset_s` or more (measured from the last present sample, so a sleeping laptop counts too) is a
natural break: sitting time and both break timers restart and the debt is paid down by
`away_paydown` minutes per minute away. Shorter absences are not counted but reset nothing.

When to suggest (only while present, not paused, outside quiet hours, and at least `min_gap_min`
sitting minutes after the last break, or `micro_interval_min` after a skipped one):

1. `skip_limit` skips in a row: the shortest micro routine, `escalated_interval_min` after the last skip,
   once, with a word that this is the short one. Then the normal rhythm again.
2. `neck_care_after_min` sitting minutes since the last neck-care or natural break: a neck-care break.
3. `micro_interval_min` since the last break: a micro-break, except that
   - with a posture debt of `debt_threshold_min` or more it becomes a neck-care break (neck care is
     brought forward, yet never comes sooner than a micro-break would), and
   - when neck care is due within `min_gap_min` anyway, the micro-break waits for it rather than
     coming just before it.

States (`state`): "sitting" (counting), "away" (not seen just now), "quiet" (quiet hours), "paused",
"suggesting" (a `pending` suggestion waits for an answer), "postponed" (it comes back at a set time),
"on_break" (a routine is running). Transitions::

    sitting --due--> suggesting --accept/start--> on_break --complete--> sitting
                     suggesting --postpone(5|10)--> postponed --time up--> suggesting
                     suggesting|postponed --skip / no answer in answer_timeout_min--> sitting
                     suggesting|postponed --natural break or pause--> sitting (suggestion withdrawn)

Which routine: the posture reasons seen while drifting or poor since the last break pick the focus:
head forward / dropped / too close → "forward" (chin tucks); tilted, leaning or uneven shoulders →
"sideways" (side stretches, GB21); otherwise "general" (GB20, neck turns). The routine of the wanted kind
with that focus is chosen from the catalogue as filtered by the safety answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import date

from posture.clock import Clock, local_datetime
from posture.coach.routines import Catalogue, Routine
from posture.coach.safety import SafetyProfile, filter_catalogue
from posture.coach.safety import needs_screen as screened
from posture.events import (
    BreakCompleted,
    BreakPostponed,
    BreakSkipped,
    BreakStarted,
    BreakSuggested,
    Event,
    NaturalBreak,
)
from posture.quiet import QuietHours
from posture.samples import PostureSample

SITTING = "sitting"
AWAY = "away"
QUIET = "quiet"
PAUSED = "paused"
SUGGESTING = "suggesting"
POSTPONED = "postponed"
ON_BREAK = "on_break"

MICRO = "micro"
NECK_CARE = "neck_care"

FORWARD_REASONS = frozenset({"head_forward", "head_dropped", "too_close"})
SIDEWAYS_REASONS = frozenset({"tilted_left", "tilted_right", "leaning_left", "leaning_right",
                              "shoulders_uneven"})
FOCUS_MIN_S = 60.0  # a focus needs at least a minute of drifting/poor posture behind it
FEELINGS = ("better", "same", "worse")


@dataclass(frozen=True, slots=True)
class BreakSettings:
    """Break timing. Minutes are sitting minutes unless said otherwise; all fields are plain numbers."""

    micro_interval_min: float = 25.0  # sitting minutes between micro-breaks
    micro_min_s: int = 20  # preferred length of a micro-break routine, seconds
    micro_max_s: int = 40
    neck_care_after_min: float = 55.0  # sitting minutes before a neck-care break
    neck_care_min_s: int = 180  # preferred length of a neck-care routine, seconds
    neck_care_max_s: int = 300
    debt_threshold_min: float = 10.0  # minutes of poor posture that bring neck care forward
    min_gap_min: float = 10.0  # no suggestion sooner than this after a break ends
    away_reset_s: float = 120.0  # an absence this long is a natural break
    away_paydown: float = 2.0  # debt minutes paid back per minute away
    postpone_short_min: int = 5
    postpone_long_min: int = 10
    skip_limit: int = 3  # this many skips in a row bring one shorter, sooner suggestion
    escalated_interval_min: float = 10.0
    answer_timeout_min: float = 10.0  # an unanswered suggestion counts as skipped after this (clock minutes)

    def validate(self) -> None:
        """Raise ValueError naming the first field that makes no sense."""
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ValueError(f"{f.name} must be a positive number, got {value!r}")
        if self.micro_min_s > self.micro_max_s:
            raise ValueError(f"micro_min_s ({self.micro_min_s}) must not exceed micro_max_s "
                             f"({self.micro_max_s})")
        if self.neck_care_min_s > self.neck_care_max_s:
            raise ValueError(f"neck_care_min_s ({self.neck_care_min_s}) must not exceed neck_care_max_s "
                             f"({self.neck_care_max_s})")
        if self.neck_care_after_min <= self.min_gap_min:
            raise ValueError(f"neck_care_after_min ({self.neck_care_after_min}) must be longer than "
                             f"min_gap_min ({self.min_gap_min})")
        if self.min_gap_min > self.micro_interval_min:
            raise ValueError(f"min_gap_min ({self.min_gap_min}) must not exceed micro_interval_min "
                             f"({self.micro_interval_min})")
        if self.escalated_interval_min > self.micro_interval_min:
            raise ValueError(f"escalated_interval_min ({self.escalated_interval_min}) must not exceed "
                             f"micro_interval_min ({self.micro_interval_min})")
        for name in ("skip_limit", "postpone_short_min", "postpone_long_min", "micro_min_s", "micro_max_s",
                     "neck_care_min_s", "neck_care_max_s"):
            if not isinstance(getattr(self, name), int):
                raise ValueError(f"{name} must be a whole number, got {getattr(self, name)!r}")

    @property
    def postpone_choices(self) -> tuple[int, int]:
        return (self.postpone_short_min, self.postpone_long_min)


@dataclass(frozen=True, slots=True)
class BreakSuggestion:
    kind: str  # "micro" or "neck_care"
    routine_id: str
    title: str
    seconds: int
    reason: str  # "interval", "long_sitting", "posture_debt" or "after_skips"
    focus: str  # "forward", "sideways" or "general"
    text: str  # one or two friendly sentences for the notification
    escalated: bool
    needs_safety_screen: bool  # the full routine has steps the safety answers would unlock
    wall: float  # when it was (last) offered

    def event(self, t: float, *, postponed: bool) -> BreakSuggested:
        """The event that offers this suggestion, words and all (the tray and the terminal show `text`)."""
        return BreakSuggested(t, self.wall, routine=self.routine_id, break_kind=self.kind, title=self.title,
                              text=self.text, seconds=self.seconds, reason=self.reason, focus=self.focus,
                              escalated=self.escalated, postponed=postponed)


@dataclass(slots=True)
class DayCounters:
    day: date
    suggested: int = 0
    started: int = 0
    completed: int = 0
    skipped: int = 0
    postponed: int = 0
    natural_breaks: int = 0


@dataclass(frozen=True, slots=True)
class BreakStatus:
    """A snapshot for the UI."""

    state: str
    sitting_min: float
    debt_min: float
    next_break_in_s: float | None  # rough: assumes the person keeps sitting; None when not counting
    pending: BreakSuggestion | None
    consecutive_skips: int
    today: DayCounters


@dataclass(slots=True)
class _ActiveBreak:
    routine: Routine
    started_mono: float
    started_wall: float
    suggested: bool


@dataclass(slots=True)
class _Last:
    mono: float
    present: bool
    state: str
    reasons: tuple[str, ...] = field(default=())


class BreakScheduler:
    def __init__(self, clock: Clock, settings: BreakSettings, catalogue: Catalogue,
                 safety_profile: SafetyProfile | None = None, quiet_hours: QuietHours | None = None) -> None:
        settings.validate()
        self.settings = settings
        self._clock = clock
        self._base_catalogue = catalogue
        self._profile = safety_profile
        self.catalogue = filter_catalogue(catalogue, safety_profile)
        self.quiet_hours = quiet_hours or QuietHours()

        self._phase = SITTING
        self._paused = False
        self._last: _Last | None = None  # the previous observation
        self._last_present: float | None = None  # monotonic time of the last present sample
        self.sitting_s = 0.0  # continuous presence since the last natural break
        self.debt_s = 0.0  # poor-posture seconds not yet paid back
        self._since_break_s = 0.0  # sitting since the last break (taken, skipped or natural)
        self._since_neck_s = 0.0  # sitting since the last neck-care or natural break
        self._wait_s = settings.min_gap_min * 60  # sitting needed after the last break before a suggestion
        self._focus_s: dict[str, float] = {}
        self._escalate = False
        self.consecutive_skips = 0
        self.pending: BreakSuggestion | None = None
        self._suggested_at = 0.0
        self._postponed_until = 0.0
        self._break: _ActiveBreak | None = None
        self.today = DayCounters(self._today())

    # --- what the UI reads ---------------------------------------------------------------------------

    @property
    def state(self) -> str:
        if self._phase == ON_BREAK:
            return ON_BREAK
        if self._paused:
            return PAUSED
        if self._phase != SITTING:
            return self._phase
        if self._last is not None and not self._last.present:
            return AWAY
        if self.quiet_hours.active(self._clock.wall()):
            return QUIET
        return SITTING

    @property
    def debt_min(self) -> float:
        return self.debt_s / 60

    @property
    def active_routine(self) -> Routine | None:
        return self._break.routine if self._break else None

    def routine(self, routine_id: str) -> Routine | None:
        """A routine as this person should do it (safety-filtered)."""
        return self.catalogue.get(routine_id)

    def status(self) -> BreakStatus:
        self._roll_day()
        return BreakStatus(self.state, self.sitting_s / 60, self.debt_min, self._next_break_in(),
                           self.pending, self.consecutive_skips, self.today)

    # --- input ---------------------------------------------------------------------------------------

    def observe(self, sample: PostureSample) -> list[Event]:
        now = self._clock.monotonic()
        self._roll_day()
        events: list[Event] = []
        last = self._last
        if last is not None and last.present and not self._paused and self._phase != ON_BREAK:
            gap = now - last.mono
            if gap < self.settings.away_reset_s:
                self._accrue(gap, last.state, last.reasons)
        present = sample.state != "away"
        if present:
            if (self._last_present is not None and self._phase != ON_BREAK
                    and now - self._last_present >= self.settings.away_reset_s):
                events += self._natural_break(now - self._last_present)
            self._last_present = now
        self._last = _Last(now, present, sample.state, sample.reasons)
        if self._phase == SUGGESTING and now - self._suggested_at >= self.settings.answer_timeout_min * 60:
            events += self._skip(ignored=True)
        events += self._maybe_suggest(now)
        return events

    def set_paused(self, paused: bool) -> list[Event]:
        """Pause: nothing is counted and nothing suggested; a waiting suggestion is withdrawn."""
        if paused == self._paused:
            return []
        self._paused = paused
        if paused:
            if self._phase in (SUGGESTING, POSTPONED):
                # Withdrawn, not skipped; restart the timer so it does not pop up again on resume.
                self._phase = SITTING
                self.pending = None
                self._since_break_s = 0.0
                self._wait_s = max(self._wait_s, self.settings.min_gap_min * 60)
        else:
            # A pause is a blank: time in it is neither sitting nor absence.
            self._last = None
            self._last_present = None
        return []

    def set_quiet_hours(self, quiet_hours: QuietHours) -> None:
        self.quiet_hours = quiet_hours

    def set_safety_profile(self, profile: SafetyProfile | None) -> None:
        self._profile = profile
        self.catalogue = filter_catalogue(self._base_catalogue, profile)

    # --- answers to a suggestion ---------------------------------------------------------------------

    def accept(self) -> list[Event]:
        """Start the pending suggestion's routine. Nothing happens if none is pending (a stale click)."""
        if self.pending is None or self._phase not in (SUGGESTING, POSTPONED):
            return []
        routine = self.routine(self.pending.routine_id) or self._choose(self.pending.kind, self.pending.focus)
        if routine is None:
            return []
        return self.start(routine.id)

    def start(self, routine_id: str) -> list[Event]:
        """Start a routine, suggested or not. Raises ValueError for an id not in the filtered catalogue."""
        routine = self.routine(routine_id)
        if routine is None:
            raise ValueError(f"unknown routine {routine_id!r}; known: {', '.join(self.catalogue.ids())}")
        if self._phase == ON_BREAK:
            return []
        self._roll_day()
        suggested = self.pending is not None and self._phase in (SUGGESTING, POSTPONED)
        self._break = _ActiveBreak(routine, self._clock.monotonic(), self._clock.wall(), suggested)
        self._phase = ON_BREAK
        self.pending = None
        self.consecutive_skips = 0
        self._escalate = False
        self.today.started += 1
        return [BreakStarted(self._clock.monotonic(), self._clock.wall(), routine=routine.id, break_kind=routine.kind,
                             seconds=routine.seconds, suggested=suggested)]

    def complete(self, effect: str | None = None, *, finished: bool = True) -> list[Event]:
        """End the running break. `effect` is how the person felt ("better", "same", "worse"), if asked;
        `finished=False` records a break stopped part way (it still restarts the micro-break timer)."""
        if effect is not None and effect not in FEELINGS:
            raise ValueError(f"effect must be one of {', '.join(FEELINGS)} or None, got {effect!r}")
        if self._break is None:
            return []
        self._roll_day()
        active, self._break = self._break, None
        routine = active.routine
        if finished:
            self.today.completed += 1
            if routine.kind != MICRO:  # a longer routine counts as neck care and pays the debt
                self.debt_s = 0.0
                self._since_neck_s = 0.0
        self._since_break_s = 0.0
        self._wait_s = self.settings.min_gap_min * 60
        self._focus_s.clear()
        self._phase = SITTING
        self._last = None  # time on the break is not sitting
        now = self._clock.monotonic()
        if self._last_present is not None:
            self._last_present = now
        return [BreakCompleted(now, self._clock.wall(), routine=routine.id, break_kind=routine.kind, finished=finished,
                               felt=effect, seconds=round(now - active.started_mono, 1),
                               started_wall=active.started_wall)]

    def postpone(self, minutes: int) -> list[Event]:
        if minutes not in self.settings.postpone_choices:
            raise ValueError(f"postpone by {' or '.join(map(str, self.settings.postpone_choices))} minutes, "
                             f"not {minutes!r}")
        if self._phase != SUGGESTING or self.pending is None:
            return []
        self._roll_day()
        self._phase = POSTPONED
        self._postponed_until = self._clock.monotonic() + minutes * 60
        self.today.postponed += 1
        return [BreakPostponed(self._clock.monotonic(), self._clock.wall(), routine=self.pending.routine_id,
                               break_kind=self.pending.kind, minutes=minutes)]

    def skip(self) -> list[Event]:
        if self._phase not in (SUGGESTING, POSTPONED):
            return []
        self._roll_day()
        return self._skip(ignored=False)

    # --- internals -----------------------------------------------------------------------------------

    def _today(self) -> date:
        return local_datetime(self._clock.wall()).date()

    def _roll_day(self) -> None:
        today = self._today()
        if today != self.today.day:
            self.today = DayCounters(today)
            self.consecutive_skips = 0  # yesterday's skips do not colour today
            self._escalate = False

    def _accrue(self, seconds: float, state: str, reasons: tuple[str, ...]) -> None:
        self.sitting_s += seconds
        self._since_break_s += seconds
        self._since_neck_s += seconds
        if state == "poor":
            self.debt_s += seconds
        if state in ("poor", "drifting"):
            for focus in {_focus_of(r) for r in reasons} - {"general"}:
                self._focus_s[focus] = self._focus_s.get(focus, 0.0) + seconds

    def _natural_break(self, away_s: float) -> list[Event]:
        self.today.natural_breaks += 1
        paid = min(self.debt_s, away_s * self.settings.away_paydown)
        self.debt_s -= paid
        self.sitting_s = 0.0
        self._since_break_s = 0.0
        self._since_neck_s = 0.0
        self._wait_s = self.settings.min_gap_min * 60
        self._focus_s.clear()
        self.consecutive_skips = 0
        self._escalate = False
        withdrawn = self.pending.routine_id if self.pending else None
        self.pending = None
        if self._phase in (SUGGESTING, POSTPONED):
            self._phase = SITTING
        return [NaturalBreak(self._clock.monotonic(), self._clock.wall(), away_s=round(away_s, 1),
                             debt_paid_min=round(paid / 60, 2), withdrawn=withdrawn)]

    def _skip(self, ignored: bool) -> list[Event]:
        pending = self.pending
        self.consecutive_skips += 1
        self.today.skipped += 1
        self._since_break_s = 0.0
        self._escalate = self.consecutive_skips % self.settings.skip_limit == 0
        s = self.settings
        self._wait_s = (s.escalated_interval_min if self._escalate else s.micro_interval_min) * 60
        self.pending = None
        self._phase = SITTING
        return [BreakSkipped(self._clock.monotonic(), self._clock.wall(),
                             routine=pending.routine_id if pending else None,
                             break_kind=pending.kind if pending else None,
                             consecutive=self.consecutive_skips, ignored=ignored)]

    def _may_interrupt(self) -> bool:
        return (not self._paused and self._last is not None and self._last.present
                and not self.quiet_hours.active(self._clock.wall()))

    def _maybe_suggest(self, now: float) -> list[Event]:
        if not self._may_interrupt():
            return []
        if self._phase == POSTPONED and self.pending is not None and now >= self._postponed_until:
            self.pending = replace(self.pending, wall=self._clock.wall())
            self._phase = SUGGESTING
            self._suggested_at = now
            return [self.pending.event(now, postponed=True)]
        if self._phase != SITTING:
            return []
        due = self._due()
        if due is None:
            return []
        suggestion = self._suggestion(*due)
        if suggestion is None:
            return []
        self.pending = suggestion
        self._phase = SUGGESTING
        self._suggested_at = now
        self.today.suggested += 1
        return [suggestion.event(now, postponed=False)]

    def _due(self) -> tuple[str, str] | None:
        s = self.settings
        if self._since_break_s < self._wait_s:
            return None
        if self._escalate:
            return MICRO, "after_skips"
        neck_after = s.neck_care_after_min * 60
        if self._since_neck_s >= neck_after:
            return NECK_CARE, "long_sitting"
        if self._since_break_s < s.micro_interval_min * 60:
            return None
        if self.debt_s >= s.debt_threshold_min * 60:
            return NECK_CARE, "posture_debt"
        if self._since_neck_s >= neck_after - s.min_gap_min * 60:
            return None  # neck care is due within min_gap: the micro-break waits for it
        return MICRO, "interval"

    def _next_break_in(self) -> float | None:
        if self.state != SITTING:
            return None
        s = self.settings
        wait = self._wait_s - self._since_break_s
        if self._escalate:
            return max(0.0, wait)
        neck = max(wait, s.neck_care_after_min * 60 - self._since_neck_s)
        micro = max(wait, s.micro_interval_min * 60 - self._since_break_s)
        if (self.debt_s < s.debt_threshold_min * 60
                and self._since_neck_s + micro >= s.neck_care_after_min * 60 - s.min_gap_min * 60):
            micro = neck  # a micro-break that close to neck care waits for it
        return max(0.0, min(neck, micro))

    def _focus(self) -> str:
        if not self._focus_s:
            return "general"
        focus, seconds = max(self._focus_s.items(), key=lambda item: (item[1], item[0] == "forward"))
        return focus if seconds >= FOCUS_MIN_S else "general"

    def _choose(self, kind: str, focus: str, shortest: bool = False) -> Routine | None:
        s = self.settings
        if kind == MICRO:
            low, high = s.micro_min_s, s.micro_max_s
        else:
            low, high = s.neck_care_min_s, s.neck_care_max_s
        candidates = self.catalogue.of_kind(kind)
        if not candidates and kind == NECK_CARE:
            candidates = self.catalogue.of_kind(MICRO)
        if not candidates:
            return None
        if shortest:
            return min(candidates, key=lambda r: r.seconds)

        def rank(r: Routine) -> tuple[int, int]:
            match = 0 if r.focus == focus else 1 if r.focus == "general" else 2
            return (match, 0 if low <= r.seconds <= high else 1)

        return min(candidates, key=rank)  # min() keeps catalogue order among equals

    def _suggestion(self, kind: str, reason: str) -> BreakSuggestion | None:
        focus = self._focus()
        escalated = reason == "after_skips"
        routine = self._choose(kind, focus, shortest=escalated)
        if routine is None:
            return None
        full = self._base_catalogue.get(routine.id)
        needs_screen = self._profile is None and full is not None and screened(full)
        shown = full if needs_screen and full is not None else routine  # what runs once the questions are answered
        return BreakSuggestion(
            kind=routine.kind if routine.kind in (MICRO, NECK_CARE) else kind,
            routine_id=routine.id, title=shown.title, seconds=shown.seconds, reason=reason, focus=focus,
            text=self._text(shown, reason, focus), escalated=escalated, needs_safety_screen=needs_screen,
            wall=self._clock.wall())

    def _text(self, routine: Routine, reason: str, focus: str) -> str:
        length = _length_words(routine.seconds)
        if reason == "after_skips":
            return (f"The last {self.consecutive_skips} breaks slipped by, and that's fine. "
                    f"How about just {length}? {routine.title}.")
        lead = {
            "forward": "Your head has been creeping towards the screen. ",
            "sideways": "You've been leaning to one side for a while. ",
        }.get(focus, "")
        minutes = round(self.sitting_s / 60)
        if reason == "posture_debt":
            return f"{lead}Your neck has been working hard lately: {routine.title}, {length}."
        if reason == "long_sitting":
            return f"{lead}About {minutes} minutes at the desk. Time for {routine.title.lower()}, {length}."
        return f"{lead}{minutes} minutes in. A quick one: {routine.title.lower()}, {length}."


def _focus_of(reason: str) -> str:
    if reason in FORWARD_REASONS:
        return "forward"
    if reason in SIDEWAYS_REASONS:
        return "sideways"
    return "general"


def _length_words(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    return f"about {round(seconds / 60)} minutes"
