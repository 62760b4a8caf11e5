"""Clean shutdown from every camera state: Ctrl-C, SIGTERM and SIGHUP while the camera is open, opening,
settling or stalled, in a real process running the product's command line on the camera simulator
(headless and the tray app), and Quit (what the tray's menu does) in-process.

Exit status 0, the history flushed (the session closed in the database), the camera released (or, for
a capture stuck inside the driver, left to the OS at exit), and no crash: the simulator runs strict,
aborting the process as native code would if a capture is released under a running read or from a
daemon thread at interpreter shutdown.
"""

from __future__ import annotations

import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from camera_sim import CameraRig, upright
from sim_camera_run import BEHAVIOUR, signal_when, spawn

from posture.clock import SystemClock
from posture.events import Event
from posture.monitor import Monitor
from posture.settings import Settings
from posture.sources import WebcamSource

HERE = Path(__file__).resolve().parent
MARK = {"open": " state ", "opening": "camera_sim: opening", "settling": "camera_sim: settling",
        "stalled": "camera_sim: stalled"}
SIGNALS = {"ctrl-c": signal.SIGINT, "sigterm": signal.SIGTERM, "sighup": signal.SIGHUP}


def _start(tmp_path: Path, state: str, tray: bool = False) -> tuple[subprocess.Popen[str], queue.Queue[str], Path]:
    db = tmp_path / "history.db"
    env = dict(os.environ, POSTURE_CONFIG_DIR=str(tmp_path / "cfg"), POSTURE_DATA_DIR=str(tmp_path / "data"),
               PYTHONUNBUFFERED="1", CAMERA_SIM_STRICT="1", CAMERA_SIM_TRAY="1" if tray else "0",
               QT_QPA_PLATFORM="offscreen")
    proc, lines = spawn(
        [sys.executable, str(HERE / "sim_camera_run.py"), state, "run", *([] if tray else ["--headless"]),
         "--source", "0", "--db", str(db)],
        env, tmp_path,
        new_session=True,  # a signal meant for the test run never reaches it, and vice versa
    )
    return proc, lines, db


@pytest.mark.slow
@pytest.mark.parametrize("how", list(SIGNALS))
@pytest.mark.parametrize("state", list(MARK))
def test_signal_in_every_camera_state_exits_cleanly(tmp_path: Path, state: str, how: str) -> None:
    proc, lines, db = _start(tmp_path, state)
    stopped = signal_when(proc, lines, MARK[state], SIGNALS[how], 0.2, state)
    rc, took, after, out = stopped.rc, stopped.took, stopped.after, stopped.out
    assert rc == 0, out
    assert "Traceback" not in out and "VIOLATION" not in out, out
    assert "stopped:" in out, out  # the normal end of the run, not an abort
    # Prompt: nothing waits for the 60 s open or the hung read (a loaded machine needs a few seconds to
    # tear MediaPipe down; a stalled camera adds the 2 s exit grace for its stuck read).
    assert took < 15.0, f"{took:.1f} s to stop"
    summary = [line for line in after if line.startswith("camera_sim: exit")]
    if state == "stalled":
        # A read hung in the driver cannot be interrupted or released: the process ends at once after
        # the exit grace (os._exit, history already flushed) and the OS frees the device.
        assert not summary, out
    else:
        assert summary and "light_on=False" in summary[0], out  # released before the process ended
    conn = sqlite3.connect(db)
    try:
        kinds = [k for (k,) in conn.execute("SELECT kind FROM events ORDER BY id")]
    finally:
        conn.close()
    assert kinds[0] == "session_start" and kinds[-1] == "session_end", kinds


# The tray app prints no state lines: "open" is a second or two after the picture started to settle.
TRAY_CASES = [("open", "sigterm"), ("open", "ctrl-c"), ("open", "sighup"), ("opening", "sigterm"),
              ("settling", "sigterm"), ("stalled", "sigterm")]


@pytest.mark.slow
@pytest.mark.parametrize(("state", "how"), TRAY_CASES)
def test_the_tray_app_ends_cleanly_on_a_signal_in_every_camera_state(tmp_path: Path, state: str, how: str) -> None:
    proc, lines, db = _start(tmp_path, state, tray=True)
    mark = "camera_sim: settling" if state == "open" else MARK[state]
    stopped = signal_when(proc, lines, mark, SIGNALS[how], 3.0 if state == "open" else 0.2, state)
    rc, after, out = stopped.rc, stopped.after, stopped.out
    assert rc == 0, out
    assert "Traceback" not in out and "VIOLATION" not in out, out
    summary = [line for line in after if line.startswith("camera_sim: exit")]
    if state == "stalled":
        assert not summary, out
    else:
        assert summary and "light_on=False" in summary[0], out
    conn = sqlite3.connect(db)
    try:
        kinds = [k for (k,) in conn.execute("SELECT kind FROM events ORDER BY id")]
    finally:
        conn.close()
    assert kinds[0] == "session_start" and kinds[-1] == "session_end", kinds


class _History:
    """Stands in for the history writer: what reached it, and whether it was flushed."""

    def __init__(self) -> None:
        self.kinds: list[str] = []
        self.flushes = 0

    def add_sample(self, sample: object) -> None:
        pass

    def add_event(self, event: Event) -> None:
        self.kinds.append(event.kind)

    def flush(self) -> bool:
        self.flushes += 1
        return True


@pytest.mark.parametrize("state", list(MARK))
def test_quit_in_every_camera_state_is_prompt_releases_the_camera_and_flushes(state: str) -> None:
    """What the tray's Quit does (the worker stops the monitor and joins it), from each camera state."""
    from posture.person import default_finder

    clock = SystemClock()
    # A 4 s open here, so a quit that waited for it would show in the time taken.
    behaviour = replace(BEHAVIOUR[state], open_latency_s=4.0) if state == "opening" else BEHAVIOUR[state]
    rig = CameraRig(clock, upright(), behaviour)
    reached = threading.Event()
    word = {"open": "open", "opening": "opening", "settling": "settling", "stalled": "stalled"}[state]
    rig.trace = lambda what: reached.set() if what == word else None
    if state == "stalled":
        rig.at(clock.monotonic() + 2.5, rig.stall)
    history = _History()
    finder = default_finder()
    monitor = Monitor(lambda: WebcamSource(0, clock=clock, capture=rig.capture), finder, clock, Settings(),
                      writer=history)
    samples: list[object] = []
    monitor.on_sample(samples.append)
    wake = threading.Event()
    # Like the tray app's worker: the monitor on a daemon thread, waiting between samples on an event.
    th = threading.Thread(target=monitor.run, kwargs={"realtime_wait": wake.wait}, daemon=True)
    th.start()
    try:
        assert reached.wait(30.0), f"the camera never reached {state!r}"
        if state == "open":
            deadline = time.monotonic() + 30.0
            while not samples and time.monotonic() < deadline:
                time.sleep(0.05)
        time.sleep(0.2)
        t0 = time.monotonic()
        monitor.stop()
        wake.set()
        th.join(10.0)
        took = time.monotonic() - t0
        assert not th.is_alive(), "the monitor did not stop"
        # No waiting for the open, the settling or the hung read (the stall guard's deadlines are 5 and 15 s);
        # a call still inside the driver gets the guard's 0.5 s close grace.
        assert took < 2.5, f"{took:.1f} s to stop"
        assert history.flushes >= 1 and history.kinds[-1] == "session_end"
        if state == "stalled":
            assert rig.light_on  # still inside the driver: nobody may release it under the read...
            rig.unstall()
        # ...and once the driver returns (the slow open completing, the hung read failing), the
        # abandoned guard releases it on its own thread.
        deadline = time.monotonic() + 5.0
        while rig.light_on and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not rig.light_on
        assert rig.closes == rig.opens
        assert rig.violations == []
    finally:
        finder.close()


_STUCK_AT_EXIT = """
import sys, threading
from posture.sources import FrameSource
from posture.stall import StallGuard

class Stuck(FrameSource):
    live = True
    native = {native}

    def open(self): pass
    def read(self): threading.Event().wait()  # hangs for ever, like a driver
    def close(self): pass

g = StallGuard(Stuck(), read_timeout_s=0.1)
g.open()
try:
    g.read()
except Exception as exc:
    print("stalled:", exc, flush=True)
g.close()
sys.exit(3)
"""


@pytest.mark.parametrize("native", [True, False])
def test_a_read_stuck_at_exit_ends_the_process_at_once_only_when_it_is_native_code(native: bool) -> None:
    """A native read stuck in a driver at exit: 2 s grace, then the process ends (status 0, a quit), so
    the thread never comes back mid-finalization. A pure-Python one is left to stop with its thread, and
    the process keeps its own exit status (a test run's failures are not turned into a pass)."""
    t0 = time.monotonic()
    done = subprocess.run([sys.executable, "-c", _STUCK_AT_EXIT.format(native=native)], capture_output=True,
                          text=True, timeout=60, cwd=HERE.parent)
    took = time.monotonic() - t0
    assert "stalled:" in done.stdout, done.stdout + done.stderr
    assert done.returncode == (0 if native else 3), done.stderr
    assert "Traceback" not in done.stderr
    assert took < 20.0
