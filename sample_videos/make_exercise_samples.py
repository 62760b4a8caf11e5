"""Make the labelled exercise clips in sample_videos/ (chin tucks, slow turns, side bends, shoulder rolls,
shoulder-blade squeezes and a watched break), from the same public-domain photo as make_samples.py.

    python sample_videos/make_exercise_samples.py               # every exercise clip and its labels
    python sample_videos/make_exercise_samples.py ex_head_turns  # just some

Each clip is a list of repetitions: rest, move to a peak over `go` s, hold, come back over `back` s.
`<clip>.reps.json` beside the clip lists every repetition that a person would count (movement, side,
start / peak / end times and the rendered amount) and the movements that must NOT count (a glance
below the threshold, a chin tuck done as a nod). Deterministic: motion comes from seeded sines.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

if __package__ in (None, ""):  # run as a script: make `sample_videos` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sample_videos.make_samples import open_writer
from sample_videos.warp import (
    GAINS,
    SIZE,
    Motion,
    Rig,
    Stance,
    _over,
    _scale,
    _split,
    _t,
    _warp_over,
    build_rig,
    mesh_targets,
    natural_motion,
    piecewise_affine_maps,
    transforms,
)

HERE = Path(__file__).resolve().parent
# Half the usual 30 fps: many laptop webcams drop to 15 fps indoors, and it halves the files.
FPS = 15


@dataclass(frozen=True)
class ExStance:
    """How far each exercise is taken at one instant.

    yaw_deg: + turns the nose toward the image's right (the person's own left). bend_deg: + tips the
    head toward the image's right (her left shoulder). tuck, shrug, squeeze, nod: 0..1.
    """

    yaw_deg: float = 0.0
    bend_deg: float = 0.0
    tuck: float = 0.0
    shrug: float = 0.0
    squeeze: float = 0.0
    nod: float = 0.0

    def scaled(self, w: float) -> ExStance:
        return ExStance(*(w * getattr(self, f) for f in self.__dataclass_fields__))


# How far amount 1 moves the rig (fractions of shoulder width).
TUCK_SCALE = 0.08  # the head goes back: it looks this much smaller
TUCK_RISE = 0.03  # ... and the neck straightens a little
SHRUG_RISE = 0.13
SQUEEZE_NARROW = 0.08
NOD_DROP = 0.05
NOD_SQUASH = 0.14
YAW_RADIUS = 1.2  # the face slides over a sphere this many half ear-distances wide
YAW_NARROW = 0.6


def _yaw_head(rig: Rig, yaw_deg: float) -> np.ndarray:
    """The head layer with the face slid sideways over the skull, as a turn looks from the front.

    Every column moves by R·sin(yaw)·cos(πu/2), u being its distance from the head's centre in radii:
    the nose moves most, the outline stays, the side turning away is compressed. The shift fades out
    over the chin so the head stays on the neck.
    """
    if abs(yaw_deg) < 1e-3:
        return rig.head
    x0, y0, x1, y1 = rig.head_bbox
    pad = 20
    x0, x1 = max(0, x0 - pad), min(SIZE, x1 + pad)
    cx = float(rig.ear_mid[0])
    r = YAW_RADIUS * rig.ear_dist / 2
    xs = np.arange(x0, x1, dtype=np.float32)[None, :]
    ys = np.arange(y0, y1, dtype=np.float32)[:, None]
    u = np.clip((xs - cx) / r, -1.0, 1.0)
    chin = float(rig.chin[1])
    fade = np.clip((chin + 0.05 * r - ys) / (0.35 * r), 0.0, 1.0)
    shift = r * math.sin(math.radians(yaw_deg)) * np.cos(np.pi * u / 2) * fade
    # The whole face also narrows a little as it turns (the far half foreshortens).
    squeeze = 1.0 + YAW_NARROW * (1 - math.cos(math.radians(yaw_deg))) * fade
    map_x = np.ascontiguousarray(cx + (xs - cx) * squeeze - shift, dtype=np.float32)
    map_y = np.ascontiguousarray(np.broadcast_to(ys, map_x.shape), dtype=np.float32)
    out = rig.head.copy()
    out[y0:y1, x0:x1] = cv2.remap(rig.head, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    return out


def render_exercise(rig: Rig, ex: ExStance, motion: Motion | None = None) -> np.ndarray:
    """One 448x448 BGR frame of the astronaut doing `ex` (on top of warp.py's rig and layers)."""
    motion = motion or Motion()
    sw = rig.shoulder_width
    stance = Stance(head_tilt=ex.bend_deg / GAINS.tilt_deg)
    head_m, shoulder_m, body_m = transforms(rig, stance, motion)
    head_m = _t(0.0, -TUCK_RISE * sw * ex.tuck) @ _scale(1 - TUCK_SCALE * ex.tuck, 1 - TUCK_SCALE * ex.tuck,
                                                         rig.neck_pivot) @ head_m
    head_m = _t(0.0, NOD_DROP * sw * ex.nod) @ _scale(1.0, 1 - NOD_SQUASH * ex.nod, rig.chin) @ head_m
    shoulder_m = _t(0.0, -SHRUG_RISE * sw * ex.shrug) @ _scale(1 - SQUEEZE_NARROW * ex.squeeze, 1.0,
                                                              rig.shoulder_mid) @ shoulder_m
    dst = mesh_targets(rig, head_m, shoulder_m, body_m)
    map_x, map_y = piecewise_affine_maps(rig.mesh_src, dst, rig.simplices, (SIZE, SIZE))
    body = cv2.remap(rig.body, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                     borderValue=(0.0, 0.0, 0.0, 0.0))
    out = _over(rig.plate.copy(), *_split(body))
    _warp_over(out, _yaw_head(rig, ex.yaw_deg), (body_m @ head_m)[:2], rig.head_bbox)
    out = _over(out, *rig.front_split)
    return cv2.convertScaleAbs(out)


# ------------------------------------------------------------------------------------------ timelines


@dataclass(frozen=True)
class Rep:
    """One movement out and back: `go` s to the peak, `hold` s there, `back` s to rest, then `rest` s."""

    movement: str  # turn, side_bend, chin_tuck, shoulder_roll, squeeze; or "glance" / "nod" (not counted)
    peak: ExStance
    go: float = 1.5
    hold: float = 1.5
    back: float = 1.5
    rest: float = 1.5
    counts: bool = True

    @property
    def seconds(self) -> float:
        return self.go + self.hold + self.back + self.rest


@dataclass(frozen=True)
class ExClip:
    reps: tuple[Rep, ...]
    seed: int
    lead: float = 2.5  # still at the start: the detectors learn the resting position here
    about: str = ""
    gaps: tuple[tuple[float, float], ...] = field(default=())  # (start, end) s with the person out of frame

    @property
    def seconds(self) -> float:
        return self.lead + sum(r.seconds for r in self.reps)


def _smooth(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return x * x * (3 - 2 * x)


def stance_at(clip: ExClip, t: float) -> ExStance:
    s = clip.lead
    for rep in clip.reps:
        if t < s + rep.seconds:
            u = t - s
            if u < 0:
                return ExStance()
            if u < rep.go and rep.go > 0:
                return rep.peak.scaled(_smooth(u / rep.go))
            if u < rep.go + rep.hold:
                return rep.peak
            if u < rep.go + rep.hold + rep.back and rep.back > 0:
                return rep.peak.scaled(1 - _smooth((u - rep.go - rep.hold) / rep.back))
            return ExStance()
        s += rep.seconds
    return ExStance()


def _side(movement: str, peak: ExStance) -> str | None:
    value = {"turn": peak.yaw_deg, "side_bend": peak.bend_deg}.get(movement)
    if value is None:
        return None
    return "left" if value > 0 else "right"  # + is toward the image's right: her own left


def labels_for(clip: ExClip) -> dict[str, object]:
    counted: dict[str, list[dict[str, object]]] = {}
    not_counted: list[dict[str, object]] = []
    s = clip.lead
    for rep in clip.reps:
        entry: dict[str, object] = {
            "side": _side(rep.movement, rep.peak),
            "start": round(s, 3),
            "peak": round(s + rep.go + rep.hold / 2, 3),
            "end": round(s + rep.go + rep.hold + rep.back, 3),
            "rendered": {k: v for k, v in vars(rep.peak).items() if v},
            "seconds": round(rep.go + rep.hold + rep.back, 3),
        }
        if rep.movement == "rest":
            pass
        elif rep.counts:
            counted.setdefault(rep.movement, []).append(entry)
        else:
            not_counted.append({"movement": rep.movement, **entry})
        s += rep.seconds
    return {
        "fps": FPS,
        "seconds": round(clip.seconds, 3),
        "about": clip.about,
        "counts": {m: len(v) for m, v in counted.items()},
        "repetitions": counted,
        "not_counted": not_counted,
        "out_of_frame": [list(g) for g in clip.gaps],
    }


def render_clip_frames(clip: ExClip, fps: int = FPS) -> Iterator[np.ndarray]:
    rig = build_rig()
    empty = cv2.convertScaleAbs(rig.plate)
    for i in range(round(clip.seconds * fps)):
        t = i / fps
        if any(a <= t < b for a, b in clip.gaps):
            yield empty.copy()
            continue
        yield render_exercise(rig, stance_at(clip, t), natural_motion(t, clip.seed))


def reps_path(video: Path) -> Path:
    return video.with_name(video.name.removesuffix(video.suffix) + ".reps.json")


def make_exercise_clip(clip: ExClip, path: Path, fps: int = FPS) -> dict[str, object]:
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = open_writer(path, fps)
    try:
        for frame in render_clip_frames(clip, fps):
            writer.write(frame)
    finally:
        writer.close()
    labels = labels_for(clip)
    reps_path(path).write_text(json.dumps(labels, indent=1) + "\n")
    return labels


def _turns() -> tuple[Rep, ...]:
    return (
        Rep("turn", ExStance(yaw_deg=42.0), go=1.8, hold=1.2, back=1.8, rest=1.2),
        Rep("turn", ExStance(yaw_deg=-42.0), go=1.8, hold=1.2, back=1.8, rest=1.2),
        Rep("glance", ExStance(yaw_deg=8.0), go=0.6, hold=0.8, back=0.6, rest=1.5, counts=False),
        Rep("turn", ExStance(yaw_deg=36.0), go=1.5, hold=1.0, back=1.5, rest=1.2),
        Rep("turn", ExStance(yaw_deg=-40.0), go=0.45, hold=0.2, back=0.45, rest=1.5),  # rushed
        Rep("turn", ExStance(yaw_deg=-34.0), go=1.8, hold=1.2, back=1.8, rest=1.5),
    )


CLIPS: dict[str, ExClip] = {
    "ex_head_turns": ExClip(
        _turns(), seed=11,
        about="slow turns: left, right, a small glance (not a turn), left, a rushed right, a shorter right",
    ),
    "ex_side_bends": ExClip(
        (
            Rep("side_bend", ExStance(bend_deg=-24.0), go=1.8, hold=1.5, back=1.8),
            Rep("side_bend", ExStance(bend_deg=22.0), go=1.8, hold=1.5, back=1.8),
            Rep("side_bend", ExStance(bend_deg=-16.0), go=1.5, hold=1.5, back=1.5),
            Rep("side_bend", ExStance(bend_deg=26.0), go=1.8, hold=1.5, back=1.8),
        ),
        seed=12, about="side bends: right, left, a smaller right, left",
    ),
    "ex_chin_tucks": ExClip(
        (
            *(Rep("chin_tuck", ExStance(tuck=a), go=1.2, hold=1.6, back=1.2, rest=1.4) for a in (1.0, 0.9, 1.0)),
            Rep("nod", ExStance(nod=1.0), go=1.0, hold=1.0, back=1.0, rest=1.4, counts=False),
            *(Rep("chin_tuck", ExStance(tuck=a), go=1.2, hold=1.6, back=1.2, rest=1.4) for a in (0.8, 1.0)),
        ),
        seed=13, about="chin tucks: three, then a nod (not a tuck), then two more",
    ),
    "ex_shoulder_rolls": ExClip(
        tuple(Rep("shoulder_roll", ExStance(shrug=a, squeeze=0.3 * a), go=1.2, hold=0.6, back=1.4, rest=0.9)
              for a in (1.0, 0.9, 1.0, 0.8)),
        seed=14, about="four slow shoulder rolls (up, back and down)",
    ),
    "ex_squeezes": ExClip(
        tuple(Rep("squeeze", ExStance(squeeze=a), go=1.2, hold=2.0, back=1.2, rest=1.3) for a in (1.0, 0.9, 1.0, 0.9)),
        seed=15, about="four shoulder-blade squeezes, held about two seconds each",
    ),
}


def _coached_break() -> ExClip:
    """The 'neck-turns' routine as a person does it in front of the camera: its 20 s of slow turns
    (settling in first, the last turn rushed), then its 20 s of shoulder-blade squeezes, stepping out of
    view for a moment between the second and third squeeze."""
    slow = Rep("turn", ExStance(yaw_deg=40.0), go=1.6, hold=1.0, back=1.6, rest=0.9)
    turns = (
        slow,
        replace(slow, peak=ExStance(yaw_deg=-40.0)),
        replace(slow, peak=ExStance(yaw_deg=36.0)),
        Rep("turn", ExStance(yaw_deg=-40.0), go=0.5, hold=0.3, back=0.5, rest=0.9),
    )
    squeeze = Rep("squeeze", ExStance(squeeze=1.0), go=1.0, hold=1.8, back=1.0, rest=1.2)
    reps = (
        *turns,
        Rep("rest", ExStance(), go=0.0, hold=0.0, back=0.0, rest=1.5, counts=False),
        squeeze,
        replace(squeeze, peak=ExStance(squeeze=0.9)),
        Rep("rest", ExStance(), go=0.0, hold=0.0, back=0.0, rest=3.0, counts=False),
        squeeze,
        Rep("rest", ExStance(), go=0.0, hold=0.0, back=0.0, rest=0.5, counts=False),
    )
    return ExClip(reps, seed=16, gaps=((31.7, 34.3),),
                  about="the neck-turns routine watched: 4 turns (the last rushed), then 3 squeezes, "
                  "out of view for a moment between the second and the third")


CLIPS["ex_coached_break"] = _coached_break()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("clips", nargs="*", help=f"clips to make (default: all): {', '.join(CLIPS)}")
    parser.add_argument("--out", type=Path, default=HERE, help="output directory (default: sample_videos/)")
    args = parser.parse_args(argv)
    unknown = [c for c in args.clips if c not in CLIPS]
    if unknown:
        parser.error(f"unknown clip(s) {', '.join(unknown)}; choose from {', '.join(CLIPS)}")
    for name in args.clips or list(CLIPS):
        path = args.out / f"{name}.mp4"
        labels = make_exercise_clip(CLIPS[name], path)
        print(f"{path.name}: {labels['seconds']} s, {labels['counts']}, {path.stat().st_size / 1e6:.2f} MB", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
