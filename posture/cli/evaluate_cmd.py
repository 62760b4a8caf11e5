"""`posture evaluate`: precision, recall, balanced accuracy, latency and false alarms on labelled clips."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from posture.args import Subparsers
from posture.cli import conditions_cmd
from posture.cli.analyze_cmd import add_source_args, run_analysis
from posture.cli.common import parse_span
from posture.cli.conditions_cmd import parse_conditions
from posture.errors import UserError
from posture.evaluation import Evaluation, evaluate, format_confusion, format_table, load_labels
from posture.pipeline import AnalysisResult

DEFAULT_CALIBRATION = (0.0, 8.0)


def register(sub: Subparsers) -> None:
    p = sub.add_parser("evaluate", help="score the state timeline of labelled clips against their labels")
    p.add_argument("source", nargs="?", help="a clip (its labels default to CLIP.labels.json beside it)")
    p.add_argument("--labels", type=Path, help="label file: a JSON list of {start, end, state, reason}")
    p.add_argument("--all", type=Path, metavar="DIR", help="evaluate every clip in DIR that has a labels file")
    p.add_argument("--rate", type=float, default=2.0, metavar="HZ")
    p.add_argument("--fps-in", type=float, default=1.0)
    p.add_argument("--calibrate-from", type=parse_span, metavar="START:END",
                   help="baseline span in seconds (default 0:8)")
    p.add_argument("--json", type=Path, metavar="FILE", help="write the results as JSON")
    p.add_argument("--conditions", nargs="?", const="all", type=parse_conditions, metavar="NAMES",
                   help="replay under webcam conditions ('all' or e.g. dim,mirrored) and print one table")
    p.set_defaults(func=run)
    _ = add_source_args  # same options as analyze, declared here explicitly for a clearer --help


def labels_for(clip: Path) -> Path:
    return clip.with_name(clip.name.rsplit(".", 1)[0] + ".labels.json")


def analyse_clip(clip: str, args: argparse.Namespace) -> AnalysisResult:
    """The run `evaluate` scores: the same fixed-rate driver and Session as `analyze`, calibrated on a span."""
    ns = argparse.Namespace(
        source=clip, rate=args.rate, fps_in=args.fps_in, calibrate_from=args.calibrate_from or DEFAULT_CALIBRATION,
        profile=None, sensitivity=None, onset_delay=None, quiet=True, record=False,
        start_time=getattr(args, "start_time", None),
    )
    return run_analysis(ns, progress_label=f"evaluating {Path(clip).name}")


def evaluate_clip(clip: str, labels: Path, args: argparse.Namespace) -> Evaluation:
    label_list = load_labels(labels)
    result = analyse_clip(clip, args)
    return evaluate(Path(clip).name, result.samples, result.events, label_list)


def run(args: argparse.Namespace) -> int:
    if getattr(args, "conditions", None) is not None:
        return conditions_cmd.run(args, args.calibrate_from or DEFAULT_CALIBRATION)
    evals: list[Evaluation] = []
    if args.all:
        if not args.all.is_dir():
            raise UserError(f"--all needs a folder of clips, got {args.all}")
        clips = sorted(p for p in args.all.iterdir() if p.suffix.lower() in (".mp4", ".avi", ".mkv", ".264")
                       and labels_for(p).exists())
        if not clips:
            raise UserError(f"no clip with a .labels.json file in {args.all}")
        for clip in clips:
            evals.append(evaluate_clip(str(clip), labels_for(clip), args))
    elif args.source:
        labels = args.labels or labels_for(Path(args.source))
        if not labels.exists():
            raise UserError(f"no labels for {args.source}: pass --labels FILE")
        evals.append(evaluate_clip(args.source, labels, args))
    else:
        raise UserError("give a clip (with --labels) or --all DIR")
    print(format_table(evals))
    if len(evals) == 1:
        print()
        print(format_confusion(evals[0]))
        lat = [f"{t:g}s→{s}: {'-' if v is None else f'{v:.1f}s'}" for t, s, v in evals[0].change_latency]
        if lat:
            print("state change latency: " + ", ".join(lat))
    if args.json:
        args.json.write_text(json.dumps([e.to_json() for e in evals], indent=1) + "\n", encoding="utf-8")
    return 0
