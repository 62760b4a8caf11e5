"""The guided break window on an accelerated clock: steps, countdown ring, breathing, safety, "did it help?"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from posture.clock import FakeClock
from posture.coach.breaks import BreakScheduler, BreakSettings
from posture.coach.routines import load_catalogue
from posture.coach.safety import SAFETY_QUESTIONS, SafetyProfile, filter_catalogue, load_safety_profile
from ui.break_window import BreakWindow, breath_phase

from ui_helpers import no_message_boxes  # noqa: F401


def run_to_end(window: BreakWindow, clock: FakeClock, step_s: float = 0.5, limit: int = 2000) -> list[str]:
    """Advance the clock and tick like the window's timer would; returns the step titles seen."""
    titles: list[str] = []
    for _ in range(limit):
        if window.result is not None:
            break
        clock.advance(step_s)
        window.tick()
        if not titles or titles[-1] != window.step_label.text():
            titles.append(window.step_label.text())
    return titles


def test_a_routine_runs_to_the_end_and_the_answer_reaches_the_scheduler(qtbot: Any) -> None:
    clock = FakeClock()
    scheduler = BreakScheduler(clock, BreakSettings(), load_catalogue())
    routine = scheduler.routine("quick-reset")
    assert routine is not None
    started = scheduler.start(routine.id)
    assert started[0].kind == "break_started"
    window = BreakWindow(routine, clock=clock)
    qtbot.addWidget(window)
    window.show()
    assert window.counter_label.text().startswith("Step 1 of 2")
    assert not window.pacer.isVisible(), "no breathing circle on a posture step"
    ring_at_start = window.ring.fraction
    clock.advance(4.0)
    window.tick()
    assert window.ring.fraction < ring_at_start and window.ring.text == "0:06"

    titles = run_to_end(window, clock)
    assert titles == [s.title for s in routine.steps]
    assert window.result is not None and window.result.completed
    assert window.pages.currentIndex() == 2, "the 'did that help?' page"

    effects: list[tuple[Any, bool]] = []
    window.finished.connect(lambda effect, done: effects.append((effect, done)))
    qtbot.mouseClick(window.feel_buttons["better"], Qt.MouseButton.LeftButton)
    assert effects == [("better", True)]
    effect, done = effects[0]
    events = scheduler.complete(effect, finished=done)
    assert events[0].data["felt"] == "better" and events[0].data["finished"] is True
    assert scheduler.today.completed == 1
    assert not window.isVisible()


def test_breathing_circle_grows_on_the_in_breath_and_shrinks_on_the_out_breath(qtbot: Any) -> None:
    assert breath_phase(0.0) == ("inhale", 0.0)
    assert breath_phase(2.0)[0] == "inhale" and 0.4 < breath_phase(2.0)[1] < 0.6
    assert breath_phase(4.0) == ("exhale", 1.0)
    assert breath_phase(7.0)[0] == "exhale" and breath_phase(7.0)[1] < breath_phase(5.0)[1]
    assert breath_phase(10.0) == ("inhale", 0.0)

    clock = FakeClock()
    routine = load_catalogue().get("quick-reset")
    assert routine is not None
    window = BreakWindow(routine, clock=clock)
    qtbot.addWidget(window)
    window.show()
    clock.advance(10.5)  # into the breathing step
    window.tick()
    assert window.pacer.isVisible()
    sizes = []
    for _ in range(8):
        clock.advance(0.5)
        window.tick()
        sizes.append((window.pacer.phase, window.pacer.size_fraction))
    inhale = [s for p, s in sizes if p == "inhale"]
    assert inhale == sorted(inhale) and len(inhale) >= 3


def test_pause_freezes_the_countdown_and_skip_and_finish_work(qtbot: Any) -> None:
    clock = FakeClock()
    routine = load_catalogue().get("side-bends")
    assert routine is not None
    window = BreakWindow(routine, clock=clock)
    qtbot.addWidget(window)
    window.show()  # showing the window is what begins the routine
    qtbot.mouseClick(window.pause_button, Qt.MouseButton.LeftButton)
    assert window.pause_button.text() == "Resume"
    before = window.ring.text
    clock.advance(30.0)
    window.tick()
    assert window.ring.text == before, "a paused break keeps the person's place"
    qtbot.mouseClick(window.pause_button, Qt.MouseButton.LeftButton)
    window.skip_step()
    assert window.counter_label.text().startswith("Step 2 of 3")
    effects: list[tuple[Any, bool]] = []
    window.finished.connect(lambda effect, done: effects.append((effect, done)))
    window.finish_now()
    assert window.result is not None and not window.result.completed
    assert "ended early" in window.done_label.text()
    window.close()  # closing without answering still tells the scheduler the break ended
    assert effects == [(None, False)]


def test_first_acupressure_asks_the_safety_questions_and_stores_the_answers(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "safety.json"
    base = load_catalogue()
    unscreened = filter_catalogue(base, None).get("neck-reset")
    assert unscreened is not None and not unscreened.has_acupressure
    clock = FakeClock()
    window = BreakWindow(unscreened, clock=clock, needs_safety_screen=True, safety_path=path,
                         refilter=lambda p: filter_catalogue(base, p).get("neck-reset"))
    qtbot.addWidget(window)
    window.show()
    assert window.pages.currentIndex() == 0 and window.runner is None
    assert not window.safety_page.save_button.isEnabled()
    for key in window.safety_page.groups:
        window.safety_page.answer(key, yes=False)
    window.safety_page.answer("blood_thinners", yes=True)
    assert "light touch" in window.safety_page.summary.text()
    assert "doctor or nurse before using acupressure" in window.safety_page.summary.text()
    started: list[str] = []
    window.started.connect(started.append)
    qtbot.mouseClick(window.safety_page.save_button, Qt.MouseButton.LeftButton)

    profile = load_safety_profile(path)
    assert profile is not None and profile.blood_thinners and not profile.pregnant
    assert started == ["neck-reset"] and window.routine.has_acupressure
    assert window.routine_notes.isVisible() and "doctor or nurse" in window.routine_notes.text()
    titles = run_to_end(window, clock, step_s=2.0)
    acupressure = next(s for s in window.routine.steps if s.is_acupressure)
    assert acupressure.title in titles
    pressed = [s for s in window.routine.steps if s.is_acupressure]
    assert all("firm" not in s.instructions and "light, gentle touch" in s.instructions for s in pressed)


def test_not_now_starts_without_acupressure(qtbot: Any, tmp_path: Path) -> None:
    base = load_catalogue()
    unscreened = filter_catalogue(base, None).get("neck-reset")
    assert unscreened is not None
    window = BreakWindow(unscreened, clock=FakeClock(), needs_safety_screen=True, safety_path=tmp_path / "s.json")
    qtbot.addWidget(window)
    window.safety_page.declined.emit()
    assert window.runner is not None and not window.routine.has_acupressure
    assert not (tmp_path / "s.json").exists()


@pytest.mark.parametrize("routine_id", ["forward-head-care"])
def test_point_diagram_is_shown_on_acupressure_steps(qtbot: Any, routine_id: str) -> None:
    from posture.coach.safety import SafetyProfile

    routine = filter_catalogue(load_catalogue(), SafetyProfile()).get(routine_id)
    assert routine is not None
    clock = FakeClock()
    window = BreakWindow(routine, clock=clock)
    qtbot.addWidget(window)
    window.show()
    while window.runner is not None and window.runner.current_step is not None \
            and not window.runner.current_step.is_acupressure:
        window.skip_step()
    assert window.picture.isVisible() and window.picture.pixmap() is not None
    assert not window.picture.pixmap().isNull()


def test_the_stop_line_shows_every_stop_sign_on_every_step(qtbot: Any) -> None:
    catalogue = load_catalogue()
    for profile in (SafetyProfile(), SafetyProfile(injury_or_surgery=True),
                    SafetyProfile(blood_thinners=True, pregnant=True)):
        for routine in filter_catalogue(catalogue, profile):
            clock = FakeClock()
            window = BreakWindow(routine, clock=clock)
            qtbot.addWidget(window)
            window.show()
            for _ in routine.steps:
                assert window.stop_label.isVisible()
                for sign in catalogue.stop_signs:
                    assert sign.short in window.stop_label.text(), (routine.id, sign.short)
                window.skip_step()
            window.close()


def test_the_safety_page_lists_the_red_flags_and_stop_signs_and_every_question(qtbot: Any, tmp_path: Path) -> None:
    catalogue = load_catalogue()
    routine = filter_catalogue(catalogue, None).get("chin-tucks")
    assert routine is not None
    window = BreakWindow(routine, clock=FakeClock(), needs_safety_screen=True, safety_path=tmp_path / "s.json")
    qtbot.addWidget(window)
    window.show()
    page = window.safety_page
    assert page.red_flags.isVisible() and page.stop_signs.isVisible()
    for flag in catalogue.red_flags:
        assert flag in page.red_flags.text()
    for sign in catalogue.stop_signs:
        assert sign.short in page.stop_signs.text()
    assert set(page.groups) == {q.key for q in SAFETY_QUESTIONS}


def test_a_movement_routine_is_screened_and_an_injury_answer_never_runs_it(qtbot: Any, tmp_path: Path) -> None:
    base = load_catalogue()
    unscreened = filter_catalogue(base, None).get("chin-tucks")
    assert unscreened is not None and [s.title for s in unscreened.steps] == ["Line up"]
    window = BreakWindow(unscreened, clock=FakeClock(), needs_safety_screen=True, safety_path=tmp_path / "s.json",
                         refilter=lambda p: filter_catalogue(base, p).get("chin-tucks"))
    qtbot.addWidget(window)
    window.show()
    for key in window.safety_page.groups:
        window.safety_page.answer(key, yes=key == "injury_or_surgery")
    started: list[str] = []
    window.started.connect(started.append)
    qtbot.mouseClick(window.safety_page.save_button, Qt.MouseButton.LeftButton)
    assert started == [] and window.runner is None  # neither chin tucks nor the unscreened shell
    assert window.pages.currentIndex() == 3 and "not offered" in window.not_offered_label.text()
    assert "doctor or physiotherapist" in window.not_offered_label.text()


def test_hold_longer_button_adds_time_to_the_step(qtbot: Any) -> None:
    routine = filter_catalogue(load_catalogue(), SafetyProfile()).get("hand-points")
    assert routine is not None
    clock = FakeClock()
    window = BreakWindow(routine, clock=clock)
    qtbot.addWidget(window)
    window.show()
    while window.runner is not None and window.runner.current_step is not None \
            and not window.runner.current_step.is_acupressure:
        window.skip_step()
    assert window.hold_button.isVisible() and window.hold_button.isEnabled()
    clock.advance(20.0)
    window.tick()
    assert window.ring.text == "0:10"
    qtbot.mouseClick(window.hold_button, Qt.MouseButton.LeftButton)
    assert window.ring.text == "0:40" and window.runner is not None and window.runner.step_length == 60
    while window.hold_button.isEnabled():
        qtbot.mouseClick(window.hold_button, Qt.MouseButton.LeftButton)
    assert window.runner.step_length == 30 + 120  # capped
    window.skip_step()
    assert window.hold_button.isEnabled()  # a new step can be held again
    assert "Where:" in window.instructions.text()
