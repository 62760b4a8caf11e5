"""Run every benchmark in turn and rewrite benchmarks/RESULTS.md (what `make bench` does).

Each `benchmarks/bench_*.py` runs as its own process (so one's memory and MediaPipe threads never
colour another's numbers) and rewrites its own `<!-- name -->` block of RESULTS.md. Afterwards the
summary block at the top is rebuilt from their JSON results in out/bench/: metric, target, measured,
met, and, where a target is missed, why.

    python benchmarks/run_all.py                  # everything, about an hour on 2 cores
    python benchmarks/run_all.py --quick          # shortened runs to check the scripts work
    python benchmarks/run_all.py --only latency analyze
    python benchmarks/run_all.py --summary-only   # rebuild the summary from the last results
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import BENCH_DIR, fmt, load_json, machine, replace_section, table  # noqa: E402

# Ours first, in an order where later ones can quote earlier ones (storage quotes memory).
ORDER = ["monitoring", "analyze", "latency", "memory", "storage"]
QUICK: dict[str, list[str]] = {
    "monitoring": ["--minutes", "2", "--modes", "balanced", "--naive-seconds", "30", "--settle", "5",
                   "--realtime-breakdown", "0"],
    "analyze": ["--minutes", "2"],
    "latency": ["--minutes", "2", "--modes", "balanced"],
    "memory": ["--minutes", "2", "--hours", "0.5", "--every-min", "5"],
    "storage": ["--minutes", "2", "--hours", "0.25"],
    "camera": ["--seconds", "30", "--modes", "balanced"],
}


def scripts() -> list[tuple[str, Path]]:
    found = {p.stem.removeprefix("bench_"): p for p in sorted(BENCH_DIR.glob("bench_*.py"))}
    ordered = [n for n in ORDER if n in found] + sorted(n for n in found if n not in ORDER)
    return [(n, found[n]) for n in ordered]


def run_script(name: str, path: Path, extra: list[str]) -> tuple[int, float]:
    print(f"\n=== {name}: {path.name} {' '.join(extra)}", flush=True)
    t0 = time.monotonic()
    rc = subprocess.call([sys.executable, str(path), *extra], cwd=ROOT)
    elapsed = time.monotonic() - t0
    print(f"=== {name}: {'ok' if rc == 0 else f'FAILED ({rc})'} in {elapsed / 60:.1f} min", flush=True)
    return rc, elapsed


def yes(ok: bool | None) -> str:
    return "–" if ok is None else ("**yes**" if ok else "**no**")


def summary() -> str:
    mon, ana, lat = load_json("monitoring"), load_json("analyze"), load_json("latency")
    mem, sto = load_json("memory"), load_json("storage")
    rows: list[list[Any]] = []
    why: list[str] = []

    bal = ((mon or {}).get("modes") or {}).get("balanced") or {}
    cpu = bal.get("cpu_pct")
    naive = ((mon or {}).get("naive") or {}).get("cpu_pct")
    decode = ((mon or {}).get("decode") or {}).get("cpu_pct")
    runs = [r.get("modes", {}).get("balanced") for r in (mon or {}).get("history", [])]
    runs = [r for r in runs if r is not None]
    met: str = yes(cpu <= 3.0 if cpu is not None else None)
    spread = ""
    if len(runs) > 1:
        spread = f"; runs on this machine: {', '.join(f'{r:.2f} %' for r in runs)}"
        if cpu is not None and cpu <= 3.0 and max(runs) > 3.0:
            met = "**borderline**"
    rows.append(["Monitoring CPU, balanced (default), incl. decoding", "≤ 3 % of one core (naive ≈ 84 %)",
                 f"{fmt(cpu, '.2f')} %" + (f" (naive {naive:.0f} %, {naive / cpu:.0f}× more)" if cpu and naive else "")
                 + spread, met])
    for mode in ("battery", "responsive"):
        r = ((mon or {}).get("modes") or {}).get(mode) or {}
        if r.get("cpu_pct") is not None:
            rows.append([f"Monitoring CPU, {mode}", "(trade-off)", f"{r['cpu_pct']:.2f} %", ""])
    if decode is not None:
        rows.append(["Decoding alone (grab() every frame, 30 fps)", "reference ≈ 1.75 %", f"{decode:.2f} %", ""])
    if cpu is not None and (cpu > 3.0 or (runs and max(runs) > 3.0)) and mon:
        bd = mon.get("breakdown_realtime") or mon.get("breakdown")
        text = (f"Monitoring CPU is {'over' if cpu > 3.0 else 'at the edge of'} 3 % "
                f"({', '.join(f'{r:.2f} %' for r in runs) or f'{cpu:.2f} %'} over the runs).")
        if bd:
            top = sorted(bd["parts_pct"].items(), key=lambda kv: -kv[1])[:3]
            text += (f" Where it goes ({'real time' if bd.get('realtime') else 'accelerated'}, {bd['total_pct']:.2f} % "
                     "in all): " + ", ".join(f"{k} {v:.2f} %" for k, v in top) + ".")
        dt = mon.get("decode_threads")
        if dt:
            text += (f" Replaying the 30 fps clip means decoding every frame, about half the total; decoding it on one "
                     f"thread instead of FFmpeg's frame threads costs {dt['one_thread_pct']:.2f} % instead of "
                     f"{dt['default_pct']:.2f} % (a change proposed for `ReplaySource`). A real webcam has no such floor: "
                     "frames between samples stay in its driver, never decoded (see the camera block).")
        if decode is not None:
            text += (f" This machine is slower per unit of work than the issue's reference: decoding alone costs "
                     f"{decode:.2f} % here against ≈ 1.75 %, the naive loop {fmt(naive, '.0f')} % against ≈ 84 %.")
        why.append(text)

    head = (ana or {}).get("headline") or {}
    x_wall, x_cpu = head.get("x_realtime_wall"), head.get("x_realtime_cpu_steady")
    if head:
        rows.append([f"`posture analyze --rate 2` throughput ({head['clip']})", "≥ 30× real time",
                     f"{x_wall:.1f}× wall end to end; {fmt(head.get('x_realtime_wall_steady'), '.1f')}× wall "
                     f"without start-up; {fmt(x_cpu, '.1f')}× per CPU second",
                     yes(x_wall >= 30) if x_wall is not None else "–"])
        if x_wall is not None and x_wall < 30:
            why.append(f"Analyze wall-clock throughput {x_wall:.1f}× < 30×: the cores are shared (wall time includes "
                       f"waiting for them) and start-up costs {ana['startup']['wall_s']:.1f} s; per CPU second it "
                       f"is {fmt(x_cpu, '.1f')}× ({fmt(head.get('cpu_ms_per_sample'), '.1f')} ms CPU per sample).")

    rss = [r.get("peak_rss_mb") for r in ((mon or {}).get("modes") or {}).values() if r.get("peak_rss_mb")]
    if rss:
        rows.append(["Peak RSS, `posture run --headless`", "≤ 350 MB", f"{max(rss):.0f} MB", yes(max(rss) <= 350)])
    if mem:
        g = mem.get("growth_mb")
        rows.append([f"Memory growth over {mem['hours']:g} h (accelerated, 1 s steps)", "flat within 20 MB",
                     f"{fmt(g, '+.1f')} MB (slope {fmt(mem.get('slope_mb_per_h'), '+.2f')} MB/h)",
                     yes(abs(g) <= 20 if g is not None else None)])
    if sto:
        rows.append([f"History per 8-hour day ({sto['mode']}, {sto['hours']:g} h run)", "≤ 1 MB",
                     f"{sto['day_bytes'] / 1e6:.3f} MB ({sto['bytes_per_hour']:,.0f} B/h)",
                     yes(sto["day_bytes"] <= 1e6)])
    starts = [r.get("startup_wall_s") for r in ((mon or {}).get("modes") or {}).values() if r.get("startup_wall_s")]
    cpu_starts = [r.get("startup_cpu_s") for r in ((mon or {}).get("modes") or {}).values() if r.get("startup_cpu_s")]
    if starts:
        rows.append(["Start-up to the first sample (`posture run --headless`)", "(report)",
                     f"{min(starts):.1f}–{max(starts):.1f} s wall, {fmt(min(cpu_starts, default=None), '.1f')} s CPU", ""])
    if lat and lat.get("evaluate_pooled"):
        p = lat["evaluate_pooled"]
        rows.append(["State-change latency, `posture evaluate --all` (2 Hz)", "(report)",
                     f"mean {fmt(p['latency_mean'], '.1f')} s, max {fmt(p['latency_max'], '.1f')} s", ""])
    if lat and lat.get("modes", {}).get("balanced"):
        p = lat["modes"]["balanced"]
        rows.append(["State-change latency / nudge delay, monitor (balanced)", "(report)",
                     f"{fmt(p['latency_mean'], '.1f')} s / {fmt(p['nudge_delay_mean'], '.1f')} s "
                     "(nudge includes the 45 s onset delay)", ""])

    # The budget as the judgement issue states it: a steady upright user at the desk, through a webcam (no file
    # to decode), in daylight and under the evening lamp (bench_monitoring.py's simulated-webcam breakdowns).
    for key, light in (("breakdown_camera_upright", "daylight"), ("breakdown_camera_upright_dim", "evening lamp")):
        still = (mon or {}).get(key) or {}
        if still.get("total_pct") is not None:
            rows.append([f"Steady upright user, simulated webcam, balanced, {light}", "≤ 3 % of one core",
                         f"{still['total_pct']:.2f} % ({still.get('pose_runs', '–')} fresh looks in "
                         f"{still.get('clip_s', 0):.0f} s)", yes(still["total_pct"] <= 3.0)])
    for name in ("conditions-legacy-py3.11", "conditions-tasks-py3.13"):
        cond = load_json(name)
        if cond and cond.get("runs"):
            runs_met = sum(1 for r in cond["runs"] if r.get("meets_targets"))
            rows.append([f"Webcam conditions, {cond.get('backend', name)} backend ({cond.get('date', '?')}, "
                         f"{cond.get('rate_hz', '?')} Hz)", "every condition × clip: balanced accuracy ≥ 0.95, no false nudge",
                         f"{runs_met}/{len(cond['runs'])} runs", yes(runs_met == len(cond["runs"]))])

    cam = ((load_json("camera") or {}).get("modes") or {}).get("balanced")
    if cam:
        rows.append(["Live path on a simulated 30 fps 640×480 webcam, balanced, incl. capture", "≤ 3 % of one core",
                     f"{cam['cpu_pct']:.2f} %", yes(cam["cpu_pct"] <= 3.0)])
    lines = ["## Summary", "", table(["metric", "target", "measured", "met?"], rows)]
    modes = ((mon or {}).get("modes") or {})
    lmodes = (lat or {}).get("modes") or {}
    if modes or lmodes:
        trade = []
        for mode in ("battery", "balanced", "responsive"):
            c = (modes.get(mode) or {}).get("cpu_pct")
            m = lmodes.get(mode) or {}
            if c is None and not m:
                continue
            trade.append([mode, f"{fmt(c, '.2f')} %", fmt(m.get("latency_mean"), ".1f"), fmt(m.get("latency_max"), ".1f"),
                          fmt(m.get("nudge_delay_mean"), ".1f"),
                          f"{100 * m['balanced_accuracy_mean']:.0f} %" if m.get("balanced_accuracy_mean") else "–"])
        lines += ["", "Trade-off settings (`sampling_mode`): what each costs.", "",
                  table(["mode", "CPU (% of one core, real time)", "state-change latency mean s", "max s",
                         "nudge delay mean s", "balanced accuracy"], trade)]
    if why:
        lines += ["", "Where a target is missed:", ""] + [f"- {w}" for w in why]
    lines += ["", "CPU figures are CPU seconds of our process (all threads) per wall second, read from /proc, so "
              "they do not grow when the shared machine is busy; wall-clock figures do.",
              "", f"Machine: {machine()}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="short runs (2-minute clip, 0.5 h memory run)")
    ap.add_argument("--only", nargs="*", help="benchmark names to run (monitoring, analyze, latency, …)")
    ap.add_argument("--skip", nargs="*", default=[], help="benchmark names to leave out")
    ap.add_argument("--summary-only", action="store_true")
    args = ap.parse_args(argv)
    failed: list[str] = []
    if not args.summary_only:
        for name, path in scripts():
            if (args.only and name not in args.only) or name in args.skip:
                continue
            rc, _ = run_script(name, path, QUICK.get(name, []) if args.quick else [])
            if rc != 0:
                failed.append(name)
    replace_section("summary", summary(), top=True)
    print("\n" + summary())
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
