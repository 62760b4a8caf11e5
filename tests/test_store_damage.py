"""A history file deleted, replaced or damaged under a running companion; `history check` / `repair`."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from posture.cli import main
from posture.clock import FakeClock
from posture.samples import PostureSample
from posture.store.repair import rescued_files
from posture.store.writer import HistoryWriter

REPO = Path(__file__).resolve().parents[1]
CLIP = REPO / "sample_videos" / "forward_head.mp4"
T0 = 1_795_000_000.0  # 2026-11-19 ~ 09:06 UTC
DAY = "2026-11-19"


def sample(wall: float, state: str = "good") -> PostureSample:
    return PostureSample(t=0.0, wall=wall, person=True, metrics={"cva_deg": 50.0}, score=80.0, state=state)


def feed(writer: HistoryWriter, clock: FakeClock, start: int, stop: int) -> None:
    for i in range(start, stop):
        writer.add_sample(sample(T0 + i, ("good", "poor")[i // 10 % 2]))
        clock.advance(1.0)


def samples_from(path: Path, since: float = 0.0) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT coalesce(sum(samples), 0) FROM spans WHERE start >= ?", (since,)).fetchone()[0])


def test_a_deleted_history_file_is_recreated_within_a_minute_with_one_warning(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    clock = FakeClock(wall_start=T0)
    warnings: list[str] = []
    writer = HistoryWriter(path, clock, on_warning=warnings.append)
    feed(writer, clock, 0, 100)
    writer.flush()
    for name in ("history.db", "history.db-wal", "history.db-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    feed(writer, clock, 100, 160)  # one minute later...
    assert path.exists()  # ...the file is back
    feed(writer, clock, 160, 400)
    writer.close()
    assert len(warnings) == 1 and "deleted or replaced" in warnings[0]
    assert writer.stats().recreated == 1
    # Everything from the deletion on is in the new file (the span open at that moment, whole).
    assert samples_from(path, T0 + 100) == 300
    assert samples_from(path) >= 300


def test_a_replaced_history_file_is_noticed_and_written_to(tmp_path: Path) -> None:
    path, other = tmp_path / "history.db", tmp_path / "backup.db"
    with HistoryWriter(other, FakeClock()) as w:
        w.add_sample(sample(T0 - 3600))
    clock = FakeClock(wall_start=T0)
    warnings: list[str] = []
    writer = HistoryWriter(path, clock, on_warning=warnings.append)
    feed(writer, clock, 0, 50)
    writer.flush()
    os.replace(other, path)  # the person restores a backup over it
    for side in ("history.db-wal", "history.db-shm"):
        (tmp_path / side).unlink(missing_ok=True)
    feed(writer, clock, 50, 200)
    writer.close()
    assert len(warnings) == 1
    assert samples_from(path, T0 - 3600) - samples_from(path, T0) == 1  # the backup's row is still there
    assert samples_from(path, T0 + 50) == 150


def damage(path: Path, table: str, which: str = "middle") -> None:
    """Overwrite leaf pages of `table` with garbage, as a bad sector or a half-written copy would."""
    with sqlite3.connect(path) as conn:
        try:
            pages = [r[0] for r in conn.execute(
                "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno", (table,))]
        except sqlite3.OperationalError:
            pytest.skip("this SQLite has no dbstat table to find a table's pages")
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    if which == "root":
        with sqlite3.connect(path) as conn:
            pages = [conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]]
        conn.close()
    chosen = pages if which in ("all", "root") else [pages[len(pages) // 2]]
    with open(path, "r+b") as fh:
        for page in chosen:
            fh.seek((page - 1) * size)
            fh.write(b"\xa5" * size)


@pytest.fixture
def damaged_history(tmp_path: Path) -> Path:
    path = tmp_path / "history.db"
    clock = FakeClock(wall_start=T0)
    with HistoryWriter(path, clock) as writer:
        feed(writer, clock, 0, 9000)  # 150 minutes, 900 spans: several pages each
    assert not (tmp_path / "history.db-wal").exists()  # checkpointed on close
    damage(path, "minutes")
    damage(path, "spans")
    return path


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_damaged_history_gives_one_line_errors_and_no_empty_export(
    damaged_history: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = damaged_history.read_bytes()
    assert main(["report", "--db", str(damaged_history), "--day", DAY]) == 2
    assert "is damaged" in one_line_error(capsys)
    out = tmp_path / "export.json"
    assert main(["export", "--db", str(damaged_history), "--json", str(out)]) == 2
    err = one_line_error(capsys)
    assert "damaged" in err and "posture history repair" in err
    assert not out.exists()
    assert main(["export", "--db", str(damaged_history), "--csv", str(tmp_path / "csv")]) == 2
    one_line_error(capsys)
    assert not any((tmp_path / "csv").glob("*.csv"))
    assert main(["history", "check", "--db", str(damaged_history)]) == 2
    assert "posture history repair" in capsys.readouterr().err
    assert damaged_history.read_bytes() == before  # reading never changed it


def test_repair_keeps_the_damaged_copy_and_recovers_what_can_be_read(
    damaged_history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = damaged_history.read_bytes()
    assert main(["history", "repair", "--db", str(damaged_history)]) == 0
    out = capsys.readouterr().out
    copies = list(damaged_history.parent.glob("history.db.damaged-*"))
    assert len(copies) == 1 and copies[0].read_bytes() == before
    assert str(copies[0]) in out
    assert main(["history", "check", "--db", str(damaged_history)]) == 0
    with sqlite3.connect(damaged_history) as conn:
        spans = conn.execute("SELECT count(*) FROM spans").fetchone()[0]
        minutes = conn.execute("SELECT count(*) FROM minutes").fetchone()[0]
    # One page of each table is lost (a spans page holds ~137 rows here), the rest recovered.
    assert 900 - 140 <= spans < 900 and 150 - 40 <= minutes < 150
    assert main(["report", "--db", str(damaged_history), "--day", DAY]) == 0
    assert main(["export", "--db", str(damaged_history), "--json", str(damaged_history.parent / "e.json")]) == 0


@pytest.mark.skipif(not CLIP.exists(), reason="sample clips missing (run 'make samples')")
def test_run_and_dashboard_on_a_damaged_file_stop_with_the_way_out(
    damaged_history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = damaged_history.read_bytes()
    assert main(["run", "--headless", "--source", str(CLIP), "--db", str(damaged_history), "--quiet"]) == 2
    err = one_line_error(capsys)
    assert "is damaged" in err and "posture history repair" in err
    assert main(["dashboard", "--db", str(damaged_history), "--screenshot", str(damaged_history.parent / "d.png")]) == 2
    assert "posture history repair" in one_line_error(capsys)
    assert damaged_history.read_bytes() == before and rescued_files(damaged_history) == []


def test_a_file_damaged_under_the_writer_keeps_its_samples_for_repair(tmp_path: Path) -> None:
    """The writer neither crashes nor loses what it saw: unsaved rows go beside the file when it stops.

    (The writer is built directly here: the commands check the file first and would stop at once.)
    """
    path = tmp_path / "history.db"
    clock = FakeClock(wall_start=T0)
    with HistoryWriter(path, clock) as writer:
        feed(writer, clock, 0, 3000)
    # A bad sector where the next save must read: the root page of the per-minute table.
    damage(path, "minutes", which="root")
    warnings: list[str] = []
    writer = HistoryWriter(path, clock, on_warning=warnings.append)
    feed(writer, clock, 3030, 3600)
    assert not writer.stats().healthy
    writer.close()
    assert any("posture history repair" in w for w in warnings)
    rescued = rescued_files(path)
    assert len(rescued) == 1
    assert samples_from(rescued[0], T0 + 3030) == 570
    assert main(["history", "repair", "--db", str(path)]) == 0
    assert rescued_files(path) == []
    assert samples_from(path, T0 + 3030) == 570
    first = (int(T0 + 3090) // 60 + 1) * 60
    with sqlite3.connect(path) as conn:
        seconds = conn.execute("SELECT sum(good + poor) FROM minutes WHERE minute >= ?", (first,)).fetchone()[0]
    assert seconds == pytest.approx(T0 + 3600 - first)


def test_a_deleted_data_folder_is_recreated_with_its_lock(tmp_path: Path) -> None:
    import shutil

    path = tmp_path / "data" / "history.db"
    clock = FakeClock(wall_start=T0)
    warnings: list[str] = []
    writer = HistoryWriter(path, clock, on_warning=warnings.append)
    feed(writer, clock, 0, 30)
    writer.flush()
    shutil.rmtree(tmp_path / "data")
    feed(writer, clock, 30, 120)
    assert (tmp_path / "data" / "history.db.lock").exists()
    held = subprocess.run(
        [sys.executable, "-c", "import sys; from posture.store.lock import is_locked_elsewhere; "
         "from pathlib import Path; print(is_locked_elsewhere(Path(sys.argv[1])))", str(path)],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=REPO, timeout=60)
    assert held.stdout.strip() == f"pid {os.getpid()}"
    writer.close()
    assert len(warnings) == 1 and samples_from(path, T0 + 30) == 90
