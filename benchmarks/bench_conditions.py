"""The full conditions table: every labelled sample clip and the real footage, under every webcam
condition, through the same pipeline the companion runs; written with the date into the `conditions`
block of benchmarks/RESULTS.md (and out/bench/conditions.json).

    python benchmarks/bench_conditions.py                      # everything at 2 Hz (tens of minutes)
    python benchmarks/bench_conditions.py --rate 1 --clips slouch head_tilt --conditions dim mirrored

The targets are the ones fixed in posture/condition_suite.py before measuring; a row that misses them
says so, it is never hidden.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import SAMPLES, machine, replace_section, save_json  # noqa: E402
from posture.condition_suite import (  # noqa: E402
    MIN_BALANCED_ACCURACY,
    MIN_REASON_ACCURACY,
    ConditionRun,
    SuiteClip,
    clips_in,
    format_conditions,
    held_stills_clip,
    run_suite,
    runs_to_json,
    webcam_man_clip,
)
from posture.conditions import CONDITIONS, conditions_named  # noqa: E402

FOOTAGE = ROOT.parent / "shared" / "footage" / "slouch_session_a"


def _natural(p: Path) -> list[object]:
    return [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", p.name)]


def real_clips() -> list[SuiteClip]:
    """slouch_session_a (one man at a home desk): five upright photos calibrate, then the held-out upright
    and the slouched photos alternate, each held 8 s."""
    if not FOOTAGE.exists():
        print(f"note: real footage not found at {FOOTAGE}; the table has the sample clips only", file=sys.stderr)
        return []
    up = sorted((FOOTAGE / "upright").glob("*.jpg"), key=_natural)
    down = sorted((FOOTAGE / "slouched").glob("*.jpg"), key=_natural)
    judged = []
    for i in range(max(len(up) - 5, len(down))):
        if i < len(down):
            judged.append((down[i], "poor", "slouch"))
        if i + 5 < len(up):
            judged.append((up[i + 5], "good", "upright"))
    return [held_stills_clip("slouch_session_a", up[:5], judged, hold_s=8.0)]


def backend_record(runs: list[ConditionRun], rate: float, wall_min: float) -> tuple[str, dict[str, object]]:
    """(name, data) of a conditions measurement on this venv's backend: `bench_backends.py --compare` input."""
    import mediapipe

    from posture.pose import backend_name

    backend, py = backend_name(), f"{sys.version_info[0]}.{sys.version_info[1]}"
    return f"conditions-{backend}-py{py}", {
        "backend": backend, "python": sys.version.split()[0], "mediapipe": mediapipe.__version__,
        "date": time.strftime("%Y-%m-%d"), "rate_hz": rate, "machine": machine(), "wall_min": wall_min,
        "runs": runs_to_json(runs)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--rate", type=float, default=2.0, help="samples per second (default 2)")
    ap.add_argument("--clips", nargs="*", help="sample clips by name (default: every labelled clip)")
    ap.add_argument("--conditions", nargs="*", help=f"default: all ({', '.join(c.name for c in CONDITIONS)})")
    ap.add_argument("--no-real", action="store_true", help="leave out the real footage")
    ap.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = ap.parse_args(argv)

    from calibration.capture import build_baseline
    from posture.landmarks import Pose
    from posture.person import default_finder

    clips = clips_in(SAMPLES, args.clips) + ([] if args.no_real else real_clips())
    man = None if args.no_real else webcam_man_clip(ROOT / "tests" / "real_footage")
    if man is not None:
        clips.append(man)
    elif not args.no_real:
        print("note: real_footage/ clips absent (python tests/real_footage/fetch.py); the table leaves them out",
              file=sys.stderr)
    conditions = conditions_named(args.conditions)
    t0 = time.time()
    looks: dict[bytes, Pose | None] = {}  # a mirrored run re-uses the plain run's looks, see the tests
    runs = run_suite(clips, conditions, lambda: default_finder(memory=looks), lambda obs: build_baseline(obs)[0], args.rate,
                     progress=lambda what: print(what, file=sys.stderr, flush=True))
    wall = time.time() - t0
    table = format_conditions(runs)
    print(table)
    met = sum(1 for r in runs if r.meets_targets())
    spans = [s for r in runs if r.condition == "daylight" for s in r.evaluation.span_reasons]
    right = sum(1 for _, w, g in spans if w == g)
    body = (
        f"## Judgement under webcam conditions\n\n"
        f"Measured {date.today().isoformat()} by `benchmarks/bench_conditions.py` at {args.rate:g} Hz on {machine()}; "
        f"{len(runs)} condition × clip runs in {wall / 60:.0f} min wall-clock.\n"
        f"Targets (fixed before measuring, posture/condition_suite.py): balanced accuracy ≥ {MIN_BALANCED_ACCURACY} "
        f"in every condition, no false nudge; main reason of each poor span right ≥ {MIN_REASON_ACCURACY:.0%}.\n\n"
        f"**{met}/{len(runs)} runs meet the targets.** Main reason right in daylight: {right}/{len(spans)} poor spans.\n"
        "`reason` is the share of labelled poor spans whose main reported reason is right; `lat s` the mean time "
        "from a label change to the state following it; `missed` the label changes it never followed.\n\n"
        "Conditions: " + "; ".join(f"`{c.name}` {c.about}" for c in conditions) + ".\n\n"
        "```\n" + table + "\n```\n"
    )
    save_json("conditions", {"date": date.today().isoformat(), "rate_hz": args.rate, "runs": runs_to_json(runs)})
    # The same runs as `bench_backends.py --conditions` records them, so one measurement feeds both tables.
    path = save_json(*backend_record(runs, args.rate, wall / 60))
    print(f"written to {path}", file=sys.stderr)
    if not args.no_write:
        replace_section("conditions", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
