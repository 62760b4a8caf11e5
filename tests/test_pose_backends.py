"""Both pose backends behind one interface: chosen automatically, named, and giving the same answers.

The Tasks backend (posture/pose_tasks.py, with the vendored model) is what Python 3.13 installs get; on a
3.11/3.12 install both backends exist, so they are compared here frame by frame on the committed clips.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from posture.errors import ConfigError
from posture.landmarks import NUM_LANDMARKS, P, Pose
from posture.metrics import compute_metrics
from posture.person import default_finder, validate_pose
from posture.pose import BACKEND_ENV, backend_name, describe_backend, legacy_available, make_backends, make_pose

ROOT = Path(__file__).resolve().parents[1]
CLIPS = ROOT / "sample_videos"
MODEL_SHA256 = "aaff75e3d260868adbe2bdc4100da587203a9df673e344a8cdedeceb8926e524"
# The two networks as the mediapipe 0.10.21 wheel ships them (PROVENANCE.md); the detector goes into
# the bundle as it is.
WHEEL_FULL_TFLITE_SHA256 = "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f"
DETECTOR_SHA256 = "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c"


def _frame(clip: str, seconds: float) -> np.ndarray:
    cap = cv2.VideoCapture(str(CLIPS / clip))
    cap.set(cv2.CAP_PROP_POS_MSEC, seconds * 1000)
    ok, frame = cap.read()
    cap.release()
    assert ok, f"{clip} @ {seconds}s"
    return np.asarray(frame)


@pytest.fixture(scope="module")
def tasks() -> Iterator[object]:
    from posture.pose_tasks import TasksPose

    backend = TasksPose()
    yield backend
    backend.close()


def test_vendored_model_is_the_documented_file() -> None:
    from posture.pose_tasks import VENDORED_MODEL

    assert hashlib.sha256(VENDORED_MODEL.read_bytes()).hexdigest() == MODEL_SHA256
    provenance = (VENDORED_MODEL.parent / "PROVENANCE.md").read_text(encoding="utf-8")
    assert MODEL_SHA256 in provenance
    assert (VENDORED_MODEL.parent / "LICENSE-Apache-2.0.txt").read_text(encoding="utf-8").lstrip().startswith(
        "Apache License")
    with zipfile.ZipFile(VENDORED_MODEL) as bundle:
        assert sorted(bundle.namelist()) == ["pose_detector.tflite", "pose_landmarks_detector.tflite"]
        assert hashlib.sha256(bundle.read("pose_detector.tflite")).hexdigest() == DETECTOR_SHA256


def test_vendored_model_rebuilds_from_the_mediapipe_wheel(tmp_path: Path) -> None:
    """The bundle is the wheel's detector and full landmark network, the latter with metadata attached,
    nothing else: rebuilt from the installed mediapipe 0.10.x it comes out byte for byte the same."""
    if not legacy_available():
        pytest.skip("needs mediapipe < 0.10.30 (Python 3.11/3.12), whose wheel ships pose_landmark_full.tflite")
    import mediapipe as mp

    from posture.model_bundle import build_full_bundle
    from posture.pose_tasks import VENDORED_MODEL

    modules = Path(mp.__file__).parent / "modules"
    shipped = (
        hashlib.sha256((modules / "pose_landmark" / "pose_landmark_full.tflite").read_bytes()).hexdigest(),
        hashlib.sha256((modules / "pose_detection" / "pose_detection.tflite").read_bytes()).hexdigest(),
    )
    if shipped != (WHEEL_FULL_TFLITE_SHA256, DETECTOR_SHA256):
        pytest.skip(f"this mediapipe ({mp.__version__}) ships other pose networks than 0.10.21")
    out = tmp_path / "rebuilt.task"
    build_full_bundle(modules, VENDORED_MODEL, out)
    assert hashlib.sha256(out.read_bytes()).hexdigest() == MODEL_SHA256


def test_backend_is_chosen_by_what_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BACKEND_ENV, raising=False)
    assert backend_name() == ("legacy" if legacy_available() else "tasks")
    line = describe_backend()
    assert line.startswith(f"pose backend: {backend_name()} (")
    monkeypatch.setenv(BACKEND_ENV, "tasks")
    assert backend_name() == "tasks" and "bundled full model" in describe_backend()
    monkeypatch.setenv(BACKEND_ENV, "fast")
    with pytest.raises(ConfigError, match="must be 'legacy' or 'tasks'"):
        backend_name()
    assert "misconfigured" in describe_backend()


def test_legacy_cannot_be_forced_where_it_is_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    import posture.pose as pose

    monkeypatch.setattr(pose, "mediapipe_version", lambda: "1.2.3")
    monkeypatch.setenv(BACKEND_ENV, "legacy")
    with pytest.raises(ConfigError, match=r"needs mediapipe < 0\.10\.30"):
        backend_name()
    monkeypatch.delenv(BACKEND_ENV)
    assert backend_name() == "tasks"
    monkeypatch.setattr(pose, "mediapipe_version", lambda: "0.10.21")
    assert backend_name() == "legacy"


def test_version_names_the_backend(capsys: pytest.CaptureFixture[str]) -> None:
    from posture.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("posture ") and describe_backend() in out


@pytest.mark.slow
def test_tasks_backend_finds_the_user_like_the_legacy_one(tasks: object) -> None:
    from posture.pose_tasks import TasksPose

    assert isinstance(tasks, TasksPose)
    frame = _frame("demo_session.mp4", 4.0)
    pose = tasks.detect(frame)
    assert pose is not None and len(pose.landmarks) == NUM_LANDMARKS
    assert validate_pose(pose).ok
    faces = tasks.faces(frame)
    assert len(faces) == 1
    # The face box sits on the face: the nose inside it, about a face wide.
    f = faces[0]
    assert f[0] < pose[P.NOSE].x < f[0] + f[2] and f[1] < pose[P.NOSE].y < f[1] + f[3]
    ear_span = abs(pose[P.LEFT_EAR].x - pose[P.RIGHT_EAR].x)
    assert 0.7 * ear_span < f[2] < 2.0 * ear_span
    if legacy_available():
        legacy = make_pose() if backend_name() == "legacy" else None
        if legacy is not None:
            other = legacy.detect(frame)
            legacy.close()
            assert other is not None
            # The same two networks (the bundle is built from the legacy wheel's) fed the same way: the
            # face agrees within half a percent of the frame, the shoulders within a tenth of their span
            # (the Tasks graph fills the crop outside the frame differently, which moves them a little).
            span = abs(other[P.LEFT_SHOULDER].x - other[P.RIGHT_SHOULDER].x)
            for i in (P.NOSE, P.LEFT_EYE, P.RIGHT_EYE, P.LEFT_EAR, P.RIGHT_EAR):
                assert abs(pose[i].x - other[i].x) < 0.005 and abs(pose[i].y - other[i].y) < 0.005, P(i).name
            for i in (P.LEFT_SHOULDER, P.RIGHT_SHOULDER):
                assert abs(pose[i].x - other[i].x) < span / 10 and abs(pose[i].y - other[i].y) < span / 10, P(i).name


@pytest.mark.slow
def test_tasks_backend_runs_the_model_once_per_frame(tasks: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """The presence check and the pose step each run their landmarker once per frame, however often
    they are asked; a refilled buffer is a new frame. The pose step sees the frame as the person finder
    hands it over (preprocessed), and the presence check's confirming look at it is that same run."""
    from posture.pose_tasks import TasksPose
    from posture.preprocess import prepare_frame

    assert isinstance(tasks, TasksPose)
    frame = _frame("demo_session.mp4", 4.0).copy()
    tasks.faces(frame)  # creates the people landmarker
    calls = {"pose": 0, "people": 0}

    def counting(name: str, real: Any) -> Any:
        def run(image: object) -> object:
            calls[name] += 1
            return real(image)

        return run

    monkeypatch.setattr(tasks._landmarker, "detect", counting("pose", tasks._landmarker.detect))
    monkeypatch.setattr(tasks._people, "detect", counting("people", tasks._people.detect))
    frame[:] = _frame("demo_session.mp4", 5.0)
    for _ in range(2):
        tasks.faces(frame)
        tasks.detect(prepare_frame(frame))
    assert calls == {"pose": 1, "people": 1}
    frame[:] = _frame("leave_return.mp4", 1.0)  # a camera refilling the same buffer with a new picture
    tasks.detect(prepare_frame(frame))
    tasks.faces(frame)
    assert calls == {"pose": 2, "people": 2}


@pytest.mark.slow
def test_tasks_backend_sees_an_empty_room_as_empty(tasks: object) -> None:
    from posture.pose_tasks import TasksPose

    assert isinstance(tasks, TasksPose)
    frame = np.full((360, 640, 3), 120, np.uint8)
    cv2.rectangle(frame, (50, 200), (600, 340), (80, 60, 40), -1)  # a desk, nobody at it
    assert tasks.faces(frame) == []
    assert not validate_pose(tasks.detect(frame)).ok


def _clip_frames(clip: Path, start_s: float, end_s: float, every_s: float) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(clip))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    step = max(1, round(every_s * fps))
    out, i = [], 0
    try:
        while True:
            ok, frame = cap.read()
            if not ok or i / fps > end_s:
                break
            if i / fps >= start_s and i % step == 0:
                out.append(np.asarray(frame))
            i += 1
    finally:
        cap.release()
    return out


def _phantoms(tasks: Any, frame: np.ndarray) -> int:
    """Faces the sensitive (people-counting) landmarker reports on its own, before any check."""
    from posture.pose_tasks import face_box

    h, w = frame.shape[:2]
    return sum(face_box(p, w, h) is not None for p in tasks.people(frame))


# leave_return.mp4 is labelled away from 11.25 s to 25.25 s; until about 11.5 s she is still at the edge of
# the picture, leaving. Then it is a room with a flag, a model shuttle and a helmet.
EMPTY_ROOM = (12.0, 25.0)


@pytest.mark.slow
def test_tasks_presence_check_sees_no_one_in_an_empty_room_full_of_things(tasks: object) -> None:
    """The people-counting landmarker (threshold 0.2) reads faces into the flag's stars and the helmet, at
    visibility 0.9 and more; none of them may count as someone there, or the camera stays on for nobody."""
    frames = _clip_frames(CLIPS / "leave_return.mp4", *EMPTY_ROOM, every_s=0.5)
    assert len(frames) >= 24
    # The trap is real: without the checks these frames hold one to three "faces" each.
    assert sum(_phantoms(tasks, f) > 0 for f in frames) >= len(frames) // 2
    assert [len(tasks.faces(f)) for f in frames] == [0] * len(frames)  # type: ignore[attr-defined]


@pytest.mark.slow
def test_tasks_presence_check_sees_no_one_in_a_cartoon() -> None:
    """Real footage: the man at his webcam is one face, the cartoon title after him none."""
    from posture.condition_suite import video_frames
    from posture.pose_tasks import TasksPose

    clip = ROOT / "tests" / "real_footage" / "face_noface.mov"
    if not clip.exists():
        pytest.skip(f"{clip} absent: fetched by `make real-footage` (tests/real_footage/fetch.py)")
    frames = video_frames(clip, [0, 40, 80, 90, 110, 120, 130, 150, 160])
    backend = TasksPose()
    try:
        counts = {i: len(backend.faces(frames[i])) for i in sorted(frames)}
        cartoon_phantoms = sum(_phantoms(backend, frames[i]) for i in sorted(frames) if i >= 80)
    finally:
        backend.close()
    assert counts[0] == counts[40] == 1
    assert cartoon_phantoms > 0  # the title card does fool the sensitive landmarker
    assert all(counts[i] == 0 for i in counts if i >= 80), counts


@pytest.mark.slow
def test_tasks_presence_check_still_counts_both_people_at_a_shared_table(tasks: object) -> None:
    """Real footage: the second person at the table counts in every frame, including those where the
    landmarker at the normal threshold missed her (what the sensitive one is for)."""
    from footage import FOOTAGE, need

    path = need(FOOTAGE / "two_people_table.264")
    frames = _clip_frames(path, 0.0, 1e9, every_s=0.0)
    assert len(frames) >= 8
    assert any(len(tasks.detect_all(f)) < 2 for f in frames)  # type: ignore[attr-defined]
    assert [len(tasks.faces(f)) for f in frames] == [2] * len(frames)  # type: ignore[attr-defined]


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["tasks", "legacy"])
def test_an_empty_room_full_of_things_is_nobody_on_either_backend(backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the monitor asks: the presence check says nobody, and the person finder finds no user."""
    if backend == "legacy" and not legacy_available():
        pytest.skip("the legacy backend needs mediapipe < 0.10.30 (Python 3.11 or 3.12)")
    monkeypatch.setenv(BACKEND_ENV, backend)
    finder = default_finder()
    try:
        for frame in _clip_frames(CLIPS / "leave_return.mp4", *EMPTY_ROOM, every_s=1.0):
            assert finder.presence(frame) == 0
            det = finder.find(frame)
            assert not det.validity.ok and det.faces == 0, det.validity
    finally:
        finder.close()


def _head_drop(backend: str, monkeypatch: pytest.MonkeyPatch) -> float:
    """Relative drop of head height from an upright to a slouched frame of the demo clip."""
    monkeypatch.setenv(BACKEND_ENV, backend)
    finder = default_finder()
    try:
        heights = {}
        for name, t in (("upright", 4.0), ("slouched", 70.0)):
            det = finder.find(_frame("demo_session.mp4", t))
            assert det.validity.ok, (backend, name, det.validity.reason)
            assert det.faces == 1, (backend, name)
            pose: Pose | None = det.pose
            assert pose is not None
            value = compute_metrics(pose).value("head_height")
            assert value is not None, (backend, name)
            heights[name] = value
    finally:
        finder.close()
    return 1.0 - heights["slouched"] / heights["upright"]


@pytest.mark.slow
def test_both_backends_measure_a_slouch_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each backend sees the head drop when the user slouches; where both exist, by a similar amount
    (within a third of each other)."""
    tasks_drop = _head_drop("tasks", monkeypatch)
    assert tasks_drop > 0.05
    if not legacy_available():
        return
    legacy_drop = _head_drop("legacy", monkeypatch)
    assert legacy_drop > 0.05
    assert abs(tasks_drop - legacy_drop) < legacy_drop / 3, (tasks_drop, legacy_drop)


def test_make_backends_share_one_landmarker_on_tasks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BACKEND_ENV, "tasks")
    main, crop, faces = make_backends(None, follow_user=True)
    try:
        assert main is crop is faces
    finally:
        main.close()
    main, crop, faces = make_backends(None, follow_user=False)
    try:
        assert crop is None and faces is None
    finally:
        main.close()
    monkeypatch.setenv(BACKEND_ENV, "tasks")
    assert type(make_pose()).__name__ == "TasksPose"


def test_wizard_diagnostics_name_the_backend(qtbot: Any) -> None:
    from calibration.profiles import ProfileStore
    from posture.analyzer import Analyzer
    from posture.clock import FakeClock
    from ui.wizard import CalibrationWizard

    finder = default_finder()
    try:
        blank = np.full((240, 320, 3), 120, dtype=np.uint8)
        analysis = Analyzer(finder).process(blank, 0.0, 0.0)
    finally:
        finder.close()
    wizard = CalibrationWizard(ProfileStore(), clock=FakeClock())
    qtbot.addWidget(wizard)
    wizard.feed(blank, analysis)
    text = wizard.diag_label.text()
    assert "I can't see anyone yet." in text  # the problems come first, the backend closes the list
    assert text.index("I can't see anyone yet.") < text.index(describe_backend().split(" (")[0])
    assert "pose backend: " + backend_name() in text


class _PlainFaces:
    """The Tasks face source seen only through the plain `FaceSource` interface: it prepares the frame
    itself, as it did before the person finder handed its prepared frame over (the reference answer)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def faces(self, frame_bgr: np.ndarray) -> list[Any]:
        return self.inner.faces(frame_bgr)  # type: ignore[no-any-return]

    def close(self) -> None:
        self.inner.close()


def _counting_prepare(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    import posture.pose_tasks
    import posture.preprocess

    calls = {"prepare": 0}
    real = posture.preprocess.prepare_frame

    def prepare(image: np.ndarray) -> np.ndarray:
        calls["prepare"] += 1
        return real(image)

    monkeypatch.setattr(posture.preprocess, "prepare_frame", prepare)
    monkeypatch.setattr(posture.pose_tasks, "prepare_frame", prepare)
    return calls


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["tasks", "legacy"])
def test_the_finder_prepares_each_frame_once(backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The preprocessing (grain measure, blur, levels in poor light) runs once per sample: the Tasks face
    check looks at the frame the finder prepared for its pose step, also when the monitor's presence check
    came first; the legacy face detector sees the camera's frame and prepares nothing."""
    if backend == "legacy" and not legacy_available():
        pytest.skip("the legacy backend needs mediapipe < 0.10.30 (Python 3.11 or 3.12)")
    monkeypatch.setenv(BACKEND_ENV, backend)
    calls = _counting_prepare(monkeypatch)
    finder = default_finder()
    try:
        frame = _frame("demo_session.mp4", 4.0).copy()
        assert finder.find(frame).validity.ok
        assert calls["prepare"] == 1
        assert finder.presence(frame) == 1 and calls["prepare"] == (2 if backend == "tasks" else 1)
        assert finder.find(frame).validity.ok and calls["prepare"] == 2
        frame[:] = _frame("demo_session.mp4", 5.0)  # the camera refills the buffer: a new picture
        finder.presence(frame)
        finder.find(frame)
        assert calls["prepare"] == 3
    finally:
        finder.close()


@pytest.mark.slow
def test_handing_over_the_prepared_frame_changes_no_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tasks: the finder that hands its prepared frame to the face check finds exactly (bit for bit) what
    the face check preparing the frame itself found, alone and one and two people in view."""
    from posture.person import PersonFinder
    from posture.pose_tasks import TasksPose
    from posture.preprocess import MirrorSymmetricPose, prepare_frame

    monkeypatch.setenv(BACKEND_ENV, "tasks")
    frames = [_frame("demo_session.mp4", 4.0), _frame("demo_session.mp4", 70.0), _frame("second_person.mp4", 6.0),
              _frame("leave_return.mp4", 15.0)]
    handed, plain = default_finder(), None
    tasks = TasksPose()
    try:
        plain = PersonFinder(MirrorSymmetricPose(tasks), MirrorSymmetricPose(tasks), _PlainFaces(tasks),
                             prepare=prepare_frame)
        for frame in frames:
            for presence_first in (False, True):
                got = (handed.presence(frame), handed.find(frame)) if presence_first else (None, handed.find(frame))
                want = (plain.presence(frame), plain.find(frame)) if presence_first else (None, plain.find(frame))
                assert got[0] == want[0]
                a, b = got[1], want[1]
                assert (a.validity, a.faces, a.cropped) == (b.validity, b.faces, b.cropped)
                assert (a.pose is None) == (b.pose is None)
                if a.pose is not None and b.pose is not None:
                    assert a.pose.landmarks == b.pose.landmarks
    finally:
        handed.close()
        tasks.close()


@pytest.mark.parametrize("kind", ["pose", "watch", "face"])
def test_every_tasks_model_says_in_one_line_what_is_wrong_with_its_file(kind: str, tmp_path: Path) -> None:
    """The three Tasks models load through one helper (posture/tasks_models.py): a built-in file gone, or a
    file mediapipe cannot read, is a ConfigError naming the file and what to do, never a traceback."""
    from posture.exercise.face_tasks import TasksFaceKeypoints
    from posture.exercise.watch_tasks import TasksWatchPose
    from posture.pose_tasks import TasksPose

    def make(path: Path) -> object:
        if kind == "pose":
            backend = TasksPose()
            backend.close()
            backend.model_path = path  # as if the vendored file were this one
            return backend._create(0.5)
        if kind == "watch":
            return TasksWatchPose(path)
        return TasksFaceKeypoints(model_path=path)

    missing = tmp_path / "gone.task"
    with pytest.raises(ConfigError, match=r"the built-in (pose|face) model is missing .*gone\.task.*reinstall") as exc:
        make(missing)
    assert "\n" not in str(exc.value)
    junk = tmp_path / "junk.task"
    junk.write_bytes(b"not a model")
    with pytest.raises(ConfigError, match=r"model file .*junk\.task could not be loaded") as exc:
        make(junk)
    assert "\n" not in str(exc.value).split(" (")[0]
