"""`posture exercise analyze SOURCE --json OUT`: the repetitions of each neck and shoulder movement in a
recording (count; each repetition's start, peak and end time; its peak value)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from posture.args import Subparsers
from posture.cli.common import Progress, positive_float
from posture.errors import UserError
from posture.exercise.movements import FREE_DEFAULT, MOVEMENTS, PRIORITY


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "exercise",
        help="find neck and shoulder exercise repetitions in a recording",
        description="Tools for camera-coached breaks.",
    )
    inner = p.add_subparsers(dest="exercise_command", metavar="ACTION")
    a = inner.add_parser(
        "analyze",
        help="count the repetitions of each movement in a video or image folder",
        description="Find chin tucks, slow turns, side bends, shoulder rolls and shoulder-blade squeezes in a "
        "recorded source and report, per movement, the count and each repetition's start, peak and end.",
    )
    a.add_argument("source", help="video file, raw .264 stream, folder or glob of images")
    a.add_argument("--json", metavar="OUT", type=Path, help="write the repetitions as JSON to OUT ('-' for stdout)")
    a.add_argument("--rate", type=positive_float, default=8.0, metavar="HZ",
                   help="frames analysed per second (default 8)")
    a.add_argument("--fps-in", type=positive_float, default=25.0, metavar="FPS",
                   help="frame rate of an image sequence (default 25)")
    a.add_argument("--movement", action="append", choices=PRIORITY, metavar="NAME",
                   help=f"look for this movement (repeatable): {', '.join(PRIORITY)}; default: turn and "
                   "side_bend. Chin tucks, squeezes and shoulder rolls are only found when named, one at a time "
                   "works best (they move the same measures and are taken for one another)")
    a.add_argument("--facing-camera", action="store_true",
                   help="measure turns and side bends from facing the camera, instead of from the position held "
                   "in the first second (for clips that start in the middle of a movement)")
    a.add_argument("--quiet", action="store_true", help="print nothing but errors")
    a.set_defaults(func=run_analyze)
    p.set_defaults(func=lambda args: _no_action(p))


def _no_action(p: argparse.ArgumentParser) -> int:
    p.print_help(sys.stderr)
    return 2


def run_analyze(args: argparse.Namespace) -> int:
    from posture.exercise.analysis import analyze_exercise
    from posture.exercise.watch import fresh_fit, watch_models
    from posture.sources import WebcamSource, open_source

    if args.json is not None and str(args.json) != "-" and args.json.is_dir():
        raise UserError(f"--json {args.json} is a folder; give a file name")
    source = open_source(args.source, args.fps_in)
    if isinstance(source, WebcamSource):
        raise UserError("exercise analyze works on recordings; use 'posture break ROUTINE --watch' with a camera")
    movements = tuple(m for m in PRIORITY if m in (args.movement or FREE_DEFAULT))
    # Tracking on: consecutive frames of one person, a fraction of a second apart; squeezes alone are
    # found afresh in every frame (see make_watch_pose).
    pose, faces = watch_models(fresh_fit(movements))
    progress = Progress("analysing", enabled=None if not args.quiet else False)
    try:
        rest = {"turn": 0.0, "side_bend": 0.0} if args.facing_camera else None
        result = analyze_exercise(source, pose, args.rate, movements, progress, faces, rest)
    finally:
        pose.close()
        faces.close()
        progress.done()
    data = result.to_json()
    if args.json is not None:
        text = json.dumps(data, indent=1) + "\n"
        if str(args.json) == "-":
            sys.stdout.write(text)
        else:
            try:
                args.json.parent.mkdir(parents=True, exist_ok=True)
                args.json.write_text(text)
            except OSError as exc:
                raise UserError(f"cannot write {args.json} ({exc.strerror}); check the folder and free space") from exc
    if not args.quiet and str(args.json) != "-":
        print(_summary(result.to_json()))
    return 0


def _summary(data: dict[str, object]) -> str:
    lines = [f"{data['source']}: {data['frames_with_person']} of {data['frames_analysed']} frames show a person"]
    movements = data["movements"]
    assert isinstance(movements, dict)
    for key, m in movements.items():
        unit = MOVEMENTS[key].unit
        peaks = ""
        if m["peak_left"] is not None or m["peak_right"] is not None:
            peaks = "  peak left " + (f"{m['peak_left']:.0f}{unit}" if m["peak_left"] is not None else "-") \
                + ", right " + (f"{m['peak_right']:.0f}{unit}" if m["peak_right"] is not None else "-")
        elif m["peak_value"] is not None:
            peaks = f"  peak {m['peak_value']:.1f}{unit}"
        lines.append(f"  {m['name']:<24} {m['count']:>2}{peaks}")
    return "\n".join(lines)
