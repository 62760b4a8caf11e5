"""Guarded output files for `--json`, `--csv` and `export`.

An output never overwrites the history file, the input it was made from, or an existing file that is
not a previous output of the same kind (unless `--force`, which still never allows the first two). It
is written to a temporary file beside the target and renamed over it, so a full disk or a crash
leaves either the old file or the new one, never a truncated mix.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from posture.errors import UserError

# Enough of a file to recognise one of our outputs without reading a large one whole.
HEAD_BYTES = 4096


@dataclass(frozen=True, slots=True)
class OutputKind:
    """What an output is called in messages and how to recognise an earlier one from its first bytes."""

    name: str
    looks_like: Callable[[bytes], bool]


def _json_starting_with(key: str, value: str | None = None) -> Callable[[bytes], bool]:
    pattern = re.compile(rb'^\s*\{\s*"' + re.escape(key.encode()) + rb'"\s*:' +
                         (rb'\s*"' + re.escape(value.encode()) + rb'"' if value is not None else b""))
    return lambda head: pattern.match(head) is not None


def _csv_header_starting_with(*columns: str) -> Callable[[bytes], bool]:
    prefix = ",".join(columns).encode()
    return lambda head: head.startswith(prefix)


ANALYZE_JSON = OutputKind("'analyze --json' output", _json_starting_with("source"))
ANALYZE_CSV = OutputKind("'analyze --csv' output", _csv_header_starting_with("t", "person", "view"))
EXPORT_JSON = OutputKind("history export", _json_starting_with("format", "posture-companion-history"))
EXPORT_SPANS_CSV = OutputKind("history export (spans.csv)", _csv_header_starting_with("start", "start_local"))
EXPORT_MINUTES_CSV = OutputKind("history export (minutes.csv)", _csv_header_starting_with("minute", "minute_local"))
EXPORT_EVENTS_CSV = OutputKind("history export (events.csv)", _csv_header_starting_with("wall", "wall_local"))


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def history_family(history: Path) -> list[Path]:
    """The history file and the files SQLite and the lock keep beside it."""
    return [history, *(history.with_name(history.name + suffix) for suffix in ("-wal", "-shm", "-journal", ".lock"))]


def check_output(
    target: Path,
    kind: OutputKind,
    *,
    history: Iterable[Path] = (),
    inputs: Iterable[Path] = (),
    force: bool = False,
) -> None:
    """Refuse (one-line `UserError`) to write `target` when that would destroy something."""
    for path in history:
        for member in history_family(path):
            if _same_file(target, member):
                raise UserError(
                    f"{target} is the history file {path}; writing the {kind.name} there would destroy it — "
                    "choose another file name"
                )
    for path in inputs:
        if _same_file(target, path):
            raise UserError(
                f"{target} is the input being read; writing the {kind.name} there would destroy it — "
                "choose another file name"
            )
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise UserError(f"cannot check {target} ({exc.strerror}); choose another file name") from exc
    if stat.S_ISDIR(st.st_mode):
        raise UserError(f"{target} is a folder; give a file name for the {kind.name}")
    if not stat.S_ISREG(st.st_mode):
        raise UserError(f"{target} is not a regular file (a pipe or a device); choose another file name")
    if force:
        return
    try:
        with open(target, "rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError as exc:
        raise UserError(f"cannot read {target} ({exc.strerror}); choose another file name") from exc
    if head and not kind.looks_like(head):
        raise UserError(
            f"{target} already exists and is not an earlier {kind.name}; choose another file name, "
            "or pass --force to overwrite it"
        )


@contextmanager
def atomic_output(target: Path, newline: str | None = None) -> Iterator[TextIO]:
    """Write `target` through a temporary file in the same folder, renamed over it once complete."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create {target.parent} ({exc.strerror}); choose another place") from exc
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline=newline) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UserError(
            f"cannot write {target} ({exc.strerror or exc}); nothing was changed there — free some space "
            "or choose another place"
        ) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(target: Path, text: str) -> Path:
    with atomic_output(target) as fh:
        fh.write(text)
    return target
