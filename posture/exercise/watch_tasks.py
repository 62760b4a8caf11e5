"""Watching a break on the Tasks backend (mediapipe >= 0.10.30, Python 3.13+): a tracking pose model.

The legacy backend watches a break with `solutions.pose` in tracking mode: each frame's landmarks give
the next frame's region of interest, so the model follows the one user through a turn or a side bend
instead of searching the whole frame each time. Its Tasks counterpart is `PoseLandmarker` in VIDEO
running mode, one person, fed timestamps that only ever increase: the same vendored full model
(posture/data/models/pose_landmarker_full.task) and the same tracking.

Timestamps: MediaPipe refuses a timestamp that does not increase, and its video graph smooths the
landmarks over time, so the stamps should be the frames' own times. Callers that know them (the
watched break's frame feed, `posture exercise analyze`) call `detect_at`; a plain `detect` (the
`PoseBackend` interface) stamps the frame with the injected clock.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from posture.landmarks import NUM_LANDMARKS, Landmark, Pose, WorldLandmark
from posture.native_logs import native_stderr_muted
from posture.pose import check_frame, to_rgb
from posture.pose_tasks import VENDORED_MODEL
from posture.tasks_models import load_task_model

# The legacy watching pose's thresholds (MediaPipePose's defaults): find the user, and keep tracking
# them, at 0.5.
MIN_CONFIDENCE = 0.5


@runtime_checkable
class TimedPose(Protocol):
    """A pose backend that wants each frame's time (seconds on the source's timeline)."""

    def detect_at(self, frame_bgr: np.ndarray, t: float) -> Pose | None: ...


def _monotonic_ms() -> int:
    import time

    return int(time.monotonic() * 1000)


class TasksWatchPose:
    """`PoseLandmarker` in VIDEO mode: one person, tracked from frame to frame (see the module doc)."""

    def __init__(self, model_path: Path = VENDORED_MODEL, clock_ms: Callable[[], int] = _monotonic_ms) -> None:
        def create(base):  # type: ignore[no-untyped-def]  # mediapipe's task has no type hints
            from mediapipe.tasks.python.vision import PoseLandmarker, PoseLandmarkerOptions, RunningMode

            return PoseLandmarker.create_from_options(PoseLandmarkerOptions(
                base_options=base,
                running_mode=RunningMode.VIDEO,
                num_poses=1,
                min_pose_detection_confidence=MIN_CONFIDENCE,
                min_pose_presence_confidence=MIN_CONFIDENCE,
                min_tracking_confidence=MIN_CONFIDENCE,
            ))

        self._landmarker = load_task_model("pose", model_path, create)
        self._clock_ms = clock_ms
        self._last_ms: int | None = None
        self._warm = False

    def detect(self, frame_bgr: np.ndarray) -> Pose | None:
        return self._detect(frame_bgr, self._clock_ms())

    def detect_at(self, frame_bgr: np.ndarray, t: float) -> Pose | None:
        return self._detect(frame_bgr, round(t * 1000))

    def _detect(self, frame_bgr: np.ndarray, stamp_ms: int) -> Pose | None:
        import mediapipe as mp

        frame = check_frame(frame_bgr)
        h, w = frame.shape[:2]
        # A frame stamped at or before the previous one (two frames within a millisecond, or a source
        # that starts over) would be refused: nudge it just past the last one.
        if self._last_ms is not None and stamp_ms <= self._last_ms:
            stamp_ms = self._last_ms + 1
        self._last_ms = stamp_ms
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=to_rgb(frame))
        if self._warm:
            result = self._landmarker.detect_for_video(image, stamp_ms)
        else:
            # The detector and landmark networks print a few lines the first time they run.
            with native_stderr_muted():
                result = self._landmarker.detect_for_video(image, stamp_ms)
            self._warm = bool(result.pose_landmarks)
        if not result.pose_landmarks:
            return None
        person = result.pose_landmarks[0]
        if len(person) != NUM_LANDMARKS:
            return None
        lms = tuple(Landmark(float(p.x), float(p.y), float(p.z), float(p.visibility or 0.0)) for p in person)
        world = None
        if result.pose_world_landmarks:
            world = tuple(WorldLandmark(float(p.x), float(p.y), float(p.z), float(p.visibility or 0.0))
                          for p in result.pose_world_landmarks[0])
        return Pose(lms, world, w / h)

    def close(self) -> None:
        self._landmarker.close()
