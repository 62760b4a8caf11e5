"""Installed size per Python, and `pip install .` / `pipx install .` checked on each.

    python benchmarks/bench_install.py                  # every supported Python found here
    python benchmarks/bench_install.py --pythons 3.13
    python benchmarks/bench_install.py --no-pipx

For each Python: a fresh venv gets `pip install .` (the runtime only, no test tools, not editable, as
a user gets it); we record the wall time, the size of its site-packages, `posture --version`, and run
the app's own code path once from outside the checkout (so the installed copy, with its bundled
model, is what runs): every app module imported, Qt offscreen, one frame through the production
person finder. The distributions none of whose modules were loaded by then are listed as "never
loaded", with their size: what a leaner dependency set could drop. Then pipx (installed into a
throwaway venv) runs `pipx install --python PY .` and that install's `posture --version`.

Writes the `install` block of benchmarks/RESULTS.md and out/bench/install.json. Standard library
only, so any Python can start it. Wall times include downloads (pip's cache makes repeats faster).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import machine, replace_section, save_json, table  # noqa: E402
from benchmarks.pythons import SUPPORTED, find_pythons, site_packages, tree_size  # noqa: E402

WORK = ROOT / "out" / "bench" / "install"
FRAME_CLIP = ROOT / "sample_videos" / "demo_session.mp4"

# Runs inside the fresh venv, from a temporary folder: what the app loads on a real run.
SMOKE = r"""
import importlib, json, os, sys, pkgutil
from importlib import metadata
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
import posture, calibration, ui
assert not posture.__file__.startswith(os.path.join(sys.argv[2], "posture", "")), "the checkout, not the installed copy, was imported"
for pkg in (posture, calibration, ui):
    for mod in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
        if not mod.name.endswith("__main__"):
            importlib.import_module(mod.name)
import cv2
from posture.person import default_finder
cap = cv2.VideoCapture(sys.argv[1]); cap.set(cv2.CAP_PROP_POS_MSEC, 4000); ok, frame = cap.read()
finder = default_finder()
det = finder.find(frame)
finder.close()
from PySide6.QtWidgets import QApplication
app = QApplication([])
import ui.app, ui.dashboard
loaded = {name.split(".")[0] for name in list(sys.modules)}
sizes, never = {}, []
for dist in metadata.distributions():
    name = dist.metadata["Name"]
    files = dist.files or []
    size = 0
    for f in files:
        try:
            size += os.path.getsize(f.locate())
        except OSError:
            pass
    tops = {str(f).split("/")[0].removesuffix(".py") for f in files
            if not str(f).split("/")[0].endswith((".dist-info", ".data")) and not str(f).startswith("..")}
    sizes[name] = size
    if tops and not tops & loaded and name.lower() not in ("pip", "setuptools"):
        never.append(name)
print(json.dumps({"person_ok": bool(det.validity.ok), "faces": det.faces, "sizes": sizes, "never": sorted(never)}))
"""


def _run(cmd: list[str], log: Path, cwd: Path = ROOT, env: dict[str, str] | None = None) -> tuple[int, float]:
    t0 = time.monotonic()
    with log.open("a", encoding="utf-8") as fh:
        fh.write(f"$ {' '.join(cmd)}\n")
        fh.flush()
        code = subprocess.call(cmd, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT, env=env)
    return code, time.monotonic() - t0


def _mb(n: float) -> str:
    return f"{n / 1e6:.0f}"


def one_python(minor: str, python: str, pipx: Path | None) -> dict[str, Any]:
    venv = WORK / f"venv-{minor}"
    log = WORK / f"{minor}.log"
    log.write_text("", encoding="utf-8")
    shutil.rmtree(venv, ignore_errors=True)
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    row: dict[str, Any] = {"python": minor}
    vpy = str(venv / "bin" / "python")
    print(f"{minor}: pip install . (log: {log.relative_to(ROOT)})", flush=True)
    code, _ = _run([python, "-m", "venv", str(venv)], log, env=env)
    code2, seconds = _run([vpy, "-m", "pip", "install", str(ROOT)], log, env=env) if code == 0 else (code, 0.0)
    row["pip_ok"] = code2 == 0
    row["pip_s"] = round(seconds)
    row["packaging_warnings"] = packaging_warnings(log)
    if not row["pip_ok"]:
        return row
    row["site_bytes"] = tree_size(site_packages(venv))
    row["venv_bytes"] = tree_size(venv)
    with tempfile.TemporaryDirectory() as tmp:
        version = subprocess.run([str(venv / "bin" / "posture"), "--version"], cwd=tmp, capture_output=True,
                                 text=True, check=False)
        row["version"] = version.stdout.strip().splitlines()
        smoke = subprocess.run([vpy, "-c", SMOKE, str(FRAME_CLIP), str(ROOT)], cwd=tmp, capture_output=True,
                               text=True, check=False, env=dict(env, QT_QPA_PLATFORM="offscreen"))
    if smoke.returncode == 0:
        got = json.loads(smoke.stdout.strip().splitlines()[-1])
        row["person_ok"], row["faces"] = got["person_ok"], got["faces"]
        row["never"] = {name: got["sizes"].get(name, 0) for name in got["never"]}
        top = sorted(got["sizes"].items(), key=lambda kv: -kv[1])[:8]
        row["largest"] = dict(top)
    else:
        row["smoke_error"] = smoke.stderr.strip().splitlines()[-3:]
    shutil.rmtree(venv, ignore_errors=True)
    if pipx is not None:
        print(f"{minor}: pipx install .", flush=True)
        home = WORK / f"pipx-{minor}"
        shutil.rmtree(home, ignore_errors=True)
        penv = dict(env, PIPX_HOME=str(home / "home"), PIPX_BIN_DIR=str(home / "bin"), PIPX_MAN_DIR=str(home / "man"))
        code, seconds = _run([str(pipx), "install", "--python", python, str(ROOT)], log, env=penv)
        row["pipx_ok"] = code == 0
        row["pipx_s"] = round(seconds)
        if code == 0:
            out = subprocess.run([str(home / "bin" / "posture"), "--version"], capture_output=True, text=True,
                                 check=False, cwd=WORK)
            row["pipx_version"] = out.stdout.strip().splitlines()
            row["pipx_ok"] = out.returncode == 0
        shutil.rmtree(home, ignore_errors=True)
    return row


def packaging_warnings(log: Path) -> list[str]:
    """Every deprecation line `pip install .` printed: setuptools' complaints about our pyproject.toml
    (the old TOML-table licence printed pages of them) and pip's own about how we are built."""
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    return sorted({ln.strip() for ln in lines if "deprecat" in ln.lower()})


def _pipx(host: str) -> Path | None:
    """pipx in a throwaway venv of its own (it is not a dependency of the project)."""
    venv = WORK / "pipx-tool"
    exe = venv / "bin" / "pipx"
    if exe.exists():
        return exe
    log = WORK / "pipx-tool.log"
    if _run([host, "-m", "venv", str(venv)], log)[0] != 0:
        return None
    if _run([str(venv / "bin" / "python"), "-m", "pip", "install", "pipx"], log)[0] != 0:
        return None
    return exe


def report(data: dict[str, Any]) -> str:
    rows = []
    for r in data["rows"]:
        if not r.get("pip_ok"):
            rows.append([r["python"], "–", "install failed", "–", "–", "–", "–"])
            continue
        never = r.get("never", {})
        backend = r["version"][1].split(":", 1)[1].strip() if len(r.get("version", [])) > 1 else "?"
        rows.append([
            r["python"],
            backend,
            _mb(r["site_bytes"]),
            f"{_mb(sum(never.values()))} ({', '.join(sorted(never, key=lambda n: -never[n])[:6])})" if never else "0",
            f"yes, {r['pip_s']} s" + ("" if r.get("person_ok") else "; smoke run FAILED"),
            ("yes" if r.get("pipx_ok") else "no") + (f", {r['pipx_s']} s" if "pipx_s" in r else "") if "pipx_ok" in r
            else "not run",
        ])
    body = [
        "## Installed size per Python (`benchmarks/bench_install.py`)",
        "",
        "A fresh venv per Python with `pip install .` (runtime only, no test tools), measured on disk; then",
        "every app module imported, Qt offscreen, and one frame through the production person finder, run",
        "from outside the checkout. \"Never loaded\" are the installed distributions none of whose modules",
        "that run imported (the largest named). `pipx install .` is run into a temporary PIPX_HOME.",
        "",
        table(["Python", "pose backend", "site-packages (MB)", "never loaded by the app (MB)", "`pip install .`",
               "`pipx install .`"], rows),
        "",
        f"Machine: {data['machine']}. Wall times include downloads from the package index (pip's cache warm).",
        "Deprecation warnings printed while building and installing our package: "
        + ("; ".join(f"{r['python']}: {len(r.get('packaging_warnings', []))}" for r in data["rows"])) + ".",
    ]
    for r in data["rows"]:
        if r.get("largest"):
            body.append(f"- {r['python']} largest: " + ", ".join(f"{k} {_mb(v)} MB" for k, v in r["largest"].items()))
    return "\n".join(body)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pythons", nargs="+", default=list(SUPPORTED), metavar="3.X")
    ap.add_argument("--no-pipx", action="store_true")
    args = ap.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    found = find_pythons(tuple(args.pythons))
    pipx = None if args.no_pipx else _pipx(sys.executable)
    rows = []
    for minor, got in found.items():
        if got is None:
            print(f"{minor}: not installed here, skipped")
            continue
        rows.append(one_python(minor, got[1], pipx))
        print(json.dumps(rows[-1], indent=1, default=str)[:2000], flush=True)
    data = {"machine": machine(), "rows": rows}
    save_json("install", data)
    replace_section("install", report(data))
    print(report(data))
    return 0 if all(r.get("pip_ok") and r.get("person_ok") and r.get("pipx_ok", True) for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
