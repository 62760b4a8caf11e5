"""`posture analyze SOURCE`: metrics, score and state for every sample of a clip, without any window."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from posture.args import Subparsers
from posture.cli.common import Progress, parse_span, parse_start_time, positive_float
from posture.errors import UserError
from posture.metrics import METRIC_NAMES
from posture.pipeline import AnalysisResult


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "analyze",
        help="analyse a video, image folder or camera and print posture metrics",
        description="Analyse a recorded source (video file, raw .264 stream, folder or glob of images).",
    )
    add_source_args(p)
    p.add_argument("--json", metavar="FILE", type=Path, help="write every sample and event as JSON")
    p.add_argument("--csv", metavar="FILE", type=Path, help="write one row per sample as CSV")
    p.add_argument("--record", action="store_true", help="also write the samples and events into the history")
    p.add_argument("--db", type=Path, help="history database (default: the user data dir)")
    p.add_argument(
        "--start-time", type=parse_start_time, default=None, metavar="ISO",
        help="wall-clock time of the clip's first frame, e.g. 2026-11-20T09:00 (default: now)",
    )
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.add_argument("--force", action="store_true",
                   help="overwrite --json/--csv files that are not earlier outputs (never the history or the input)")
    p.set_defaults(func=run)


def add_source_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", help="video file, folder or glob of images")
    p.add_argument("--rate", type=positive_float, default=2.0, metavar="HZ", help="samples per second (default 2)")
    p.add_argument("--fps-in", type=positive_float, default=1.0, metavar="FPS",
                   help="frame rate of an image sequence (default 1)")
    p.add_argument("--calibrate-from", type=parse_span, metavar="START:END",
                   help="use this span of the source (seconds) as the upright baseline")
    p.add_argument("--profile", help="judge against this saved calibration profile")
    p.add_argument("--sensitivity", choices=("low", "medium", "high"), help="override the settings' sensitivity")
    p.add_argument("--onset-delay", type=float, metavar="S", help="override the nudge onset delay (seconds)")


def run_analysis(args: argparse.Namespace, progress_label: str | None = "analysing") -> AnalysisResult:
    """Shared by analyze and evaluate: open the source, resolve the baseline, run the fixed-rate driver."""
    import dataclasses
    import time

    from calibration.services import resolve_baseline, span_builder
    from posture.companion import build_breaks
    from posture.person import default_finder
    from posture.pipeline import analyze_source
    from posture.settings import load_settings
    from posture.sources import WebcamSource, open_source

    loaded = load_settings()
    for problem in loaded.problems:
        print(f"warning: {problem}")
    settings = loaded.settings
    if args.sensitivity:
        settings = dataclasses.replace(settings, sensitivity=args.sensitivity)
    if args.onset_delay is not None:
        if not 0 <= args.onset_delay <= 600:
            raise UserError(f"--onset-delay must be between 0 and 600 seconds, got {args.onset_delay:g}")
        settings = dataclasses.replace(settings, onset_delay_s=args.onset_delay)
    if args.profile and args.calibrate_from:
        raise UserError("give either --profile or --calibrate-from, not both")
    # Only an explicit --profile: an analysis without one judges nothing rather than the active profile.
    baseline = resolve_baseline(args.profile, None) if args.profile else None
    source = open_source(args.source, args.fps_in)
    if isinstance(source, WebcamSource):
        raise UserError("analyze works on recorded sources; use 'posture run --camera N' for a live camera")

    progress = Progress(progress_label or "", enabled=None if progress_label and not getattr(args, "quiet", False) else False)
    wall_start = args.start_time if getattr(args, "start_time", None) is not None else time.time()
    source.open()
    finder = default_finder(settings.pose_model or None)
    writer = None
    try:
        if getattr(args, "record", False):
            from posture.store import open_writer
            from posture.store.replays import plan_recording

            plan = plan_recording(getattr(args, "db", None), args.source, getattr(args, "start_time", None),
                                  source.duration, time.time())
            wall_start = plan.start
            writer = open_writer(plan.path, recording=plan.recording, horizon=plan.horizon)
        result = analyze_source(
            source, finder, rate_hz=args.rate, baseline=baseline, calibrate_span=args.calibrate_from,
            build_baseline=span_builder(args.calibrate_from) if args.calibrate_from else None,
            sensitivity=settings.sensitivity, nudge_settings=settings.nudge_settings(),
            wall_start=wall_start, progress=progress,
            breaks=lambda clock: build_breaks(settings, clock),
            history=writer,
        )
    finally:
        progress.done()
        finder.close()
        source.close()
        if writer is not None:
            writer.close()
    if result.frames_decoded == 0:
        raise UserError(f"no frame could be decoded from {args.source}; the file is empty, truncated or not a video")
    if result.calibration_error is not None:
        # The companion keeps watching unjudged; a batch analysis without the baseline asked for is useless.
        raise UserError(result.calibration_error)
    return result


def run(args: argparse.Namespace) -> int:
    check_outputs(args)
    result = run_analysis(args)
    if args.json:
        write_json(args.json, result)
    if args.csv:
        write_csv(args.csv, result)
    if not args.quiet:
        print_summary(result)
    return 0


def check_outputs(args: argparse.Namespace) -> None:
    """Before any work: --json/--csv never overwrite the history, the clip, or a file of another kind."""
    from posture.outputs import ANALYZE_CSV, ANALYZE_JSON, check_output
    from posture.store.paths import default_db_path, resolve_db_path

    history = [default_db_path(), resolve_db_path(args.db)]
    for target, kind in ((args.json, ANALYZE_JSON), (args.csv, ANALYZE_CSV)):
        if target is not None:
            check_output(target, kind, history=history, inputs=[Path(args.source)], force=args.force)


def write_json(path: Path, result: AnalysisResult) -> None:
    from posture.outputs import write_text

    write_text(path, json.dumps(result.to_json(), indent=1) + "\n")


def write_csv(path: Path, result: AnalysisResult) -> None:
    from posture.outputs import atomic_output

    cols = ["t", "person", "view", *METRIC_NAMES, "score", "raw_score", "raw_state", "state", "reasons"]
    with atomic_output(path, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for s in result.samples:
            w.writerow([round(s.t, 3), int(s.person), s.view or "", *[_fmt(_r(s.metrics.get(m), 4)) for m in METRIC_NAMES],
                        _fmt(_r(s.score, 1)), _fmt(_r(s.raw_score, 1)), s.raw_state or "", s.state,
                        ";".join(s.reasons)])


def _r(v: float | None, digits: int) -> float | None:
    return None if v is None else round(v, digits)


def _fmt(v: float | None) -> str:
    return "" if v is None else f"{v:g}"


def print_summary(result: AnalysisResult) -> None:
    s = result.summary()
    print(f"source          {result.source}")
    print(f"frames read     {s['frames_read']} ({s['frames_skipped_undecoded']} skipped without decoding)")
    print(f"samples         {s['samples']} over {s['duration_s']:.1f} s")
    print(f"valid user      {s['valid_user_pct']:.1f}%" + (f"  (view: {s['view']})" if s["view"] else ""))
    if not any(s["metrics"].values()):
        print("metrics         none (no valid user in any sample)")
    else:
        print(f"{'metric':<18}{'median':>10}{'min':>10}{'max':>10}")
        for name, m in s["metrics"].items():
            if m:
                print(f"{name:<18}{m['median']:>10.3f}{m['min']:>10.3f}{m['max']:>10.3f}")
    if s["calibrated"]:
        states = "  ".join(f"{k} {v:.0f}%" for k, v in s["state_pct"].items())
        print(f"states          {states}")
        print(f"nudges          {s['nudges']}")
