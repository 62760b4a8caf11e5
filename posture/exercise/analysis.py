"""Repetitions in a recording: the engine behind `posture exercise analyze`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypedDict

from posture.exercise.face import FaceKeypointSource
from posture.exercise.movements import FREE_DEFAULT, MOVEMENTS, PRIORITY
from posture.exercise.tracker import ExerciseTracker, MovementSummary
from posture.exercise.watch import detect_pose
from posture.pose import PoseBackend
from posture.sources import FrameSource, sample_frames

# Pose runs this often on a recording: enough to find the peak of a slow movement to within a
# fraction of a degree (a slow turn takes 1-2 s each way) while costing a third of full frame rate.
DEFAULT_RATE_HZ = 8.0


class RepJson(TypedDict):
    start: float
    peak: float
    end: float
    peak_value: float
    side: str | None


class MovementJson(TypedDict):
    name: str
    unit: str
    count: int
    peak_left: float | None
    peak_right: float | None
    peak_value: float | None
    repetitions: list[RepJson]


@dataclass(frozen=True, slots=True)
class ExerciseAnalysis:
    source: str
    duration: float
    rate_hz: float
    frames: int
    frames_seen: int
    movements: dict[str, MovementSummary]

    def to_json(self) -> dict[str, object]:
        out: dict[str, MovementJson] = {}
        for key in PRIORITY:
            summary = self.movements.get(key)
            if summary is None:
                continue
            m = MOVEMENTS[key]
            out[key] = {
                "name": m.name,
                "unit": m.unit,
                "count": summary.count,
                "peak_left": summary.peak("left") if m.sided else None,
                "peak_right": summary.peak("right") if m.sided else None,
                "peak_value": summary.peak(),
                "repetitions": [
                    {"start": r.start, "peak": r.peak_t, "end": r.end, "peak_value": r.peak, "side": r.side}
                    for r in summary.repetitions
                ],
            }
        return {
            "source": self.source,
            "duration_s": round(self.duration, 3),
            "rate_hz": self.rate_hz,
            "frames_analysed": self.frames,
            "frames_with_person": self.frames_seen,
            "movements": out,
        }


def analyze_exercise(
    source: FrameSource,
    pose: PoseBackend,
    rate_hz: float = DEFAULT_RATE_HZ,
    movements: tuple[str, ...] = FREE_DEFAULT,
    progress: Callable[[float], None] | None = None,
    faces: FaceKeypointSource | None = None,
    rest: Mapping[str, float] | None = None,
) -> ExerciseAnalysis:
    """Run every movement detector over a recorded source (opened and closed here). Frames are taken as a
    watched break takes them: a movement with `resting_every` is sampled at that fraction of `rate_hz`
    except while a repetition is coming back."""
    tracker = ExerciseTracker(movements, rest)
    last_t = 0.0
    with source:
        duration = source.duration
        for frame in sample_frames(source, rate_hz, every=tracker.every):
            found = detect_pose(pose, frame.image, frame.t)
            face = faces.detect(frame.image, found) if faces is not None and found is not None else None
            tracker.feed_pose(found, frame.t, face)
            last_t = frame.t
            if progress is not None and duration:
                progress(min(1.0, frame.t / duration))
    tracker.finish(last_t)
    return ExerciseAnalysis(source.name, duration or last_t, rate_hz, tracker.frames, tracker.frames_seen,
                            tracker.summaries())
