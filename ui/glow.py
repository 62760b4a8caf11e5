"""The ambient glow: a thin coloured border round the screen that fades in and out.

Two ways to draw it, because a translucent window is only translucent where a compositor blends it:
- with a compositor (Wayland, macOS, Windows, X11 with a compositing manager) one full-screen window,
  transparent but for a soft border;
- on X11 without one, where that window is drawn opaque (a black screen for seconds), four thin edge
  windows that need no transparency at all: the border grows and shrinks instead of fading.
Both let every click through, never take focus and stay on top.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

from PySide6.QtCore import (
    Property,
    QEasingCurve,
    QObject,
    QPropertyAnimation,
    QRect,
    QSequentialAnimationGroup,
    Qt,
)
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

log = logging.getLogger(__name__)

GLOW_FLAGS = (Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint | Qt.WindowType.Tool
              | Qt.WindowType.WindowTransparentForInput | Qt.WindowType.WindowDoesNotAcceptFocus
              | Qt.WindowType.X11BypassWindowManagerHint)


def x11_compositing(display: str | None = None) -> bool | None:
    """Whether a compositing manager owns `_NET_WM_CM_S<screen>` on this X display; None if unknown."""
    return x11_selection_owned("_NET_WM_CM_S{screen}", display)


def x11_selection_owned(selection: str, display: str | None = None) -> bool | None:
    """Whether some client owns the X selection (`{screen}` is replaced by the default screen number)."""
    name = ctypes.util.find_library("X11")
    if name is None:
        return None
    try:
        xlib = ctypes.CDLL(name)
    except OSError:
        return None
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XDefaultScreen.argtypes = [ctypes.c_void_p]
    xlib.XInternAtom.restype = ctypes.c_ulong
    xlib.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    xlib.XGetSelectionOwner.restype = ctypes.c_ulong
    xlib.XGetSelectionOwner.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
    xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    dpy = xlib.XOpenDisplay(display.encode() if display else None)
    if not dpy:
        return None
    try:
        screen = xlib.XDefaultScreen(dpy)
        atom = xlib.XInternAtom(dpy, selection.format(screen=screen).encode(), 0)
        return bool(xlib.XGetSelectionOwner(dpy, atom))
    finally:
        xlib.XCloseDisplay(dpy)


def compositing(platform: str | None = None) -> bool:
    """Can a translucent window be seen through here? Only X11 can say no."""
    platform = platform if platform is not None else QGuiApplication.platformName()
    if platform != "xcb":
        return True  # Wayland, macOS and Windows always composite; offscreen draws nothing anyway
    answer = x11_compositing(os.environ.get("DISPLAY"))
    if answer is None:
        log.info("could not ask the X server about a compositor; drawing the glow as edge windows")
        return False
    return answer


class _Fader(QObject):
    """A strength from 0 to 1 and back, on Qt's animation clock; subclasses draw it."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._strength = 0.0
        self._anim = self._new_group()

    def _new_group(self) -> QSequentialAnimationGroup:
        group = QSequentialAnimationGroup(self)
        group.finished.connect(self.hide)
        return group

    def _get_strength(self) -> float:
        return self._strength

    def _set_strength(self, value: float) -> None:
        self._strength = value
        self.draw(value)

    strength = Property(float, _get_strength, _set_strength)

    def glow(self, colour: str, hold_ms: int = 2500, fade_ms: int = 900) -> None:
        self.prepare(QColor(colour))
        # A fresh group each time: clearing one that has run warns (animationAt out of bounds) in Qt 6.
        old, self._anim = self._anim, self._new_group()
        old.stop()
        old.deleteLater()
        fade_in = QPropertyAnimation(self, b"strength", self._anim)
        fade_in.setDuration(fade_ms)
        fade_in.setStartValue(self._strength)
        fade_in.setEndValue(1.0)
        fade_in.setEasingCurve(QEasingCurve.Type.InOutSine)
        fade_out = QPropertyAnimation(self, b"strength", self._anim)
        fade_out.setDuration(fade_ms * 2)
        fade_out.setStartValue(1.0)
        fade_out.setEndValue(0.0)
        fade_out.setEasingCurve(QEasingCurve.Type.InOutSine)
        self._anim.addAnimation(fade_in)
        self._anim.addPause(hold_ms)
        self._anim.addAnimation(fade_out)
        self.show_all()
        self._anim.start()

    @property
    def running(self) -> bool:
        return self._anim.state() == QSequentialAnimationGroup.State.Running

    def hide(self) -> None:
        self._anim.stop()
        self._strength = 0.0
        self.hide_all()

    # -- for subclasses ---------------------------------------------------------------------------
    def prepare(self, colour: QColor) -> None:
        raise NotImplementedError

    def draw(self, strength: float) -> None:
        raise NotImplementedError

    def show_all(self) -> None:
        raise NotImplementedError

    def hide_all(self) -> None:
        raise NotImplementedError

    def isVisible(self) -> bool:
        raise NotImplementedError


class _BorderWindow(QWidget):
    """The full-screen translucent window; nested strokes whose alpha falls off inward."""

    def __init__(self, thickness: int) -> None:
        super().__init__(None, GLOW_FLAGS)
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.thickness = thickness
        self.colour = QColor("#D55E00")
        self.strength = 0.0

    def paintEvent(self, event: QPaintEvent) -> None:
        if self.strength <= 0:
            return
        p = QPainter(self)
        rect = QRect(0, 0, self.width(), self.height())
        c = QColor(self.colour)
        for i in range(self.thickness):
            c.setAlphaF(max(0.0, min(1.0, self.strength * 0.85 * (1 - i / self.thickness))))
            p.setPen(QPen(c, 1))
            p.drawRect(rect.adjusted(i, i, -i - 1, -i - 1))
        p.end()


class TranslucentGlow(_Fader):
    """For a compositing desktop: one click-through window, transparent but for the border."""

    def __init__(self, thickness: int = 6, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.window = _BorderWindow(thickness)

    def prepare(self, colour: QColor) -> None:
        self.window.colour = colour
        screen = QGuiApplication.primaryScreen()
        if screen is not None:
            self.window.setGeometry(screen.geometry())

    def draw(self, strength: float) -> None:
        self.window.strength = strength
        self.window.update()

    def show_all(self) -> None:
        self.window.show()

    def hide_all(self) -> None:
        self.window.hide()

    def isVisible(self) -> bool:
        return self.window.isVisible()

    def windows(self) -> list[QWidget]:
        return [self.window]


class _Strip(QWidget):
    def __init__(self) -> None:
        super().__init__(None, GLOW_FLAGS)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAutoFillBackground(True)


class EdgeStripsGlow(_Fader):
    """For X11 without a compositor: four opaque strips along the screen edges (nothing to blend)."""

    def __init__(self, thickness: int = 6, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thickness = thickness
        self.strips = [_Strip() for _ in range(4)]  # top, bottom, left, right
        self._screen = QRect(0, 0, 0, 0)

    def prepare(self, colour: QColor) -> None:
        for strip in self.strips:
            pal = strip.palette()
            pal.setColor(strip.backgroundRole(), colour)
            strip.setPalette(pal)
        screen = QGuiApplication.primaryScreen()
        self._screen = screen.geometry() if screen is not None else QRect(0, 0, 0, 0)

    def draw(self, strength: float) -> None:
        # No alpha without a compositor: the border grows in and shrinks out instead (the end of the
        # animation hides it).
        t = max(1, round(strength * self.thickness))
        g = self._screen
        x, y, w, h = g.x(), g.y(), g.width(), g.height()
        rects = (QRect(x, y, w, t), QRect(x, y + h - t, w, t), QRect(x, y + t, t, h - 2 * t),
                 QRect(x + w - t, y + t, t, h - 2 * t))
        for strip, rect in zip(self.strips, rects, strict=True):
            strip.setGeometry(rect)
            if not strip.isVisible():
                strip.show()

    def show_all(self) -> None:
        self.draw(self._strength)

    def hide_all(self) -> None:
        for strip in self.strips:
            strip.hide()

    def isVisible(self) -> bool:
        return any(s.isVisible() for s in self.strips)

    def windows(self) -> list[QWidget]:
        return list(self.strips)


Glow = TranslucentGlow | EdgeStripsGlow


def make_glow(thickness: int = 6, platform: str | None = None, parent: QObject | None = None) -> Glow:
    """The glow that can be seen on this desktop."""
    if compositing(platform):
        return TranslucentGlow(thickness, parent)
    return EdgeStripsGlow(thickness, parent)
