"""`posture settings`: show, check and change the settings file."""

from __future__ import annotations

import argparse
import json

from posture.args import Subparsers
from posture.errors import ConfigError
from posture.settings import VALIDATORS, load_settings, save_settings, settings_path, settings_with


def register(sub: Subparsers) -> None:
    p = sub.add_parser("settings", help="show or change settings (sensitivity, onset delay, quiet hours, …)")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    actions.add_parser("show", help="print the settings in force and any problems in the file")
    actions.add_parser("path", help="print where the settings file lives")
    s = actions.add_parser("set", help="set one key, e.g. 'posture settings set onset_delay_s 60'")
    s.add_argument("key", choices=sorted(VALIDATORS))
    s.add_argument("value", help="a JSON value: 60, true, \"high\", \"22:00-07:00\", [\"zoom\"]")
    p.set_defaults(func=run, action="show")


def run(args: argparse.Namespace) -> int:
    path = settings_path()
    if args.action == "path":
        print(path)
        return 0
    loaded = load_settings(path)
    if args.action == "set":
        if any("unreadable" in p for p in loaded.problems):
            raise ConfigError(f"settings file {path} is unreadable; fix or delete it before changing settings")
        try:
            raw = json.loads(args.value)
        except json.JSONDecodeError:
            raw = args.value  # a bare word such as high or 22:00-07:00
        try:
            value = VALIDATORS[args.key](raw)
        except ValueError as exc:
            raise ConfigError(f"'{args.key}' = {raw!r} {exc}") from None
        save_settings(settings_with(loaded.settings, {args.key: value}), path)
        print(f"{args.key} = {value!r} (saved to {path})")
        return 0
    for problem in loaded.problems:
        print(f"warning: {problem}")
    for key, value in loaded.settings.to_json().items():
        print(f"{key:<30} {json.dumps(value)}")
    return 0
