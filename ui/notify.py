"""Telling the person something without getting in their way.

A nudge is one of, as the settings allow: a system notification from the tray icon (or, where there is
no tray, a small toast in the corner that never takes focus); a soft sound; and an ambient glow, a thin
coloured border round the screen that fades in and out, lets every click through and never takes focus.
Clicking a notice does what it offers (open "why am I flagged?", start the suggested break).
"""

from __future__ import annotations

import math
import struct
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QMouseEvent
from PySide6.QtWidgets import QApplication, QLabel, QSystemTrayIcon, QVBoxLayout, QWidget

from posture.settings import Settings
from ui.desktop_notifications import DesktopNotifications
from ui.glow import Glow, make_glow

TOAST_SECONDS = 10
GLOW_COLOURS = {"poor": "#D55E00", "break": "#0072B2", "info": "#009E73"}


@dataclass(frozen=True, slots=True)
class Notice:
    kind: str  # "nudge", "break", "info"
    title: str
    text: str
    via: str  # "desktop" (the notification service), "tray", "toast" or "none" (notifications off)


class Toast(QWidget):
    """The fallback notification: a small frameless box in a screen corner that never steals focus."""

    clicked = Signal()

    def __init__(self) -> None:
        super().__init__(None, Qt.WindowType.ToolTip | Qt.WindowType.FramelessWindowHint
                         | Qt.WindowType.WindowStaysOnTopHint | Qt.WindowType.WindowDoesNotAcceptFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setObjectName("toast")
        self.setStyleSheet("#toast { background: #FFFDF5; border: 1px solid #9A9A9A; border-radius: 8px; }"
                           "QLabel { color: #202020; }")
        self._title = QLabel()
        self._title.setStyleSheet("font-weight: bold;")
        self._text = QLabel()
        self._text.setWordWrap(True)
        self._hint = QLabel()
        self._hint.setStyleSheet("color: #505050;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        for w in (self._title, self._text, self._hint):
            layout.addWidget(w)
        self.setFixedWidth(340)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)

    def pop(self, title: str, text: str, hint: str = "") -> None:
        self._title.setText(title)
        self._text.setText(text)
        self._hint.setText(hint)
        self._hint.setVisible(bool(hint))
        self.adjustSize()
        screen = QGuiApplication.primaryScreen()
        if screen is not None:
            area = screen.availableGeometry()
            self.move(area.right() - self.width() - 16, area.bottom() - self.height() - 16)
        self.show()
        self._timer.start(TOAST_SECONDS * 1000)

    @property
    def title(self) -> str:
        return self._title.text()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.hide()
        self.clicked.emit()


class Chime:
    """A soft two-note chime through QSoundEffect where QtMultimedia exists, else the system beep.

    PySide6-Essentials ships without QtMultimedia, so the beep is the usual path; a failure is silent.
    """

    def __init__(self, cache_dir: Path | None = None) -> None:
        self._effect: object | None = None
        self.backend = "beep"
        try:
            from PySide6.QtCore import QUrl
            from PySide6.QtMultimedia import QSoundEffect  # type: ignore[import-not-found]
        except ImportError:
            return
        try:
            from platformdirs import user_cache_dir

            path = write_chime((cache_dir or Path(user_cache_dir("posture-companion"))) / "chime.wav")
            effect = QSoundEffect()
            effect.setSource(QUrl.fromLocalFile(str(path)))
            effect.setVolume(0.35)
            self._effect = effect
            self.backend = "soundeffect"
        except Exception:
            self._effect = None

    def play(self) -> None:
        try:
            if self._effect is not None:
                self._effect.play()  # type: ignore[attr-defined]
            else:
                QApplication.beep()
        except Exception:
            pass


def write_chime(path: Path, rate: int = 22050) -> Path:
    """A gentle 0.5 s two-note chime (sine, soft attack, long decay) as a small WAV."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = bytearray()
    for i in range(int(rate * 0.5)):
        t = i / rate
        f = 660.0 if t < 0.18 else 880.0
        env = min(1.0, t / 0.02) * math.exp(-4.0 * t)
        frames += struct.pack("<h", int(9000 * env * math.sin(2 * math.pi * f * t)))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return path


class Notifier(QObject):
    """Shows nudges and notes as the settings say; remembers what each click should do."""

    shown = Signal(object)  # Notice

    def __init__(self, tray: QSystemTrayIcon, settings: Settings, tray_available: bool | None = None,
                 parent: QObject | None = None, desktop: DesktopNotifications | str | None = "auto") -> None:
        super().__init__(parent)
        if desktop == "auto":
            # Offscreen (tests, a headless box) there is no desktop to notify.
            desktop = (None if QGuiApplication.platformName() in ("offscreen", "minimal")
                       else DesktopNotifications.open(self))
        assert not isinstance(desktop, str)
        self.desktop: DesktopNotifications | None = desktop
        self._desktop_clicks: dict[int, Callable[[], object]] = {}
        if desktop is not None:
            desktop.action_invoked.connect(self._desktop_action)
            desktop.closed.connect(lambda nid, _reason: self._desktop_clicks.pop(nid, None))
        self.tray = tray
        self.settings = settings
        self.tray_available = (QSystemTrayIcon.isSystemTrayAvailable() if tray_available is None
                               else tray_available)
        self.toast = Toast()
        self.glow: Glow = make_glow(parent=self)
        self._chime: Chime | None = None
        self._on_click: Callable[[], object] | None = None
        self.history: list[Notice] = []
        self.sounds = 0
        tray.messageClicked.connect(self._clicked)
        self.toast.clicked.connect(self._clicked)

    def set_settings(self, settings: Settings) -> None:
        self.settings = settings

    def notify(self, kind: str, title: str, text: str, on_click: Callable[[], object] | None = None,
               hint: str = "", sound: bool = False, glow: str | None = None, action: str = "Open") -> Notice:
        """`sound` and `glow` are wishes; the settings decide whether they happen. `action` labels the
        button a notification service shows for `on_click` (a click on the notice does the same)."""
        self._on_click = on_click
        via = "none"
        if self.settings.notifications:
            nid = None
            if self.desktop is not None:
                actions = [("default", action), ("open", action)] if on_click is not None else []
                nid = self.desktop.notify(title, text, actions)
            if nid is not None:
                if on_click is not None:
                    self._desktop_clicks[nid] = on_click
                    while len(self._desktop_clicks) > 20:  # notices nobody answered
                        del self._desktop_clicks[next(iter(self._desktop_clicks))]
                via = "desktop"
            elif self.tray_available and QSystemTrayIcon.supportsMessages():
                body = f"{text}\n{hint}" if hint else text
                self.tray.showMessage(title, body, QSystemTrayIcon.MessageIcon.Information, 10_000)
                via = "tray"
            else:
                self.toast.pop(title, text, hint)
                via = "toast"
        if sound and self.settings.sound:
            if self._chime is None:
                self._chime = Chime()
            self._chime.play()
            self.sounds += 1
        if glow is not None and self.settings.glow:
            self.glow.glow(GLOW_COLOURS.get(glow, glow))
        notice = Notice(kind, title, text, via)
        self.history.append(notice)
        del self.history[:-50]
        self.shown.emit(notice)
        return notice

    def _desktop_action(self, nid: int, key: str) -> None:
        action = self._desktop_clicks.pop(nid, None)
        if action is not None:
            action()

    def _clicked(self) -> None:
        action, self._on_click = self._on_click, None
        if action is not None:
            action()

    def quiet_down(self) -> None:
        """Take away what is on screen now (toast, glow)."""
        self.toast.hide()
        self.glow.hide()

    def close(self) -> None:
        self.quiet_down()
        if self.desktop is not None:
            self.desktop.close()
            self.desktop = None
