"""`posture run --headless`: the same monitor as the tray app, without any window.

It prints state changes, nudges and break suggestions, writes the history, and stops cleanly on
SIGTERM or Ctrl-C (the history is flushed first), so it can run as a service or in a benchmark.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from typing import Any, TextIO

from posture.baseline import Baseline
from posture.clock import Clock, FakeClock, SystemClock, local_datetime
from posture.companion import SourceSpec, build_monitor
from posture.errors import UserError
from posture.monitor import Monitor
from posture.samples import REASONS, Event, PostureSample
from posture.settings import Settings


class ConsoleReporter:
    """Prints what a person would want to know, one line each, never a line per sample."""

    def __init__(self, out: TextIO = sys.stdout, quiet: bool = False) -> None:
        self.out = out
        self.quiet = quiet
        self._state: str | None = None
        self.state_changes = 0
        self.nudges = 0
        self.suggestions = 0

    def _stamp(self, wall: float) -> str:
        return local_datetime(wall).strftime("%H:%M:%S")

    def sample(self, s: PostureSample) -> None:
        if s.state != self._state:
            self._state = s.state
            self.state_changes += 1
            if not self.quiet:
                why = ", ".join(REASONS.get(r, r) for r in s.reasons)
                score = f" score {s.score:.0f}" if s.score is not None else ""
                print(f"{self._stamp(s.wall)}  state {s.state}{score}{f' ({why})' if why else ''}", file=self.out,
                      flush=True)

    def event(self, e: Event) -> None:
        line = None
        if e.kind == "nudge":
            self.nudges += 1
            line = f"nudge (level {e.data.get('level')}): {e.data.get('text')}"
        elif e.kind == "break_suggested":
            self.suggestions += 1
            line = f"break suggested: {e.data.get('text') or e.data.get('routine')}"
        elif e.kind in ("calibration_mismatch", "calibration_failed", "camera_lost", "camera_back",
                        "calibration", "recovery", "pause", "resume", "natural_break", "bad_frame"):
            detail = e.data.get("message") or e.data.get("error") or e.data.get("reason") or ""
            line = f"{e.kind.replace('_', ' ')}{': ' + str(detail) if detail else ''}"
        if line and not self.quiet:
            print(f"{self._stamp(e.wall)}  {line}", file=self.out, flush=True)


def resolve_baseline(args: argparse.Namespace) -> Baseline | None:
    from calibration.profiles import ProfileStore

    if getattr(args, "calibrate_from", None):
        return None  # built from the span while running
    store = ProfileStore()
    if getattr(args, "profile", None):
        return store.load(args.profile).baseline
    active = store.active()
    return active.baseline if active else None


def run_headless(args: argparse.Namespace, settings: Settings) -> int:
    spec = SourceSpec.parse(args.source, settings, loop=getattr(args, "loop", False), fps_in=args.fps_in)
    if spec.camera is None and not args.realtime:
        # A recording without --realtime runs as fast as the CPU allows, on the recording's own timeline.
        start = args.start_time if args.start_time is not None else time.time()
        clock: Clock = FakeClock(wall_start=start, monotonic_start=0.0)
    else:
        clock = SystemClock()
    baseline = resolve_baseline(args)
    writer = None
    if not args.no_history:
        from posture.store import open_writer

        writer = open_writer(args.db, clock=clock, on_warning=lambda msg: print(f"warning: {msg}", file=sys.stderr))
        if settings.retention_days:
            writer.prune(settings.retention_days)
    environment = None
    if spec.camera is not None:
        from posture.environment import Environment

        # A live camera pauses for a locked screen or a listed app; a replayed recording has no screen.
        environment = Environment()
    monitor = build_monitor(settings, spec, clock, baseline, writer, calibrate_span=args.calibrate_from,
                            environment=environment)
    if baseline is None and not args.calibrate_from:
        print("no calibration yet: run 'posture calibrate' (watching presence only until then)")
    reporter = ConsoleReporter(quiet=args.quiet)
    monitor.on_sample(reporter.sample)
    monitor.on_event(reporter.event)
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()
        monitor.stop()

    # SIGHUP: the terminal it ran in was closed; stop as cleanly as for Ctrl-C or a service stop.
    stops = [signal.SIGTERM, signal.SIGINT] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    old = {s: signal.signal(s, on_signal) for s in stops}
    try:
        wait = stop.wait if isinstance(clock, SystemClock) else None
        monitor.run(max_seconds=args.duration, realtime_wait=wait)
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        if writer is not None:
            writer.close()
        monitor.finder.close()
    summarize(monitor, reporter)
    return 0


def summarize(monitor: Monitor, reporter: ConsoleReporter) -> None:
    st = monitor.status
    print(f"stopped: {st.samples} samples ({st.pose_runs} pose runs, {st.presence_checks} presence checks), "
          f"{reporter.nudges} nudges, {reporter.suggestions} break suggestions")


def check_args(args: argparse.Namespace) -> None:
    if args.duration is not None and args.duration <= 0:
        raise UserError("--duration must be positive")
