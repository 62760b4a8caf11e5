"""Shared fixtures. Qt runs offscreen; settings and profiles live in a temp dir per test."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
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
