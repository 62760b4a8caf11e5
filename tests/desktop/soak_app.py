"""The soak's app: the tray companion on the bundled clip in a loop, accelerated (the recording's own
clock runs as fast as the machine allows), with the live view, the dashboard and a break window open.

Prints one JSON line per report: app time (s), RSS (KiB), sys.getrefcount(None), and which windows are
open; ends once `--minutes` of app time have passed (or `--max-wall` seconds of real time).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from posture.settings import Settings
from ui.app import build_companion

ROOT = Path(__file__).resolve().parents[2]


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--minutes", type=float, default=30.0)
    p.add_argument("--db", type=Path, required=True)
    p.add_argument("--report-s", type=float, default=2.0)
    p.add_argument("--max-wall", type=float, default=900.0)
    a = p.parse_args()
    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    args = argparse.Namespace(
        source=str(ROOT / "sample_videos" / "demo_session.mp4"), headless=False, realtime=False, loop=True,
        calibrate_from=(0.0, 8.0), profile=None, db=a.db, no_history=False, duration=None, start_time=None,
        fps_in=1.0, screenshot=None, quiet=True)
    # Nudges as often as the clip allows (each one glows), breaks on: everything a day brings, sped up.
    settings = replace(Settings(), onset_delay_s=5.0, cooldown_s=60.0, daily_nudge_cap=10_000, sound=False,
                       glow=True, notifications=True, breaks_enabled=True, micro_break_every_min=10.0)
    companion = build_companion(args, settings)
    counts: dict[str, int] = {}
    companion.notifier.shown.connect(lambda n: counts.__setitem__(n.kind, counts.get(n.kind, 0) + 1))
    companion.start()
    started = time.monotonic()
    state = {"opened": False, "closed": False}

    def report() -> None:
        app_t = companion.clock.monotonic()
        if not state["opened"] and companion.worker.monitor is not None:
            companion.open_live_view()
            companion.open_dashboard()
            companion.start_break("chin-tucks")
            state["opened"] = True
        # The break window stays open for two thirds of the soak (nudges are held back meanwhile);
        # the last third lets nudges, notices and the glow through.
        if state["opened"] and not state["closed"] and app_t >= a.minutes * 40:
            companion.breaks.close()
            state["closed"] = True
        line = {"wall": round(time.monotonic() - started, 2), "app_s": round(app_t, 1), "rss_kib": rss_kib(),
                "none": sys.getrefcount(None), "windows": sorted(companion.windows),
                "notices": dict(counts), "glowing": companion.notifier.glow.isVisible(),
                "alive": companion.worker.running}
        print(json.dumps(line), flush=True)
        if app_t >= a.minutes * 60 or time.monotonic() - started > a.max_wall:
            print(json.dumps({"done": app_t >= a.minutes * 60, "app_s": round(app_t, 1)}), flush=True)
            companion.quit()

    timer = QTimer()
    timer.timeout.connect(report)
    timer.start(int(a.report_s * 1000))
    try:
        return int(app.exec())
    finally:
        companion.shutdown()


if __name__ == "__main__":
    sys.exit(main())
