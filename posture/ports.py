"""What the engine needs from its collaborators, as Protocols: history, the break coach, the pause probe.

The Session is typed against these, never against the concrete classes, so the core does not import
the store's SQLite code, and a renamed method on the break coach is a type error at every call site.
`posture.store.writer.HistoryWriter`, `posture.coach.breaks.BreakScheduler` and
`posture.environment.Environment` satisfy them as they are; mypy checks it where the companion is
assembled (`posture.headless`, `posture.companion`, `ui.app`), so a renamed method breaks the build.
"""

from __future__ import annotations

from typing import Protocol

from posture.coach.breaks import BreakSettings, BreakSuggestion
from posture.coach.routines import Catalogue, Routine
from posture.coach.safety import SafetyProfile
from posture.events import Event
from posture.quiet import QuietHours
from posture.samples import PostureSample
from posture.settings import Settings


class HistorySink(Protocol):
    """Where samples and events are recorded (the SQLite history in the product)."""

    def add_sample(self, sample: PostureSample) -> None: ...

    def add_event(self, event: Event) -> None: ...

    def flush(self) -> bool: ...


class BreakCoach(Protocol):
    """The break scheduler as the Session and the UI use it."""

    settings: BreakSettings
    catalogue: Catalogue
    pending: BreakSuggestion | None

    @property
    def state(self) -> str: ...

    def observe(self, sample: PostureSample) -> list[Event]: ...

    def set_paused(self, paused: bool) -> list[Event]: ...

    def set_quiet_hours(self, quiet_hours: QuietHours) -> None: ...

    def set_safety_profile(self, profile: SafetyProfile | None) -> None: ...

    def routine(self, routine_id: str) -> Routine | None: ...

    def accept(self) -> list[Event]: ...

    def start(self, routine_id: str) -> list[Event]: ...

    def complete(self, effect: str | None = None, *, finished: bool = True) -> list[Event]: ...

    def postpone(self, minutes: int) -> list[Event]: ...

    def skip(self) -> list[Event]: ...


class PauseProbe(Protocol):
    """Says why watching should pause right now (screen locked, a listed app running), or None."""

    def pause_reason(self, settings: Settings) -> str | None: ...
