"""One writer per history: a second companion is refused with the first one's pid; readers carry on."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from posture.cli import main
from posture.clock import FakeClock
from posture.store.lock import AlreadyRunning, holds
from posture.store.writer import HistoryWriter

REPO = Path(__file__).resolve().parents[1]
CLIP = REPO / "sample_videos" / "forward_head.mp4"

HOLDER = """
import sys, time
from posture.clock import SystemClock
from posture.samples import PostureSample
from posture.store.writer import HistoryWriter
w = HistoryWriter(sys.argv[1], SystemClock())
w.add_sample(PostureSample(t=0, wall=time.time() - 30, person=True, metrics={}, score=80.0, state="good"))
w.add_sample(PostureSample(t=1, wall=time.time() - 29, person=True, metrics={}, score=80.0, state="good"))
w.flush()
print("ready", flush=True)
time.sleep(120)
"""


@pytest.fixture
def running_companion(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """Another process writing tmp_path/history.db (stands in for a running companion)."""
    path = tmp_path / "history.db"
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=REPO)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    try:
        yield proc, path
    finally:
        proc.kill()
        proc.wait(10)


def test_a_second_companion_is_refused_with_the_first_ones_pid(
    running_companion: tuple[subprocess.Popen[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    proc, path = running_companion
    rc = main(["run", "--headless", "--source", str(CLIP), "--db", str(path), "--duration", "5", "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2
    assert f"Posture Companion is already running (pid {proc.pid})" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    with sqlite3.connect(path) as conn:  # nothing of the refused run reached the file
        assert conn.execute("SELECT count(*) FROM events WHERE kind = 'session_start'").fetchone()[0] == 0
        assert conn.execute("SELECT sum(samples) FROM spans").fetchone()[0] == 2


def test_the_tray_app_is_refused_before_it_builds_anything(
    running_companion: tuple[subprocess.Popen[str], Path]
) -> None:
    from posture.settings import Settings
    from ui.app import build_companion

    proc, path = running_companion
    args = argparse.Namespace(source=str(CLIP), loop=False, fps_in=1.0, realtime=False, start_time=None,
                              profile=None, calibrate_from=None, no_history=False, db=path, duration=None)
    with pytest.raises(AlreadyRunning, match=f"already running \\(pid {proc.pid}\\)"):
        build_companion(args, Settings(), tray_available=False)


def test_reports_and_exports_work_beside_the_running_companion(
    running_companion: tuple[subprocess.Popen[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, path = running_companion
    assert main(["report", "--db", str(path)]) == 0
    out = tmp_path / "export.json"
    assert main(["export", "--json", str(out), "--db", str(path)]) == 0
    assert sum(s["samples"] for s in json.loads(out.read_text())["spans"]) == 2
    assert main(["history", "check", "--db", str(path)]) == 0
    assert "ok" in capsys.readouterr().out


def test_repair_refuses_while_a_companion_writes(running_companion: tuple[subprocess.Popen[str], Path],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    proc, path = running_companion
    before = path.read_bytes()
    assert main(["history", "repair", "--db", str(path)]) == 2
    assert f"pid {proc.pid}" in capsys.readouterr().err
    assert path.read_bytes() == before
    assert not list(path.parent.glob("*.damaged-*"))


def test_a_killed_companion_leaves_no_stale_lock(running_companion: tuple[subprocess.Popen[str], Path]) -> None:
    proc, path = running_companion
    with pytest.raises(AlreadyRunning):
        HistoryWriter(path, FakeClock())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    deadline = time.monotonic() + 5
    writer = None
    while writer is None:
        try:
            writer = HistoryWriter(path, FakeClock())
        except AlreadyRunning:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert holds(path)
    writer.close()
    assert not holds(path)  # a lone writer lets go when it closes
