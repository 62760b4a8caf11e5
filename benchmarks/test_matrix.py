"""`make test-matrix`: a fresh venv per supported Python found here, each running the whole suite.

    python benchmarks/test_matrix.py                    # 3.11, 3.12 and 3.13, one after the other
    python benchmarks/test_matrix.py --pythons 3.13     # just one
    python benchmarks/test_matrix.py --keep             # keep the venvs (out/matrix/venv-3.X)
    python benchmarks/test_matrix.py --reuse            # run the suite again in venvs kept by --keep
    python benchmarks/test_matrix.py --pythons 3.13 --reuse -- tests/test_conditions_suite.py   # pytest arguments

Each Python gets out/matrix/venv-3.X built from scratch with `pip install -e '.[test]'` (the install a
developer gets from `make`), fetches the extra real footage as `make test` does, then `pytest` runs in
it with Qt offscreen and the same selection as `make test` (the desktop tests need a real X session
and the checkout's own .venv: `make test-desktop`). Logs go to out/matrix/; the
table (also printed) to out/matrix/test-matrix.md, for the README. A Python that is not installed is
listed as such rather than failing the run; any install or test failure makes the exit status 1.
Standard library only, so any Python can start it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.pythons import SUPPORTED, find_pythons  # noqa: E402

OUT = ROOT / "out" / "matrix"
SUMMARY_RE = re.compile(r"^=*\s*(\d+ (passed|failed|error|skipped).*) in ([\d.]+)s", re.MULTILINE)
INFO = (
    "import sys, numpy, mediapipe; from posture.pose import describe_backend; "
    "print(sys.version.split()[0]); print(numpy.__version__); print(mediapipe.__version__); print(describe_backend())"
)


def _run(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> int:
    """Run with output appended to `log`; a dot per minute on the console so a long step shows life."""
    with log.open("a", encoding="utf-8") as fh:
        fh.write(f"$ {' '.join(cmd)}\n")
        fh.flush()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, env=env)
        while True:
            try:
                return proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                print(".", end="", flush=True)


def one_python(minor: str, python: str, keep: bool, reuse: bool = False, pytest_args: list[str] | None = None
               ) -> dict[str, str]:
    venv = OUT / f"venv-{minor}"
    log = OUT / f"{minor}.log"
    stamp = venv / ".matrix-installed"  # written only after a complete install, with its wall time
    row = {"python": minor, "backend": "–", "numpy": "–", "mediapipe": "–", "result": "", "install_s": "", "test_s": ""}
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONWARNINGS="ignore:Editable installation")
    vpy = str(venv / "bin" / "python")
    if reuse and stamp.exists():
        row["install_s"] = stamp.read_text(encoding="utf-8").strip() + " (reused)"
        with log.open("a", encoding="utf-8") as fh:
            fh.write(f"\n# reusing {venv} (installed in {row['install_s']})\n")
        print(f"{minor}: reusing {venv.relative_to(ROOT)} (log: {log.relative_to(ROOT)}) ", end="", flush=True)
    else:
        log.write_text("", encoding="utf-8")
        shutil.rmtree(venv, ignore_errors=True)
        print(f"{minor}: installing into {venv.relative_to(ROOT)} (log: {log.relative_to(ROOT)}) ", end="", flush=True)
        t0 = time.monotonic()
        for step in ([python, "-m", "venv", str(venv)], [vpy, "-m", "pip", "install", "--upgrade", "pip"],
                     [vpy, "-m", "pip", "install", "-e", ".[test]"]):
            if _run(step, log, env) != 0:
                row["result"] = "install failed"
                print(f"\n{minor}: install failed, see {log}")
                return row
        row["install_s"] = f"{time.monotonic() - t0:.0f}"
        stamp.write_text(row["install_s"] + "\n", encoding="utf-8")
    # As `make test` does: the second real person for the conditions suite (its tests skip without it).
    if _run([vpy, "tests/real_footage/fetch.py"], log, env) != 0:
        print(f"\n{minor}: real footage not fetched (see {log}); the tests that need it will skip", end="")
    info = subprocess.run([vpy, "-c", INFO], cwd=ROOT, capture_output=True, text=True, check=False).stdout.splitlines()
    if len(info) == 4:
        row["python"], row["numpy"], row["mediapipe"] = info[0], info[1], info[2]
        row["backend"] = info[3].split(":", 1)[1].strip().split(" ")[0]
    print(f"\n{minor}: running the suite ", end="", flush=True)
    t0 = time.monotonic()
    test_env = dict(env, QT_QPA_PLATFORM="offscreen")
    code = _run([vpy, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not desktop", "-n", "auto",
                      "--dist", "loadfile", *(pytest_args or [])], log,
                test_env)
    row["test_s"] = f"{time.monotonic() - t0:.0f}"
    found = SUMMARY_RE.findall(log.read_text(encoding="utf-8", errors="replace"))
    row["result"] = found[-1][0] if found else f"pytest exit {code}"
    if code != 0 and "failed" not in row["result"] and "error" not in row["result"]:
        row["result"] += f" (exit {code})"
    row["ok"] = "yes" if code == 0 else "no"
    print(f"\n{minor}: {row['result']}")
    if not keep:
        shutil.rmtree(venv, ignore_errors=True)
    return row


def to_markdown(rows: list[dict[str, str]]) -> str:
    lines = [
        "| Python | pose backend | mediapipe | numpy | install (s, wall) | suite (s, wall) | result |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['python']} | {r['backend']} | {r['mediapipe']} | {r['numpy']} | {r['install_s'] or '–'} "
                     f"| {r['test_s'] or '–'} | {r['result']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pythons", nargs="+", default=list(SUPPORTED), metavar="3.X")
    ap.add_argument("--keep", action="store_true", help="keep each venv in out/matrix/")
    ap.add_argument("--reuse", action="store_true", help="use a venv a --keep run left complete instead of rebuilding")
    ap.add_argument("pytest_args", nargs="*", help="passed to pytest after `--` (files, -k, --deselect)")
    args = ap.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, str]] = []
    failed = False
    for minor, found in find_pythons(tuple(args.pythons)).items():
        if found is None:
            print(f"{minor}: not installed here, skipped")
            rows.append({"python": minor, "backend": "–", "numpy": "–", "mediapipe": "–", "result": "not installed here",
                         "install_s": "", "test_s": ""})
            continue
        row = one_python(minor, found[1], args.keep or args.reuse, args.reuse, args.pytest_args)
        if args.pytest_args:
            row["result"] += f" (pytest {' '.join(args.pytest_args)})"
        failed |= row.get("ok") != "yes"
        rows.append(row)
    table = to_markdown(rows)
    (OUT / "test-matrix.md").write_text(table + "\n", encoding="utf-8")
    (OUT / "test-matrix.json").write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    print(table)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
