"""Where history lives: the platform's per-user data directory, unless `--db` says otherwise."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "posture-companion"
DB_FILENAME = "history.db"
# Tests and portable installs point the whole data folder elsewhere (as POSTURE_CONFIG_DIR does for
# settings), so nothing ever touches a developer's real history.
DATA_DIR_ENV = "POSTURE_DATA_DIR"


def data_dir() -> Path:
    override = os.environ.get(DATA_DIR_ENV)
    return Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_db_path() -> Path:
    """`~/.local/share/posture-companion/history.db` on Linux; the matching folder elsewhere."""
    return data_dir() / DB_FILENAME


def resolve_db_path(override: str | Path | None) -> Path:
    """The path a command should use: the `--db` value (with `~` expanded) or the default."""
    if override is None or str(override) == "":
        return default_db_path()
    return Path(override).expanduser()
