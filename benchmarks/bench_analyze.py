"""Offline throughput of `posture analyze` at --rate 2 on the 30 fps clips, as a multiple of real time.

For each labelled sample clip and the 10-minute clip:

    posture analyze CLIP --rate 2 --calibrate-from 0:8 --json OUT --quiet

is run as a user would run it; wall time and CPU time come from the child's rusage (os.wait4). Reported:
clip seconds per wall second (×real time, end to end including start-up), the same without start-up
(start-up measured on a 1-second clip), clip seconds per CPU second (what the throughput would be on an
idle core, robust to a shared machine), CPU ms per analysed frame, frames skipped without decoding, and
pose runs against poses re-used by the motion gate.

    python benchmarks/bench_analyze.py [--minutes 10] [--no-long]
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
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import (  # noqa: E402
    OUT,
    clip_info,
    fmt,
    isolated_env,
    labelled_clips,
    long_clip,
    machine,
    posture_cmd,
    replace_section,
    rewrite_from_last,
    save_json,
    table,
)

TARGET_X = 30.0
RATE = 2.0


def run_analyze(clip: Path, work: Path, calibrate: bool = True) -> dict[str, Any]:
    out = work / f"{clip.stem}.json"
    cmd = posture_cmd("analyze", str(clip), "--rate", f"{RATE:g}", "--json", str(out), "--quiet")
    if calibrate:
        cmd += ["--calibrate-from", "0:8"]
    env = isolated_env(work / "env")
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # wait4 gives the child's own CPU time (all its threads), however busy the rest of the machine is.
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - t0
    output = proc.stdout.read() if proc.stdout else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"posture analyze {clip.name} failed ({proc.returncode}):\n{output[-2000:]}")
    summary = json.loads(out.read_text())["summary"]
    _fps, duration, _frames = clip_info(clip)
    return {
        "clip": clip.name,
        "duration_s": round(duration, 2),
        "wall_s": round(wall, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "max_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "samples": summary["samples"],
        "frames_read": summary["frames_read"],
        "frames_decoded": summary["frames_decoded"],
        "frames_skipped": summary["frames_skipped_undecoded"],
        "pose_runs": summary.get("pose_runs"),
        "pose_reused": summary.get("pose_reused_unchanged_frame"),
    }


def tiny_clip(src: Path, seconds: float = 1.0) -> Path:
    """The first second of a clip: analysing it costs start-up and almost nothing else."""
    import cv2

    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "startup_1s.mp4"
    cap = cv2.VideoCapture(str(src))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    ok, frame = cap.read()
    h, w = frame.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    n = 0
    while ok and n < seconds * fps:
        writer.write(frame)
        n += 1
        ok, frame = cap.read()
    writer.release()
    cap.release()
    return path


def derive(r: dict[str, Any], startup: dict[str, Any] | None) -> dict[str, Any]:
    r = dict(r)
    r["x_realtime_wall"] = r["duration_s"] / r["wall_s"]
    r["x_realtime_cpu"] = r["duration_s"] / r["cpu_s"]
    if startup:
        steady_wall = r["wall_s"] - startup["wall_s"]
        steady_cpu = r["cpu_s"] - startup["cpu_s"]
        r["x_realtime_wall_steady"] = (r["duration_s"] - startup["duration_s"]) / steady_wall if steady_wall > 0 else None
        r["x_realtime_cpu_steady"] = (r["duration_s"] - startup["duration_s"]) / steady_cpu if steady_cpu > 0 else None
        n = r["samples"] - startup["samples"]
        r["cpu_ms_per_sample"] = 1000 * steady_cpu / n if n > 0 else None
    return r


def report(data: dict[str, Any]) -> str:
    rows = []
    for r in data["clips"]:
        rows.append([
            r["clip"], f"{r['duration_s']:.0f} s", f"{r['x_realtime_wall']:.1f}×",
            f"{fmt(r.get('x_realtime_wall_steady'), '.1f')}×", f"{r['x_realtime_cpu']:.1f}×",
            f"{fmt(r.get('x_realtime_cpu_steady'), '.1f')}×", fmt(r.get("cpu_ms_per_sample"), ".1f"), r["samples"],
            f"{r['frames_skipped']}/{r['frames_read']}", f"{r['pose_runs']} / {r['pose_reused']}",
            f"{r['max_rss_mb']:.0f} MB",
        ])
    head = data.get("headline")
    lines = [
        "## Offline throughput (`posture analyze --rate 2`)",
        "",
        "`benchmarks/bench_analyze.py`: each 30 fps clip analysed once by the CLI, calibrating from 0–8 s. "
        "×real time = clip seconds per second; *wall* is what a user waits on this (shared, loaded) machine, "
        "*CPU* is clip seconds per CPU second of the process (what an idle core would give). *Steady* leaves "
        f"out start-up (a 1 s clip costs {data['startup']['wall_s']:.1f} s wall, "
        f"{data['startup']['cpu_s']:.1f} s CPU: imports and MediaPipe graphs).",
        "",
        table(["clip", "length", "×RT wall", "×RT wall, steady", "×RT CPU", "×RT CPU, steady", "CPU ms/sample",
               "samples", "frames grabbed, not retrieved / read", "pose runs / re-used", "max RSS"], rows),
        "",
        "Frames between samples are only `grab()`bed: FFmpeg still decodes them (an H.264 frame depends on the "
        "previous ones) but they are never colour-converted or copied; the summary's `frames_skipped_undecoded` "
        "counts these. *Re-used* poses are samples where the motion gate saw an unchanged picture.",
    ]
    if head:
        lines += ["", f"Headline ({head['clip']}): **{head['x_realtime_wall']:.1f}×** real time end to end on the "
                  f"wall clock, {fmt(head.get('x_realtime_wall_steady'), '.1f')}× without start-up, "
                  f"{fmt(head.get('x_realtime_cpu_steady'), '.1f')}× per CPU second (target ≥ {TARGET_X:g}×)."]
    lines += ["", f"Machine: {data['machine']}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--minutes", type=float, default=10.0, help="length of the long clip (default 10)")
    ap.add_argument("--no-long", action="store_true", help="only the sample clips")
    ap.add_argument("--report-only", action="store_true", help="rewrite RESULTS.md from the last results")
    args = ap.parse_args(argv)
    if args.report_only:
        return rewrite_from_last("analyze", report)
    clips = labelled_clips()
    if not args.no_long:
        clips.append(long_clip(args.minutes))
    if not clips:
        print("no clips: run `make samples` first", file=sys.stderr)
        return 1
    data: dict[str, Any] = {"machine": machine(), "rate": RATE, "clips": []}
    with tempfile.TemporaryDirectory(prefix="bench-analyze-") as tmp:
        work = Path(tmp)
        startup = run_analyze(tiny_clip(clips[0]), work, calibrate=False)
        data["startup"] = startup
        print(f"start-up: {startup['wall_s']:.1f} s wall, {startup['cpu_s']:.1f} s CPU", flush=True)
        for clip in clips:
            r = derive(run_analyze(clip, work), startup)
            data["clips"].append(r)
            print(f"{clip.name}: {r['x_realtime_wall']:.1f}× real time (wall), {r['x_realtime_cpu']:.1f}× (CPU), "
                  f"{r['frames_skipped']}/{r['frames_read']} frames skipped undecoded, "
                  f"{r['pose_runs']} pose runs / {r['pose_reused']} re-used", flush=True)
    data["headline"] = max(data["clips"], key=lambda r: r["duration_s"])
    save_json("analyze", data)
    replace_section("analyze", report(data))
    print(report(data))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
