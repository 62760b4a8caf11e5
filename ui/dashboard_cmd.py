"""`posture dashboard`: the history window, or with --screenshot a PNG of it rendered offscreen."""

from __future__ import annotations

import argparse
import os
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from posture.args import Subparsers, add_db_option, parse_date
from posture.errors import UserError
from posture.store.paths import resolve_db_path

if TYPE_CHECKING:  # the window commands load Qt only when they open a window
    from PySide6.QtWidgets import QApplication


def register(subparsers: Subparsers) -> None:
    p = subparsers.add_parser("dashboard", help="open the posture history dashboard")
    add_db_option(p)
    p.add_argument("--date", type=parse_date, metavar="YYYY-MM-DD", help="day to show (default: today)")
    p.add_argument(
        "--screenshot", type=Path, metavar="FILE.png", help="render the dashboard offscreen to this PNG and exit"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from posture.store.repair import ensure_readable

    path = resolve_db_path(args.db)
    ensure_readable(path)  # a damaged file: the one-line error and the way out, not a broken window
    if args.screenshot is not None:
        save_dashboard_screenshot(path, args.screenshot, day=args.date)
        print(f"dashboard saved to {args.screenshot}")
        return 0
    app = _application(offscreen=False)
    from ui.dashboard import Dashboard

    window = Dashboard(path, day=args.date)
    window.show()
    return int(app.exec())


def _application(offscreen: bool) -> QApplication:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    # Qt reads the platform once, when the application object is created.
    if offscreen:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    return QApplication([])


def save_dashboard_screenshot(db: str | Path | None, png: str | Path, day: date | None = None) -> Path:
    """Render the dashboard for `db` offscreen into `png`. Without `day`: today if it has history,
    else the newest day that has (so a replay recorded into the past is what gets shown)."""
    png = Path(png)
    if png.suffix.lower() != ".png":
        raise UserError(f"--screenshot needs a .png file name, got {png}")
    app = _application(offscreen=True)
    from PySide6.QtCore import Qt

    from posture.store.queries import history_range, open_reader
    from ui.dashboard import DEFAULT_SIZE, Dashboard

    path = resolve_db_path(db)
    if day is None:
        conn = open_reader(path)
        try:
            span = history_range(conn)
        finally:
            conn.close()
        today = date.today()
        newest = datetime.fromtimestamp(span[1] - 1).date() if span else today
        day = today if newest >= today else newest
    window = Dashboard(path, day=day, poll_ms=0)
    try:
        window.resize(*DEFAULT_SIZE)  # the window a 1080p screen opens, whatever screen renders it
        # Laid out and painted, never put on a real screen (the tray app saves it this way on a desktop).
        window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
        window.show()
        app.processEvents()
        try:
            png.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot create {png.parent} ({exc.strerror}); pick another path") from exc
        if not window.grab().save(str(png)):
            raise UserError(f"could not write {png}; check the folder is writable")
    finally:
        window.close()
        # Delete the widget tree now, while Qt is alive: left to interpreter exit, pyqtgraph items can be
        # torn down after the application and crash.
        window.deleteLater()
        app.processEvents()
    return png

