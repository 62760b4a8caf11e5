"""Run the `Monitor` on its own thread, created there, and pass commands to it through its queue.

The monitor (and with it the MediaPipe graphs and the SQLite writer, which both care which thread uses
them) is built inside the worker thread by a factory, so nothing heavy happens on the GUI thread and
the GUI never touches core state directly: it submits commands, and reads what the bridge delivers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from posture.clock import Clock
from posture.monitor import Monitor
from ui.bridge import MonitorBridge

log = logging.getLogger(__name__)

Command = Callable[[Monitor], None]


@dataclass
class BuiltMonitor:
    """What a factory returns: the monitor and what must be closed after it stops (finder, writer…)."""

    monitor: Monitor
    closers: list[Callable[[], None]] = field(default_factory=list)


MonitorFactory = Callable[[], BuiltMonitor]


class MonitorWorker:
    """One thread, one monitor. `submit` is safe from any thread, before or after the monitor exists."""

    def __init__(self, factory: MonitorFactory, bridge: MonitorBridge, clock: Clock, realtime: bool,
                 max_seconds: float | None = None, pace_s: float = 0.0) -> None:
        self._factory = factory
        self.bridge = bridge
        self.clock = clock
        self.realtime = realtime  # wait on the wall clock; otherwise the (fake) clock's sleep advances it
        self.max_seconds = max_seconds
        self.pace_s = pace_s  # accelerated replays: a real pause per loop so the GUI can keep up
        self._lock = threading.Lock()
        self._pending: list[Command] = []
        self._monitor: Monitor | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: str | None = None

    # -- control (any thread) ---------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        # A daemon thread: if a native call ever hangs, quitting the app must still end the process.
        self._thread = threading.Thread(target=self._run, name="posture-monitor", daemon=True)
        self._thread.start()

    def submit(self, command: Command) -> None:
        """Run `command(monitor)` on the monitor thread before its next sample."""
        with self._lock:
            monitor = self._monitor
            if monitor is None:
                self._pending.append(command)
        if monitor is not None:
            monitor.submit(lambda: command(monitor))
        self._wake.set()  # a pause should take effect now, not after the current wait

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop the loop (the monitor releases the camera and flushes history) and wait for it."""
        self._stop.set()
        with self._lock:
            monitor = self._monitor
        if monitor is not None:
            monitor.stop()
        self._wake.set()
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def monitor(self) -> Monitor | None:
        """For reading immutable things (the routine catalogue) and for tests; never mutate it from here."""
        return self._monitor

    # -- the thread -------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            built = self._factory()
        except Exception as exc:  # a bad source or model: the GUI says so once and keeps running
            log.exception("could not start the monitor")
            self.error = str(exc) or type(exc).__name__
            self.bridge.post_finished(self.error)
            return
        monitor = built.monitor
        monitor.on_sample(self.bridge.post_sample)
        monitor.on_sample(lambda _s: self.bridge.post_status(monitor.snapshot()))
        monitor.on_event(self.bridge.post_event)
        monitor.on_event(lambda _e: self.bridge.post_status(monitor.snapshot()))
        with self._lock:
            self._monitor = monitor
            pending, self._pending = self._pending, []
        for command in pending:
            monitor.submit(partial(command, monitor))
        if self._stop.is_set():
            monitor.stop()
        self.bridge.post_status(monitor.snapshot())
        message = ""
        try:
            monitor.run(max_seconds=self.max_seconds, realtime_wait=lambda s: self._wait(monitor, s))
        except Exception as exc:
            log.exception("the monitor stopped unexpectedly")
            message = self.error = f"watching stopped unexpectedly ({exc})"
        finally:
            for close in built.closers:
                try:
                    close()
                except Exception:  # closing must not hide the reason we stopped
                    log.exception("error while closing")
            self.bridge.post_status(monitor.snapshot())
            self.bridge.post_finished(message)

    def _wait(self, monitor: Monitor, seconds: float) -> bool:
        # Once a loop, so a pause, a locked screen or a busy camera reaches the tray without a sample.
        self.bridge.post_status(monitor.snapshot())
        if self._stop.is_set():
            return True
        if self.realtime:
            self._wake.wait(max(0.0, seconds))
            self._wake.clear()
        else:
            monitor.clock.sleep(seconds)  # the monitor's own clock: a fake one simply moves on
            # Let the GUI thread have the interpreter: an accelerated replay would otherwise hog it.
            time.sleep(self.pace_s)
        return self._stop.is_set()
