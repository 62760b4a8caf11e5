"""The user's calibrated upright posture: a robust centre and spread for each metric."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from posture.jsonvalues import JsonObject, JsonValue
from posture.metrics import METRIC_NAMES, MetricSet

# MAD of a normal distribution times this is its standard deviation.
MAD_TO_SD = 1.4826


@dataclass(frozen=True, slots=True)
class MetricStat:
    median: float
    mad: float
    n: int

    @property
    def sd(self) -> float:
        return self.mad * MAD_TO_SD


@dataclass(frozen=True, slots=True)
class Baseline:
    view: str
    stats: dict[str, MetricStat]
    # Median shoulder centre (x, y as frame fractions) and shoulder width (fraction of frame width).
    anchor: tuple[float, float, float] | None = None
    meta: dict[str, JsonValue] = field(default_factory=dict)

    def to_json(self) -> JsonObject:
        return {
            "view": self.view,
            "stats": {k: {"median": v.median, "mad": v.mad, "n": v.n} for k, v in self.stats.items()},
            "anchor": list(self.anchor) if self.anchor else None,
            "meta": self.meta,
        }

    @classmethod
    def from_json(cls, data: object) -> Baseline:
        """Raises ValueError/KeyError/TypeError on malformed input; callers turn that into a clear error."""
        if not isinstance(data, dict):
            raise TypeError(f"the baseline must be a JSON object, got {type(data).__name__}")
        view = data["view"]
        if view not in ("front", "side"):
            raise ValueError(f"view must be 'front' or 'side', got {view!r}")
        stats = {}
        for name, s in dict(data["stats"]).items():
            if name not in METRIC_NAMES:
                raise ValueError(f"unknown metric {name!r}")
            median, mad, n = float(s["median"]), float(s["mad"]), int(s["n"])
            if not (math.isfinite(median) and math.isfinite(mad) and mad >= 0 and n > 0):
                raise ValueError(f"metric {name!r} has invalid statistics")
            stats[name] = MetricStat(median, mad, n)
        if not stats:
            raise ValueError("no metrics in the baseline")
        anchor_raw = data.get("anchor")
        anchor = None
        if anchor_raw is not None:
            a = [float(v) for v in anchor_raw]
            if len(a) != 3 or not all(math.isfinite(v) for v in a) or a[2] <= 0:
                raise ValueError("anchor must be three finite numbers with a positive width")
            anchor = (a[0], a[1], a[2])
        meta = data.get("meta") or {}
        if not isinstance(meta, dict):
            raise ValueError("meta must be an object")
        return cls(view, stats, anchor, meta)


def baseline_from_metrics(sets: list[MetricSet], min_samples: int = 3) -> Baseline:
    """Median and MAD per metric over the samples of the majority view."""
    views = [m.view for m in sets if m.view]
    if not views:
        raise ValueError("no usable samples")
    view = max(set(views), key=views.count)
    chosen = [m for m in sets if m.view == view]
    stats: dict[str, MetricStat] = {}
    for name in METRIC_NAMES:
        vals = np.array([m.values[name] for m in chosen if m.values.get(name) is not None], dtype=float)
        if len(vals) >= min_samples:
            med = float(np.median(vals))
            stats[name] = MetricStat(med, float(np.median(np.abs(vals - med))), len(vals))
    anchors = np.array([m.anchor for m in chosen if m.anchor is not None], dtype=float)
    anchor = None
    if len(anchors):
        med = np.median(anchors, axis=0)
        anchor = (float(med[0]), float(med[1]), float(med[2]))
    if not stats:
        raise ValueError("too few samples with usable landmarks")
    return Baseline(view, stats, anchor)
