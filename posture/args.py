"""Argument parsers shared by the sub-commands of every layer (core, calibration, ui).

They live in the core, below everything, so a command module anywhere can use them without reaching up
into the command line's package (`posture.cli`, the composition root at the top of the import graph).
"""

from __future__ import annotations

import argparse
from datetime import date, datetime
from typing import TypeAlias


def parse_span(text: str) -> tuple[float, float]:
    """'0:8' → (0.0, 8.0) seconds."""
    try:
        a, b = text.split(":")
        start, end = float(a), float(b)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected START:END in seconds, e.g. 0:8, got {text!r}") from None
    if start < 0 or end <= start:
        raise argparse.ArgumentTypeError(f"span {text!r} must have 0 <= START < END")
    return start, end


def parse_start_time(text: str) -> float:
    """An ISO date-time ('2026-11-20T09:00') or 'now' → epoch seconds."""
    if text == "now":
        return datetime.now().timestamp()
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an ISO date-time like 2026-11-20T09:00, got {text!r}") from None


def positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not v > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return v


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2026-11-23, got {text!r}") from None


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", metavar="PATH", default=None, help="history file to use (default: the app's data folder)"
    )


# What `add_subparsers()` returns; every command module's `register` takes one.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
