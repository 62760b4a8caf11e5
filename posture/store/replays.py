"""Where a replayed recording's history goes, and when it starts.

A recording replayed faster than real time has its own timeline. Written into the person's own
history it must never reach past the real clock (a later live run would add onto those minutes), and
recording the same clip at the same start again must replace the first copy, not double it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from posture.clock import Clock, SystemClock
from posture.errors import UserError
from posture.store.db import FUTURE_SLACK_S
from posture.store.paths import resolve_db_path
from posture.store.writer import Recording


@dataclass(frozen=True, slots=True)
class ReplayHistory:
    path: Path
    start: float  # wall time of the recording's first sample
    recording: Recording
    horizon: bool  # refuse samples later than the real clock (the person's own history)


def source_key(source: str) -> str:
    """A recording's identity: its absolute path (globs of images are kept as typed, made absolute)."""
    return os.path.abspath(os.path.expanduser(source))


def plan_recording(
    db: str | Path | None, source: str, start_time: float | None, duration: float | None, now: float
) -> ReplayHistory:
    """Place a recording on the timeline. Without --db it goes into the person's history, so it must
    end by `now` (the real clock): with no --start-time it is placed to end now."""
    path = resolve_db_path(db)
    own_history = db is None or str(db) == ""
    if start_time is None:
        start = now - duration if own_history and duration is not None else now
    else:
        start = start_time
        if own_history and duration is not None and start + duration > now + FUTURE_SLACK_S:
            raise UserError(
                "--start-time puts this recording's end in the future, and it would be written into "
                "your own history; give an earlier --start-time, or pass --db FILE to record it elsewhere"
            )
    return ReplayHistory(path, round(start, 3), Recording(source_key(source), round(start, 3)), own_history)


def run_history_path(db: str | Path | None, replay: bool) -> Path | None:
    """The history `posture run` writes: --db if given; for a camera, the person's own history; for a
    replayed recording without --db, none (a sample clip is not the person's day)."""
    if db is not None and str(db) != "":
        return resolve_db_path(db)
    return None if replay else resolve_db_path(None)


REPLAY_NOT_RECORDED = "replaying a recording: nothing is written to your history (pass --db FILE to keep it)"


def recording_for_run(path: str | None, clock: Clock) -> Recording | None:
    """A replay on its own timeline (a fake clock) is a recording keyed by its path and start."""
    if path is None or isinstance(clock, SystemClock):
        return None
    return Recording(source_key(path), round(clock.wall(), 3))
