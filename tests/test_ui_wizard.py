"""The calibration wizard on real frames: checklist, diagnostics with fixes, countdown, verdict, save."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from calibration.profiles import ProfileStore
from posture.analyzer import Analyzer
from posture.clock import FakeClock
from posture.person import default_finder
from ui.wizard import CalibrationWizard, brightness, diagnostics, upright_checks

from footage import FOOTAGE, need, slouch_frames
from ui_helpers import analyses_from, no_message_boxes, video_frames  # noqa: F401


@pytest.fixture(scope="module")
def upright() -> list[tuple[Any, Any]]:
    up, _down = slouch_frames()
    return analyses_from(up[:8])


def run_capture(qtbot: Any, wizard: CalibrationWizard, clock: FakeClock, frames: list[tuple[Any, Any]]) -> None:
    wizard.feed(*frames[0])  # a first picture enables Start
    assert wizard.start_button.isEnabled()
    qtbot.mouseClick(wizard.start_button, _left())
    assert wizard.phase == "countdown" and wizard.count_label.text() == "3"
    clock.advance(1.2)
    wizard.tick()
    assert wizard.count_label.text() == "2"
    clock.advance(2.0)
    wizard.tick()
    assert wizard.phase == "capturing"
    for image, analysis in frames:
        clock.advance(0.5)
        wizard.feed(image, analysis)
    clock.advance(5.0)
    wizard.tick()
    assert wizard.phase == "result"


def _left() -> Any:
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


def test_wizard_saves_a_named_profile_from_real_frames(qtbot: Any, upright: list[tuple[Any, Any]]) -> None:
    store = ProfileStore()
    clock = FakeClock()
    wizard = CalibrationWizard(store, clock=clock, capture_s=4.0)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.name_edit.setText("Home desk")
    wizard.feed(*upright[0])
    checks = {c.key: c.ok for c in upright_checks(*upright[0])}
    assert checks["face"] and checks["light"] and checks["level"]
    assert "✔" in wizard.check_labels["face"].text()
    run_capture(qtbot, wizard, clock, upright)
    assert wizard.baseline is not None and wizard.quality is not None
    assert wizard.verdict_label.text().endswith("capture") and wizard.save_button.isEnabled()
    with qtbot.waitSignal(wizard.saved) as got:
        qtbot.mouseClick(wizard.save_button, _left())
    assert got.args[0] == "Home desk"
    assert store.names() == ["Home desk"] and store.active_name() == "Home desk"
    assert store.load("Home desk").baseline.view == "front"
    assert not wizard.isVisible()


def test_a_capture_without_anyone_is_refused_kindly_and_nothing_is_saved(qtbot: Any) -> None:
    store = ProfileStore()
    clock = FakeClock()
    blank = np.full((240, 320, 3), 120, dtype=np.uint8)
    analysis = Analyzer(_NoOne()).process(blank, 0.0, 0.0)  # type: ignore[arg-type]
    wizard = CalibrationWizard(store, clock=clock, capture_s=3.0)
    qtbot.addWidget(wizard)
    run_capture(qtbot, wizard, clock, [(blank, analysis)] * 6)
    assert wizard.baseline is None and "nobody was in view" in (wizard.rejection or "")
    assert not wizard.save_button.isEnabled() and store.names() == []
    qtbot.mouseClick(wizard.save_button, _left())  # disabled: a click does nothing
    assert store.names() == []
    wizard.restart()
    assert wizard.phase == "setup"


def test_profile_names_are_checked_before_starting(qtbot: Any, upright: list[tuple[Any, Any]]) -> None:
    store = ProfileStore()
    wizard = CalibrationWizard(store, clock=FakeClock())
    qtbot.addWidget(wizard)
    wizard.feed(*upright[0])
    wizard.name_edit.setText("../../etc/passwd")
    assert not wizard.start_button.isEnabled() and "letters" in wizard.name_note.text()
    wizard.name_edit.setText("Laptop")
    assert wizard.start_button.isEnabled()


class _NoOne:
    def find(self, frame: Any) -> Any:
        from posture.person import Detection, Validity

        return Detection(None, Validity(False, "no person found"), 0)

    def presence(self, frame: Any) -> int:
        return 0

    def close(self) -> None:
        pass


# --- setup diagnostics on real pictures ------------------------------------------------------------

def test_a_dark_room_is_diagnosed_with_a_fix(upright: list[tuple[Any, Any]]) -> None:
    image, analysis = upright[0]
    dark = (image * 0.15).astype(np.uint8)
    assert brightness(dark) < 55 < brightness(image)
    found = {d.key: d for d in diagnostics(dark, analysis)}
    assert "dark" in found and "lamp" in found["dark"].fix
    assert not any(c.ok for c in upright_checks(dark, analysis) if c.key == "light")


def test_several_people_and_cut_off_shoulders_are_diagnosed() -> None:
    finder = default_finder()
    try:
        analyzer = Analyzer(finder)
        two = video_frames(need(FOOTAGE / "two_people_table.264"), 1)[0]
        found = {d.key for d in diagnostics(two, analyzer.process(two, 0.0, 0.0))}
        assert "people" in found

        import cv2

        portrait = cv2.imread(str(need(FOOTAGE / "portrait.jpg")))
        h = portrait.shape[0]
        top = np.ascontiguousarray(portrait[: int(h * 0.42)])  # only the head: shoulders out of the picture
        analysis = Analyzer(default_finder()).process(top, 0.0, 0.0)
        keys = {d.key for d in diagnostics(top, analysis)}
        assert keys & {"cut_off", "nobody", "steep"}, keys
    finally:
        finder.close()


def test_a_camera_looking_up_from_below_is_called_steep(upright: list[tuple[Any, Any]]) -> None:
    import cv2

    image, _ = upright[0]
    h = image.shape[0]
    # Pad the top so the person sits low in a taller picture: shoulders near the bottom edge.
    low = cv2.copyMakeBorder(image, h, 0, 0, 0, cv2.BORDER_REPLICATE)
    finder = default_finder()
    try:
        analysis = Analyzer(finder).process(low, 0.0, 0.0)
    finally:
        finder.close()
    if analysis.detection is None or analysis.detection.pose is None:
        pytest.skip("MediaPipe found nobody in the padded picture")
    keys = {d.key for d in diagnostics(low, analysis)}
    assert "steep" in keys or "cut_off" in keys
