"""The graphs that watch a break run on one thread each (posture/mp_threads.py).

With MediaPipe's default (one executor thread per core) a frame's calculators hop between threads and,
on a quiet machine, the same frame cost ~75 % more CPU time (benchmarks/bench_watched_break.py). What
is checked here is the cause, on the real graphs: how many executor threads each one starts.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from posture.pose import legacy_available

pytestmark = pytest.mark.skipif(not legacy_available(), reason="the graph-thread setting is for the legacy "
                                "MediaPipe solutions (mediapipe < 0.10.30); the Tasks API has no such setting "
                                "(its watching CPU is measured by benchmarks/bench_watched_break.py)")


def _graph_threads() -> set[str]:
    names = set()
    for task in Path("/proc/self/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
        except OSError:
            continue
        if name.startswith("mediapipe/"):
            names.add(task.name)
    return names


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="counts threads through Linux's /proc")
@pytest.mark.parametrize("fresh", [False, True], ids=["tracking", "fresh-fit"])
def test_the_watching_pose_and_face_graphs_each_start_one_thread(fresh: bool) -> None:
    from posture.exercise.face import make_face_keypoints
    from posture.exercise.watch import make_watch_pose

    frame = np.full((240, 320, 3), 128, dtype=np.uint8)
    before = _graph_threads()
    pose = make_watch_pose(fresh)
    pose.detect(frame)
    after_pose = _graph_threads()
    faces = make_face_keypoints()
    assert faces is not None
    faces.detect(frame)
    after_face = _graph_threads()
    try:
        assert len(after_pose - before) == 1
        assert len(after_face - after_pose) == 1
    finally:
        pose.close()
        faces.close()


@pytest.mark.skipif(not Path("/proc/self/task").exists() or (os.cpu_count() or 1) < 2,
                    reason="needs Linux's /proc and more than one core to tell the default apart")
def test_without_the_setting_mediapipe_starts_more_than_one() -> None:
    # The control: the same graph as MediaPipe ships it. If a MediaPipe release changes this default,
    # posture/mp_threads.py's reason to exist should be looked at again.
    import mediapipe as mp

    before = _graph_threads()
    det = mp.solutions.face_detection.FaceDetection(model_selection=0)
    det.process(np.full((240, 320, 3), 128, dtype=np.uint8))  # the threads name themselves once running
    try:
        assert len(_graph_threads() - before) > 1  # one per core (2 here); more on larger machines
    finally:
        det.close()
