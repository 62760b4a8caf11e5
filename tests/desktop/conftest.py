"""The desktop suite: the real app on a real X server (see xsession.py). Run with `make test-desktop`.

Every test here is marked `desktop`; without the X programs the whole suite skips and names them.
Screenshots land in out/desktop/ (kept after the run, to be looked at).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from xsession import XSession, missing  # noqa: E402

ROOT = HERE.parents[1]
SHOTS = ROOT / "out" / "desktop"
POSTURE = Path(sys.executable).parent / "posture"
DEMO = ROOT / "sample_videos" / "demo_session.mp4"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.desktop)


@pytest.fixture(scope="session")
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


@pytest.fixture
def desktop(tmp_path: Path) -> Iterator[XSession]:
    """A fresh X session per test: what one test leaves on screen never confuses the next."""
    gone = missing()
    if gone:
        pytest.skip(f"desktop programs not installed: {', '.join(gone)} (.ci/run installs them with apt-get)")
    if not POSTURE.exists():
        pytest.skip("the posture command is not installed in this environment")
    session = XSession(tmp_path / "x").start()
    try:
        yield session
    finally:
        session.stop()


def app_env(session: XSession, tmp_path: Path, **settings: object) -> dict[str, str]:
    """Environment for one app run: its own config (settings.json) and data folders."""
    config, data = tmp_path / "config", tmp_path / "data"
    config.mkdir(exist_ok=True)
    data.mkdir(exist_ok=True)
    values = {"sound": False, "breaks_enabled": False}
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


def stop(proc: object, timeout: float = 15.0) -> int:
    import subprocess

    assert isinstance(proc, subprocess.Popen)
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
