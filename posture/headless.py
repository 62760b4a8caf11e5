"""`posture run --headless`: the same monitor as the tray app, without any window.

It prints state changes, nudges and break suggestions, writes the history, and stops cleanly on
SIGTERM or Ctrl-C (the history is flushed first), so it can run as a service or in a benchmark.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import time
from types import FrameType
from typing import TextIO

from posture.baseline import Baseline
from posture.clock import Clock, FakeClock, SystemClock, local_datetime
from posture.companion import SourceSpec, build_monitor
from posture.errors import UserError
from posture.events import (
    BadFrame,
    BreakSuggested,
    Calibrated,
    CalibrationFailed,
    CalibrationMismatch,
    CameraBack,
    CameraLost,
    CameraUnsettledNote,
    Event,
    NaturalBreak,
    NudgeShown,
    Paused,
    RecalibrationSuggested,
    Recovery,
    Resumed,
)
from posture.monitor import Monitor
from posture.samples import REASONS, PostureSample
from posture.session import SpanBuilder
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
        line: str | None
        match e:
            case NudgeShown(level=level, text=text):
                self.nudges += 1
                line = f"nudge (level {level}): {text}"
            case BreakSuggested(text=text):
                self.suggestions += 1
                line = f"break suggested: {text}"
            case CalibrationMismatch(message=detail):
                line = f"calibration mismatch: {detail}"
            case RecalibrationSuggested(message=detail):
                line = f"recalibration suggested: {detail}"
            case (CalibrationFailed(error=detail) | CameraLost(error=detail) | BadFrame(error=detail)
                  | CameraUnsettledNote(error=detail)):
                line = f"{e.kind.replace('_', ' ')}: {detail}"
            case Paused(reason=reason) | Resumed(reason=reason):
                line = f"{e.kind}{': ' + reason if reason else ''}"
            case Calibrated() | CameraBack() | Recovery() | NaturalBreak():
                line = e.kind.replace("_", " ")
            case _:
                line = None
        if line and not self.quiet:
            print(f"{self._stamp(e.wall)}  {line}", file=self.out, flush=True)


def run_headless(args: argparse.Namespace, settings: Settings, baseline: Baseline | None,
                 build_baseline: SpanBuilder | None = None) -> int:
    """`baseline` and the span builder come from the composition root (they are calibration's)."""
    spec = SourceSpec.parse(args.source, settings, loop=getattr(args, "loop", False), fps_in=args.fps_in)
    if spec.camera is None and not args.realtime:
        # A recording without --realtime runs as fast as the CPU allows, on the recording's own timeline.
        start = args.start_time if args.start_time is not None else time.time()
        clock: Clock = FakeClock(wall_start=start, monotonic_start=0.0)
    else:
        clock = SystemClock()
    writer = None
    from posture.store.replays import REPLAY_NOT_RECORDED, recording_for_run, run_history_path

    history = None if args.no_history else run_history_path(args.db, replay=spec.camera is None)
    if history is None and not args.no_history:
        print(REPLAY_NOT_RECORDED)
    if history is not None:
        from posture.store import open_writer

        writer = open_writer(history, clock=clock, on_warning=lambda msg: print(f"warning: {msg}", file=sys.stderr),
                             recording=recording_for_run(spec.path, clock))
        if settings.retention_days:
            writer.prune(settings.retention_days)
    environment = None
    if spec.camera is not None:
        from posture.environment import Environment

        # A live camera pauses for a locked screen or a listed app; a replayed recording has no screen.
        environment = Environment()
    monitor = build_monitor(settings, spec, clock, baseline, writer, calibrate_span=args.calibrate_from,
                            environment=environment, build_baseline=build_baseline)
    if baseline is None and not args.calibrate_from:
        print("no calibration yet: run 'posture calibrate' (watching presence only until then)")
    elif args.calibrate_from:
        a, b = args.calibrate_from
        # Its samples are held until the span ends, then judged against the baseline it made: say so, or
        # the first seconds of silence look like a hang.
        print(f"calibrating from {a:g}-{b:g} s of this run: sit upright; judging starts when the span ends")
    reporter = ConsoleReporter(quiet=args.quiet)
    monitor.on_sample(reporter.sample)
    monitor.on_event(reporter.event)
    stop = threading.Event()
    # A handler runs on the main thread between two bytecodes, possibly while that thread holds a lock
    # that stopping needs (the camera's worker while a frame is read or the picture settles): taking it
    # there deadlocks, and the process never ends. So the handler only writes a byte (async-signal-safe)
    # and this thread does the stopping.
    wake_read, wake_write = os.pipe()

    def stopper() -> None:
        try:
            if os.read(wake_read, 1):
                stop.set()
                monitor.stop()
        except OSError:
            pass
        finally:
            os.close(wake_read)

    threading.Thread(target=stopper, name="signal-stop", daemon=True).start()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        with contextlib.suppress(OSError):  # already stopping: the pipe is full or closed
            os.write(wake_write, b"s")

    # SIGHUP: the terminal it ran in was closed; stop as cleanly as for Ctrl-C or a service stop.
    stops = [signal.SIGTERM, signal.SIGINT] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    old = {s: signal.signal(s, on_signal) for s in stops}
    try:
        wait = stop.wait if isinstance(clock, SystemClock) else None
        monitor.run(max_seconds=args.duration, realtime_wait=wait)
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        os.close(wake_write)  # the stopper reads the end of the pipe and goes
        if writer is not None:
            writer.close()
        monitor.finder.close()
    summarize(monitor, reporter)
    return 0


def summarize(monitor: Monitor, reporter: ConsoleReporter) -> None:
    st = monitor.status
    print(f"stopped: {st.samples} samples ({st.pose_runs} pose runs, {st.presence_checks} presence checks), "
          f"{reporter.nudges} nudge{'s' * (reporter.nudges != 1)}, {reporter.suggestions} break suggestion"
          f"{'s' * (reporter.suggestions != 1)}")


def check_args(args: argparse.Namespace) -> None:
    if args.duration is not None and args.duration <= 0:
        raise UserError("--duration must be positive")
