"""`posture export`: CSV files and one JSON document that hold exactly what the history holds."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from posture.cli import main

from test_report import build_known_history


@pytest.fixture
def known(tmp_path: Path) -> Path:
    return build_known_history(tmp_path / "history.db")


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_csv_export(known: Path, tmp_path: Path) -> None:
    out = tmp_path / "export" / "csv"
    assert main(["export", "--csv", str(out), "--db", str(known)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["events.csv", "minutes.csv", "spans.csv"]

    spans = read_csv(out / "spans.csv")
    # One span per steady segment: 2 on the day before, 7 on the day.
    assert len(spans) == 9
    assert sum(float(s["duration_s"]) for s in spans) == pytest.approx(9 * 3600)
    assert [s["state"] for s in spans[2:]] == ["good", "drifting", "poor", "away", "good", "poor", "good"]
    assert spans[7]["reasons"] == "head_forward leaning_left"
    assert spans[2]["mean_score"] == "90.0" and spans[5]["mean_score"] == ""

    minutes = read_csv(out / "minutes.csv")
    assert len(minutes) == 9 * 60
    assert sum(float(m["good_s"]) for m in minutes) == pytest.approx((260 + 60) * 60)
    assert sum(float(m["reason_head_forward_s"]) for m in minutes) == pytest.approx((70 + 60) * 60)
    assert {"minute", "minute_local", "mean_score", "poor_s", "reason_too_close_s", "cva_deg_median"} <= set(
        minutes[0]
    )

    events = read_csv(out / "events.csv")
    assert len(events) == 16  # 5 nudges, 2 recoveries, 9 break events
    effects = [json.loads(e["data"]) for e in events if e["kind"] == "break_effect"]
    assert effects == [{"after": 82.0, "before": 70.0, "delta": 12.0}, {"after": 80.0, "before": 75.0, "delta": 5.0}]


def test_json_export(known: Path, tmp_path: Path) -> None:
    target = tmp_path / "history.json"
    assert main(["export", "--json", str(target), "--db", str(known)]) == 0
    doc = json.loads(target.read_text(encoding="utf-8"))
    assert doc["format"] == "posture-companion-history" and doc["version"] == 1
    assert (len(doc["spans"]), len(doc["minutes"]), len(doc["events"])) == (9, 540, 16)
    assert doc["reasons"]["too_close"] == "too close to the screen"
    minute = doc["minutes"][0]
    assert minute["samples"] == 6 and minute["good_s"] == 60.0 and minute["mean_score"] == 90.0
    nudges = [e for e in doc["events"] if e["kind"] == "nudge"]
    assert len(nudges) == 5 and nudges[0]["data"] == {"reasons": ["head_forward"]}


def test_json_to_stdout_and_both_formats(known: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--json", "-", "--csv", str(tmp_path / "c"), "--db", str(known)]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["format"] == "posture-companion-history"
    assert "wrote" in captured.err and (tmp_path / "c" / "spans.csv").exists()


def test_export_errors_are_one_line(known: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--db", str(known)]) == 2
    assert capsys.readouterr().err == "error: export needs --csv DIR or --json FILE (or both)\n"
    a_file = tmp_path / "taken"
    a_file.write_text("x")
    assert main(["export", "--csv", str(a_file), "--db", str(known)]) == 2
    assert "is a file; --csv needs a folder" in capsys.readouterr().err
    assert main(["export", "--json", str(tmp_path), "--db", str(known)]) == 2
    assert "is a folder; --json needs a file name" in capsys.readouterr().err


def test_empty_history_exports_headers_only(tmp_path: Path) -> None:
    out = tmp_path / "csv"
    assert main(["export", "--csv", str(out), "--db", str(tmp_path / "empty.db")]) == 0
    assert read_csv(out / "spans.csv") == []
    assert (out / "minutes.csv").read_text().startswith("minute,minute_local,samples,mean_score,good_s")
