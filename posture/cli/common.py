"""Helpers of the core sub-commands: a progress bar; the argument parsers are re-exported from `posture.args`."""

from __future__ import annotations

import sys

from posture.args import parse_span, parse_start_time, positive_float
from posture.errors import UserError

__all__ = ["Progress", "fail", "parse_span", "parse_start_time", "positive_float"]


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
