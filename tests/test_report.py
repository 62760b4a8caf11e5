"""`posture report` on a hand-built history whose every number is worked out below."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from posture.cli import main
from posture.clock import FakeClock
from posture.report import Period, build_report, render_report
from posture.samples import PostureSample
from posture.store import open_reader
from posture.store.writer import HistoryWriter

from conftest import StoredEvent as Event

DAY = date(2026, 11, 23)  # a Monday
PREVIOUS = date(2026, 11, 22)
STEP = 10  # seconds between samples


def at(day: date, hhmm: str, seconds: int = 0) -> float:
    h, m = (int(x) for x in hhmm.split(":"))
    return datetime(day.year, day.month, day.day, h, m).timestamp() + seconds


def segment(
    writer: HistoryWriter, day: date, start: str, end: str, state: str, score: float | None, *reasons: str
) -> None:
    t, stop = at(day, start), at(day, end)
    while t < stop:
        writer.add_sample(PostureSample(t=t, wall=t, person=state != "away", score=score, state=state,
                                        reasons=tuple(reasons)))
        t += STEP


def event(writer: HistoryWriter, day: date, hhmm: str, kind: str, seconds: int = 0, **data: object) -> None:
    writer.add_event(Event(t=0, wall=at(day, hhmm, seconds), kind=kind, data=dict(data)))


def build_known_history(path: Path) -> Path:
    """Day 23 Nov, samples every 10 s from 09:00 to 16:00 (7 h monitored, 6 h at the desk):

    good 09-11, 13-15, 15:40-16 = 260 min (score 90)    drifting 11:00-11:30 = 30 min (70, too close)
    poor 11:30-12 (head forward) + 15:00-15:40 (head forward, leaning left) = 70 min (score 40)
    away 12-13 = 60 min.  Shares of 360 min at the desk: good 72.2 %, drifting 8.3 %, poor 19.4 %.
    Mean score (260*90 + 30*70 + 70*40) / 360 = 78.6.   Worst hour 15:00 (40 of 60 min poor = 66.7 %).
    Nudges 11:31, 11:57 (no recovery within 5 min), 15:05 (recovery event 15:07: 120 s), 15:30
    (withdrawn 15:30:30: 30 s), 15:37 (posture good again 15:40: 180 s) -> 3 of 5, median 2 min.
    Breaks: 2 completed with effects +12 and +5 (mean +8.5), 1 skipped.
    Day before: 10-11 good, 11-12 poor -> good 50 %, poor 50 %, 2 h monitored.
    """
    with HistoryWriter(path, FakeClock(), sample_interval=STEP) as w:
        segment(w, PREVIOUS, "10:00", "11:00", "good", 90.0)
        segment(w, PREVIOUS, "11:00", "12:00", "poor", 40.0, "head_forward")
        segment(w, DAY, "09:00", "11:00", "good", 90.0)
        segment(w, DAY, "11:00", "11:30", "drifting", 70.0, "too_close")
        segment(w, DAY, "11:30", "12:00", "poor", 40.0, "head_forward")
        segment(w, DAY, "12:00", "13:00", "away", None)
        segment(w, DAY, "13:00", "15:00", "good", 90.0)
        segment(w, DAY, "15:00", "15:40", "poor", 40.0, "head_forward", "leaning_left")
        segment(w, DAY, "15:40", "16:00", "good", 90.0)
        for hhmm in ("11:31", "11:57", "15:05", "15:30", "15:37"):
            event(w, DAY, hhmm, "nudge", reasons=["head_forward"])
        event(w, DAY, "15:07", "recovery")
        event(w, DAY, "15:30", "nudge_withdrawn", seconds=30)
        event(w, DAY, "10:00", "break_suggested")
        event(w, DAY, "10:00", "break_started", seconds=5)
        event(w, DAY, "10:03", "break_completed")
        event(w, DAY, "10:15", "break_effect", before=70.0, after=82.0, delta=12.0)
        event(w, DAY, "11:15", "break_suggested")
        event(w, DAY, "11:15", "break_skipped", seconds=30)
        event(w, DAY, "14:00", "break_suggested")
        event(w, DAY, "14:03", "break_completed")
        event(w, DAY, "14:15", "break_effect", before=75.0, after=80.0, delta=5.0)
    return path


EXPECTED_DAY = """\
Posture report: Mon 23 Nov 2026
===============================
Time monitored    7 h 0 min (at the desk 6 h 0 min, away 1 h 0 min)
Good              72.2 %   ######################
Drifting          8.3 %    ##
Poor              19.4 %   ######
Average score     79
Nudges            5, followed by recovery 3 times (60 %), typically after 2 min
Breaks            2 taken, 1 skipped; score after a break +8.5 points on average (2 measured)
Worst hour        15:00-16:00 (66.7 % poor)
Main reasons      head forward              1 h 10 min
                  leaning left              40 min
                  too close to the screen   30 min
Trend             good +22.2 pts, poor -30.6 pts, monitored +5 h 0 min vs the previous day
"""


@pytest.fixture
def known(tmp_path: Path) -> Path:
    return build_known_history(tmp_path / "history.db")


def test_day_report_numbers(known: Path) -> None:
    conn = open_reader(known)
    report = build_report(conn, Period.ending("day", DAY))
    conn.close()
    t = report.totals
    assert t.monitored == pytest.approx(7 * 3600)
    assert t.assessed == pytest.approx(6 * 3600)
    assert (t.seconds["good"], t.seconds["drifting"], t.seconds["poor"], t.seconds["away"]) == pytest.approx(
        (260 * 60, 30 * 60, 70 * 60, 60 * 60)
    )
    assert t.mean_score == pytest.approx(28300 / 360)
    assert (report.nudges.nudges, report.nudges.recovered) == (5, 3)
    assert sorted(report.nudges.recovery_seconds) == pytest.approx([30.0, 120.0, 180.0])
    assert (report.breaks.taken, report.breaks.skipped, report.breaks.mean_delta) == (2, 1, 8.5)
    assert report.worst_hour == (15, pytest.approx(40 / 60))
    assert dict(report.reasons) == pytest.approx({"head_forward": 4200, "leaning_left": 2400, "too_close": 1800})
    assert render_report(report) == EXPECTED_DAY


def test_report_command_prints_the_table(known: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--day", "2026-11-23", "--db", str(known)]) == 0
    assert capsys.readouterr().out == EXPECTED_DAY


def test_week_report_and_trend_without_a_previous_week(known: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--week", "2026-11-23", "--db", str(known)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "Posture report: last 7 days (17 Nov - 23 Nov 2026)"
    assert "Time monitored    9 h 0 min (at the desk 8 h 0 min, away 1 h 0 min)" in lines
    # 320 of 480 min good, 30 drifting, 130 poor.
    assert any(line.startswith("Good              66.7 %") for line in lines)
    assert any(line.startswith("Drifting          6.2 %") for line in lines)
    assert any(line.startswith("Poor              27.1 %") for line in lines)
    # Hour 11 has 120 min at the desk over the week (90 poor); 15:00 has only 60, under the 70-min floor.
    assert "Worst hour        11:00-12:00 (75.0 % poor)" in lines
    assert lines[-1] == "Trend             no history for the previous 7 days"


def test_month_period_and_previous() -> None:
    month = Period.ending("month", DAY)
    assert (month.first, month.last) == (DAY - timedelta(days=29), DAY)
    assert month.previous().last == DAY - timedelta(days=30)
    assert Period.ending("week", DAY).previous().first == date(2026, 11, 10)


def test_empty_period_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--month", "--db", str(tmp_path / "none" / "h.db")]) == 0
    out = capsys.readouterr().out
    assert "No posture history for this 30 days." not in out  # grammar: a period, not "this 30 days"
    assert "No posture history in these 30 days." in out
