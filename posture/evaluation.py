"""Score a state timeline against labelled intervals: how often is the app right, how fast, and does
it nudge when it should not?
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from posture.errors import ConfigError
from posture.jsonvalues import finite_number
from posture.samples import Event, PostureSample

LABEL_STATES = ("good", "poor", "away")
IGNORE_AFTER_CHANGE_S = 3.0


@dataclass(frozen=True, slots=True)
class Interval:
    start: float
    end: float
    state: str
    reason: str = ""


def parse_labels(data: Any, where: str = "labels") -> list[Interval]:
    """Validate a label list; every problem is a ConfigError naming the entry and field."""
    if not isinstance(data, list) or not data:
        raise ConfigError(f"{where}: expected a non-empty JSON list of {{start, end, state}} objects")
    out: list[Interval] = []
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: entry {i} is not an object")
        try:
            start, end = item["start"], item["end"]
        except KeyError as exc:
            raise ConfigError(f"{where}: entry {i} has no '{exc.args[0]}'") from None
        for key, v in (("start", start), ("end", end)):
            if not finite_number(v) or v < 0:
                raise ConfigError(f"{where}: entry {i} '{key}' must be a non-negative number, got {v!r}")
        if end <= start:
            raise ConfigError(f"{where}: entry {i} ends ({end}) before it starts ({start})")
        state = item.get("state")
        if state not in LABEL_STATES:
            raise ConfigError(f"{where}: entry {i} 'state' must be one of {', '.join(LABEL_STATES)}, got {state!r}")
        reason = item.get("reason", "")
        if not isinstance(reason, str):
            raise ConfigError(f"{where}: entry {i} 'reason' must be a string")
        out.append(Interval(float(start), float(end), state, reason))
    out.sort(key=lambda iv: iv.start)
    for a, b in pairwise(out):
        if b.start < a.end - 1e-6:
            raise ConfigError(f"{where}: intervals at {a.start:g}s and {b.start:g}s overlap")
    return out


def load_labels(path: str | Path) -> list[Interval]:
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"label file not found: {p}") from None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ConfigError(f"label file {p} is not valid JSON ({type(exc).__name__}); fix or regenerate it") from None
    return parse_labels(data, str(p))


def label_at(labels: list[Interval], t: float) -> Interval | None:
    for iv in labels:
        if iv.start <= t < iv.end:
            return iv
    return None


@dataclass
class Evaluation:
    name: str
    scored_seconds: float = 0.0
    agree_seconds: float = 0.0
    # confusion[label][predicted] in seconds
    confusion: dict[str, dict[str, float]] = field(default_factory=dict)
    change_latency: list[tuple[float, str, float | None]] = field(default_factory=list)
    false_alarms: int = 0
    nudge_delays: list[float] = field(default_factory=list)
    poor_intervals_without_nudge: int = 0

    @property
    def accuracy(self) -> float:
        return self.agree_seconds / self.scored_seconds if self.scored_seconds else float("nan")

    def recall(self, state: str) -> float | None:
        row = self.confusion.get(state)
        total = sum(row.values()) if row else 0.0
        return (row.get(state, 0.0) / total) if row and total else None

    def precision(self, state: str) -> float | None:
        predicted = sum(row.get(state, 0.0) for row in self.confusion.values())
        row = self.confusion.get(state, {})
        return (row.get(state, 0.0) / predicted) if predicted else None

    @property
    def balanced_accuracy(self) -> float:
        recalls = [r for s in LABEL_STATES if (r := self.recall(s)) is not None]
        return sum(recalls) / len(recalls) if recalls else float("nan")

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "scored_seconds": round(self.scored_seconds, 2),
            "accuracy": round(self.accuracy, 4),
            "balanced_accuracy": round(self.balanced_accuracy, 4),
            "precision": {s: self.precision(s) for s in LABEL_STATES},
            "recall": {s: self.recall(s) for s in LABEL_STATES},
            "confusion_seconds": self.confusion,
            "change_latency": [{"t": t, "to": s, "latency": lat} for t, s, lat in self.change_latency],
            "false_alarm_nudges": self.false_alarms,
            "nudge_delays": self.nudge_delays,
        }


def evaluate(
    name: str,
    samples: list[PostureSample],
    events: list[Event],
    labels: list[Interval],
    ignore_after_change: float = IGNORE_AFTER_CHANGE_S,
) -> Evaluation:
    ev = Evaluation(name)
    changes = [iv.start for prev, iv in pairwise(labels) if iv.state != prev.state]
    for i, s in enumerate(samples):
        nxt = samples[i + 1].t if i + 1 < len(samples) else None
        dt = (nxt - s.t) if nxt is not None else (samples[i].t - samples[i - 1].t if i else 0.0)
        if dt <= 0:
            continue
        iv = label_at(labels, s.t)
        if iv is None or any(c <= s.t < c + ignore_after_change for c in changes):
            continue
        predicted = s.state
        ev.confusion.setdefault(iv.state, {})
        ev.confusion[iv.state][predicted] = ev.confusion[iv.state].get(predicted, 0.0) + dt
        ev.scored_seconds += dt
        if predicted == iv.state:
            ev.agree_seconds += dt
    for c in changes:
        target = label_at(labels, c)
        if target is None:
            continue
        hit = next((s.t for s in samples if s.t >= c and s.state == target.state), None)
        latency = None if hit is None or hit >= target.end else round(hit - c, 2)
        ev.change_latency.append((c, target.state, latency))
    nudges = [e for e in events if e.kind == "nudge"]
    for e in nudges:
        iv = label_at(labels, e.t)
        if iv is not None and iv.state == "good":
            ev.false_alarms += 1
    for iv in labels:
        if iv.state != "poor":
            continue
        first = next((e.t for e in nudges if iv.start <= e.t < iv.end), None)
        if first is None:
            ev.poor_intervals_without_nudge += 1
        else:
            ev.nudge_delays.append(round(first - iv.start, 2))
    return ev


def format_table(evals: list[Evaluation]) -> str:
    head = f"{'clip':<22}{'acc':>6}{'bal':>6}{'P good':>8}{'R good':>8}{'P poor':>8}{'R poor':>8}{'R away':>8}" \
           f"{'lat s':>7}{'false':>6}{'nudge s':>9}"
    lines = [head, "-" * len(head)]

    def pct(v: float | None) -> str:
        return "   -" if v is None or v != v else f"{100 * v:4.0f}"

    for e in evals:
        lats = [lat for _, _, lat in e.change_latency if lat is not None]
        lat = f"{sum(lats) / len(lats):.1f}" if lats else "-"
        nd = f"{sum(e.nudge_delays) / len(e.nudge_delays):.0f}" if e.nudge_delays else "-"
        lines.append(
            f"{e.name[:21]:<22}{pct(e.accuracy):>6}{pct(e.balanced_accuracy):>6}{pct(e.precision('good')):>8}"
            f"{pct(e.recall('good')):>8}{pct(e.precision('poor')):>8}{pct(e.recall('poor')):>8}"
            f"{pct(e.recall('away')):>8}{lat:>7}{e.false_alarms:>6}{nd:>9}"
        )
    return "\n".join(lines)


def format_confusion(ev: Evaluation) -> str:
    predicted = ["good", "drifting", "poor", "away", "unknown"]
    lines = [f"{'label/state':<14}" + "".join(f"{p:>10}" for p in predicted)]
    for label in LABEL_STATES:
        row = ev.confusion.get(label)
        if not row:
            continue
        lines.append(f"{label:<14}" + "".join(f"{row.get(p, 0.0):>9.1f}s" for p in predicted))
    return "\n".join(lines)
