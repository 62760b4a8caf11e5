"""Durability and concurrency of the real file: kill -9 mid-write, readers beside a busy writer, and
the size of a realistic day."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

import pytest

from posture.store import open_reader
from posture.store.queries import data_version, events_between, minute_series, spans_between, state_totals

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.make_history import generate_workday  # noqa: E402

WRITER_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from posture.clock import SystemClock
    from posture.events import NudgeShown
    from posture.samples import PostureSample
    from posture.store.writer import HistoryWriter

    path, commit_interval, step = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    writer = HistoryWriter(path, SystemClock(), commit_interval=commit_interval)
    states = ("good", "good", "drifting", "poor", "good", "away")
    i = 0
    start = time.time()
    while True:
        # `step` > 0: simulated 1 Hz history as fast as possible; 0: real time at ~50 Hz.
        wall = start + i * step if step else time.time()
        state = states[(i // 5) % len(states)]
        score = None if state == "away" else {"good": 88.0, "drifting": 72.0, "poor": 45.0}[state]
        writer.add_sample(PostureSample(
            t=i, wall=wall, person=state != "away", score=score, state=state,
            reasons=("head_forward",) if state == "poor" else (),
            metrics={"cva_deg": 50.0 + i % 7, "head_height": 0.4},
        ))
        if i % 40 == 0:
            writer.add_event(NudgeShown(t=i, wall=wall, level=1, reasons=("head_forward",), text=str(i)))
        if i % 10 == 0:
            print(f"{wall:.3f}", flush=True)
        i += 1
        if not step:
            time.sleep(0.02)
    """
)


def start_writer(path: Path, commit_interval: float, step: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER_SCRIPT, str(path), str(commit_interval), str(step)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )


def read_progress(proc: subprocess.Popen[str], seconds: float) -> float:
    """Newest wall time the child reported as added, after letting it run for `seconds`."""
    assert proc.stdout is not None
    deadline = time.monotonic() + seconds
    last = 0.0
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        last = float(line)
    return last


@pytest.mark.parametrize("run_seconds", [2.5, 4.0])
def test_kill_9_keeps_the_file_intact_and_loses_only_the_last_seconds(tmp_path: Path, run_seconds: float) -> None:
    path = tmp_path / "history.db"
    commit_interval = 1.0
    for _round in range(2):  # the second round reopens a file that was killed mid-write
        proc = start_writer(path, commit_interval, step=0.0)
        last_added = read_progress(proc, run_seconds)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
        assert last_added > 0
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            saved_until = conn.execute("SELECT max(start + duration) FROM spans").fetchone()[0]
            minutes_until = conn.execute("SELECT max(minute) FROM minutes").fetchone()[0]
        conn.close()
        # At most one commit interval (plus scheduling slack) of the newest history is gone.
        assert saved_until >= last_added - commit_interval - 1.0
        assert minutes_until >= (last_added - commit_interval - 1.0) // 60 * 60 - 60


def test_readers_never_see_database_is_locked_while_a_writer_commits(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    # Commit as often as possible with 1 Hz simulated samples: thousands of rows a second.
    proc = start_writer(path, commit_interval=0.01, step=1.0)
    try:
        read_progress(proc, 0.5)  # the file exists and has rows
        conn = open_reader(path)
        # The writer reports rows as it adds them; on a loaded machine their first commit can come later.
        first_rows_by = time.monotonic() + 30.0
        while state_totals(conn, 0, 4e9).monitored <= 0 and time.monotonic() < first_rows_by:
            time.sleep(0.05)
        reads = versions = 0
        seen = set()
        monitored = 0.0
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            # A long-lived reader (the dashboard) and short-lived ones (reports) side by side.
            seen.add(data_version(conn))
            totals = state_totals(conn, 0, 4e9)
            series = minute_series(conn, 0, 4e9)
            spans_between(conn, 4e9 - 1, 4e9)
            events_between(conn, 0, 4e9, ("nudge",))
            other = open_reader(path)
            state_totals(other, 0, 4e9)
            other.close()
            # Rows were there before the first read, and a reader never sees committed history shrink.
            assert totals.monitored > 0 and len(series) > 0
            assert totals.monitored >= monitored
            monitored = totals.monitored
            reads += 1
            versions = len(seen)
        conn.close()
        assert proc.poll() is None, "the writer died"
        assert reads > 10 and versions > 2  # the reader really overlapped with many commits
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout:
            proc.stdout.close()
    with sqlite3.connect(path) as check:
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    check.close()


def test_an_eight_hour_day_at_1_hz_stays_under_one_megabyte(tmp_path: Path) -> None:
    day = date(2026, 11, 17)
    made = generate_workday(tmp_path / "day.db", day=day, hours=8.0, interval=1.0)
    assert made.samples > 8 * 3600 * 0.9  # the whole day was sampled (pauses excepted)
    size = made.bytes
    print(f"8-hour day at 1 Hz: {made.samples} samples -> {size / 1024:.0f} KiB ({size / 8:.0f} B/h)")
    assert size < 1_000_000
    # The day really is varied: many states, reasons and events, not one long span.
    conn = open_reader(made.path)
    totals = state_totals(conn, 0, 4e9)
    assert all(totals.seconds[s] > 60 for s in ("good", "drifting", "poor", "away"))
    assert conn.execute("SELECT count(*) FROM spans").fetchone()[0] > 300
    assert conn.execute("SELECT count(DISTINCT kind) FROM events").fetchone()[0] >= 6
    assert totals.monitored == pytest.approx(made.samples, rel=0.01)
    conn.close()
