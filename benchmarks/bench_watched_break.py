"""Watched break: feedback latency and CPU while the camera coaches a break.

The 'neck-turns' routine runs in real time on the system clock with the camera watching. The camera is
the labelled clip sample_videos/ex_coached_break.mp4 played as a live source: each read returns the
frame that is on screen at that wall-clock moment (decoding the ones in between, as a camera driver
would have shown them), so pose, face detection, coaching and the countdown all run at their
production pace (WATCH_FPS frames a second).

- CPU: CPU seconds of this process over the 40 s break / 40 s, in % of one core (decoding included).
- Latency: for each repetition, from the movement to the message. "The movement" is the moment the
  head came back past the detector's return threshold, found by running the same detector over every
  frame of the clip (15 fps) offline; the message time is when the coach printed it.

    python benchmarks/bench_watched_break.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from benchmarks.common import SAMPLES, ProcWatch, fmt, machine, replace_section, save_json, table  # noqa: E402
from posture.clock import SystemClock  # noqa: E402
from posture.coach.routines import load_catalogue  # noqa: E402
from posture.coach.runner import RoutineRunner, StepStarted  # noqa: E402
from posture.exercise.face import make_face_keypoints  # noqa: E402
from posture.exercise.reps import RepDetector  # noqa: E402
from posture.exercise.signals import signals_from_pose  # noqa: E402
from posture.exercise.watch import WATCH_FPS, FrameFeed, WatchedBreak, plan_for  # noqa: E402
from posture.pose import make_pose  # noqa: E402
from posture.sources import Frame, FrameSource, VideoFileSource  # noqa: E402

CLIP = SAMPLES / "ex_coached_break.mp4"
TARGET_LATENCY_MS = 300.0
TARGET_CPU_PCT = 25.0
TICK_S = 1 / 24  # polls per second: a confirming frame may be due a third of a frame period early


class ReplayCamera(FrameSource):
    """A recording behaving like a live camera: read() returns the frame due at this wall-clock moment."""

    live = True

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._video = VideoFileSource(path, decode_threads=1)
        self.name = f"replayed {path.name}"
        self._t0 = 0.0
        self._last: Frame | None = None

    def open(self) -> None:
        self._video.open()
        self._t0 = time.monotonic()

    def read(self) -> Frame | None:
        now = time.monotonic() - self._t0
        while self._video.next_time() <= now + 1e-9:
            if self._video.next_time() + 1.0 / (self._video.fps or 15.0) <= now:
                if not self._video.skip():
                    return self._last
                continue
            frame = self._video.read()
            if frame is None:
                return self._last
            self._last = frame
        return self._last

    def close(self) -> None:
        self._video.close()


def movement_times(routine_steps: list[tuple[float, float, str]]) -> list[float]:
    """Offline, every frame: when each repetition came back past the return threshold (clip seconds)."""
    pose, faces = make_pose(tracking=True), make_face_keypoints()
    ends: list[float] = []
    with VideoFileSource(CLIP) as video:
        detector: RepDetector | None = None
        step = -1
        while (frame := video.read()) is not None:
            now_step = next((i for i, (a, b, _) in enumerate(routine_steps) if a <= frame.t < b), None)
            if now_step is None:
                continue
            if now_step != step:
                step = now_step
                from posture.exercise.movements import MOVEMENTS

                detector = RepDetector(MOVEMENTS[routine_steps[step][2]])
            found = pose.detect(frame.image)
            if found is None or detector is None:
                if detector is not None:
                    detector.missing(frame.t)
                continue
            face = faces.detect(frame.image, found) if faces is not None else None
            rep = detector.feed(signals_from_pose(found, frame.t, face))
            if rep is not None:
                ends.append(rep.end)
    pose.close()
    if faces is not None:
        faces.close()
    return ends


def main() -> int:
    routine = load_catalogue().get("neck-turns")
    assert routine is not None
    bounds, t = [], 0.0
    for s in routine.steps:
        plan = plan_for(s)
        if plan is not None:
            bounds.append((t, t + s.duration, plan.movement))
        t += s.duration
    truth = movement_times(bounds)

    clock = SystemClock()
    feed = FrameFeed(ReplayCamera(CLIP), make_pose(tracking=True), faces=make_face_keypoints())
    session = WatchedBreak(routine)
    runner = RoutineRunner(routine, clock)
    said: list[tuple[float, str, str, float | None]] = []
    watch = ProcWatch()
    feed.open()
    t0 = clock.monotonic()
    cpu0 = watch.cpu_seconds()
    events = runner.start()
    while True:
        for e in events:
            if isinstance(e, StepStarted):
                session.step_started(e.step)
        if runner.finished is not None:
            break
        for m in session.follow(feed, clock.monotonic() - t0):
            said.append((clock.monotonic() - t0, m.kind, m.text, m.repetition.end if m.repetition else None))
        clock.sleep(TICK_S)
        events = runner.tick()
    wall = clock.monotonic() - t0
    cpu = watch.cpu_seconds() - cpu0
    feed.close()

    counted = [(w, end) for w, kind, _, end in said if kind in ("count", "done") and end is not None]
    latencies = []
    for w, end in counted:
        # The same repetition seen at every frame offline: the nearest return within a second.
        match = min(truth, key=lambda e: abs(e - end), default=None)
        if match is not None and abs(match - end) <= 1.0:
            latencies.append((w - match) * 1000)
    cpu_pct = 100 * cpu / wall
    load = os.getloadavg()[0]
    result = {
        "cpu_pct": cpu_pct, "wall_s": wall, "frames": feed.frames, "fps": WATCH_FPS,
        "latency_ms": latencies, "messages": said, "truth_ends": truth,
        "latency_median_ms": statistics.median(latencies) if latencies else None,
        "latency_max_ms": max(latencies) if latencies else None,
    }
    save_json("watched_break", result)
    rows = [
        ["CPU while watching (pose + face + coaching + decoding), % of one core", fmt(cpu_pct),
         f"≤ {TARGET_CPU_PCT:.0f} %", "yes" if cpu_pct <= TARGET_CPU_PCT else "no"],
        ["feedback latency, median (movement → message)", f"{fmt(result['latency_median_ms'], '.0f')} ms",
         f"< {TARGET_LATENCY_MS:.0f} ms", ""],
        ["feedback latency, worst of the break", f"{fmt(result['latency_max_ms'], '.0f')} ms",
         f"< {TARGET_LATENCY_MS:.0f} ms",
         "yes" if latencies and max(latencies) < TARGET_LATENCY_MS else "no"],
        ["repetitions counted / in the clip", f"{len(counted)} / {len(truth)}", "", ""],
        ["frames analysed", f"{feed.frames} in {wall:.1f} s ({feed.frames / wall:.1f} per s)", "", ""],
    ]
    body = (
        "## Watched break (camera coaching)\n\n"
        "`benchmarks/bench_watched_break.py`: the 'neck-turns' routine in real time, its camera a replay of "
        "sample_videos/ex_coached_break.mp4 delivered at wall-clock pace. Latency runs from the moment the "
        "head came back past the return threshold (the same detector over every frame, offline) to the "
        "printed count.\n\n"
        + table(["measure", "result", "target", "met"], rows)
        + "\n\nPer repetition (ms): " + ", ".join(f"{v:.0f}" for v in latencies)
        + f"\n\nMachine: {machine()}; 1-minute load average at the end {load:.1f} on 2 cores (the frame rate "
        "reached, above, shows how much the neighbours left us)\n"
    )
    replace_section("watched_break", body)
    print(body)
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    raise SystemExit(main())
