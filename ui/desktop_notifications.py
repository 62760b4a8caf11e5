"""Notifications through the desktop's own notification service (org.freedesktop.Notifications).

Where a service runs on the session bus (GNOME, KDE, dunst, mako, xfce4-notifyd…) a notice goes there:
it looks like every other notification on that desktop, lands in its history, and its "Open" action
(or a click on the body, the "default" action) comes back to us as `ActionInvoked`. Qt's tray balloon
or our own toast is only the fallback where no service runs.

QtDBus cannot be used: from Python it has no way to send the unsigned integer `Notify` requires.
jeepney (pure Python) speaks D-Bus on its own thread; signals come back to the GUI thread through a
queued Qt signal.
"""

from __future__ import annotations

import logging
import os
import threading
from queue import Empty
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

if TYPE_CHECKING:
    from jeepney import MatchRule
    from jeepney.io.threading import DBusConnection, DBusRouter, FilterHandle

log = logging.getLogger(__name__)

SERVICE = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
APP_NAME = "Posture Companion"
DEFAULT_ACTION = "default"
TIMEOUT_S = 2.0


class DesktopNotifications(QObject):
    """A connection to the notification service. Build with `connect()`, which returns None without one."""

    action_invoked = Signal(int, str)  # notification id, action key
    closed = Signal(int, int)  # notification id, reason (1 expired, 2 dismissed, 3 closed by call)

    def __init__(self, conn: DBusConnection, router: DBusRouter, capabilities: list[str], server: str,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._conn = conn
        self._router = router
        self.capabilities = capabilities
        self.server = server
        self._stop = threading.Event()
        self._filter: FilterHandle | None = None
        self._thread: threading.Thread | None = None
        self.sent = 0

    # -- set-up -----------------------------------------------------------------------------------
    @classmethod
    def open(cls, parent: QObject | None = None) -> DesktopNotifications | None:
        if os.environ.get("POSTURE_NO_DBUS_NOTIFICATIONS") == "1":
            return None
        if not os.environ.get("DBUS_SESSION_BUS_ADDRESS") and not os.path.exists(
                f"/run/user/{os.getuid()}/bus" if hasattr(os, "getuid") else "/nonexistent"):
            return None
        try:
            from jeepney import DBusAddress, MatchRule, message_bus, new_method_call
            from jeepney.io.threading import DBusRouter, Proxy, open_dbus_connection
        except ImportError:
            return None
        try:
            conn = open_dbus_connection(bus="SESSION")
        except Exception as exc:  # no bus, refused, bad address: all mean "no service here"
            log.info("no session bus: %s", exc)
            return None
        router = DBusRouter(conn)
        try:
            bus = Proxy(message_bus, router, timeout=TIMEOUT_S)
            (has_owner,) = bus.NameHasOwner(SERVICE)
            if not has_owner:
                raise LookupError("no notification service on the session bus")
            addr = DBusAddress(PATH, bus_name=SERVICE, interface=SERVICE)
            (caps,) = router.send_and_get_reply(new_method_call(addr, "GetCapabilities"), timeout=TIMEOUT_S).body
            name = router.send_and_get_reply(new_method_call(addr, "GetServerInformation"),
                                             timeout=TIMEOUT_S).body[0]
            rule = MatchRule(type="signal", interface=SERVICE, path=PATH)
            bus.AddMatch(rule)
        except Exception as exc:
            log.info("desktop notifications unavailable: %s", exc)
            router.close()
            conn.close()
            return None
        me = cls(conn, router, list(caps), str(name), parent)
        me._listen(router, rule)
        return me

    def _listen(self, router: DBusRouter, rule: MatchRule) -> None:
        handle = router.filter(rule, bufsize=64)
        self._filter = handle

        def pump() -> None:
            while not self._stop.is_set():
                try:
                    msg = handle.queue.get(timeout=0.5)
                except Empty:
                    continue
                member = msg.header.fields.get(_member_field())
                try:
                    if member == "ActionInvoked":
                        nid, key = msg.body
                        self.action_invoked.emit(int(nid), str(key))
                    elif member == "NotificationClosed":
                        nid, reason = msg.body
                        self.closed.emit(int(nid), int(reason))
                except RuntimeError:  # the Qt side is gone (shutting down)
                    return

        self._thread = threading.Thread(target=pump, name="notification-signals", daemon=True)
        self._thread.start()

    @property
    def has_actions(self) -> bool:
        return "actions" in self.capabilities

    # -- use --------------------------------------------------------------------------------------
    def notify(self, title: str, body: str, actions: list[tuple[str, str]] | None = None,
               timeout_ms: int = 10_000, replaces: int = 0, urgency: int = 1) -> int | None:
        """Show a notification; returns its id, or None if the service did not answer."""
        from jeepney import DBusAddress, new_method_call

        flat: list[str] = []
        for key, label in (actions or []) if self.has_actions else []:
            flat += [key, label]
        addr = DBusAddress(PATH, bus_name=SERVICE, interface=SERVICE)
        hints = {"urgency": ("y", urgency), "desktop-entry": ("s", "posture-companion")}
        msg = new_method_call(addr, "Notify", "susssasa{sv}i",
                              (APP_NAME, replaces, "", title, body, flat, hints, timeout_ms))
        try:
            reply = self._router.send_and_get_reply(msg, timeout=TIMEOUT_S)
        except Exception as exc:
            log.info("notification not shown: %s", exc)
            return None
        if reply.header.message_type.name == "error":
            log.info("notification refused: %s", reply.body)
            return None
        self.sent += 1
        return int(reply.body[0])

    def close_notification(self, nid: int) -> None:
        from jeepney import DBusAddress, new_method_call

        addr = DBusAddress(PATH, bus_name=SERVICE, interface=SERVICE)
        try:
            self._router.send_and_get_reply(new_method_call(addr, "CloseNotification", "u", (nid,)),
                                            timeout=TIMEOUT_S)
        except Exception as exc:
            log.info("could not close notification %d: %s", nid, exc)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(1.0)
        closers = [self._router.close, self._conn.close]
        if self._filter is not None:
            closers.insert(0, self._filter.close)
        for close in closers:
            try:
                close()
            except Exception:  # closing a dead bus connection: nothing left to do
                log.debug("closing the notification connection", exc_info=True)


def _member_field() -> object:
    from jeepney.low_level import HeaderFields

    return HeaderFields.member
