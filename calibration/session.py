"""Capture a calibration from any frame source: a live camera (with a countdown) or a recorded clip."""

from __future__ import annotations

from collections.abc import Callable

from calibration.capture import GUIDANCE, CaptureQuality, build_baseline
from posture.baseline import Baseline
from posture.clock import Clock, SystemClock
from posture.light_shift import with_calibration_light
from posture.metrics import MetricSet, compute_metrics
from posture.person import PersonFinder
from posture.preprocess import FrameQuality, frame_quality
from posture.sources import FrameSource, sample_frames


def capture(
    source: FrameSource,
    finder: PersonFinder,
    seconds: float = 10.0,
    rate_hz: float = 3.0,
    start: float = 0.0,
    clock: Clock | None = None,
    say: Callable[[str], None] = print,
    countdown_s: int = 3,
) -> tuple[Baseline, CaptureQuality]:
    """Collect `seconds` of samples and build a baseline; raises CaptureRejected with the reason."""
    observations: list[MetricSet | None] = []
    # The light of the pictures the user was seen in, recorded in the profile as the calibration wizard
    # records it: a later session compares its light with it (recalibration advice) and, for a calibration
    # taken in poor light, widens the lines by day (posture.light_shift).
    light: list[FrameQuality | None] = []

    def observe(image: object) -> None:
        det = finder.find(image)  # type: ignore[arg-type]
        ok = det.validity.ok and det.pose is not None
        observations.append(compute_metrics(det.pose) if ok and det.pose is not None else None)
        if ok:
            light.append(frame_quality(image))  # type: ignore[arg-type]

    say(GUIDANCE)
    if source.live:
        clock = clock or SystemClock()
        for n in range(countdown_s, 0, -1):
            say(f"starting in {n}…")
            clock.sleep(1.0)
        say(f"hold still for {seconds:g} seconds…")
        t_end = clock.monotonic() + seconds
        while clock.monotonic() < t_end:
            frame = source.read()
            if frame is not None:
                observe(frame.image)
            clock.sleep(1.0 / rate_hz)
    else:
        for frame in sample_frames(source, rate_hz, start=start, end=start + seconds):
            if frame.t >= start:
                observe(frame.image)
    baseline, quality = build_baseline(observations, label=f"calibration from {source.name}")
    return with_calibration_light(baseline, light), quality
