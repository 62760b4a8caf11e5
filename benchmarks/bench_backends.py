"""The same judgement on both pose backends: evaluation and speed, side by side.

    python benchmarks/bench_backends.py            # every backend this install has
    python benchmarks/bench_backends.py --backends tasks

For each backend this venv can run (on Python 3.11/3.12 both: mediapipe < 0.10.30 also has the Tasks
API; on 3.13+ only "tasks"), forced with POSTURE_POSE_BACKEND:
- `posture evaluate --all sample_videos` (balanced accuracy, poor-posture recall, false alarms per
  clip, calibrated on the first 8 s as the tests do);
- the real-footage held sequence of ../shared/footage/slouch_session_a when it is there (as
  tests/test_state_footage.py builds it);
- pose time per frame: the production person finder on 40 frames of the demo clip, CPU seconds of
  this process (the machine is shared), after a warm-up.
Writes the `backends` block of benchmarks/RESULTS.md and out/bench/backends.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from benchmarks.common import OUT, SAMPLES, machine, replace_section, save_json, table  # noqa: E402

TIMING = r"""
import json, sys, time, cv2
from posture.person import default_finder
cap = cv2.VideoCapture(sys.argv[1]); frames = []
while len(frames) < 45:
    ok, f = cap.read()
    if not ok: break
    frames.append(f)
    for _ in range(29): cap.grab()
finder = default_finder()
for f in frames[:5]: finder.find(f)
t0 = time.process_time(); w0 = time.perf_counter()
for f in frames[5:]: finder.find(f)
n = len(frames) - 5
print(json.dumps({"cpu_ms": (time.process_time() - t0) / n * 1000, "wall_ms": (time.perf_counter() - w0) / n * 1000}))
"""


def _env(backend: str) -> dict[str, str]:
    return dict(os.environ, POSTURE_POSE_BACKEND=backend, QT_QPA_PLATFORM="offscreen")


def available() -> list[str]:
    from posture.pose import legacy_available

    return ["legacy", "tasks"] if legacy_available() else ["tasks"]


def evaluate_clips(backend: str) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "eval.json"
        subprocess.run([sys.executable, "-m", "posture", "evaluate", "--all", str(SAMPLES), "--json", str(out)],
                       env=_env(backend), check=True, stdout=subprocess.DEVNULL)
        data: list[dict[str, Any]] = json.loads(out.read_text(encoding="utf-8"))
    return data


def evaluate_footage(backend: str) -> dict[str, Any] | None:
    from footage import SLOUCH, build_held_sequence

    if not SLOUCH.is_dir():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        folder, labels, calib_end = build_held_sequence(Path(tmp) / "held")
        out = Path(tmp) / "eval.json"
        subprocess.run([sys.executable, "-m", "posture", "evaluate", str(folder), "--labels", str(labels),
                        "--fps-in", "1", "--calibrate-from", f"0:{calib_end - 0.5}", "--json", str(out)],
                       env=_env(backend), check=True, stdout=subprocess.DEVNULL)
        data: list[dict[str, Any]] = json.loads(out.read_text(encoding="utf-8"))
    return data[0]


def timing(backend: str) -> dict[str, float]:
    res = subprocess.run([sys.executable, "-c", TIMING, str(SAMPLES / "demo_session.mp4")], env=_env(backend),
                         check=True, capture_output=True, text=True)
    got: dict[str, float] = json.loads(res.stdout.strip().splitlines()[-1])
    return got


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v * 100:.0f}"


def report(data: dict[str, Any]) -> str:
    backends = list(data["results"])
    names = sorted({e["name"] for b in backends for e in data["results"][b]["clips"]})
    head = ["clip"] + [f"{b}: bal. acc. / R poor / false alarms" for b in backends]
    rows = []
    for name in names:
        row = [name]
        for b in backends:
            e = next((e for e in data["results"][b]["clips"] if e["name"] == name), None)
            if e is None:
                row.append("–")
                continue
            row.append(f"{_pct(e['balanced_accuracy'])} / {_pct(e['recall'].get('poor'))} / {e['false_alarm_nudges']}")
        rows.append(row)
    foot = ["real footage: slouch_session_a held sequence"]
    for b in backends:
        f = data["results"][b].get("footage")
        foot.append("not available here" if f is None else
                    f"{_pct(f['balanced_accuracy'])} / {_pct(f['recall'].get('poor'))} / {f['false_alarm_nudges']}")
    rows.append(foot)
    rows.append(["pose time per analysed frame, CPU ms (wall ms)"] + [
        f"{data['results'][b]['timing']['cpu_ms']:.0f} ({data['results'][b]['timing']['wall_ms']:.0f})" for b in backends])
    return "\n".join([
        "## Pose backends side by side (`benchmarks/bench_backends.py`)",
        "",
        f"Python {data['python']}, mediapipe {data['mediapipe']}, numpy {data['numpy']}. Each backend forced with",
        "POSTURE_POSE_BACKEND; clips calibrated on their first 8 s (as `posture evaluate --all`). Figures in %.",
        "",
        table(head, rows),
        "",
        f"Machine: {data['machine']}.",
    ])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backends", nargs="+", choices=["legacy", "tasks"])
    args = ap.parse_args(argv)
    import mediapipe
    import numpy

    results: dict[str, Any] = {}
    for backend in args.backends or available():
        t0 = time.monotonic()
        print(f"{backend}: evaluating the sample clips", flush=True)
        entry: dict[str, Any] = {"clips": evaluate_clips(backend)}
        print(f"{backend}: real footage", flush=True)
        entry["footage"] = evaluate_footage(backend)
        print(f"{backend}: timing", flush=True)
        entry["timing"] = timing(backend)
        print(f"{backend}: done in {time.monotonic() - t0:.0f} s", flush=True)
        results[backend] = entry
    data = {"machine": machine(), "python": sys.version.split()[0], "mediapipe": mediapipe.__version__,
            "numpy": numpy.__version__, "results": results}
    OUT.mkdir(parents=True, exist_ok=True)
    save_json(f"backends-py{sys.version_info[0]}.{sys.version_info[1]}", data)
    replace_section(f"backends-py{sys.version_info[0]}.{sys.version_info[1]}", report(data))
    print(report(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
