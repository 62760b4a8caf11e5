"""The labelled exercise clips through a real camera's sensor noise: counts exact and each repetition where
the labels put it, as on the clean clips (tests/test_exercise_clips.py), with the same checks.

A webcam's picture is never clean: every frame carries fresh sensor noise of at least ~1.5 grey levels
(sd). The pose model's fit moves with it by a few percent of the shoulder width, about as much as a gentle
shoulder-blade squeeze, so a measurement that only works on noiseless generated frames would miscount in
real use. Each clip is played through several seeded noise sequences (noise drawn afresh per frame from the
seed and the frame's index, so a run repeats exactly); squeezes, the smallest movement, get more of them.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_exercise_clips import CLIPS, FREE, NAMED, assert_counts, assert_placed

from posture.exercise.analysis import ExerciseAnalysis, analyze_exercise
from posture.exercise.movements import FREE_DEFAULT
from posture.exercise.watch import WATCH_FPS, fresh_fit, watch_models
from posture.sources import Frame, FrameSource, RecordedSource, VideoFileSource, WrappedSource

SENSOR_NOISE_SD = 1.5  # grey levels: a good webcam in an ordinarily lit room
SEEDS = {name: range(8) if name == "ex_squeezes" else range(3) for name in (*FREE, *NAMED)}

# Measured shortfalls through sensor noise, per backend (strict: a fix shows up as a failure to remove the
# entry). Measured 2026-12-02 on the final code of branch s4-sq; the squeeze seed 7 entries (both backends)
# removed 2026-12-02 (s5-sq): it passes since squeeze steps take every other frame at rest (see below).
_CHIN = ("chin tucks are read on the head's size from the tracking pose model, whose fit wanders with the "
         "noise: a tuck ends 1.8-2.4 s before the label's end, or one is missed (4 of 5)")
KNOWN_SHORT_LEGACY: dict[tuple[str, int], str] = {
    ("ex_chin_tucks", 0): _CHIN,
    ("ex_chin_tucks", 1): _CHIN,
    ("ex_chin_tucks", 2): _CHIN,
}
KNOWN_SHORT_TASKS: dict[tuple[str, int], str] = {}
# The same clip through the watched break's own loop (below), which takes a confirming frame a third of a
# period early when a repetition seems to end and, in squeeze steps, every other frame at rest. Measured
# 2026-12-02 (s5-sq): one squeeze split in two or one started on noise, where the fixed 7.5 fps grid of
# `analyze_exercise` counts exactly. Before squeeze steps took every other frame at rest: seeds 0 and 7.
_SPLIT = ("5 of 4: the third squeeze reads under a third of its peak on two neighbouring frames 0.9 s before "
          "its rendered return (the confirming frame taken early is the clip's next frame, 67 ms on, and its fresh "
          "fit errs the same way); the rest of it counts again")
_NOISE_START = ("5 of 4: two of three frames at rest read 4.3-4.9 % narrow on legacy (the fresh fit's own noise is 2-3 % a "
                "frame) and a squeeze is counted before the first one")
KNOWN_SHORT_WATCHED_LEGACY: dict[int, str] = {0: _SPLIT, 4: _NOISE_START}
KNOWN_SHORT_WATCHED_TASKS: dict[int, str] = {0: _SPLIT, 4: _NOISE_START}


def _runs() -> list[object]:
    from posture.pose import backend_name

    short = KNOWN_SHORT_TASKS if backend_name() == "tasks" else KNOWN_SHORT_LEGACY
    return [pytest.param(n, s, marks=[pytest.mark.xfail(strict=True, reason=short[(n, s)])] if (n, s) in short
                         else []) for n, seeds in SEEDS.items() for s in seeds]


def _watched_runs() -> list[object]:
    from posture.pose import backend_name

    short = KNOWN_SHORT_WATCHED_TASKS if backend_name() == "tasks" else KNOWN_SHORT_WATCHED_LEGACY
    return [pytest.param(s, marks=[pytest.mark.xfail(strict=True, reason=short[s])] if s in short else [])
            for s in SEEDS["ex_squeezes"]]


class SensorNoiseSource(WrappedSource):
    """A recorded source with fresh Gaussian sensor noise on every frame, seeded per run."""

    def __init__(self, inner: FrameSource, seed: int, sd: float = SENSOR_NOISE_SD) -> None:
        super().__init__(inner)
        self.seed, self.sd = seed, sd
        self.name = f"{inner.name} [sensor noise {sd}, seed {seed}]"

    def read(self) -> Frame | None:
        frame = self.inner.read()
        if frame is None:
            return None
        noise = np.random.default_rng([self.seed, frame.index]).normal(0.0, self.sd, frame.image.shape)
        image = np.clip(frame.image.astype(np.float32) + noise, 0, 255).astype(np.uint8)
        return Frame(image, frame.t, frame.index)


def analysed_with_noise(name: str, seed: int) -> ExerciseAnalysis:
    movements = FREE_DEFAULT if name in FREE else (NAMED[name],)
    pose, faces = watch_models(fresh_fit(movements))
    try:
        source = SensorNoiseSource(VideoFileSource(CLIPS / f"{name}.mp4"), seed)
        return analyze_exercise(source, pose, WATCH_FPS, movements, faces=faces)
    finally:
        pose.close()
        faces.close()


@pytest.mark.slow
@pytest.mark.parametrize(("name", "seed"), _runs())
def test_counts_and_placement_through_sensor_noise(name: str, seed: int) -> None:
    result = analysed_with_noise(name, seed)
    assert_counts(name, result)
    assert_placed(name, result)


class RecordedSensorNoise(SensorNoiseSource, RecordedSource):
    """`SensorNoiseSource` over a recording, which the watched break's feed reads by the frames' own times."""

    def next_time(self) -> float:
        assert isinstance(self.inner, RecordedSource)
        return self.inner.next_time()

    def skip(self) -> bool:
        return self.inner.skip()


@pytest.mark.slow
@pytest.mark.parametrize("seed", _watched_runs())
def test_a_watched_squeeze_step_through_sensor_noise(seed: int) -> None:
    """ex_squeezes with sensor noise through the watched break's own loop (`WatchedBreak.follow` on the
    break's frame feed and models, polled every 50 ms of the clip as the break's loop polls): counts exact
    and each repetition where the labels put it."""
    from posture.coach.routines import Step
    from posture.exercise.tracker import MovementSummary
    from posture.exercise.watch import FrameFeed, WatchedBreak, make_watch_pose

    source = RecordedSensorNoise(VideoFileSource(CLIPS / "ex_squeezes.mp4"), seed)
    pose, faces = watch_models()
    feed = FrameFeed(source, pose, faces=faces, fresh_pose=lambda: make_watch_pose(fresh=True))
    session = WatchedBreak.__new__(WatchedBreak)
    WatchedBreak.__init__(session, None)  # type: ignore[arg-type]  # follow() never reads the routine
    session.step_started(Step("Shoulder-blade squeeze", "", "movement", "upper back", seconds=120))
    feed.open()
    try:
        duration = source.duration or 0.0
        for k in range(1, round(duration * 20) + 2):
            session.follow(feed, k / 20)
    finally:
        feed.close()
    assert session.coach is not None
    reps = tuple(session.coach.detector.repetitions)
    result = ExerciseAnalysis(source.name, duration, WATCH_FPS, feed.frames, feed.frames,
                              {"squeeze": MovementSummary("squeeze", reps)})
    assert_counts("ex_squeezes", result)
    assert_placed("ex_squeezes", result)


def test_sensor_noise_is_fresh_per_frame_and_repeatable() -> None:
    """The noise a real sensor adds: new on every frame, the same for the same seed, about the given sd."""

    class Still(FrameSource):
        def __init__(self) -> None:
            super().__init__()
            self.k = 0

        def open(self) -> None:
            pass

        def close(self) -> None:
            pass

        def read(self) -> Frame | None:
            self.k += 1
            return Frame(np.full((40, 40, 3), 128, np.uint8), self.k / 10, self.k)

    a, b, c = SensorNoiseSource(Still(), 0), SensorNoiseSource(Still(), 0), SensorNoiseSource(Still(), 1)
    fa, fb, fc = [[s.read() for _ in range(2)] for s in (a, b, c)]
    assert fa[0] is not None and fa[1] is not None and fb[0] is not None and fc[0] is not None
    assert np.array_equal(fa[0].image, fb[0].image)
    assert not np.array_equal(fa[0].image, fa[1].image)
    assert not np.array_equal(fa[0].image, fc[0].image)
    assert abs(float(np.std(fa[0].image.astype(float))) - SENSOR_NOISE_SD) < 0.3




class _CountingPose:
    """A pose model that sees nobody and counts the frames it is shown."""

    def __init__(self) -> None:
        self.calls = 0
        self.closed = False

    def detect(self, frame_bgr: np.ndarray) -> None:
        self.calls += 1

    def close(self) -> None:
        self.closed = True


def test_a_watched_break_finds_the_person_afresh_only_in_squeeze_steps() -> None:
    """The break's frame feed makes the fresh-fit model when the first squeeze step starts, watches squeeze
    steps with it and every other step with the tracking model, and closes both at the end."""
    from posture.exercise.watch import FrameFeed

    tracked, fresh = _CountingPose(), _CountingPose()
    made: list[int] = []

    def make_fresh() -> _CountingPose:
        made.append(1)
        return fresh

    feed = FrameFeed(VideoFileSource(CLIPS / "ex_squeezes.mp4"), tracked,  # type: ignore[arg-type]
                     fresh_pose=make_fresh)  # type: ignore[arg-type,return-value]
    feed.open()
    try:
        feed.use("turn")
        feed.poll(1.0)
        assert tracked.calls > 0 and not made
        seen = tracked.calls
        feed.use("squeeze")
        feed.poll(2.0)
        assert made == [1] and fresh.calls > 0 and tracked.calls == seen
        feed.use("turn")
        feed.use("squeeze")
        feed.poll(3.0)
        assert made == [1]  # made once, kept for the break
        feed.use("chin_tuck")
        feed.poll(4.0)
        assert tracked.calls > seen
    finally:
        feed.close()
    assert tracked.closed and fresh.closed


def test_a_squeeze_step_watches_every_other_frame_while_nobody_moves() -> None:
    """A squeeze step's feed takes every other frame of the watching rate while no repetition is coming
    back (here nobody is seen at all), and a turn step every frame: a fresh fit costs ~1.6x a tracked one."""
    from posture.coach.routines import Step
    from posture.exercise.watch import FrameFeed, WatchedBreak

    def frames_in(title: str) -> int:
        pose = _CountingPose()
        feed = FrameFeed(VideoFileSource(CLIPS / "ex_squeezes.mp4"), pose,  # type: ignore[arg-type]
                         fresh_pose=lambda: pose)  # type: ignore[arg-type,return-value]
        session = WatchedBreak.__new__(WatchedBreak)
        WatchedBreak.__init__(session, None)  # type: ignore[arg-type]  # follow() never reads the routine
        session.step_started(Step(title, "", "movement", "upper back", seconds=30))
        feed.open()
        try:
            for k in range(1, 9 * 20 + 1):  # 9 s in steps of 50 ms, as the break's loop polls
                session.follow(feed, k / 20)
        finally:
            feed.close()
        return pose.calls

    turns, squeezes = frames_in("Slow turns"), frames_in("Shoulder-blade squeeze")
    assert turns == pytest.approx(9 * WATCH_FPS, abs=2)
    assert squeezes == pytest.approx(9 * WATCH_FPS / 2, abs=2)
