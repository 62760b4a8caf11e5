"""Memory over a working day: does an 8-hour run stay flat?

The production monitor (`build_monitor`: MediaPipe, motion gate, coach, break scheduler, effect tracker)
runs in this process on an accelerated `FakeClock`, replaying the 10-minute clip in a loop
(`ReplaySource(loop=True)`, so every frame of the day is grabbed exactly as in real time) with one sample
a second (`fixed_interval_s=1.0`, the densest the app samples for long) and the real `HistoryWriter` on a
temporary database. Resident memory (VmRSS) is recorded every simulated 15 minutes.

Growth = RSS at the end minus RSS at the first checkpoint (15 min, once MediaPipe and the caches have
warmed up); the target is at most 20 MB over 8 hours. A least-squares slope over the checkpoints is
reported too, so a slow leak shows even when the end point happens to be low.

This takes a while (8 h of video is 864,000 frames to grab): progress is printed at each checkpoint.

    python benchmarks/bench_memory.py [--hours 8] [--every-min 15] [--minutes 10]
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import (  # noqa: E402
    ProcWatch,
    fmt,
    long_clip,
    machine,
    replace_section,
    rss_mb,
    save_json,
    table,
)

TARGET_GROWTH_MB = 20.0
CALIBRATION = (0.0, 8.0)


def slope_mb_per_hour(points: list[tuple[float, float]]) -> float | None:
    if len(points) < 3:
        return None
    n = len(points)
    mx = sum(h for h, _ in points) / n
    my = sum(r for _, r in points) / n
    den = sum((h - mx) ** 2 for h, _ in points)
    return sum((h - mx) * (r - my) for h, r in points) / den if den else None


def run(hours: float, every_min: float, clip: Path, mode: str = "balanced") -> dict[str, Any]:
    from calibration.services import span_builder
    from posture.clock import FakeClock
    from posture.companion import SourceSpec, build_monitor
    from posture.settings import Settings
    from posture.store.writer import HistoryWriter

    settings = dataclasses.replace(Settings(), sampling_mode=mode)
    clock = FakeClock(monotonic_start=0.0)
    checkpoints: list[dict[str, Any]] = []
    started = time.monotonic()
    watch = ProcWatch()
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        db = Path(tmp) / "history.db"
        writer = HistoryWriter(db, clock)
        monitor = build_monitor(settings, SourceSpec(path=str(clip), loop=True), clock, None, writer,
                                calibrate_span=CALIBRATION, fixed_interval_s=1.0,
                                build_baseline=span_builder(CALIBRATION))
        rss0 = rss_mb()
        every = every_min * 60.0
        next_at = [every]

        def on_sample(_: Any) -> None:
            sim = clock.monotonic()
            if sim < next_at[0]:
                return
            next_at[0] += every
            s = watch.sample()
            elapsed = time.monotonic() - started
            cp = {"sim_h": round(sim / 3600, 3), "rss_mb": round(s.rss_mb, 1), "hwm_mb": round(s.hwm_mb, 1),
                  # The main file only: the WAL grows to ~4 MB between SQLite's automatic checkpoints.
                  "db_kb": round(db.stat().st_size / 1024, 1),
                  "wall_s": round(elapsed, 1), "cpu_s": round(s.cpu_s, 1), "samples": monitor.status.samples,
                  "pose_runs": monitor.status.pose_runs, "gc_objects": len(gc.get_objects())}
            checkpoints.append(cp)
            eta = elapsed / sim * (hours * 3600 - sim)
            print(f"  {sim / 3600:5.2f} h simulated: RSS {s.rss_mb:6.1f} MB (peak {s.hwm_mb:.1f}), "
                  f"{monitor.status.samples} samples, {monitor.status.pose_runs} pose runs, "
                  f"{elapsed / 60:.1f} min elapsed, ~{eta / 60:.0f} min to go", flush=True)

        monitor.on_sample(on_sample)
        try:
            monitor.run(max_seconds=hours * 3600)
        finally:
            writer.close()
            monitor.finder.close()
        db_bytes = db.stat().st_size
    first = checkpoints[0] if checkpoints else None
    last = checkpoints[-1] if checkpoints else None
    growth = last["rss_mb"] - first["rss_mb"] if first and last else None
    return {
        "hours": hours,
        "mode": mode,
        "clip": clip.name,
        "rss_before_mb": round(rss0, 1),
        "checkpoints": checkpoints,
        "growth_mb": growth,
        "max_minus_min_after_first_mb": (max(c["rss_mb"] for c in checkpoints) - min(c["rss_mb"] for c in checkpoints))
        if checkpoints else None,
        "slope_mb_per_h": slope_mb_per_hour([(c["sim_h"], c["rss_mb"]) for c in checkpoints]),
        "peak_rss_mb": max((c["hwm_mb"] for c in checkpoints), default=None),
        "db_bytes": db_bytes,
        "db_bytes_per_hour": db_bytes / hours if hours else None,
        "wall_s": round(time.monotonic() - started, 1),
        "samples": checkpoints[-1]["samples"] if checkpoints else 0,
        "pose_runs": checkpoints[-1]["pose_runs"] if checkpoints else 0,
        "loops": None,
    }


def report(d: dict[str, Any]) -> str:
    cps = d["checkpoints"]
    growth = d["growth_mb"]
    met = growth is not None and abs(growth) <= TARGET_GROWTH_MB
    lines = [
        "## Memory over an 8-hour accelerated run",
        "",
        f"`benchmarks/bench_memory.py`: the production monitor in-process on an accelerated clock, replaying "
        f"the {d['clip']} clip in a loop for **{d['hours']:g} simulated hours**, one sample a second "
        f"(`fixed_interval_s=1.0`), history written to a temporary SQLite file; RSS every 15 simulated "
        f"minutes. Took {d['wall_s'] / 60:.0f} min of wall time; {d['samples']} samples, {d['pose_runs']} pose runs.",
        "",
        f"- Growth from the first checkpoint to the last: **{fmt(growth, '+.1f')} MB** "
        f"(target within ±{TARGET_GROWTH_MB:g} MB: {'met' if met else 'NOT met'}).",
        f"- Spread (max − min over all checkpoints): {fmt(d['max_minus_min_after_first_mb'], '.1f')} MB; "
        f"least-squares slope {fmt(d['slope_mb_per_h'], '+.2f')} MB per hour.",
        f"- Peak RSS of the process: {fmt(d['peak_rss_mb'], '.0f')} MB (in-process, includes the benchmark itself).",
        f"- History file after {d['hours']:g} h at 1 Hz: {d['db_bytes'] / 1024:.0f} kB "
        f"({d['db_bytes_per_hour'] / 1024:.1f} kB per monitored hour).",
        "",
    ]
    shown = cps if len(cps) <= 12 else [*cps[::max(1, len(cps) // 12)], cps[-1]]
    lines.append(table(["simulated h", "RSS MB", "peak MB", "history kB (main file)", "samples", "pose runs",
                        "wall min"],
                       [[f"{c['sim_h']:.2f}", c["rss_mb"], c["hwm_mb"], c["db_kb"], c["samples"], c["pose_runs"],
                         f"{c['wall_s'] / 60:.1f}"] for c in shown]))
    lines += ["", f"Machine: {d['machine']}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--hours", type=float, default=8.0, help="simulated hours (default 8)")
    ap.add_argument("--every-min", type=float, default=15.0, help="simulated minutes between RSS readings")
    ap.add_argument("--minutes", type=float, default=10.0, help="length of the looped clip")
    args = ap.parse_args(argv)
    clip = long_clip(args.minutes)
    print(f"{args.hours:g} simulated hours on {clip.name}, RSS every {args.every_min:g} simulated min", flush=True)
    d = run(args.hours, args.every_min, clip)
    d["machine"] = machine()
    save_json("memory", d)
    replace_section("memory", report(d))
    print(report(d))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
