"""The camera handover for a guided break started from the tray: the monitor lends the camera, the
break's coaching watches through it, and the monitor takes it back when the window closes.

Only a break whose routine has movement steps the camera can follow is watched, and only while the
camera is on (not paused, not busy or lost, not a replayed recording). The monitor releases the
device on its own thread (`Monitor.lend_camera`, paused_reason "break"); the break's feed opens it
only once that release is done, settles it before judging (posture/camera_settle.py), reads it at
the watching rate, and drops every frame after the pose is taken. Every open, read and close of the
break's capture happens on the GUI thread, and it is closed when the window closes (finish, skip,
close, or the app quitting: `CompanionApp.shutdown` closes the windows before stopping the monitor),
so nothing is left for a daemon thread to release at exit. The range of motion is stored through the
monitor's thread, after the history it writes. If the camera cannot be opened the break runs
uncoached, exactly as without a camera.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject

from posture.camera_settle import settled
from posture.clock import Clock
from posture.coach.runner import RoutineFinished, RunnerEvent
from posture.errors import SourceError, StoreError, UserError
from posture.exercise.watch import FrameFeed, watched_steps
from posture.monitor import Monitor
from posture.sources import Frame, FrameSource
from posture.store.mobility import BreakMobility
from ui.break_coaching import BreakCoaching
from ui.break_window import BreakWindow

log = logging.getLogger(__name__)

# How long the break waits for the monitor to let go of the camera (it may be inside a sample, or a
# camera open that is settling). Past this the break runs uncoached rather than fight for the device.
LEND_TIMEOUT_S = 5.0

Submit = Callable[[Callable[[Monitor], None]], None]


class LentCamera(FrameSource):
    """The break's camera: opened only after the monitor released it, settled before any frame is used."""

    def __init__(self, open_camera: Callable[[], FrameSource], released: threading.Event, clock: Clock,
                 timeout_s: float = LEND_TIMEOUT_S) -> None:
        super().__init__()
        self._open_camera = open_camera
        self._released = released
        self._clock = clock
        self._timeout_s = timeout_s
        self.inner: FrameSource | None = None
        self.name = "camera"
        self.live = True

    def open(self) -> None:
        if not self._released.wait(self._timeout_s):
            raise SourceError("the camera was not released by the monitor in time")
        raw = self._open_camera()
        self.name = raw.name
        source = settled(raw, self._clock)
        try:
            source.open()
        except SourceError:
            source.close()
            raise
        self.inner = source

    def read(self) -> Frame | None:
        return self.inner.read() if self.inner is not None else None

    def close(self) -> None:
        if self.inner is not None:
            self.inner.close()
            self.inner = None


class BreakCamera(QObject):
    """Decides whether a tray break is watched, and runs the handover for one break at a time.

    `wanted()` is the person's word (the 'watch_breaks' setting) that breaks may use the camera at all;
    `allowed()` is the app's word that the camera is on right now; `open_camera` makes the break's
    camera (the monitor's device, at the faster watching rate); `db` is where the range of motion is
    stored (None: not stored, e.g. with --no-history).
    """

    def __init__(self, submit: Submit, allowed: Callable[[], bool], open_camera: Callable[[], FrameSource],
                 db: Path | None, make_feed: Callable[[FrameSource], FrameFeed] | None = None,
                 lend_timeout_s: float = LEND_TIMEOUT_S, parent: QObject | None = None,
                 wanted: Callable[[], bool] = lambda: True) -> None:
        super().__init__(parent)
        self._submit = submit
        self._allowed = allowed
        self._wanted = wanted  # the person's 'watch_breaks' setting, read at each break
        self._open_camera = open_camera
        self.db = db
        self._make_feed = make_feed or default_feed
        self.lend_timeout_s = lend_timeout_s
        self.coaching: BreakCoaching | None = None
        self.lent = False

    def attach(self, window: BreakWindow) -> BreakCoaching | None:
        """Before the window is shown: lend the camera and attach the coaching, or leave the break as is."""
        if not watched_steps(window.routine) or not self._wanted() or not self._allowed():
            return None  # the break runs exactly as without a camera; the monitor keeps its camera
        usual: dict[str, dict[str | None, float]] = {}
        if self.db is not None and self.db.exists():
            from posture.store.mobility import MOVEMENTS_STORED, usual_ranges

            try:
                usual = usual_ranges(self.db, MOVEMENTS_STORED)
            except StoreError as exc:
                log.warning("earlier range of motion not read (%s); coaching without it", exc)
        released = threading.Event()
        try:
            feed = self._make_feed(LentCamera(self._open_camera, released, window.clock, self.lend_timeout_s))
        except UserError as exc:  # no pose model here: the break goes on uncoached
            log.warning("break not watched: %s", exc)
            return None
        self.lent = True
        self._submit(lambda m: m.lend_camera(released))
        coaching = BreakCoaching(window, feed, usual, clock=window.clock, on_mobility=self._store)
        self.coaching = coaching

        def routine_over(events: list[RunnerEvent]) -> None:
            # The camera goes back at the routine's end, not when the "did that help?" page is closed.
            if any(isinstance(e, RoutineFinished) for e in events):
                self._ended(coaching)

        window.event_hooks.append(routine_over)  # after the coaching's own hook, which closes the feed
        window.closed.connect(lambda: self._ended(coaching))
        return coaching

    def monitor_restarted(self) -> None:
        """A new monitor replaced the old one (a settings change) while a break may hold the camera: it
        starts with the camera lent, and takes it back when the break ends, as the old one would have.
        Called after the new worker exists and before it runs, so its first sample already knows."""
        if self.lent:
            self._submit(lambda m: m.lend_camera())

    def end(self) -> None:
        """The app is quitting with a break open and no window to close (belt and braces)."""
        if self.coaching is not None:
            self._ended(self.coaching)

    def _ended(self, coaching: BreakCoaching) -> None:
        coaching.finish()  # closes the capture here, on the GUI thread; idempotent
        if coaching.camera_problem:
            log.info("break not watched: %s", coaching.camera_problem)
        if self.coaching is coaching:
            self.coaching = None
        if self.lent:
            self.lent = False
            self._submit(lambda m: m.take_camera_back())

    def _store(self, rec: BreakMobility) -> None:
        db = self.db
        if db is None:
            return

        def command(m: Monitor) -> None:
            from posture.store.mobility import record_break

            try:
                record_break(db, rec)
            except StoreError as exc:
                log.warning("range of motion not saved: %s", exc)

        self._submit(command)


def default_feed(camera: FrameSource) -> FrameFeed:
    from posture.exercise.watch import watch_feed

    return watch_feed(camera)
