"""`posture ...` with the camera simulator standing in for `cv2.VideoCapture`: the product's own command
line, signal handling and shutdown, on a camera in a chosen state (used by the shutdown tests).

    python tests/sim_camera_run.py STATE posture-arguments...

STATE: `open` (a normal camera), `opening` (a slow camera: open() takes 1.5 s), `settling` (the
picture never settles), `stalled` (reads hang in the driver 2.5 s after the start). The simulator
prints `camera_sim: <what>` lines as the camera changes state, and a summary at exit (after the
product's own exit handlers, which run later than this one is registered).

CAMERA_SIM_TRAY=1 runs `posture run` as the tray app even without a display (Qt offscreen).
CAMERA_SIM_SIZE=640x480 letterboxes the clip onto a sensor of that size; CAMERA_SIM_CLIP_FPS (default
5) is how many distinct pictures per second the recording keeps (the camera's own rate is 30 fps).

The module also holds what the tests that drive a live loop share: a child process's output read line by
line (`spawn`, `read_until`, `wait_for`), a signal sent once the child reached a state (`signal_when`),
and the monitor run on a thread with a hang guard (`run_guarded`).
"""

from __future__ import annotations

import atexit
import os
import queue
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cv2
from camera_sim import Behaviour, CameraRig, upright

from posture.clock import SystemClock

if TYPE_CHECKING:
    from posture.monitor import Monitor

BEHAVIOUR = {
    "open": Behaviour(),
    "opening": Behaviour(open_latency_s=1.5),
    "settling": Behaviour(flicker=0.08),
    "stalled": Behaviour(),
}


# --- shared by the tests that drive a live loop ---------------------------------------------------------

EOF_LINE = ""  # what the line queue holds once the child closed its output


def spawn(args: list[str], env: dict[str, str], cwd: Path, new_session: bool = False,
          ) -> tuple[subprocess.Popen[str], queue.Queue[str]]:
    """Start `args` with stdout and stderr as one text stream, pumped into a queue line by line on a
    thread: a test can then wait for a line with a timeout instead of blocking in a read."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=cwd,
                            start_new_session=new_session)
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(EOF_LINE)

    threading.Thread(target=pump, daemon=True).start()
    return proc, lines


def read_until(lines: queue.Queue[str], needle: str | None, timeout: float) -> tuple[list[str], bool]:
    """The lines read until one holds `needle` (found: True), the output ends or `timeout` passes."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        if line == EOF_LINE:
            return seen, False
        seen.append(line)
        if needle is not None and needle in line:
            return seen, True
    return seen, False


def wait_for(lines: queue.Queue[str], needle: str, timeout: float = 90.0) -> list[str]:
    """`read_until`, failing the test (with the output so far) when `needle` never shows."""
    import pytest

    seen, found = read_until(lines, needle, timeout)
    if not found:
        pytest.fail(f"no {needle!r} within {timeout:g} s; output so far:\n{''.join(seen)}")
    return seen


@dataclass(frozen=True)
class Stopped:
    """How a child ended after a signal: its status, the seconds from the signal, and what it printed
    before the signal and after it."""

    rc: int
    took: float
    before: list[str]
    after: list[str]

    @property
    def out(self) -> str:
        return "".join(self.before + self.after)


def signal_when(proc: subprocess.Popen[str], lines: queue.Queue[str], mark: str, sig: int, settle_s: float,
                what: str) -> Stopped:
    """Wait (90 s at most) for a line holding `mark`, let `settle_s` pass, send `sig` and wait (30 s at
    most) for the exit. The child is killed if it is still there when this returns or fails."""
    try:
        before, found = read_until(lines, mark, 90.0)
        assert found, f"the camera never reached {what!r}:\n{''.join(before)}"
        time.sleep(settle_s)
        sent = time.monotonic()
        proc.send_signal(sig)
        rc = proc.wait(30)
        took = time.monotonic() - sent
        after, _ = read_until(lines, None, 2.0)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return Stopped(rc, took, before, after)


def run_guarded(monitor: Monitor, max_seconds: float | None = None, *, hang_s: float) -> None:
    """Run the monitor's loop on a thread and fail the test, instead of hanging the suite, if it is still
    running after `hang_s` real seconds; an exception in the loop is raised here."""
    import pytest

    errors: list[BaseException] = []

    def body() -> None:
        try:
            monitor.run(max_seconds=max_seconds)
        except BaseException as exc:
            errors.append(exc)

    th = threading.Thread(target=body, daemon=True)
    th.start()
    th.join(hang_s)
    if th.is_alive():
        monitor.stop()
        th.join(5.0)
        pytest.fail(f"the monitor loop hung (still running after {hang_s:g} s)")
    if errors:
        raise errors[0]


def main() -> int:
    state, argv = sys.argv[1], sys.argv[2:]
    clock = SystemClock()
    size = os.environ.get("CAMERA_SIM_SIZE")
    wh = tuple(int(v) for v in size.split("x")) if size else None
    recording = upright(float(os.environ.get("CAMERA_SIM_CLIP_FPS", "5")), wh)  # type: ignore[arg-type]
    rig = CameraRig(clock, recording, BEHAVIOUR[state])
    rig.trace = lambda what: print(f"camera_sim: {what}", flush=True)
    if state == "stalled":
        rig.at(clock.monotonic() + 2.5, rig.stall)
    cv2.VideoCapture = rig.capture  # type: ignore[assignment,misc]  # camera 0 is now the simulator

    if os.environ.get("CAMERA_SIM_TRAY") == "1":
        # The tray app itself (Qt offscreen, where it shows its status window), not the headless fallback.
        import ui.run_cmd

        ui.run_cmd.has_display = lambda: True

    from posture.cli import main as posture

    def summary() -> None:
        print(f"camera_sim: exit light_on={rig.light_on} opens={rig.opens} closes={rig.closes} "
              f"violations={len(rig.violations)} grabs={rig.grabs} decodes={rig.decodes} "
              f"delivered={rig.frames_delivered} dropped={rig.frames_dropped} light_s={rig.light_on_s():.1f}",
              flush=True)

    atexit.register(summary)  # runs last: after anything the product registered at exit
    return posture(argv)


if __name__ == "__main__":
    sys.exit(main())
