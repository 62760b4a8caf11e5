"""One engine: `analyze`, `evaluate` and the live companion judge a clip identically, sample by sample;
the break coach's words reach the terminal; answers to a break reach the real scheduler and the history.
"""

from __future__ import annotations

import argparse
import io
import json
from datetime import datetime
from pathlib import Path

import pytest

from calibration.services import span_builder
from posture.analyzer import Analyzer
from posture.cli import main
from posture.cli.evaluate_cmd import analyse_clip
from posture.clock import FakeClock
from posture.coach.breaks import BreakScheduler, BreakSettings
from posture.coach.routines import load_catalogue
from posture.companion import build_breaks
from posture.events import (
    BreakPostponed,
    BreakSkipped,
    BreakSuggested,
    Calibrated,
    CalibrationFailed,
    Event,
    NudgeShown,
    Recovery,
    SessionEnded,
    event_json,
)
from posture.headless import ConsoleReporter
from posture.monitor import Monitor
from posture.person import Detection, Validity, default_finder
from posture.replay import ReplaySource
from posture.samples import PostureSample
from posture.session import Session, SpanCalibration
from posture.settings import load_settings

from conftest import SAMPLES, seated_pose

CLIP = SAMPLES / "demo_session.mp4"
RATE = 2.0  # samples per second, in both drivers
SECONDS = 130  # upright, a minute of slouching (a nudge), sitting up again (a recovery), more
SPAN = (0.0, 8.0)
START = datetime(2026, 11, 23, 9, 0)


@pytest.fixture(scope="module")
def clip_frames(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo clip's frames at 2 Hz as an image sequence: both drivers then see exactly the same
    pictures at the same times (the fixed-rate driver by position, the live one by its clock)."""
    import cv2

    folder = tmp_path_factory.mktemp("demo_frames")
    cap = cv2.VideoCapture(str(CLIP))
    step = round(cap.get(cv2.CAP_PROP_FPS) / RATE)
    index = kept = 0
    while kept < SECONDS * RATE:
        ok, image = cap.read()
        if not ok:
            break
        if index % step == 0:
            cv2.imwrite(str(folder / f"{kept:04d}.png"), image)
            kept += 1
        index += 1
    cap.release()
    assert kept == SECONDS * RATE
    return folder


def live_run(folder: Path) -> tuple[list[PostureSample], list[Event]]:
    """The live driver on a fake clock, replaying the frames as a camera would show them. Its sampling is
    fixed at the analysis rate (adaptive sampling is the one thing the drivers may do differently)."""
    settings = load_settings().settings
    clock = FakeClock(wall_start=START.timestamp(), monotonic_start=0.0)
    replay = ReplaySource(folder, clock, fps_in=RATE)
    finder = default_finder(settings.pose_model or None)
    monitor = Monitor(lambda: replay, finder, clock, settings, breaks=lambda c: build_breaks(settings, c),
                      calibrate_span=SPAN, build_baseline=span_builder(SPAN), adaptive=False,
                      fixed_interval_s=1.0 / RATE, source_name=str(folder))
    samples: list[PostureSample] = []
    events: list[Event] = []
    monitor.on_sample(samples.append)
    monitor.on_event(events.append)
    try:
        monitor.run()
    finally:
        finder.close()
    return samples, events


def comparable(events: list[dict[str, object]]) -> list[dict[str, object]]:
    # A recording's session ends when its driver notices the end: the fixed-rate one at the last frame,
    # the live one at its next tick. Everything else must match to the millisecond.
    return [{k: v for k, v in e.items() if not (e["kind"] == "session_end" and k == "t")} for e in events]


@pytest.mark.slow
def test_analyze_evaluate_and_the_live_driver_agree_sample_by_sample(clip_frames: Path, tmp_path: Path) -> None:
    out = tmp_path / "analyze.json"
    rc = main(["analyze", str(clip_frames), "--fps-in", str(RATE), "--rate", str(RATE), "--calibrate-from",
               f"{SPAN[0]:g}:{SPAN[1]:g}", "--start-time", START.isoformat(), "--json", str(out), "--quiet"])
    assert rc == 0
    analyzed = json.loads(out.read_text(encoding="utf-8"))
    evaluated = analyse_clip(str(clip_frames), argparse.Namespace(
        rate=RATE, fps_in=RATE, calibrate_from=SPAN, start_time=START.timestamp()))
    live_samples, live_events = live_run(clip_frames)

    live_json = [s.to_json() for s in live_samples]
    assert len(analyzed["samples"]) == len(live_json) == SECONDS * RATE
    for i, (a, e, live) in enumerate(zip(analyzed["samples"], evaluated.samples, live_json, strict=True)):
        assert a == e.to_json() == live, f"sample {i} (t={a['t']}) differs"
    assert comparable(analyzed["events"]) == comparable([event_json(e) for e in evaluated.events]) \
        == comparable([event_json(e) for e in live_events])
    assert [s.wall for s in evaluated.samples] == [s.wall for s in live_samples]

    # Not an empty agreement: the clip calibrates, nudges once during the slouch and sees the recovery.
    kinds = [e["kind"] for e in analyzed["events"]]
    assert kinds[:2] == ["session_start", "calibration"] and kinds[-1] == "session_end"
    assert kinds.count("nudge") == 1 and "recovery" in kinds
    states = {s["state"] for s in analyzed["samples"]}
    assert {"good", "poor"} <= states
    # The samples of the calibration span are judged against the baseline it made, in both drivers.
    first = [s for s in live_samples if s.t <= SPAN[1]]
    assert len(first) == SPAN[1] * RATE + 1 and all(s.state == "good" for s in first[4:])


class FakeFinder:
    """Sees the same seated person in every frame (the engine's input without MediaPipe)."""

    def find(self, image: object) -> Detection:
        return Detection(seated_pose(), Validity(True), 1)  # type: ignore[arg-type]

    def presence(self, image: object) -> int:
        return 1

    def close(self) -> None:
        pass


class History:
    """A HistorySink that remembers."""

    def __init__(self) -> None:
        self.samples: list[PostureSample] = []
        self.events: list[Event] = []
        self.flushes = 0

    def add_sample(self, sample: PostureSample) -> None:
        self.samples.append(sample)

    def add_event(self, event: Event) -> None:
        self.events.append(event)

    def flush(self) -> bool:
        self.flushes += 1
        return True


def sit(session: Session, clock: FakeClock, minutes: float) -> list[Event]:
    """Someone sits in front of the camera for `minutes`, a sample every 10 s."""
    seen: list[Event] = []
    session.on_event(seen.append)
    for _ in range(int(minutes * 6)):
        session.judge(Detection(seated_pose(), Validity(True), 1), clock.monotonic(), clock.wall())  # type: ignore[arg-type]
        clock.advance(10)
    return seen


def coached_session() -> tuple[Session, FakeClock, History]:
    clock = FakeClock(monotonic_start=0.0)
    history = History()
    session = Session(Analyzer(FakeFinder()), clock, history=history,  # type: ignore[arg-type]
                      breaks=lambda c: BreakScheduler(c, BreakSettings(), load_catalogue(), None))
    session.start(0.0, clock.wall())
    return session, clock, history


def test_the_break_sentence_reaches_the_terminal() -> None:
    """Made by the real scheduler inside the Session; the headless reporter prints its words, not an id."""
    session, clock, _ = coached_session()
    out = io.StringIO()
    reporter = ConsoleReporter(out=out)
    session.on_event(reporter.event)
    suggested = [e for e in sit(session, clock, 30) if isinstance(e, BreakSuggested)]
    assert len(suggested) == 1 and suggested[0].text
    line = out.getvalue().strip().splitlines()[-1]
    assert line.endswith(f"break suggested: {suggested[0].text}")
    assert reporter.suggestions == 1


def test_answers_to_a_break_reach_the_real_scheduler_and_the_history() -> None:
    session, clock, history = coached_session()
    assert any(isinstance(e, BreakSuggested) for e in sit(session, clock, 26))
    session.answer_break("postpone")
    assert isinstance(history.events[-1], BreakPostponed) and session.breaks is not None
    assert session.breaks.state == "postponed"
    again = [e for e in sit(session, clock, 6) if isinstance(e, BreakSuggested)]
    assert len(again) == 1 and again[0].postponed
    session.answer_break("skip")
    assert isinstance(history.events[-1], BreakSkipped) and session.breaks.state == "sitting"
    with pytest.raises(ValueError, match="postpone"):
        session.answer_break("later")


def test_a_span_that_cannot_calibrate_is_reported_and_its_samples_kept() -> None:
    clock = FakeClock(monotonic_start=0.0)
    history = History()

    def refuse(observations: list[object]) -> object:
        raise ValueError(f"only {len(observations)} samples")

    session = Session(Analyzer(FakeFinder()), clock, history=history,  # type: ignore[arg-type]
                      calibration=SpanCalibration((0.0, 5.0), refuse))  # type: ignore[arg-type]
    session.start(0.0, clock.wall())
    made = []
    for t in range(8):
        made += session.judge(Detection(seated_pose(), Validity(True), 1), float(t), clock.wall() + t)  # type: ignore[arg-type]
    assert [a.sample.t for a in made] == [float(t) for t in range(8)], "held samples come out, in order"
    failed = [e for e in history.events if isinstance(e, CalibrationFailed)]
    assert len(failed) == 1 and failed[0].error == "only 6 samples"
    assert not any(isinstance(e, Calibrated) for e in history.events)
    assert all(s.state == "unknown" for s in history.samples)


def _head_dropped() -> object:
    """The seated person with the head 0.08 of the picture lower over the same shoulders."""
    from posture.landmarks import Landmark, Pose

    pose = seated_pose()
    lms = list(pose.landmarks)  # type: ignore[attr-defined]
    for i in (0, 2, 5, 7, 8, 9, 10):
        lms[i] = Landmark(lms[i].x, lms[i].y + 0.08, lms[i].z, lms[i].visibility)
    return Pose(tuple(lms), None, 1.0)


def test_a_misread_calibration_frame_never_nudges_but_a_slouch_after_the_span_does() -> None:
    from posture.coach.nudges import NudgeSettings

    clock = FakeClock(monotonic_start=0.0)
    history = History()
    session = Session(Analyzer(FakeFinder()), clock, history=history,  # type: ignore[arg-type]
                      calibration=SpanCalibration((0.0, 10.0), span_builder((0.0, 10.0))),
                      nudge_settings=NudgeSettings(onset_delay_s=0.0))
    session.start(0.0, clock.wall())

    def judge(t: int, pose: object) -> None:
        session.judge(Detection(pose, Validity(True), 1), float(t), clock.wall() + t)  # type: ignore[arg-type]

    # Inside the span the person sits upright; three looks misread the head as dropped (the baseline's
    # median shrugs them off), and the span is judged when it closes.
    for t in range(11):
        judge(t, _head_dropped() if t in (5, 6, 7) else seated_pose())
    judge(11, seated_pose())
    assert any(s.state == "poor" for s in history.samples if s.t <= 10), "the misread looks are judged poor"
    assert not any(isinstance(e, NudgeShown) for e in history.events), "no nudge for the calibration posture"
    for t in range(12, 20):
        judge(t, _head_dropped())
    assert any(isinstance(e, NudgeShown) for e in history.events), "a slouch after the span still nudges"


def test_a_span_beyond_the_end_of_the_run_is_reported_at_the_end() -> None:
    clock = FakeClock(monotonic_start=0.0)
    history = History()
    session = Session(Analyzer(FakeFinder()), clock, history=history, source_name="clip.mp4",  # type: ignore[arg-type]
                      calibration=SpanCalibration((50.0, 60.0), span_builder((50.0, 60.0))))
    session.start(0.0, clock.wall())
    for t in range(5):
        assert session.judge(None, float(t), clock.wall() + t) == []
    kept = session.finish(5.0, clock.wall() + 5)
    assert len(kept) == 5 and history.flushes == 1
    failed = [e for e in history.events if isinstance(e, CalibrationFailed)]
    assert len(failed) == 1 and "outside clip.mp4" in failed[0].error
    assert isinstance(history.events[-1], SessionEnded)


def test_every_event_kind_serialises_with_its_kind_last_word() -> None:
    """The routine's kind must not overwrite the event's kind in the JSON (it once did for breaks)."""
    session, clock, _ = coached_session()
    suggested = next(e for e in sit(session, clock, 30) if isinstance(e, BreakSuggested))
    data = event_json(suggested)
    assert data["kind"] == "break_suggested" and data["break_kind"] in ("micro", "neck_care")
    assert data["text"] == suggested.text and data["t"] == round(suggested.t, 3)
    nudge = NudgeShown(1.23456, 0.0, level=1, reasons=("head_forward",), text="x")
    assert event_json(nudge) == {"t": 1.235, "kind": "nudge", "level": 1, "reasons": ["head_forward"], "text": "x"}
    assert Recovery(0.0, 0.0, 1, ("head_forward",), 9.5).data == {"level": 1, "reasons": ["head_forward"],
                                                                   "after_s": 9.5}



def test_the_engine_loads_without_the_outer_layers_and_the_command_line_has_every_command() -> None:
    """The core is usable on its own (no calibration, ui or Qt loaded), and the composition root wires
    every command statically (no loading by name that could silently drop one)."""
    import subprocess
    import sys

    code = ("import sys, posture.session, posture.monitor, posture.pipeline, posture.headless, posture.companion; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('calibration', 'ui', 'PySide6', 'pyqtgraph')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"

    from posture.cli import build_parser

    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"analyze", "evaluate", "calibrate", "profile", "break", "report", "settings", "dashboard",
            "run"} <= set(commands)


class _CountingFinder(FakeFinder):
    def __init__(self) -> None:
        self.looks = 0

    def find(self, image: object) -> Detection:
        self.looks += 1
        return super().find(image)


def test_every_sample_of_a_calibration_span_is_a_fresh_look() -> None:
    """Inside `--calibrate-from` the pose model looks at every sample, as the calibration wizard does; the
    motion gate re-used one look across a calibrating user's small movements and the baseline was one look
    wide."""
    import numpy as np

    finder = _CountingFinder()
    clock = FakeClock(monotonic_start=0.0)
    session = Session(Analyzer(finder), clock,  # type: ignore[arg-type]
                      calibration=SpanCalibration((0.0, 5.0), span_builder((0.0, 5.0))))
    session.start(0.0, clock.wall())
    picture = np.full((120, 160, 3), 90, np.uint8)  # an unchanged picture: the gate would re-use one look
    looks = []
    for t in range(10):
        session.judge(session.detect(picture, float(t)), float(t), clock.wall() + t)
        looks.append(finder.looks)
    assert looks[:6] == [1, 2, 3, 4, 5, 6], "one fresh look per sample inside the span"
    # After the span the unchanged picture re-uses the last look (once the baseline is set, one more fresh
    # look: the camera may have moved as the span closed).
    assert looks[6:] == [6, 7, 7, 7], "after the span the unchanged picture re-uses the last look"
