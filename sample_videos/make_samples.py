"""Make the labelled sample clips in sample_videos/ from public-domain photos (see README.md there).

    python sample_videos/make_samples.py            # regenerate every clip and its labels
    python sample_videos/make_samples.py slouch     # just some of them

Building blocks for benchmarks and tests:

- `render_segments(segments, path)` renders `[(posture, amount, seconds), ...]` to a 30 fps 448x448 .mp4
  and writes `<name>.labels.json` beside it; every segment eases in from the previous one like a person
  would (about 1 s; 0.45 s for a glance, 2.5 s for walking off or back).
- `make_long_clip(path, minutes)` renders a seeded mix of everything, for long-running benchmarks.

Everything is deterministic: motion comes from seeded sines, never from the clock.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

if __package__ in (None, ""):  # run as a script: make `sample_videos` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sample_videos.warp import (
    POSTURES,
    SIZE,
    Stance,
    Walker,
    build_rig,
    natural_motion,
    render,
    stance_for,
    walker_span,
)

FPS = 30
HERE = Path(__file__).resolve().parent

Segment = tuple[str, float, float]  # (posture, amount, seconds)

# Amounts at or above this are labelled "poor"; smaller ones are drift a person would not be told about.
POOR_FROM = 0.5
EASE_SECONDS = 1.0
EASE_GLANCE = 0.45
EASE_AWAY = 2.5
WALK_SECONDS = 5.0  # a second person crossing the whole frame


@dataclass(frozen=True)
class Label:
    start: float
    end: float
    state: str  # "good" | "poor" | "away"
    # The posture shown: "upright", "forward_head", "slouch", "head_tilt_left", "lateral_lean_right", ...,
    # "glance", "away". Sided postures name her side (her left is the image's right), so evaluation can
    # check the reported direction, and a mirrored picture can expect the mirror image.
    reason: str


@dataclass(frozen=True)
class Crossing:
    """A second person walking behind the user: starts at `start` s, takes `seconds` to cross."""

    start: float
    seconds: float = WALK_SECONDS
    leftward: bool = False


def label_for(posture: str, amount: float) -> tuple[str, str]:
    """(state, reason) for a segment."""
    if posture not in POSTURES:
        raise ValueError(f"unknown posture {posture!r}")
    if posture == "away":
        return "away", "away"
    if posture in ("upright", "glance"):
        return "good", posture
    state = "poor" if abs(amount) >= POOR_FROM else "good"
    if posture in SIDE_WORDS:
        # warp.DEFAULT_SIDE: a positive tilt goes toward her left shoulder, a positive lean toward her right.
        toward_left = (amount > 0) == (posture == "head_tilt")
        return state, f"{posture}_{'left' if toward_left else 'right'}"
    return state, posture


SIDE_WORDS = ("head_tilt", "lateral_lean")


def write_labels(name: str, out_dir: Path = HERE) -> Path:
    """Rewrite one clip's labels from its segments, without rendering the clip again."""
    path = labels_path(out_dir / f"{name}.mp4")
    path.write_text(json.dumps([asdict(lb) for lb in labels_for(CLIPS[name].segments)], indent=1) + "\n")
    return path


def ease_seconds(prev: str, cur: str) -> float:
    if "away" in (prev, cur):
        return EASE_AWAY
    if "glance" in (prev, cur):
        return EASE_GLANCE
    return EASE_SECONDS


def _smooth(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return x * x * (3 - 2 * x)


def _check(segments: Sequence[Segment]) -> None:
    if not segments:
        raise ValueError("no segments")
    for posture, amount, seconds in segments:
        stance_for(posture, amount)  # validates posture and amount
        if not seconds > 0:
            raise ValueError(f"segment {posture!r} must last > 0 s, got {seconds}")


def frame_count(segments: Sequence[Segment], fps: int = FPS) -> int:
    return round(sum(s for _, _, s in segments) * fps)


def stances(segments: Sequence[Segment], fps: int = FPS) -> Iterator[Stance]:
    """The stance of every frame: each segment eases from wherever the previous one ended."""
    _check(segments)
    starts = np.cumsum([0.0] + [s for _, _, s in segments])
    bounds = np.round(starts * fps).astype(int)
    prev_posture = segments[0][0]
    current = stance_for(segments[0][0], segments[0][1])
    for i, (posture, amount, _) in enumerate(segments):
        target = stance_for(posture, amount)
        ease = ease_seconds(prev_posture, posture) if i else 0.0
        origin = current
        for frame in range(bounds[i], bounds[i + 1]):
            w = 1.0 if ease == 0 else _smooth((frame / fps - starts[i]) / ease)
            current = origin.blend(target, w)
            yield current
        prev_posture = posture


def labels_for(segments: Sequence[Segment]) -> list[Label]:
    """Labels covering [0, duration]. A boundary between different labels sits at the middle of the ease,
    where the person is as much in the old posture as in the new one; equal neighbours merge."""
    _check(segments)
    bounds = [0.0]
    t = 0.0
    for i, (posture, _, seconds) in enumerate(segments):
        if i:
            ease = ease_seconds(segments[i - 1][0], posture)
            bounds.append(t + min(ease, seconds) / 2)
        t += seconds
    bounds.append(t)
    out: list[Label] = []
    for i, (posture, amount, _) in enumerate(segments):
        state, reason = label_for(posture, amount)
        a, b = round(bounds[i], 3), round(bounds[i + 1], 3)
        if out and out[-1].state == state and out[-1].reason == reason:
            out[-1] = Label(out[-1].start, b, state, reason)
        else:
            out.append(Label(a, b, state, reason))
    return out


def labels_path(video: Path) -> Path:
    return video.with_name(video.name.removesuffix(video.suffix) + ".labels.json")


CRF = 27  # libx264 quality: ~15 KB/s for these clips, visually clean at 448x448


class _FfmpegH264:
    """H.264 through the ffmpeg binary that the imageio-ffmpeg wheel ships (libx264, constant quality)."""

    codec = "h264 (imageio-ffmpeg libx264)"

    def __init__(self, path: Path, fps: int) -> None:
        import imageio_ffmpeg

        self._gen = imageio_ffmpeg.write_frames(
            str(path),
            (SIZE, SIZE),
            fps=fps,
            codec="libx264",
            pix_fmt_in="bgr24",
            pix_fmt_out="yuv420p",
            quality=None,
            macro_block_size=16,
            ffmpeg_log_level="error",
            output_params=[
                *("-crf", str(CRF), "-preset", "medium", "-g", str(10 * fps), "-threads", "1"),
                *("-movflags", "+faststart", "-map_metadata", "-1", "-fflags", "+bitexact"),
            ],
        )
        self._gen.send(None)

    def write(self, frame: np.ndarray) -> None:
        self._gen.send(np.ascontiguousarray(frame))

    def close(self) -> None:
        self._gen.close()


class _OpenCvWriter:
    def __init__(self, path: Path, fps: int) -> None:
        level = cv2.getLogLevel()
        cv2.setLogLevel(0)  # silent: a missing H.264 encoder is expected, not an error
        try:
            for fourcc in ("avc1", "mp4v"):
                writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*fourcc), fps, (SIZE, SIZE))
                if writer.isOpened():
                    self._writer, self.codec = writer, f"{fourcc} (OpenCV)"
                    return
                writer.release()
        finally:
            cv2.setLogLevel(level)
        raise RuntimeError(f"OpenCV cannot write {path}: neither 'avc1' nor 'mp4v' is available")

    def write(self, frame: np.ndarray) -> None:
        self._writer.write(frame)

    def close(self) -> None:
        self._writer.release()


def open_writer(path: Path, fps: int = FPS) -> _FfmpegH264 | _OpenCvWriter:
    """The smallest .mp4 this machine can write that OpenCV reads back.

    OpenCV's own writer has no quality setting (its MPEG-4 runs near-lossless, ~100 KB/s here, and the
    pip wheels have no H.264 encoder), so H.264 at a set quality through imageio-ffmpeg comes first when
    that package is installed; otherwise OpenCV's 'avc1', else 'mp4v'.
    """
    try:
        return _FfmpegH264(path, fps)
    except ImportError:
        return _OpenCvWriter(path, fps)


def _walker_at(t: float, crossings: Sequence[Crossing]) -> Walker | None:
    for c in crossings:
        u = (t - c.start) / c.seconds
        if 0.0 <= u <= 1.0:
            x0, x1 = walker_span()
            if c.leftward:
                x0, x1 = x1, x0
            step = abs(math.sin(math.pi * 1.8 * (t - c.start)))  # ~1.8 steps a second
            return Walker(x=x0 + (x1 - x0) * u, bob=-3.0 * step, facing_left=c.leftward)
    return None


def render_frames(
    segments: Sequence[Segment], *, fps: int = FPS, seed: int = 0, crossings: Sequence[Crossing] = ()
) -> Iterator[np.ndarray]:
    """Every frame (448x448 BGR uint8) of a segment list."""
    rig = build_rig()
    for i, st in enumerate(stances(segments, fps)):
        t = i / fps
        yield render(rig, st, natural_motion(t, seed), _walker_at(t, crossings))


def render_segments(
    segments: Sequence[Segment],
    path: str | Path,
    *,
    fps: int = FPS,
    seed: int = 0,
    crossings: Sequence[Crossing] = (),
    progress: Callable[[int, int], None] | None = None,
) -> list[Label]:
    """Render `[(posture, amount, seconds), ...]` to `path` (.mp4) and its labels to `<name>.labels.json`.

    `posture` is one of warp.POSTURES; `amount` runs 0..1 (head_tilt and lateral_lean take -1..1 for
    the other side). Returns the labels written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    labels = labels_for(segments)
    total = frame_count(segments, fps)
    writer = open_writer(path, fps)
    try:
        for i, frame in enumerate(render_frames(segments, fps=fps, seed=seed, crossings=crossings)):
            writer.write(frame)
            if progress is not None and i % fps == 0:
                progress(i, total)
    finally:
        writer.close()
    labels_path(path).write_text(json.dumps([asdict(lb) for lb in labels], indent=1) + "\n")
    return labels


def long_clip_segments(minutes: float, seed: int = 0) -> list[Segment]:
    """A seeded, realistic mix for `minutes`: calibration, then upright work with glances, the four poor
    postures held long enough for a nudge, recoveries and the odd absence."""
    rng = np.random.default_rng(seed)
    total = minutes * 60.0
    segs: list[Segment] = [("upright", 0.0, 10.0)]
    t = 10.0
    poor = ("slouch", "forward_head", "head_tilt", "lateral_lean")
    while t < total:
        kind = rng.choice(["work", "poor", "away"], p=[0.45, 0.45, 0.1])
        if kind == "work":
            for _ in range(int(rng.integers(1, 4))):
                segs.append(("upright", 0.0, round(float(rng.uniform(6, 20)), 1)))
                segs.append(("glance", 1.0, round(float(rng.uniform(0.8, 2.0)), 1)))
            segs.append(("upright", 0.0, round(float(rng.uniform(5, 15)), 1)))
        elif kind == "poor":
            posture = str(rng.choice(poor))
            amount = round(float(rng.uniform(0.7, 1.0)), 2)
            if posture in ("head_tilt", "lateral_lean") and rng.random() < 0.3:
                amount = -amount
            segs.append((posture, amount, round(float(rng.uniform(30, 90)), 1)))
            segs.append(("upright", 0.0, round(float(rng.uniform(10, 20)), 1)))
        else:
            segs.append(("away", 1.0, round(float(rng.uniform(15, 40)), 1)))
            segs.append(("upright", 0.0, round(float(rng.uniform(10, 20)), 1)))
        t = sum(s for _, _, s in segs)
    # Trim the end to the requested length; a sliver under 2 s joins the segment before it.
    out: list[Segment] = []
    t = 0.0
    for posture, amount, seconds in segs:
        remaining = total - t
        if seconds >= remaining:
            if remaining < 2.0 and out:
                p, a, s = out[-1]
                out[-1] = (p, a, s + remaining)
            else:
                out.append((posture, amount, remaining))
            break
        out.append((posture, amount, seconds))
        t += seconds
    return out


def make_long_clip(path: str | Path, minutes: float = 10.0, seed: int = 0) -> list[Label]:
    """Render a `minutes`-long labelled clip to `path` (e.g. into a temp dir for benchmarks)."""
    return render_segments(long_clip_segments(minutes, seed), path, seed=seed)


@dataclass(frozen=True)
class Clip:
    segments: tuple[Segment, ...]
    seed: int
    crossings: tuple[Crossing, ...] = ()
    about: str = ""


CLIPS: dict[str, Clip] = {
    "upright": Clip((("upright", 0.0, 24.0),), seed=1, about="upright throughout, breathing and idle sway only"),
    "forward_head": Clip(
        (("upright", 0.0, 10.0), ("forward_head", 0.25, 5.0), ("forward_head", 1.0, 14.0), ("upright", 0.0, 7.0)),
        seed=2,
        about="head comes toward the camera: a little (still good), then clearly (poor), then back",
    ),
    "slouch": Clip(
        (("upright", 0.0, 10.0), ("slouch", 0.25, 5.0), ("slouch", 1.0, 14.0), ("upright", 0.0, 7.0)),
        seed=3,
        about="head sinks toward rounded-up shoulders: a little, then clearly, then back",
    ),
    "head_tilt": Clip(
        (
            ("upright", 0.0, 10.0),
            ("head_tilt", 0.25, 4.0),
            ("head_tilt", 1.0, 10.0),
            ("upright", 0.0, 5.0),
            ("head_tilt", -1.0, 7.0),
            ("upright", 0.0, 4.0),
        ),
        seed=4,
        about="head tilts toward her left shoulder a little, then clearly; later clearly toward her right",
    ),
    "lateral_lean": Clip(
        (
            ("upright", 0.0, 10.0),
            ("lateral_lean", 0.25, 4.0),
            ("lateral_lean", 1.0, 10.0),
            ("upright", 0.0, 5.0),
            ("lateral_lean", -0.8, 7.0),
            ("upright", 0.0, 4.0),
        ),
        seed=5,
        about="trunk and head lean toward her right a little, then clearly; later toward her left",
    ),
    "leave_return": Clip(
        (("upright", 0.0, 10.0), ("away", 1.0, 14.0), ("upright", 0.0, 10.0)),
        seed=6,
        about="she gets up and walks out of frame, the room stays empty, she comes back",
    ),
    "second_person": Clip(
        (("upright", 0.0, 30.0),),
        seed=7,
        crossings=(Crossing(11.0), Crossing(20.0, 6.0, leftward=True)),
        about="upright while a second person crosses behind her twice (at 11-16 s and 20-26 s)",
    ),
    "demo_session": Clip(
        (
            ("upright", 0.0, 10.0),  # calibration
            ("upright", 0.0, 10.0),
            ("glance", 1.0, 1.5),
            ("upright", 0.0, 10.0),
            ("glance", 1.0, 1.5),
            ("upright", 0.0, 8.0),
            ("slouch", 0.9, 60.0),
            ("upright", 0.0, 12.0),
            ("head_tilt", 0.9, 12.0),
            ("upright", 0.0, 6.0),
            ("lateral_lean", 0.9, 12.0),
            ("upright", 0.0, 6.0),
            ("away", 1.0, 20.0),
            ("upright", 0.0, 12.0),
        ),
        seed=8,
        about="a 3-minute story: calibration, work with two glances down, a 60 s slouch, recovery, "
        "a head tilt, a lean, 20 s away, back upright",
    ),
}


def make_clip(name: str, out_dir: Path = HERE) -> Path:
    clip = CLIPS[name]
    path = out_dir / f"{name}.mp4"
    render_segments(clip.segments, path, seed=clip.seed, crossings=clip.crossings)
    return path


def _make_clip_job(job: tuple[str, Path]) -> str:
    name, out_dir = job
    path = make_clip(name, out_dir)
    seconds = sum(s for _, _, s in CLIPS[name].segments)
    return f"{path.name}: {seconds:.1f} s, {path.stat().st_size / 1e6:.2f} MB"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("clips", nargs="*", help=f"clips to make (default: all): {', '.join(CLIPS)}")
    parser.add_argument("--out", type=Path, default=HERE, help="output directory (default: sample_videos/)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="parallel processes")
    parser.add_argument("--labels-only", action="store_true", help="rewrite the label files, not the clips")
    args = parser.parse_args(argv)
    unknown = [c for c in args.clips if c not in CLIPS]
    if unknown:
        parser.error(f"unknown clip(s) {', '.join(unknown)}; choose from {', '.join(CLIPS)}")
    names = args.clips or list(CLIPS)
    if args.labels_only:
        for n in names:
            print(write_labels(n, args.out).name)
        return 0
    # Longest first, so two workers finish together.
    names.sort(key=lambda n: -sum(s for _, _, s in CLIPS[n].segments))
    jobs = [(n, args.out) for n in names]
    if args.jobs > 1 and len(jobs) > 1:
        with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
            for line in pool.imap_unordered(_make_clip_job, jobs):
                print(line, flush=True)
    else:
        for job in jobs:
            print(_make_clip_job(job), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
