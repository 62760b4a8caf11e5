"""The tray companion on a StatusNotifier tray: xfce4-panel's Status Tray plugin hosts the icon as a
StatusNotifierItem (what KDE, GNOME with the AppIndicator extension, xfce and most panels do today),
dunst shows the notices. Checked over the session bus and on screenshots."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import numpy as np

from desktop_helpers import DEMO, POSTURE, app_env, stop, wait_for
from xsession import XSession


def start_app(session: XSession, tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return session.popen([str(POSTURE), "run", "--source", str(DEMO), *args], tmp_path / "app.log", env)


def log_of(tmp_path: Path) -> str:
    path = tmp_path / "app.log"
    return path.read_text(errors="replace") if path.exists() else ""


def bus_pid(session: XSession, service: str) -> int | None:
    out = session.run(["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus", "/",
                       "org.freedesktop.DBus.GetConnectionUnixProcessID", f"string:{service}"], check=False).stdout
    found = re.search(r"uint32 (\d+)", out)
    return int(found.group(1)) if found else None


def our_items(session: XSession, pid: int) -> list[str]:
    """Registered items (as "service/path" or "service") that belong to process `pid`."""
    return [item for item in session.status_notifier_items() if bus_pid(session, item.split("/", 1)[0]) == pid]


def test_the_icon_registers_with_the_status_notifier_watcher(sni_desktop: XSession, tmp_path: Path,
                                                             shots: Path) -> None:
    empty = sni_desktop.screenshot(tmp_path / "panel_empty.png")[:32]
    env = app_env(sni_desktop, tmp_path)
    app = start_app(sni_desktop, tmp_path, env, "--calibrate-from", "0:8", "--loop", "--realtime",
                    "--no-history")
    try:
        wait_for(lambda: "icon is in the system tray" in log_of(tmp_path), "the app to start", timeout=90)
        assert "no tray here" not in log_of(tmp_path), "the panel's tray was found"
        wait_for(lambda: our_items(sni_desktop, app.pid), "the icon among the watcher's registered items",
                 timeout=30)
        (item,) = our_items(sni_desktop, app.pid)
        service, _, path = item.partition("/")
        path = "/" + path if path else "/StatusNotifierItem"
        status = sni_desktop.bus_property(service, path, "org.kde.StatusNotifierItem", "Status")
        assert 'string "Active"' in status, status
        wait_for(lambda: "Posture Companion" in sni_desktop.bus_property(
            service, path, "org.kde.StatusNotifierItem", "ToolTip"), "the icon's tooltip", timeout=30)
        time.sleep(2)
        panel = sni_desktop.screenshot(shots / "sni_tray.png")[:32]
        changed = np.abs(panel.astype(int) - empty.astype(int)).max(axis=2) > 40
        assert changed.sum() > 60, "the panel draws the icon"
        ys, xs = np.nonzero(changed)
        x, y = int(xs.mean()), int(ys.mean())
        # A right click shows the menu the app exports over D-Bus (com.canonical.dbusmenu), drawn by the
        # panel in its own toolkit; choosing an entry there must reach the app.
        assert not sni_desktop.windows("Posture Companion — history")
        sni_desktop.click(x, y, button=3)
        time.sleep(1.5)
        shot = sni_desktop.screenshot(shots / "sni_tray_menu.png")
        assert shot[40:250, x: x + 150].std() > 5, "a menu is drawn below the icon"
        # Pause ▸, Snooze ▸, Take a break now ▸, Why am I flagged?, Calibrate…, Profile ▸, Dashboard
        sni_desktop.keys(*(["Down"] * 7), "Return")
        sni_desktop.wait_window("Posture Companion — history", timeout=60)
        assert app.poll() is None
    finally:
        stop(app)
    wait_for(lambda: not our_items(sni_desktop, app.pid), "the icon to leave the tray with the app", timeout=20)


def test_notices_carry_actions_on_a_status_notifier_tray_and_a_click_does_what_they_offer(
        sni_desktop: XSession, tmp_path: Path, shots: Path) -> None:
    monitor = sni_desktop.popen(["dbus-monitor", "--session",
                                 "type='method_call',interface='org.freedesktop.Notifications',member='Notify'"],
                                tmp_path / "notify-calls.log")
    env = app_env(sni_desktop, tmp_path)
    app = start_app(sni_desktop, tmp_path, env, "--loop", "--realtime", "--no-history")
    try:
        wait_for(lambda: int(sni_desktop.run(["dunstctl", "count", "displayed"]).stdout.strip() or 0) >= 1,
                 "the welcome notice in dunst", timeout=90)
        sni_desktop.screenshot(shots / "sni_notification.png")
        calls = (tmp_path / "notify-calls.log").read_text(errors="replace")
        welcome = calls[calls.find("Welcome to Posture Companion"):]
        assert welcome, calls[-2000:]
        actions = re.search(r"array \[(.*?)\]", welcome, re.S)
        assert actions is not None and 'string "default"' in actions.group(1), \
            f"the notice offers its click as an action: {welcome[:800]}"
        assert not sni_desktop.windows("Calibrate · Posture Companion")
        sni_desktop.run(["dunstctl", "action", "0"])  # the person clicks it: dunst sends ActionInvoked
        sni_desktop.wait_window("Calibrate · Posture Companion")
        assert app.poll() is None
    finally:
        stop(app)
        stop(monitor)
