"""`posture evaluate --conditions`: labelled clips replayed under ordinary webcam conditions (dim light,
a light change, a small user, a cheap camera, a mirror, backlight, a moved camera, motion blur), one table
of condition × clip → balanced accuracy, reason accuracy, false alarms and latency."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from posture.condition_suite import (
    MIN_BALANCED_ACCURACY,
    SuiteClip,
    clips_in,
    format_conditions,
    labels_beside,
    run_suite,
    runs_to_json,
)
from posture.conditions import CONDITIONS, conditions_named
from posture.errors import UserError
from posture.evaluation import load_labels
from posture.sources import ImageSequenceSource, VideoFileSource


def parse_conditions(text: str) -> list[str]:
    """'all' or a comma-separated list of condition names."""
    if text == "all":
        return []
    names = [n.strip() for n in text.split(",") if n.strip()]
    try:
        conditions_named(names)
    except KeyError as exc:
        raise argparse.ArgumentTypeError(
            f"unknown condition {exc.args[0]!r}; choose from {', '.join(c.name for c in CONDITIONS)} or 'all'"
        ) from None
    return names


def _clip(path: Path, labels: Path, fps_in: float, calibrate: tuple[float, float]) -> SuiteClip:
    if ImageSequenceSource.looks_like(path):
        return SuiteClip(path.name, lambda: ImageSequenceSource(path, fps_in), load_labels(labels), calibrate)
    if not path.exists():
        raise UserError(f"clip not found: {path}")
    return SuiteClip(path.name, lambda: VideoFileSource(path), load_labels(labels), calibrate)


def run(args: argparse.Namespace, calibrate: tuple[float, float]) -> int:
    from calibration.capture import build_baseline
    from posture.person import default_finder

    if args.all:
        if not args.all.is_dir():
            raise UserError(f"--all needs a folder of clips, got {args.all}")
        clips = [SuiteClip(c.name, c.open, c.labels, calibrate) for c in clips_in(args.all)]
        if not clips:
            raise UserError(f"no clip with a .labels.json file in {args.all}")
    elif args.source:
        path = Path(args.source)
        labels = args.labels or labels_beside(path)
        if not labels.exists():
            raise UserError(f"no labels for {args.source}: pass --labels FILE")
        clips = [_clip(path, labels, args.fps_in, calibrate)]
    else:
        raise UserError("give a clip (with --labels) or --all DIR")
    conditions = conditions_named(args.conditions)

    def progress(what: str) -> None:
        if sys.stderr.isatty():
            sys.stderr.write(f"\r{what[:70]:<70}")
            sys.stderr.flush()

    runs = run_suite(clips, conditions, default_finder, lambda obs: build_baseline(obs)[0], args.rate, progress)
    if sys.stderr.isatty():
        sys.stderr.write("\r" + " " * 70 + "\r")
    print(format_conditions(runs))
    missed = [r for r in runs if not r.meets_targets()]
    print(f"\n{len(runs) - len(missed)}/{len(runs)} condition × clip runs meet the targets "
          f"(balanced accuracy >= {MIN_BALANCED_ACCURACY}, no false nudge)")
    if args.json:
        try:
            args.json.write_text(json.dumps(runs_to_json(runs), indent=1) + "\n", encoding="utf-8")
        except OSError as exc:
            raise UserError(f"cannot write {args.json}: {exc.strerror}; choose a writable path") from exc
    return 0
