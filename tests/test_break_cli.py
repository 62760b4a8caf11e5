"""`posture break`: run routines in the terminal, list them, safety answers, errors and Ctrl-C."""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import pytest

from posture.cli import break_cmd, main
from posture.coach.routines import load_catalogue
from posture.coach.safety import SAFETY_QUESTIONS, SafetyProfile, load_safety_profile, save_safety_profile

CATALOGUE = load_catalogue()
FAST = ["--speed", "5000"]


def flat(text: str) -> str:
    """Prose is wrapped to the terminal width: compare it with whitespace squeezed."""
    return " ".join(text.split())


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never read or write the real user's safety answers; never wait on stdin."""
    directory = tmp_path / "config"
    monkeypatch.setenv("POSTURE_CONFIG_DIR", str(directory))
    monkeypatch.setattr(break_cmd, "stdin_is_tty", lambda: False)

    def no_input(prompt: str = "") -> str:
        raise AssertionError(f"asked for input: {prompt!r}")

    monkeypatch.setattr("builtins.input", no_input)
    return directory


def answers_file(tmp_path: Path, **yes: bool) -> Path:
    path = tmp_path / "answers.json"
    save_safety_profile(SafetyProfile(**yes, answered_at=1.0), path)
    return path


def test_runs_a_routine_to_completion_quickly(capsys: pytest.CaptureFixture[str]) -> None:
    main(["break", "--list"])  # warm up the imports so only the routine is timed
    capsys.readouterr()
    started = time.perf_counter()
    code = main(["break", "chin-tucks", *FAST])
    elapsed = time.perf_counter() - started
    out = capsys.readouterr().out
    assert code == 0 and elapsed < 0.5
    assert out.index("Stop at once if you notice") < out.index("[1/2] Line up (0:08)")
    assert out.index("[1/2] Line up") < out.index("[2/2] Chin tucks (0:30)") < out.index("Done (0:38)")
    for sign in CATALOGUE.stop_signs:
        assert sign in out
    assert "\r" not in out and "\x1b" not in out  # not a terminal: plain lines
    assert "  0:20 left" in out and "  0:10 left" in out


def test_breath_cues_are_printed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["break", "quick-reset", *FAST]) == 0
    out = capsys.readouterr().out
    cues = [line.strip() for line in out.splitlines() if line.strip().startswith("breathe")]
    assert cues == ["breathe in (1/2)", "breathe out (1/2)", "breathe in (2/2)", "breathe out (2/2)"]


def test_without_answers_and_without_a_terminal_acupressure_is_left_out(
        capsys: pytest.CaptureFixture[str], config_dir: Path) -> None:
    assert main(["break", "neck-reset", *FAST]) == 0
    out = flat(capsys.readouterr().out)
    assert "Acupressure steps are left out" in out and "--safety-answers" in out
    assert "GB20" not in out and "GV14" not in out
    assert "Slow turns" in out and "Done" in out
    assert not (config_dir / "safety.json").exists()


def test_safety_answers_file_unlocks_and_filters_points(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    clear = answers_file(tmp_path)
    assert main(["break", "neck-reset", "--safety-answers", str(clear), *FAST]) == 0
    out = flat(capsys.readouterr().out)
    assert "Base of the skull (GB20) (6 slow breaths)" in out and "Where: Where the skull meets" in out
    assert "not a treatment" in out  # the honest note comes with acupressure

    pregnant = answers_file(tmp_path, pregnant=True)
    assert main(["break", "shoulder-balance", "--safety-answers", str(pregnant), *FAST]) == 0
    out = flat(capsys.readouterr().out)
    assert "GB21" not in out.replace("(GB21) points are left out", "")
    assert "[1/5] Settle" in out and "[5/5] Level up" in out and "LI4" in out  # the note names them


def test_stored_answers_are_used(capsys: pytest.CaptureFixture[str], config_dir: Path) -> None:
    save_safety_profile(SafetyProfile(neuro_symptoms=True, answered_at=1.0), config_dir / "safety.json")
    assert main(["break", "neck-reset", *FAST]) == 0
    out = flat(capsys.readouterr().out)
    assert "doctor or physiotherapist" in out and "Slow turns" not in out and "GB20" not in out
    assert all(flat(flag) in out for flag in CATALOGUE.red_flags)  # what to look out for
    assert "[1/2] Settle" in out


def test_a_routine_with_nothing_left_is_a_clear_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    injured = answers_file(tmp_path, injury_or_surgery=True)
    assert main(["break", "side-bends", "--safety-answers", str(injured), *FAST]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: nothing of 'side-bends' is left") and err.count("\n") == 1


def test_list_shows_every_routine_with_length_and_areas(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["break", "--list"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    for r in CATALOGUE:
        line = next(line for line in lines if line.startswith(r.id + " "))
        assert f"{r.seconds // 60}:{r.seconds % 60:02d}" in line and r.title in line
        following = lines[lines.index(line) + 1]
        assert following.strip() == f"areas: {', '.join(r.areas)}"
    assert "Neck reset *" in out and "Chin tucks *" not in out


def test_unknown_routine_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["break", "nope"]) == 2
    err = capsys.readouterr().err
    assert err == f"error: unknown routine 'nope'; valid: {', '.join(CATALOGUE.ids())}\n"


def test_bad_speed_and_bad_answers_file(capsys: pytest.CaptureFixture[str], config_dir: Path,
                                        tmp_path: Path) -> None:
    assert main(["break", "chin-tucks", "--speed", "0"]) == 2
    assert "--speed" in capsys.readouterr().err
    assert main(["break", "neck-reset", "--safety-answers", str(tmp_path / "none.json")]) == 2
    assert "not found" in capsys.readouterr().err
    config_dir.mkdir()
    (config_dir / "safety.json").write_text("{oops", encoding="utf-8")
    assert main(["break", "neck-reset", *FAST]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "damaged safety answers" in err and "delete the file" in err


def test_ctrl_c_stops_cleanly(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    class InterruptedClock:
        def __init__(self) -> None:
            self.now = 0.0
            self.sleeps = 0

        def monotonic(self) -> float:
            return self.now

        def wall(self) -> float:
            return 1e9 + self.now

        def sleep(self, seconds: float) -> None:
            self.sleeps += 1
            if self.sleeps > 50:  # 12.5 s into the routine
                raise KeyboardInterrupt
            self.now += seconds

    monkeypatch.setattr(break_cmd, "make_clock", lambda speed: InterruptedClock())
    assert main(["break", "chin-tucks"]) == 130
    out = capsys.readouterr().out
    assert out.rstrip().endswith("stopped") and "[2/2] Chin tucks" in out and "Done" not in out


def test_on_a_terminal_the_countdown_updates_one_line(capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    monkeypatch.setattr(sys, "stdout", screen)
    assert main(["break", "quick-reset", *FAST]) == 0
    out = screen.getvalue()
    assert "\r  0:10 left in this step, 0:30 in all\x1b[K" in out
    assert "breathe in (1/2)" in out and "\n    breathe" not in out  # cues ride on the live line
    assert "Done (0:30)" in out


def test_on_a_terminal_the_questions_are_asked_once_and_stored(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, config_dir: Path) -> None:
    replies = iter(["maybe", "n", "n", "y", "yes", "no"])  # "maybe" is asked again
    prompts: list[str] = []

    def fake_input(prompt: str = "") -> str:
        prompts.append(prompt)
        return next(replies)

    monkeypatch.setattr(break_cmd, "stdin_is_tty", lambda: True)
    monkeypatch.setattr("builtins.input", fake_input)
    assert main(["break", "hand-points", *FAST]) == 0
    out = flat(capsys.readouterr().out)
    assert len(prompts) == len(SAFETY_QUESTIONS) + 1 and prompts[0] == prompts[1]
    assert "Please answer y or n." in out
    assert out.index(flat(CATALOGUE.red_flags[0])) < out.index("Please answer")  # red flags come first
    stored = load_safety_profile(config_dir / "safety.json")
    assert stored is not None and stored.blood_thinners and stored.pregnant and not stored.injury_or_surgery
    assert "Thumb web (LI4)" not in out and "Stiff-neck point (Luozhen)" in out  # pregnancy: no LI4
    assert "press lightly" in out  # blood thinners

    # Second run: nothing asked.
    monkeypatch.setattr("builtins.input", lambda prompt="": pytest.fail("asked again"))
    assert main(["break", "hand-points", *FAST]) == 0


def test_end_of_input_during_questions_skips_acupressure(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, config_dir: Path) -> None:
    def eof(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr(break_cmd, "stdin_is_tty", lambda: True)
    monkeypatch.setattr("builtins.input", eof)
    assert main(["break", "neck-reset", *FAST]) == 0
    out = flat(capsys.readouterr().out)
    assert "were not answered" in out and "GB20" not in out
    assert not (config_dir / "safety.json").exists()
