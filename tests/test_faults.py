"""Reliability under faults: the capture loop neither hangs nor crashes; it reports, then resumes or
stops cleanly.

- a video that ends or breaks mid-stream (truncated or corrupted file, or one that cannot be opened);
- frames of the wrong size or type (3x3, float32, HxWx1, a size change mid-stream, not an array at all);
- a source whose read() or open() blocks (posture/stall.py);
- SIGTERM to `posture run --headless` flushes the history; SIGKILL loses at most a few seconds.

Most tests use fake pose/face backends (the real `PersonFinder` with stand-ins that validate frames as
the MediaPipe backends do), so they are fast and need no model; the subprocess tests use the real app.
No test measures time except as a hang guard.
"""

from __future__ import annotations

import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sim_camera_run import read_until, run_guarded, spawn, wait_for

from posture.analyzer import Analyzer
from posture.clock import FakeClock
from posture.errors import SourceError
from posture.landmarks import NUM_LANDMARKS, Landmark, Pose
from posture.monitor import Monitor
from posture.person import PersonFinder
from posture.pose import check_frame
from posture.replay import ReplaySource
from posture.samples import Event, PostureSample
from posture.settings import Settings
from posture.sources import Frame, FrameSource, VideoFileSource
from posture.stall import SourceStalled, StallGuard, guard, unwrap

REPO = Path(__file__).resolve().parents[1]
# Hang guards only: every loop here finishes in well under a second when it works.
HANG_S = 20.0
STALL_HANG_S = 10.0  # with 0.2 s stall deadlines, a guarded monitor is back within a second or two


# --- stand-ins --------------------------------------------------------------------------------------


def _pose() -> Pose:
    """A plausible seated, frontal upper body (normalised coordinates), valid for `validate_pose`."""
    pts = [(0.5, 0.5, 0.0, 0.1)] * NUM_LANDMARKS
    # MediaPipe's "left" is the person's left: on the right of a (non-mirrored) frontal image.
    layout = {0: (0.5, 0.35), 2: (0.53, 0.32), 5: (0.47, 0.32), 7: (0.56, 0.34), 8: (0.44, 0.34),
              9: (0.52, 0.4), 10: (0.48, 0.4), 11: (0.65, 0.6), 12: (0.35, 0.6)}
    lms = [Landmark(x, y, z, v) for x, y, z, v in pts]
    for i, (x, y) in layout.items():
        lms[i] = Landmark(x, y, 0.0, 0.99)
    return Pose(tuple(lms), None, 1.0)


class FakePose:
    """Validates frames exactly like the MediaPipe backends, then reports a fixed pose."""

    def __init__(self, pose: Pose | None = None) -> None:
        self.pose = pose
        self.calls = 0

    def detect(self, frame: np.ndarray) -> Pose | None:
        check_frame(frame)
        self.calls += 1
        return self.pose

    def close(self) -> None:
        pass


class FakeFaces:
    def __init__(self, n: int = 1) -> None:
        self.n = n

    def faces(self, frame: np.ndarray) -> list[Any]:
        from posture.pose import FaceBox

        check_frame(frame)
        return [FaceBox((0.4, 0.2, 0.2, 0.2, 0.9))] * self.n

    def close(self) -> None:
        pass


def finder(pose: Pose | None = None) -> PersonFinder:
    return PersonFinder(FakePose(pose if pose is not None else _pose()), None, FakeFaces())  # type: ignore[arg-type]


class Recorder:
    """A history writer stand-in: remembers what the monitor handed it, and whether it was flushed."""

    def __init__(self) -> None:
        self.samples: list[PostureSample] = []
        self.events: list[Event] = []
        self.flushes = 0

    def add_sample(self, s: PostureSample) -> None:
        self.samples.append(s)

    def add_event(self, e: Event) -> None:
        self.events.append(e)

    def flush(self) -> bool:
        self.flushes += 1
        return True

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]


FAIL = object()  # in a ListSource: a read that returns nothing


class ListSource(FrameSource):
    """Frames from a list; `live` like a camera or not like a file; FAIL entries are failed reads."""

    def __init__(self, images: list[Any], live: bool = False, repeat: bool = False) -> None:
        super().__init__()
        self.images = images
        self.live = live
        self.repeat = repeat
        self.i = 0
        self.opened = False

    def open(self) -> None:
        self.opened = True

    def read(self) -> Frame | None:
        if self.i >= len(self.images):
            if not self.repeat:
                return None
            self.i = 0
        image = self.images[self.i]
        self.i += 1
        if image is FAIL:
            return None
        self.frames_decoded += 1
        return Frame(image, float(self.i), self.i)

    def close(self) -> None:
        self.opened = False


class BlockingSource(FrameSource):
    """read() (or open()) blocks until the test releases it, like a frozen camera driver."""

    live = True

    def __init__(self, release: threading.Event, block_open: bool = False) -> None:
        super().__init__()
        self.release = release
        self.block_open = block_open
        self.closed_by: str | None = None

    def open(self) -> None:
        if self.block_open:
            self.release.wait()

    def read(self) -> Frame | None:
        self.release.wait()
        return None

    def close(self) -> None:
        self.closed_by = threading.current_thread().name


def monitor(open_source: Callable[[], FrameSource], writer: Recorder | None = None, **kw: Any) -> Monitor:
    kw.setdefault("adaptive", False)  # the pose path on every sample: the gate and the model see each frame
    return Monitor(open_source, kw.pop("finder", None) or finder(), FakeClock(monotonic_start=0.0), Settings(),
                   writer=writer, breaks=None, **kw)


GOOD = np.full((64, 64, 3), 120, np.uint8)


# --- frames of the wrong size or type ------------------------------------------------------------------

# The 3x3 and float32 frames look like GOOD once shrunk to the motion gate's thumbnail: they must still
# be refused, not judged with the previous frame's pose.
BAD_FRAMES: dict[str, Any] = {
    "3x3": np.full((3, 3, 3), 120, np.uint8),
    "float32": np.full((64, 64, 3), 120.0, np.float32),
    "float64": np.full((64, 64, 3), 0.5, np.float64),
    "int64": np.zeros((64, 64, 3), np.int64),
    "two channels": np.zeros((64, 64, 2), np.uint8),
    "5-d": np.zeros((4, 4, 4, 4, 3), np.uint8),
    "empty": np.zeros((0, 0, 3), np.uint8),
    "one row": np.zeros((1, 4000, 3), np.uint8),
    "not an array": [[1, 2], [3, 4]],
    "None image": None,
}


@pytest.mark.parametrize("name", list(BAD_FRAMES))
@pytest.mark.parametrize("after_good", [False, True], ids=["first", "after a good frame"])
def test_analyzer_rejects_a_bad_frame_with_value_error(name: str, after_good: bool) -> None:
    """Only ValueError (which the loops report as `bad_frame`), never cv2.error/AttributeError; and a
    bad frame must not be judged with the previous frame's pose (the motion gate must not reuse it)."""
    analyzer = Analyzer(finder())
    if after_good:
        analyzer.process(GOOD, 0.0, 0.0)
    with pytest.raises(ValueError):
        analyzer.process(BAD_FRAMES[name], 1.0, 1.0)


@pytest.mark.parametrize("image", [np.full((64, 64), 90, np.uint8), np.full((64, 64, 1), 90, np.uint8),
                                   np.full((64, 64, 4), 90, np.uint8),
                                   np.full((64, 128, 3), 90, np.uint8)[:, ::2]],
                         ids=["grey HxW", "grey HxWx1", "BGRA", "non-contiguous"])
def test_analyzer_accepts_grey_bgra_and_strided_frames(image: np.ndarray) -> None:
    analyzer = Analyzer(finder())
    analyzer.process(GOOD, 0.0, 0.0)
    assert analyzer.process(image, 1.0, 1.0).sample.person
    assert analyzer.process(image, 2.0, 2.0).sample.person  # and again through the motion gate


@pytest.mark.parametrize("name", list(BAD_FRAMES))
@pytest.mark.parametrize("adaptive", [False, True], ids=["fixed", "adaptive"])
def test_monitor_reports_a_bad_frame_once_and_carries_on(name: str, adaptive: bool) -> None:
    images = [GOOD, GOOD, BAD_FRAMES[name], GOOD, BAD_FRAMES[name], GOOD]
    rec = Recorder()
    m = monitor(lambda: ListSource(images), rec, adaptive=adaptive)
    run_guarded(m, hang_s=HANG_S)
    assert m.ended
    assert rec.kinds().count("bad_frame") == 1  # said once per run, not once per frame
    assert len(rec.samples) == 4  # every good frame still became a sample
    assert rec.kinds()[-1] == "session_end" and rec.flushes >= 1


def test_frame_size_changing_mid_stream_is_fine() -> None:
    sizes = [(64, 64), (64, 64), (96, 128), (96, 128), (480, 640), (64, 64)]
    images = [np.full((h, w, 3), 100 + 10 * i, np.uint8) for i, (h, w) in enumerate(sizes)]
    rec = Recorder()
    m = monitor(lambda: ListSource(images), rec)
    run_guarded(m, hang_s=HANG_S)
    assert "bad_frame" not in rec.kinds()
    assert len(rec.samples) == len(images)
    assert all(s.person for s in rec.samples)


@pytest.mark.slow
def test_real_backends_reject_bad_frames(still_pose: Any) -> None:
    """MediaPipe itself must never see a frame it could crash on."""
    from posture.pose import make_backends

    main, _, faces = make_backends(None, follow_user=True)  # this install's face source
    assert faces is not None
    try:
        for name, image in BAD_FRAMES.items():
            with pytest.raises(ValueError):
                still_pose.detect(image)
            with pytest.raises(ValueError):
                faces.faces(image)
            assert name
    finally:
        faces.close()
        if main is not faces:
            main.close()


# --- calibrating from a span of a live run -------------------------------------------------------------


def test_calibrate_from_counts_from_the_start_of_the_run() -> None:
    """`--calibrate-from 0:8` means the first 8 s of this run, whatever the clock's zero: the system clock's
    monotonic time counts from boot, so under `--realtime` an absolute span never matched and calibration
    failed with "nobody was in view"."""
    from posture.baseline import baseline_from_metrics

    seen: list[int] = []

    def build(obs: list[Any]) -> Any:
        seen.append(len(obs))
        return baseline_from_metrics([o for o in obs if o is not None])

    rec = Recorder()
    clock = FakeClock(monotonic_start=86_400.0)  # a machine up for a day
    m = Monitor(lambda: ListSource([GOOD], live=True, repeat=True), finder(), clock, Settings(), writer=rec,
                breaks=None, adaptive=False, calibrate_span=(0.0, 8.0), build_baseline=build)
    run_guarded(m, max_seconds=12.0, hang_s=HANG_S)
    assert "calibration_failed" not in rec.kinds()
    assert m.analyzer.baseline is not None and seen and seen[0] >= 10  # ~16 samples at 2 Hz in 0-8 s


# --- a video that ends or breaks mid-stream ------------------------------------------------------------


def write_avi(path: Path, frames: int = 60, fps: float = 10.0, size: int = 64) -> Path:
    """A small MJPEG .avi: readable frame by frame even when cut short (unlike an .mp4 whose index
    sits at the end)."""
    import cv2

    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (size, size))
    assert w.isOpened()
    for i in range(frames):
        img = np.full((size, size, 3), (i * 4) % 255, np.uint8)
        cv2.putText(img, str(i), (4, size // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2)
        w.write(img)
    w.release()
    return path


@pytest.fixture
def truncated_avi(tmp_path: Path) -> Path:
    full = write_avi(tmp_path / "full.avi")
    data = full.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])  # the header still promises 60 frames
    return cut


def count_frames(path: Path) -> int:
    src = VideoFileSource(path)
    src.open()
    n = 0
    while src.read() is not None:
        n += 1
    src.close()
    return n


def test_truncated_video_ends_early_without_error(truncated_avi: Path) -> None:
    src = VideoFileSource(truncated_avi)
    src.open()
    assert src.frame_count == 60
    n = count_frames(truncated_avi)
    assert 0 < n < 60
    assert src.read() is not None  # still readable from the start


def test_monitor_stops_cleanly_when_a_replayed_video_ends_mid_stream(truncated_avi: Path) -> None:
    rec = Recorder()
    clock = FakeClock(monotonic_start=0.0)
    m = Monitor(lambda: replay, finder(), clock, Settings(), writer=rec, adaptive=False)
    replay = ReplaySource(truncated_avi, clock)
    run_guarded(m, hang_s=HANG_S)  # no max_seconds: the end of the video must end the run
    assert m.ended and replay.ended
    assert rec.samples and rec.samples[-1].t < 6.0  # the promised 6 s never arrived
    assert rec.kinds()[-1] == "session_end" and rec.flushes >= 1


def test_looping_replay_of_a_truncated_video_keeps_going(truncated_avi: Path) -> None:
    rec = Recorder()
    clock = FakeClock(monotonic_start=0.0)
    replay = ReplaySource(truncated_avi, clock, loop=True)
    m = Monitor(lambda: replay, finder(), clock, Settings(), writer=rec, adaptive=False)
    run_guarded(m, max_seconds=12.0, hang_s=HANG_S)
    assert replay.loops >= 2
    assert rec.samples[-1].t > 10.0
    assert not m.ended


def test_corrupted_middle_of_a_video_is_survived(tmp_path: Path) -> None:
    path = write_avi(tmp_path / "v.avi", frames=80)
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(1)
    a, b = len(data) // 3, len(data) // 2
    data[a:b] = rng.integers(0, 256, b - a, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))
    rec = Recorder()
    clock = FakeClock(monotonic_start=0.0)
    replay = ReplaySource(path, clock)
    m = Monitor(lambda: replay, finder(), clock, Settings(), writer=rec, adaptive=False)
    run_guarded(m, max_seconds=30.0, hang_s=HANG_S)
    assert rec.samples  # what could be decoded was analysed, the rest is not a crash


def test_analyze_pipeline_reads_a_truncated_video_up_to_the_cut(truncated_avi: Path) -> None:
    from posture.pipeline import analyze_source

    src = VideoFileSource(truncated_avi)
    src.open()
    result = analyze_source(src, finder(), rate_hz=2.0)
    src.close()
    assert result.samples and result.samples[-1].t < 6.0
    assert result.frames_decoded + result.frames_skipped == count_frames(truncated_avi)


def test_an_unreadable_video_is_a_clear_source_error(tmp_path: Path) -> None:
    bad = tmp_path / "clip.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(3000))
    with pytest.raises(SourceError, match="cannot read video"):
        VideoFileSource(bad).open()
    replay = ReplaySource(bad, FakeClock())
    for _ in range(2):  # a second attempt must fail the same way, not half-open the replay
        with pytest.raises(SourceError):
            replay.open()
    with pytest.raises(SourceError):
        replay.read()


def test_monitor_ends_when_a_recording_cannot_be_opened(tmp_path: Path) -> None:
    """A recording that cannot be read does not come back like a busy camera: report it and stop, instead
    of retrying forever (which, on the accelerated clock of a headless replay, spins a core)."""
    bad = tmp_path / "clip.mp4"
    bad.write_bytes(b"not a video" * 100)
    rec = Recorder()
    clock = FakeClock(monotonic_start=0.0)
    replay = ReplaySource(bad, clock)
    m = Monitor(lambda: replay, finder(), clock, Settings(), writer=rec)
    run_guarded(m, hang_s=HANG_S)  # no max_seconds
    assert m.ended
    lost = [e for e in rec.events if e.kind == "camera_lost"]
    assert lost and "cannot read video" in lost[0].data["error"]
    assert not rec.samples


# --- a camera that hiccups, fails, or stalls -----------------------------------------------------------


def _camera(rig_setup: Callable[[Any], None] | None = None) -> tuple[Any, Monitor, Recorder]:
    """A monitor on the camera simulator (tests/camera_sim.py): a webcam's habits, on the fake clock."""
    from camera_sim import CameraRig, upright

    from posture.sources import WebcamSource

    rec = Recorder()
    clock = FakeClock(monotonic_start=0.0)
    rig = CameraRig(clock, upright())
    if rig_setup is not None:
        rig_setup(rig)
    m = Monitor(lambda: WebcamSource(0, clock=clock, capture=rig.capture), finder(), clock, Settings(),
                writer=rec, breaks=None, adaptive=False)
    return rig, m, rec


def test_failed_reads_pause_then_resume_on_a_live_source() -> None:
    """A camera that stops delivering (unplugged): report once, reopen later, carry on."""
    rig, m, rec = _camera(lambda r: (r.at(3.0, r.unplug), r.at(8.0, r.replug)))
    run_guarded(m, max_seconds=40.0, hang_s=HANG_S)
    kinds = rec.kinds()
    assert kinds.count("camera_lost") == 1 and kinds.count("camera_back") == 1
    assert rig.opens == 2 and rig.closes == 2  # released when lost, reopened, released at the end
    assert len([s for s in rec.samples if s.t > 10.0]) > 10  # sampling resumed after the reopen


def test_a_driver_exception_becomes_a_source_error() -> None:
    class Broken(ListSource):
        def read(self) -> Frame | None:
            raise OSError(5, "Input/output error")

    g = StallGuard(Broken([], live=True), read_timeout_s=2.0)
    g.open()
    with pytest.raises(SourceError, match="Input/output error"):
        g.read()
    g.close()


def test_stall_guard_passes_frames_and_attributes_through(truncated_avi: Path) -> None:
    clock = FakeClock(monotonic_start=0.0)
    replay = ReplaySource(truncated_avi, clock)
    g = guard(replay)
    assert guard(g) is g and unwrap(g) is replay
    g.open()
    assert g.live and g.fps == 10.0 and g.name == replay.name
    frame = g.read()
    assert frame is not None and frame.image.shape == (64, 64, 3)
    assert g.frames_decoded == replay.frames_decoded == 1
    clock.advance(100.0)
    assert g.read() is None and g.ended
    g.close()


def test_stall_guard_times_out_a_blocked_read_and_closes_the_source_when_it_returns() -> None:
    release = threading.Event()
    inner = BlockingSource(release)
    g = StallGuard(inner, read_timeout_s=0.2)
    g.open()
    try:
        with pytest.raises(SourceStalled, match="stalled"):
            g.read()
        with pytest.raises(SourceStalled):  # still stuck: answered at once, not after another wait
            g.read()
        assert g.stalled and g.stalls == 1
        g.close()
        assert inner.closed_by is None  # never released under a running read
    finally:
        release.set()
    deadline = time.monotonic() + 5
    while inner.closed_by is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert inner.closed_by is not None and inner.closed_by.startswith("stall-guard")


def test_stall_guard_times_out_a_blocked_open() -> None:
    release = threading.Event()
    g = StallGuard(BlockingSource(release, block_open=True), open_timeout_s=0.2)
    try:
        with pytest.raises(SourceStalled):
            g.open()
        g.close()
    finally:
        release.set()


@pytest.fixture
def short_stall_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    import posture.stall

    monkeypatch.setattr(posture.stall, "READ_TIMEOUT_S", 0.2)
    monkeypatch.setattr(posture.stall, "OPEN_TIMEOUT_S", 0.2)


@pytest.mark.usefixtures("short_stall_timeouts")
def test_monitor_does_not_hang_on_a_stalled_read_and_recovers() -> None:
    rig, m, rec = _camera(lambda r: (r.at(3.0, r.stall), r.at(6.0, r.unstall)))
    try:
        run_guarded(m, max_seconds=40.0, hang_s=STALL_HANG_S)
    finally:
        rig.unstall()
    kinds = rec.kinds()
    assert "camera_lost" in kinds and "camera_back" in kinds
    assert rig.opens >= 2 and len([s for s in rec.samples if s.t > 6.0]) > 5
    assert rig.violations == []  # never released while the driver was inside a read


@pytest.mark.usefixtures("short_stall_timeouts")
def test_monitor_does_not_hang_on_a_stalled_open() -> None:
    rig, m, rec = _camera(lambda r: r.stall())
    try:
        run_guarded(m, max_seconds=60.0, hang_s=STALL_HANG_S)
    finally:
        rig.unstall()
    assert "camera_lost" in rec.kinds() and not rec.samples


@pytest.mark.usefixtures("short_stall_timeouts")
def test_stop_is_honoured_while_the_camera_is_stalled() -> None:
    rig, m, rec = _camera(lambda r: r.at(1.0, r.stall))
    th = threading.Thread(target=m.run, kwargs={"realtime_wait": m.stop_event.wait}, daemon=True)
    th.start()
    try:
        time.sleep(0.5)
        m.submit(m.stop)
        m.stop()
        th.join(STALL_HANG_S)
        assert not th.is_alive()
    finally:
        rig.unstall()
    assert rig.violations == [] and rec.flushes >= 1


# --- signals: the history survives ---------------------------------------------------------------------


def _clip() -> Path:
    for name in ("upright.mp4", "demo_session.mp4"):
        p = REPO / "sample_videos" / name
        if p.exists():
            return p
    pytest.skip("no sample clip in sample_videos/ (run `make samples`)")


@pytest.fixture
def headless(tmp_path: Path) -> Iterator[Callable[[], tuple[subprocess.Popen[str], queue.Queue[str], Path]]]:
    procs: list[subprocess.Popen[str]] = []

    def start() -> tuple[subprocess.Popen[str], queue.Queue[str], Path]:
        db = tmp_path / "history.db"
        env = dict(os.environ, POSTURE_CONFIG_DIR=str(tmp_path / "cfg"), POSTURE_DATA_DIR=str(tmp_path / "data"),
                   PYTHONUNBUFFERED="1")
        proc, lines = spawn(
            [sys.executable, "-m", "posture", "run", "--source", str(_clip()), "--headless", "--realtime", "--loop",
             "--db", str(db)],
            env, tmp_path,
        )
        procs.append(proc)
        return proc, lines, db

    yield start
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()


def _covered_until(db: Path) -> float:
    """Wall time up to which the history accounts for the user (end of the newest span)."""
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        row = conn.execute("SELECT MAX(start + duration), COUNT(*) FROM spans").fetchone()
    finally:
        conn.close()
    assert row[1] > 0, "no span was saved"
    return float(row[0])


@pytest.mark.slow
def test_sigterm_flushes_the_history(headless: Callable[..., Any]) -> None:
    proc, lines, db = headless()
    wait_for(lines, " state ")  # the first sample
    time.sleep(3.0)
    stopped_at = time.time()
    proc.send_signal(signal.SIGTERM)
    rc = proc.wait(60)
    out = "".join(read_until(lines, None, 5.0)[0])
    assert rc == 0, out
    assert "stopped:" in out and "Traceback" not in out
    assert stopped_at - _covered_until(db) < 2.0  # everything up to the signal is on disk
    conn = sqlite3.connect(db)
    try:
        kinds = [k for (k,) in conn.execute("SELECT kind FROM events ORDER BY id")]
    finally:
        conn.close()
    assert kinds[0] == "session_start" and kinds[-1] == "session_end"


@pytest.mark.slow
def test_sigkill_loses_at_most_a_few_seconds(headless: Callable[..., Any]) -> None:
    proc, lines, db = headless()
    wait_for(lines, " state ")
    time.sleep(12.0)  # past at least two commit intervals
    killed_at = time.time()
    proc.kill()
    proc.wait(30)
    lost = killed_at - _covered_until(db)  # the database is intact (integrity_check) and nearly current
    assert lost < 7.0, f"{lost:.1f} s of history lost"
