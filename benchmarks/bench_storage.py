"""History size: bytes per monitored hour, from a real accelerated monitor run.

The production monitor (adaptive sampling in the default balanced mode, motion gate, coach, breaks)
replays the 10-minute labelled clip in a loop on an accelerated clock for `--hours` (default 2, at least
1) and writes its history through the real `HistoryWriter` into a fresh SQLite file. Reported: the file
size once the writer has closed (WAL checkpointed), the fixed cost of an empty history file, bytes per
monitored hour, the projected 8-hour day (target ≤ 1 MB) and the rows per table; and what the safety
machinery costs: creating a new history file in one transaction (target ≤ 100 ms) and `posture history
repair` rebuilding the run's file (target ≤ 2 s).

    python benchmarks/bench_storage.py [--hours 2] [--mode balanced]
"""

from __future__ import annotations

import argparse
import dataclasses
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import load_json, long_clip, machine, replace_section, save_json, table  # noqa: E402

TARGET_DAY_BYTES = 1_000_000
TARGET_CREATE_S = 0.100
TARGET_REPAIR_S = 2.0
CALIBRATION = (0.0, 8.0)


def file_bytes(db: Path) -> int:
    # The database and its WAL / shared-memory files; not the one-writer lock file (a pid, not history).
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*") if not p.name.endswith(".lock"))


def run(hours: float, mode: str, clip: Path) -> dict[str, Any]:
    from calibration.services import span_builder
    from posture.clock import FakeClock
    from posture.companion import SourceSpec, build_monitor
    from posture.settings import Settings
    from posture.store.writer import HistoryWriter

    settings = dataclasses.replace(Settings(), sampling_mode=mode)
    with tempfile.TemporaryDirectory(prefix="bench-storage-") as tmp:
        empty = Path(tmp) / "empty.db"
        t = time.perf_counter()
        HistoryWriter(empty, FakeClock()).close()
        create_s = time.perf_counter() - t
        empty_bytes = file_bytes(empty)

        clock = FakeClock(monotonic_start=0.0)
        db = Path(tmp) / "history.db"
        writer = HistoryWriter(db, clock)
        monitor = build_monitor(settings, SourceSpec(path=str(clip), loop=True), clock, None, writer,
                                calibrate_span=CALIBRATION, build_baseline=span_builder(CALIBRATION))
        hourly: list[tuple[float, int]] = []
        next_h = [1.0]

        def on_sample(_: Any) -> None:
            if clock.monotonic() >= next_h[0] * 3600:
                hourly.append((next_h[0], file_bytes(db)))
                print(f"  {next_h[0]:g} h simulated: {file_bytes(db) / 1024:.0f} kB", flush=True)
                next_h[0] += 1.0

        monitor.on_sample(on_sample)
        started = time.monotonic()
        try:
            monitor.run(max_seconds=hours * 3600)
        finally:
            writer.close()
            monitor.finder.close()
        total = file_bytes(db)
        conn = sqlite3.connect(db)
        try:
            rows = {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                    for t in ("spans", "minutes", "minute_reasons", "events")}
            page = conn.execute("PRAGMA page_size").fetchone()[0]
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        finally:
            conn.close()
        from posture.store.repair import repair_history

        t = time.perf_counter()
        repaired = repair_history(db)
        repair_s = time.perf_counter() - t
        assert repaired.recovered.get("spans") == rows["spans"], "repair of a healthy file must keep every row"
    monitored_h = clock.monotonic() / 3600
    per_hour = (total - empty_bytes) / monitored_h
    return {
        "mode": mode,
        "clip": clip.name,
        "hours": round(monitored_h, 3),
        "bytes": total,
        "empty_bytes": empty_bytes,
        "bytes_per_hour": per_hour,
        "day_bytes": empty_bytes + 8 * per_hour,
        "rows": rows,
        "page_size": page,
        "pages": pages,
        "free_pages": free,
        "samples": monitor.status.samples,
        "hourly": hourly,
        "wall_s": round(time.monotonic() - started, 1),
        "create_s": create_s,
        "repair_s": repair_s,
    }


def report(d: dict[str, Any]) -> str:
    met = d["day_bytes"] <= TARGET_DAY_BYTES
    lines = [
        "## History storage",
        "",
        f"`benchmarks/bench_storage.py`: the production monitor ({d['mode']} mode, adaptive sampling) replaying "
        f"{d['clip']} in a loop for **{d['hours']:g} simulated hours** on an accelerated clock, history written "
        f"by the real `HistoryWriter`; {d['samples']} samples stored as merged spans and per-minute aggregates.",
        "",
        table(["measure", "value"], [
            ["history file after the run (WAL checkpointed)", f"{d['bytes']:,} B"],
            ["empty history file (schema only)", f"{d['empty_bytes']:,} B"],
            ["bytes per monitored hour (beyond the empty file)", f"{d['bytes_per_hour']:,.0f} B"],
            ["projected 8-hour day", f"{d['day_bytes'] / 1e6:.3f} MB ({'meets' if met else 'MISSES'} ≤ 1 MB)"],
            ["rows: spans / minutes / minute_reasons / events",
             " / ".join(str(d["rows"][t]) for t in ("spans", "minutes", "minute_reasons", "events"))],
            ["pages (size) / free", f"{d['pages']} ({d['page_size']} B) / {d['free_pages']}"],
            ["creating a new history file (one transaction)",
             f"{d['create_s'] * 1000:.1f} ms ({'meets' if d['create_s'] <= TARGET_CREATE_S else 'MISSES'} ≤ 100 ms)"],
            ["`posture history repair` of this file",
             f"{d['repair_s']:.2f} s ({'meets' if d['repair_s'] <= TARGET_REPAIR_S else 'MISSES'} ≤ 2 s)"],
        ]),
    ]
    mem = load_json("memory")
    if mem and mem.get("db_bytes_per_hour"):
        lines += ["", f"Densest case, from bench_memory.py ({mem['hours']:g} h at a fixed 1 Hz): "
                  f"{mem['db_bytes']:,} B, {mem['db_bytes_per_hour']:,.0f} B per hour, "
                  f"{8 * mem['db_bytes_per_hour'] / 1e6:.3f} MB per 8-hour day."]
    lines += ["", f"Machine: {d['machine']}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--hours", type=float, default=2.0, help="simulated hours to monitor (default 2)")
    ap.add_argument("--mode", default="balanced", choices=["battery", "balanced", "responsive"])
    ap.add_argument("--minutes", type=float, default=10.0, help="length of the looped clip")
    args = ap.parse_args(argv)
    clip = long_clip(args.minutes)
    print(f"{args.hours:g} simulated hours, {args.mode} mode, on {clip.name}", flush=True)
    d = run(args.hours, args.mode, clip)
    d["machine"] = machine()
    save_json("storage", d)
    replace_section("storage", report(d))
    print(report(d))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
