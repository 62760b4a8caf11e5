"""How the vendored `pose_landmarker_full.task` is made, so anyone can rebuild it byte for byte.

No registry package ships Google's full-size Tasks bundle, and the app may download nothing. The full
landmark network itself ships inside every mediapipe < 0.10.30 wheel on PyPI
(`mediapipe/modules/pose_landmark/pose_landmark_full.tflite`, the model the legacy backend runs), but
without the TFLite metadata the Tasks API reads the input normalisation from. Its input (256x256 RGB,
scaled to [0, 1]) and five outputs are laid out exactly like the lite landmark network in the
`pose_landmarker_lite.task` bundle, so this copies the lite network's metadata onto it unchanged and
zips it with the lite bundle's person detector (the same BlazePose detector for every model size).
The weights are not touched: on the same frames the result matches the legacy backend's landmarks.
The donor of detector and metadata can be the lite bundle (postured 1.4.1 wheel) or the vendored full
bundle itself, which carries both unchanged; either gives the same bytes.

    python -m posture.model_bundle DONOR_TASK FULL_TFLITE OUT_TASK

needs mediapipe's metadata tools, which the 0.10.x wheels (Python 3.11/3.12) ship.
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


def build_full_bundle(donor_task: Path, full_tflite: Path, out: Path) -> None:
    from mediapipe.tasks.python.metadata import metadata as md

    with zipfile.ZipFile(donor_task) as donor:
        detector = donor.read(DETECTOR)
        donor_landmarks = donor.read(LANDMARKS)
    with tempfile.TemporaryDirectory() as tmp:
        landmarks = Path(tmp) / LANDMARKS
        landmarks.write_bytes(full_tflite.read_bytes())
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
        print("usage: python -m posture.model_bundle DONOR_TASK FULL_TFLITE OUT_TASK", file=sys.stderr)
        return 2
    build_full_bundle(Path(argv[0]), Path(argv[1]), Path(argv[2]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
