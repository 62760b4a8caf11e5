"""Screen lock and 'pause while these apps run': pure parsing per platform, and the monitor releasing
the camera while the environment says so."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from posture.clock import FakeClock
from posture.environment import (
    Environment,
    linux_lock_probe,
    match_running,
    normalise_app,
    parse_ioreg_locked,
    parse_locked_hint,
    parse_screensaver_active,
    parse_tasklist_csv,
    proc_names,
)
from posture.monitor import Monitor
from posture.settings import Settings

from ui_helpers import FakeFinder, StillSource


def test_app_names_match_however_they_are_written() -> None:
    assert normalise_app("Zoom.exe") == "zoom"
    assert normalise_app(r"C:\Program Files\Teams\Teams.EXE") == "teams"
    assert normalise_app("/Applications/zoom.us.app") == "zoom.us"
    assert match_running(["Zoom", "obs"], {"bash", "zoom", "Xorg"}) == "Zoom"
    assert match_running(["Teams"], {"teams.exe"}) == "Teams"
    assert match_running(["zoom"], {"zoomer"}) is None
    assert match_running([], {"zoom"}) is None


def test_lock_outputs_of_each_platform() -> None:
    assert parse_locked_hint("yes\n") is True and parse_locked_hint("no\n") is False
    assert parse_locked_hint("") is None
    assert parse_screensaver_active("(true,)\n") is True and parse_screensaver_active("(false,)") is False
    locked = '+-o Root  <class IORegistryEntry>\n    "IOConsoleUsers" = ({"CGSSessionScreenIsLocked"=Yes})'
    unlocked = '+-o Root  <class IORegistryEntry>\n    "IOConsoleUsers" = ({"kCGSSessionOnConsoleKey"=Yes})'
    assert parse_ioreg_locked(locked) is True and parse_ioreg_locked(unlocked) is False
    assert parse_ioreg_locked("") is None
    assert parse_tasklist_csv('"zoom.exe","1234","Console","1","120,000 K"\r\n"explorer.exe","2",""') == {
        "zoom.exe", "explorer.exe"}


def test_linux_lock_probe_asks_logind_then_the_screensaver() -> None:
    asked: list[list[str]] = []

    def run(cmd: list[str]) -> str | None:
        asked.append(cmd)
        return None if cmd[0] == "loginctl" else "(true,)"

    assert linux_lock_probe(run) is True
    assert asked[0][:2] == ["loginctl", "show-session"] and "LockedHint" in asked[0]
    assert asked[1][0] == "gdbus" and "org.freedesktop.ScreenSaver.GetActive" in asked[1]
    assert linux_lock_probe(lambda cmd: "yes") is True


def test_proc_names_reads_comm_and_the_program_path(tmp_path: Path) -> None:
    for pid, comm, argv0 in (("12", "zoom", b"/opt/zoom/zoom"), ("40", "python3", b"/usr/bin/python3")):
        (tmp_path / pid).mkdir()
        (tmp_path / pid / "comm").write_text(comm + "\n")
        (tmp_path / pid / "cmdline").write_bytes(argv0 + b"\0--flag\0")
    (tmp_path / "self").mkdir()
    names = proc_names(tmp_path)
    assert {"zoom", "/opt/zoom/zoom", "python3"} <= names
    assert match_running(["zoom"], names) == "zoom"


def test_environment_reasons_and_a_probe_that_cannot_tell() -> None:
    settings = replace(Settings(), pause_apps=("zoom",))
    locked = [False]
    env = Environment(lock_probe=lambda: locked[0], process_lister=lambda: {"bash"})
    assert env.pause_reason(settings) is None
    locked[0] = True
    assert env.pause_reason(settings) == "screen_locked"
    env2 = Environment(lock_probe=lambda: False, process_lister=lambda: {"zoom.exe"})
    assert env2.pause_reason(settings) == "app:zoom"
    calls = [0]

    def unknown() -> None:
        calls[0] += 1
        return None

    env3 = Environment(lock_probe=unknown, process_lister=lambda: set())
    assert env3.pause_reason(settings) is None and env3.pause_reason(settings) is None
    assert calls[0] == 1, "a probe that cannot tell is not asked every ten seconds"


def test_the_monitor_releases_the_camera_while_the_screen_is_locked() -> None:
    locked = [False]
    env = Environment(lock_probe=lambda: locked[0], process_lister=lambda: set())
    camera = StillSource()
    clock = FakeClock()
    monitor = Monitor(lambda: camera, FakeFinder(), clock, Settings(), environment=env)  # type: ignore[arg-type]
    for _ in range(3):
        clock.advance(monitor.step())
    assert monitor.camera_open
    locked[0] = True
    clock.advance(11.0)  # the environment is asked every ten seconds
    monitor.step()
    assert not monitor.camera_open and monitor.status.paused_reason == "screen_locked"
    assert camera.closes >= 1
    locked[0] = False
    clock.advance(11.0)
    monitor.step()
    assert monitor.camera_open and monitor.status.paused_reason is None
