"""The vendored face detector model (posture/data/models/face_detection_short_range.tflite): the very file
of the mediapipe 0.10.21 wheel, loaded by the Tasks FaceDetector with no download, and finding the
face's six keypoints in the legacy order."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from posture.exercise.face_tasks import FACE_MODEL, TasksFaceKeypoints
from posture.pose import legacy_available

SHA256 = "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8"
CLIP = Path(__file__).resolve().parents[1] / "sample_videos" / "ex_head_turns.mp4"


def test_the_vendored_face_model_is_the_documented_file() -> None:
    assert hashlib.sha256(FACE_MODEL.read_bytes()).hexdigest() == SHA256


@pytest.mark.skipif(not legacy_available(), reason="the mediapipe wheel ships this model only before 0.10.30 "
                    "(Python 3.11/3.12); the sha256 check above runs everywhere")
def test_the_vendored_face_model_is_the_wheels_file_byte_for_byte() -> None:
    import mediapipe as mp

    wheel = Path(mp.__file__).parent / "modules" / "face_detection" / "face_detection_short_range.tflite"
    assert wheel.read_bytes() == FACE_MODEL.read_bytes()


def _first_frame() -> np.ndarray:
    cap = cv2.VideoCapture(str(CLIP))
    try:
        ok, frame = cap.read()
    finally:
        cap.release()
    assert ok
    return frame


def test_the_tasks_face_detector_finds_the_keypoints_in_the_legacy_order() -> None:
    det = TasksFaceKeypoints()
    try:
        face = det.detect(_first_frame())
        empty = det.detect(np.full((240, 320, 3), 90, dtype=np.uint8))
    finally:
        det.close()
    assert face is not None and empty is None
    # Facing the camera, not mirrored: the person's right eye and ear are on the image's left, the nose
    # between the eyes, the mouth below the nose.
    assert face.right_ear[0] < face.right_eye[0] < face.nose[0] < face.left_eye[0] < face.left_ear[0]
    assert face.nose[1] < face.mouth[1]
    assert 0.05 < face.box_height < 0.9 and face.score > 0.5


@pytest.mark.skipif(not legacy_available(), reason="compares with the legacy face detector (mediapipe < 0.10.30)")
def test_the_tasks_face_detector_agrees_with_the_legacy_one() -> None:
    from posture.exercise.face import FaceKeypointDetector

    frame = _first_frame()
    tasks, legacy = TasksFaceKeypoints(), FaceKeypointDetector()
    try:
        a, b = tasks.detect(frame), legacy.detect(frame)
    finally:
        tasks.close()
        legacy.close()
    assert a is not None and b is not None
    for name in ("right_eye", "left_eye", "nose", "mouth", "right_ear", "left_ear"):
        assert float(np.linalg.norm(getattr(a, name) - getattr(b, name))) < 0.01, name
