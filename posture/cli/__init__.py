"""The `posture` command: the composition root, at the top of the import graph.

Sub-commands live in their own modules, each exposing `register(subparsers)`; the parser sets
`func(args) -> int`. This package imports every layer (core commands, `calibration.cli`, `ui.run_cmd`,
`ui.dashboard_cmd`) statically, and nothing imports it back: the import contracts in pyproject.toml put
`posture.cli` above `ui`, `ui` above `calibration`, and `calibration` above the rest of the core. The
command modules of `ui` import Qt only inside the functions that open a window, so core commands and
`posture run --headless` never load it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

import calibration.cli
import ui.dashboard_cmd
import ui.run_cmd
from posture.args import Subparsers
from posture.cli import analyze_cmd, break_cmd, evaluate_cmd, exercise_cmd, history_cmd, settings_cmd
from posture.cli.version import VersionAction
from posture.errors import UserError
from posture.native_logs import silence_native_stderr

Register = Callable[[Subparsers], None]
# In the order `posture --help` lists them.
COMMANDS: tuple[Register, ...] = (
    analyze_cmd.register,
    evaluate_cmd.register,
    calibration.cli.register,
    break_cmd.register,
    exercise_cmd.register,
    history_cmd.register,
    settings_cmd.register,
    ui.dashboard_cmd.register,
    ui.run_cmd.register,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="posture",
        description="Posture Companion: gentle posture nudges and neck-care breaks, all on your machine.",
    )
    parser.add_argument("--version", action=VersionAction)  # with the pose backend, which differs per Python
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for register in COMMANDS:
        register(sub)
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
