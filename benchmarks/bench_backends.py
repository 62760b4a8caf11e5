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

The conditions table on each backend (the judgement under webcam conditions, as tests/test_conditions_suite.py
runs it), one venv per backend, then side by side:

    .venv/bin/python benchmarks/bench_backends.py --conditions              # the backend this venv runs, at 1 Hz
    venv-3.13/bin/python benchmarks/bench_backends.py --conditions          # (another checkout or venv)
    python benchmarks/bench_backends.py --compare LEGACY.json TASKS.json    # the `conditions-backends` block

`--conditions` writes out/bench/conditions-<backend>-py3.X.json and prints, for the Tasks backend, the
KNOWN_SHORT_TASKS entries tests/test_conditions_suite.py needs (the pairs that miss a target there).
"""

from __future__ import annotations

import argparse
import json
import math
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


# The clips tests/test_conditions_suite.py holds to the targets (sample clips without their .mp4).
SUITE_CLIPS = ("forward_head", "head_tilt", "lateral_lean", "slouch", "slouch_session_a", "webcam_man")


def conditions(rate: float) -> Path:
    """The whole conditions table on the backend this venv runs (as bench_conditions.py builds it)."""
    from benchmarks.bench_conditions import backend_record, real_clips
    from calibration.capture import build_baseline
    from posture.condition_suite import clips_in, format_conditions, run_suite, webcam_man_clip
    from posture.conditions import CONDITIONS
    from posture.landmarks import Pose
    from posture.person import default_finder
    from posture.pose import backend_name

    clips = clips_in(SAMPLES) + real_clips()
    man = webcam_man_clip(ROOT / "tests" / "real_footage")
    if man is None:
        print("note: tests/real_footage clips absent (python tests/real_footage/fetch.py); webcam_man left out",
              file=sys.stderr)
    else:
        clips.append(man)
    looks: dict[bytes, Pose | None] = {}  # shared as the tests share it: a mirrored run re-uses the plain looks
    t0 = time.monotonic()
    runs = run_suite(clips, CONDITIONS, lambda: default_finder(memory=looks), lambda obs: build_baseline(obs)[0], rate,
                     progress=lambda what: print(what, file=sys.stderr, flush=True))
    backend = backend_name()
    name, data = backend_record(runs, rate, (time.monotonic() - t0) / 60)
    path = save_json(name, data)
    print(format_conditions(runs))
    print(f"\nwritten to {path}")
    if backend == "tasks":
        print("\nKNOWN_SHORT_TASKS entries for tests/test_conditions_suite.py:")
        print(known_short_entries(data))
    return path


def known_short_entries(data: dict[str, Any]) -> str:
    """The suite pairs that miss a target, as dict entries with the measured figure."""
    lines = []
    for r in data["runs"]:
        name = r["clip"].removesuffix(".mp4")
        if name not in SUITE_CLIPS or r["meets_targets"]:
            continue
        why = f"balanced accuracy {_floor2(r['balanced_accuracy'])}"
        if r["false_alarm_nudges"]:
            why += f", {r['false_alarm_nudges']} false nudge(s)"
        lines.append(f'    ("{r["condition"]}", "{name}"): "measured {data["date"]} at {data["rate_hz"]:g} Hz, '
                     f'mediapipe {data["mediapipe"]}: {why}",')
    return "\n".join(lines)


def _floor2(v: float | None) -> str:
    # As format_conditions prints it: rounded down, so a figure just under a target never reads as the target.
    return "-" if v is None or v != v else f"{math.floor(v * 100 + 1e-9) / 100:.2f}"


def compare(paths: list[Path]) -> str:
    """Per condition, each backend's worst and mean balanced accuracy over the same clips, side by side."""
    sets = [json.loads(p.read_text(encoding="utf-8")) for p in paths]
    clip_sets = [{r["clip"] for r in d["runs"]} for d in sets]
    common = set.intersection(*clip_sets)  # a clip missing on one side (footage absent) would skew the worst
    conds = list(dict.fromkeys(r["condition"] for d in sets for r in d["runs"]))
    head = ["condition"] + [f"{d['backend']}: worst (clip) / mean" for d in sets]
    if len(sets) == 2:
        head.append(f"{sets[1]['backend']} − {sets[0]['backend']}, worst / mean")
    rows = []
    totals = []
    for d in sets:
        runs = [r for r in d["runs"] if r["clip"] in common]
        totals.append((sum(1 for r in runs if r["meets_targets"]), len(runs)))
    for cond in conds:
        row = [cond]
        stats = []
        for d in sets:
            runs = [r for r in d["runs"] if r["condition"] == cond and r["clip"] in common]
            vals = [(r["balanced_accuracy"], r["clip"]) for r in runs if r["balanced_accuracy"] == r["balanced_accuracy"]]
            worst = min(vals) if vals else (float("nan"), "-")
            mean = sum(v for v, _ in vals) / len(vals) if vals else float("nan")
            stats.append((worst[0], mean))
            row.append(f"{_floor2(worst[0])} ({worst[1].removesuffix('.mp4')}) / {_floor2(mean)}")
        if len(sets) == 2:  # differences of the printed (rounded-down) figures, so the columns add up
            row.append(f"{float(_floor2(stats[1][0])) - float(_floor2(stats[0][0])):+.2f} / "
                       f"{float(_floor2(stats[1][1])) - float(_floor2(stats[0][1])):+.2f}")
        rows.append(row)
    worse = []
    if len(sets) == 2:
        for a in sets[0]["runs"]:
            b = next((r for r in sets[1]["runs"] if r["condition"] == a["condition"] and r["clip"] == a["clip"]), None)
            if b is None or a["clip"] not in common:
                continue
            diff = b["balanced_accuracy"] - a["balanced_accuracy"]
            if abs(diff) >= 0.05:
                worse.append((diff, a["condition"], a["clip"].removesuffix(".mp4"), a["balanced_accuracy"], b["balanced_accuracy"]))
    lines = [
        "## The conditions table on each pose backend (`benchmarks/bench_backends.py --conditions`)",
        "",
        "Balanced accuracy per condition over the same clips (" + ", ".join(sorted(c.removesuffix(".mp4") for c in common))
        + "): the worst clip and the mean. Targets as in the conditions block: ≥ 0.95 in every condition, no false nudge.",
        "",
        table(head, rows),
        "",
    ]
    for d, (met, n) in zip(sets, totals, strict=True):
        lines.append(f"- {d['backend']}: Python {d['python']}, mediapipe {d['mediapipe']}, {d['rate_hz']:g} Hz, "
                     f"measured {d['date']} ({d['wall_min']:.0f} min wall); {met}/{n} runs meet the targets.")
    if worse:
        lines.append(f"- Runs where the backends differ by 0.05 or more ({sets[1]['backend']} − {sets[0]['backend']}): "
                     + "; ".join(f"{c} × {n} {_floor2(x)} → {_floor2(y)}" for _, c, n, x, y in sorted(worse)) + ".")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backends", nargs="+", choices=["legacy", "tasks"])
    ap.add_argument("--conditions", action="store_true", help="the conditions table on this venv's backend")
    ap.add_argument("--rate", type=float, default=1.0, help="samples per second for --conditions (the tests' 1 Hz)")
    ap.add_argument("--compare", nargs="+", type=Path, metavar="JSON",
                    help="conditions-<backend>-py3.X.json files, side by side into RESULTS.md")
    args = ap.parse_args(argv)
    if args.conditions:
        conditions(args.rate)
        return 0
    if args.compare:
        body = compare(args.compare)
        replace_section("conditions-backends", body)
        print(body)
        return 0
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
