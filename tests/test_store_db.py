"""Opening history files: creation, migrations in order, and refusing files we must not touch."""

from __future__ import annotations

import hashlib
import sqlite3
import sys
from pathlib import Path

import pytest

from posture.cli import main
from posture.clock import FakeClock
from posture.errors import StoreError
from posture.store import HistoryWriter, default_db_path, open_db, open_reader, resolve_db_path
from posture.store.db import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION, migrate


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_missing_file_and_folders_are_created_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "history.db"
    conn = open_db(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"spans", "minutes", "minute_reasons", "events"} <= tables
    conn.close()
    # Opening again is a no-op: same version, nothing re-created.
    open_db(path).close()


def test_readers_cannot_write(tmp_path: Path) -> None:
    conn = open_reader(tmp_path / "h.db")
    with pytest.raises(sqlite3.OperationalError):
        conn.execute("INSERT INTO events (wall, kind) VALUES (1, 'x')")
    conn.close()


def test_migrations_run_in_order_from_the_stored_version(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    open_db(path).close()
    applied: list[int] = []

    def v_next(conn: sqlite3.Connection) -> None:
        applied.append(SCHEMA_VERSION + 1)
        conn.execute("ALTER TABLE events ADD COLUMN source TEXT")

    def v_after(conn: sqlite3.Connection) -> None:
        applied.append(SCHEMA_VERSION + 2)
        conn.execute("UPDATE events SET source = 'v3'")

    conn = sqlite3.connect(path, isolation_level=None)
    top = SCHEMA_VERSION + 2
    assert migrate(conn, path, (*MIGRATIONS, v_next, v_after)) == top
    assert applied == [top - 1, top]
    assert conn.execute("PRAGMA user_version").fetchone()[0] == top
    assert migrate(conn, path, (*MIGRATIONS, v_next, v_after)) == top  # nothing left to do
    assert applied == [top - 1, top]
    conn.close()


def test_a_failing_migration_leaves_the_file_at_its_old_version(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    open_db(path).close()

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE events ADD COLUMN x TEXT")
        raise RuntimeError("bug in migration")

    conn = sqlite3.connect(path, isolation_level=None)
    with pytest.raises(RuntimeError):
        migrate(conn, path, (*MIGRATIONS, broken))
    if conn.in_transaction:
        conn.rollback()
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert "x" not in [r[1] for r in conn.execute("PRAGMA table_info(events)")]
    conn.close()


def test_newer_schema_is_refused_and_left_untouched(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "history.db"
    open_db(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 6}")
    conn.close()
    before = digest(path)
    for opener in (open_db, open_reader, lambda p: HistoryWriter(p, FakeClock())):
        with pytest.raises(StoreError) as err:
            opener(path)
        message = str(err.value)
        assert "history.db was written by a newer Posture Companion" in message
        assert f"(schema {SCHEMA_VERSION + 6} > {SCHEMA_VERSION})" in message
        assert "update the app or pass --db" in message
        assert "\n" not in message
    assert main(["report", "--db", str(path)]) == 2
    assert "error: history.db was written by a newer" in capsys.readouterr().err
    assert digest(path) == before


@pytest.mark.parametrize(
    "content",
    [b"day,score\n2026-11-23,80\n", b"\x00" * 4096, b"SQLite format 3\x00" + b"\xff" * 200],
    ids=["csv", "zeros", "damaged-sqlite"],
)
def test_a_file_that_is_not_history_is_refused_and_left_untouched(
    tmp_path: Path, content: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "history.db"
    path.write_bytes(content)
    for opener in (open_db, open_reader, lambda p: HistoryWriter(p, FakeClock())):
        with pytest.raises(StoreError) as err:
            opener(path)
        assert str(path) in str(err.value) and "--db" in str(err.value)
    assert main(["export", "--json", str(tmp_path / "out.json"), "--db", str(path)]) == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert path.read_bytes() == content
    assert not (tmp_path / "out.json").exists()


def test_another_programs_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "places.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE bookmarks (url TEXT)")
    conn.close()
    before = digest(path)
    with pytest.raises(StoreError, match="another program"):
        open_db(path)
    assert digest(path) == before


def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a folder"):
        open_db(tmp_path)


def test_default_path_is_in_the_data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTURE_DATA_DIR", str(tmp_path / "data"))
    assert default_db_path() == tmp_path / "data" / "history.db"
    assert resolve_db_path(None) == default_db_path()
    assert resolve_db_path("~/x.db") == Path.home() / "x.db"
    monkeypatch.delenv("POSTURE_DATA_DIR")
    assert default_db_path().parent.name == "posture-companion"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_cli_uses_default_path_when_no_db_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTURE_DATA_DIR", str(tmp_path / "data"))
    assert main(["report"]) == 0
    assert (tmp_path / "data" / "history.db").exists()


def test_stored_metric_columns_match_the_pipeline() -> None:
    """The store keeps its own frozen list of metric columns (changing it needs a migration); a metric
    added to the pipeline without one must fail here rather than vanish from history."""
    from posture.metrics import METRIC_NAMES
    from posture.store.db import METRIC_KEYS

    assert METRIC_KEYS == METRIC_NAMES
