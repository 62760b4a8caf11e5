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
"""

from __future__ import annotations

import atexit
import os
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
