"""Assemble a running companion from settings: source, person finder, baseline, coach and history.

Shared by the headless service and the tray app so both behave identically. What the outer
`calibration` package provides (building a baseline from a span) comes in as an argument: the core
does not import it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from posture.baseline import Baseline
from posture.clock import Clock
from posture.coach.breaks import BreakScheduler, BreakSettings
from posture.coach.routines import load_catalogue
from posture.coach.safety import default_safety_path, load_safety_profile
from posture.errors import ConfigError, SourceError
from posture.inputs import special_file, special_file_message
from posture.monitor import Monitor
from posture.person import default_finder
from posture.ports import HistorySink, PauseProbe
from posture.replay import ReplaySource
from posture.session import SpanBuilder
from posture.settings import Settings
from posture.sources import FrameSource, WebcamSource


@dataclass
class SourceSpec:
    """Where frames come from: a camera index, or a recording replayed as if it were a camera."""

    camera: int | None = None
    path: str | None = None
    loop: bool = False
    fps_in: float = 1.0

    @classmethod
    def parse(cls, text: str | None, settings: Settings, loop: bool = False, fps_in: float = 1.0) -> SourceSpec:
        if text is None:
            return cls(camera=settings.camera_index)
        if re.fullmatch(r"\d{1,2}", text):
            return cls(camera=int(text))
        if not Path(text).exists() and not any(ch in text for ch in "*?["):
            raise SourceError(f"source not found: {text}; give a video file, a folder of images, or a camera index")
        if special_file(text):
            raise SourceError(special_file_message(text, "video"))
        return cls(path=text, loop=loop, fps_in=fps_in)

    @property
    def name(self) -> str:
        return f"camera {self.camera}" if self.camera is not None else str(self.path)

    def factory(self, clock: Clock) -> Callable[[], FrameSource]:
        if self.camera is not None:
            index = self.camera

            def camera() -> FrameSource:
                return WebcamSource(index, clock=clock)

            return camera
        replay = ReplaySource(str(self.path), clock, loop=self.loop, fps_in=self.fps_in)

        def make() -> FrameSource:
            # One replay object across pauses, so the recording's timeline keeps running like a camera's.
            return replay

        return make


def break_settings(settings: Settings) -> BreakSettings:
    base = BreakSettings()
    micro = settings.micro_break_every_min
    neck = max(settings.neck_break_every_min, micro + 1)
    from dataclasses import replace

    return replace(
        base,
        micro_interval_min=micro,
        neck_care_after_min=neck,
        min_gap_min=min(base.min_gap_min, micro),
        escalated_interval_min=min(base.escalated_interval_min, micro),
    )


def build_breaks(settings: Settings, clock: Clock) -> BreakScheduler | None:
    if not settings.breaks_enabled:
        return None
    try:
        profile = load_safety_profile(default_safety_path())
    except ConfigError as exc:
        print(f"warning: {exc}")
        profile = None
    return BreakScheduler(clock, break_settings(settings), load_catalogue(), profile,
                          settings.nudge_settings().quiet_hours)


def build_monitor(
    settings: Settings,
    spec: SourceSpec,
    clock: Clock,
    baseline: Baseline | None,
    writer: HistorySink | None = None,
    calibrate_span: tuple[float, float] | None = None,
    environment: PauseProbe | None = None,
    fixed_interval_s: float | None = None,
    build_baseline: SpanBuilder | None = None,
) -> Monitor:
    """`build_baseline` is needed with `calibrate_span` (the composition root passes calibration's)."""
    return Monitor(
        spec.factory(clock),
        default_finder(settings.pose_model or None),
        clock,
        settings,
        baseline=baseline,
        writer=writer,
        breaks=lambda session_clock: build_breaks(settings, session_clock),
        calibrate_span=calibrate_span,
        build_baseline=build_baseline,
        environment=environment,
        fixed_interval_s=fixed_interval_s,
        source_name=spec.name,
    )
