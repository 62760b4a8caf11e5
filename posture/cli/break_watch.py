"""`posture break ROUTINE --watch [SOURCE]`: camera coaching for the terminal break.

Kept apart from break_cmd so the break itself is untouched: without --watch nothing here runs, and when
the camera cannot be opened the break goes on exactly as without it, after one line saying so.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from posture.clock import Clock
from posture.coach.routines import Routine
from posture.coach.runner import RoutineFinished, RoutineRunner, RunnerEvent, StepStarted
from posture.errors import UserError
from posture.exercise.coaching import CoachMessage
from posture.exercise.watch import WATCH_FPS, FrameFeed, WatchedBreak, watched_steps

# Frames are polled this often while a step is watched (they are due 6 times a second, and the frame
# that confirms a repetition's end a third of a period early).
WATCH_TICK_S = 1.0 / 24


def add_watch_args(p: argparse.ArgumentParser) -> None:
    which = p.add_mutually_exclusive_group()
    which.add_argument(
        "--watch", nargs="?", const="0", default=None, metavar="SOURCE",
        help="count and coach the movement steps with the camera (a camera index, default 0, or a recording), "
        "even with the 'watch_breaks' setting off; frames are analysed in memory and never stored. Without "
        "it a break at a terminal is watched through the settings' camera when 'watch_breaks' is on",
    )
    which.add_argument("--no-watch", action="store_true",
                       help="do not use the camera for this break, whatever the 'watch_breaks' setting says")
    p.add_argument("--db", type=Path, help="history file where --watch stores each break's range of motion "
                   "(default: the user data dir)")


class TerminalWatch:
    """Feeds a `WatchedBreak` from a `FrameFeed` as the routine runs, and prints what the coach says."""

    def __init__(self, routine: Routine, feed: FrameFeed, clock: Clock, say: Callable[[str], None],
                 db: Path | None) -> None:
        from posture.store.mobility import MOVEMENTS_STORED, usual_ranges
        from posture.store.paths import resolve_db_path

        self.feed = feed
        self.clock = clock
        self.say = say
        self.db = resolve_db_path(db)
        self.session = WatchedBreak(routine, usual_ranges(self.db, MOVEMENTS_STORED) if self.db.exists() else {})
        self._t0 = clock.monotonic()

    @property
    def tick_s(self) -> float:
        """How long the break's loop may sleep: until the next frame is due, and no longer than
        WATCH_TICK_S (the countdown and the keys are looked at in the same loop)."""
        return max(0.002, min(WATCH_TICK_S, self.feed.due_in(self.clock.monotonic() - self._t0)))

    def update(self, events: list[RunnerEvent], runner: RoutineRunner) -> None:
        for e in events:
            if isinstance(e, StepStarted):
                msg = self.session.step_started(e.step)
                if msg is not None:
                    self.say(msg.text)
            elif isinstance(e, RoutineFinished):
                self.session.step_started(None)
        if runner.paused:
            return
        for m in self.session.follow(self.feed, self.clock.monotonic() - self._t0):
            self.say(_line(m))

    def close(self, wall: float) -> str | None:
        """Stop watching; store the range of motion. Returns a one-line summary, or None."""
        self.feed.close()
        rec = self.session.mobility(wall)
        if rec is None:
            return None
        from posture.errors import StoreError
        from posture.store.mobility import record_break

        counts = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in rec.reps.items())
        try:
            record_break(self.db, rec)
        except StoreError as exc:
            print(f"warning: range of motion not saved: {exc}", file=sys.stderr)
            return f"Counted {counts}."
        return f"Counted {counts}; range of motion saved."


def _line(m: CoachMessage) -> str:
    return m.text


def start_watch(args: argparse.Namespace, routine: Routine, clock: Clock, out: TextIO,
                say: Callable[[str], None]) -> TerminalWatch | None:
    """A TerminalWatch when the break is to be watched (`--watch`, or the 'watch_breaks' setting), or
    None (with one line on `out` when watching was asked for and cannot be done)."""
    spec, asked = watch_source(args)
    if spec is None:
        return None
    if not watched_steps(routine):
        if asked:
            print("note: this routine has no movement the camera can count; running it without the camera.",
                  file=out)
        return None
    hint = "" if asked else " (set 'watch_breaks' off, or pass --no-watch, to skip the camera)"
    from posture.exercise.watch import watch_feed
    from posture.sources import WebcamSource, open_source

    try:
        source = open_source(spec, 25.0)
        if isinstance(source, WebcamSource):
            source = WebcamSource(source.index, requested_fps=WATCH_FPS * 2)
        feed = watch_feed(source)
    except UserError as exc:
        print(f"note: {exc}; the break goes on without the camera{hint}.", file=out)
        return None
    try:
        feed.open()
    except UserError as exc:
        feed.close_models()  # both models: the face detector too
        print(f"note: {exc}; the break goes on without the camera{hint}.", file=out)
        return None
    print(f"Watching with {source.name} during the movement steps (frames are never stored).", file=out)
    return TerminalWatch(routine, feed, clock, say, args.db)


def watch_source(args: argparse.Namespace) -> tuple[str | None, bool]:
    """(what to watch with, or None; whether the person asked for it with --watch).

    `--watch` forces watching and `--no-watch` forbids it for this run. Otherwise a break is watched
    through the settings' camera when 'watch_breaks' is on, but only for a person at a terminal in real
    time: a break piped from a script or run faster than real time (tests, demos) never opens a camera
    it was not asked to.
    """
    if getattr(args, "no_watch", False):
        return None, False
    if args.watch is not None:
        return args.watch, True
    from posture.cli.break_cmd import stdin_is_tty
    from posture.settings import load_settings

    if getattr(args, "speed", 1.0) != 1.0 or not stdin_is_tty():
        return None, False

    settings = load_settings().settings  # problems in the file are reported by the commands that own it
    return (str(settings.camera_index) if settings.watch_breaks else None), False
