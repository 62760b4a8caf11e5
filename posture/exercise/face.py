"""The cheap face detector's six keypoints, for the head's turn, tilt and size.

MediaPipe's short-range face detector (in the wheel, ~3 ms a frame) places the eyes, the nose tip, the
mouth and both ear tragions from the face itself, where the pose model places the ears from the whole
body. For a turned head that is the better geometry, so during a watched break both run: pose for the
shoulders, the face detector for the head.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from posture.landmarks import P, Pose
from posture.pose import check_frame, quiet_native_logs, to_rgb

# The detector's nose and the pose model's nose agree to a few hundredths of the image height; a face
# farther than this from the user's nose is someone else's.
MAX_NOSE_DISTANCE = 0.12
# Threads for the MediaPipe graphs that watch a break (pose and this detector): one frame at a time
# goes through them, and one thread does that for the least CPU (posture/mp_threads.py).
WATCH_GRAPH_THREADS = 1


@dataclass(frozen=True, slots=True)
class FaceKeypoints:
    """Keypoints in isotropic image units (x scaled by width / height, like `Pose.xy`)."""

    right_eye: np.ndarray
    left_eye: np.ndarray
    nose: np.ndarray
    mouth: np.ndarray
    right_ear: np.ndarray  # the person's right tragion (image left when not mirrored)
    left_ear: np.ndarray
    box_height: float
    score: float


class FaceKeypointSource(Protocol):
    """The face detector's keypoints for one frame: this module's legacy detector or its Tasks twin
    (posture/exercise/face_tasks.py)."""

    def detect(self, frame_bgr: np.ndarray, near: Pose | None = None) -> FaceKeypoints | None: ...

    def close(self) -> None: ...


def users_face(faces: list[FaceKeypoints], near: Pose | None) -> FaceKeypoints | None:
    """The face nearest the pose's nose (the user), or the most confident one without a pose; None when
    the nearest is too far from the user's nose to be theirs."""
    best: FaceKeypoints | None = None
    best_key = float("inf")
    for face in faces:
        key = -face.score if near is None else float(np.linalg.norm(face.nose - near.xy(P.NOSE)))
        if key < best_key:
            best, best_key = face, key
    if near is not None and best is not None and best_key > MAX_NOSE_DISTANCE:
        return None  # a face elsewhere in the picture (someone behind), not the user's
    return best


class FaceKeypointDetector:
    def __init__(self, min_confidence: float = 0.5) -> None:
        quiet_native_logs()
        import mediapipe as mp

        from posture.mp_threads import with_graph_threads

        # One graph thread: cheaper per frame than one per core (posture/mp_threads.py).
        solution = with_graph_threads(mp.solutions.face_detection.FaceDetection, WATCH_GRAPH_THREADS)
        self._det = solution(model_selection=0, min_detection_confidence=min_confidence)

    def detect(self, frame_bgr: np.ndarray, near: Pose | None = None) -> FaceKeypoints | None:
        """The face nearest the pose's nose (the user), or the most confident one without a pose."""
        frame = check_frame(frame_bgr)
        h, w = frame.shape[:2]
        aspect = w / h
        result = self._det.process(to_rgb(frame))
        faces = []
        for d in result.detections or []:
            kp = d.location_data.relative_keypoints
            if len(kp) < 6:
                continue
            pts = [np.array([p.x * aspect, p.y], dtype=float) for p in kp[:6]]
            faces.append(FaceKeypoints(pts[0], pts[1], pts[2], pts[3], pts[4], pts[5],
                                       box_height=float(d.location_data.relative_bounding_box.height),
                                       score=float(d.score[0])))
        return users_face(faces, near)

    def close(self) -> None:
        self._det.close()


def make_face_keypoints() -> FaceKeypointSource:
    """The face detector of this install's backend: the legacy solution (Python 3.11/3.12), or the same
    network on the Tasks API from the vendored model file (Python 3.13+)."""
    from posture.pose import backend_name

    if backend_name() == "legacy":
        return FaceKeypointDetector()
    from posture.exercise.face_tasks import TasksFaceKeypoints

    return TasksFaceKeypoints()
