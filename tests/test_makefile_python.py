"""`make` picks a supported Python or stops with one line, and rebuilds a .venv it cannot trust.

Each case runs the real Makefile with `make -n` (print, do not run) in a scratch folder holding a copy of
it, with a .venv in the state a user's machine can be in: none, made by a Python that is gone, a
failed install (no stamp), a healthy one.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def plan(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # This interpreter (3.11-3.13, it runs the suite) stands in for the one make would pick.
    return subprocess.run(["make", "-n", "--no-print-directory", f"PYTHON={sys.executable}", "lint", *args],
                          cwd=project, capture_output=True, text=True, timeout=60, check=False)


def fake_venv(project: Path, python_script: str | None, stamp: bool) -> None:
    bin_dir = project / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    if python_script is None:
        (bin_dir / "python").symlink_to(sys.executable)
    else:
        (bin_dir / "python").write_text(python_script)
        (bin_dir / "python").chmod(0o755)
    if stamp:
        (project / ".venv" / ".installed").touch()
        # Newer than pyproject.toml, as after a finished install.
        (project / ".venv" / ".installed").write_text("")


def rebuilds(result: subprocess.CompletedProcess[str]) -> bool:
    return "rm -rf .venv" in result.stdout and "-m venv .venv" in result.stdout


def test_no_venv_is_created(project: Path) -> None:
    result = plan(project)
    assert result.returncode == 0, result.stderr
    assert rebuilds(result)
    assert "pip install --progress-bar on -e '.[test]'" in result.stdout  # progress, not --quiet


def test_a_venv_whose_interpreter_is_gone_is_rebuilt(project: Path) -> None:
    fake_venv(project, "#!/bin/sh\nexit 127\n", stamp=True)
    assert rebuilds(plan(project))


def test_a_venv_of_an_unsupported_python_is_rebuilt(project: Path) -> None:
    # What `python3` made when it was 3.10: it runs, but reports an old version.
    fake_venv(project, "#!/bin/sh\necho old /usr/bin/python3.10\n", stamp=True)
    assert rebuilds(plan(project))


def test_a_failed_install_is_rebuilt(project: Path) -> None:
    fake_venv(project, None, stamp=False)
    assert rebuilds(plan(project))


def test_a_healthy_venv_is_kept(project: Path) -> None:
    fake_venv(project, None, stamp=True)
    result = plan(project)
    assert result.returncode == 0, result.stderr
    assert not rebuilds(result)
    assert ".venv/bin/ruff check" in result.stdout


def test_no_supported_python_stops_with_one_line(project: Path) -> None:
    result = subprocess.run(["make", "-n", "lint", "SUPPORTED_PYTHONS=no-such-python3.11 no-such-python3.12"],
                            cwd=project, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "no usable Python 3.11, 3.12 or 3.13" in lines[0] and "install python3.12" in lines[0]


def test_a_python_that_does_not_run_is_named(project: Path) -> None:
    fake = project / "python3.12"
    fake.write_text("#!/bin/sh\necho 'pyenv: python3.12: command not found' >&2\nexit 127\n")
    fake.chmod(0o755)
    result = subprocess.run(["make", "-n", "lint", f"PYTHON={fake}"], cwd=project, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "is not a working Python 3.11, 3.12 or 3.13" in lines[0], lines
