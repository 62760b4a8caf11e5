"""Camera coaching inside the break window: the count, the coach's last words, and a camera note.

`BreakCoaching` attaches to a `BreakWindow` through its event hook: when a movement step starts it
shows what is being watched and the target ("0 of 4"), feeds frames from a `FrameFeed` to the core's
`WatchedBreak` on a timer, and shows each message ("2 of 4", "slower", "not seen — are you in view?").
The stop signs stay on the window as they are; the coaching sits above them and never hides them.
At the end the range of motion goes to `on_mobility` (the app stores it). Without a feed, or when the
camera cannot be opened, the break runs exactly as it does without coaching.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from posture.clock import Clock
from posture.coach.runner import RoutineFinished, RunnerEvent, StepStarted
from posture.errors import UserError
from posture.exercise.coaching import CoachMessage
from posture.exercise.watch import WATCH_FPS, FrameFeed, WatchedBreak
from posture.store.mobility import BreakMobility
from ui.break_window import BreakWindow
from ui.fonts import bigger

# Message colours: calm blue for counts, amber for "not seen", grey-green for tips. Never red: nothing
# the coach says is an error.
KIND_COLOURS: dict[str, str] = {
    "count": "#0b4f7a", "done": "#1b7a3a", "further": "#3d5a40", "slower": "#3d5a40", "easy": "#6a4a00",
    "nod": "#3d5a40", "not_seen": "#8a5a00", "seen": "#0b4f7a", "watch": "#404040",
}


class CoachingPanel(QFrame):
    """What the camera coach has to say about the current step."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("coaching")
        self.setStyleSheet("QFrame#coaching { background: #eef5fa; border: 1px solid #cfe0ec; border-radius: 8px; }")
        self.count_label = QLabel("")
        self.count_label.setFont(bigger(self.count_label.font(), 2.0, bold=True))
        self.count_label.setStyleSheet("color: #0b4f7a;")
        self.message_label = QLabel("")
        self.message_label.setWordWrap(True)
        self.message_label.setFont(bigger(self.message_label.font(), 1.2))
        self.camera_label = QLabel("Camera on for this step · frames are never stored")
        self.camera_label.setStyleSheet("color: #606060; font-size: small;")
        v = QVBoxLayout(self)
        v.setContentsMargins(12, 8, 12, 8)
        v.addWidget(self.count_label)
        v.addWidget(self.message_label)
        v.addWidget(self.camera_label)
        self.setVisible(False)

    def show_watching(self, message: CoachMessage, progress: str) -> None:
        self.count_label.setText(progress)
        self.message_label.setText(message.text)
        self.message_label.setStyleSheet(f"color: {KIND_COLOURS['watch']};")
        self.setVisible(True)

    def show_message(self, message: CoachMessage, progress: str) -> None:
        self.count_label.setText(progress)
        if message.kind not in ("count", "done"):
            self.message_label.setText(message.text)
        elif message.kind == "done":
            self.message_label.setText("That's the set. Rest until the step ends.")
        else:
            self.message_label.setText("Counted. Slow and easy, only as far as is comfortable.")
        self.message_label.setStyleSheet(f"color: {KIND_COLOURS.get(message.kind, '#404040')};")

    def hide_step(self) -> None:
        self.setVisible(False)


class BreakCoaching(QObject):
    """Connects a break window, a frame feed and the core's coaching for one break."""

    def __init__(self, window: BreakWindow, feed: FrameFeed | None,
                 usual: Mapping[str, Mapping[str | None, float]] | None = None,
                 clock: Clock | None = None, on_mobility: Callable[[BreakMobility], None] | None = None,
                 fps: float = WATCH_FPS) -> None:
        super().__init__(window)
        self.window = window
        self.feed = feed
        self.clock = clock or window.clock
        self.session = WatchedBreak(window.routine, usual)
        self.on_mobility = on_mobility
        self.panel = CoachingPanel()
        window.coaching_box.addWidget(self.panel)
        self.messages: list[CoachMessage] = []
        self.camera_problem: str | None = None
        self._t0 = self.clock.monotonic()
        self._open = False
        self._done = False
        self.timer = QTimer(self)
        # At least a few polls per frame period, and after each poll the next one is set for when the
        # next frame is due (a confirming frame may be due a third of a period early): a count is not
        # held back by the timer's grain.
        self._poll_ms = max(20, int(1000 / fps / 4))
        self.timer.setInterval(self._poll_ms)
        self.timer.timeout.connect(self.poll)
        window.event_hooks.append(self.on_events)
        runner = window.runner
        if runner is not None and runner.current_step is not None:  # the break began before we attached
            self.on_events([StepStarted(runner.step_index, len(window.routine.steps), runner.current_step)])

    def _open_feed(self) -> bool:
        if self.feed is None:
            return False
        if not self._open:
            try:
                self.feed.open()
            except UserError as exc:
                self.camera_problem = str(exc)
                self.feed.close_models()  # left to the garbage collector, Tasks models can hang it
                self.feed = None
                self.panel.hide_step()
                return False
            self._open = True
            self._t0 = self.clock.monotonic()
        return True

    def on_events(self, events: list[RunnerEvent]) -> None:
        for e in events:
            if isinstance(e, StepStarted):
                msg = self.session.step_started(e.step)
                if msg is None or not self._open_feed():
                    self.panel.hide_step()
                    self.timer.stop()
                    continue
                coach = self.session.coach
                self.panel.show_watching(msg, coach.progress_text() if coach else "")
                self.timer.start()
            elif isinstance(e, RoutineFinished):
                self.finish()

    def poll(self) -> None:
        """Feed every frame that is due; show what the coach says."""
        runner = self.window.runner
        if self.feed is None or runner is None or runner.paused:
            return
        for m in self.session.follow(self.feed, self.clock.monotonic() - self._t0):
            self.messages.append(m)
            coach = self.session.coach
            self.panel.show_message(m, coach.progress_text() if coach else "")
        if self.feed is not None and self.timer.isActive():
            due_ms = self.feed.due_in(self.clock.monotonic() - self._t0) * 1000
            self.timer.setInterval(max(5, min(self._poll_ms, int(due_ms) + 1)))

    def finish(self) -> None:
        """Stop watching, close the camera and hand over the range of motion (once, however often called:
        the routine's end and the window closing both end the coaching)."""
        if self._done:
            return
        self._done = True
        self.timer.stop()
        self.session.step_started(None)
        if self.feed is not None and self._open:
            self.feed.close()
            self._open = False
        self.feed = None
        rec = self.session.mobility(self.clock.wall())
        if rec is not None and self.on_mobility is not None:
            self.on_mobility(rec)


def run_watched(window: BreakWindow, coaching: BreakCoaching, clock: FakeClockLike, until_s: float,
                step_s: float = 1 / 12) -> None:
    """Advance a fake clock, ticking the window and the coaching as their timers would (tests, screenshots)."""
    t = 0.0
    while t < until_s and window.result is None:
        clock.advance(step_s)
        t += step_s
        window.tick()
        coaching.poll()


class FakeClockLike(Clock, Protocol):
    def advance(self, seconds: float) -> None: ...


def coached_break_window(clip: str | Path, at_s: float, on_screen: bool = False) -> tuple[BreakWindow, BreakCoaching]:
    """The neck-turns break watched through a recording on a fake clock, stepped `at_s` seconds in, with
    a usual range from earlier breaks so the coach has something to compare with (README pictures).
    `on_screen`: shown before the clock is stepped (the window starts its break when it is shown)."""
    from posture.clock import FakeClock
    from posture.coach.routines import load_catalogue
    from posture.exercise.watch import watch_feed
    from posture.sources import VideoFileSource

    routine = load_catalogue().get("neck-turns")
    assert routine is not None
    clock = FakeClock()
    window = BreakWindow(routine, clock=clock)
    feed = watch_feed(VideoFileSource(clip))
    coaching = BreakCoaching(window, feed, usual={"turn": {"left": 30.0, "right": 31.0}}, clock=clock)
    window.resize(760, 560)
    if on_screen:
        window.show()
    run_watched(window, coaching, clock, at_s)
    return window, coaching


def save_coached_break_screenshot(clip: str | Path, png: str | Path, at_s: float = 14.0) -> Path:
    """The neck-turns break, watched through a recording, grabbed `at_s` seconds in (for the README)."""
    window, coaching = coached_break_window(clip, at_s)
    png = Path(png)
    window.grab().save(str(png))
    coaching.finish()
    window.close()
    return png
