"""`posture exercise analyze` and `posture break ROUTINE --watch SOURCE`, end to end, plus the history
table they write and `posture report`'s range-of-motion lines."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from posture.cli import break_cmd, main
from posture.clock import SystemClock
from posture.coach.safety import SafetyProfile, save_safety_profile
from posture.settings import Settings, save_settings
from posture.store.db import MIGRATIONS, SCHEMA_VERSION, migrate, open_db
from posture.store.mobility import BreakMobility, breaks_between, record_break, usual_range

CLIPS = Path(__file__).resolve().parents[1] / "sample_videos"


@pytest.fixture(autouse=True)
def no_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(break_cmd, "stdin_is_tty", lambda: False)


@pytest.fixture
def answered(tmp_path: Path) -> list[str]:
    """Safety questions answered 'no' to everything: movement routines are offered."""
    path = tmp_path / "answers.json"
    save_safety_profile(SafetyProfile(answered_at=1.0), path)
    return ["--safety-answers", str(path)]


def test_analyze_writes_count_and_each_repetitions_times(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "reps.json"
    code = main(["exercise", "analyze", str(CLIPS / "ex_shoulder_rolls.mp4"), "--movement", "shoulder_roll",
                 "--json", str(out)])
    assert code == 0
    data = json.loads(out.read_text())
    rolls = data["movements"]["shoulder_roll"]
    labels = json.loads((CLIPS / "ex_shoulder_rolls.reps.json").read_text())
    assert rolls["count"] == labels["counts"]["shoulder_roll"] == len(rolls["repetitions"])
    for rep in rolls["repetitions"]:
        assert rep["start"] < rep["peak"] < rep["end"] and rep["peak_value"] > 0
    assert rolls["peak_value"] == max(r["peak_value"] for r in rolls["repetitions"])
    assert "shoulder rolls" in capsys.readouterr().out  # the summary on the terminal


@pytest.mark.parametrize(("args", "words"), [
    (["no/such/clip.mp4"], "source not found"),
    (["0"], "works on recordings"),
])
def test_analyze_bad_input_is_one_line_and_exit_2(args: list[str], words: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["exercise", "analyze", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0] and "Traceback" not in err[0]


def test_analyze_refuses_a_folder_as_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["exercise", "analyze", str(CLIPS / "ex_squeezes.mp4"), "--json", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_watched_break_counts_coaches_and_stores_range_of_motion(tmp_path: Path, answered: list[str],
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """The neck-turns routine with the camera watching (a recording of it): turns counted with a
    'slower' for the rushed one, squeezes counted, the moment out of view noticed, and the range of
    motion stored in the history."""
    db = tmp_path / "history.db"
    code = main(["break", "neck-turns", "--watch", str(CLIPS / "ex_coached_break.mp4"), "--speed", "2000",
                 "--db", str(db), *answered])
    out = capsys.readouterr().out
    assert code == 0
    lines = [line.strip() for line in out.splitlines()]
    said = [line[3:] for line in lines if line.startswith(">> ")]
    assert said[0].startswith("watching: slow turns")
    assert [s for s in said if s.endswith(" of 4") or s.startswith("4 of 4")] == [
        "1 of 4", "2 of 4", "3 of 4", "4 of 4 — well done"]
    assert sum(s.startswith("slower") for s in said) == 1
    squeezes = said[said.index(next(s for s in said if s.startswith("watching: shoulder-blade"))):]
    assert [s for s in squeezes if " of 3" in s and not s.startswith("seen")] == ["1 of 3", "2 of 3", "3 of 3 — well done"]
    assert "not seen — are you in view?" in squeezes
    assert "Stop at once if you notice" in out  # the stop signs are printed as without the camera
    assert "range of motion saved" in out
    conn = open_db(db, for_reading=True)
    rows = breaks_between(conn, 0, 2e10)
    conn.close()
    assert len(rows) == 1 and rows[0].routine == "neck-turns" and rows[0].reps == {"turn": 4, "squeeze": 3}
    assert rows[0].value("turn_left_deg") and rows[0].value("turn_right_deg")
    assert rows[0].value("bend_left_deg") is None  # no side bends in this routine


def test_break_goes_on_without_coaching_when_the_camera_cannot_open(tmp_path: Path, answered: list[str],
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["break", "neck-turns", "--watch", str(tmp_path / "missing.mp4"), "--speed", "5000",
                 "--db", str(tmp_path / "h.db"), *answered])
    out = capsys.readouterr().out
    assert code == 0
    assert "the break goes on without the camera" in out and "Done (0:40)" in out
    assert not (tmp_path / "h.db").exists()  # nothing watched, nothing written


class _Opened:
    """Records the watching models a command makes (the real ones) and whether each got closed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import posture.exercise.face as face
        import posture.exercise.watch as watch

        self.models: dict[str, bool] = {}
        self._real_pose, self._real_faces = watch.make_watch_pose, face.make_face_keypoints
        monkeypatch.setattr(watch, "make_watch_pose", lambda fresh=False: self._track("pose", self._real_pose(fresh)))
        monkeypatch.setattr(face, "make_face_keypoints", lambda: self._track("faces", self._real_faces()))

    def _track(self, name: str, model: object) -> object:
        self.models[name] = False
        real_close = model.close  # type: ignore[attr-defined]

        def close() -> None:
            self.models[name] = True
            real_close()

        model.close = close  # type: ignore[attr-defined]
        return model


def test_a_watch_that_cannot_start_closes_every_model_it_made(tmp_path: Path, answered: list[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The recording cannot be opened after the models were made: both are closed (the face detector was
    left to the garbage collector, where a Tasks model can deadlock at exit)."""
    opened = _Opened(monkeypatch)
    bad = tmp_path / "not_a_video.mp4"
    bad.write_bytes(b"this is not a video")
    assert main(["break", "neck-turns", "--watch", str(bad), "--speed", "5000", *answered]) == 0
    assert opened.models == {"pose": True, "faces": True}


def test_a_face_detector_that_cannot_load_closes_the_pose_model(monkeypatch: pytest.MonkeyPatch) -> None:
    import posture.exercise.face as face
    from posture.errors import ConfigError
    from posture.exercise.watch import watch_models

    opened = _Opened(monkeypatch)

    def broken() -> object:
        raise ConfigError("the built-in face model is missing; reinstall posture-companion")

    monkeypatch.setattr(face, "make_face_keypoints", broken)
    with pytest.raises(ConfigError):
        watch_models()
    assert opened.models == {"pose": True}


def test_routine_with_nothing_to_watch_says_so_and_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["break", "slow-breathing", "--watch", "0", "--speed", "5000"]) == 0
    out = capsys.readouterr().out
    assert "no movement the camera can count" in out and "Done" in out


class _Camera:
    """Stands in for open_source: notes what the break asked to watch; the camera is busy."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, spec: str, fps: float) -> object:
        from posture.errors import SourceError

        self.asked.append(spec)
        raise SourceError(f"camera {spec} is in use by another program")


def _terminal_break(monkeypatch: pytest.MonkeyPatch, settings: Settings, answered: list[str],
                    *extra: str) -> tuple[int, _Camera]:
    """`posture break neck-turns` typed at a terminal, in real time (on a clock that runs it in a blink)."""
    camera = _Camera()
    save_settings(settings)
    monkeypatch.setattr(break_cmd, "stdin_is_tty", lambda: True)
    monkeypatch.setattr(break_cmd, "open_keys", break_cmd.NoKeys)  # the keys are not what is tested
    monkeypatch.setattr(break_cmd, "make_clock", lambda speed: break_cmd.PacedClock(SystemClock(), 5000))
    monkeypatch.setattr("posture.sources.open_source", camera)
    return main(["break", "neck-turns", *answered, *extra]), camera


def test_a_terminal_break_is_watched_through_the_settings_camera_when_watch_breaks_is_on(
        monkeypatch: pytest.MonkeyPatch, answered: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, camera = _terminal_break(monkeypatch, Settings(camera_index=2), answered)
    out = capsys.readouterr().out
    assert code == 0 and camera.asked == ["2"]
    # The camera is busy: one line, then the break exactly as without a camera.
    assert "camera 2 is in use" in out and "goes on without the camera" in out and "watch_breaks" in out
    assert "Done (0:40)" in out


def test_watch_breaks_off_means_no_camera_unless_watch_is_given(
        monkeypatch: pytest.MonkeyPatch, answered: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, camera = _terminal_break(monkeypatch, Settings(watch_breaks=False), answered)
    out = capsys.readouterr().out
    assert code == 0 and camera.asked == [] and "camera" not in out.lower() and "Done (0:40)" in out
    # --watch forces it on for this run, whatever the setting says.
    code, camera = _terminal_break(monkeypatch, Settings(watch_breaks=False), answered, "--watch", "1")
    assert code == 0 and camera.asked == ["1"]
    # --no-watch forces it off with the setting on.
    code, camera = _terminal_break(monkeypatch, Settings(), answered, "--no-watch")
    assert code == 0 and camera.asked == []


def test_a_break_from_a_script_or_sped_up_never_opens_a_camera_it_was_not_asked_to(
        monkeypatch: pytest.MonkeyPatch, answered: list[str]) -> None:
    camera = _Camera()
    monkeypatch.setattr("posture.sources.open_source", camera)
    assert main(["break", "neck-turns", "--speed", "5000", *answered]) == 0  # stdin is not a terminal
    monkeypatch.setattr(break_cmd, "stdin_is_tty", lambda: True)
    monkeypatch.setattr(break_cmd, "open_keys", break_cmd.NoKeys)
    assert main(["break", "neck-turns", "--speed", "5000", *answered]) == 0  # faster than real time
    assert camera.asked == []


def test_history_file_from_before_the_mobility_table_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, path, MIGRATIONS[:1])
    conn.execute("INSERT INTO events (wall, kind) VALUES (1.0, 'nudge')")
    conn.close()
    conn = open_db(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 1  # old rows kept
    assert breaks_between(conn, 0, 10) == []
    conn.close()


def test_usual_range_is_the_median_of_the_last_breaks_and_report_shows_it(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "h.db"
    day = datetime(2026, 11, 20, 10, 0).timestamp()
    for i, (left, right) in enumerate([(50, 40), (52, 41), (20, 42), (55, 39), (54, 40), (53, 43)]):
        record_break(db, BreakMobility(day + 60 * i, "neck-turns",
                                       {"turn_left_deg": left, "turn_right_deg": right, "tuck_depth_pct": 6.0},
                                       {"turn": 4}))
    conn = open_db(db, for_reading=True)
    # One stiff break (20°) does not lower the yardstick: the median of the last five.
    assert usual_range(conn, "turn") == {"left": 53.0, "right": 41.0}
    conn.close()
    assert main(["report", "--db", str(db), "--day", "2026-11-20"]) == 0
    out = capsys.readouterr().out
    assert "Range of motion" in out and "6 watched breaks" in out
    assert "turn left" in out and "52.5°" in out  # median of the six
    assert "turns: 12.0° further to the left" in out
