"""A guard on the installed Qt bindings: calling Qt must not eat references to `None`.

PySide6-Essentials 6.12.0 drops one reference to `None` on every call of a Qt method that returns
nothing; after minutes of use the count reaches zero and Python aborts (`Fatal Python error:
none_dealloc`). pyproject.toml keeps that version out; this test fails for any installed version that
leaks the same way, so a new release is caught before anyone ships it. The measuring runs in a child
process: a leaking binding can crash the interpreter, and that must be a failure, not a lost run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

CALLS = 500
# Python 3.11's None is an ordinary object: other code may take or drop a few references meanwhile.
# A leaking binding loses one per call (hundreds here), so this tolerance cannot hide it.
TOLERANCE = 40

PROBE = r"""
import json, sys
from PySide6.QtCore import QObject, QRect, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QLabel
import PySide6

app = QApplication([])

class Emitter(QObject):
    ping = Signal(int)

colour = QColor()
label = QLabel()
timer = QTimer()
emitter = Emitter()
seen = []
emitter.ping.connect(lambda v: seen.append(v) if not seen else None)
pixmap = QPixmap(32, 32)

def paint():
    p = QPainter(pixmap)
    p.setPen(colour)
    p.drawRect(QRect(1, 1, 10, 10))
    p.end()

def start_stop():
    timer.start(1000)
    timer.stop()

cases = {
    "QColor.setAlphaF": lambda: colour.setAlphaF(0.5),
    "QLabel.setText": lambda: label.setText("x"),
    "QWidget.update": label.update,
    "QPainter on a pixmap": paint,
    "QTimer.start/stop": start_stop,
    "a signal with a Python slot": lambda: emitter.ping.emit(1),
}
out = {"version": PySide6.__version__, "drift": {}}
for name, fn in cases.items():
    fn()
    before = sys.getrefcount(None)
    for _ in range(CALLS):
        fn()
    out["drift"][name] = sys.getrefcount(None) - before
    # Put back what a leaking binding took, so the probe survives to report it.
    missing = before - sys.getrefcount(None)
    keep = [None] * max(0, missing)
print(json.dumps(out))
sys.stdout.flush()
import os
os._exit(0)
"""


def test_void_qt_calls_keep_none_alive() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-c", PROBE.replace("CALLS", str(CALLS))], capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode == 0, f"the Qt probe crashed (exit {proc.returncode}): {proc.stderr[-800:]}"
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    leaking = {name: d for name, d in result["drift"].items() if abs(d) > TOLERANCE}
    assert not leaking, (
        f"PySide6 {result['version']} changes the reference count of None by {leaking} over {CALLS} calls "
        "each: this version of the bindings leaks and will crash the app; exclude it in pyproject.toml")
