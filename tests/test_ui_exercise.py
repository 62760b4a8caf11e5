"""The coaching panel in the break window, and the range-of-motion card on the dashboard."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from posture.clock import FakeClock
from posture.coach.routines import load_catalogue
from posture.exercise.face import make_face_keypoints
from posture.exercise.watch import FrameFeed, make_watch_pose
from posture.sources import VideoFileSource
from posture.store.mobility import BreakMobility, record_break
from ui.break_coaching import BreakCoaching, run_watched
from ui.break_window import BreakWindow
from ui.dashboard import Dashboard
from ui.mobility_panel import MobilityPanel, demo_rows

from ui_helpers import no_message_boxes  # noqa: F401

CLIP = Path(__file__).resolve().parents[1] / "sample_videos" / "ex_coached_break.mp4"


def test_coached_break_window_counts_and_keeps_the_stop_signs(qtbot: Any, tmp_path: Path) -> None:
    routine = load_catalogue().get("neck-turns")
    assert routine is not None
    clock = FakeClock()
    window = BreakWindow(routine, clock=clock)
    qtbot.addWidget(window)
    stored: list[BreakMobility] = []
    feed = FrameFeed(VideoFileSource(CLIP), make_watch_pose(), faces=make_face_keypoints())
    coaching = BreakCoaching(window, feed, clock=clock, on_mobility=stored.append)
    window.show()  # showing the window is what begins the routine
    run_watched(window, coaching, clock, 13.5)
    assert coaching.panel.isVisibleTo(window)
    assert coaching.panel.count_label.text() == "2 of 4"
    # The stop signs are still on screen next to the coaching.
    assert any(w.isVisibleTo(window) and w.text().startswith("Stop at once")
               for w in window.findChildren(type(window.step_label)))
    window.grab().save(str(tmp_path / "coached.png"))
    run_watched(window, coaching, clock, 40.0)
    kinds = [m.kind for m in coaching.messages]
    assert kinds.count("done") == 2 and "slower" in kinds and "not_seen" in kinds
    assert window.result is not None and window.result.completed
    assert len(stored) == 1 and stored[0].reps == {"turn": 4, "squeeze": 3}
    assert feed.source.frames_decoded > 0 and coaching.feed is None  # camera released at the end


def test_without_a_camera_the_break_runs_as_before(qtbot: Any) -> None:
    routine = load_catalogue().get("neck-turns")
    assert routine is not None
    clock = FakeClock()
    window = BreakWindow(routine, clock=clock)
    qtbot.addWidget(window)
    coaching = BreakCoaching(window, FrameFeed(VideoFileSource("/no/such/camera.mp4"), make_watch_pose()), clock=clock)
    window.show()
    run_watched(window, coaching, clock, 45.0)
    assert window.result is not None and window.result.completed
    assert not coaching.panel.isVisibleTo(window) and coaching.camera_problem


def test_mobility_panel_draws_trends_and_asymmetry(qtbot: Any) -> None:
    panel = MobilityPanel()
    qtbot.addWidget(panel)
    last = date(2026, 11, 20)
    panel.show_rows(demo_rows(last), last)
    assert not panel.is_empty
    assert "more to the left" in panel.subtitle.text()  # the demo's right side is stiffer
    assert len(panel.deg_plot.listDataItems()) == 4 and len(panel.tuck_plot.listDataItems()) == 1
    panel.show_rows(demo_rows(last), last)  # a refresh replaces the legend's entries, never adds to them
    assert [label.text for _, label in panel.legend.items] == ["turn L", "turn R", "bend L", "bend R"]
    panel.show_rows([], last)
    assert panel.is_empty and "No watched breaks yet" in panel.empty_label.text()


def test_mobility_trend_has_one_point_a_day_the_median_of_its_breaks() -> None:
    from ui.mobility_panel import daily_medians

    day = date(2026, 11, 20)
    at = [datetime(2026, 11, 18, h).timestamp() for h in (9, 13, 17)] + [datetime(2026, 11, 20, 10).timestamp()]
    turns = [50.0, 58.0, 44.0, 61.0]
    rows = [BreakMobility(w, "neck-turns", {"turn_left_deg": v, "tuck_depth_pct": None}, {"turn": 4})
            for w, v in zip(at, turns, strict=True)]
    x, per_day = daily_medians(rows, day - timedelta(days=10))
    assert list(x) == [8.0, 10.0]
    assert list(per_day["turn_left_deg"]) == [50.0, 61.0]
    assert np.isnan(per_day["tuck_depth_pct"]).all() and np.isnan(per_day["turn_right_deg"]).all()


def test_dashboard_shows_the_mobility_card_from_the_history(qtbot: Any, tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    day = date(2026, 11, 20)
    for row in demo_rows(day, breaks=6):
        record_break(db, row)
    clock = FakeClock(wall_start=datetime(2026, 11, 20, 18, 0).timestamp())
    dash = Dashboard(db, day=day, clock=clock, poll_ms=0)
    qtbot.addWidget(dash)
    assert not dash.mobility.is_empty and len(dash.mobility.rows) == 6
    dash.close_history()
