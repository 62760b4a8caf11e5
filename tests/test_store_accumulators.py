"""The pure accumulators: spans and minutes in memory, with no file at all."""

from __future__ import annotations

import pytest

import posture.store.accumulators as accumulators
from posture.samples import PostureSample
from posture.store.accumulators import HistoryAccumulator, MinuteRow, merge_rows, subtract_rows

T0 = 1_795_000_000.0 + 37.25


def sample(wall: float, state: str = "good", score: float | None = 85.0, *reasons: str) -> PostureSample:
    return PostureSample(t=0.0, wall=wall, person=True, metrics={"cva_deg": 50.0}, score=score, state=state,
                         reasons=reasons)


def test_the_accumulators_know_nothing_of_sqlite() -> None:
    assert "sqlite3" not in vars(accumulators)


def test_spans_and_minutes_account_for_every_second_once() -> None:
    acc = HistoryAccumulator(pulse=10.0, sample_interval=1.0)
    for i in range(90):
        acc.add(sample(T0 + i, "good" if i < 50 else "poor", 85.0 if i < 50 else 30.0))
    acc.add(sample(T0 + 200, "away", None))  # after a 110 s gap: the stream had stopped
    acc.finish()
    spans = [(s.state, s.samples, s.duration) for s in acc.spans]
    assert spans == [("good", 50, 50.0), ("poor", 40, 40.0), ("away", 1, 1.0)]
    seconds = {state: sum(m.seconds[state] for m in acc.minutes.values()) for state in ("good", "poor", "away")}
    assert seconds == {"good": 50.0, "poor": 40.0, "away": 1.0}
    assert sum(m.samples for m in acc.minutes.values()) == 91


def test_a_backward_jump_reopens_minutes_without_losing_what_they_held() -> None:
    acc = HistoryAccumulator()
    for i in range(30):
        acc.add(sample(T0 + i))
    jump = acc.add(sample(T0 + 5, "poor", 30.0))
    assert jump is not None and jump.seconds == 24.0
    for i in range(6, 20):
        acc.add(sample(T0 + i, "poor", 30.0))
    acc.finish()
    rows = [acc.own_row(m, None) for m in acc.minutes.values()]
    assert sum(r.seconds["good"] for r in rows) == pytest.approx(30.0)
    assert sum(r.seconds["poor"] for r in rows) == pytest.approx(15.0)
    assert sum(r.samples for r in rows) == 45


def test_subtracting_a_share_undoes_adding_it() -> None:
    base = MinuteRow(20, {"good": 20.0, "drifting": 0.0, "poor": 0.0, "away": 0.0, "unknown": 0.0}, {}, 1600.0,
                     20.0, {"cva_deg": 50.0})
    share = MinuteRow(10, {"good": 0.0, "drifting": 0.0, "poor": 10.0, "away": 0.0, "unknown": 0.0},
                      {"head_forward": 10.0}, 300.0, 10.0, {})
    back = subtract_rows(merge_rows(base, share), share)
    assert (back.samples, back.seconds, back.reasons, back.score_wsum, back.score_secs) == (
        base.samples, base.seconds, {}, base.score_wsum, base.score_secs)


def test_the_sqlite_sink_is_the_sessions_history_sink(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The Session is typed against `posture.ports.HistorySink`; the store's writer is what it gets."""
    import inspect
    import sqlite3

    from posture.clock import FakeClock
    from posture.events import NudgeShown
    from posture.ports import HistorySink
    from posture.store.writer import HistoryWriter

    for name in ("add_sample", "add_event", "flush"):
        wanted = inspect.signature(getattr(HistorySink, name))
        assert list(inspect.signature(getattr(HistoryWriter, name)).parameters) == list(wanted.parameters)
    path = tmp_path / "h.db"
    with HistoryWriter(path, FakeClock()) as sink:
        sink.add_sample(sample(T0))
        sink.add_event(NudgeShown(t=0.0, wall=T0, level=1, reasons=("head_forward",), text="Sit back a little"))
        assert sink.flush()
    with sqlite3.connect(path) as conn:
        kind, data = conn.execute("SELECT kind, data FROM events").fetchone()
    assert kind == "nudge" and '"text":"Sit back a little"' in data
