"""Helpers for the desktop suite (imported by name: the folder is on sys.path, see conftest.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from xsession import XSession

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SHOTS = ROOT / "out" / "desktop"
POSTURE = Path(sys.executable).parent / "posture"
DEMO = ROOT / "sample_videos" / "demo_session.mp4"


def app_env(session: XSession, tmp_path: Path, **settings: object) -> dict[str, str]:
    """Environment for one app run: its own config (settings.json) and data folders."""
    config, data = tmp_path / "config", tmp_path / "data"
    config.mkdir(exist_ok=True)
    data.mkdir(exist_ok=True)
    values: dict[str, object] = {"sound": False, "breaks_enabled": False}
    values.update(settings)
    (config / "settings.json").write_text(json.dumps(values))
    env = dict(session.env, POSTURE_CONFIG_DIR=str(config), POSTURE_DATA_DIR=str(data))
    env.pop("POSTURE_NATIVE_LOGS", None)
    return env


def wait_for(ok: object, what: str, timeout: float = 60.0, every: float = 0.25) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if ok():  # type: ignore[operator]
            return
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def stop(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> int:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    return int(proc.returncode)


def env_flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0")
