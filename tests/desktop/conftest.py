"""The desktop suite: the real app on a real X server (see xsession.py). Run with `make test-desktop`.

Every test here is marked `desktop`; without the X programs each test skips and names them.
Screenshots land in out/desktop/ (kept after the run, to be looked at). Helpers live in
desktop_helpers.py, not here: a second module named `conftest` would shadow the suite's own.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from desktop_helpers import POSTURE, SHOTS  # noqa: E402
from xsession import XSession, missing  # noqa: E402


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.desktop)


@pytest.fixture(scope="session")
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


def fresh_session(tmp_path: Path, tray_host: str) -> Iterator[XSession]:
    gone = missing(tray_host)
    if gone:
        pytest.skip(f"desktop programs not installed: {', '.join(gone)} (.ci/run installs them with apt-get)")
    if not POSTURE.exists():
        pytest.skip("the posture command is not installed in this environment")
    # A shared machine can be slow to bring a program up; one more try on a fresh display before failing.
    try:
        session = XSession(tmp_path / "x", tray_host=tray_host).start()
    except RuntimeError:
        session = XSession(tmp_path / "x2", tray_host=tray_host).start()
    try:
        yield session
    finally:
        session.stop()


@pytest.fixture
def desktop(tmp_path: Path) -> Iterator[XSession]:
    """A fresh X session per test with trayer (XEmbed): what one test leaves on screen never confuses
    the next."""
    yield from fresh_session(tmp_path, "trayer")


@pytest.fixture
def sni_desktop(tmp_path: Path) -> Iterator[XSession]:
    """The same desktop with xfce4-panel's Status Tray as the tray host: a StatusNotifier tray."""
    yield from fresh_session(tmp_path, "xfce4-panel")
