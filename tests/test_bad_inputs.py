"""Extreme dates, infinite rates, pipes and monstrous settings files: one clear error, no hang, nothing lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from posture.cli import main
from posture.settings import load_settings

REPO = Path(__file__).resolve().parents[1]
CLIP = REPO / "sample_videos" / "forward_head.mp4"


def posture(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """The real command in a child process, so a hang fails the test instead of freezing it."""
    return subprocess.run([sys.executable, "-m", "posture", *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=REPO)


def usage_error(capsys: pytest.CaptureFixture[str], argv: list[str], *words: str) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    for word in words:
        assert word in last, last


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1970-01-01"])
def test_report_on_dates_out_of_range(capsys: pytest.CaptureFixture[str], day: str) -> None:
    usage_error(capsys, ["report", "--day", day], day, "outside the dates")
    usage_error(capsys, ["report", "--month", day], day)


def test_report_on_the_last_and_first_dates_allowed_work(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--day", "9998-12-31"]) == 0
    assert main(["report", "--month", "1971-01-01"]) == 0


@pytest.mark.parametrize("when", ["9999-12-31T23:59", "0001-01-01T00:00"])
def test_start_time_near_the_ends_of_the_calendar(capsys: pytest.CaptureFixture[str], when: str) -> None:
    usage_error(capsys, ["analyze", str(CLIP), "--record", "--start-time", when], "outside the years")
    usage_error(capsys, ["run", "--headless", "--source", str(CLIP), "--start-time", when], "outside the years")


@pytest.mark.parametrize("rate", ["inf", "nan", "-inf", "1e400"])
def test_infinite_or_nan_rates(capsys: pytest.CaptureFixture[str], rate: str) -> None:
    usage_error(capsys, ["analyze", str(CLIP), f"--rate={rate}"], "finite")


@pytest.mark.parametrize("span", ["nan:inf", "0:inf", "nan:8", "0:nan"])
def test_non_finite_calibration_spans(capsys: pytest.CaptureFixture[str], span: str) -> None:
    usage_error(capsys, ["analyze", str(CLIP), "--calibrate-from", span], "finite")
    usage_error(capsys, ["run", "--headless", "--source", str(CLIP), "--calibrate-from", span], "finite")


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    if not hasattr(os, "mkfifo"):
        pytest.skip("named pipes are POSIX")
    path = tmp_path / "clip.mp4"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("command", [
    ["analyze", "{fifo}"],
    ["run", "--headless", "--source", "{fifo}", "--no-history"],
    ["calibrate", "--source", "{fifo}", "--profile", "x"],
])
def test_a_fifo_as_source_is_refused_up_front(fifo: Path, command: list[str]) -> None:
    done = posture(*(arg.format(fifo=fifo) for arg in command), timeout=90)
    assert done.returncode == 2, done.stderr
    assert "is a pipe or device" in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0 or done.stderr.strip().splitlines()[-1].startswith("error: ")


def test_a_fifo_as_settings_file_does_not_hang(fifo: Path) -> None:
    config = Path(os.environ["POSTURE_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    os.mkfifo(config / "settings.json")
    done = posture("settings")
    assert done.returncode == 0 and "is unreadable (a pipe or device" in done.stdout
    refused = posture("settings", "set", "sound", "true")
    assert refused.returncode == 2 and "unreadable" in refused.stderr
    assert (config / "settings.json").is_fifo()  # not replaced


def test_a_settings_file_with_700000_keys_is_reported_in_one_line(tmp_path: Path) -> None:
    config = Path(os.environ["POSTURE_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    path = config / "settings.json"
    path.write_text(json.dumps({f"key{i}": i for i in range(700_000)}))
    before = path.stat().st_size
    done = posture("settings", timeout=30)
    assert done.returncode == 0
    warnings = [line for line in done.stdout.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "unreadable" in warnings[0] and "KB" in warnings[0]
    assert posture("settings", "set", "sound", "true").returncode == 2
    assert path.stat().st_size == before


def test_many_unknown_keys_in_a_small_file_are_summarised(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"sensitivity": "high", **{f"k{i}": i for i in range(2000)}}))
    loaded = load_settings(path)
    assert loaded.settings.sensitivity == "high"
    assert len(loaded.problems) == 6 and "1995 more unknown keys" in loaded.problems[-1]


def test_a_settings_file_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"sensitivity": "high", "onset_delay_s": 60}).encode())
    loaded = load_settings(path)
    assert loaded.problems == []
    assert (loaded.settings.sensitivity, loaded.settings.onset_delay_s) == ("high", 60.0)
