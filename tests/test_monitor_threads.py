"""What the monitor's threads cost, checked at the cause (the CPU figure itself is benchmarks/bench_monitoring.py's).

- The monitor's MediaPipe graphs (the person finder's pose and face detector) run on one executor thread each:
  with MediaPipe's default of one per core, each look's calculators hop between threads (posture/mp_threads.py).
  The landmarks must be exactly the same either way, or the setting would change what is judged.
- The thread that reads frames behind the stall guard carries a name of its own in /proc, so per-thread
  accounting (the benchmark, `top -H`) tells decoding apart from the loop.
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from posture.pose import legacy_available
from posture.sources import Frame, FrameSource

REPO = Path(__file__).resolve().parents[1]
PROC = Path("/proc/self/task")


def _graph_threads() -> set[str]:
    names = set()
    for task in PROC.iterdir():
        try:
            if (task / "comm").read_text().startswith("mediapipe/"):
                names.add(task.name)
        except OSError:
            continue
    return names


def _frames(clip: str, every_s: float, count: int) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(REPO / "sample_videos" / clip))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    out, i = [], 0
    while len(out) < count:
        ok, frame = cap.read()
        if not ok:
            break
        if i % max(1, round(every_s * fps)) == 0:
            out.append(frame)
        i += 1
    cap.release()
    return out


legacy_only = pytest.mark.skipif(not legacy_available(), reason="the graph-thread setting is for the legacy "
                                 "MediaPipe solutions (mediapipe < 0.10.30); the Tasks backend has its own")


@legacy_only
@pytest.mark.skipif(not PROC.exists(), reason="counts threads through Linux's /proc")
def test_the_monitors_pose_and_face_graphs_start_one_thread_each() -> None:
    from posture.person import default_finder

    before = _graph_threads()
    finder = default_finder()
    try:
        finder.find(_frames("head_tilt.mp4", 1.0, 1)[0])  # the graphs start their threads on the first frame
        assert len(_graph_threads() - before) == 2  # pose + face; MediaPipe's default is one per core each
    finally:
        finder.close()


@legacy_only
@pytest.mark.slow
def test_one_graph_thread_finds_exactly_the_same_landmarks() -> None:
    from posture.pose import MediaPipePose

    frames = [*_frames("head_tilt.mp4", 2.0, 6), *_frames("forward_head.mp4", 2.0, 6),
              *_frames("lateral_lean.mp4", 2.0, 6)]
    assert len(frames) == 18
    one = MediaPipePose(tracking=False, graph_threads=1)
    default = MediaPipePose(tracking=False)
    try:
        found = 0
        for frame in frames:
            a, b = one.detect(frame), default.detect(frame)
            assert (a is None) == (b is None)
            if a is not None and b is not None:
                found += 1
                assert a.landmarks == b.landmarks  # bit for bit: only the scheduling differs
        assert found >= 15  # the user is in these clips: the comparison is not between two misses
    finally:
        one.close()
        default.close()


class _Still(FrameSource):
    """A source that remembers which thread read it."""

    def __init__(self) -> None:
        super().__init__()
        self.reader: int | None = None

    def open(self) -> None:
        return None

    def read(self) -> Frame | None:
        self.reader = threading.get_native_id()
        return Frame(np.zeros((8, 8, 3), np.uint8), 0.0, 0)

    def close(self) -> None:
        return None


@pytest.mark.skipif(not PROC.exists(), reason="reads thread names from Linux's /proc")
def test_frames_are_read_on_a_thread_named_camera_read() -> None:
    from posture.stall import guard

    inner = _Still()
    source = guard(inner)
    source.open()
    try:
        assert source.read() is not None
        assert inner.reader is not None and inner.reader != threading.get_native_id()
        assert (PROC / str(inner.reader) / "comm").read_text().strip() == "camera-read"
    finally:
        source.close()


@pytest.mark.slow
def test_one_opencv_thread_gives_the_same_pixels_and_landmarks() -> None:
    # The monitor runs OpenCV on one thread (posture.monitor.LIVE_OPENCV_THREADS); what the pose model
    # sees and finds must not depend on it, at the clips' size and at 1280x720 (where the denoise applies).
    from posture.motion import thumbnail
    from posture.person import default_finder
    from posture.preprocess import frame_quality, prepare_frame

    frames = [*_frames("head_tilt.mp4", 3.0, 4), *_frames("lateral_lean.mp4", 3.0, 4)]
    frames += [cv2.resize(f, (1280, 720)) for f in frames[:3]]
    before = cv2.getNumThreads()
    many, one = default_finder(), default_finder()
    try:
        found = 0
        for frame in frames:
            cv2.setNumThreads(2)
            a, pa, qa, ta = many.find(frame), prepare_frame(frame), frame_quality(frame), thumbnail(frame)
            cv2.setNumThreads(1)
            b, pb, qb, tb = one.find(frame), prepare_frame(frame), frame_quality(frame), thumbnail(frame)
            assert np.array_equal(pa, pb) and qa == qb and np.array_equal(ta, tb)
            assert (a.pose is None) == (b.pose is None)
            if a.pose is not None and b.pose is not None:
                found += 1
                assert a.pose.landmarks == b.pose.landmarks
        assert found >= 9
    finally:
        cv2.setNumThreads(before)
        many.close()
        one.close()


def test_the_monitor_runs_opencv_on_one_thread_and_gives_the_rest_back() -> None:
    from posture.clock import FakeClock
    from posture.monitor import LIVE_OPENCV_THREADS, Monitor
    from posture.settings import Settings

    seen: list[int] = []

    class Counting(_Still):
        def read(self) -> Frame | None:
            seen.append(cv2.getNumThreads())
            return None  # a recording that ends at once: the loop stops

    class NoFinder:
        def close(self) -> None:
            return None

    before = cv2.getNumThreads()
    monitor = Monitor(Counting, NoFinder(), FakeClock(monotonic_start=0.0), Settings())  # type: ignore[arg-type]
    monitor.run(max_seconds=5)
    assert seen == [LIVE_OPENCV_THREADS]
    assert cv2.getNumThreads() == before


@pytest.mark.slow
def test_the_monitor_closes_its_models_when_it_stops() -> None:
    """However the monitor's loop ends, its person finder's models are closed on that thread (a Tasks model
    left to the garbage collector closes itself from a finalizer, which can deadlock at exit on Python
    3.13), and the app or command that built the finder may close it again."""
    from posture.clock import FakeClock
    from posture.companion import SourceSpec, build_monitor
    from posture.settings import Settings

    clock = FakeClock(monotonic_start=0.0)
    monitor = build_monitor(Settings(), SourceSpec(path=str(REPO / "sample_videos" / "upright.mp4")), clock, None)
    monitor.run(max_seconds=3)
    assert monitor.status.pose_runs > 0
    assert monitor.finder.closed
    monitor.finder.close()  # the owner's own close after the monitor's: nothing happens (legacy raised)
