"""Is this a seated user in front of the camera, and which person is the user?

MediaPipe happily reports a "person" on cartoons and empty rooms, and reports visibility above 0.5 for
points outside the frame, so validity is checked geometrically. With several people in view we follow
the user: the largest, most central face, preferring the one we followed last time, and run pose on a
crop around that face so a colleague walking behind cannot take over the skeleton.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from posture.landmarks import Landmark, P, Pose
from posture.pose import FaceBox, FaceSource, PoseBackend, check_frame

# A real seated user's shoulders span roughly a tenth of the frame width or more; false hits on
# cartoons and empty rooms were as small as 0.02.
MIN_BODY_FRACTION = 0.1
MIN_VISIBILITY = 0.5
MARGIN = 0.02


@dataclass(frozen=True, slots=True)
class Validity:
    ok: bool
    reason: str = ""


def body_fraction(pose: Pose) -> float:
    """How big the upper body looks, as a fraction of the frame width.

    Frontal views use shoulder width; in profile the shoulders overlap, so ear-to-shoulder length
    (about 0.6x shoulder width for an adult) stands in, scaled up to comparable units.
    """
    ls, rs = pose.xy(P.LEFT_SHOULDER), pose.xy(P.RIGHT_SHOULDER)
    sw = float(np.linalg.norm(ls - rs))
    ears = [pose.xy(i) for i in (P.LEFT_EAR, P.RIGHT_EAR) if pose[i].visibility >= MIN_VISIBILITY]
    neck = float(np.linalg.norm(np.mean(ears, axis=0) - (ls + rs) / 2)) if ears else 0.0
    return max(sw, 1.6 * neck) / pose.aspect


def validate_pose(pose: Pose | None) -> Validity:
    if pose is None:
        return Validity(False, "no person found")

    def good(i: int) -> bool:
        lm: Landmark = pose[i]
        return lm.visibility >= MIN_VISIBILITY and lm.inside(MARGIN)

    shoulders = [good(P.LEFT_SHOULDER), good(P.RIGHT_SHOULDER)]
    if not any(shoulders):
        return Validity(False, "shoulders not in the frame")
    if not good(P.NOSE) or not (good(P.LEFT_EAR) or good(P.RIGHT_EAR) or good(P.LEFT_EYE) or good(P.RIGHT_EYE)):
        return Validity(False, "face not visible")
    if not all(shoulders):
        # A frontal user with one shoulder cut off cannot be measured; in profile the far shoulder is
        # hidden but MediaPipe still places it close to the near one, inside the frame.
        return Validity(False, "a shoulder is outside the frame")
    s_mid_y = (pose[P.LEFT_SHOULDER].y + pose[P.RIGHT_SHOULDER].y) / 2
    if pose[P.NOSE].y >= s_mid_y:
        return Validity(False, "head below the shoulders")
    if body_fraction(pose) < MIN_BODY_FRACTION:
        return Validity(False, "person too small or too far away")
    return Validity(True)


@dataclass(frozen=True, slots=True)
class Detection:
    pose: Pose | None
    validity: Validity
    faces: int  # faces seen by the presence check (-1 when it was not run)
    cropped: bool = False


def _pick_user(faces: list[FaceBox], previous: tuple[float, float] | None) -> FaceBox:
    def score(f: FaceBox) -> float:
        centrality = 1.0 - min(1.0, abs(f.cx - 0.5) * 2) * 0.5
        s = f.area * centrality
        if previous is not None:
            d = float(np.hypot(f.cx - previous[0], f.cy - previous[1]))
            s *= 2.0 if d < max(f[2], f[3]) else 1.0  # the same person as before wins a close call
        return s

    return max(faces, key=score)


def _crop_box(face: FaceBox) -> tuple[float, float, float, float]:
    # Head-and-shoulders region: shoulders span ~3 face widths and sit ~1.5 face heights below the chin.
    x0 = face.cx - 2.0 * face[2]
    x1 = face.cx + 2.0 * face[2]
    y0 = face[1] - 0.8 * face[3]
    y1 = face[1] + 3.2 * face[3]
    return max(0.0, x0), max(0.0, y0), min(1.0, x1), min(1.0, y1)


def _uncrop(pose: Pose, box: tuple[float, float, float, float], full_aspect: float) -> Pose:
    x0, y0, x1, y1 = box
    return Pose(
        tuple(Landmark(x0 + lm.x * (x1 - x0), y0 + lm.y * (y1 - y0), lm.z, lm.visibility) for lm in pose.landmarks),
        pose.world,
        full_aspect,
    )


class PersonFinder:
    """Presence check + user selection + pose, one call per analysed frame."""

    def __init__(self, pose: PoseBackend, crop_pose: PoseBackend | None = None, faces: FaceSource | None = None):
        self._pose = pose
        self._crop_pose = crop_pose
        self._faces = faces
        self._previous: tuple[float, float] | None = None

    def presence(self, frame: np.ndarray) -> int:
        """Number of faces in view (cheap); -1 when no detector is configured."""
        if self._faces is None:
            return -1
        return len(self._faces.faces(frame))

    def find(self, frame: np.ndarray) -> Detection:
        frame = check_frame(frame)
        faces = self._faces.faces(frame) if self._faces is not None else []
        n_faces = len(faces) if self._faces is not None else -1
        if len(faces) >= 2 and self._crop_pose is not None:
            user = _pick_user(faces, self._previous)
            box = _crop_box(user)
            h, w = frame.shape[:2]
            px = (int(box[0] * w), int(box[1] * h), int(np.ceil(box[2] * w)), int(np.ceil(box[3] * h)))
            crop = np.ascontiguousarray(frame[px[1] : px[3], px[0] : px[2]])
            pose = None
            if crop.shape[0] >= 16 and crop.shape[1] >= 16:
                real = (px[0] / w, px[1] / h, px[2] / w, px[3] / h)
                found = self._crop_pose.detect(crop)
                pose = _uncrop(found, real, w / h) if found is not None else None
            self._previous = (user.cx, user.cy)
            return Detection(pose, validate_pose(pose), n_faces, cropped=True)
        pose = self._pose.detect(frame)
        validity = validate_pose(pose)
        if validity.ok and pose is not None:
            self._previous = (pose[P.NOSE].x, pose[P.NOSE].y)
        return Detection(pose, validity, n_faces)

    def close(self) -> None:
        closed: list[object] = []
        for backend in (self._pose, self._crop_pose, self._faces):
            if backend is not None and not any(backend is c for c in closed):
                backend.close()
                closed.append(backend)


def default_finder(model_path: str | None = None, follow_user: bool = True) -> PersonFinder:
    """The production finder: this install's pose backend with its bundled models (posture/pose.py), or
    a user-supplied `.task` pose model.

    No tracking: our samples are seconds apart, and a region of interest carried over from the last
    sample gave worse landmarks on real footage than a fresh detection (balanced accuracy 0.77 vs 0.86).
    """
    from posture.pose import make_backends

    return PersonFinder(*make_backends(model_path, follow_user))
