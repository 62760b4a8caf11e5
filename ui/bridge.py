"""The one door between the monitor thread and the Qt thread.

The monitor calls `post_*` from its own thread; the GUI receives Qt signals on its thread through a
queued connection. Samples, status snapshots and frames are *latest-only*: each post overwrites the
slot, and at most one delivery is queued at a time, so a slow GUI (or a replay running flat out) never
builds a backlog of stale pictures. Events (nudges, breaks, camera notes) are rare and matter one by
one, so they are kept in order and all delivered.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal, Slot

from posture.analyzer import Analysis
from posture.samples import Event, PostureSample


@dataclass(frozen=True, slots=True)
class StatusView:
    """A snapshot of what the tray shows, taken on the monitor thread (never a live reference)."""

    sample: PostureSample | None = None
    paused_reason: str | None = None
    calibrated: bool = False
    calibration_fits: bool = True
    camera_open: bool = False
    snoozed: bool = False
    break_pending: str | None = None  # title of a waiting break suggestion
    break_pending_id: str | None = None  # its routine id
    break_state: str | None = None  # the scheduler's state, None without breaks
    ended: bool = False  # a recording reached its end

    @property
    def state(self) -> str:
        return self.sample.state if self.sample is not None else "unknown"


def snapshot(monitor: Any) -> StatusView:
    """Read the monitor's status on its own thread (the only place it may be read safely)."""
    st = monitor.status
    breaks = getattr(monitor, "breaks", None)
    pending = getattr(breaks, "pending", None) if breaks is not None else None
    nudges = getattr(monitor, "nudges", None)
    return StatusView(
        sample=st.sample,
        paused_reason=st.paused_reason,
        calibrated=st.calibrated,
        calibration_fits=st.calibration_fits,
        camera_open=bool(monitor.camera_open),
        snoozed=bool(getattr(nudges, "snoozed", False)),
        break_pending=getattr(pending, "title", None),
        break_pending_id=getattr(pending, "routine_id", None),
        break_state=getattr(breaks, "state", None) if breaks is not None else None,
        ended=bool(getattr(monitor, "ended", False)),
    )


class MonitorBridge(QObject):
    status_changed = Signal(object)  # StatusView, latest only
    sample_ready = Signal(object)  # PostureSample, latest only
    events_ready = Signal(list)  # list[Event], every one, in order
    frame_ready = Signal(object, object)  # (BGR image, Analysis), latest only; only while someone watches
    worker_finished = Signal(str)  # "" after a clean end, otherwise what went wrong in plain words
    _kick = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._status: StatusView | None = None
        self._sample: PostureSample | None = None
        self._events: list[Event] = []
        self._frame: tuple[np.ndarray, Analysis] | None = None
        self._finished: str | None = None
        self._scheduled = False
        # Counters for tests and diagnostics: how much the latest-only slots threw away.
        self.samples_dropped = 0
        self.frames_dropped = 0
        self.deliveries = 0
        self._kick.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    # -- called on the monitor thread -------------------------------------------------------------
    def post_status(self, status: StatusView) -> None:
        with self._lock:
            self._status = status
            kick = self._schedule()
        if kick:
            self._kick.emit()

    def post_sample(self, sample: PostureSample) -> None:
        with self._lock:
            if self._sample is not None:
                self.samples_dropped += 1
            self._sample = sample
            kick = self._schedule()
        if kick:
            self._kick.emit()

    def post_event(self, event: Event) -> None:
        with self._lock:
            self._events.append(event)
            kick = self._schedule()
        if kick:
            self._kick.emit()

    def post_frame(self, image: np.ndarray, analysis: Analysis) -> None:
        with self._lock:
            if self._frame is not None:
                self.frames_dropped += 1
            self._frame = (image, analysis)
            kick = self._schedule()
        if kick:
            self._kick.emit()

    def post_finished(self, message: str = "") -> None:
        with self._lock:
            self._finished = message
            kick = self._schedule()
        if kick:
            self._kick.emit()

    def _schedule(self) -> bool:
        if self._scheduled:
            return False
        self._scheduled = True
        return True

    # -- on the GUI thread ------------------------------------------------------------------------
    @Slot()
    def _deliver(self) -> None:
        with self._lock:
            status, sample, events, frame, finished = (
                self._status, self._sample, self._events, self._frame, self._finished)
            self._status = self._sample = self._frame = self._finished = None
            self._events = []
            self._scheduled = False
        self.deliveries += 1
        if status is not None:
            self.status_changed.emit(status)
        if sample is not None:
            self.sample_ready.emit(sample)
        if events:
            self.events_ready.emit(events)
        if frame is not None:
            self.frame_ready.emit(frame[0], frame[1])
        if finished is not None:
            self.worker_finished.emit(finished)
