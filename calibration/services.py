"""What the core's drivers need from calibration, handed to them by the composition root.

The core (`posture.session`, `posture.headless`, `posture.companion`) does not import this package: the
command line and the tray app pass these functions in, so the import graph points one way only.
"""

from __future__ import annotations

from calibration.capture import build_baseline
from calibration.profiles import ProfileStore
from posture.baseline import Baseline
from posture.metrics import MetricSet
from posture.session import SpanBuilder


def span_builder(span: tuple[float, float]) -> SpanBuilder:
    """Builds the baseline of `--calibrate-from START:END`; a span that cannot make one raises
    `CaptureRejected` (a ValueError) with what to do, which the session reports as calibration_failed."""
    label = f"--calibrate-from {span[0]:g}:{span[1]:g}"

    def build(observations: list[MetricSet | None]) -> Baseline:
        return build_baseline(observations, label=label)[0]

    return build


def resolve_baseline(profile: str | None, calibrate_from: tuple[float, float] | None,
                     store: ProfileStore | None = None) -> Baseline | None:
    """The baseline a run starts with: none when it calibrates from a span, else the named profile, else the
    active one (None before the first calibration). A broken profile is a ConfigError naming the file."""
    if calibrate_from is not None:
        return None  # built from the span while running
    store = store or ProfileStore()
    if profile:
        return store.load(profile).baseline
    active = store.active()
    return active.baseline if active else None
