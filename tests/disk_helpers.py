"""A small filesystem for full-disk tests: a tmpfs mount when running as root, else a file-size limit.

`small_disk(tmp_path, kb)` yields a folder on a filesystem of `kb` KiB, or skips with the reason when
this machine cannot make one (not root, or mounting is not allowed in this container). Tests that can
also use RLIMIT_FSIZE call `limited_python` instead, which runs a snippet in a child process whose files
cannot grow past a size (the child ignores SIGXFSZ, so a write past the limit fails with EFBIG the way a
full disk fails with ENOSPC).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _mount(mnt: Path, kb: int) -> bool:
    if os.name != "posix" or os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={kb}k", "tmpfs", str(mnt)], capture_output=True)
    return done.returncode == 0


def resize(mnt: Path, kb: int) -> None:
    """Give the small filesystem more (or less) room, keeping its files: the person freed some space."""
    subprocess.run(["mount", "-o", f"remount,size={kb}k", str(mnt)], check=True, capture_output=True)


@contextmanager
def small_disk(tmp_path: Path, kb: int) -> Iterator[Path]:
    mnt = tmp_path / f"disk{kb}k"
    mnt.mkdir()
    if not _mount(mnt, kb):
        pytest.skip("a small filesystem needs root and permission to mount tmpfs here")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def can_mount() -> bool:
    return os.name == "posix" and os.geteuid() == 0 and shutil.which("mount") is not None


def limited_python(code: str, max_file_bytes: int, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run `code` in a child whose files cannot grow beyond `max_file_bytes` (RLIMIT_FSIZE)."""
    try:
        import resource  # noqa: F401
    except ImportError:  # pragma: no cover - Windows
        pytest.skip("RLIMIT_FSIZE needs the resource module (POSIX)")
    prelude = "import resource, signal\nsignal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
    if max_file_bytes < NO_LIMIT:
        prelude += f"resource.setrlimit(resource.RLIMIT_FSIZE, ({max_file_bytes}, {max_file_bytes}))\n"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True, timeout=timeout,
                          env=env, cwd=REPO)


NO_LIMIT = 2**62


@contextmanager
def small_disk_or_limit(tmp_path: Path, kb: int) -> Iterator[tuple[Path, int]]:
    """(folder, file-size limit): a `kb` KiB tmpfs with no limit as root, else tmp_path with a
    RLIMIT_FSIZE of `kb` KiB for the child (`limited_python`)."""
    if can_mount():
        mnt = tmp_path / f"disk{kb}k"
        mnt.mkdir()
        if _mount(mnt, kb):
            try:
                yield mnt, NO_LIMIT
            finally:
                subprocess.run(["umount", "-l", str(mnt)], capture_output=True)
            return
    yield tmp_path, kb * 1024
