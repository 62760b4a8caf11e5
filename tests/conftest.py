"""Shared fixtures. Qt runs offscreen; settings and profiles live in a temp dir per test."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The tray's single-instance lock and socket live in the runtime folder and are per user: two test runs at
# once (a 3.11 and a 3.13 suite, or a developer's running companion beside `make test`) would see each
# other's tray as "already running". Each run gets its own private runtime folder (mkdtemp makes it 0700,
# as Qt requires); child processes inherit it.
os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="posture-test-runtime-")
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Never read or write the developer's real settings, profiles or history."""
    root = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("POSTURE_CONFIG_DIR", str(root / "config"))
    monkeypatch.setenv("POSTURE_DATA_DIR", str(root / "data"))
    yield root


@pytest.fixture(scope="session")
def still_pose():  # type: ignore[no-untyped-def]
    """This install's pose backend (legacy or Tasks, see posture/pose.py) for unrelated still images."""
    from posture.pose import make_pose

    backend = make_pose(tracking=False)
    yield backend
    backend.close()


REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_videos"


@dataclass(frozen=True)
class StoredEvent:
    """An event as the history stores it, a kind and a payload: for tests that write history rows directly
    (the engine itself only makes the typed events of `posture.events`)."""

    t: float
    wall: float
    kind: str
    data: dict[str, object] = field(default_factory=dict)


def seated_pose(dx: float = 0.0, dy: float = 0.0) -> object:
    """A plausible seated, frontal upper body (normalised coordinates) that passes `validate_pose`;
    `dx`, `dy` slide the whole body, as when the camera or the chair moved."""
    from posture.landmarks import NUM_LANDMARKS, Landmark, Pose

    lms = [Landmark(0.5 + dx, 0.5 + dy, 0.0, 0.1)] * NUM_LANDMARKS
    # MediaPipe's "left" is the person's left: on the right of a (non-mirrored) frontal image.
    layout = {0: (0.5, 0.35), 2: (0.53, 0.32), 5: (0.47, 0.32), 7: (0.56, 0.34), 8: (0.44, 0.34),
              9: (0.52, 0.4), 10: (0.48, 0.4), 11: (0.65, 0.6), 12: (0.35, 0.6)}
    lms = list(lms)
    for i, (x, y) in layout.items():
        lms[i] = Landmark(x + dx, y + dy, 0.0, 0.99)
    return Pose(tuple(lms), None, 1.0)
