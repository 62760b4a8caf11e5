"""The app opens no network connection: the whole tray app runs on a replay with sockets booby-trapped.

Python-level sockets are patched to record and refuse any connection or name lookup, the app runs end
to end (worker, monitor with MediaPipe, history writer, tray, notifications, live view) for a few
seconds of footage, and nothing may have been attempted. Qt's network module must not even be loaded.
"""

from __future__ import annotations

import socket
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from posture.settings import Settings
from ui.app import build_companion

from ui_helpers import no_message_boxes, run_args, single_face_clip  # noqa: F401


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    attempts: list[str] = []

    def refuse(name: str) -> Any:
        def trap(*args: Any, **kwargs: Any) -> Any:
            attempts.append(f"{name}{args[1:] if name.startswith('socket.') else args}")
            raise OSError(f"network use is not allowed in this test ({name})")

        return trap

    monkeypatch.setattr(socket.socket, "connect", refuse("socket.connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("socket.connect_ex"))
    monkeypatch.setattr(socket.socket, "sendto", refuse("socket.sendto"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    monkeypatch.setattr(socket, "gethostbyname", refuse("gethostbyname"))
    return attempts


def test_the_app_opens_no_network_connection(qtbot: Any, tmp_path: Path, no_network: list[str]) -> None:
    settings = replace(Settings(), onset_delay_s=0.0, sound=True, glow=True)
    args = run_args(source=str(single_face_clip()), loop=True, calibrate_from=(0.0, 6.0), duration=20.0,
                    no_history=False, db=tmp_path / "history.db")
    app = build_companion(args, settings, tray_available=False)
    app.quit_when_done = False
    try:
        app.start()
        qtbot.waitUntil(lambda: app.status is not None and app.status.sample is not None, timeout=30_000)
        app.open_live_view()
        app.pause(None)
        app.resume()
        app.snooze(15)
        qtbot.waitUntil(lambda: app.finished, timeout=60_000)
        assert app.worker.error is None
        assert app.status is not None and app.status.calibrated
    finally:
        app.shutdown()
    assert (tmp_path / "history.db").exists(), "history was written, locally"
    assert no_network == [], f"network use attempted: {no_network}"
    assert "PySide6.QtNetwork" not in sys.modules
