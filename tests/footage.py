"""Access to the real footage in ../shared/footage (never copied into the project)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

FOOTAGE = Path(__file__).resolve().parents[2] / "shared" / "footage"
SLOUCH = FOOTAGE / "slouch_session_a"


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real footage not available: {path} (it lives in ../shared/footage beside the project)")
    return path


def natural(p: Path) -> list[object]:
    return [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", p.name)]


def slouch_frames() -> tuple[list[Path], list[Path]]:
    need(SLOUCH)
    up = sorted((SLOUCH / "upright").glob("*.jpg"), key=natural)
    down = sorted((SLOUCH / "slouched").glob("*.jpg"), key=natural)
    return up, down


def build_held_sequence(out: Path, calib_frames: int = 5, calib_hold: int = 2, hold: int = 8) -> tuple[Path, Path, float]:
    """An image sequence (1 fps) from slouch_session_a: `calib_frames` upright frames held `calib_hold` s
    each for calibration, then held-out upright and slouched frames alternating, each held `hold` s.

    Returns (folder, labels file, calibration end in seconds). Frames are symlinks, so nothing is copied.
    """
    up, down = slouch_frames()
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    labels: list[dict[str, object]] = []

    def put(src: Path, seconds: int, state: str) -> None:
        nonlocal n
        start = n
        for _ in range(seconds):
            os.symlink(src, out / f"f{n:05d}.jpg")
            n += 1
        if labels and labels[-1]["state"] == state and labels[-1]["end"] == start:
            labels[-1]["end"] = n
        else:
            labels.append({"start": start, "end": n, "state": state, "reason": "upright" if state == "good" else "slouch"})

    for f in up[:calib_frames]:
        put(f, calib_hold, "good")
    calib_end = float(n)
    held_up, held_down = up[calib_frames:], down
    for i in range(max(len(held_up), len(held_down))):
        if i < len(held_down):
            put(held_down[i], hold, "poor")
        if i < len(held_up):
            put(held_up[i], hold, "good")
    labels_path = out.parent / (out.name + ".labels.json")
    labels_path.write_text(json.dumps(labels))
    return out, labels_path, calib_end
