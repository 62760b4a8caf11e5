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
from posture.exercise.face import make_face_keypoints
from posture.exercise.movements import FREE_DEFAULT
from posture.exercise.watch import WATCH_FPS, make_watch_pose
from posture.sources import Frame, FrameSource, VideoFileSource, WrappedSource

SENSOR_NOISE_SD = 1.5  # grey levels: a good webcam in an ordinarily lit room
SEEDS = {name: range(8) if name == "ex_squeezes" else range(3) for name in (*FREE, *NAMED)}


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
    pose, faces = make_watch_pose(), make_face_keypoints()
    try:
        source = SensorNoiseSource(VideoFileSource(CLIPS / f"{name}.mp4"), seed)
        return analyze_exercise(source, pose, WATCH_FPS, movements, faces=faces)
    finally:
        pose.close()
        faces.close()


@pytest.mark.slow
@pytest.mark.parametrize(("name", "seed"), [(n, s) for n, seeds in SEEDS.items() for s in seeds])
def test_counts_and_placement_through_sensor_noise(name: str, seed: int) -> None:
    result = analysed_with_noise(name, seed)
    assert_counts(name, result)
    assert_placed(name, result)


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


