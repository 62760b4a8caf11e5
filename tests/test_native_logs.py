"""Standard error stays the user's: prompts and Qt's errors show; only model loading is muted."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from posture.coach.safety import SAFETY_QUESTIONS

VENV_BIN = Path(sys.executable).parent


def test_quieting_native_logs_never_takes_stderr_away() -> None:
    from posture.native_logs import silence_native_stderr

    before = os.fstat(2)
    stream = sys.stderr
    silence_native_stderr()
    after = os.fstat(2)
    assert (before.st_dev, before.st_ino) == (after.st_dev, after.st_ino), "fd 2 still goes where it went"
    assert sys.stderr is stream
    glog = os.environ.get("GLOG_minloglevel")  # noqa: SIM112 (glog spells it so)
    assert glog == "2" or os.environ.get("POSTURE_NATIVE_LOGS") == "1"


def test_muting_covers_only_the_block_and_gives_fd2_back() -> None:
    code = ("import os\nfrom posture.native_logs import native_stderr_muted\n"
            "os.write(2, b'before\\n')\n"
            "with native_stderr_muted():\n    os.write(2, b'native noise\\n')\n"
            "os.write(2, b'after\\n')\n")
    env = {k: v for k, v in os.environ.items() if k != "POSTURE_NATIVE_LOGS"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert proc.stderr == "before\nafter\n"


def read_until(fd: int, needle: bytes, seen: bytearray, timeout: float = 30.0) -> bool:
    end = time.monotonic() + timeout
    while needle not in seen and time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                return needle in seen
            if not chunk:
                break
            seen += chunk
    return needle in seen


@pytest.mark.skipif(not (VENV_BIN / "posture").exists(), reason="the posture command is not installed")
def test_posture_break_asks_its_safety_questions_where_the_person_can_see_them(tmp_path: Path) -> None:
    """In a real terminal (a pty): every question must be on screen before it is answered."""
    env = {k: v for k, v in os.environ.items() if k != "POSTURE_NATIVE_LOGS"}
    env.update(POSTURE_CONFIG_DIR=str(tmp_path), COLUMNS="100", TERM="xterm")
    main, child = pty.openpty()
    proc = subprocess.Popen([str(VENV_BIN / "posture"), "break", "neck-reset", "--speed", "2000"],
                            stdin=child, stdout=child, stderr=child, env=env, close_fds=True)
    os.close(child)
    seen = bytearray()
    try:
        for q in SAFETY_QUESTIONS:
            assert read_until(main, b"[y/n] ", seen), f"question not shown: {q.text!r}; screen: {bytes(seen)!r}"
            assert q.text.encode() in seen.replace(b"\r\n", b" ").replace(b"\n", b" ") or \
                q.text[:30].encode() in seen
            seen.clear()
            os.write(main, b"n\n")
        read_until(main, b"Answers saved", seen)
        assert b"Answers saved" in seen
    finally:
        proc.kill()
        proc.wait(10)
        os.close(main)
    assert (tmp_path / "safety.json").exists()
