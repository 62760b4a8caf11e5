"""The MediaPipe Tasks pose backend: `PoseLandmarker` with the model vendored in posture/data/models/.

mediapipe >= 0.10.30 (the only kind that installs on Python 3.13+) has no legacy `solutions` API and
ships no model, so this backend brings its own `.task` bundle and never downloads one. It also stands in
for the legacy face detector, which has no model on these wheels: the landmarker runs in multi-person
mode and each person's face points become a face box, so the presence check and the "follow the user"
crop keep working the same way (at the cost of a pose run instead of a ~3 ms face detection). Its faces
count only beside someone the landmarker at the normal threshold found: see `TasksPose.faces`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from posture.errors import ConfigError
from posture.landmarks import Landmark, P, Pose, WorldLandmark
from posture.person import validate_pose
from posture.pose import FaceBox, check_frame, to_rgb
from posture.preprocess import prepare_frame
from posture.tasks_models import load_task_model

MODEL_DIR = Path(__file__).resolve().parent / "data" / "models"
# The full-size landmark network, the one the legacy backend runs: the lite one judged slouch_session_a
# at 0.75 balanced accuracy against 0.96 (shoulder tilt and head roll several degrees off, frame to
# frame). How the bundle is made: posture/model_bundle.py and PROVENANCE.md beside the file.
VENDORED_MODEL = MODEL_DIR / "pose_landmarker_full.task"
# Enough to count the people at a desk and in the background; more only costs time.
MAX_PEOPLE = 4
# The pose itself is found at the legacy backend's detection threshold. Lower, the detector's weighted
# non-maximum suppression blends weak boxes into the person's box, and the landmarks shift with it: at
# 0.2 the held slouch_session_a sequence fell from 0.958 to 0.916 balanced accuracy.
MIN_DETECTION = 0.5
# Counting people (the presence check, picking the user among several) needs the sensitive threshold:
# 0.5 missed the second person at a shared table in one frame of nine (real footage); at 0.2 it sees
# both every time but may report one person twice, which `_distinct` folds, and reads faces into things
# in an empty room, which `faces` rejects. A second landmarker does this, so the pose landmarks never
# pay for it.
PEOPLE_MIN_DETECTION = 0.2
MIN_FACE_VISIBILITY = 0.5

Answer = tuple[np.ndarray, int, list[Pose]]  # a copy of the frame looked at, its fingerprint, the poses


class TasksPose:
    """MediaPipe Tasks PoseLandmarker from a `.task` model file: the vendored full model by default, or
    one the user supplies (lite, full or heavy) through the `pose_model` setting."""

    def __init__(self, model_path: str | Path | None = None, num_poses: int = MAX_PEOPLE) -> None:
        path = Path(model_path).expanduser() if model_path else VENDORED_MODEL
        if model_path and not path.is_file():
            raise ConfigError(
                f"pose model file not found: {path}; download a pose_landmarker .task file yourself "
                "or remove 'pose_model' from the settings to use the built-in model"
            )
        self.model_path = path
        self._num_poses = num_poses
        self._landmarker = self._create(MIN_DETECTION)
        self._people: object | None = None
        # The presence check and the pose step of one sample see the same picture: keep the last answer
        # of each landmarker so each runs once per picture, not twice.
        self._last: Answer | None = None
        self._last_people: Answer | None = None

    def _create(self, min_detection: float):  # type: ignore[no-untyped-def]
        def create(base):  # type: ignore[no-untyped-def]  # mediapipe's task has no type hints
            from mediapipe.tasks.python.vision import PoseLandmarker, PoseLandmarkerOptions, RunningMode

            return PoseLandmarker.create_from_options(PoseLandmarkerOptions(
                base_options=base,
                # Our samples are seconds apart: each is a fresh still, like the legacy backend's
                # static mode (tracking across them gave worse landmarks on real footage).
                running_mode=RunningMode.IMAGE,
                num_poses=self._num_poses,
                min_pose_detection_confidence=min_detection,
                min_pose_presence_confidence=min_detection,
            ))

        return load_task_model("pose", self.model_path, create, "is it a pose .task file?")

    def detect_all(self, frame_bgr: np.ndarray) -> list[Pose]:
        """Every person found, most prominent first."""
        frame = check_frame(frame_bgr)
        self._last, poses = _run(self._landmarker, frame, self._last)
        return poses

    def people(self, frame_bgr: np.ndarray) -> list[Pose]:
        """Every person found at the sensitive threshold (for counting them, not for measuring)."""
        frame = check_frame(frame_bgr)
        if self._people is None:
            self._people = self._create(PEOPLE_MIN_DETECTION)
        self._last_people, poses = _run(self._people, frame, self._last_people)
        return poses

    def detect(self, frame_bgr: np.ndarray) -> Pose | None:
        poses = self.detect_all(frame_bgr)
        return poses[0] if poses else None

    def faces(self, frame_bgr: np.ndarray) -> list[FaceBox]:
        """Face boxes of the people whose face is visible (the legacy face detector's role).

        The sensitive landmarker also "sees" faces in an empty room (the stars of a flag, a helmet on
        a shelf, with eyes, nose and mouth at visibility 0.9 and more), which would keep the camera on
        for nobody. So it only adds people to someone the landmarker at the normal threshold found in
        the same frame, and each face it adds on its own must belong to a plausible person.
        """
        frame = check_frame(frame_bgr)
        return self.faces_prepared(frame, prepare_frame(frame))

    def faces_prepared(self, frame_bgr: np.ndarray, prepared: np.ndarray) -> list[FaceBox]:
        """`faces`, given the frame as the person finder prepared it for its pose step (`prepare_frame` of
        this frame): the sure look is taken on that picture, so the pose step finds this very answer in
        the cache instead of running the landmarker once more, and the preparation is not done twice."""
        frame = check_frame(frame_bgr)
        h, w = frame.shape[:2]
        sure = [pose for pose in self.detect_all(prepared) if face_box(pose, w, h) is not None]
        if not sure:
            return []
        return [box for pose in self.people(frame)
                if (box := face_box(pose, w, h)) is not None and (_same_person(pose, sure) or _plausible(pose))]

    def close(self) -> None:
        self._last = self._last_people = None
        self._landmarker.close()
        if self._people is not None:
            self._people.close()  # type: ignore[attr-defined]


def _run(landmarker: object, frame: np.ndarray, last: Answer | None) -> tuple[Answer, list[Pose]]:
    """Run `landmarker` on `frame` unless `last` already holds its answer for the same picture."""
    stamp = _fingerprint(frame)
    if last is not None and last[1] == stamp and np.array_equal(last[0], frame):
        return last, last[2]
    import mediapipe as mp

    h, w = frame.shape[:2]
    image = mp.Image(image_format=mp.ImageFormat.SRGB, data=to_rgb(frame))
    result = landmarker.detect(image)  # type: ignore[attr-defined]
    poses = []
    for i, person in enumerate(result.pose_landmarks):
        lms = tuple(Landmark(float(p.x), float(p.y), float(p.z), float(p.visibility or 0.0)) for p in person)
        world = None
        if i < len(result.pose_world_landmarks):
            world = tuple(
                WorldLandmark(float(p.x), float(p.y), float(p.z), float(p.visibility or 0.0))
                for p in result.pose_world_landmarks[i]
            )
        poses.append(Pose(lms, world, w / h))
    poses = _distinct(sorted(poses, key=_prominence, reverse=True))
    # A copy: a camera may refill the same buffer with the next picture, and a preprocessed frame is a new
    # array each time with the same picture; the content decides, compared in full (~0.2 ms for 640x480).
    return (frame.copy(), stamp, poses), poses


def _fingerprint(frame: np.ndarray) -> int:
    # A sparse checksum: two different pictures are nearly always told apart without the full comparison.
    sample = frame[:: max(1, frame.shape[0] // 16), :: max(1, frame.shape[1] // 16)]
    return hash((frame.shape, sample.tobytes()))


def _prominence(pose: Pose) -> float:
    # The legacy model reports the most prominent person; with several, the biggest upper body wins.
    pts = [pose.xy(i) for i in (P.NOSE, P.LEFT_SHOULDER, P.RIGHT_SHOULDER, P.LEFT_EAR, P.RIGHT_EAR)]
    xs = [float(p[0]) for p in pts]
    ys = [float(p[1]) for p in pts]
    return (max(xs) - min(xs)) * pose.aspect + (max(ys) - min(ys))


def _distinct(poses: list[Pose]) -> list[Pose]:
    """Drop a pose whose nose lies within half a shoulder width of a more prominent one's: the same
    person found twice."""
    kept: list[Pose] = []
    for pose in poses:
        if not _same_person(pose, kept):
            kept.append(pose)
    return kept


def _same_person(pose: Pose, others: list[Pose]) -> bool:
    nose = pose.xy(P.NOSE)
    return any(
        float(np.linalg.norm(nose - k.xy(P.NOSE))) < 0.5 * float(np.linalg.norm(k.xy(P.LEFT_SHOULDER) - k.xy(P.RIGHT_SHOULDER)))
        for k in others
    )


def _plausible(pose: Pose) -> bool:
    # The checks a user must pass (face visible and upright, head above shoulders that are in the frame,
    # big enough): the second person at a shared table passes them, the flag's stars are far too small,
    # and the helmet's "shoulders" mostly fall outside the frame or above its "head". Once in 28 frames
    # the helmet passed them too, which is why a face seen only at 0.2 never counts on its own.
    return validate_pose(pose).ok


FACE_POINTS = (P.NOSE, P.LEFT_EYE, P.RIGHT_EYE, P.LEFT_EAR, P.RIGHT_EAR, P.MOUTH_LEFT, P.MOUTH_RIGHT)


def face_box(pose: Pose, width: int, height: int) -> FaceBox | None:
    """A square face box (in pixels; normalised per axis like the face detector's) around the face
    points, or None when the face is not visible (back turned, out of the frame)."""
    nose = pose[P.NOSE]
    if nose.visibility < MIN_FACE_VISIBILITY or not nose.inside(0.0):
        return None
    seen = [pose[i] for i in FACE_POINTS if pose[i].visibility >= MIN_FACE_VISIBILITY and pose[i].inside(0.0)]
    if len(seen) < 2:
        return None
    xs = np.array([lm.x * width for lm in seen])
    ys = np.array([lm.y * height for lm in seen])
    # Ears and eyes mark the width of the face; in profile only one side shows, so the nose-to-ear
    # distance (about half a face width) stands in.
    nx, ny = nose.x * width, nose.y * height
    size = max(float(xs.max() - xs.min()), 2.0 * float(np.max(np.hypot(xs - nx, ys - ny))), 4.0)
    x0, y0 = nx - size / 2, ny - 0.55 * size
    return FaceBox((x0 / width, y0 / height, size / width, size / height, float(nose.visibility)))
