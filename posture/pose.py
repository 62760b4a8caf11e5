"""Pose backends: frame in, frozen `Pose` out.

Two backends sit behind `PoseBackend`, chosen by what the installed mediapipe offers:
- "legacy": MediaPipe's `solutions.pose` with model_complexity=1 and its face detector, whose models
  ship inside the mediapipe < 0.10.30 wheel (Python 3.11 and 3.12);
- "tasks": the Tasks `PoseLandmarker` with the full model vendored in posture/data/models/
  (posture/pose_tasks.py), for mediapipe >= 0.10.30, which has no legacy API and ships no model
  (Python 3.13 and later).
Neither downloads anything. POSTURE_POSE_BACKEND=legacy|tasks forces one (to compare them on one
machine); a user-supplied `.task` file (the `pose_model` setting) always runs on the Tasks API.
"""

from __future__ import annotations

import os
from importlib import metadata
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

import numpy as np

from posture.errors import ConfigError
from posture.landmarks import NUM_LANDMARKS, Landmark, Pose, WorldLandmark
from posture.native_logs import native_stderr_muted, quiet_native_logging

BackendName = Literal["legacy", "tasks"]
BACKEND_ENV = "POSTURE_POSE_BACKEND"
# The first mediapipe without `solutions.pose` and its bundled models.
TASKS_ONLY_FROM = (0, 10, 30)


class PoseBackend(Protocol):
    def detect(self, frame_bgr: np.ndarray) -> Pose | None:
        """The most prominent person's pose, or None when no person is found."""

    def close(self) -> None: ...


def quiet_native_logs() -> None:
    # MediaPipe's C++ side logs to stderr on every graph start; a tray app and a CLI should not.
    quiet_native_logging()


def to_rgb(frame_bgr: np.ndarray) -> np.ndarray:
    import cv2

    if frame_bgr.ndim == 2:
        return np.ascontiguousarray(cv2.cvtColor(frame_bgr, cv2.COLOR_GRAY2RGB))
    if frame_bgr.shape[2] == 4:
        return np.ascontiguousarray(cv2.cvtColor(frame_bgr, cv2.COLOR_BGRA2RGB))
    return np.ascontiguousarray(cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB))


def check_frame(frame: object) -> np.ndarray:
    """Reject frames of the wrong type or shape before they reach native code."""
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8:
        raise ValueError("a frame must be a uint8 numpy array")
    if frame.ndim not in (2, 3) or (frame.ndim == 3 and frame.shape[2] not in (1, 3, 4)):
        raise ValueError(f"a frame must be HxW, HxWx3 or HxWx4, got shape {frame.shape}")
    if frame.shape[0] < 16 or frame.shape[1] < 16:
        raise ValueError(f"frame too small: {frame.shape[1]}x{frame.shape[0]}")
    if frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[:, :, 0]
    return frame


BUNDLED_MODELS = {0: "pose_landmark_lite.tflite", 1: "pose_landmark_full.tflite", 2: "pose_landmark_heavy.tflite"}


def check_bundled_model(model_complexity: int) -> None:
    """Refuse a model the wheel does not ship: mediapipe would try to download it, which a private,
    offline app must never do (and which fails without a network)."""
    import mediapipe as mp

    if model_complexity not in BUNDLED_MODELS:
        raise ConfigError(f"pose model complexity must be 0, 1 or 2, got {model_complexity}")
    path = Path(mp.__file__).parent / "modules" / "pose_landmark" / BUNDLED_MODELS[model_complexity]
    if not path.is_file():
        names = {0: "lite", 1: "full", 2: "heavy"}
        raise ConfigError(
            f"the {names[model_complexity]} pose model is not installed ({path.name} missing; mediapipe would "
            "download it); use model complexity 1, which ships inside the mediapipe wheel"
        )


class MediaPipePose:
    """MediaPipe legacy Pose (BlazePose GHUM 3D), the model bundled in the wheel.

    `tracking=True` lets MediaPipe reuse the previous frame's region of interest (cheaper, and it
    follows the same person); use `tracking=False` for unrelated still images.
    """

    def __init__(self, model_complexity: int = 1, tracking: bool = True, min_confidence: float = 0.5,
                 graph_threads: int | None = None) -> None:
        """`graph_threads`: run the graph on this many threads instead of one per core (posture/mp_threads.py)."""
        quiet_native_logs()
        import mediapipe as mp

        check_bundled_model(model_complexity)
        solution = mp.solutions.pose.Pose
        if graph_threads is not None:
            from posture.mp_threads import with_graph_threads

            solution = with_graph_threads(solution, graph_threads)
        # With a display, graph construction sets up a GL context and prints what no log level silences.
        with native_stderr_muted():
            self._pose = solution(
                static_image_mode=not tracking,
                model_complexity=model_complexity,
                # MediaPipe's landmark filter assumes consecutive video frames; our samples are 0.5-5 s apart,
                # so it would blend postures seconds apart. We smooth the score ourselves, in time.
                smooth_landmarks=False,
                enable_segmentation=False,
                min_detection_confidence=min_confidence,
                min_tracking_confidence=min_confidence,
            )
        self._warm = False

    def detect(self, frame_bgr: np.ndarray) -> Pose | None:
        frame = check_frame(frame_bgr)
        h, w = frame.shape[:2]
        if self._warm:
            result = self._pose.process(to_rgb(frame))
        else:
            # Each model of the graph prints a few lines that no log level silences when it first runs:
            # the detector on the first frame, the landmark model on the first frame with a person. Until
            # both have run, fd 2 is muted during the call (and only then: stderr stays the user's).
            with native_stderr_muted():
                result = self._pose.process(to_rgb(frame))
            self._warm = result.pose_landmarks is not None
        if result.pose_landmarks is None:
            return None
        lms = tuple(
            Landmark(float(p.x), float(p.y), float(p.z), float(p.visibility))
            for p in result.pose_landmarks.landmark
        )
        world = None
        if result.pose_world_landmarks is not None:
            world = tuple(
                WorldLandmark(float(p.x), float(p.y), float(p.z), float(p.visibility))
                for p in result.pose_world_landmarks.landmark
            )
        if len(lms) != NUM_LANDMARKS:
            return None
        return Pose(lms, world, w / h)

    def reset(self) -> None:
        """Forget the tracked region (e.g. after choosing a different person)."""
        self._pose.reset()

    def close(self) -> None:
        self._pose.close()


class FaceBox(tuple[float, float, float, float, float]):
    """(x, y, w, h, score) in normalised image coordinates."""

    @property
    def cx(self) -> float:
        return self[0] + self[2] / 2

    @property
    def cy(self) -> float:
        return self[1] + self[3] / 2

    @property
    def area(self) -> float:
        return self[2] * self[3]


class FaceDetector:
    """MediaPipe short-range face detection (in the wheel): a ~3 ms presence and people-count check."""

    def __init__(self, min_confidence: float = 0.5, full_range: bool = False, graph_threads: int | None = None) -> None:
        quiet_native_logs()
        import mediapipe as mp

        solution = mp.solutions.face_detection.FaceDetection
        if graph_threads is not None:
            from posture.mp_threads import with_graph_threads

            solution = with_graph_threads(solution, graph_threads)
        with native_stderr_muted():
            self._det = solution(model_selection=1 if full_range else 0, min_detection_confidence=min_confidence)
        self._warm = False

    def faces(self, frame_bgr: np.ndarray) -> list[FaceBox]:
        frame = check_frame(frame_bgr)
        if self._warm:
            result = self._det.process(to_rgb(frame))
        else:
            with native_stderr_muted():  # the model loads on the first frame (see MediaPipePose.detect)
                result = self._det.process(to_rgb(frame))
            self._warm = True
        out: list[FaceBox] = []
        for d in result.detections or []:
            bb = d.location_data.relative_bounding_box
            out.append(FaceBox((bb.xmin, bb.ymin, bb.width, bb.height, float(d.score[0]))))
        return out

    def close(self) -> None:
        self._det.close()


class FaceSource(Protocol):
    """Face boxes for the presence check and for picking the user among several people."""

    def faces(self, frame_bgr: np.ndarray) -> list[FaceBox]: ...

    def close(self) -> None: ...


@runtime_checkable
class PreparedFaceSource(Protocol):
    """A face source that also looks at the frame as the pose step will see it (after the person finder's
    preparation, posture.preprocess): the finder hands over the frame it prepared, so the preparation
    (grain measure, blur, levels: 2-6 ms) runs once per sample instead of once for each of them."""

    def faces_prepared(self, frame_bgr: np.ndarray, prepared: np.ndarray) -> list[FaceBox]: ...


def mediapipe_version() -> str | None:
    try:
        return metadata.version("mediapipe")
    except metadata.PackageNotFoundError:
        return None


def _release(version: str) -> tuple[int, ...]:
    parts: list[int] = []
    for piece in version.split(".")[:3]:
        digits = "".join(c for c in piece if c.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def legacy_available() -> bool:
    """True when the installed mediapipe still has `solutions.pose` and its bundled models."""
    version = mediapipe_version()
    return version is not None and _release(version) < TASKS_ONLY_FROM


def backend_name() -> BackendName:
    """The backend this install uses: the legacy one where it exists, else Tasks (or the one forced
    by POSTURE_POSE_BACKEND). Reads package metadata only, so `posture --version` stays instant."""
    forced = os.environ.get(BACKEND_ENV, "").strip().lower()
    if forced == "tasks":
        return "tasks"
    if forced == "legacy":
        if not legacy_available():
            raise ConfigError(
                f"{BACKEND_ENV}=legacy needs mediapipe < 0.10.30 (Python 3.11 or 3.12), but this install has "
                f"mediapipe {mediapipe_version() or 'missing'}; unset {BACKEND_ENV}"
            )
        return "legacy"
    if forced:
        raise ConfigError(f"{BACKEND_ENV} must be 'legacy' or 'tasks', got {forced!r}; unset it to choose automatically")
    return "legacy" if legacy_available() else "tasks"


def describe_backend() -> str:
    """One line naming the pose backend and its model, for `posture --version` and the setup wizard."""
    version = mediapipe_version()
    if version is None:
        return "pose backend: none (mediapipe is not installed)"
    try:
        name = backend_name()
    except ConfigError as exc:
        return f"pose backend: misconfigured ({exc})"
    if name == "legacy":
        return f"pose backend: legacy (MediaPipe Pose, full model from the mediapipe {version} wheel)"
    return f"pose backend: tasks (MediaPipe PoseLandmarker, bundled full model, mediapipe {version})"


def make_pose(tracking: bool = False, graph_threads: int | None = None) -> PoseBackend:
    """The pose backend this install uses, with its bundled model (`graph_threads`: see MediaPipePose)."""
    if backend_name() == "legacy":
        return MediaPipePose(tracking=tracking, graph_threads=graph_threads)
    from posture.pose_tasks import TasksPose

    return TasksPose()


MONITOR_GRAPH_THREADS = 1


def make_backends(model_path: str | None, follow_user: bool) -> tuple[PoseBackend, PoseBackend | None, FaceSource | None]:
    """(full-frame pose, pose for the crop around the user's face, face source) for `PersonFinder`."""
    from posture.pose_tasks import TasksPose

    if backend_name() == "tasks":
        # One multi-person landmarker does all three jobs (it caches the frame's answer, so a sample
        # still costs one run unless several faces call for the crop).
        tasks = TasksPose(model_path or None)
        return tasks, (tasks if follow_user else None), (tasks if follow_user else None)
    # One graph thread (posture/mp_threads.py): a look is one frame through the graph, and on a quiet machine
    # the calculators hopping between a thread per core cost more CPU per look for the same landmarks.
    threads = MONITOR_GRAPH_THREADS
    faces = FaceDetector(graph_threads=threads) if follow_user else None
    if model_path:
        main: PoseBackend = TasksPose(model_path, num_poses=1)
        return main, (MediaPipePose(tracking=False, graph_threads=threads) if follow_user else None), faces
    legacy = MediaPipePose(tracking=False, graph_threads=threads)
    return legacy, (legacy if follow_user else None), faces


def __getattr__(name: str) -> object:
    # `from posture.pose import TasksPose` keeps working; the class lives in posture/pose_tasks.py, which
    # imports this module's helpers.
    if name == "TasksPose":
        from posture.pose_tasks import TasksPose

        return TasksPose
    raise AttributeError(name)
