"""Profile names that differ only in case or punctuation, the active-profile file, and the `*` marker."""

from __future__ import annotations

import pytest

from calibration.profiles import ProfileStore, calibration_target
from posture.baseline import Baseline, MetricStat
from posture.cli import main
from posture.errors import ConfigError


def baseline(head: float) -> Baseline:
    return Baseline("front", {"head_height": MetricStat(head, 0.01, 10)}, (0.5, 0.7, 0.3))


@pytest.mark.parametrize(("first", "second"), [("Laptop", "laptop"), ("Desk.", "desk"), ("desk", "Desk."),
                                               ("home office", "Home-Office")])
def test_names_that_differ_only_in_case_or_punctuation_never_overwrite(first: str, second: str) -> None:
    store = ProfileStore()
    store.save(first, baseline(0.60))
    kept = store.load(first)
    with pytest.raises(ConfigError, match="already exists"):
        store.save(second, baseline(0.70))
    assert store.load(first) == kept
    assert store.names() == [first]
    store.save(first, baseline(0.65))  # recalibrating under the exact name still works
    assert store.load(first).baseline.stats["head_height"].median == 0.65


@pytest.mark.parametrize("name", ["active", "Active", "active.", "ACTIVE-"])
def test_no_profile_can_be_saved_over_the_active_profile_file(name: str) -> None:
    store = ProfileStore()
    store.save("Laptop", baseline(0.6))
    store.set_active("Laptop")
    with pytest.raises(ConfigError, match="reserved"):
        store.save(name, baseline(0.7))
    assert store.active_name() == "Laptop"
    assert store.names() == ["Laptop"]


def test_profile_use_by_file_name_keeps_the_marker_right(capsys: pytest.CaptureFixture[str]) -> None:
    store = ProfileStore()
    store.save("Laptop", baseline(0.6))
    store.save("Desk monitor", baseline(0.7))
    assert main(["profile", "use", "laptop"]) == 0
    assert "active profile: Laptop" in capsys.readouterr().out
    assert main(["profile", "list"]) == 0
    assert capsys.readouterr().out.splitlines() == ["  Desk monitor", "* Laptop"]
    assert main(["profile", "use", "desk-monitor"]) == 0
    assert main(["profile", "list"]) == 0
    assert "* Desk monitor" in capsys.readouterr().out.splitlines()
    assert main(["profile", "delete", "DESK MONITOR"]) == 0
    assert store.active_name() is None


def test_an_old_active_file_naming_a_profile_by_another_spelling_is_understood() -> None:
    store = ProfileStore()
    store.save("Laptop", baseline(0.6))
    (store.root / "active.json").write_text('{"active": "laptop"}\n')
    assert store.active_name() == "Laptop"


def test_calibrating_from_a_recording_names_an_inactive_profile() -> None:
    assert calibration_target(None, None, True) == ("default", True)
    assert calibration_target("1", "laptop", True) == ("laptop", True)
    assert calibration_target("clips/desk session.mp4", None, True) == ("clip desk session", False)
    assert calibration_target("frames/upright/", None, True) == ("clip upright", False)
    assert calibration_target("clips/desk.mp4", "desk", True) == ("desk", True)
    ProfileStore.check_name(calibration_target("x" * 80 + ".mp4", None, True)[0])


def test_recalibrating_over_a_corrupt_profile_keeps_the_damaged_file() -> None:
    store = ProfileStore()
    store.save("desk", baseline(0.6))
    (store.root / "desk.json").write_text("{not json")
    store.save("desk", baseline(0.7))
    assert store.load("desk").baseline.stats["head_height"].median == 0.7
    kept = list(store.root.glob("desk.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_text() == "{not json"
    assert store.names() == ["desk"]
