"""Argument parsers shared by the sub-commands of every layer (core, calibration, ui).

They live in the core, below everything, so a command module anywhere can use them without reaching up
into the command line's package (`posture.cli`, the composition root at the top of the import graph).
"""

from __future__ import annotations

import argparse
import math
from datetime import date, datetime
from typing import TypeAlias


def parse_span(text: str) -> tuple[float, float]:
    """'0:8' → (0.0, 8.0) seconds."""
    try:
        a, b = text.split(":")
        start, end = float(a), float(b)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected START:END in seconds, e.g. 0:8, got {text!r}") from None
    if not (math.isfinite(start) and math.isfinite(end)):
        raise argparse.ArgumentTypeError(f"span {text!r} needs two finite numbers of seconds, e.g. 0:8")
    if start < 0 or end <= start:
        raise argparse.ArgumentTypeError(f"span {text!r} must have 0 <= START < END")
    return start, end


def parse_start_time(text: str) -> float:
    """An ISO date-time ('2026-11-20T09:00') or 'now' → epoch seconds."""
    if text == "now":
        return datetime.now().timestamp()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an ISO date-time like 2026-11-20T09:00, got {text!r}") from None
    # History is read back as local dates; keep a recording (and a long replay after it) well inside
    # the years the platform's date functions represent.
    if not 1971 <= moment.year <= 9000:
        raise argparse.ArgumentTypeError(f"--start-time {text} is outside the years 1971 to 9000")
    return moment.timestamp()


def positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (v > 0 and math.isfinite(v)):
        raise argparse.ArgumentTypeError(f"expected a positive, finite number, got {text!r}")
    return v


# Reports reach 60 days back (a month and the one before it) and one day forward: keep every date
# they touch inside what the platform's clock functions can represent.
FIRST_DAY = date(1971, 1, 1)
LAST_DAY = date(9998, 12, 31)


def parse_date(text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2026-11-23, got {text!r}") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise argparse.ArgumentTypeError(f"{text} is outside the dates history can cover ({FIRST_DAY} to {LAST_DAY})")
    return day


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", metavar="PATH", default=None, help="history file to use (default: the app's data folder)"
    )


# What `add_subparsers()` returns; every command module's `register` takes one.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
