"""The second start reaches the first however deep the runtime folder lies.

A Unix socket path has room for about 104 bytes; the desktop suite's runtime folder (pytest's temporary
folder) is longer than that, and there bind() used to fail quietly: the second start exited with its line
but the running app never heard of it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ui.single_instance import SOCKET_PATH_MAX, SingleInstance, socket_path_for


def deep_folder(tmp_path: Path) -> Path:
    folder = tmp_path / ("runtime-folder-with-a-long-name-" * 3)
    folder.mkdir()
    return folder


def test_a_deep_runtime_folder_still_lets_the_second_start_ring(qtbot: Any, tmp_path: Path) -> None:
    folder = deep_folder(tmp_path)
    key = f"posture-companion-test-{os.getpid()}-0123456789ab"
    assert len(os.fsencode(folder / f"{key}.sock")) > 108, "the folder is too deep for a socket beside the lock"
    first, second = SingleInstance(key, folder), SingleInstance(key, folder)
    try:
        assert first.acquire()
        assert first.socket_path is not None and first.socket_path.exists(), "the owner listens"
        assert not second.acquire()
        with qtbot.waitSignal(first.activated, timeout=5_000):
            assert second.tell_owner()
    finally:
        first.release()
    assert first.socket_path is not None and not first.socket_path.exists(), "the socket goes with the owner"
    assert (folder / f"{key}.lock").exists() is False


def test_short_paths_stay_beside_the_lock_and_long_ones_differ_by_folder(tmp_path: Path) -> None:
    assert socket_path_for(Path("/run/user/1000"), "posture-companion-me") == Path(
        "/run/user/1000/posture-companion-me.sock")
    a = socket_path_for(deep_folder(tmp_path), "posture-companion-me")
    other = tmp_path / "b"
    other.mkdir()
    b = socket_path_for(deep_folder(other), "posture-companion-me")
    assert a is not None and b is not None and a != b, "two folders never share one socket"
    assert len(os.fsencode(a)) <= SOCKET_PATH_MAX
    assert (a.parent.stat().st_mode & 0o777) == 0o700, "a private folder"
