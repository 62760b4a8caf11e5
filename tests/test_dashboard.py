"""The dashboard on a generated 30-day history: every panel has data, the date picker changes the day,
the live poll picks up rows a running monitor commits, and an empty file shows sentences, not blanks."""

from __future__ import annotations

import shutil
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QDate

from posture.cli import main
from posture.clock import FakeClock
from posture.samples import REASONS, PostureSample
from posture.store.writer import HistoryWriter
from ui.dashboard import Dashboard

from conftest import StoredEvent as Event

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.make_history import generate_history  # noqa: E402

TODAY = date.today()


@pytest.fixture(scope="session")
def history_30d(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dash") / "history.db"
    # One sample per 10 s keeps generation quick; the dashboard reads per-minute rows either way.
    generate_history(path, days=30, end=TODAY, interval=10.0, seed=11)
    return path


@pytest.fixture
def history_copy(history_30d: Path, tmp_path: Path) -> Path:
    target = tmp_path / "history.db"
    shutil.copy(history_30d, target)
    return target


def last_weekday_before(day: date) -> date:
    day -= timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def test_every_panel_has_data(qtbot, history_30d: Path) -> None:  # type: ignore[no-untyped-def]
    day = TODAY if TODAY.weekday() < 5 else last_weekday_before(TODAY)
    dash = Dashboard(history_30d, day=day, poll_ms=0)
    qtbot.addWidget(dash)
    assert [p.is_empty for p in dash.panels] == [False] * 5
    timeline = dash.timeline.data
    assert timeline is not None and len(timeline.minute_hours) > 200
    assert set(timeline.state) >= {"good", "drifting", "poor"}
    assert timeline.nudges and (timeline.breaks_taken or timeline.breaks_skipped)
    assert "good" in dash.timeline.subtitle.text()
    assert dash.trend.trend_per_week is not None
    assert (dash.heatmap.share[:5] > 0).sum() > 20  # weekdays, working hours
    assert dash.reasons.labels and set(dash.reasons.labels) <= set(REASONS.values())
    assert int(dash.breaks.taken.text()) > 0 and dash.breaks.effect.text().endswith("pts")


def test_date_picker_changes_the_day(qtbot, history_30d: Path) -> None:  # type: ignore[no-untyped-def]
    dash = Dashboard(history_30d, day=TODAY, poll_ms=0)
    qtbot.addWidget(dash)
    earlier = last_weekday_before(TODAY)
    with qtbot.waitSignal(dash.updated, timeout=2000):
        dash.date_edit.setDate(QDate(earlier.year, earlier.month, earlier.day))
    assert dash.day == earlier
    assert dash.timeline.data is not None and dash.timeline.data.day == earlier
    assert not dash.timeline.is_empty
    assert earlier.strftime("%d %B") in dash.timeline.title.text()
    # A day long before the history: the timeline says so in words.
    long_ago = TODAY - timedelta(days=200)
    dash.date_edit.setDate(QDate(long_ago.year, long_ago.month, long_ago.day))
    assert dash.timeline.is_empty and "No posture history" in dash.timeline.empty_label.text()


def test_live_update_picks_up_a_new_row(qtbot, history_copy: Path) -> None:  # type: ignore[no-untyped-def]
    dash = Dashboard(history_copy, day=TODAY, poll_ms=50)
    qtbot.addWidget(dash)
    late = datetime(TODAY.year, TODAY.month, TODAY.day, 23, 10).timestamp()
    data = dash.timeline.data
    assert data is not None and (len(data.minute_hours) == 0 or data.minute_hours.max() < 23)
    # The monitor, in this same process, commits three minutes of poor posture and a nudge.
    with HistoryWriter(history_copy, FakeClock()) as writer:
        for i in range(180):
            writer.add_sample(
                PostureSample(t=i, wall=late + i, person=True, score=42.0, state="poor", reasons=("head_forward",))
            )
        writer.add_event(Event(t=60, wall=late + 60, kind="nudge"))
    qtbot.waitUntil(
        lambda: dash.timeline.data is not None and dash.timeline.data.minute_hours.max() >= 23 + 12 / 60,
        timeout=3000,
    )
    data = dash.timeline.data
    assert data is not None
    assert any(abs(h - (23 + 11 / 60)) < 1e-6 for h in data.nudges)
    assert data.state[-1] == "poor"
    assert not dash.poll()  # nothing new since: the idle poll is a no-op


def test_an_empty_history_shows_sentences_not_blank_panels(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dash = Dashboard(tmp_path / "new" / "history.db", poll_ms=0)
    qtbot.addWidget(dash)
    for panel in dash.panels:
        assert panel.is_empty
        assert len(panel.empty_label.text()) > 20


def test_screenshot_command_writes_a_png(qtbot, history_30d: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    png = tmp_path / "shots" / "dashboard.png"
    assert main(["dashboard", "--db", str(history_30d), "--screenshot", str(png)]) == 0
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


def test_bad_date_and_bad_file_are_clear_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["dashboard", "--date", "23/11/2026", "--screenshot", str(tmp_path / "x.png")])
    assert exit_info.value.code == 2
    assert "expected a date like 2026-11-23" in capsys.readouterr().err
    notes = tmp_path / "notes.db"
    notes.write_text("not a database")
    assert main(["dashboard", "--db", str(notes), "--screenshot", str(tmp_path / "x.png")]) == 2
    assert "not an SQLite database" in capsys.readouterr().err
    assert notes.read_text() == "not a database"
