"""Where history lives: the platform's per-user data directory, unless `--db` says otherwise."""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP_NAME = "posture-companion"
DB_FILENAME = "history.db"


def default_db_path() -> Path:
    """`~/.local/share/posture-companion/history.db` on Linux; the matching folder elsewhere."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / DB_FILENAME


def resolve_db_path(override: str | Path | None) -> Path:
    """The path a command should use: the `--db` value (with `~` expanded) or the default."""
    if override is None or str(override) == "":
        return default_db_path()
    return Path(override).expanduser()
