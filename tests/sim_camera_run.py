"""`posture ...` with the camera simulator standing in for `cv2.VideoCapture`: the product's own command
line, signal handling and shutdown, on a camera in a chosen state (used by the shutdown tests).

    python tests/sim_camera_run.py STATE posture-arguments...

STATE: `open` (a normal camera), `opening` (a slow camera: open() takes 1.5 s), `settling` (the
picture never settles), `stalled` (reads hang in the driver 2.5 s after the start). The simulator
prints `camera_sim: <what>` lines as the camera changes state, and a summary at exit (after the
product's own exit handlers, which run later than this one is registered).
"""

from __future__ import annotations

import atexit
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cv2
from camera_sim import Behaviour, CameraRig, upright

from posture.clock import SystemClock

BEHAVIOUR = {
    "open": Behaviour(),
    "opening": Behaviour(open_latency_s=1.5),
    "settling": Behaviour(flicker=0.08),
    "stalled": Behaviour(),
}


def main() -> int:
    state, argv = sys.argv[1], sys.argv[2:]
    clock = SystemClock()
    rig = CameraRig(clock, upright(), BEHAVIOUR[state])
    rig.trace = lambda what: print(f"camera_sim: {what}", flush=True)
    if state == "stalled":
        rig.at(clock.monotonic() + 2.5, rig.stall)
    cv2.VideoCapture = rig.capture  # type: ignore[assignment,misc]  # camera 0 is now the simulator

    from posture.cli import main as posture

    def summary() -> None:
        print(f"camera_sim: exit light_on={rig.light_on} opens={rig.opens} closes={rig.closes} "
              f"violations={len(rig.violations)}", flush=True)

    atexit.register(summary)  # runs last: after anything the product registered at exit
    return posture(argv)


if __name__ == "__main__":
    sys.exit(main())
