"""Pose backends: frame in, frozen `Pose` out.

The default is MediaPipe's legacy Pose solution with model_complexity=1, whose model ships inside the
mediapipe wheel, so the app never downloads anything. A Tasks-API `.task` model may be configured; a
missing file is a clear, one-line error rather than a download attempt.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import numpy as np

from posture.errors import ConfigError
from posture.landmarks import NUM_LANDMARKS, Landmark, Pose, WorldLandmark


class PoseBackend(Protocol):
    def detect(self, frame_bgr: np.ndarray) -> Pose | None:
        """The most prominent person's pose, or None when no person is found."""

    def close(self) -> None: ...


def _quiet_native_logs() -> None:
    # MediaPipe's C++ side logs to stderr on every graph start; a tray app and a CLI should not.
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _to_rgb(frame_bgr: np.ndarray) -> np.ndarray:
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

    def __init__(self, model_complexity: int = 1, tracking: bool = True, min_confidence: float = 0.5) -> None:
        _quiet_native_logs()
        import mediapipe as mp

        check_bundled_model(model_complexity)

        self._pose = mp.solutions.pose.Pose(
            static_image_mode=not tracking,
            model_complexity=model_complexity,
            # MediaPipe's landmark filter assumes consecutive video frames; our samples are 0.5-5 s apart,
            # so it would blend postures seconds apart. We smooth the score ourselves, in time.
            smooth_landmarks=False,
            enable_segmentation=False,
            min_detection_confidence=min_confidence,
            min_tracking_confidence=min_confidence,
        )

    def detect(self, frame_bgr: np.ndarray) -> Pose | None:
        frame = check_frame(frame_bgr)
        h, w = frame.shape[:2]
        result = self._pose.process(_to_rgb(frame))
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


class TasksPose:
    """MediaPipe Tasks PoseLandmarker from a `.task` model file the user supplies (lite, full or heavy)."""

    def __init__(self, model_path: str | Path, num_poses: int = 1) -> None:
        path = Path(model_path).expanduser()
        if not path.is_file():
            raise ConfigError(
                f"pose model file not found: {path}; download a pose_landmarker .task file yourself "
                "or remove 'pose_model' from the settings to use the built-in model"
            )
        _quiet_native_logs()
        try:
            from mediapipe.tasks.python import BaseOptions
            from mediapipe.tasks.python.vision import PoseLandmarker, PoseLandmarkerOptions, RunningMode
        except ImportError as exc:  # pragma: no cover - depends on the wheel
            raise ConfigError(f"this mediapipe build has no Tasks API ({exc}); use the built-in model") from exc
        try:
            options = PoseLandmarkerOptions(
                base_options=BaseOptions(model_asset_path=str(path)),
                running_mode=RunningMode.IMAGE,
                num_poses=num_poses,
            )
            self._landmarker = PoseLandmarker.create_from_options(options)
        except (RuntimeError, ValueError) as exc:
            raise ConfigError(f"pose model file {path} could not be loaded ({exc}); is it a pose .task file?") from exc

    def detect_all(self, frame_bgr: np.ndarray) -> list[Pose]:
        import mediapipe as mp

        frame = check_frame(frame_bgr)
        h, w = frame.shape[:2]
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=_to_rgb(frame))
        result = self._landmarker.detect(image)
        poses = []
        for i, person in enumerate(result.pose_landmarks):
            lms = tuple(
                Landmark(float(p.x), float(p.y), float(p.z), float(p.visibility or 0.0)) for p in person
            )
            world = None
            if i < len(result.pose_world_landmarks):
                world = tuple(
                    WorldLandmark(float(p.x), float(p.y), float(p.z), float(p.visibility or 0.0))
                    for p in result.pose_world_landmarks[i]
                )
            poses.append(Pose(lms, world, w / h))
        return poses

    def detect(self, frame_bgr: np.ndarray) -> Pose | None:
        poses = self.detect_all(frame_bgr)
        return poses[0] if poses else None

    def close(self) -> None:
        self._landmarker.close()


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

    def __init__(self, min_confidence: float = 0.5, full_range: bool = False) -> None:
        _quiet_native_logs()
        import mediapipe as mp

        self._det = mp.solutions.face_detection.FaceDetection(
            model_selection=1 if full_range else 0, min_detection_confidence=min_confidence
        )

    def faces(self, frame_bgr: np.ndarray) -> list[FaceBox]:
        frame = check_frame(frame_bgr)
        result = self._det.process(_to_rgb(frame))
        out: list[FaceBox] = []
        for d in result.detections or []:
            bb = d.location_data.relative_bounding_box
            out.append(FaceBox((bb.xmin, bb.ymin, bb.width, bb.height, float(d.score[0]))))
        return out

    def close(self) -> None:
        self._det.close()
