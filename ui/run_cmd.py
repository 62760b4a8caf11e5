"""`posture run`: the tray companion, or with --headless the same monitor without any window."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from posture.args import Subparsers, parse_span, parse_start_time, positive_float


def register(sub: Subparsers) -> None:
    p = sub.add_parser("run", help="start the companion (tray app), or the headless monitor with --headless")
    p.add_argument("--source", help="camera index, or a video / image folder to replay as if it were a camera")
    p.add_argument("--headless", action="store_true", help="no window: print state changes, nudges and breaks")
    p.add_argument("--realtime", action="store_true",
                   help="replay a recording at its real speed, like a live camera (default: as fast as possible)")
    p.add_argument("--loop", action="store_true", help="replay the recording in a loop")
    p.add_argument("--calibrate-from", type=parse_span, metavar="START:END",
                   help="build the baseline from this span of the source (seconds)")
    p.add_argument("--profile", help="calibration profile to use (default: the active one)")
    p.add_argument("--db", type=Path, help="history database (default: the user data dir)")
    p.add_argument("--no-history", action="store_true", help="do not write history")
    p.add_argument("--duration", type=positive_float, metavar="S", help="stop after this many seconds")
    p.add_argument("--start-time", type=parse_start_time, metavar="ISO",
                   help="wall time of the recording's start (accelerated replays)")
    p.add_argument("--fps-in", type=positive_float, default=1.0, help="frame rate of an image sequence")
    p.add_argument("--screenshot", type=Path, metavar="PNG",
                   help="headless: afterwards save the dashboard of the recorded history to this file")
    p.add_argument("--quiet", action="store_true", help="print only warnings and the final line")
    p.set_defaults(func=run)


def has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM") in ("offscreen", "minimal"):
        return False
    if os.name == "nt" or os.uname().sysname == "Darwin":
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run(args: argparse.Namespace) -> int:
    from calibration.services import resolve_baseline, span_builder
    from posture.errors import ConfigError, UserError
    from posture.headless import check_args, run_headless
    from posture.settings import load_settings

    check_args(args)
    loaded = load_settings()
    for problem in loaded.problems:
        print(f"warning: {problem}")
    if args.headless or not has_display():
        if not args.headless:
            print("no display found: running headless (state changes, nudges and breaks are printed here)")
        try:
            baseline = resolve_baseline(args.profile, args.calibrate_from)
        except ConfigError as exc:
            raise UserError(str(exc)) from exc
        builder = span_builder(args.calibrate_from) if args.calibrate_from else None
        rc = run_headless(args, loaded.settings, baseline, builder)
        if args.screenshot:
            from ui.dashboard_cmd import save_dashboard_screenshot

            save_dashboard_screenshot(args.db, args.screenshot)
            print(f"dashboard screenshot saved to {args.screenshot}")
        return rc
    from ui.app import run_app

    return run_app(args, loaded.settings)
