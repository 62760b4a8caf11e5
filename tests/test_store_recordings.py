"""Recording the same clip at the same time twice replaces it; replays never write the future into the
person's history; replays and recorded calibrations leave the real history and profile alone."""

from __future__ import annotations

import os
import sqlite3
import time
from datetime import datetime
from pathlib import Path

import pytest

from calibration.profiles import ProfileStore
from posture.baseline import Baseline, MetricStat
from posture.cli import main
from posture.clock import FakeClock
from posture.samples import PostureSample
from posture.store.paths import default_db_path
from posture.store.writer import HistoryWriter, Recording, RunsAhead

from conftest import StoredEvent as Event

REPO = Path(__file__).resolve().parents[1]
CLIP = REPO / "sample_videos" / "forward_head.mp4"
UPRIGHT = REPO / "sample_videos" / "upright.mp4"
T0 = 1_795_000_000.0 + 17.5
needs_clip = pytest.mark.skipif(not CLIP.exists(), reason="sample clips missing (run 'make samples')")


def sample(wall: float, state: str, score: float, *reasons: str) -> PostureSample:
    return PostureSample(t=0.0, wall=wall, person=True, metrics={"cva_deg": 50.0}, score=score, state=state,
                         reasons=reasons)


def record(path: Path, key: Recording | None, start: float, n: int, state: str = "poor") -> None:
    with HistoryWriter(path, FakeClock(), recording=key) as writer:
        for i in range(n):
            writer.add_sample(sample(start + i, state, 40.0 if state == "poor" else 90.0, "head_forward"))
        writer.add_event(Event(t=0, wall=start, kind="nudge", data={"level": 1}))


def table(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


def snapshot(path: Path) -> tuple[list[tuple[object, ...]], ...]:
    return (
        table(path, "SELECT minute, samples, good, drifting, poor, away, unknown, score_wsum, score_secs "
                    "FROM minutes ORDER BY minute"),
        table(path, "SELECT minute, reason, seconds FROM minute_reasons ORDER BY minute, reason"),
        table(path, "SELECT start, duration, state, samples FROM spans ORDER BY start"),
        table(path, "SELECT wall, kind FROM events ORDER BY wall"),
    )


def test_recording_twice_at_the_same_start_replaces_the_first(tmp_path: Path) -> None:
    once, twice = tmp_path / "once.db", tmp_path / "twice.db"
    key = Recording("/clips/desk.mp4", T0)
    record(once, key, T0, 150)
    record(twice, key, T0, 90)  # the run that was killed half-way...
    record(twice, key, T0, 150)  # ...and the natural recovery: run it again
    assert snapshot(twice) == snapshot(once)


def test_replacing_a_recording_keeps_what_others_wrote_in_the_same_minutes(tmp_path: Path) -> None:
    path, expected = tmp_path / "h.db", tmp_path / "expected.db"
    key = Recording("/clips/desk.mp4", T0)
    for target, runs in ((path, 2), (expected, 1)):
        record(target, None, T0 - 20, 15, state="good")  # live history just before, sharing a minute
        for _ in range(runs):
            record(target, key, T0, 100)
    assert snapshot(path) == snapshot(expected)
    good, poor = table(path, "SELECT sum(good), sum(poor) FROM minutes")[0]
    assert (good, poor) == (pytest.approx(15.0), pytest.approx(100.0))


def test_a_different_start_or_clip_is_a_different_recording(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    record(path, Recording("/clips/a.mp4", T0), T0, 30)
    record(path, Recording("/clips/a.mp4", T0 + 3600), T0 + 3600, 30)
    record(path, Recording("/clips/b.mp4", T0), T0 + 7200, 30)
    assert table(path, "SELECT sum(samples) FROM spans")[0][0] == 90


def test_a_replay_into_the_persons_history_stops_at_the_real_clock(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    now = FakeClock(wall_start=T0 + 60)
    writer = HistoryWriter(path, FakeClock(), wall_clock=now, horizon=True)
    with pytest.raises(RunsAhead, match="runs ahead of the real clock"):
        for i in range(3600):
            writer.add_sample(sample(T0 + i, "good", 90.0))
    writer.close()
    last_minute = table(path, "SELECT max(minute) FROM minutes")[0][0]
    end = table(path, "SELECT max(start + duration) FROM spans")[0][0]
    assert last_minute <= now.wall() + 300 and end <= now.wall() + 301


@needs_clip
def test_analyze_record_twice_gives_the_same_history(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    args = ["analyze", str(CLIP), "--record", "--db", str(path), "--start-time", "2026-11-20T09:00",
            "--calibrate-from", "0:6", "--quiet"]
    assert main(args) == 0
    first = snapshot(path)
    assert main(args) == 0
    assert snapshot(path) == first
    assert len(table(path, "SELECT * FROM recordings")) == 1


@needs_clip
def test_analyze_record_into_the_persons_history_never_reaches_the_future(capsys: pytest.CaptureFixture[str]) -> None:
    history = default_db_path()
    future = datetime.fromtimestamp(time.time() + 3600).isoformat(timespec="minutes")
    assert main(["analyze", str(CLIP), "--record", "--start-time", future, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "in the future" in err and "--db" in err and err.count("\n") == 1
    assert not history.exists()
    # Without --start-time the clip is placed to end now.
    before = time.time()
    assert main(["analyze", str(CLIP), "--record", "--quiet"]) == 0
    end = table(history, "SELECT max(start + duration) FROM spans")[0][0]
    assert before - 60 < end <= time.time() + 2


@needs_clip
def test_run_source_clip_leaves_the_persons_history_alone(capsys: pytest.CaptureFixture[str]) -> None:
    history = default_db_path()
    assert main(["run", "--headless", "--source", str(CLIP), "--loop", "--duration", "120", "--quiet"]) == 0
    assert "nothing is written to your history" in capsys.readouterr().out
    assert not history.exists()


@pytest.mark.skipif(not UPRIGHT.exists(), reason="sample clips missing (run 'make samples')")
def test_calibrate_from_a_recording_keeps_the_active_profile(capsys: pytest.CaptureFixture[str]) -> None:
    store = ProfileStore()
    store.save("Laptop", Baseline("front", {"head_height": MetricStat(0.6, 0.01, 10)}, (0.5, 0.7, 0.3)))
    store.set_active("Laptop")
    before = (store.root / "laptop.json").read_bytes()
    assert main(["calibrate", "--source", str(UPRIGHT), "--seconds", "5"]) == 0
    out = capsys.readouterr().out
    assert "saved profile 'clip upright'" in out and "not active" in out
    assert store.active_name() == "Laptop"
    assert (store.root / "laptop.json").read_bytes() == before
    assert set(store.names()) == {"Laptop", "clip upright"}
    assert os.path.exists(store.root / "clip-upright.json")
