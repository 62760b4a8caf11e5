"""Follow several movements at once over a stream of poses, as `posture exercise analyze` does.

During a guided break the step says which movement to expect and only that detector runs. In a free
recording every detector runs, and a movement also shifts the signals of others (a turn moves the ears
and so the face size; a side bend lowers the ears a little, which looks like rising shoulders). When
two repetitions overlap, the one earlier in `PRIORITY` is what the person did and the other is dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from posture.exercise.face import FaceKeypoints
from posture.exercise.movements import MOVEMENTS, PRIORITY
from posture.exercise.reps import RepDetector, Repetition
from posture.exercise.signals import Signals, signals_from_pose
from posture.landmarks import Pose
from posture.person import validate_pose

# A lower-priority repetition overlapping a higher one by this share of its own length is a side effect.
OVERLAP_SHARE = 0.3


@dataclass(frozen=True, slots=True)
class MovementSummary:
    movement: str
    repetitions: tuple[Repetition, ...]

    @property
    def count(self) -> int:
        return len(self.repetitions)

    def peak(self, side: str | None = None) -> float | None:
        values = [r.peak for r in self.repetitions if side is None or r.side == side]
        return max(values) if values else None


class ExerciseTracker:
    def __init__(self, movements: Sequence[str] = PRIORITY, rest: Mapping[str, float] | None = None) -> None:
        unknown = [m for m in movements if m not in MOVEMENTS]
        if unknown:
            raise ValueError(f"unknown movement(s): {', '.join(unknown)}")
        self.detectors = {m: RepDetector(MOVEMENTS[m], rest=(rest or {}).get(m)) for m in movements}
        self.frames = 0
        self.frames_seen = 0

    def feed_pose(self, pose: Pose | None, t: float, face: FaceKeypoints | None = None) -> list[Repetition]:
        self.frames += 1
        if pose is None or not validate_pose(pose).ok:
            for d in self.detectors.values():
                d.missing(t)
            return []
        self.frames_seen += 1
        return self.feed(signals_from_pose(pose, t, face))

    def feed(self, s: Signals) -> list[Repetition]:
        out = []
        for d in self.detectors.values():
            rep = d.feed(s)
            if rep is not None:
                out.append(rep)
        return out

    def every(self) -> int:
        """Every how-many-th frame of the sampling rate to take next: the fewest any detector asks for."""
        return min((d.every for d in self.detectors.values()), default=1)

    def finish(self, t: float) -> None:
        for d in self.detectors.values():
            d.finish(t)

    def summaries(self) -> dict[str, MovementSummary]:
        return {m: MovementSummary(m, tuple(reps)) for m, reps in resolve(
            {m: d.repetitions for m, d in self.detectors.items()}).items()}


def _overlap(a: Repetition, b: Repetition) -> float:
    return max(0.0, min(a.end, b.end) - max(a.start, b.start))


# Turns and side bends are measured as angles and win over anything overlapping them; the three
# size-based movements (chin tuck, squeeze, shoulder roll) each nudge the others' measures, so among
# overlapping ones the strongest (peak over its own start threshold) is what the person did.
ANGLE_MOVEMENTS = ("turn", "side_bend")


def resolve(found: dict[str, list[Repetition]]) -> dict[str, list[Repetition]]:
    """Drop repetitions that are side effects of another, and chin tucks done as nods."""
    accepted: list[Repetition] = []

    def free(r: Repetition) -> bool:
        length = max(r.seconds, 1e-6)
        return not any(_overlap(r, a) / length >= OVERLAP_SHARE or _overlap(r, a) / max(a.seconds, 1e-6)
                       >= OVERLAP_SHARE for a in accepted)

    for m in sorted((m for m in found if m in ANGLE_MOVEMENTS), key=PRIORITY.index):
        accepted.extend(r for r in found[m] if free(r))
    rest = [r for m in found if m not in ANGLE_MOVEMENTS for r in found[m] if not r.nodded]
    for r in sorted(rest, key=lambda r: -r.peak / MOVEMENTS[r.movement].enter):
        if free(r):
            accepted.append(r)
    return {m: sorted((r for r in accepted if r.movement == m), key=lambda r: r.start) for m in found}


def repetitions_in(reps: Iterable[Repetition], movement: str) -> list[Repetition]:
    return [r for r in reps if r.movement == movement]
