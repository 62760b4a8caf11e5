"""Argument helpers shared by the sub-commands."""

from __future__ import annotations

import argparse
import math
import sys
from datetime import datetime

from posture.errors import UserError


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


class Progress:
    """A one-line progress bar on a terminal; silent when output is redirected."""

    def __init__(self, label: str, enabled: bool | None = None) -> None:
        self.label = label
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._last = -1

    def __call__(self, fraction: float) -> None:
        if not self.enabled:
            return
        pct = int(fraction * 100)
        if pct == self._last:
            return
        self._last = pct
        filled = pct * 30 // 100
        sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] {pct:3d}%")
        sys.stderr.flush()

    def done(self) -> None:
        if self.enabled and self._last >= 0:
            sys.stderr.write("\r" + " " * (len(self.label) + 40) + "\r")
            sys.stderr.flush()


def fail(message: str) -> UserError:
    return UserError(message)
