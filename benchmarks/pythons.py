"""Find the supported Python interpreters on this machine (for `make test-matrix` and bench_install).

Standard library only: these scripts run under whatever Python started them, before any venv exists.
A name on PATH is not enough (a pyenv shim exists for every installed version but fails for those not
activated), so each candidate must run and report its version; pyenv's own folders are searched too.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path

SUPPORTED = ("3.11", "3.12", "3.13")
PROBE = "import sys, ensurepip; print('%d.%d' % sys.version_info[:2], sys.version.split()[0], sys.executable)"


def probe(python: str) -> tuple[str, str, str] | None:
    """(minor version, full version, executable) when `python` runs and can make a venv."""
    try:
        out = subprocess.run([python, "-c", PROBE], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    parts = out.stdout.split()
    return (parts[0], parts[1], parts[2]) if out.returncode == 0 and len(parts) == 3 else None


def _candidates(minor: str) -> list[str]:
    names = [f"python{minor}"]
    root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    names += sorted((str(p) for p in Path(root, "versions").glob(f"{minor}.*/bin/python{minor}")), reverse=True)
    return [n for n in names if shutil.which(n) or Path(n).is_file()]


def find_pythons(wanted: tuple[str, ...] = SUPPORTED) -> dict[str, tuple[str, str] | None]:
    """For each wanted minor version: (full version, executable), or None when none works here."""
    found: dict[str, tuple[str, str] | None] = {}
    for minor in wanted:
        found[minor] = None
        for name in _candidates(minor):
            got = probe(name)
            if got is not None and got[0] == minor:
                found[minor] = (got[1], got[2])
                break
    return found


def site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python3.*/site-packages"))


def tree_size(path: Path) -> int:
    """Bytes on disk under `path` (files only, symlinks not followed)."""
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):  # a file removed while walking
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return total
