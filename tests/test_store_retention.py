"""Retention counts from the real wall clock, deletes no more than it asks, and never prunes a file
whose history reaches past the clock."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

import pytest

from posture.clock import FakeClock
from posture.samples import PostureSample
from posture.store.writer import HistoryWriter

from conftest import StoredEvent as Event

REPO = Path(__file__).resolve().parents[1]
CLIP = REPO / "sample_videos" / "forward_head.mp4"
DAY = 86400.0
NOW = 1_796_000_000.0  # the real wall clock of these tests (Dec 2026)


def sample(wall: float, state: str = "good") -> PostureSample:
    return PostureSample(t=0.0, wall=wall, person=True, metrics={}, score=85.0, state=state)


def real_history(path: Path, now: float, days: tuple[float, ...] = (1, 3, 6, 8, 10)) -> None:
    """Half a minute of history on each of these days before `now`, plus an event each."""
    clock = FakeClock(wall_start=now)
    with HistoryWriter(path, clock, wall_clock=clock) as writer:
        for d in sorted(days, reverse=True):
            for i in range(30):
                writer.add_sample(sample(now - d * DAY + i))
            writer.add_event(Event(t=0, wall=now - d * DAY, kind="session_start"))


def days_on_file(path: Path, now: float) -> list[int]:
    with sqlite3.connect(path) as conn:
        starts = [r[0] for r in conn.execute("SELECT start FROM spans ORDER BY start")]
    return sorted({round((now - s) / DAY) for s in starts}, reverse=True)


def test_a_replay_placed_in_2030_prunes_from_the_real_clock(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    real_history(path, NOW)
    replay_clock = FakeClock(wall_start=1_906_000_000.0)  # June 2030: the replay's own timeline
    writer = HistoryWriter(path, replay_clock, wall_clock=FakeClock(wall_start=NOW))
    result = writer.prune(older_than_days=7)
    writer.close()
    assert result is not None and result.spans == 2 and result.events == 2
    assert days_on_file(path, NOW) == [6, 3, 1]


def test_a_system_clock_set_years_ahead_deletes_nothing_a_right_clock_would_keep(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    real_history(path, NOW)
    wrong = FakeClock(wall_start=NOW + 600 * DAY)  # the clock says 2028
    writer = HistoryWriter(path, wrong, wall_clock=wrong)
    writer.prune(older_than_days=7)
    writer.close()
    # Counted back from the newest history (1 day ago), not from 2028: the last week stays.
    assert days_on_file(path, NOW) == [6, 3, 1]


def test_history_in_the_future_is_never_pruned(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    real_history(path, NOW, days=(1, 10, 20))
    real_history(path, NOW + 400 * DAY, days=(0.5,))  # a replay once recorded into 2028
    warnings: list[str] = []
    clock = FakeClock(wall_start=NOW)
    writer = HistoryWriter(path, clock, wall_clock=clock, on_warning=warnings.append)
    assert writer.prune(older_than_days=7) is None
    writer.close()
    assert len(warnings) == 1 and "not applying retention_days" in warnings[0] and "nothing was deleted" in warnings[0]
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM spans").fetchone()[0] == 4


def test_retention_deletes_exactly_what_is_older_than_the_window(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    clock = FakeClock(wall_start=NOW)
    with HistoryWriter(path, clock, wall_clock=clock) as writer:
        # Ten minutes either side of the cutoff, and the person's last minute.
        for offset in (7 * DAY + 600, 7 * DAY - 600, 60):
            for i in range(30):
                writer.add_sample(sample(NOW - offset + i))
    writer = HistoryWriter(path, clock, wall_clock=clock)
    writer.prune(older_than_days=7)
    writer.close()
    with sqlite3.connect(path) as conn:
        starts = [r[0] for r in conn.execute("SELECT start FROM spans ORDER BY start")]
        minutes = [r[0] for r in conn.execute("SELECT minute FROM minutes")]
    assert starts == [pytest.approx(NOW - 7 * DAY + 600), pytest.approx(NOW - 60)]
    assert min(minutes) + 60 > NOW - 7 * DAY


@pytest.mark.skipif(not CLIP.exists(), reason="sample clip missing (run 'make samples')")
def test_run_replay_into_2030_keeps_real_history_and_then_refuses_to_prune(tmp_path: Path) -> None:
    """The reported case end to end: `posture run --source CLIP --start-time 2030-...` with retention on."""
    import subprocess
    import sys

    config = Path(os.environ["POSTURE_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "settings.json").write_text(json.dumps({"retention_days": 7}))
    path = tmp_path / "h.db"
    now = time.time()
    real_history(path, now)
    cmd = [sys.executable, "-m", "posture", "run", "--headless", "--source", str(CLIP), "--db", str(path),
           "--start-time", "2030-06-01T09:00", "--duration", "4", "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, cwd=REPO)
    assert first.returncode == 0, first.stderr
    assert days_on_file(path, now)[:3] == [6, 3, 1]  # the real week is intact; days 8 and 10 went by retention
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, cwd=REPO)
    assert second.returncode == 0, second.stderr
    assert "not applying retention_days" in second.stderr
    assert days_on_file(path, now)[:3] == [6, 3, 1]
