"""Creating the history file: all or nothing, even on a full disk or with two processes at once."""

from __future__ import annotations

import multiprocessing
import sqlite3
import sys
from pathlib import Path

import pytest
from disk_helpers import can_mount, limited_python, resize, small_disk

from posture.clock import FakeClock
from posture.errors import StoreError
from posture.samples import PostureSample
from posture.store.db import APPLICATION_ID, SCHEMA_VERSION, V1_TABLES, HistoryUnavailable, open_db
from posture.store.writer import HistoryWriter

ALL_TABLES = {"spans", "minutes", "minute_reasons", "events", "recordings", "recording_minutes"}
T0 = 1_795_000_020.0


def file_state(path: Path) -> tuple[int, set[str]]:
    """(schema version, tables) as on disk; a missing or empty file reads as (0, set())."""
    if not path.exists() or path.stat().st_size == 0:
        return 0, set()
    conn = sqlite3.connect(path)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()
    return version, tables


def assert_all_or_nothing(path: Path) -> None:
    version, tables = file_state(path)
    assert (version, tables) == (0, set()) or (version == SCHEMA_VERSION and tables >= ALL_TABLES), (version, tables)


def assert_complete(path: Path) -> None:
    conn = open_db(path)
    try:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    finally:
        conn.close()
    version, tables = file_state(path)
    assert version == SCHEMA_VERSION and tables >= ALL_TABLES


@pytest.mark.skipif(not can_mount(), reason="a tmpfs mount needs root (the RLIMIT_FSIZE variant below still runs)")
def test_a_full_disk_during_creation_leaves_nothing_half_made_tmpfs(tmp_path: Path) -> None:
    outcomes = set()
    for kb in (4, 8, 12, 16, 20, 24, 32, 40, 48, 64):
        with small_disk(tmp_path, kb) as disk:
            path = disk / "history.db"
            try:
                open_db(path).close()
                outcomes.add("created")
            except HistoryUnavailable as exc:  # "disk full": retried later, never "another program's file"
                assert "another program" not in str(exc)
                outcomes.add("full")
            resize(disk, 4096)  # the person frees some space (reading a WAL file needs room too)
            assert_all_or_nothing(path)
            assert_complete(path)
    assert outcomes == {"created", "full"}  # the sizes really straddle what creation needs


def test_a_full_disk_during_creation_leaves_nothing_half_made_rlimit(tmp_path: Path) -> None:
    outcomes = set()
    for limit in range(4096, 64 * 1024 + 1, 4096):
        path = tmp_path / f"h{limit}.db"
        done = limited_python(
            "import sys\n"
            "from posture.store.db import open_db, HistoryUnavailable\n"
            f"try:\n    open_db({str(path)!r}).close()\nexcept HistoryUnavailable as e:\n"
            "    print(e, file=sys.stderr); sys.exit(3)\n",
            limit,
        )
        assert done.returncode in (0, 3), done.stderr
        assert "another program" not in done.stderr
        outcomes.add(done.returncode)
        assert_all_or_nothing(path)
        assert_complete(path)  # without the limit, the same file opens and is completed
    assert outcomes == {0, 3}


@pytest.mark.skipif(not can_mount(), reason="needs a tmpfs mount (root)")
def test_the_writer_keeps_samples_through_a_full_disk_at_creation(tmp_path: Path) -> None:
    with small_disk(tmp_path, 8) as disk:
        path = disk / "history.db"
        clock = FakeClock(wall_start=T0)
        warnings: list[str] = []
        writer = HistoryWriter(path, clock, retry_interval=30.0, on_warning=warnings.append, wall_clock=clock)
        for i in range(120):
            writer.add_sample(PostureSample(t=i, wall=T0 + i, person=True, metrics={}, score=80.0, state="good"))
            clock.advance(1.0)
        assert not writer.stats().healthy and len(warnings) == 1 and "full" in warnings[0]
        resize(disk, 4096)
        assert_all_or_nothing(path)
        clock.advance(31.0)
        writer.add_sample(PostureSample(t=151, wall=T0 + 151, person=True, metrics={}, score=80.0, state="good"))
        writer.close()
        assert_complete(path)
        with sqlite3.connect(path) as conn:
            samples, seconds = conn.execute("SELECT sum(samples), sum(duration) FROM spans").fetchone()
        assert samples == 121 and seconds == pytest.approx(121.0)


def _old_half_created(path: Path, tables: tuple[str, ...]) -> None:
    """What releases before atomic creation could leave: some v1 tables, version 0, no application id."""
    from posture.store.db import V1_SQL, sql_statements

    conn = sqlite3.connect(path, isolation_level=None)
    for statement in sql_statements(V1_SQL):
        if any(f"EXISTS {t} " in statement or f"EXISTS {t}(" in statement or f" ON {t}(" in statement
               for t in tables):
            conn.execute(statement)
    conn.close()


@pytest.mark.parametrize("tables", [("spans",), ("spans", "minutes"), ("spans", "minutes", "minute_reasons")])
def test_a_half_created_file_from_an_older_version_is_completed(tmp_path: Path, tables: tuple[str, ...]) -> None:
    path = tmp_path / "history.db"
    _old_half_created(path, tables)
    assert file_state(path) == (0, set(tables))
    assert_complete(path)
    with HistoryWriter(path, FakeClock()) as writer:
        writer.add_sample(PostureSample(t=0, wall=T0, person=True, metrics={}, score=80.0, state="good"))
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM spans").fetchone()[0] == 1


def test_a_table_of_ours_with_other_columns_is_still_another_programs_file(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE spans (id INTEGER PRIMARY KEY, url TEXT)")
    conn.close()
    with pytest.raises(StoreError, match="another program"):
        open_db(path)
    assert file_state(path) == (0, {"spans"})
    assert set(V1_TABLES) == {"spans", "minutes", "minute_reasons", "events"}


def _open_when_released(path: str, barrier: multiprocessing.synchronize.Barrier, results: multiprocessing.Queue) -> None:
    barrier.wait()
    try:
        open_db(path).close()
        results.put("ok")
    except Exception as exc:  # reported to the parent, which fails the test with it
        results.put(f"{type(exc).__name__}: {exc}")


@pytest.mark.skipif(sys.platform != "linux", reason="forks processes to open at the same instant")
def test_two_processes_creating_one_file_at_once_both_succeed(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    failures = []
    for trial in range(60):
        path = str(tmp_path / f"h{trial}.db")
        barrier = ctx.Barrier(2)
        results: multiprocessing.Queue = ctx.Queue()
        procs = [ctx.Process(target=_open_when_released, args=(path, barrier, results)) for _ in range(2)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(30)
        outcome = [results.get(timeout=5) for _ in procs]
        failures += [o for o in outcome if o != "ok"]
        assert_all_or_nothing(Path(path))
        version, tables = file_state(Path(path))
        assert version == SCHEMA_VERSION and tables >= ALL_TABLES
    assert failures == []
