"""JSON as a type, and checks shared by the loaders of user-edited JSON files (settings, labels)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TypeAlias

# Read-only containers are covariant, so a list[str] or a dict[str, float] is a JsonValue as it is.
JsonValue: TypeAlias = "bool | int | float | str | Sequence[JsonValue] | Mapping[str, JsonValue] | None"
JsonObject: TypeAlias = "dict[str, JsonValue]"


def finite_number(value: object) -> bool:
    """A JSON number that is neither a boolean nor infinite/NaN; huge integers count as not finite."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False
