"""Shared helpers for the benchmark scripts.

- `replace_section` rewrites one `<!-- name -->`…`<!-- /name -->` block of benchmarks/RESULTS.md, so
  each script owns its own block and re-running one script never clobbers another's numbers.
- `ProcWatch` reads a process's CPU seconds and resident memory from /proc (or psutil when it is
  installed). CPU time, not wall time, is what we report: the machine is shared, and CPU seconds spent
  by *our* process do not grow when a neighbour is busy.
- `long_clip` builds the 10-minute labelled clip once into out/bench/ and reuses it while the
  generator is unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # scripts are run as `python benchmarks/x.py` from anywhere
    sys.path.insert(0, str(ROOT))

BENCH_DIR = ROOT / "benchmarks"
RESULTS = BENCH_DIR / "RESULTS.md"
OUT = ROOT / "out" / "bench"
SAMPLES = ROOT / "sample_videos"
CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

try:  # optional: only used when already installed, never added as a dependency
    import psutil
except ImportError:  # pragma: no cover - depends on the environment
    psutil = None


# --- RESULTS.md ------------------------------------------------------------------------------------

RESULTS_HEADER = """# Benchmark results

Written by `make bench` (`benchmarks/run_all.py`); each block between a pair of HTML comment markers
belongs to one script and is rewritten by it. Numbers are CPU seconds of *our* process per wall second (% of one core) unless
stated otherwise, so they hold on a shared machine; wall-clock figures are marked as such.
"""


def replace_section(name: str, body: str, path: Path = RESULTS, top: bool = False) -> None:
    """Put `body` between `<!-- name -->` and `<!-- /name -->` in RESULTS.md. A missing block is appended,
    or with `top` placed right after the file's header paragraph (the summary goes first)."""
    start, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    block = f"{start}\n{body.rstrip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else RESULTS_HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _m: block, text, count=1)
    elif top and (first := re.search(r"^<!-- [\w-]+ -->$", text, re.MULTILINE)):
        text = text[: first.start()] + block + "\n\n" + text[first.start():]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)  # a crash mid-write never leaves half a results file


def save_json(name: str, data: dict[str, Any]) -> Path:
    """Machine-readable results beside the clips (out/bench/NAME.json); run_all builds the summary from them."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(data, indent=1, default=str) + "\n", encoding="utf-8")
    return path


def load_json(name: str) -> dict[str, Any] | None:
    path = OUT / f"{name}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def rewrite_from_last(name: str, report: Callable[[dict[str, Any]], str]) -> int:
    """`--report-only`: rebuild a script's RESULTS.md block from its last saved results."""
    last = load_json(name)
    if last is None:
        print(f"no results yet in out/bench/{name}.json", file=sys.stderr)
        return 1
    text = report(last)
    replace_section(name, text)
    print(text)
    return 0


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> str:
    """One line naming the machine, so numbers are never read without their context."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import cv2
        import mediapipe

        libs = f"mediapipe {mediapipe.__version__}, OpenCV {cv2.__version__}"
    except ImportError:
        libs = "mediapipe/OpenCV not importable"
    return (f"{os.cpu_count()} cores ({model}), shared with other work; Python {platform.python_version()}, "
            f"{libs}; {time.strftime('%Y-%m-%d %H:%M')}")


# --- process CPU and memory --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProcSample:
    cpu_s: float  # user + system CPU seconds of all the process's threads
    rss_mb: float
    hwm_mb: float  # peak resident set size so far (VmHWM)


class ProcWatch:
    """CPU time and memory of one process (our own when pid is None)."""

    def __init__(self, pid: int | None = None) -> None:
        self.pid = pid or os.getpid()
        self._ps = psutil.Process(self.pid) if psutil is not None else None

    def sample(self) -> ProcSample:
        if self._ps is not None:
            t = self._ps.cpu_times()
            mem = self._ps.memory_info()
            hwm = _status_kb(self.pid, "VmHWM")
            return ProcSample(t.user + t.system, mem.rss / 2**20, (hwm or mem.rss / 1024) / 1024)
        return ProcSample(self.cpu_seconds(), (_status_kb(self.pid, "VmRSS") or 0) / 1024,
                          (_status_kb(self.pid, "VmHWM") or 0) / 1024)

    def cpu_seconds(self) -> float:
        # /proc/PID/stat: fields 14 and 15 (utime, stime) in clock ticks, summed over all threads. The
        # command name (field 2) may hold spaces, so split after its closing parenthesis.
        raw = Path(f"/proc/{self.pid}/stat").read_text()
        fields = raw[raw.rindex(")") + 2:].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def alive(self) -> bool:
        return Path(f"/proc/{self.pid}").exists()

    def threads(self) -> dict[int, ThreadStat]:
        """Per thread: CPU seconds and wake-ups so far, from /proc/PID/task/*/{stat,status}. A thread that
        ended between listing and reading is left out (its CPU stays in the process total)."""
        out: dict[int, ThreadStat] = {}
        try:
            tids = os.listdir(f"/proc/{self.pid}/task")
        except OSError:
            return out
        for tid in tids:
            base = f"/proc/{self.pid}/task/{tid}"
            try:
                raw = Path(f"{base}/stat").read_text()
                status = Path(f"{base}/status").read_text()
            except OSError:
                continue
            name = raw[raw.index("(") + 1: raw.rindex(")")]
            fields = raw[raw.rindex(")") + 2:].split()
            switches = sum(int(line.split()[1]) for line in status.splitlines() if "ctxt_switches:" in line)
            out[int(tid)] = ThreadStat(name, (int(fields[11]) + int(fields[12])) / CLK_TCK, switches)
        return out


@dataclass(frozen=True, slots=True)
class ThreadStat:
    name: str  # as /proc shows it (comm): "python" for Python threads unless named natively
    cpu_s: float  # user + system
    switches: int  # voluntary + involuntary context switches: how often the thread woke up or was preempted


def thread_cpu_delta(before: dict[int, ThreadStat], after: dict[int, ThreadStat], pid: int,
                     names: dict[int, str] | None = None) -> dict[str, tuple[int, float, int]]:
    """What each group of threads spent between two `ProcWatch.threads()` snapshots: group -> (threads,
    CPU seconds, context switches). The process's main thread is "main"; MediaPipe's pool threads are one
    group; other threads go by `names` (Python's names, in-process) or their /proc name. Threads born in
    between count in full; threads that ended in between are lost (a gap to the process total)."""
    per: dict[str, tuple[int, float, int]] = {}
    for tid, now in after.items():
        was = before.get(tid)
        cpu = now.cpu_s - (was.cpu_s if was else 0.0)
        sw = now.switches - (was.switches if was else 0)
        if tid == pid:
            group = "main (the monitor loop)"
        elif now.name.startswith("mediapipe/"):
            group = "MediaPipe graph threads"
        elif now.name == "camera-read":
            group = "camera-read (frame reads and decoding)"
        else:
            group = (names or {}).get(tid, "other threads (Python's, OpenCV's pool)" if now.name == "python" else now.name)
        n, c, k = per.get(group, (0, 0.0, 0))
        per[group] = (n + 1, c + cpu, k + sw)
    return per


def _status_kb(pid: int, key: str) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return float(line.split()[1])
    except OSError:
        return None
    return None


def rss_mb() -> float:
    """Resident memory of this process now."""
    return (_status_kb(os.getpid(), "VmRSS") or 0) / 1024


# --- clips and commands ----------------------------------------------------------------------------


def posture_cmd(*args: str) -> list[str]:
    """The CLI exactly as a user runs it, from this venv."""
    return [sys.executable, "-m", "posture", *args]


def isolated_env(root: Path, settings: dict[str, Any] | None = None) -> dict[str, str]:
    """Environment for a subprocess with its own config/data dirs (never the developer's real ones)."""
    config, data = root / "config", root / "data"
    config.mkdir(parents=True, exist_ok=True)
    data.mkdir(parents=True, exist_ok=True)
    if settings:
        (config / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
    env = dict(os.environ)
    env.update(POSTURE_CONFIG_DIR=str(config), POSTURE_DATA_DIR=str(data), QT_QPA_PLATFORM="offscreen",
               PYTHONUNBUFFERED="1", GLOG_minloglevel="2", TF_CPP_MIN_LOG_LEVEL="2")
    return env


def _generator_digest() -> str:
    h = hashlib.sha256()
    for name in ("make_samples.py", "warp.py"):
        p = SAMPLES / name
        if p.exists():
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def long_clip(minutes: float = 10.0, seed: int = 0) -> Path:
    """The `minutes`-long labelled clip in out/bench/, rebuilt only when the generator has changed."""
    OUT.mkdir(parents=True, exist_ok=True)
    tag = f"{minutes:g}min_seed{seed}"
    path = OUT / f"long_{tag}.mp4"
    stamp = OUT / f"long_{tag}.stamp"
    digest = _generator_digest()
    labels = path.with_name(path.stem + ".labels.json")
    if path.exists() and labels.exists() and stamp.exists() and stamp.read_text().strip() == digest:
        return path
    print(f"building the {minutes:g}-minute clip {path} (once; cached until sample_videos/ changes)…", flush=True)
    started = time.monotonic()
    from sample_videos.make_samples import make_long_clip

    make_long_clip(path, minutes, seed=seed)
    stamp.write_text(digest + "\n")
    print(f"  built in {time.monotonic() - started:.0f} s", flush=True)
    return path


def labels_of(clip: Path) -> Path:
    return clip.with_name(clip.name.rsplit(".", 1)[0] + ".labels.json")


def labelled_clips() -> list[Path]:
    """The 30 fps sample clips with labels (sample_videos/*.mp4 + *.labels.json)."""
    return sorted(p for p in SAMPLES.glob("*.mp4") if labels_of(p).exists())


def clip_info(path: Path) -> tuple[float, float, int]:
    """(fps, duration s, frames) of a video."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    try:
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0) or 30.0
        frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    finally:
        cap.release()
    return fps, frames / fps, frames


@contextmanager
def child(cmd: Sequence[str], env: dict[str, str] | None = None, **kw: Any) -> Iterator[subprocess.Popen[str]]:
    """A subprocess that is terminated (then killed) if the benchmark stops early."""
    proc = subprocess.Popen(list(cmd), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            bufsize=1, **kw)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def fmt(v: float | None, spec: str = ".1f", none: str = "–") -> str:
    return none if v is None else format(v, spec)
