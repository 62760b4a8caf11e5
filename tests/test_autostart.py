"""Autostart entries for Linux, macOS and Windows, each written into a temporary folder."""

from __future__ import annotations

import configparser
import plistlib
import shlex
from collections.abc import Sequence
from pathlib import Path

from ui import autostart

COMMAND = ["/opt/My Python/bin/python3", "-m", "posture", "run"]


def test_linux_desktop_entry_in_xdg_autostart(tmp_path: Path) -> None:
    folder = autostart.default_dir("linux", home=tmp_path, env={"XDG_CONFIG_HOME": str(tmp_path / "cfg")})
    assert folder == tmp_path / "cfg" / "autostart"
    assert autostart.default_dir("linux", home=tmp_path, env={}) == tmp_path / ".config" / "autostart"
    assert not autostart.is_enabled(folder, "linux")
    path = autostart.enable(folder, COMMAND, platform="linux")
    assert path == folder / "posture-companion.desktop" and autostart.is_enabled(folder, "linux")
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(path, encoding="utf-8")
    desktop = entry["Desktop Entry"]
    assert desktop["Type"] == "Application" and desktop["Name"] == "Posture Companion"
    assert shlex.split(desktop["Exec"]) == COMMAND, "a path with a space survives quoting"
    assert desktop["Terminal"] == "false"
    autostart.disable(folder, "linux")
    assert not path.exists() and not autostart.is_enabled(folder, "linux")


def test_linux_exec_doubles_percent_signs(tmp_path: Path) -> None:
    text = autostart.desktop_entry(["/home/a%b/python", "-m", "posture", "run"])
    assert "Exec=/home/a%%b/python -m posture run" in text


def test_macos_launch_agent(tmp_path: Path) -> None:
    folder = autostart.default_dir("darwin", home=tmp_path)
    assert folder == tmp_path / "Library" / "LaunchAgents"
    path = autostart.enable(folder, COMMAND, platform="darwin")
    assert path.name == "org.posturecompanion.tray.plist"
    plist = plistlib.loads(path.read_bytes())
    assert plist["Label"] == "org.posturecompanion.tray"
    assert plist["ProgramArguments"] == COMMAND and plist["RunAtLoad"] is True
    assert autostart.is_enabled(folder, "darwin")
    autostart.disable(folder, "darwin")
    assert not autostart.is_enabled(folder, "darwin")


def test_windows_shortcut_through_powershell(tmp_path: Path) -> None:
    folder = autostart.default_dir("win32", home=tmp_path, env={"APPDATA": str(tmp_path / "Roaming")})
    assert folder == tmp_path / "Roaming" / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "Startup"
    ran: list[list[str]] = []
    command = [r"C:\Program Files\Python311\pythonw.exe", "-m", "posture", "run"]

    def powershell(argv: Sequence[str]) -> int:
        ran.append(list(argv))
        (folder / "Posture Companion.lnk").write_bytes(b"L\x00\x00\x00")  # what WScript.Shell would write
        return 0

    path = autostart.enable(folder, command, platform="win32", run=powershell)
    assert path == folder / "Posture Companion.lnk" and autostart.is_enabled(folder, "win32")
    script = ran[0][-1]
    assert ran[0][0] == "powershell" and "-NoProfile" in ran[0]
    assert "WScript.Shell" in script and "CreateShortcut" in script
    assert r"$s.TargetPath = 'C:\Program Files\Python311\pythonw.exe'" in script
    assert "$s.Arguments = '-m posture run'" in script
    assert not (folder / "Posture Companion.cmd").exists()
    autostart.disable(folder, "win32")
    assert not autostart.is_enabled(folder, "win32")


def test_windows_falls_back_to_a_cmd_file_without_powershell(tmp_path: Path) -> None:
    folder = tmp_path / "Startup"
    command = [r"C:\Users\O'Brien\py\pythonw.exe", "-m", "posture", "run"]
    path = autostart.enable(folder, command, platform="win32", run=lambda argv: 1)
    assert path.name == "Posture Companion.cmd" and autostart.is_enabled(folder, "win32")
    text = path.read_bytes().decode("utf-8")
    assert text.startswith("@echo off\r\n")
    assert "start \"\" \"C:\\Users\\O'Brien\\py\\pythonw.exe\" -m posture run" in text
    # Quotes in a path are escaped for PowerShell's single-quoted strings.
    assert "O''Brien" in autostart.shortcut_script(folder / "x.lnk", command)


def test_launch_command_runs_this_interpreter() -> None:
    cmd = autostart.launch_command("linux", python="/usr/bin/python3")
    assert cmd == ["/usr/bin/python3", "-m", "posture", "run"]
