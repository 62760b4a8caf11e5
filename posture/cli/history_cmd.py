"""`posture report`, `posture export` (read the history file, never write to it) and
`posture history check` / `posture history repair`."""

from __future__ import annotations

import argparse
import csv
import json
import sqlite3
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

from posture import __version__
from posture.args import add_db_option, parse_date
from posture.errors import StoreError, UserError
from posture.jsonvalues import JsonObject, JsonValue
from posture.outputs import (
    EXPORT_EVENTS_CSV,
    EXPORT_JSON,
    EXPORT_MINUTES_CSV,
    EXPORT_SPANS_CSV,
    OutputKind,
    atomic_output,
    check_output,
)
from posture.report import Period, PeriodKind, build_report, render_report
from posture.samples import REASONS
from posture.store.db import METRIC_KEYS, STATE_COLUMNS, damaged, is_corruption
from posture.store.paths import resolve_db_path
from posture.store.queries import iter_events, iter_minutes, iter_spans, open_reader, reason_keys_in

EXPORT_FORMAT = "posture-companion-history"
EXPORT_VERSION = 1


@contextmanager
def reading(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection whose SQLite errors become the promised one-line errors."""
    conn = open_reader(path)
    try:
        yield conn
    except sqlite3.DatabaseError as exc:
        if is_corruption(exc):
            raise damaged(path, exc) from exc
        raise StoreError(f"cannot read {path} ({exc}); try again, or check the file's permissions") from exc
    finally:
        conn.close()


def register(subparsers: argparse._SubParsersAction) -> None:
    report = subparsers.add_parser(
        "report", help="summarise posture history for a day, week or month", description=__doc__
    )
    which = report.add_mutually_exclusive_group()
    which.add_argument("--day", type=parse_date, metavar="DATE", help="one day (default: today)")
    for flag, days in (("--week", 7), ("--month", 30)):
        which.add_argument(
            flag, nargs="?", const=True, type=parse_date, metavar="END", help=f"{days} days up to END/today"
        )
    add_db_option(report)
    report.set_defaults(func=run_report)

    export = subparsers.add_parser("export", help="write history as CSV files or one JSON document")
    export.add_argument(
        "--csv", type=Path, metavar="DIR", help="folder to write spans.csv, minutes.csv and events.csv into"
    )
    export.add_argument("--json", metavar="FILE", help="one JSON document ('-' for standard output)")
    export.add_argument("--force", action="store_true",
                        help="overwrite existing files that are not earlier exports (never the history itself)")
    add_db_option(export)
    export.set_defaults(func=run_export)

    history = subparsers.add_parser("history", help="check or repair the history file")
    actions = history.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="check the history file for damage (changes nothing)")
    add_db_option(check)
    check.set_defaults(func=run_check)
    repair = actions.add_parser(
        "repair", help="rebuild a damaged history file from what can be read (keeps a copy of the damaged file)"
    )
    add_db_option(repair)
    repair.set_defaults(func=run_repair)


def period_from_args(args: argparse.Namespace, today: date) -> Period:
    kind: PeriodKind = "day"
    end: object = args.day
    if args.week is not None:
        kind, end = "week", args.week
    elif args.month is not None:
        kind, end = "month", args.month
    return Period.ending(kind, end if isinstance(end, date) else today)


def run_report(args: argparse.Namespace) -> int:
    path = resolve_db_path(args.db)
    with reading(path) as conn:
        report = build_report(conn, period_from_args(args, date.today()))
    sys.stdout.write(render_report(report))
    if report.empty:
        print(f"(history file: {path})")
    return 0


def run_export(args: argparse.Namespace) -> int:
    if args.csv is None and args.json is None:
        raise UserError("export needs --csv DIR or --json FILE (or both)")
    path = resolve_db_path(args.db)
    force = bool(getattr(args, "force", False))
    # Every target is checked before anything is read or written.
    if args.csv is not None:
        if args.csv.exists() and not args.csv.is_dir():
            raise UserError(f"{args.csv} is a file; --csv needs a folder")
        for name, kind in CSV_FILES:
            check_output(args.csv / name, kind, history=[path], force=force)
    if args.json is not None and args.json != "-":
        if Path(args.json).is_dir():
            raise UserError(f"{args.json} is a folder; --json needs a file name")
        check_output(Path(args.json), EXPORT_JSON, history=[path], force=force)
    with reading(path) as conn:
        if args.csv is not None:
            for written in export_csv(conn, args.csv):
                print(f"wrote {written}", file=sys.stderr)
        if args.json is not None:
            if args.json == "-":
                document = export_document(conn)
                json.dump(document, sys.stdout, indent=1)
                sys.stdout.write("\n")
            else:
                export_json(conn, Path(args.json))
                print(f"wrote {args.json}", file=sys.stderr)
    return 0


CSV_FILES: tuple[tuple[str, OutputKind], ...] = (
    ("spans.csv", EXPORT_SPANS_CSV),
    ("minutes.csv", EXPORT_MINUTES_CSV),
    ("events.csv", EXPORT_EVENTS_CSV),
)


def run_check(args: argparse.Namespace) -> int:
    from posture.store.repair import check_history

    path = resolve_db_path(args.db)
    result = check_history(path)
    if result.ok:
        print(f"{path}: ok ({result.summary})")
        return 0
    for problem in result.problems[:20]:
        print(f"  {problem}")
    raise StoreError(f"{path} is damaged ({len(result.problems)} problem(s) above); "
                     "run 'posture history repair' to rebuild it from what can be read")


def run_repair(args: argparse.Namespace) -> int:
    from posture.store.repair import repair_history

    path = resolve_db_path(args.db)
    result = repair_history(path)
    rows = ", ".join(f"{n} {table}" for table, n in result.recovered.items())
    print(f"kept a copy of the damaged file: {result.backup}")
    print(f"rebuilt {path} with what could be read: {rows or 'nothing'}")
    if result.unreadable:
        print(f"could not read: {', '.join(result.unreadable)}")
    return 0


def export_document(conn: sqlite3.Connection) -> JsonObject:
    keys = reason_keys_in(conn, REASONS)
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "app_version": __version__,
        "exported_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "reasons": {k: REASONS.get(k, k.replace("_", " ")) for k in keys},
        "spans": list(iter_spans(conn)),
        "minutes": list(iter_minutes(conn, keys)),
        "events": list(iter_events(conn)),
    }


def export_json(conn: sqlite3.Connection, target: Path) -> Path:
    if target.is_dir():
        raise UserError(f"{target} is a folder; --json needs a file name")
    document = export_document(conn)  # read everything first: a damaged file fails before any write
    with atomic_output(target) as fh:
        json.dump(document, fh, indent=1)
        fh.write("\n")
    return target


def export_csv(conn: sqlite3.Connection, folder: Path) -> list[Path]:
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{folder} is a file; --csv needs a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create {folder} ({exc.strerror}); pick another folder") from exc
    keys = reason_keys_in(conn, REASONS)
    span_cols = ["start", "start_local", "duration_s", "state", "score_band", "mean_score", "reasons"]
    span_cols.append("samples")
    spans = ({**s, "reasons": _words(s["reasons"])} for s in iter_spans(conn))
    minute_cols = [
        "minute",
        "minute_local",
        "samples",
        "mean_score",
        *(f"{s}_s" for s in STATE_COLUMNS),
        *(f"reason_{k}_s" for k in keys),
        *(f"{k}_median" for k in METRIC_KEYS),
    ]
    minutes = (_flatten_minute(m, keys) for m in iter_minutes(conn, keys))
    event_cols = ["wall", "wall_local", "kind", "data"]
    events = ({**e, "data": json.dumps(e["data"], sort_keys=True)} for e in iter_events(conn))
    return [
        _write_csv(folder / "spans.csv", span_cols, spans),
        _write_csv(folder / "minutes.csv", minute_cols, minutes),
        _write_csv(folder / "events.csv", event_cols, events),
    ]


def _words(value: JsonValue) -> str:
    return " ".join(str(v) for v in value) if isinstance(value, list | tuple) else ""


def _flatten_minute(row: JsonObject, keys: list[str]) -> JsonObject:
    reasons = row.pop("reasons_s")
    for key in keys:
        row[f"reason_{key}_s"] = reasons.get(key, 0.0) if isinstance(reasons, Mapping) else 0.0
    return row


def _write_csv(target: Path, columns: list[str], rows: Iterable[JsonObject]) -> Path:
    with atomic_output(target, newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in columns})
    return target
