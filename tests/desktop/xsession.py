"""A small real desktop for tests and benchmarks: Xvfb, a window manager, a tray, a notification daemon.

Xvfb (1600×1000, 24-bit, no compositor) with openbox, a private D-Bus session bus and dunst on it as the
notification service, and one of two tray hosts: trayer, a plain XEmbed system tray (the default), or
xfce4-panel with its Status Tray plugin, which hosts StatusNotifierItems (it owns
org.kde.StatusNotifierWatcher on the session bus) as today's desktops do, and XEmbed icons besides. Every process is ours and is ended by its
own id when the session stops. `missing()` names the programs that are not installed, so a caller can
skip with that reason.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np

REQUIRED = ("Xvfb", "openbox", "trayer", "dunst", "dunstctl", "dbus-daemon", "dbus-send", "xdotool", "import",
            "xprop")
SNI_REQUIRED = ("xfce4-panel", "dbus-monitor")
WIDTH, HEIGHT = 1600, 1000
WATCHER = "org.kde.StatusNotifierWatcher"

# One panel along the top edge holding only the Status Tray plugin; xfconfd (started by D-Bus activation
# on our private bus) reads it from XDG_CONFIG_HOME, so the person's own panel set-up is never touched.
XFCE_PANEL_XML = """<?xml version="1.0" encoding="UTF-8"?>
<channel name="xfce4-panel" version="1.0">
  <property name="configver" type="int" value="2"/>
  <property name="panels" type="array">
    <value type="int" value="1"/>
    <property name="panel-1" type="empty">
      <property name="position" type="string" value="p=6;x=0;y=0"/>
      <property name="length" type="uint" value="100"/>
      <property name="position-locked" type="bool" value="true"/>
      <property name="size" type="uint" value="32"/>
      <property name="plugin-ids" type="array">
        <value type="int" value="1"/>
      </property>
    </property>
  </property>
  <property name="plugins" type="empty">
    <property name="plugin-1" type="string" value="systray"/>
  </property>
</channel>
"""


def missing(tray_host: str = "trayer") -> list[str]:
    names = REQUIRED + (SNI_REQUIRED if tray_host == "xfce4-panel" else ())
    return [name for name in names if shutil.which(name) is None]


def free_display() -> int:
    for n in range(91, 200):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise RuntimeError("no free X display number between :91 and :199")


class XSession:
    def __init__(self, workdir: Path, tray: bool = True, notifications: bool = True,
                 tray_host: str = "trayer") -> None:
        if tray_host not in ("trayer", "xfce4-panel"):
            raise ValueError(f"unknown tray host {tray_host!r}")
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.tray = tray
        self.tray_host = tray_host
        self.notifications = notifications
        self.display = f":{free_display()}"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.bus_pid: int | None = None
        runtime = workdir / "runtime"
        runtime.mkdir(mode=0o700, exist_ok=True)
        self.env = dict(os.environ, DISPLAY=self.display, QT_QPA_PLATFORM="xcb", XDG_RUNTIME_DIR=str(runtime),
                        XDG_CONFIG_HOME=str(workdir / "xdg-config"), XDG_CACHE_HOME=str(workdir / "xdg-cache"),
                        XDG_DATA_HOME=str(workdir / "xdg-data"), HOME=os.environ.get("HOME", str(workdir)))
        self.env.pop("WAYLAND_DISPLAY", None)
        self.env.pop("DBUS_SESSION_BUS_ADDRESS", None)

    # -- life cycle -------------------------------------------------------------------------------
    def start(self) -> XSession:
        try:
            return self._start()
        except BaseException:
            self.stop()  # nothing half-started is left running
            raise

    def _start(self) -> XSession:
        # -noreset: by default an X server resets when its last client leaves; the readiness probe below
        # is such a client, and a window manager connecting during that reset fails to open the display
        # ("Failed to open the display from the DISPLAY environment variable", seen under load).
        self._spawn(["Xvfb", self.display, "-screen", "0", f"{WIDTH}x{HEIGHT}x24", "-nolisten", "tcp", "-noreset"],
                    "xvfb")
        self._wait(lambda: Path(f"/tmp/.X11-unix/X{self.display[1:]}").exists(), "Xvfb to start")
        self._wait(lambda: self.run(["xprop", "-root", "_NET_SUPPORTED"], check=False).returncode == 0,
                   "the X server to answer")
        bus = subprocess.run(["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1"],
                             capture_output=True, text=True, env=self.env, timeout=20, check=True)
        address, pid = bus.stdout.split()[:2]
        self.env["DBUS_SESSION_BUS_ADDRESS"] = address
        self.bus_pid = int(pid)
        self._spawn(["openbox", "--sm-disable"], "openbox")
        self._wait(lambda: "_NET_SUPPORTING_WM_CHECK(WINDOW)" in self.run(
            ["xprop", "-root", "_NET_SUPPORTING_WM_CHECK"], check=False).stdout, "openbox to manage the screen")
        if self.tray and self.tray_host == "xfce4-panel":
            self._start_xfce_panel()
        elif self.tray:
            self._spawn(["trayer", "--edge", "top", "--align", "right", "--widthtype", "request", "--height", "32",
                         "--SetDockType", "true", "--SetPartialStrut", "true", "--transparent", "false",
                         "--tint", "0xd0d0d0", "--expand", "true"], "trayer")
            self._wait(lambda: self.tray_owner() != "", "trayer to own the system tray selection")
        if self.notifications:
            self._spawn(["dunst"], "dunst")
            self._wait(lambda: self.run(["dunstctl", "is-paused"], check=False).returncode == 0,
                       "dunst on the session bus")
        return self

    def _start_xfce_panel(self) -> None:
        channel = Path(self.env["XDG_CONFIG_HOME"]) / "xfce4" / "xfconf" / "xfce-perchannel-xml"
        channel.mkdir(parents=True, exist_ok=True)
        (channel / "xfce4-panel.xml").write_text(XFCE_PANEL_XML)
        # No accessibility bus: GTK would start at-spi's own daemons, which outlive the session.
        env = dict(self.env, NO_AT_BRIDGE="1", GTK_A11Y="none")
        self._spawn(["xfce4-panel"], "xfce4-panel", env)
        self._wait(lambda: self.tray_owner() != "" and self.bus_has_owner(WATCHER),
                   "xfce4-panel's Status Tray to own the tray selection and the StatusNotifierWatcher")

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
        self.procs.clear()
        if self.bus_pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.bus_pid, signal.SIGTERM)
            self.bus_pid = None

    def __enter__(self) -> XSession:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, cmd: list[str], name: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = open(self.workdir / f"{name}.log", "wb")  # noqa: SIM115 (lives as long as the process)
        proc = subprocess.Popen(cmd, env=env or self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.procs.append(proc)
        return proc

    @staticmethod
    def _wait(ok: object, what: str, timeout: float = 60.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if ok():  # type: ignore[operator]
                return
            time.sleep(0.1)
        raise RuntimeError(f"timed out waiting for {what}")

    # -- tools ------------------------------------------------------------------------------------
    def run(self, cmd: list[str], check: bool = True, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=timeout, check=check)

    def popen(self, cmd: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        out = open(log, "wb")  # noqa: SIM115
        return subprocess.Popen(cmd, env=env or self.env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)

    def tray_owner(self) -> str:
        """Non-empty once a system tray owns the _NET_SYSTEM_TRAY_S0 selection."""
        from ui.glow import x11_selection_owned

        return "tray" if x11_selection_owned("_NET_SYSTEM_TRAY_S0", self.display) else ""

    def bus_has_owner(self, name: str) -> bool:
        out = self.run(["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus", "/",
                        "org.freedesktop.DBus.NameHasOwner", f"string:{name}"], check=False).stdout
        return "boolean true" in out

    def bus_property(self, service: str, path: str, interface: str, name: str) -> str:
        """A D-Bus property as dbus-send prints it (the text; the caller picks what it needs)."""
        return self.run(["dbus-send", "--session", "--print-reply", f"--dest={service}", path,
                         "org.freedesktop.DBus.Properties.Get", f"string:{interface}", f"string:{name}"],
                        check=False).stdout

    def status_notifier_items(self) -> list[str]:
        """What the StatusNotifierWatcher lists as registered (service names, with an object path)."""
        out = self.bus_property(WATCHER, "/StatusNotifierWatcher", WATCHER, "RegisteredStatusNotifierItems")
        return re.findall(r'string "([^"]+)"', out)

    def screenshot(self, path: Path) -> np.ndarray:
        """The whole screen as `import -window root` sees it (a real X framebuffer), as a BGR array."""
        import cv2

        self.run(["import", "-window", "root", str(path)])
        image = cv2.imread(str(path))
        if image is None:
            raise RuntimeError(f"could not read the screenshot {path}")
        return image

    def windows(self, name: str) -> list[str]:
        """Visible windows whose title contains `name` (plain text, not a pattern)."""
        out = self.run(["xdotool", "search", "--onlyvisible", "--name", re.escape(name)], check=False).stdout
        return out.split()

    def wait_window(self, name: str, timeout: float = 20.0) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            found = self.windows(name)
            if found:
                return found[0]
            time.sleep(0.2)
        raise AssertionError(f"no window named {name!r} appeared in {timeout:g} s")

    def geometry(self, window: str) -> tuple[int, int, int, int]:
        out = self.run(["xdotool", "getwindowgeometry", "--shell", window]).stdout
        values = dict(line.split("=", 1) for line in out.split() if "=" in line)
        return int(values["X"]), int(values["Y"]), int(values["WIDTH"]), int(values["HEIGHT"])

    def click(self, x: int, y: int, button: int = 1) -> None:
        self.run(["xdotool", "mousemove", str(x), str(y), "click", str(button)])

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.run(["xdotool", "key", key])
            time.sleep(0.15)


def brightness(image: np.ndarray, margin: int = 40) -> float:
    """Mean grey level of the screen inside a margin (the glow lives in the margin)."""
    inner = image[margin:-margin, margin:-margin]
    return float(inner.mean())
