"""`posture break [ROUTINE]`: a guided break in the terminal.

Stop signs come first, then each step with a live countdown (one updating line on a terminal, plain
lines when the output is a pipe or a file) and breath cues. Ctrl-C stops cleanly.

Acupressure needs the safety questions answered once. On a terminal they are asked and the answers
stored; otherwise (a script, a test) we never wait for input: answers can be given with
`--safety-answers FILE`, and without them the acupressure steps are left out with a note.
"""

from __future__ import annotations

import argparse
import math
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from posture.cli.break_watch import add_watch_args, start_watch
from posture.clock import Clock, SystemClock
from posture.coach.routines import Catalogue, Routine, format_duration, load_catalogue
from posture.coach.runner import BreathCue, RoutineFinished, RoutineRunner, RunnerEvent, StepStarted, Tick
from posture.coach.safety import (
    NOT_SCREENED_NOTE,
    POINTS,
    PROFESSIONAL_NOTE,
    SAFETY_QUESTIONS,
    SafetyProfile,
    default_safety_path,
    filter_catalogue,
    load_safety_profile,
    save_safety_profile,
)
from posture.errors import ConfigError, UserError

DEFAULT_ROUTINE = "neck-reset"
TICK_S = 0.25  # routine seconds between screen updates
PLAIN_COUNTDOWN_EVERY_S = 10  # without a terminal, print the time left this often
WIDTH = 78


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "break",
        help="take a guided neck-care break in the terminal",
        description="Run a short guided break routine with a countdown and breath cues. "
        "Stop at once if you feel numbness, tingling, dizziness or worsening pain.",
    )
    p.add_argument("routine", nargs="?", metavar="ROUTINE",
                   help=f"routine id (default: {DEFAULT_ROUTINE}); see --list")
    p.add_argument("--list", action="store_true", help="list the routines with their length and body areas")
    p.add_argument("--safety-answers", type=Path, metavar="FILE",
                   help="safety answers to use (JSON, as stored by the app) instead of the stored ones")
    # For tests and demos: run the routine this many times faster than real time.
    p.add_argument("--speed", type=float, default=1.0, help=argparse.SUPPRESS)
    # For tests and people editing routines: use another routines file.
    p.add_argument("--routines", type=Path, help=argparse.SUPPRESS)
    add_watch_args(p)  # --watch [SOURCE], --db: camera coaching (posture/cli/break_watch.py)
    p.set_defaults(func=run)


class PacedClock:
    """Routine time that advances exactly by what is slept, while really sleeping `factor` times less.

    With `--speed 1000` a 4-minute routine takes a quarter of a second, and the output is the same as at
    normal speed: scheduler hiccups cannot make it skip a breath cue, as a scaled real clock would.
    """

    def __init__(self, base: Clock, factor: float) -> None:
        self._base = base
        self._factor = factor
        self._mono0 = base.monotonic()
        self._wall0 = base.wall()
        self._elapsed = 0.0

    def monotonic(self) -> float:
        return self._mono0 + self._elapsed

    def wall(self) -> float:
        return self._wall0 + self._elapsed

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._base.sleep(seconds / self._factor)
            self._elapsed += seconds


def make_clock(speed: float) -> Clock:
    base = SystemClock()
    return base if speed == 1.0 else PacedClock(base, speed)


def stdin_is_tty() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def run(args: argparse.Namespace) -> int:
    out = sys.stdout
    if not 0 < args.speed <= 100_000:
        raise UserError(f"--speed must be between 0 and 100000, got {args.speed:g}")
    catalogue = load_catalogue(args.routines)
    if args.list:
        print_list(catalogue, out)
        return 0
    routine_id = args.routine or DEFAULT_ROUTINE
    full = catalogue.get(routine_id)
    if full is None:
        raise UserError(f"unknown routine '{routine_id}'; valid: {', '.join(catalogue.ids())}")

    profile, skipped_note = _safety_profile(args.safety_answers, full, catalogue, out)
    offered = filter_catalogue(catalogue, profile)
    routine = offered.get(routine_id)
    if routine is None:
        raise UserError(f"nothing of '{routine_id}' is left after your safety answers; try "
                        f"'posture break slow-breathing' or see --list")

    _print_intro(routine, offered, out, skipped_note, changed=full.has_acupressure or routine != full)
    clock = make_clock(args.speed)
    runner = RoutineRunner(routine, clock)
    view = _View(out, tty=out.isatty())
    watch = start_watch(args, routine, clock, out, say=view.say)
    try:
        events = runner.start()
        while True:
            view.show(events)
            if watch is not None:
                watch.update(events, runner)
            if runner.finished is not None:
                break
            clock.sleep(TICK_S if watch is None else watch.tick_s)
            events = runner.tick()
    except KeyboardInterrupt:
        runner.stop()
        view.end_line()
        print("stopped", file=out)
        return 130
    finally:
        if watch is not None and (summary := watch.close(clock.wall())):
            print(summary, file=out)
    return 0


def print_list(catalogue: Catalogue, out: TextIO) -> None:
    width = max(len(r.id) for r in catalogue)
    for r in catalogue:
        mark = " *" if r.has_acupressure else ""
        print(f"{r.id:<{width}}  {format_duration(r.seconds):>5}  {r.kind:<10}  {r.title}{mark}", file=out)
        print(f"{'':<{width}}  {'':>5}  {'':<10}  areas: {', '.join(r.areas)}", file=out)
    print("\n* includes optional acupressure (asks a few safety questions the first time)", file=out)


# --- safety ------------------------------------------------------------------------------------------


def _safety_profile(answers_file: Path | None, routine: Routine, catalogue: Catalogue, out: TextIO
                    ) -> tuple[SafetyProfile | None, str]:
    """The profile to filter with and, if acupressure had to be left out for want of answers, why."""
    if answers_file is not None:
        profile = load_safety_profile(answers_file)
        if profile is None:
            raise ConfigError(f"{answers_file}: safety answers file not found; check the path")
        return profile, ""
    path = default_safety_path()
    profile = load_safety_profile(path)
    if profile is not None or not routine.has_acupressure:
        return profile, ""
    if not stdin_is_tty():
        return None, ("Acupressure steps are left out: the safety questions have not been answered yet. "
                      "Run 'posture break' in a terminal to answer them, or pass --safety-answers FILE.")
    profile = ask_safety_questions(input, out, catalogue)
    if profile is None:
        return None, "Acupressure steps are left out because the safety questions were not answered."
    save_safety_profile(profile, path)
    print(f"(Answers saved in {path}; delete that file to answer again.)\n", file=out)
    return profile, ""


def ask_safety_questions(ask: Callable[[str], str], out: TextIO, catalogue: Catalogue
                         ) -> SafetyProfile | None:
    """Ask the yes/no questions; None if the person stops answering (end of input)."""
    print(_wrap("Before the first acupressure routine, a few yes/no questions. The answers stay on this "
                "computer and only decide which steps you are offered.", indent=""), file=out)
    _print_red_flags(catalogue, out)
    answers: dict[str, bool] = {}
    try:
        for q in SAFETY_QUESTIONS:
            while q.key not in answers:
                reply = ask(f"{q.text} [y/n] ").strip().lower()
                if reply in ("y", "yes"):
                    answers[q.key] = True
                    print(f"  -> {q.if_yes}", file=out)
                elif reply in ("n", "no"):
                    answers[q.key] = False
                else:
                    print("  Please answer y or n.", file=out)
    except EOFError:
        print("", file=out)
        return None
    print("", file=out)
    return SafetyProfile.from_answers(answers, answered_at=time.time())


# --- output ------------------------------------------------------------------------------------------


def _wrap(text: str, indent: str = "  ", first: str | None = None) -> str:
    return textwrap.fill(text, WIDTH, initial_indent=indent if first is None else first,
                         subsequent_indent=indent)


def _print_red_flags(catalogue: Catalogue, out: TextIO) -> None:
    print("\nFirst, these are for a doctor, not for a break routine:", file=out)
    for flag in catalogue.red_flags:
        print(_wrap(flag, indent="    ", first="  - "), file=out)
    print(_wrap(catalogue.red_flag_advice) + "\n", file=out)


def _print_intro(routine: Routine, catalogue: Catalogue, out: TextIO, skipped_note: str, changed: bool
                 ) -> None:
    """Title, stop signs first, then whatever the safety answers changed in this routine."""
    steps = f"{len(routine.steps)} step{'s' if len(routine.steps) != 1 else ''}"
    print(f"{routine.title} - {format_duration(routine.seconds)}, {steps} ({', '.join(routine.areas)})", file=out)
    print("\nStop at once if you notice:", file=out)
    for sign in routine.stop_signs:
        print(f"  - {sign}", file=out)
    print(_wrap(catalogue.stop_advice), file=out)
    notes = [skipped_note] if skipped_note else []
    if changed:
        notes += [n for n in catalogue.notes if not (skipped_note and n == NOT_SCREENED_NOTE)]
    if routine.has_acupressure:
        notes.append(catalogue.acupressure_note)
    for note in dict.fromkeys(n for n in notes if n):
        print("", file=out)
        print(_wrap(note, indent="        ", first="  note: "), file=out)
    if PROFESSIONAL_NOTE in catalogue.notes:
        _print_red_flags(catalogue, out)
    print("\nPress Ctrl-C to stop at any time.", file=out)


class _View:
    """Turns runner events into terminal output."""

    def __init__(self, out: TextIO, tty: bool) -> None:
        self.out = out
        self.tty = tty
        self._line_open = False
        self._cue = ""
        self._last_plain: int | None = None
        self._shown = ""

    def show(self, events: list[RunnerEvent]) -> None:
        for e in events:
            if isinstance(e, StepStarted):
                self._step(e)
            elif isinstance(e, BreathCue):
                self._cue = f"breathe {'in' if e.phase == 'inhale' else 'out'} ({e.breath}/{e.of})"
                if not self.tty:
                    print(f"    {self._cue}", file=self.out)
            elif isinstance(e, Tick):
                self._tick(e)
            elif isinstance(e, RoutineFinished):
                self.end_line()
                print(f"\nDone ({format_duration(e.seconds)}). Back to it whenever you are ready.",
                      file=self.out)
        self.out.flush()

    def say(self, text: str) -> None:
        """A coaching line from the camera, between the countdown updates."""
        self.end_line()
        print(f"  >> {text}", file=self.out)
        self.out.flush()

    def end_line(self) -> None:
        self._shown = ""
        if self._line_open:
            print("", file=self.out)
            self._line_open = False

    def _step(self, e: StepStarted) -> None:
        self.end_line()
        self._cue = ""
        self._last_plain = None
        step = e.step
        length = f"{step.breaths} slow breaths" if step.breaths else format_duration(step.duration)
        print(f"\n[{e.index + 1}/{e.count}] {step.title} ({length})", file=self.out)
        print(_wrap(step.instructions), file=self.out)
        if step.point:
            print(_wrap(f"Where: {POINTS[step.point].where}"), file=self.out)
        for note in step.notes:
            print(_wrap(f"Note: {note}"), file=self.out)

    def _tick(self, e: Tick) -> None:
        if self.tty:
            line = (f"  {format_duration(math.ceil(e.step_remaining))} left in this step, "
                    f"{format_duration(math.ceil(e.remaining))} in all")
            if self._cue:
                line += f"   {self._cue}"
            if line != self._shown:
                self.out.write("\r" + line + "\x1b[K")
                self._shown = line
            self._line_open = True
            return
        # Whole seconds left, rounded up, then in blocks of PLAIN_COUNTDOWN_EVERY_S: print on each new block.
        block = math.ceil(math.ceil(e.step_remaining - 1e-6) / PLAIN_COUNTDOWN_EVERY_S)
        if self._last_plain is not None and 0 < block < self._last_plain:
            print(f"  {format_duration(block * PLAIN_COUNTDOWN_EVERY_S)} left", file=self.out)
        self._last_plain = block
