"""Retake the README's coached-break pictures (docs/coached_break.png, docs/mobility.png) on a real X
server (Xvfb + openbox, tests/desktop/xsession.py), each window as the person sees it, captured with
`import -window`.

- The coached break: the 'neck-turns' routine watched through the labelled clip
  sample_videos/ex_coached_break.mp4 (the real pose model and face detector), the clock stepped to just
  after the rushed fourth turn, with a usual range from earlier breaks so the coach has something to
  compare with.
- The mobility chart: the dashboard's "Range of motion" card over 30 days of generated history with
  watched breaks' range of motion (benchmarks/make_history.py).

    .venv/bin/python tests/desktop/coached_screenshots.py [--out docs]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

CLIP = ROOT / "sample_videos" / "ex_coached_break.mp4"
BREAK_AT_S = 19.4  # just after the rushed fourth turn: "4 of 4 — well done" and "slower"


def show_break() -> int:
    """In the X session: the coached break window, on screen until this process is ended."""
    from PySide6.QtWidgets import QApplication

    from ui.break_coaching import coached_break_window

    app = QApplication([])
    _window, _coaching = coached_break_window(CLIP, BREAK_AT_S, on_screen=True)
    print("READY", flush=True)
    return app.exec()


def show_mobility(db: Path, day: str) -> int:
    """In the X session: the dashboard's range-of-motion card over `day`'s history, in a window of its
    own at the size the dashboard gives it on a large screen (in a full dashboard on Xvfb's 1000-pixel
    height the card is too short to read in a README)."""
    from datetime import date

    from PySide6.QtWidgets import QApplication

    from posture.store import open_reader
    from ui.mobility_panel import MobilityPanel

    app = QApplication([])
    panel = MobilityPanel()
    panel.setWindowTitle("Range of motion · Posture Companion")
    conn = open_reader(db)
    panel.load(conn, date.fromisoformat(day))
    panel.resize(1000, 360)
    panel.show()
    print("READY", flush=True)
    return app.exec()


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--out", type=Path, default=ROOT / "docs")
    p.add_argument("--show", choices=("break", "mobility"), help=argparse.SUPPRESS)
    p.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--day", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.show == "break":
        return show_break()
    if a.show == "mobility":
        return show_mobility(a.db, a.day)

    from xsession import XSession, missing

    if gone := missing():
        print(f"cannot take the screenshots: {', '.join(gone)} not installed", file=sys.stderr)
        return 2
    out: Path = a.out
    with tempfile.TemporaryDirectory() as tmp_name, XSession(Path(tmp_name) / "x", tray=False,
                                                             notifications=False) as session:
        tmp = Path(tmp_name)
        env = dict(session.env, POSTURE_CONFIG_DIR=str(tmp / "config"), POSTURE_DATA_DIR=str(tmp / "data"))

        def ready(proc: subprocess.Popen[str]) -> list[str]:
            assert proc.stdout is not None
            for line in proc.stdout:
                if line.startswith("READY"):
                    return line.split()[1:]
            raise SystemExit(f"the window process ended early (exit {proc.wait()})")

        me = [sys.executable, str(Path(__file__).resolve())]

        def capture(show: list[str], title: str, png: Path) -> None:
            """Start `me --show ...`, wait for its window, capture it, end the process."""
            proc = subprocess.Popen([*me, "--show", *show], env=env, stdout=subprocess.PIPE, text=True)
            try:
                ready(proc)
                window = session.wait_window(title)
                time.sleep(1.0)
                session.run(["import", "-window", window, str(png)])
                print(f"saved {png}")
            finally:
                proc.terminate()
                proc.wait(20)

        capture(["break"], "Slow turns and a shoulder-blade squeeze", out / "coached_break.png")

        from benchmarks.make_history import readme_month

        db = tmp / "history.db"
        shown = readme_month(db)
        capture(["mobility", "--db", str(db), "--day", shown.isoformat()], "Range of motion · Posture Companion",
                out / "mobility.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
