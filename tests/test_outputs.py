"""--json, --csv and export never destroy the history, the input, or a file of another kind."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from disk_helpers import limited_python, small_disk_or_limit

from posture.cli import main
from posture.clock import FakeClock
from posture.samples import PostureSample
from posture.store.paths import default_db_path
from posture.store.writer import HistoryWriter

REPO = Path(__file__).resolve().parents[1]
CLIP = REPO / "sample_videos" / "forward_head.mp4"
T0 = 1_795_000_000.0
needs_clip = pytest.mark.skipif(not CLIP.exists(), reason="sample clips missing (run 'make samples')")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def history(tmp_path: Path) -> Path:
    path = tmp_path / "history.db"
    with HistoryWriter(path, FakeClock()) as writer:
        for i in range(200):
            writer.add_sample(PostureSample(t=i, wall=T0 + i, person=True, metrics={}, score=80.0, state="good"))
    return path


def refused(capsys: pytest.CaptureFixture[str], *words: str) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, err
    return err


def test_export_json_onto_the_history_is_refused(history: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = digest(history)
    assert main(["export", "--db", str(history), "--json", str(history)]) == 2
    refused(capsys, "is the history file")
    assert main(["export", "--db", str(history), "--json", str(history), "--force"]) == 2
    refused(capsys, "is the history file")
    assert main(["export", "--db", str(history), "--json", str(history) + "-wal"]) == 2
    refused(capsys, "is the history file")
    assert digest(history) == before
    assert main(["report", "--db", str(history), "--day", "2026-11-19"]) == 0


def test_export_csv_into_the_history_folder_cannot_hit_the_history(history: Path, tmp_path: Path) -> None:
    (tmp_path / "spans.csv").write_text("my own notes\n")
    assert main(["export", "--db", str(history), "--csv", str(tmp_path)]) == 2
    assert (tmp_path / "spans.csv").read_text() == "my own notes\n"
    assert not (tmp_path / "minutes.csv").exists()  # checked before anything is written


def test_export_overwrites_its_own_earlier_output_but_nothing_else(
    history: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.json"
    assert main(["export", "--db", str(history), "--json", str(out)]) == 0
    assert main(["export", "--db", str(history), "--json", str(out)]) == 0  # a previous export: fine
    assert json.loads(out.read_text())["format"] == "posture-companion-history"
    notes = tmp_path / "notes.json"
    notes.write_text('{"todo": "keep me"}\n')
    capsys.readouterr()
    assert main(["export", "--db", str(history), "--json", str(notes)]) == 2
    refused(capsys, "not an earlier history export", "--force")
    assert notes.read_text() == '{"todo": "keep me"}\n'
    assert main(["export", "--db", str(history), "--json", str(notes), "--force"]) == 0
    assert json.loads(notes.read_text())["format"] == "posture-companion-history"
    csv_dir = tmp_path / "csv"
    assert main(["export", "--db", str(history), "--csv", str(csv_dir)]) == 0
    assert main(["export", "--db", str(history), "--csv", str(csv_dir)]) == 0
    assert sorted(p.name for p in csv_dir.iterdir()) == ["events.csv", "minutes.csv", "spans.csv"]


def test_a_full_disk_during_export_keeps_the_previous_export(tmp_path: Path) -> None:
    history = tmp_path / "big.db"
    with HistoryWriter(history, FakeClock()) as writer:  # ~300 spans: an export of well over 64 KB
        for i in range(3000):
            state = ("good", "poor")[i // 10 % 2]
            writer.add_sample(PostureSample(t=i, wall=T0 + i, person=True, metrics={}, score=80.0, state=state))
    out = tmp_path / "out.json"
    out.write_text('{\n "format": "posture-companion-history", "spans": []}\n')  # last week's export
    before = out.read_bytes()
    with small_disk_or_limit(tmp_path, 48) as (folder, limit):
        target = folder / "out.json"
        if folder != tmp_path:
            target.write_bytes(before)
        done = limited_python(
            "import sys\nfrom posture.cli import main\n"
            f"sys.exit(main(['export', '--db', {str(history)!r}, '--json', {str(target)!r}]))\n",
            max_file_bytes=limit,
        )
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith("error: cannot write") and "Traceback" not in done.stderr
        assert target.read_bytes() == before  # whole, not truncated
        assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []  # no temp file left


@needs_clip
def test_analyze_outputs_never_replace_the_history_or_the_clip(
    history: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = digest(history)
    assert main(["analyze", str(CLIP), "--record", "--db", str(history), "--json", str(history)]) == 2
    refused(capsys, "is the history file")
    assert main(["analyze", str(CLIP), "--csv", str(history), "--db", str(history)]) == 2
    refused(capsys, "is the history file")
    assert digest(history) == before
    # The default history, without --db.
    default = default_db_path()
    with HistoryWriter(default, FakeClock()) as writer:
        writer.add_sample(PostureSample(t=0, wall=T0, person=True, metrics={}, score=80.0, state="good"))
    kept = digest(default)
    assert main(["analyze", str(CLIP), "--csv", str(default)]) == 2
    refused(capsys, "is the history file")
    assert digest(default) == kept
    # The clip itself.
    copy = tmp_path / "V.mp4"
    copy.write_bytes(CLIP.read_bytes())
    clip_digest = digest(copy)
    assert main(["analyze", str(copy), "--json", str(copy), "--force"]) == 2
    refused(capsys, "is the input")
    assert digest(copy) == clip_digest


@needs_clip
def test_analyze_json_replaces_its_own_output_and_refuses_other_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, table = tmp_path / "a.json", tmp_path / "a.csv"
    assert main(["analyze", str(CLIP), "--json", str(out), "--csv", str(table), "--quiet", "--rate", "1"]) == 0
    assert main(["analyze", str(CLIP), "--json", str(out), "--csv", str(table), "--quiet", "--rate", "1"]) == 0
    assert json.loads(out.read_text())["samples"] and table.read_text().startswith("t,person,view")
    notes = tmp_path / "notes.csv"
    notes.write_text("name,phone\n")
    capsys.readouterr()
    assert main(["analyze", str(CLIP), "--csv", str(notes), "--quiet"]) == 2
    refused(capsys, "not an earlier 'analyze --csv' output")
    assert notes.read_text() == "name,phone\n"
