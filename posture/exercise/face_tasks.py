"""The cheap face detector's six keypoints on the Tasks backend (mediapipe >= 0.10.30, Python 3.13+).

Those wheels ship no model and no legacy `solutions.face_detection`, but the Tasks `FaceDetector`
runs the very network the legacy detector does: MediaPipe's short-range BlazeFace, vendored as
posture/data/models/face_detection_short_range.tflite, byte for byte the file inside the mediapipe
0.10.21 wheel (it carries the TFLite metadata the Tasks API reads; provenance in PROVENANCE.md beside
it). Its six keypoints come in the legacy order (right eye, left eye, nose tip, mouth, right and left
ear tragion), so `FaceKeypoints` and everything that measures the head from them stay the same.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from posture.exercise.face import FaceKeypoints, users_face
from posture.landmarks import Pose
from posture.native_logs import native_stderr_muted
from posture.pose import check_frame, to_rgb
from posture.pose_tasks import MODEL_DIR
from posture.tasks_models import load_task_model

FACE_MODEL = MODEL_DIR / "face_detection_short_range.tflite"


class TasksFaceKeypoints:
    """The face nearest the user's nose, from the Tasks `FaceDetector` (see the module doc)."""

    def __init__(self, min_confidence: float = 0.5, model_path: Path = FACE_MODEL) -> None:
        def create(base):  # type: ignore[no-untyped-def]  # mediapipe's task has no type hints
            from mediapipe.tasks.python.vision import FaceDetector, FaceDetectorOptions, RunningMode

            return FaceDetector.create_from_options(FaceDetectorOptions(
                base_options=base,
                # Like the legacy detector: each frame on its own (it has no tracking to gain from video mode).
                running_mode=RunningMode.IMAGE,
                min_detection_confidence=min_confidence,
            ))

        self._det = load_task_model("face", model_path, create)
        self._warm = False

    def detect(self, frame_bgr: np.ndarray, near: Pose | None = None) -> FaceKeypoints | None:
        """The face nearest the pose's nose (the user), or the most confident one without a pose."""
        import mediapipe as mp

        frame = check_frame(frame_bgr)
        h, w = frame.shape[:2]
        aspect = w / h
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=to_rgb(frame))
        if self._warm:
            result = self._det.detect(image)
        else:
            with native_stderr_muted():  # the network prints a few lines when it first runs
                result = self._det.detect(image)
            self._warm = True
        faces = []
        for d in result.detections or []:
            kp = d.keypoints or []
            if len(kp) < 6:
                continue
            pts = [np.array([float(p.x) * aspect, float(p.y)], dtype=float) for p in kp[:6]]
            score = float(d.categories[0].score) if d.categories else 0.0
            # The Tasks API gives the box in pixels; the legacy one (and FaceKeypoints) in image heights.
            faces.append(FaceKeypoints(pts[0], pts[1], pts[2], pts[3], pts[4], pts[5],
                                       box_height=float(d.bounding_box.height) / h, score=score))
        return users_face(faces, near)

    def close(self) -> None:
        self._det.close()
