"""Checks shared by the loaders of user-edited JSON files (settings, labels)."""

from __future__ import annotations

import math


def finite_number(value: object) -> bool:
    """A JSON number that is neither a boolean nor infinite/NaN; huge integers count as not finite."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False
