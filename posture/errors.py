"""Errors a person can act on.

A `UserError` is printed as one line (what, which thing, what to do) and exits with status 2; anything
else is a bug and keeps its traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem with input the user controls: a path, a file's contents, a camera, a setting."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        # One line only: the CLI prints it verbatim after "error: ".
        super().__init__(" ".join(message.split()))


class SourceError(UserError):
    """A frame source cannot be opened or has failed."""


class ConfigError(UserError):
    """A settings, profile, label or routine file is invalid."""


class StoreError(UserError):
    """The history database cannot be used."""
