"""The `posture` command.

Sub-commands live in their own modules, each exposing `register(subparsers)`; the parser sets
`func(args) -> int`. Commands from the outer layers (calibration, ui) are loaded by module name so the
core never imports them statically: the layering contract (ui → calibration → posture) stays true, and a
headless install can run core commands without importing Qt.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from posture import __version__
from posture.errors import UserError
from posture.native_logs import silence_native_stderr

COMMAND_MODULES: tuple[str, ...] = (
    "posture.cli.analyze_cmd",
    "posture.cli.evaluate_cmd",
    "calibration.cli",
    "posture.cli.break_cmd",
    "posture.cli.exercise_cmd",
    "posture.cli.history_cmd",
    "posture.cli.settings_cmd",
    "ui.dashboard_cmd",
    "ui.run_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="posture",
        description="Posture Companion: gentle posture nudges and neck-care breaks, all on your machine.",
    )
    parser.add_argument("--version", action="version", version=f"posture {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            # Only tolerate the command module itself being absent (a trimmed install), never a
            # missing dependency inside it.
            if exc.name == name:
                continue
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if argv is None:
        # Only for a real command line: tests calling main([...]) keep their own stderr.
        silence_native_stderr()
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `posture report | head` closes the pipe early; that is not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
