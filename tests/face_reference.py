"""An independent head-turn reference for real footage: MediaPipe Face Mesh's 468-point face fitted to a
generic 3D face with OpenCV's solvePnP.

It shares nothing with what the app measures (the pose model and the short-range face detector): a
different network, a full face mesh instead of six keypoints, and a 3D fit instead of a ratio. Used only
by tests, to check the app's turn angles on real people.
"""

from __future__ import annotations

import math
import os

import cv2
import numpy as np

# Face Mesh indices and a generic adult face in millimetres (x to the face's left, y up, z toward the
# camera), the usual six-point model for head-pose estimation.
MESH_POINTS = (1, 152, 263, 33, 291, 61)  # nose tip, chin, left eye outer, right eye outer, mouth L, mouth R
MODEL_MM = np.array([
    (0.0, 0.0, 0.0),
    (0.0, -63.6, -12.5),
    (43.3, 32.7, -26.0),
    (-43.3, 32.7, -26.0),
    (28.9, -28.9, -24.1),
    (-28.9, -28.9, -24.1),
], dtype=np.float64)


class FaceMeshYaw:
    def __init__(self) -> None:
        os.environ.setdefault("GLOG_minloglevel", "2")
        import mediapipe as mp

        self._mesh = mp.solutions.face_mesh.FaceMesh(static_image_mode=False, max_num_faces=1,
                                                     min_detection_confidence=0.5)

    def yaw(self, frame_bgr: np.ndarray) -> float | None:
        """Degrees, + when the person turns toward their own left (the image's right, camera not mirrored)."""
        h, w = frame_bgr.shape[:2]
        result = self._mesh.process(cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB))
        if not result.multi_face_landmarks:
            return None
        lm = result.multi_face_landmarks[0].landmark
        image_pts = np.array([(lm[i].x * w, lm[i].y * h) for i in MESH_POINTS], dtype=np.float64)
        focal = float(w)  # a typical webcam's field of view is ~60° horizontally
        camera = np.array([[focal, 0, w / 2], [0, focal, h / 2], [0, 0, 1]], dtype=np.float64)
        # The model's x points to the face's left; in the image the person's left is on the right (+x),
        # y points down: flip y and z so the model is in camera coordinates when facing the camera.
        model = MODEL_MM * np.array([1.0, -1.0, -1.0])
        # A six-point fit has a mirror solution at large turns; start from both sides and keep the fit
        # that reprojects better.
        best: tuple[float, float] | None = None
        for guess in (-40.0, 0.0, 40.0):
            rvec0 = np.array([0.0, math.radians(guess), 0.0]).reshape(3, 1)
            tvec0 = np.array([0.0, 0.0, 600.0]).reshape(3, 1)
            ok, rvec, tvec = cv2.solvePnP(model, image_pts, camera, np.zeros(4), rvec0, tvec0,
                                          useExtrinsicGuess=True, flags=cv2.SOLVEPNP_ITERATIVE)
            if not ok or float(tvec[2, 0]) <= 0:
                continue
            proj, _ = cv2.projectPoints(model, rvec, tvec, camera, np.zeros(4))
            err = float(np.mean(np.linalg.norm(proj.reshape(-1, 2) - image_pts, axis=1)))
            rot, _ = cv2.Rodrigues(rvec)
            forward = rot @ np.array([0.0, 0.0, -1.0])  # the face's forward axis, in camera coordinates
            yaw = math.degrees(math.atan2(forward[0], -forward[2]))
            if best is None or err < best[0]:
                best = (err, yaw)
        return None if best is None else best[1]

    def close(self) -> None:
        self._mesh.close()
