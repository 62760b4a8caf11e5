"""Latency: from a labelled posture change to the state change, and to the nudge.

Two measurements:

1. `posture evaluate --all sample_videos --json OUT` (fixed 2 Hz sampling, the analysis pipeline): per
   clip, accuracy, balanced accuracy, state-change latency and nudge delay, straight from the JSON.
2. The monitor itself, per sampling mode (battery / balanced / responsive): the production monitor
   (`build_monitor`, adaptive sampling, motion gate, presence checks, coach) replays each labelled clip
   and the 10-minute clip on an accelerated clock, calibrating from 0–8 s; its samples and events are
   scored with the same `posture.evaluation.evaluate`. This is what the trade-off modes cost in
   responsiveness; bench_monitoring.py reports what they cost in CPU.

Latency is time from the labelled change to the first sample in the new state; the nudge delay is time
from the start of a labelled poor interval to the first nudge inside it (it includes the nudge onset
delay, 45 s by default, on purpose: that is what the user experiences).

    python benchmarks/bench_latency.py [--minutes 10] [--modes balanced] [--no-long]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
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
    SAMPLES,
    fmt,
    isolated_env,
    labelled_clips,
    labels_of,
    long_clip,
    machine,
    posture_cmd,
    replace_section,
    rewrite_from_last,
    save_json,
    table,
)

CALIBRATION = (0.0, 8.0)


def evaluate_cli(work: Path) -> list[dict[str, Any]]:
    out = work / "evaluate.json"
    env = isolated_env(work / "env")
    proc = subprocess.run(posture_cmd("evaluate", "--all", str(SAMPLES), "--json", str(out)), env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"posture evaluate failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    print(proc.stdout, flush=True)
    return list(json.loads(out.read_text()))


def summarize_eval(e: dict[str, Any]) -> dict[str, Any]:
    lats = [c["latency"] for c in e["change_latency"] if c["latency"] is not None]
    missed = sum(1 for c in e["change_latency"] if c["latency"] is None)
    return {
        "name": e["name"],
        "accuracy": e["accuracy"],
        "balanced_accuracy": e["balanced_accuracy"],
        "changes": len(e["change_latency"]),
        "missed_changes": missed,
        "latency_mean": statistics.mean(lats) if lats else None,
        "latency_max": max(lats) if lats else None,
        "latencies": lats,
        "nudge_delays": e["nudge_delays"],
        "false_alarms": e["false_alarm_nudges"],
    }


def profile_baseline(clip: Path) -> Any:
    """The baseline `posture calibrate --source CLIP --start 0 --seconds 8` would save."""
    from calibration.session import capture
    from posture.person import default_finder
    from posture.sources import VideoFileSource

    video, finder = VideoFileSource(clip), default_finder()
    video.open()
    try:
        return capture(video, finder, seconds=CALIBRATION[1] - CALIBRATION[0], start=CALIBRATION[0])[0]
    finally:
        video.close()
        finder.close()


def monitor_eval(clip: Path, mode: str) -> dict[str, Any]:
    """The production monitor over `clip` on an accelerated clock, scored against the clip's labels."""
    from posture.clock import FakeClock
    from posture.companion import SourceSpec, build_monitor
    from posture.evaluation import evaluate, load_labels
    from posture.samples import Event, PostureSample
    from posture.settings import Settings

    settings = dataclasses.replace(Settings(), sampling_mode=mode)
    clock = FakeClock(monotonic_start=0.0)  # sample t = seconds into the clip, as the labels count
    # Calibrated up front from the clip's 0-8 s, as `posture calibrate` makes a profile: the monitor then
    # runs as it does every day, with a saved profile, rather than judging nothing until 8 s into the run.
    monitor = build_monitor(settings, SourceSpec(path=str(clip)), clock, profile_baseline(clip), None)
    samples: list[PostureSample] = []
    events: list[Event] = []
    monitor.on_sample(samples.append)
    monitor.on_event(events.append)
    c0 = time.process_time()
    try:
        monitor.run()
    finally:
        monitor.finder.close()
    cpu = time.process_time() - c0
    # Score from the end of the calibration span: judging the seconds the baseline was made from would flatter.
    labels = [dataclasses.replace(iv, start=max(iv.start, CALIBRATION[1]))
              for iv in load_labels(labels_of(clip)) if iv.end > CALIBRATION[1]]
    ev = evaluate(clip.name, samples, events, labels).to_json()
    out = summarize_eval(ev)
    span = samples[-1].t if samples else 0.0
    out.update(mode=mode, samples=len(samples), pose_runs=monitor.status.pose_runs,
               presence_checks=monitor.status.presence_checks, clip_s=round(span, 1),
               cpu_s=round(cpu, 1), calibrated=monitor.analyzer.baseline is not None)
    return out


def pooled(rows: list[dict[str, Any]]) -> dict[str, Any]:
    lats = [x for r in rows for x in r["latencies"]]
    nudges = [x for r in rows for x in r["nudge_delays"]]
    scored = [r for r in rows if r["balanced_accuracy"] == r["balanced_accuracy"]]  # not NaN
    return {
        "changes": sum(r["changes"] for r in rows),
        "missed_changes": sum(r["missed_changes"] for r in rows),
        "latency_mean": statistics.mean(lats) if lats else None,
        "latency_median": statistics.median(lats) if lats else None,
        "latency_max": max(lats) if lats else None,
        "nudge_delay_mean": statistics.mean(nudges) if nudges else None,
        "nudges": len(nudges),
        "false_alarms": sum(r["false_alarms"] for r in rows),
        "balanced_accuracy_mean": statistics.mean(r["balanced_accuracy"] for r in scored) if scored else None,
        "samples": sum(r.get("samples", 0) for r in rows),
        "pose_runs": sum(r.get("pose_runs") or 0 for r in rows),
        "clip_s": sum(r.get("clip_s", 0) for r in rows),
    }


def report(data: dict[str, Any]) -> str:
    lines = ["## Latency and judgement", ""]
    cli = data.get("evaluate")
    if cli:
        lines += ["`posture evaluate --all sample_videos` (analysis pipeline, fixed 2 Hz, calibrated on 0–8 s):", ""]
        rows = [[r["name"], f"{100 * r['accuracy']:.0f} %", f"{100 * r['balanced_accuracy']:.0f} %",
                 f"{r['changes'] - r['missed_changes']}/{r['changes']}", fmt(r["latency_mean"], ".1f"),
                 fmt(r["latency_max"], ".1f"), ", ".join(f"{d:g}" for d in r["nudge_delays"]) or "–",
                 r["false_alarms"]] for r in cli]
        lines.append(table(["clip", "accuracy", "balanced acc.", "changes caught", "latency mean s", "latency max s",
                            "nudge delays s", "false-alarm nudges"], rows))
        p = data["evaluate_pooled"]
        lines += ["", f"Pooled: state-change latency mean {fmt(p['latency_mean'], '.1f')} s, median "
                  f"{fmt(p['latency_median'], '.1f')} s, max {fmt(p['latency_max'], '.1f')} s "
                  f"({p['changes'] - p['missed_changes']}/{p['changes']} changes reached); nudge delay mean "
                  f"{fmt(p['nudge_delay_mean'], '.1f')} s over {p['nudges']} poor intervals "
                  "(includes the 45 s onset delay); "
                  f"{p['false_alarms']} nudges during labelled good posture.", ""]
    modes = data.get("modes")
    if modes:
        lines += ["The monitor per sampling mode (adaptive sampling, motion gate, presence checks, coach; "
                  f"accelerated clock; all labelled clips{' + the long clip' if data.get('long_clip') else ''}; "
                  "calibrated up front from each clip's 0–8 s like a saved profile, scored from 8 s on):", ""]
        rows = []
        for mode, p in modes.items():
            rows.append([mode, fmt(p["latency_mean"], ".1f"), fmt(p["latency_median"], ".1f"), fmt(p["latency_max"], ".1f"),
                         f"{p['changes'] - p['missed_changes']}/{p['changes']}", fmt(p["nudge_delay_mean"], ".1f"),
                         p["false_alarms"], f"{100 * p['balanced_accuracy_mean']:.0f} %"
                         if p["balanced_accuracy_mean"] is not None else "–",
                         f"{60 * p['samples'] / p['clip_s']:.0f}" if p["clip_s"] else "–",
                         f"{60 * p['pose_runs'] / p['clip_s']:.1f}" if p["clip_s"] else "–"])
        lines.append(table(["mode", "latency mean s", "median s", "max s", "changes caught", "nudge delay mean s",
                            "false-alarm nudges", "balanced acc. (mean over clips)", "samples/min", "pose runs/min"],
                           rows))
        fast, mid = modes.get("responsive") or {}, modes.get("balanced") or {}
        if (fast.get("latency_max") or 0) > (mid.get("latency_max") or 0):
            lines += ["", f"Responsive's worst change ({fast['latency_max']:.1f} s) is slower than balanced's "
                      f"({mid['latency_max']:.1f} s). Sampling faster does not always help: a pose taken in the middle "
                      "of a slow movement becomes the motion gate's reference, and the rest of the movement can stay "
                      "under the gate's whole-frame threshold for a few seconds; and the state tracker, smoothing per "
                      "sample, passes through 'drifting' on its way from 'good' to 'poor' when samples are dense."]
        per_clip = data.get("per_clip", {})
        if per_clip:
            lines += ["", "<details><summary>per clip and mode</summary>", ""]
            rows = [[r["name"], r["mode"], f"{100 * r['balanced_accuracy']:.0f} %"
                     if r["balanced_accuracy"] == r["balanced_accuracy"] else "–",
                     fmt(r["latency_mean"], ".1f"), f"{r['changes'] - r['missed_changes']}/{r['changes']}",
                     ", ".join(f"{d:g}" for d in r["nudge_delays"]) or "–", r["false_alarms"], r["samples"],
                     r["pose_runs"], "yes" if r["calibrated"] else "**no**"]
                    for rs in per_clip.values() for r in rs]
            lines.append(table(["clip", "mode", "balanced acc.", "latency mean s", "changes", "nudge delays s",
                                "false alarms", "samples", "pose runs", "calibrated"], rows))
            lines += ["", "</details>"]
    lines += ["", f"Machine: {data['machine']}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--modes", nargs="*", default=["battery", "balanced", "responsive"])
    ap.add_argument("--no-long", action="store_true", help="leave the long clip out of the per-mode runs")
    ap.add_argument("--no-cli", action="store_true", help="skip `posture evaluate --all`")
    ap.add_argument("--report-only", action="store_true", help="rewrite RESULTS.md from the last results")
    args = ap.parse_args(argv)
    if args.report_only:
        return rewrite_from_last("latency", report)
    data: dict[str, Any] = {"machine": machine(), "modes": {}, "per_clip": {}, "long_clip": not args.no_long}
    clips = labelled_clips()
    if not clips:
        print("no labelled clips in sample_videos/: run `make samples` first", file=sys.stderr)
        return 1
    if not args.no_cli:
        with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp:
            print("posture evaluate --all sample_videos …", flush=True)
            cli = [summarize_eval(e) for e in evaluate_cli(Path(tmp))]
        data["evaluate"] = cli
        data["evaluate_pooled"] = pooled(cli)
    if not args.no_long:
        clips = [*clips, long_clip(args.minutes)]
    for mode in args.modes:
        rows = []
        for clip in clips:
            r = monitor_eval(clip, mode)
            rows.append(r)
            print(f"{mode:>10} {clip.name:<28} latency {fmt(r['latency_mean'], '.1f')} s, "
                  f"{r['changes'] - r['missed_changes']}/{r['changes']} changes, nudges {r['nudge_delays']}, "
                  f"{r['pose_runs']} pose runs, calibrated {r['calibrated']}", flush=True)
        data["per_clip"][mode] = rows
        data["modes"][mode] = pooled(rows)
    save_json("latency", data)
    replace_section("latency", report(data))
    print(report(data))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
