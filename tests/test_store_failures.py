"""When history cannot be written the monitor must keep running: warn once, hold a bounded backlog,
retry later, and save the backlog once the file is writable again."""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

import pytest

from posture.clock import FakeClock
from posture.samples import PostureSample
from posture.store.writer import HistoryWriter

from conftest import StoredEvent as Event

T0 = 1_795_000_000.0


def sample(i: int) -> PostureSample:
    # Alternate states so every sample starts a new span: the worst case for the backlog.
    state = "good" if i % 2 == 0 else "poor"
    return PostureSample(t=i, wall=T0 + i, person=True, score=90.0 if state == "good" else 40.0, state=state)


def saved_samples(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT coalesce(sum(samples), 0) FROM spans").fetchone()[0])


def run(writer: HistoryWriter, clock: FakeClock, start: int, count: int) -> None:
    for i in range(start, start + count):
        writer.add_sample(sample(i))
        clock.advance(1.0)


def test_read_only_file_warns_once_keeps_going_and_catches_up(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    clock = FakeClock()
    warnings: list[str] = []
    writer = HistoryWriter(path, clock, retry_interval=30.0, on_warning=warnings.append)
    run(writer, clock, 0, 20)
    assert writer.stats().healthy
    # Root ignores file modes, so make the writer's own connection read-only: SQLite then reports
    # exactly what a read-only file gives, "attempt to write a readonly database".
    writer._conn.execute("PRAGMA query_only = ON")  # type: ignore[union-attr]
    run(writer, clock, 20, 600)  # ten minutes of trying
    stats = writer.stats()
    assert len(warnings) == 1, warnings
    assert "cannot save to" in warnings[0] and "read-only" in warnings[0] and "\n" not in warnings[0]
    assert not stats.healthy and stats.failures == 600 // 30
    assert stats.dropped_rows == 0  # 600 spans fit the default backlog
    writer._conn.execute("PRAGMA query_only = OFF")  # type: ignore[union-attr]
    run(writer, clock, 620, 40)  # the next retry succeeds
    assert writer.stats().healthy
    writer.close()
    assert saved_samples(path) == 660
    assert len(warnings) == 1


def test_disk_full_holds_a_bounded_backlog_and_counts_drops(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    clock = FakeClock()
    warnings: list[str] = []
    writer = HistoryWriter(path, clock, max_pending_rows=100, on_warning=warnings.append)
    run(writer, clock, 0, 10)
    writer.flush()
    conn = writer._conn
    assert conn is not None
    # The file may not grow by a single page: SQLite answers SQLITE_FULL, as on a full disk.
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    for i in range(10, 5000):
        writer.add_sample(sample(i))
        writer.add_event(Event(t=i, wall=T0 + i, kind="nudge"))
        clock.advance(1.0)
        assert writer.stats().pending_rows <= 3 * 100 + 5  # spans, minutes, events: each capped
    stats = writer.stats()
    assert len(warnings) == 1 and "disk full" in warnings[0]
    assert stats.dropped_rows > 0
    conn.execute("PRAGMA max_page_count = 1073741823")
    clock.advance(60.0)
    writer.add_sample(sample(5000))
    assert writer.stats().healthy
    writer.close()
    saved = saved_samples(path)
    # Everything before the outage and the newest backlog survive; the oldest backlog was dropped.
    assert 100 < saved < 4991
    with sqlite3.connect(path) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # Some events still fit in free pages before the first failure; the newest 100 always survive.
        count, newest = c.execute("SELECT count(*), max(wall) FROM events").fetchone()
        assert 100 <= count < 4990 and newest == T0 + 4999


def test_unreachable_folder_is_retried_until_it_appears(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data folder should be")
    path = blocker / "history.db"
    clock = FakeClock()
    warnings: list[str] = []
    writer = HistoryWriter(path, clock, retry_interval=10.0, on_warning=warnings.append)
    run(writer, clock, 0, 25)
    assert len(warnings) == 1 and "cannot create the folder" in warnings[0]
    blocker.unlink()
    run(writer, clock, 25, 15)
    assert writer.stats().healthy
    writer.close()
    assert saved_samples(path) == 40


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root ignores file modes")
def test_chmod_read_only_file(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    HistoryWriter(path, FakeClock()).close()
    path.chmod(0o444)
    warnings: list[str] = []
    clock = FakeClock()
    writer = HistoryWriter(path, clock, on_warning=warnings.append)
    run(writer, clock, 0, 30)
    writer.close()
    assert len(warnings) == 1


def test_close_with_an_unwritable_file_does_not_raise(tmp_path: Path) -> None:
    clock = FakeClock()
    warnings: list[str] = []
    writer = HistoryWriter(tmp_path / "h.db", clock, on_warning=warnings.append)
    run(writer, clock, 0, 3)
    writer._conn.execute("PRAGMA query_only = ON")  # type: ignore[union-attr]
    writer.close()
    assert len(warnings) == 1
    assert writer.stats().dropped_rows > 0
    with pytest.raises(RuntimeError):
        writer.add_sample(sample(99))
