"""`posture report` and `posture export`: read the history file, never write to it."""

from __future__ import annotations

import argparse
import csv
import json
import sqlite3
import sys
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from posture import __version__
from posture.args import add_db_option, parse_date
from posture.errors import UserError
from posture.report import Period, PeriodKind, build_report, render_report
from posture.samples import REASONS
from posture.store.db import METRIC_KEYS, STATE_COLUMNS
from posture.store.paths import resolve_db_path
from posture.store.queries import iter_events, iter_minutes, iter_spans, open_reader, reason_keys_in

EXPORT_FORMAT = "posture-companion-history"
EXPORT_VERSION = 1


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
    add_db_option(export)
    export.set_defaults(func=run_export)


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
    conn = open_reader(path)
    try:
        report = build_report(conn, period_from_args(args, date.today()))
    finally:
        conn.close()
    sys.stdout.write(render_report(report))
    if report.empty:
        print(f"(history file: {path})")
    return 0


def run_export(args: argparse.Namespace) -> int:
    if args.csv is None and args.json is None:
        raise UserError("export needs --csv DIR or --json FILE (or both)")
    path = resolve_db_path(args.db)
    conn = open_reader(path)
    try:
        if args.csv is not None:
            for written in export_csv(conn, args.csv):
                print(f"wrote {written}", file=sys.stderr)
        if args.json is not None:
            if args.json == "-":
                json.dump(export_document(conn), sys.stdout, indent=1)
                sys.stdout.write("\n")
            else:
                export_json(conn, Path(args.json))
                print(f"wrote {args.json}", file=sys.stderr)
    finally:
        conn.close()
    return 0


def export_document(conn: sqlite3.Connection) -> dict[str, Any]:
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
    _writable_parent(target)
    try:
        with target.open("w", encoding="utf-8") as fh:
            json.dump(export_document(conn), fh, indent=1)
            fh.write("\n")
    except OSError as exc:
        raise UserError(f"cannot write {target} ({exc.strerror}); pick another file") from exc
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
    spans = ({**s, "reasons": " ".join(s["reasons"])} for s in iter_spans(conn))
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


def _flatten_minute(row: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    reasons = row.pop("reasons_s")
    for key in keys:
        row[f"reason_{key}_s"] = reasons.get(key, 0.0)
    return row


def _write_csv(target: Path, columns: list[str], rows: Iterable[dict[str, Any]]) -> Path:
    try:
        with target.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            for row in rows:
                writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in columns})
    except OSError as exc:
        raise UserError(f"cannot write {target} ({exc.strerror}); pick another folder") from exc
    return target


def _writable_parent(target: Path) -> None:
    if target.is_dir():
        raise UserError(f"{target} is a folder; --json needs a file name")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create {target.parent} ({exc.strerror}); pick another file") from exc
