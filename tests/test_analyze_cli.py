"""`posture analyze` end to end on the project's own clips, and every bad input giving one clear line."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from posture.cli import main
from posture.metrics import METRIC_NAMES

from conftest import SAMPLES


def posture_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    return subprocess.run([sys.executable, "-m", "posture", *args], capture_output=True, text=True, env=env, timeout=300)


def test_analyze_sample_clip_end_to_end(tmp_path: Path) -> None:
    clip = SAMPLES / "upright.mp4"
    out_json, out_csv = tmp_path / "a.json", tmp_path / "a.csv"
    proc = posture_cli("analyze", str(clip), "--calibrate-from", "0:8", "--json", str(out_json), "--csv", str(out_csv))
    assert proc.returncode == 0, proc.stderr
    assert "valid user      100.0%" in proc.stdout
    assert "head_height" in proc.stdout and "skipped without decoding" in proc.stdout
    data = json.loads(out_json.read_text())
    assert data["source"] == str(clip)
    samples = data["samples"]
    assert len(samples) == data["summary"]["samples"] > 20
    first = samples[0]
    assert set(first) >= {"t", "person", "metrics", "view", "score", "raw_score", "raw_state", "state", "reasons"}
    assert set(first["metrics"]) == set(METRIC_NAMES)
    assert [s["t"] for s in samples[:3]] == [0.0, 0.5, 1.0]  # --rate 2 on the source timeline
    judged = [s for s in samples if s["t"] > 8.5]
    assert judged and all(s["state"] == "good" for s in judged)
    assert any(e["kind"] == "calibration" for e in data["events"])
    rows = list(csv.DictReader(out_csv.open()))
    assert len(rows) == len(samples) and rows[0]["head_height"]
    # Frames between samples were skipped without decoding.
    assert data["summary"]["frames_skipped_undecoded"] > 10 * data["summary"]["frames_decoded"]


def test_no_person_anywhere_reports_zero_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "empty_room.mp4"
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (320, 240))
    rng = np.random.default_rng(3)
    for _ in range(30):
        w.write((rng.random((240, 320, 3)) * 30 + 90).astype(np.uint8))
    w.release()
    assert main(["analyze", str(path), "--json", str(tmp_path / "e.json")]) == 0
    out = capsys.readouterr().out
    assert "valid user      0.0%" in out and "metrics         none" in out
    summary = json.loads((tmp_path / "e.json").read_text())["summary"]
    assert summary["valid_user_pct"] == 0.0 and all(v is None for v in summary["metrics"].values())


@pytest.mark.parametrize("make, expect", [
    (lambda d: d / "missing.mp4", "source not found"),
    (lambda d: _write(d / "broken.mp4", b"this is not a video at all" * 40), "cannot read video"),
    (lambda d: _truncated(d), "damaged, truncated"),
    (lambda d: _mkdir(d / "empty"), "no images found"),
    (lambda d: "7", "camera"),
])
def test_bad_inputs_give_one_line_and_exit_2(tmp_path: Path, make, expect: str) -> None:  # type: ignore[no-untyped-def]
    target = make(tmp_path)
    proc = posture_cli("analyze", str(target))
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and expect in lines[0]
    assert "Traceback" not in proc.stderr


def test_bad_option_values(tmp_path: Path) -> None:
    proc = posture_cli("analyze", str(SAMPLES / "upright.mp4"), "--calibrate-from", "9:2")
    assert proc.returncode == 2 and "START < END" in proc.stderr
    proc = posture_cli("analyze", str(SAMPLES / "upright.mp4"), "--calibrate-from", "500:600")
    assert proc.returncode == 2 and "outside" in proc.stderr and "Traceback" not in proc.stderr


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def _truncated(d: Path) -> Path:
    # OpenCV's writer puts the index (moov atom) at the end, so cutting the file loses it entirely.
    path = d / "full.mp4"
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (160, 120))
    for i in range(40):
        w.write(np.full((120, 160, 3), i * 5, np.uint8))
    w.release()
    data = path.read_bytes()
    return _write(d / "cut.mp4", data[: len(data) // 2])


def test_truncated_clip_with_its_index_up_front_analyses_what_is_there(tmp_path: Path) -> None:
    # The bundled clips keep their index at the start: a cut copy still plays up to the cut.
    data = (SAMPLES / "upright.mp4").read_bytes()
    cut = _write(tmp_path / "cut.mp4", data[: len(data) // 3])
    proc = posture_cli("analyze", str(cut))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    assert "valid user      100.0%" in proc.stdout


def test_analyze_record_places_the_clip_in_history(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "h.db"
    rc = main(["analyze", str(SAMPLES / "slouch.mp4"), "--calibrate-from", "0:8", "--record", "--db", str(db),
               "--start-time", "2026-11-20T09:00", "--quiet"])
    assert rc == 0
    assert main(["report", "--day", "2026-11-20", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "2026-11-20" in out or "20 Nov" in out or "Nov 20" in out
    from posture.store import open_reader
    from posture.store.queries import day_bounds, state_totals

    conn = open_reader(db)
    totals = state_totals(conn, *day_bounds(__import__("datetime").date(2026, 11, 20)))
    conn.close()
    assert 30 <= totals.monitored <= 40  # the 36 s clip, on its own timeline
    assert (totals.share("poor") or 0) > 0.1
