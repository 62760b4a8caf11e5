"""`posture break [ROUTINE]`: a guided break in the terminal.

Stop signs come first, then each step with a live countdown (one updating line on a terminal, plain
lines when the output is a pipe or a file) and breath cues; every step repeats the one-line stop signs
the desktop window always shows. On a terminal, `h` holds the current step longer and `p` pauses;
Ctrl-C stops cleanly.

Any routine that presses a point, touches the neck or moves the neck and shoulders needs the safety
questions answered once (`safety.needs_screen`). On a terminal they are asked and the answers stored;
otherwise (a script, a test) we never wait for input: answers can be given with `--safety-answers FILE`,
and without them those steps are left out with a note. The prompts are written to stdout ourselves, not
through `input()`, which sends them to stderr when there is no readline.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import select
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TextIO

from posture.args import Subparsers
from posture.cli.break_watch import add_watch_args, start_watch
from posture.clock import Clock, SystemClock
from posture.coach.routines import Catalogue, Routine, format_duration, load_catalogue
from posture.coach.runner import (
    HOLD_LONGER_S,
    BreathCue,
    RoutineFinished,
    RoutineRunner,
    RunnerEvent,
    StepExtended,
    StepStarted,
    Tick,
)
from posture.coach.safety import (
    NOT_SCREENED_NOTE,
    POINTS,
    PROFESSIONAL_NOTE,
    SAFETY_QUESTIONS,
    SafetyProfile,
    default_safety_path,
    filter_catalogue,
    load_safety_profile,
    needs_screen,
    save_safety_profile,
    stop_line,
)
from posture.errors import ConfigError, UserError

DEFAULT_ROUTINE = "neck-reset"
TICK_S = 0.25  # routine seconds between screen updates
PLAIN_COUNTDOWN_EVERY_S = 10  # without a terminal, print the time left this often
WIDTH = 78


def register(subparsers: Subparsers) -> None:
    p = subparsers.add_parser(
        "break",
        help="take a guided neck-care break in the terminal",
        description="Run a short guided break routine with a countdown and breath cues. Stop at once if "
        "you notice pain getting worse, numbness or tingling, weakness or feeling faint, dizziness or "
        "chest discomfort. Keys while it runs: h = hold this step longer, p = pause or resume.",
    )
    p.add_argument("routine", nargs="?", metavar="ROUTINE",
                   help=f"routine id (default: {DEFAULT_ROUTINE}); see --list")
    p.add_argument("--list", action="store_true",
                   help="list the routines your safety answers allow, with their length and body areas")
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
        print_list(catalogue, _stored_profile(args.safety_answers), out)
        return 0
    routine_id = args.routine or DEFAULT_ROUTINE
    full = catalogue.get(routine_id)
    if full is None:
        raise UserError(f"unknown routine '{routine_id}'; valid: {', '.join(catalogue.ids())}")

    profile, skipped_note = _safety_profile(args.safety_answers, full, catalogue, out)
    offered = filter_catalogue(catalogue, profile)
    routine = offered.get(routine_id)
    if routine is None and args.routine is None:
        # No routine asked for: the default is only a suggestion, so offer the nearest thing allowed.
        routine = next((r for kind in ("neck_care", "breathing", "micro") for r in offered.of_kind(kind)), None)
        if routine is not None:
            skipped_note = " ".join(n for n in (skipped_note, f"'{routine_id}' is not offered after your "
                                                f"safety answers, so here is '{routine.id}'.") if n)
    if routine is None:
        why = "; ".join(offered.notes)
        raise UserError(f"nothing of '{routine_id}' is offered after your safety answers ({why.rstrip('.')}); "
                        f"routines you can do: {', '.join(offered.ids())}")

    keys = open_keys()
    _print_intro(routine, offered, out, skipped_note, keys=keys.interactive)
    clock = make_clock(args.speed)
    runner = RoutineRunner(routine, clock)
    view = _View(out, tty=out.isatty(), stop=stop_line(routine.stop_signs))
    # --watch: the camera counts and coaches the movement steps (posture/cli/break_watch.py).
    watch = start_watch(args, routine, clock, out, say=lambda text: view.say(f">> {text}"))

    def show(events: list[RunnerEvent]) -> None:
        view.show(events)
        if watch is not None:
            watch.update(events, runner)

    with keys:
        try:
            show(runner.start())
            while runner.finished is None:
                clock.sleep(TICK_S if watch is None else watch.tick_s)
                for key in keys.poll():
                    was_paused = runner.paused
                    show(_on_key(key, runner))
                    if runner.paused != was_paused:
                        view.say("paused - press p to go on" if runner.paused else "going on")
                show(runner.tick())
        except KeyboardInterrupt:
            runner.stop()
            view.end_line()
            print("stopped", file=out)
            return 130
        finally:
            if watch is not None and (summary := watch.close(clock.wall())):
                print(summary, file=out)
    return 0


def _on_key(key: str, runner: RoutineRunner) -> list[RunnerEvent]:
    if key in ("h", "H", "+"):
        return runner.hold_longer()
    if key in ("p", "P", " "):
        return runner.resume() if runner.paused else runner.pause()
    return []


class Keys(Protocol):
    """Single key presses while a routine runs; `poll()` never waits."""

    interactive: bool

    def poll(self) -> list[str]: ...

    def __enter__(self) -> Keys: ...

    def __exit__(self, *exc: object) -> None: ...


class NoKeys:
    """A pipe, a file or a test: no keys, nothing changed on the terminal."""

    interactive = False

    def poll(self) -> list[str]:
        return []

    def __enter__(self) -> NoKeys:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class TerminalKeys:
    """Reads keys without Enter (cbreak mode) and puts the terminal back as it was, even on Ctrl-C."""

    interactive = True

    def __init__(self) -> None:
        self._fd = sys.stdin.fileno()
        self._saved: list[Any] | None = None

    def __enter__(self) -> TerminalKeys:
        import termios
        import tty

        self._saved = termios.tcgetattr(self._fd)
        tty.setcbreak(self._fd)  # keeps Ctrl-C working (ISIG stays on)
        return self

    def __exit__(self, *exc: object) -> None:
        import termios

        if self._saved is not None:
            termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)

    def poll(self) -> list[str]:
        keys: list[str] = []
        while select.select([self._fd], [], [], 0)[0]:
            data = os.read(self._fd, 32)
            if not data:
                break
            keys.extend(data.decode("utf-8", errors="ignore"))
        return keys


def open_keys() -> Keys:
    """Keys from the terminal when there is one (POSIX); otherwise none, and Ctrl-C still stops."""
    if not stdin_is_tty():
        return NoKeys()
    with contextlib.suppress(ImportError):
        import termios  # noqa: F401  (POSIX only)

        return TerminalKeys()
    return NoKeys()


def print_list(catalogue: Catalogue, profile: SafetyProfile | None, out: TextIO) -> None:
    """The routines as this person would get them; before the questions, what would ask them first."""
    offered = filter_catalogue(catalogue, profile)
    shown = catalogue if profile is None else offered
    width = max(len(r.id) for r in shown)
    for r in shown:
        mark = " ?" if profile is None and needs_screen(r) else " *" if r.has_acupressure else ""
        print(f"{r.id:<{width}}  {format_duration(r.seconds):>5}  {r.kind:<10}  {r.title}{mark}", file=out)
        print(f"{'':<{width}}  {'':>5}  {'':<10}  areas: {', '.join(r.areas)}", file=out)
    if profile is None:
        print("\n? asks a few safety questions before it starts (acupressure, touching or moving the neck)",
              file=out)
        return
    if any(r.has_acupressure for r in shown):
        print("\n* includes optional acupressure", file=out)
    left_out = [r.id for r in catalogue if offered.get(r.id) is None]
    if left_out:
        print(_wrap(f"Not offered after your safety answers: {', '.join(left_out)}.", indent="", first="\n"),
              file=out)
    for note in offered.notes:
        print(_wrap(note, indent="        ", first="  note: "), file=out)


# --- safety ------------------------------------------------------------------------------------------


def _stored_profile(answers_file: Path | None) -> SafetyProfile | None:
    if answers_file is not None:
        profile = load_safety_profile(answers_file)
        if profile is None:
            raise ConfigError(f"{answers_file}: no current safety answers in this file (missing, or saved "
                              "before a question was added); check the path or answer the questions again")
        return profile
    return load_safety_profile(default_safety_path())


def _safety_profile(answers_file: Path | None, routine: Routine, catalogue: Catalogue, out: TextIO
                    ) -> tuple[SafetyProfile | None, str]:
    """The profile to filter with and, if steps had to be left out for want of answers, why."""
    profile = _stored_profile(answers_file)
    if profile is not None or answers_file is not None or not needs_screen(routine):
        return profile, ""
    if not stdin_is_tty():
        return None, ("Acupressure and neck or shoulder exercises are left out: the safety questions have "
                      "not been answered yet. Run 'posture break' in a terminal to answer them, or pass "
                      "--safety-answers FILE.")
    profile = ask_safety_questions(_read_answer(out), out, catalogue)
    if profile is None:
        return None, ("Acupressure and neck or shoulder exercises are left out because the safety "
                      "questions were not answered.")
    path = default_safety_path()
    save_safety_profile(profile, path)
    print(f"(Answers saved in {path}; delete that file to answer again.)\n", file=out)
    return profile, ""


def _read_answer(out: TextIO) -> Callable[[str], str]:
    """Show the prompt on `out` (not stderr, where `input()` may put it) and read one line of stdin."""

    def ask(prompt: str) -> str:
        out.write(prompt)
        out.flush()
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        return line

    return ask


def ask_safety_questions(ask: Callable[[str], str], out: TextIO, catalogue: Catalogue
                         ) -> SafetyProfile | None:
    """Ask the yes/no questions; None if the person stops answering (end of input)."""
    print(_wrap(f"Before the first break that moves or presses the neck, {len(SAFETY_QUESTIONS)} yes/no "
                "questions. The answers stay on this computer and only decide which steps you are offered.",
                indent=""), file=out)
    _print_red_flags(catalogue, out)
    _print_stop_signs(catalogue, out)
    answers: dict[str, bool] = {}
    try:
        for n, q in enumerate(SAFETY_QUESTIONS, start=1):
            while q.key not in answers:
                print(_wrap(f"{n}/{len(SAFETY_QUESTIONS)}. {q.text}", indent="   ", first=""), file=out)
                reply = ask("   [y/n] ").strip().lower()
                if reply in ("y", "yes"):
                    answers[q.key] = True
                    print(_wrap(f"-> {q.if_yes}", indent="      ", first="   "), file=out)
                elif reply in ("n", "no"):
                    answers[q.key] = False
                else:
                    print("   Please answer y or n.", file=out)
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


def _print_stop_signs(catalogue: Catalogue, out: TextIO) -> None:
    print("Stop at once if you notice:", file=out)
    for sign in catalogue.stop_signs:
        print(_wrap(sign.text, indent="    ", first="  - "), file=out)
    print(_wrap(catalogue.stop_advice) + "\n", file=out)


def _print_intro(routine: Routine, catalogue: Catalogue, out: TextIO, skipped_note: str, keys: bool) -> None:
    """Title, stop signs first, then whatever the safety answers changed in this routine."""
    steps = f"{len(routine.steps)} step{'s' if len(routine.steps) != 1 else ''}"
    print(f"{routine.title} - {format_duration(routine.seconds)}, {steps} ({', '.join(routine.areas)})", file=out)
    print("", file=out)
    _print_stop_signs(catalogue, out)
    notes = [skipped_note] if skipped_note else []
    notes += [n for n in routine.notes if not (skipped_note and n == NOT_SCREENED_NOTE)]
    if routine.has_acupressure:
        notes.append(catalogue.acupressure_note)
    for note in dict.fromkeys(n for n in notes if n):
        print(_wrap(note, indent="        ", first="  note: "), file=out)
        print("", file=out)
    if PROFESSIONAL_NOTE in routine.notes:
        _print_red_flags(catalogue, out)
    if keys:
        print(f"Keys: h = hold this step longer (+{HOLD_LONGER_S} s), p = pause or resume, Ctrl-C = stop.",
              file=out)
    else:
        print("Press Ctrl-C to stop at any time.", file=out)


class _View:
    """Turns runner events into terminal output."""

    def __init__(self, out: TextIO, tty: bool, stop: str) -> None:
        self.out = out
        self.tty = tty
        self.stop = stop  # the one-line stop signs, repeated with every step
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
            elif isinstance(e, StepExtended):
                self.end_line()
                print(f"  + {e.seconds} s on this step (now {format_duration(e.length)})", file=self.out)
                self._last_plain = None
            elif isinstance(e, Tick):
                self._tick(e)
            elif isinstance(e, RoutineFinished):
                self.end_line()
                print(f"\nDone ({format_duration(e.seconds)}). Back to it whenever you are ready.",
                      file=self.out)
        self.out.flush()

    def say(self, text: str) -> None:
        """A line of its own between countdown updates (pause and resume)."""
        self.end_line()
        print(f"  {text}", file=self.out)
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
        print(_wrap(self.stop, indent="    ", first="  ! "), file=self.out)

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
