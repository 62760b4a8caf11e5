"""Refusing input paths that would hang a reader: a named pipe (FIFO) or a device file.

Opening a FIFO for reading blocks until some other program writes to it, which may be never; a
device can stream forever. Recordings, settings and profiles are regular files (or folders of images),
so anything else is refused before it is opened.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def special_file(path: str | Path) -> bool:
    """True for an existing path that is neither a regular file nor a folder."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def special_file_message(path: str | Path, what: str) -> str:
    return f"{path} is a pipe or device, not a {what} file; reading it could wait forever — give a regular file"
