"""Turn a few seconds of upright sitting into a baseline, or say clearly why the capture is unusable."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from posture.baseline import Baseline, baseline_from_metrics
from posture.metrics import MetricSet

GUIDANCE = "Sit upright and comfortable, look at your screen, and stay still for a few seconds."

# A capture is rejected when the user was missing for more than this share of samples…
MAX_MISSING = 0.3
# …or when their shoulders wandered more than this many shoulder widths (robust spread)…
MAX_ANCHOR_SPREAD = 0.12
# …or when the head-height ratio varied by this share of its median (a slouch changes it by ~8-15%,
# so a capture that wobbles this much was not one steady posture).
MAX_HEAD_HEIGHT_SPREAD = 0.05
MIN_CONFIDENCE = 0.6
MIN_SAMPLES = 4
# How many pictures with the person in view a rating needs. The spread of 4 pictures says little about
# how still someone sat: such a capture is at best "usable", however steady those few happened to be.
GOOD_MIN_PRESENT = 8
EXCELLENT_MIN_PRESENT = 15


class CaptureRejected(ValueError):
    """The capture is not a usable baseline; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class CaptureQuality:
    samples: int
    present: int
    anchor_spread: float
    confidence: float
    seconds: float | None = None  # how long the capture ran, when the caller knows

    @property
    def verdict(self) -> str:
        if self.anchor_spread < 0.03 and self.confidence > 0.9 and self.present >= EXCELLENT_MIN_PRESENT:
            return "excellent"
        if self.anchor_spread < 0.07 and self.present >= GOOD_MIN_PRESENT:
            return "good"
        return "usable"

    @property
    def too_few(self) -> bool:
        """Rated down for the number of pictures, not for moving."""
        return self.present < GOOD_MIN_PRESENT


def build_baseline(observations: list[MetricSet | None], label: str = "the capture",
                   seconds: float | None = None) -> tuple[Baseline, CaptureQuality]:
    """`observations` holds one entry per sample: the user's metrics, or None when no valid user was seen."""
    total = len(observations)
    present = [m for m in observations if m is not None and m.view is not None]
    if total == 0 or not present:
        raise CaptureRejected(f"{label}: nobody was in view; sit in front of the camera with head and shoulders visible")
    if len(present) < MIN_SAMPLES:
        raise CaptureRejected(
            f"{label}: only {len(present)} usable samples; capture for longer (at least {MIN_SAMPLES} samples)"
        )
    missing = 1.0 - len(present) / total
    if missing > MAX_MISSING:
        raise CaptureRejected(
            f"{label}: you were out of view {missing:.0%} of the time; stay in front of the camera and try again"
        )
    confs = [np.mean([c for c in m.confidence.values() if c > 0] or [0.0]) for m in present]
    confidence = float(np.median(confs))
    if confidence < MIN_CONFIDENCE:
        raise CaptureRejected(
            f"{label}: landmarks were unreliable (confidence {confidence:.2f}); improve the lighting and keep "
            "your face and both shoulders in view"
        )
    anchors = np.array([m.anchor for m in present if m.anchor is not None], dtype=float)
    spread = 0.0
    if len(anchors) >= 2:
        width = float(np.median(anchors[:, 2]))
        mad = np.median(np.abs(anchors[:, :2] - np.median(anchors[:, :2], axis=0)), axis=0)
        spread = float(np.max(mad) * 1.4826 / width) if width > 0 else 0.0
    heights = np.array([v for m in present if (v := m.values.get("head_height")) is not None], dtype=float)
    hh_spread = 0.0
    if len(heights) and abs(float(np.median(heights))) > 1e-6:
        hh_spread = float(np.median(np.abs(heights - np.median(heights))) * 1.4826 / abs(float(np.median(heights))))
    if spread > MAX_ANCHOR_SPREAD or hh_spread > MAX_HEAD_HEIGHT_SPREAD:
        raise CaptureRejected(f"{label}: you moved too much; sit still in your upright posture and try again")
    try:
        baseline = baseline_from_metrics(present)
    except ValueError as exc:
        raise CaptureRejected(f"{label}: {exc}; keep your face and both shoulders in view") from exc
    quality = CaptureQuality(total, len(present), spread, confidence, seconds)
    meta = dict(baseline.meta)
    meta.update({"samples": total, "present": len(present), "quality": quality.verdict})
    return Baseline(baseline.view, baseline.stats, baseline.anchor, meta), quality
