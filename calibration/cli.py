"""`posture calibrate` and `posture profile …`."""

from __future__ import annotations

import argparse
import json

from calibration.capture import CaptureRejected
from calibration.profiles import ProfileStore, calibration_target
from posture.args import Subparsers, positive_float
from posture.errors import UserError


def register(sub: Subparsers) -> None:
    p = sub.add_parser("calibrate", help="capture your upright posture as the baseline of a profile")
    p.add_argument("--source", default=None, help="camera index, video file or image folder (default: settings camera)")
    p.add_argument("--profile", default=None,
                   help="profile name, one per setup (default: 'default'; for a recording, a new inactive profile)")
    p.add_argument("--seconds", type=positive_float, default=10.0, help="how long to capture (default 10)")
    p.add_argument("--start", type=float, default=0.0, help="for a recorded source: where the capture starts (s)")
    p.add_argument("--fps-in", type=positive_float, default=1.0, help="frame rate of an image sequence")
    p.add_argument("--no-activate", action="store_true", help="save without making it the active profile")
    p.set_defaults(func=run_calibrate)

    pr = sub.add_parser("profile", help="list, show, delete or choose calibration profiles")
    prs = pr.add_subparsers(dest="action", metavar="ACTION", required=True)
    prs.add_parser("list", help="list profiles (the active one is marked)").set_defaults(func=run_list)
    for name, helptext, func in (
        ("show", "show a profile's baseline", run_show),
        ("delete", "delete a profile", run_delete),
        ("use", "make a profile the active one", run_use),
    ):
        q = prs.add_parser(name, help=helptext)
        q.add_argument("name")
        q.set_defaults(func=func)


def run_calibrate(args: argparse.Namespace) -> int:
    from calibration.session import capture
    from posture.person import default_finder
    from posture.settings import load_settings
    from posture.sources import open_source

    store = ProfileStore()
    # A recording never replaces the person's own profile unless --profile names one.
    args.profile, activate = calibration_target(args.source, args.profile, not args.no_activate)
    store.check_name(args.profile)
    settings = load_settings().settings
    spec = args.source if args.source is not None else str(settings.camera_index)
    source = open_source(spec, args.fps_in)
    source.open()
    finder = default_finder(settings.pose_model or None)
    try:
        baseline, quality = capture(source, finder, seconds=args.seconds, start=args.start)
    except CaptureRejected as exc:
        raise UserError(f"calibration rejected: {exc}") from exc
    finally:
        finder.close()
        source.close()
    path = store.save(args.profile, baseline, source=spec)
    if activate:
        store.set_active(args.profile)
    print(f"calibration quality: {quality.verdict} ({quality.present}/{quality.samples} samples with you in view)")
    print(f"saved profile '{args.profile}' to {path}" + (" (active)" if activate else
          f" (not active: 'posture profile use {args.profile}' to use it)"))
    return 0


def run_list(args: argparse.Namespace) -> int:
    store = ProfileStore()
    names = store.names()
    active = store.active_name()
    if not names:
        print("no profiles yet; run 'posture calibrate --profile NAME'")
    for n in names:
        print(("* " if n == active else "  ") + n)
    return 0


def run_show(args: argparse.Namespace) -> int:
    prof = ProfileStore().load(args.name)
    print(json.dumps({"name": prof.name, "source": prof.source, "baseline": prof.baseline.to_json()}, indent=2))
    return 0


def run_delete(args: argparse.Namespace) -> int:
    ProfileStore().delete(args.name)
    print(f"deleted profile '{args.name}'")
    return 0


def run_use(args: argparse.Namespace) -> int:
    print(f"active profile: {ProfileStore().set_active(args.name)}")
    return 0
