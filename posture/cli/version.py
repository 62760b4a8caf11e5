"""`posture --version`: the app's version and the pose backend this install runs (it differs per Python,
see posture/pose.py), printed as is: argparse's own version action re-wraps text to the terminal width."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from posture import __version__
from posture.pose import describe_backend


def version_text() -> str:
    return f"posture {__version__}\n{describe_backend()}"


class VersionAction(argparse.Action):
    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str = "show the version and the pose backend, then exit"):
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: str | Sequence[object] | None, option_string: str | None = None) -> None:
        print(version_text())
        parser.exit()
