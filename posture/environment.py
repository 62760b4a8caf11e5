"""Is now a moment to watch? Screen lock and "pause while these apps run", probed the cheapest way each
platform allows. The monitor asks `pause_reason(settings)` every ten seconds and releases the camera
while it answers anything but None.

Every probe is best effort: a platform or desktop where a probe cannot tell answers "not locked" /
"nothing running" rather than guessing, and a probe that failed once is not retried on every call
(a missing `loginctl` should cost one failed spawn per session, not one every ten seconds).

Pure parts (`match_running`, `parse_*`) take text and return answers so every platform's logic is
tested here; the probes that spawn processes or read /proc are thin and injectable.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from posture.settings import Settings

PROBE_TIMEOUT_S = 2.0

LockProbe = Callable[[], bool | None]  # True locked, False unlocked, None cannot tell
ProcessLister = Callable[[], set[str]]


# --- pure parts ----------------------------------------------------------------------------------

def normalise_app(name: str) -> str:
    """'Zoom.exe', 'zoom', '/usr/bin/zoom ' → 'zoom': what a person types matches what the OS lists."""
    base = name.strip().replace("\\", "/").rsplit("/", 1)[-1].lower()
    for suffix in (".exe", ".app"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    return base


def match_running(wanted: Iterable[str], running: Iterable[str]) -> str | None:
    """The first app of `wanted` (as the user wrote it) that is running, else None."""
    names = {normalise_app(r) for r in running if r.strip()}
    for app in wanted:
        if normalise_app(app) in names:
            return app.strip()
    return None


def parse_locked_hint(text: str) -> bool | None:
    """`loginctl show-session ID -p LockedHint --value` prints 'yes' or 'no'."""
    value = text.strip().lower()
    if value in ("yes", "true", "1"):
        return True
    if value in ("no", "false", "0"):
        return False
    return None


def parse_screensaver_active(text: str) -> bool | None:
    """`gdbus call … org.freedesktop.ScreenSaver.GetActive` prints '(true,)' or '(false,)'."""
    value = text.strip().lower()
    if "true" in value:
        return True
    if "false" in value:
        return False
    return None


def parse_ioreg_locked(text: str) -> bool | None:
    """macOS `ioreg -n Root -d1 -a`/plain output carries "CGSSessionScreenIsLocked"=Yes while locked."""
    for line in text.splitlines():
        if "CGSSessionScreenIsLocked" in line:
            return "yes" in line.lower() or "true" in line.lower()
    # The key is absent while the session is unlocked.
    return False if "IOConsoleUsers" in text else None


def parse_tasklist_csv(text: str) -> set[str]:
    """`tasklist /fo csv /nh` lines: "zoom.exe","1234",… → {'zoom.exe'}."""
    out = set()
    for line in text.splitlines():
        line = line.strip()
        if line.startswith('"'):
            out.add(line.split('","', 1)[0].strip('"'))
    return out


def proc_names(proc: Path = Path("/proc")) -> set[str]:
    """Linux: program names from /proc/<pid>/comm and the first word of cmdline (comm is cut at 15 chars)."""
    names: set[str] = set()
    try:
        entries = list(proc.iterdir())
    except OSError:
        return names
    for entry in entries:
        if not entry.name.isdigit():
            continue
        try:
            names.add((entry / "comm").read_text(encoding="utf-8", errors="replace").strip())
            argv0 = (entry / "cmdline").read_bytes().split(b"\0", 1)[0].decode("utf-8", "replace")
            if argv0:
                names.add(argv0)
        except OSError:  # the process ended meanwhile, or belongs to someone else
            continue
    return names


# --- probes --------------------------------------------------------------------------------------

def _run(cmd: list[str]) -> str | None:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def linux_lock_probe(run: Callable[[list[str]], str | None] = _run) -> bool | None:
    session = os.environ.get("XDG_SESSION_ID") or "auto"
    hint = run(["loginctl", "show-session", session, "-p", "LockedHint", "--value"])
    if hint is not None and (answer := parse_locked_hint(hint)) is not None:
        return answer
    # Desktops that do not set LockedHint usually run a screensaver service on the session bus.
    out = run(["gdbus", "call", "--session", "--dest", "org.freedesktop.ScreenSaver", "--object-path",
               "/org/freedesktop/ScreenSaver", "--method", "org.freedesktop.ScreenSaver.GetActive"])
    return parse_screensaver_active(out) if out is not None else None


def macos_lock_probe(run: Callable[[list[str]], str | None] = _run) -> bool | None:
    out = run(["ioreg", "-n", "Root", "-d1"])
    return parse_ioreg_locked(out) if out is not None else None


def windows_lock_probe() -> bool | None:
    """The input desktop cannot be opened while the lock screen (Winlogon's desktop) has it."""
    try:
        import ctypes

        user32 = ctypes.windll.user32  # type: ignore[attr-defined]
        desk = user32.OpenInputDesktop(0, False, 0x0100)  # DESKTOP_SWITCHDESKTOP
        if not desk:
            return True
        user32.CloseDesktop(desk)
        return False
    except Exception:
        return None


def default_lock_probe(platform: str = sys.platform) -> LockProbe:
    if platform.startswith("linux"):
        return linux_lock_probe
    if platform == "darwin":
        return macos_lock_probe
    if platform.startswith("win"):
        return windows_lock_probe
    return lambda: None


def default_process_lister(platform: str = sys.platform) -> ProcessLister:
    try:
        import psutil  # optional: the most reliable lister where installed

        def with_psutil() -> set[str]:
            return {p.info.get("name") or "" for p in psutil.process_iter(["name"])}

        return with_psutil
    except ImportError:
        pass
    if platform.startswith("linux"):
        return proc_names
    if platform.startswith("win"):
        return lambda: parse_tasklist_csv(_run(["tasklist", "/fo", "csv", "/nh"]) or "")
    if platform == "darwin":
        return lambda: {line.strip() for line in (_run(["ps", "-axco", "comm"]) or "").splitlines()[1:]}
    return set


class Environment:
    """What the monitor asks every ten seconds: a reason to stop watching, or None."""

    def __init__(self, lock_probe: LockProbe | None = None, process_lister: ProcessLister | None = None,
                 platform: str = sys.platform) -> None:
        self._lock_probe = lock_probe or default_lock_probe(platform)
        self._lister = process_lister or default_process_lister(platform)
        self._lock_broken = False  # a probe that cannot tell is not asked again this session

    def screen_locked(self) -> bool:
        if self._lock_broken:
            return False
        try:
            answer = self._lock_probe()
        except Exception:
            answer = None
        if answer is None:
            self._lock_broken = True
            return False
        return answer

    def running_app(self, wanted: Iterable[str]) -> str | None:
        wanted = [w for w in wanted if w.strip()]
        if not wanted:
            return None  # no list, no process scan
        try:
            return match_running(wanted, self._lister())
        except Exception:
            return None

    def pause_reason(self, settings: Settings) -> str | None:
        if self.screen_locked():
            return "screen_locked"
        app = self.running_app(getattr(settings, "pause_apps", ()))
        return f"app:{app}" if app else None
