"""Write the Face Mesh head-turn reference of the real footage for installs without Face Mesh.

`tests/face_reference.py` (Face Mesh fitted with solvePnP) needs the legacy MediaPipe solutions, which
Python 3.13+ (mediapipe >= 0.10.30) does not have. Its per-frame answers on the office clip are
numbers about the footage, not the footage, so they are kept in tests/reference/ for the Tasks
backend's footage tests; on the legacy backend the tests recompute them and check the stored file
still matches (tests/test_exercise_footage.py).

    python tests/make_face_reference.py          # on Python 3.11/3.12, with ../shared/footage present
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REFERENCE_DIR = HERE / "reference"
# Every frame of each clip, like the footage tests.
CLIPS = {"office_desk_1280x720.264": REFERENCE_DIR / "office_desk_yaw.json"}
RATE_HZ = 10.0


def reference_trace(path: Path) -> list[tuple[float, float | None]]:
    """(frame time, Face Mesh yaw in degrees or None) for every frame the footage tests read."""
    sys.path.insert(0, str(HERE))
    from face_reference import FaceMeshYaw

    from posture.sources import open_source

    ref = FaceMeshYaw()
    out: list[tuple[float, float | None]] = []
    try:
        with open_source(str(path), RATE_HZ) as source:
            while (frame := source.read()) is not None:
                yaw = ref.yaw(frame.image)
                out.append((round(frame.t, 4), None if yaw is None else round(yaw, 3)))
    finally:
        ref.close()
    return out


def load(name: str) -> list[tuple[float, float | None]]:
    data = json.loads(CLIPS[name].read_text())
    return [(float(t), None if y is None else float(y)) for t, y in data["frames"]]


def main() -> int:
    sys.path.insert(0, str(HERE))
    from footage import FOOTAGE

    for name, out in CLIPS.items():
        clip = FOOTAGE / name
        if not clip.exists():
            print(f"footage missing: {clip}; it lives in ../shared/footage beside the project", file=sys.stderr)
            return 2
        frames = reference_trace(clip)
        out.parent.mkdir(parents=True, exist_ok=True)
        head = {"clip": name, "reference": "MediaPipe Face Mesh + solvePnP (tests/face_reference.py)",
                "unit": "degrees, + toward the person's own left"}
        lines = [f"  {json.dumps(k)}: {json.dumps(v)}," for k, v in head.items()]
        rows = ",\n".join(f"    {json.dumps(list(f))}" for f in frames)
        out.write_text("{\n" + "\n".join(lines) + '\n  "frames": [\n' + rows + "\n  ]\n}\n")
        print(f"{out.relative_to(HERE.parent)}: {len(frames)} frames")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
