"""How the vendored `pose_landmarker_full.task` is made, so anyone can rebuild it byte for byte.

No registry package ships Google's full-size Tasks bundle, and the app may download nothing. Both
networks the legacy backend runs ship inside every mediapipe 0.10.x wheel on PyPI (Apache-2.0):
`modules/pose_detection/pose_detection.tflite` (the person detector, with the TFLite metadata the Tasks
API reads) and `modules/pose_landmark/pose_landmark_full.tflite` (the full landmark network, without
that metadata). Its input (256x256 RGB scaled to [0, 1]) and five outputs are laid out exactly like
the lite landmark network in Google's `pose_landmarker_lite.task`, so the lite network's metadata block
is attached to it unchanged; then both go into one bundle. No weight is touched, so the Tasks backend
runs the very networks of the legacy backend (on the same frames their face landmarks agree within a
fraction of a pixel).

    python -m posture.model_bundle MEDIAPIPE_MODULES_DIR METADATA_DONOR_TASK OUT_TASK

MEDIAPIPE_MODULES_DIR is `mediapipe/modules` of an installed 0.10.21 wheel; the donor is the lite
bundle (postured 1.4.1 wheel) or the vendored full bundle itself, which carries the same block. Needs
mediapipe's metadata tools, which the 0.10.x wheels (Python 3.11/3.12) ship.
"""

from __future__ import annotations

import sys
import tempfile
import zipfile
from pathlib import Path

DETECTOR = "pose_detector.tflite"
LANDMARKS = "pose_landmarks_detector.tflite"
# A fixed member date and no compression: the same inputs give the same bytes, so the vendored file's
# sha256 can be checked by rebuilding it.
MEMBER_DATE = (2023, 4, 27, 0, 0, 0)


WHEEL_DETECTOR = Path("pose_detection") / "pose_detection.tflite"
WHEEL_LANDMARKS = Path("pose_landmark") / "pose_landmark_full.tflite"


def build_full_bundle(modules_dir: Path, donor_task: Path, out: Path) -> None:
    from mediapipe.tasks.python.metadata import metadata as md

    detector = (modules_dir / WHEEL_DETECTOR).read_bytes()
    with zipfile.ZipFile(donor_task) as donor:
        donor_landmarks = donor.read(LANDMARKS)
    with tempfile.TemporaryDirectory() as tmp:
        landmarks = Path(tmp) / LANDMARKS
        landmarks.write_bytes((modules_dir / WHEEL_LANDMARKS).read_bytes())
        populator = md.MetadataPopulator.with_model_file(str(landmarks))
        populator.load_metadata_buffer(md.get_metadata_buffer(donor_landmarks))
        populator.populate()
        landmarks_bytes = landmarks.read_bytes()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as bundle:
        for name, data in ((DETECTOR, detector), (LANDMARKS, landmarks_bytes)):
            info = zipfile.ZipInfo(name, date_time=MEMBER_DATE)
            info.external_attr = 0o644 << 16
            bundle.writestr(info, data)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: python -m posture.model_bundle MEDIAPIPE_MODULES_DIR METADATA_DONOR_TASK OUT_TASK", file=sys.stderr)
        return 2
    build_full_bundle(Path(argv[0]), Path(argv[1]), Path(argv[2]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
