"""The one door between the monitor thread and the Qt thread.

The monitor calls `post_*` from its own thread; the GUI receives Qt signals on its thread through a
queued connection. Samples, status snapshots and frames are *latest-only*: each post overwrites the
slot, and at most one delivery is queued at a time, so a slow GUI (or a replay running flat out) never
builds a backlog of stale pictures. Events (nudges, breaks, camera notes) are rare and matter one by
one, so they are kept in order and all delivered.
"""

from __future__ import annotations

import threading

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal, Slot

from posture.analyzer import Analysis
from posture.events import Event
from posture.samples import PostureSample
from posture.session import SessionSnapshot

# The snapshot is the core's typed one: the monitor copies it on its own thread (`Monitor.snapshot`).
StatusView = SessionSnapshot


class MonitorBridge(QObject):
    status_changed = Signal(object)  # SessionSnapshot, latest only
    sample_ready = Signal(object)  # PostureSample, latest only
    events_ready = Signal(list)  # list[Event], every one, in order
    frame_ready = Signal(object, object)  # (BGR image, Analysis), latest only; only while someone watches
    worker_finished = Signal(str)  # "" after a clean end, otherwise what went wrong in plain words
    _kick = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._status: SessionSnapshot | None = None
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
    def post_status(self, status: SessionSnapshot) -> None:
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
