"""Settings: validated at load, one clear message per bad key, defaults stay in force, nothing lost."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from posture.settings import Settings, load_settings, parse_settings, save_settings, settings_path


def test_defaults_when_missing(tmp_path: Path) -> None:
    result = load_settings(tmp_path / "nope.json")
    assert result.settings == Settings() and result.problems == []


def test_bad_value_names_the_key_and_keeps_the_default(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"onset_delay_s": 900, "sensitivity": "high", "quiet_hours": "22:00-7"}))
    result = load_settings(path)
    assert result.settings.sensitivity == "high"  # good keys still apply
    assert result.settings.onset_delay_s == 45.0
    assert result.settings.quiet_hours == ""
    assert any("'onset_delay_s' = 900 must be between 0 and 600; using the default 45.0" in p for p in result.problems)
    assert any("'quiet_hours'" in p for p in result.problems)
    assert all("\n" not in p for p in result.problems)


def test_corrupt_file_is_reported_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{ this is not json")
    result = load_settings(path)
    assert result.settings == Settings()
    assert len(result.problems) == 1 and "unreadable" in result.problems[0] and str(path) in result.problems[0]
    assert path.read_text() == "{ this is not json"


def test_round_trip_and_default_location() -> None:
    s = Settings(sensitivity="low", onset_delay_s=30, quiet_hours="22:00-07:00", pause_apps=("zoom",))
    path = save_settings(s)
    assert path == settings_path()
    assert load_settings().settings == s


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.sampled_from(
                        ["sensitivity", "onset_delay_s", "cooldown_s", "quiet_hours", "pause_apps", "camera_index",
                         "x", "sampling_mode", "daily_nudge_cap"]), c, max_size=6), max_leaves=12))
def test_any_json_gives_settings_and_messages_never_an_exception(data: object) -> None:
    result = parse_settings(data)
    assert isinstance(result.settings, Settings)
    for p in result.problems:
        assert isinstance(p, str) and "\n" not in p


def test_settings_command_set_and_show(capsys) -> None:  # type: ignore[no-untyped-def]
    from posture.cli import main

    assert main(["settings", "set", "onset_delay_s", "60"]) == 0
    assert main(["settings", "set", "quiet_hours", "22:00-07:00"]) == 0
    assert main(["settings", "set", "sensitivity", "extreme"]) == 2
    err = capsys.readouterr().err
    assert "'sensitivity' = 'extreme' must be one of low, medium, high" in err
    assert main(["settings"]) == 0
    out = capsys.readouterr().out
    assert "onset_delay_s                  60.0" in out and '"22:00-07:00"' in out
    assert load_settings().settings.onset_delay_s == 60.0
