"""Retake the README's screenshots (docs/*.png) on a real X server, as a person would see the app.

Xvfb 1600×1000 with openbox, trayer and dunst (xsession.py); the tray app replays the demo clip in real
time, calibrated from its first 8 seconds; the menu is driven with xdotool and each window is captured
with `import -window`. The dashboard shows 30 days of generated history (benchmarks/make_history.py).

    .venv/bin/python tests/desktop/readme_screenshots.py [--out docs]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from xsession import XSession  # noqa: E402

DEMO = ROOT / "sample_videos" / "demo_session.mp4"
POSTURE = Path(sys.executable).parent / "posture"


def capture(session: XSession, title: str, png: Path) -> None:
    window = session.wait_window(title)
    time.sleep(0.5)
    session.run(["import", "-window", window, str(png)])
    print(f"saved {png}")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--out", type=Path, default=ROOT / "docs")
    a = p.parse_args()
    out: Path = a.out
    with tempfile.TemporaryDirectory() as tmp_name, XSession(Path(tmp_name) / "x") as session:
        tmp = Path(tmp_name)
        config, data = tmp / "config", tmp / "data"
        config.mkdir()
        data.mkdir()
        (config / "settings.json").write_text(json.dumps({"sound": False, "onset_delay_s": 10.0}))
        from posture.coach.safety import SAFETY_QUESTIONS, SafetyProfile, save_safety_profile

        save_safety_profile(SafetyProfile.from_answers({q.key: False for q in SAFETY_QUESTIONS}, time.time()),
                            config / "safety.json")
        env = dict(session.env, POSTURE_CONFIG_DIR=str(config), POSTURE_DATA_DIR=str(data))
        # The dashboard is about weeks, so its picture shows a month: generated history (make_history.py:
        # a person's working days, breaks, and watched breaks' range of motion), up to yesterday.
        from benchmarks.make_history import readme_month

        db = tmp / "history.db"
        shown = readme_month(db)
        subprocess.run([str(POSTURE), "dashboard", "--db", str(db), "--date", shown.isoformat(),
                        "--screenshot", str(out / "dashboard.png")], env=env, check=True, timeout=600)
        app = session.popen([str(POSTURE), "run", "--source", str(DEMO), "--calibrate-from", "0:8", "--loop",
                             "--realtime", "--no-history"], tmp / "app.log", env)
        try:
            time.sleep(25)  # past the calibration span, judging
            ids = session.run(["xdotool", "search", "--class", "trayer"]).stdout.split()
            x, y, w, h = max((session.geometry(i) for i in ids), key=lambda b: b[2] * b[3])
            icon = (x + w - 16, y + h // 2)

            def menu(*keys: str) -> None:
                session.click(*icon)
                time.sleep(1.0)
                session.keys(*keys)

            session.click(*icon)
            time.sleep(1.2)
            shot = tmp / "menu.png"
            session.run(["import", "-window", "root", str(shot)])
            session.run(["convert", str(shot), "-crop", "420x300+1180+0", "+repage", str(out / "tray_menu.png")])
            print(f"saved {out / 'tray_menu.png'}")
            session.keys("Escape")
            menu("Down", "Down", "Down", "Down", "Return")
            time.sleep(6)
            capture(session, "Why am I flagged? · Posture Companion", out / "live_view.png")
            menu("Down", "Down", "Down", "Down", "Down", "Return")
            time.sleep(6)
            capture(session, "Calibrate · Posture Companion", out / "wizard.png")
            menu("Down", "Down", "Down", "Down", "Down", "Down", "Down", "Down", "Return")
            capture(session, "Settings · Posture Companion", out / "settings.png")
            # Take a break now ▸ the seventh routine (a neck-care one with pressure points).
            menu("Down", "Down", "Down", "Right", *["Down"] * 7, "Return")
            time.sleep(3)
            ids = session.windows("· Posture Companion")
            for window in ids:
                name = session.run(["xdotool", "getwindowname", window]).stdout.strip()
                if not any(k in name for k in ("Why am I", "Calibrate", "Settings", "history")):
                    session.run(["import", "-window", window, str(out / "break_window.png")])
                    print(f"saved {out / 'break_window.png'} ({name})")
                    break
        finally:
            app.terminate()
            app.wait(20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
