"""A guided break watched by the camera: which steps are watched, the frames they see, and what is kept.

`plan_for(step)` says whether a routine step is a movement the camera can follow (chin tucks, slow
turns, side bends, shoulder rolls, shoulder-blade squeezes) and how many repetitions make the step.
`WatchedBreak` follows the routine runner's steps, gives each watched step a `StepCoach`, and at the end
returns the range of motion to store. `FrameFeed` pulls frames at the watching rate: from a live camera,
the newest frame when one is due; from a recording (tests and demos), every frame up to the routine's
own time, so a break run faster than real time still sees the whole clip.

The camera is opened when a watched break starts and closed when it ends; frames are analysed in
memory and dropped, never written anywhere.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from posture.camera_settle import CameraUnsettled
from posture.coach.routines import Routine, Step
from posture.errors import SourceError
from posture.exercise.coaching import CoachMessage, StepCoach
from posture.exercise.face import WATCH_GRAPH_THREADS, FaceKeypointSource
from posture.exercise.movements import MOVEMENTS
from posture.exercise.signals import Signals, signals_from_pose
from posture.landmarks import Pose
from posture.person import validate_pose
from posture.pose import PoseBackend
from posture.sources import FrameSource, RecordedSource
from posture.store.mobility import MEASURES, BreakMobility

# Frames analysed per second while a break is watched. Pose costs ~22 ms of CPU a frame on one graph
# thread, so 7.5 frames a second is ~19 % of one core (21 % in turn steps, which add the face detector),
# under the quarter of a core a watched break may use; a message follows the movement within one frame
# interval (133 ms) plus one pose run. At 6 fps the wait alone was up to 167 ms and the worst message
# came ~300 ms after the movement. Outside watched breaks the monitor keeps its slow pace.
WATCH_FPS = 7.5

# When the newest frame says a repetition has just ended but the smoothing waits for a second frame to
# agree, that frame is taken this share of a watch period later instead of a whole period: the count
# then comes ~90 ms sooner at 7.5 fps, for one extra frame per repetition (see RepDetector.returning).
CONFIRM_SHARE = 1 / 3

# Seconds one comfortable repetition takes, to turn a step's length into a target count.
SECONDS_PER_REP: dict[str, float] = {
    "turn": 5.0, "side_bend": 8.0, "chin_tuck": 6.0, "shoulder_roll": 4.0, "squeeze": 6.0,
}
# Step titles that name a movement the camera can follow (stretches held still are not watched).
_TITLE_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"chin tuck", "chin_tuck"),
    (r"\bturns?\b", "turn"),
    (r"side bend", "side_bend"),
    (r"shoulder rolls?", "shoulder_roll"),
    (r"squeeze", "squeeze"),
)


@dataclass(frozen=True, slots=True)
class StepPlan:
    movement: str
    target: int
    side: str | None = None  # "left"/"right" when the step is one side only


def plan_for(step: Step) -> StepPlan | None:
    """The movement a step asks for, or None when the camera has nothing to count in it."""
    if step.type != "movement":
        return None
    title = step.title.lower()
    if "stretch" in title:
        return None
    for pattern, movement in _TITLE_PATTERNS:
        if re.search(pattern, title):
            side = None
            if MOVEMENTS[movement].sided:
                side = "right" if "right" in title else "left" if "left" in title else None
            target = max(1, round(step.duration / SECONDS_PER_REP[movement]))
            if side is not None:
                target = max(1, target // 2) if step.duration >= 2 * SECONDS_PER_REP[movement] else 1
            return StepPlan(movement, target, side)
    return None


def make_watch_pose(fresh: bool = False) -> PoseBackend:
    """The pose model that watches a break: one person tracked from frame to frame. Legacy backend:
    `solutions.pose` in tracking mode, its graph on one thread; Tasks backend: `PoseLandmarker` in video
    mode (posture/exercise/watch_tasks.py).

    `fresh`: the person found afresh in every frame instead (legacy static mode, Tasks image mode), for
    movements with `fresh_fit`. A tracked fit is drawn inside the region the previous frame's fit gave, so
    under a real camera's sensor noise (sd 1.5 grey levels, ex_squeezes) an error in it carries on: the
    shoulder width's error correlates 0.84-0.93 with the next frame's on legacy (0.4-0.6 on Tasks, whose
    video mode also smooths), sd 2-3 %, holding for a second or more, as big and as slow as a shoulder-blade
    squeeze. Found afresh, each frame's error is its own (0.05-0.25) and the median of three removes it.
    Tracking stays for the rest: a bent or turned head is followed better from the last fit (afresh, side
    bends and chin tucks on the clean clips miscount)."""
    from posture.pose import backend_name, make_pose

    if backend_name() == "tasks":
        if fresh:
            from posture.pose_tasks import TasksPose

            return TasksPose(num_poses=1)
        from posture.exercise.watch_tasks import TasksWatchPose

        return TasksWatchPose()
    return make_pose(tracking=not fresh, graph_threads=WATCH_GRAPH_THREADS)


def fresh_fit(movements: Sequence[str]) -> bool:
    """Whether a search for these movements wants the pose found afresh in every frame (all of them do)."""
    return bool(movements) and all(MOVEMENTS[m].fresh_fit for m in movements)


def watch_models(fresh: bool = False) -> tuple[PoseBackend, FaceKeypointSource]:
    """The watching pose model and face detector (`make_watch_pose`, `make_face_keypoints`). When the face
    detector cannot be made, the pose model already made is closed, not left to the garbage collector (a
    Tasks model closing itself from a finalizer can deadlock at exit)."""
    from posture.exercise.face import make_face_keypoints

    pose = make_watch_pose(fresh)
    try:
        return pose, make_face_keypoints()
    except BaseException:
        pose.close()
        raise


def watch_feed(source: FrameSource) -> FrameFeed:
    """A `FrameFeed` of `source` with this install's watching models (see `watch_models`)."""
    pose, faces = watch_models()
    return FrameFeed(source, pose, faces=faces, fresh_pose=lambda: make_watch_pose(fresh=True))


def detect_pose(pose: PoseBackend, image: np.ndarray, t: float) -> Pose | None:
    """`pose.detect`, with the frame's time for a backend that tracks on timestamps (Tasks video mode)."""
    from posture.exercise.watch_tasks import TimedPose

    if isinstance(pose, TimedPose):
        return pose.detect_at(image, t)
    return pose.detect(image)


def watched_steps(routine: Routine) -> list[tuple[int, StepPlan]]:
    return [(i, p) for i, s in enumerate(routine.steps) if (p := plan_for(s)) is not None]


class FrameFeed:
    """Frames at the watching rate, as (movement signals or None, seconds since watching began)."""

    def __init__(self, source: FrameSource, pose: PoseBackend, fps: float = WATCH_FPS,
                 faces: FaceKeypointSource | None = None,
                 fresh_pose: Callable[[], PoseBackend] | None = None) -> None:
        """`fresh_pose`: makes the pose model for steps whose movement has `fresh_fit` (made when the first
        such step starts, kept for the rest of the break); without it `pose` watches every step."""
        self.source = source
        self.pose = pose
        self._make_fresh = fresh_pose
        self._fresh: PoseBackend | None = None
        self.fresh_needed = False
        self.faces = faces
        self.period = 1.0 / fps
        # Take every how-many-th frame of the watching rate (see `pace`).
        self.every = 1
        self._next = 0.0
        self._last = 0.0  # time of the newest frame taken
        self._t0: float | None = None
        self.frames = 0
        self.hurried = 0  # confirming frames taken early
        self.skipped = 0  # frames read during steps nobody watches, and dropped unanalysed
        # Whether the step being watched needs the face detector (see `use`): True until told otherwise.
        self.face_needed = True
        # Process CPU seconds per stage (all threads: MediaPipe runs its graphs on its own), for the
        # benchmark's breakdown. time.process_time() costs a microsecond; a frame costs ~30 ms.
        self.cpu: dict[str, float] = {"read": 0.0, "pose": 0.0, "face": 0.0, "signals": 0.0}

    def open(self) -> None:
        self.source.open()

    def close(self) -> None:
        self.source.close()
        self.close_models()

    def close_models(self) -> None:
        """Close the pose and face models (also when the source never opened). Always close them: a
        Tasks model left to the garbage collector closes itself from a finalizer, which can deadlock
        against an import in progress (seen on mediapipe 1.2.3)."""
        self.pose.close()
        if self._fresh is not None:
            self._fresh.close()
            self._fresh = None
        if self.faces is not None:
            self.faces.close()

    @property
    def recorded(self) -> bool:
        return isinstance(self.source, RecordedSource)

    def use(self, movement: str | None) -> None:
        """The movement the current step asks for (None: a step nobody watches). The face detector runs
        only for movements measured on the face; shoulder-blade squeezes are all shoulders."""
        self.face_needed = movement is None or MOVEMENTS[movement].uses_face
        self.fresh_needed = movement is not None and MOVEMENTS[movement].fresh_fit
        if self.fresh_needed and self._fresh is None and self._make_fresh is not None:
            self._fresh = self._make_fresh()

    def due_in(self, t: float) -> float:
        """Seconds from `t` until the next frame is due (0 when one is due now): how long a caller may
        sleep without making a message late."""
        return max(0.0, self._next - t)

    def poll(self, t: float, analyse: bool = True, most: int | None = None) -> list[tuple[Signals | None, float]]:
        """Everything due up to time `t` (seconds since the break began), or the first `most` frames of it.
        With `analyse` off (a step the camera does not follow) frames are still taken off the source, so the
        next watched step starts from the present, but no pose or face is looked for and nothing is returned."""
        out: list[tuple[Signals | None, float]] = []
        c0 = time.process_time()
        if self.recorded:
            assert isinstance(self.source, RecordedSource)
            while self._next <= t + 1e-9:
                try:
                    nt = self.source.next_time()
                except NotImplementedError:
                    break
                if nt + 1e-9 < self._next or not analyse:
                    if not self.source.skip():
                        break
                    if not analyse:
                        self._last = nt
                        self.skipped += 1
                        self._next = (int(nt / self.period + 1e-9) + 1) * self.period
                    continue
                frame = self.source.read()
                if frame is None:
                    break
                self.cpu["read"] += time.process_time() - c0
                out.append(self._detect(frame.image, frame.t))
                c0 = time.process_time()
                self._last = frame.t
                self._next = (int(frame.t / self.period + 1e-9) + self.every) * self.period
                if most is not None and len(out) >= most:
                    break
            self.cpu["read"] += time.process_time() - c0
            return out
        if t + 1e-9 < self._next:
            return out
        try:
            frame = self.source.read()
        except CameraUnsettled:
            # Warm-up frames after the open (posture/camera_settle.py): never judged, and not "not seen"
            # either; the next poll reads on.
            return out
        except SourceError:
            frame = None
        finally:
            self.cpu["read"] += time.process_time() - c0
        # Keep to the grid (a slow frame does not push every later one back), but never queue a backlog.
        self._next = max(self._next + self.period * (self.every if analyse else 1), t)
        self._last = t
        if not analyse:
            self.skipped += 1
            return out
        if frame is None:
            return [(None, t)]
        out.append(self._detect(frame.image, t))
        return out

    def pace(self, every: int) -> None:
        """From now on take every `every`-th frame of the watching rate (a step's detector says how many,
        `RepDetector.every`); going back to every frame takes the next one a period after the last."""
        self.every = max(1, every)
        self._bring_forward(self.every)

    def hurry(self) -> None:
        """Take the next frame a fraction of a period after the last one (a repetition is ending)."""
        if self._bring_forward(CONFIRM_SHARE):
            self.hurried += 1

    def _bring_forward(self, periods: float) -> bool:
        """Take the next frame `periods` watching periods after the last one, if that is sooner than planned."""
        soon = self._last + self.period * periods
        if soon < self._next - 1e-9:
            self._next = soon
            return True
        return False

    def _detect(self, image: object, t: float) -> tuple[Signals | None, float]:
        assert isinstance(image, np.ndarray)
        self.frames += 1
        c0 = time.process_time()
        model = self._fresh if self.fresh_needed and self._fresh is not None else self.pose
        pose = detect_pose(model, image, t)
        c1 = time.process_time()
        self.cpu["pose"] += c1 - c0
        if pose is None or not validate_pose(pose).ok:
            return None, t
        face = self.faces.detect(image, pose) if self.faces is not None and self.face_needed else None
        c2 = time.process_time()
        self.cpu["face"] += c2 - c1
        signals = signals_from_pose(pose, t, face)
        self.cpu["signals"] += time.process_time() - c2
        return signals, t


class WatchedBreak:
    """Coaching state for one routine: call `step_started` on each new step and `feed` for each frame."""

    def __init__(self, routine: Routine, usual: Mapping[str, Mapping[str | None, float]] | None = None) -> None:
        self.routine = routine
        self.usual = {k: dict(v) for k, v in (usual or {}).items()}
        self.coach: StepCoach | None = None
        self.plan: StepPlan | None = None
        self.finished_coaches: list[StepCoach] = []
        self.messages: list[CoachMessage] = []

    def step_started(self, step: Step | None) -> CoachMessage | None:
        """A new step (None at the end): close the previous step's coach, open one if it is watched."""
        if self.coach is not None:
            self.finished_coaches.append(self.coach)
        self.coach = None
        self.plan = plan_for(step) if step is not None else None
        if self.plan is None:
            return None
        self.coach = StepCoach(self.plan.movement, self.plan.target, self.usual.get(self.plan.movement),
                               self.plan.side)
        side = f" ({self.plan.side} side)" if self.plan.side else ""
        return CoachMessage(0.0, "watch", f"watching: {MOVEMENTS[self.plan.movement].name}{side}, "
                            f"aim for {self.plan.target} at your own pace")

    def feed(self, signals: Signals | None, t: float) -> list[CoachMessage]:
        if self.coach is None:
            return []
        out = self.coach.feed(signals, t)
        self.messages.extend(out)
        return out

    def follow(self, feed: FrameFeed, t: float) -> list[CoachMessage]:
        """Poll `feed` up to `t` and feed every frame; ask for the confirming frame early when a
        repetition is ending. The one loop the tray window, the terminal and the benchmark share."""
        out: list[CoachMessage] = []
        feed.use(self.plan.movement if self.plan is not None else None)
        if self.coach is None:
            # Between watched steps (a stretch held still) frames are dropped unanalysed.
            feed.pace(1)
            feed.poll(t, analyse=False)
            return out
        # One frame at a time, so the detector's state after each frame decides when the next is taken
        # (its pace, and the early confirming frame), as it does on a live camera.
        while frames := feed.poll(t, most=1):
            for signals, ft in frames:
                out.extend(self.feed(signals, ft))
            feed.pace(self.coach.detector.every)
            if self.coach.detector.returning:
                feed.hurry()
        return out

    def all_coaches(self) -> list[StepCoach]:
        return self.finished_coaches + ([self.coach] if self.coach is not None else [])

    def mobility(self, wall: float) -> BreakMobility | None:
        """The range of motion to store for this break, or None when nothing was counted."""
        peaks: dict[str, float | None] = {c: None for c, _, _ in MEASURES}
        reps: dict[str, int] = {}
        for coach in self.all_coaches():
            key = coach.movement.key
            if coach.count:
                reps[key] = reps.get(key, 0) + coach.count
            for column, movement, side in MEASURES:
                if movement != key:
                    continue
                values = [r.peak for r in coach.counted if side is None or r.side == side]
                if values:
                    best = max(values)
                    prev = peaks[column]
                    peaks[column] = best if prev is None else max(prev, best)
        if not reps:
            return None
        return BreakMobility(wall, self.routine.id, peaks, reps)
