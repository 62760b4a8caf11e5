"""No network traffic from native code either: the pose backend of this install runs under `strace`.

tests/test_no_network.py traps Python's sockets, which native libraries never use: mediapipe 0.10.35
and later (the Tasks backend's wheels on Python 3.13) carry Google's "clearcut" usage logging in
libmediapipe.so, whose own thread looks up and posts to play.googleapis.com behind Python's back
(google-ai-edge/mediapipe issue #6291). Only the kernel sees that, so this test asks it: a child
process builds every model this install's backend runs (the monitor's pose and face source, the
watched break's tracking pose, the face keypoint detector), feeds them real frames of a person for
~15 s (the logger may wait before it uploads), and `strace -f` records every socket call of every
thread. Any connect/sendto/sendmsg/sendmmsg to an IPv4/IPv6 address fails the test, and so does a
DNS lookup through a local resolver socket (nscd, systemd-resolved): a lookup is the first step of a
phone call home even when no network is up to carry it. The child also connects a UDP socket to
127.0.0.1 from a thread of its own (which sends nothing): the trace must show it, or the test proves
nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "sample_videos" / "ex_head_turns.mp4"  # one person, facing the camera and turning
WATCH_SECONDS = 15.0

# The child: this install's backends through the app's own factories, so it runs what the app runs.
CHILD = textwrap.dedent(
    """
    import socket, sys, threading, time
    import cv2
    from posture.pose import backend_name, make_backends
    from posture.exercise.watch import make_watch_pose
    from posture.exercise.face import make_face_keypoints

    clip, seconds = sys.argv[1], float(sys.argv[2])

    def canary():
        # Proof that the tracer sees every thread's socket calls: connecting a UDP socket only sets
        # its default peer, so this sends nothing, yet strace must record it.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("127.0.0.1", 9))

    thread = threading.Thread(target=canary)
    thread.start()
    thread.join()
    cap = cv2.VideoCapture(clip)
    frames = []
    while len(frames) < 60:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    if not frames:
        sys.exit(f"could not read {clip}")
    pose, crop, faces = make_backends(None, True)
    watch = make_watch_pose()
    keypoints = make_face_keypoints()
    start = time.monotonic()
    found = {"pose": 0, "faces": 0, "watch": 0, "keypoints": 0}
    i = 0
    while time.monotonic() - start < seconds:
        frame = frames[i % len(frames)]
        found["pose"] += pose.detect(frame) is not None
        found["faces"] += len(faces.faces(frame)) > 0
        watched = watch.detect_at(frame, i / 10) if hasattr(watch, "detect_at") else watch.detect(frame)
        found["watch"] += watched is not None
        found["keypoints"] += keypoints.detect(frame, watched) is not None
        i += 1
        time.sleep(0.3)  # a look every few hundred ms, like the app; the process stays up meanwhile
    for model in {id(m): m for m in (pose, crop, faces, watch, keypoints) if m is not None}.values():
        model.close()
    print("backend", backend_name(), "looks", i, *(f"{k}={v}" for k, v in found.items()))
    """
)

# A socket call carrying an internet address (connect, sendto, sendmsg, sendmmsg all name it, even
# for UDP), or a connect to a local name service that would resolve a host name for the caller.
OUTBOUND = re.compile(r"\b(connect|sendto|sendmsg|sendmmsg)\(")
INET = re.compile(r"sa_family=AF_INET6?\b")
RESOLVER = re.compile(r'sun_path="[^"]*(nscd|resolve)[^"]*"')
CANARY = 'sin_port=htons(9), sin_addr=inet_addr("127.0.0.1")'


def outbound_calls(trace: str) -> list[str]:
    """The lines of an `strace -f -e trace=network` log that try to reach the network."""
    return [line for line in trace.splitlines()
            if OUTBOUND.search(line) and (INET.search(line) or RESOLVER.search(line))]


def test_the_parser_sees_the_calls_that_leave_the_machine() -> None:
    # Lines as strace printed them for mediapipe 1.2.3 (the DNS lookup of play.googleapis.com) and for
    # the local work every process does, which must not count.
    trace = "\n".join([
        '9570  connect(6, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.255.255.53")}, 16) = 0',
        '9570  sendto(7, "x", 1, 0, {sa_family=AF_INET6, sin6_port=htons(443), '
        'sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 1',
        '9571  connect(8, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT',
        '9541  socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 3',
        '9541  connect(4, {sa_family=AF_UNIX, sun_path="/run/user/0/bus"}, 110) = 0',
        '9541  sendmsg(4, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="hello", iov_len=5}]}, 0) = 5',
    ])
    found = outbound_calls(trace)
    assert len(found) == 3
    assert all("9570" in line or "nscd" in line for line in found)


def _strace_usable(tmp_path: Path) -> str | None:
    """Why strace cannot watch a child here, or None when it can."""
    if shutil.which("strace") is None:
        return "strace is not installed (apt-get install strace)"
    probe = subprocess.run(["strace", "-f", "-o", str(tmp_path / "probe.trace"), "true"],
                           capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        return f"strace cannot trace a child here (ptrace not permitted?): {probe.stderr.strip()[:200]}"
    return None


@pytest.mark.slow
def test_the_pose_backend_sends_nothing_over_the_network(tmp_path: Path) -> None:
    reason = _strace_usable(tmp_path)
    if reason:
        pytest.skip(reason)
    trace_file = tmp_path / "net.trace"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    run = subprocess.run(
        ["strace", "-f", "-qq", "-s", "120", "-e", "trace=network", "-o", str(trace_file),
         sys.executable, "-c", CHILD, str(CLIP), str(WATCH_SECONDS)],
        capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    # The models really ran and saw the person: a child that failed early would trace nothing.
    summary = run.stdout.strip().splitlines()[-1]
    counts = dict(item.split("=") for item in summary.split() if "=" in item)
    looks = int(summary.split()[3])
    assert looks >= 10, summary
    assert all(int(n) >= looks // 2 for n in counts.values()), summary
    calls = outbound_calls(trace_file.read_text(errors="replace"))
    # The child's own canary, from a thread of its own: without it the trace proves nothing.
    assert any(CANARY in line for line in calls), "strace did not record the child's threads"
    calls = [line for line in calls if CANARY not in line]
    assert not calls, (f"the {summary.split()[1]} backend tried to reach the network "
                       f"(mediapipe telemetry? see README, Privacy):\n" + "\n".join(calls[:10]))
