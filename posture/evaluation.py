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

# What a label's `reason` (the posture shown) should be reported as. Labels may also name a reason key
# directly. Postures without a side (slouch, forward head) are the same in a mirror; the others swap.
LABEL_REASON = {
    "slouch": "head_dropped",
    "forward_head": "head_forward",
    "head_tilt_left": "tilted_left",
    "head_tilt_right": "tilted_right",
    "lateral_lean_left": "leaning_left",
    "lateral_lean_right": "leaning_right",
}
APP_REASONS = ("head_forward", "head_dropped", "tilted_left", "tilted_right", "leaning_left", "leaning_right",
               "too_close", "shoulders_uneven")
MIRROR_REASON = {
    "tilted_left": "tilted_right", "tilted_right": "tilted_left",
    "leaning_left": "leaning_right", "leaning_right": "leaning_left",
}
NO_REASON = "none"


def expected_reason(label_reason: str, mirrored: bool = False) -> str | None:
    """The app reason a labelled posture should produce (None for upright, glance, away, unknown names)."""
    key = LABEL_REASON.get(label_reason, label_reason if label_reason in APP_REASONS else None)
    if key is not None and mirrored:
        key = MIRROR_REASON.get(key, key)
    return key


def mirror_reasons(reasons: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(MIRROR_REASON.get(r, r) for r in reasons)


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
    # reason_confusion[expected][reported main reason] in seconds, over labelled time that is scored.
    reason_confusion: dict[str, dict[str, float]] = field(default_factory=dict)
    # One entry per poor span whose label names a reason: (start, expected, main reason reported or "none").
    span_reasons: list[tuple[float, str, str]] = field(default_factory=list)
    # Seconds each reason was reported anywhere in scored time, and while it was the expected one.
    reason_reported: dict[str, float] = field(default_factory=dict)
    reason_hit: dict[str, float] = field(default_factory=dict)
    reason_expected: dict[str, float] = field(default_factory=dict)

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
    def reason_accuracy(self) -> float | None:
        """Share of labelled poor spans whose main reported reason is the labelled one."""
        if not self.span_reasons:
            return None
        return sum(1 for _, want, got in self.span_reasons if want == got) / len(self.span_reasons)

    def reason_recall(self, reason: str) -> float | None:
        total = self.reason_expected.get(reason, 0.0)
        return self.reason_hit.get(reason, 0.0) / total if total else None

    def reason_precision(self, reason: str) -> float | None:
        reported = self.reason_reported.get(reason, 0.0)
        return self.reason_hit.get(reason, 0.0) / reported if reported else None

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
            "reason_accuracy": self.reason_accuracy,
            "span_reasons": [{"t": t, "expected": want, "reported": got} for t, want, got in self.span_reasons],
            "reason_precision": {r: self.reason_precision(r) for r in APP_REASONS},
            "reason_recall": {r: self.reason_recall(r) for r in APP_REASONS},
            "reason_confusion_seconds": self.reason_confusion,
        }


def evaluate(
    name: str,
    samples: list[PostureSample],
    events: list[Event],
    labels: list[Interval],
    ignore_after_change: float = IGNORE_AFTER_CHANGE_S,
    mirrored: bool = False,
) -> Evaluation:
    """`mirrored`: the picture was mirrored, so a label's left/right reasons are expected swapped."""
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
        _score_reasons(ev, s, iv, dt, mirrored)
    _score_spans(ev, samples, labels, ignore_after_change, mirrored)
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


def _reported(sample: PostureSample) -> tuple[str, ...]:
    """Reasons the app actually put to the user: only while it says posture is off."""
    return sample.reasons if sample.state in ("drifting", "poor") else ()


def _score_reasons(ev: Evaluation, s: PostureSample, iv: Interval, dt: float, mirrored: bool) -> None:
    if iv.state == "away":
        return
    want = expected_reason(iv.reason, mirrored) if iv.state == "poor" else None
    got = _reported(s)
    row = ev.reason_confusion.setdefault(want or NO_REASON, {})
    main = got[0] if got else NO_REASON
    row[main] = row.get(main, 0.0) + dt
    for r in got:
        ev.reason_reported[r] = ev.reason_reported.get(r, 0.0) + dt
    if want is not None:
        ev.reason_expected[want] = ev.reason_expected.get(want, 0.0) + dt
        if want in got:
            ev.reason_hit[want] = ev.reason_hit.get(want, 0.0) + dt


def _score_spans(ev: Evaluation, samples: list[PostureSample], labels: list[Interval], ignore: float,
                 mirrored: bool) -> None:
    """The main reason of each labelled poor span: the first reason the app gave, by time, once the
    posture had settled (the first `ignore` seconds of the span are skipped, as for states)."""
    for iv in labels:
        want = expected_reason(iv.reason, mirrored) if iv.state == "poor" else None
        if want is None:
            continue
        weight: dict[str, float] = {}
        inside = [s for s in samples if iv.start + ignore <= s.t < iv.end]
        for a, b in zip(inside, [*inside[1:], None], strict=True):
            got = _reported(a)
            if got:
                dt = (b.t - a.t) if b is not None else 1.0
                weight[got[0]] = weight.get(got[0], 0.0) + dt
        main = max(weight, key=lambda k: weight[k]) if weight else NO_REASON
        ev.span_reasons.append((iv.start, want, main))


def format_reasons(ev: Evaluation) -> str:
    """Per-reason precision and recall, and a confusion table of reasons (seconds)."""
    rows = sorted(ev.reason_confusion)
    cols = [r for r in (*APP_REASONS, NO_REASON) if any(ev.reason_confusion[x].get(r) for x in rows)]
    lines = [f"{'expected/said':<18}" + "".join(f"{c[:13]:>14}" for c in cols)]
    for r in rows:
        lines.append(f"{r:<18}" + "".join(f"{ev.reason_confusion[r].get(c, 0.0):>13.1f}s" for c in cols))
    lines.append("")
    lines.append(f"{'reason':<18}{'precision':>10}{'recall':>8}")

    def pct(v: float | None) -> str:
        return "-" if v is None else f"{100 * v:.0f}"

    for r in APP_REASONS:
        if r in ev.reason_expected or r in ev.reason_reported:
            lines.append(f"{r:<18}{pct(ev.reason_precision(r)):>10}{pct(ev.reason_recall(r)):>8}")
    if ev.span_reasons:
        right = sum(1 for _, w, g in ev.span_reasons if w == g)
        lines.append(f"main reason of each poor span right: {right}/{len(ev.span_reasons)}")
    return "\n".join(lines)


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
