"""Start the companion at login: one small file in the place each desktop looks.

- Linux (and other XDG desktops): `posture-companion.desktop` in `$XDG_CONFIG_HOME/autostart`.
- macOS: a LaunchAgent `org.posturecompanion.tray.plist` in `~/Library/LaunchAgents` (RunAtLoad).
- Windows: `Posture Companion.lnk` in the Startup folder, made by PowerShell through the WScript.Shell
  COM object. Why that: it ships with every supported Windows, needs no extra Python package (pywin32),
  and a shortcut can start `pythonw.exe` with arguments and no console window. Where PowerShell is
  missing or blocked by policy, a `Posture Companion.cmd` fallback is written instead (it works
  everywhere, at the cost of a console flashing up for a moment at login).

Every function takes the target folder, so all three platforms are tested on any machine. No Qt here.
"""

from __future__ import annotations

import os
import plistlib
import shlex
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

APP_NAME = "Posture Companion"
LINUX_FILE = "posture-companion.desktop"
MAC_LABEL = "org.posturecompanion.tray"
MAC_FILE = f"{MAC_LABEL}.plist"
WIN_LINK = f"{APP_NAME}.lnk"
WIN_FALLBACK = f"{APP_NAME}.cmd"

Runner = Callable[[Sequence[str]], int]


def platform_key(platform: str = sys.platform) -> str:
    if platform.startswith("win"):
        return "windows"
    if platform == "darwin":
        return "macos"
    return "linux"


def launch_command(platform: str = sys.platform, python: str | None = None) -> list[str]:
    """How login starts the app: this interpreter running `python -m posture run`."""
    exe = python or sys.executable
    if platform_key(platform) == "windows":
        # pythonw.exe beside python.exe runs without a console window.
        windowless = Path(exe).with_name("pythonw.exe")
        if python is None and windowless.exists():
            exe = str(windowless)
    return [exe, "-m", "posture", "run"]


def default_dir(platform: str = sys.platform, home: Path | None = None,
                env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ) if env is None else env
    home = home or Path.home()
    key = platform_key(platform)
    if key == "macos":
        return home / "Library" / "LaunchAgents"
    if key == "windows":
        appdata = Path(env.get("APPDATA") or home / "AppData" / "Roaming")
        return appdata / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "Startup"
    return Path(env.get("XDG_CONFIG_HOME") or home / ".config") / "autostart"


# --- Linux ---------------------------------------------------------------------------------------

def _desktop_exec(command: Sequence[str]) -> str:
    # The Exec key quotes like a shell but also reserves '%' (field codes), which must be doubled.
    return " ".join(shlex.quote(part) for part in command).replace("%", "%%")


def desktop_entry(command: Sequence[str]) -> str:
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        f"Name={APP_NAME}",
        "Comment=Gentle posture nudges and short neck-care breaks",
        f"Exec={_desktop_exec(command)}",
        "Icon=posture-companion",
        "Terminal=false",
        "X-GNOME-Autostart-enabled=true",
        "X-GNOME-Autostart-Delay=10",
        "",
    ])


# --- macOS ---------------------------------------------------------------------------------------

def launch_agent(command: Sequence[str]) -> bytes:
    return plistlib.dumps({
        "Label": MAC_LABEL,
        "ProgramArguments": list(command),
        "RunAtLoad": True,
        # Interactive: the app has a menu-bar icon and must not be throttled like a daemon.
        "ProcessType": "Interactive",
        "KeepAlive": False,
    })


# --- Windows -------------------------------------------------------------------------------------

def _ps_quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _win_args(args: Sequence[str]) -> str:
    return " ".join(f'"{a}"' if (" " in a or not a) else a for a in args)


def shortcut_script(link: Path, command: Sequence[str]) -> str:
    """PowerShell that writes the Startup shortcut through WScript.Shell (present on every Windows)."""
    target, *args = command
    return "; ".join([
        "$s = (New-Object -ComObject WScript.Shell).CreateShortcut(" + _ps_quote(str(link)) + ")",
        "$s.TargetPath = " + _ps_quote(target),
        "$s.Arguments = " + _ps_quote(_win_args(args)),
        "$s.WorkingDirectory = " + _ps_quote(str(Path(target).parent)),
        "$s.Description = " + _ps_quote(APP_NAME),
        "$s.WindowStyle = 7",  # minimised: nothing flashes up even if a console is involved
        "$s.Save()",
    ])


def cmd_fallback(command: Sequence[str]) -> str:
    target, *args = command
    return f'@echo off\r\nstart "" "{target}" {_win_args(args)}\r\n'


def _run_powershell(argv: Sequence[str]) -> int:
    try:
        return subprocess.run(list(argv), capture_output=True, timeout=30, check=False).returncode
    except (OSError, subprocess.SubprocessError):
        return -1


# --- one interface for all three -----------------------------------------------------------------

def entry_path(folder: Path, platform: str = sys.platform) -> Path:
    key = platform_key(platform)
    return folder / {"linux": LINUX_FILE, "macos": MAC_FILE, "windows": WIN_LINK}[key]


def is_enabled(folder: Path, platform: str = sys.platform) -> bool:
    if platform_key(platform) == "windows":
        return (folder / WIN_LINK).exists() or (folder / WIN_FALLBACK).exists()
    return entry_path(folder, platform).exists()


def enable(folder: Path, command: Sequence[str] | None = None, platform: str = sys.platform,
           run: Runner = _run_powershell) -> Path:
    """Write the autostart entry into `folder` and return its path. Raises OSError if it cannot."""
    command = list(command or launch_command(platform))
    folder.mkdir(parents=True, exist_ok=True)
    key = platform_key(platform)
    if key == "linux":
        path = folder / LINUX_FILE
        _write_atomic(path, desktop_entry(command).encode("utf-8"))
        return path
    if key == "macos":
        path = folder / MAC_FILE
        _write_atomic(path, launch_agent(command))
        return path
    link = folder / WIN_LINK
    code = run(["powershell", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-Command",
                shortcut_script(link, command)])
    if code == 0 and link.exists():
        (folder / WIN_FALLBACK).unlink(missing_ok=True)
        return link
    path = folder / WIN_FALLBACK
    _write_atomic(path, cmd_fallback(command).encode("utf-8"))
    return path


def disable(folder: Path, platform: str = sys.platform) -> None:
    names = (WIN_LINK, WIN_FALLBACK) if platform_key(platform) == "windows" else (entry_path(folder, platform).name,)
    for name in names:
        (folder / name).unlink(missing_ok=True)


def set_enabled(on: bool, folder: Path | None = None, platform: str = sys.platform) -> None:
    folder = folder or default_dir(platform)
    if on:
        enable(folder, platform=platform)
    else:
        disable(folder, platform)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
