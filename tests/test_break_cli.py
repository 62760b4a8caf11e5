"""`posture break`: run routines in the terminal, list them, safety answers, keys, errors and Ctrl-C."""

from __future__ import annotations

import io
import itertools
import sys
import time
from pathlib import Path

import pytest

from posture.cli import break_cmd, main
from posture.coach.routines import load_catalogue
from posture.coach.runner import StepStarted
from posture.coach.safety import (
    PROFESSIONAL_NOTE,
    SAFETY_QUESTIONS,
    SafetyProfile,
    filter_catalogue,
    load_safety_profile,
    save_safety_profile,
    stop_line,
)

CATALOGUE = load_catalogue()
FAST = ["--speed", "5000"]


def flat(text: str) -> str:
    """Prose is wrapped to the terminal width: compare it with whitespace squeezed."""
    return " ".join(text.split())


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never read or write the real user's safety answers; never wait on stdin or touch the terminal."""
    directory = tmp_path / "config"
    monkeypatch.setenv("POSTURE_CONFIG_DIR", str(directory))
    monkeypatch.setattr(break_cmd, "stdin_is_tty", lambda: False)
    monkeypatch.setattr(break_cmd, "open_keys", break_cmd.NoKeys)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))

    def no_input(prompt: str = "") -> str:
        raise AssertionError(f"input() used for {prompt!r}: its prompt can land on stderr")

    monkeypatch.setattr("builtins.input", no_input)
    return directory


def answers_file(tmp_path: Path, **yes: bool) -> Path:
    path = tmp_path / "answers.json"
    save_safety_profile(SafetyProfile(**yes, answered_at=1.0), path)
    return path


def test_runs_a_routine_to_completion_quickly(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    clear = answers_file(tmp_path)
    main(["break", "--list"])  # warm up the imports so only the routine is timed
    capsys.readouterr()
    started = time.perf_counter()
    code = main(["break", "chin-tucks", "--safety-answers", str(clear), *FAST])
    elapsed = time.perf_counter() - started
    out = capsys.readouterr().out
    assert code == 0 and elapsed < 0.5
    assert out.index("Stop at once if you notice") < out.index("[1/2] Line up (0:08)")
    assert out.index("[1/2] Line up") < out.index("[2/2] Chin tucks (0:30)") < out.index("Done (0:38)")
    for sign in CATALOGUE.stop_signs:
        assert flat(sign.text) in flat(out)
    assert "\r" not in out and "\x1b" not in out  # not a terminal: plain lines
    assert "  0:20 left" in out and "  0:10 left" in out


def test_breath_cues_are_printed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["break", "quick-reset", *FAST]) == 0
    out = capsys.readouterr().out
    cues = [line.strip() for line in out.splitlines() if line.strip().startswith("breathe")]
    assert cues == ["breathe in (1/2)", "breathe out (1/2)", "breathe in (2/2)", "breathe out (2/2)"]


def test_without_answers_and_without_a_terminal_neck_work_is_left_out(
        capsys: pytest.CaptureFixture[str], config_dir: Path) -> None:
    assert main(["break", "neck-reset", *FAST]) == 0
    out = flat(capsys.readouterr().out)
    assert "Acupressure and neck or shoulder exercises are left out" in out and "--safety-answers" in out
    assert "GB20" not in out and "GV14" not in out
    assert "Slow turns" not in out and "Shoulder rolls" not in out and "warm damp" not in out
    assert "Settle" in out and "Done" in out
    assert not (config_dir / "safety.json").exists()


def test_movement_routines_are_screened_too(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["break", "chin-tucks", *FAST]) == 0
    out = flat(capsys.readouterr().out)
    assert "[1/1] Line up" in out and "Chin tucks (0:30)" not in out and "left out" in out


def test_safety_answers_file_unlocks_and_filters_points(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    clear = answers_file(tmp_path)
    assert main(["break", "neck-reset", "--safety-answers", str(clear), *FAST]) == 0
    out = flat(capsys.readouterr().out)
    assert "Base of the skull (GB20) (6 slow breaths)" in out
    assert "Where: At the bottom edge of the skull" in out and "Where: Where" not in out
    assert "Breathe out as the pressure builds" in out and "firm but comfortable" in out
    assert "Warm, clean hands" in out and "Light strokes" in out and "Have a drink of water" in out
    assert "not a treatment" in out  # the honest note comes with acupressure

    pregnant = answers_file(tmp_path, pregnant=True)
    assert main(["break", "shoulder-balance", "--safety-answers", str(pregnant), *FAST]) == 0
    out = flat(capsys.readouterr().out)
    assert "(GB21)" not in out.replace("(GB21) points are left out", "")
    assert "[1/6] Settle" in out and "[5/6] Level up" in out and "LI4" in out  # the note names them
    assert "midwife or doctor" in out


def test_blood_thinners_say_light_touch_and_ask_a_clinician_first(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    thinners = answers_file(tmp_path, blood_thinners=True)
    assert main(["break", "forward-head-care", "--safety-answers", str(thinners), *FAST]) == 0
    out = flat(capsys.readouterr().out)
    assert "firm" not in out.lower()
    assert "light, gentle touch" in out and "check with your doctor or nurse before using acupressure" in out


def test_stored_answers_are_used(capsys: pytest.CaptureFixture[str], config_dir: Path) -> None:
    save_safety_profile(SafetyProfile(neuro_symptoms=True, answered_at=1.0), config_dir / "safety.json")
    assert main(["break", "walk-and-breathe", *FAST]) == 0
    out = flat(capsys.readouterr().out)
    assert flat(PROFESSIONAL_NOTE) in out and "doctor or physiotherapist" in out
    assert all(flat(flag) in out for flag in CATALOGUE.red_flags)  # what to look out for
    assert "[1/2] Stand up and walk" in out


def test_a_routine_with_nothing_left_names_what_is_offered(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    injured = answers_file(tmp_path, injury_or_surgery=True)
    assert main(["break", "side-bends", "--safety-answers", str(injured), *FAST]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: nothing of 'side-bends' is offered after your safety answers")
    assert err.count("\n") == 1 and "--list" not in err
    assert err.rstrip().endswith("routines you can do: walk-and-breathe, quick-reset, slow-breathing")
    assert "doctor or physiotherapist" in err


def test_without_a_routine_named_the_default_gives_way_to_what_the_answers_allow(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    injured = answers_file(tmp_path, injury_or_surgery=True)
    assert main(["break", "--safety-answers", str(injured), *FAST]) == 0
    out = flat(capsys.readouterr().out)
    assert out.startswith("Slow breathing - 2:00") and "'neck-reset' is not offered" in out


def test_list_before_the_questions_marks_what_asks_first(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["break", "--list"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    for r in CATALOGUE:
        line = next(line for line in lines if line.startswith(r.id + " "))
        assert f"{r.seconds // 60}:{r.seconds % 60:02d}" in line and r.title in line
        following = lines[lines.index(line) + 1]
        assert following.strip() == f"areas: {', '.join(r.areas)}"
    assert "Neck reset ?" in out and "Chin tucks ?" in out and "Walk and breathe ?" not in out
    assert "asks a few safety questions" in out


def test_list_honours_the_answers(capsys: pytest.CaptureFixture[str], tmp_path: Path, config_dir: Path) -> None:
    injured = answers_file(tmp_path, injury_or_surgery=True)
    assert main(["break", "--list", "--safety-answers", str(injured)]) == 0
    out = capsys.readouterr().out
    listed = [line.split()[0] for line in out.splitlines() if line and not line.startswith(" ")
              and line.split()[0] in CATALOGUE.ids()]
    assert listed == ["walk-and-breathe", "quick-reset", "slow-breathing"]
    assert "Not offered after your safety answers: chin-tucks" in out
    assert "doctor or physiotherapist" in flat(out)

    save_safety_profile(SafetyProfile(pregnant=True, answered_at=1.0), config_dir / "safety.json")
    assert main(["break", "--list"]) == 0  # the stored answers, the same way
    out = capsys.readouterr().out
    hands = next(line for line in out.splitlines() if line.startswith("hand-points "))
    assert "3:55" in hands and "Hand points *" in hands  # LI4 (2 x 30 s) left out


def test_unknown_routine_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["break", "nope"]) == 2
    err = capsys.readouterr().err
    assert err == f"error: unknown routine 'nope'; valid: {', '.join(CATALOGUE.ids())}\n"


def test_bad_speed_and_bad_answers_file(capsys: pytest.CaptureFixture[str], config_dir: Path,
                                        tmp_path: Path) -> None:
    assert main(["break", "chin-tucks", "--speed", "0"]) == 2
    assert "--speed" in capsys.readouterr().err
    assert main(["break", "neck-reset", "--safety-answers", str(tmp_path / "none.json")]) == 2
    err = capsys.readouterr().err
    assert "none.json: no current safety answers" in err and err.count("\n") == 1
    config_dir.mkdir()
    (config_dir / "safety.json").write_text("{oops", encoding="utf-8")
    assert main(["break", "neck-reset", *FAST]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "damaged safety answers" in err and "delete the file" in err
    assert main(["break", "--list"]) == 2  # the list too: never a guess over a damaged file


def test_ctrl_c_stops_cleanly(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                              tmp_path: Path) -> None:
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
    assert main(["break", "chin-tucks", "--safety-answers", str(answers_file(tmp_path))]) == 130
    out = capsys.readouterr().out
    assert out.rstrip().endswith("stopped") and "[2/2] Chin tucks" in out and "Done" not in out


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_countdown_updates_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    screen = Terminal()
    monkeypatch.setattr(sys, "stdout", screen)
    assert main(["break", "quick-reset", *FAST]) == 0
    out = screen.getvalue()
    assert "\r  0:10 left in this step, 0:30 in all\x1b[K" in out
    assert "breathe in (1/2)" in out and "\n    breathe" not in out  # cues ride on the live line
    assert "Done (0:30)" in out


class ScriptedKeys(break_cmd.NoKeys):
    """Key presses as a person would make them: one batch per poll, then nothing."""

    interactive = True

    def __init__(self, *batches: list[str]) -> None:
        self.batches = list(batches)

    def poll(self) -> list[str]:
        return self.batches.pop(0) if self.batches else []


def test_h_holds_the_step_longer_and_p_pauses(capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    keys = ScriptedKeys(["h"], [], ["p"], [], [], [], ["p"])
    monkeypatch.setattr(break_cmd, "open_keys", lambda: keys)
    assert main(["break", "quick-reset", *FAST]) == 0
    out = capsys.readouterr().out
    assert "Keys: h = hold this step longer (+30 s), p = pause or resume" in out
    assert "+ 30 s on this step (now 0:40)" in out
    assert out.index("paused - press p to go on") < out.index("going on")
    assert "Done (1:00)" in out  # 30 s routine + 30 s held; the pause is not counted


def test_on_a_terminal_the_questions_are_asked_on_stdout_once_and_stored(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, config_dir: Path) -> None:
    # injury, neck condition, skin: no; blood thinners, pregnant: yes; nerve symptoms: no
    monkeypatch.setattr(sys, "stdin", io.StringIO("maybe\nn\nn\nn\ny\nyes\nno\n"))
    monkeypatch.setattr(break_cmd, "stdin_is_tty", lambda: True)
    assert main(["break", "hand-points", *FAST]) == 0
    captured = capsys.readouterr()
    out = flat(captured.out)
    assert captured.err == ""  # every prompt is on stdout, visible even if stderr is not
    for q in SAFETY_QUESTIONS:
        assert flat(q.text) in out
    assert out.count("[y/n]") == len(SAFETY_QUESTIONS) + 1 and "Please answer y or n." in out
    assert out.index(flat(CATALOGUE.red_flags[0])) < out.index("[y/n]")  # red flags come first
    for sign in CATALOGUE.stop_signs:  # and every stop sign
        assert out.index(flat(sign.text)) < out.index("[y/n]")
    stored = load_safety_profile(config_dir / "safety.json")
    assert stored is not None and stored.blood_thinners and stored.pregnant and not stored.injury_or_surgery
    assert "Thumb web (LI4)" not in out and "Stiff-neck point (Luozhen)" in out  # pregnancy: no LI4
    assert "light, gentle touch" in out and "firm" not in out  # blood thinners

    # Second run: nothing asked.
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main(["break", "hand-points", *FAST]) == 0
    assert "[y/n]" not in capsys.readouterr().out


def test_a_movement_routine_asks_the_questions_too(capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch, config_dir: Path) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\nn\nn\nn\nn\nn\n"))  # a recent injury
    monkeypatch.setattr(break_cmd, "stdin_is_tty", lambda: True)
    assert main(["break", "chin-tucks", *FAST]) == 2  # nothing of it is offered now
    captured = capsys.readouterr()
    assert "[y/n]" in captured.out and "routines you can do: walk-and-breathe" in captured.err
    stored = load_safety_profile(config_dir / "safety.json")
    assert stored is not None and stored.injury_or_surgery


def test_end_of_input_during_questions_leaves_neck_work_out(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, config_dir: Path) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("n\n"))
    monkeypatch.setattr(break_cmd, "stdin_is_tty", lambda: True)
    assert main(["break", "neck-reset", *FAST]) == 0
    out = flat(capsys.readouterr().out)
    assert "were not answered" in out and "GB20" not in out and "Slow turns" not in out
    assert not (config_dir / "safety.json").exists()


# --- every stop sign on every terminal screen, for every answer combination --------------------------

PROFILES: list[SafetyProfile | None] = [None] + [
    SafetyProfile.from_answers(dict(zip([q.key for q in SAFETY_QUESTIONS], bits, strict=True)), 0.0)
    for bits in itertools.product((False, True), repeat=len(SAFETY_QUESTIONS))
]


def test_every_terminal_screen_shows_every_stop_sign_for_every_answer_combination() -> None:
    """The intro lists every stop sign in full; every step repeats all of them on one line, as the
    desktop window's always-visible line does. Rendered by the same code `posture break` uses."""
    line = stop_line(CATALOGUE.stop_signs)
    screens = 0
    for profile in PROFILES:
        offered = filter_catalogue(CATALOGUE, profile)
        for routine in offered:
            intro = io.StringIO()
            break_cmd._print_intro(routine, offered, intro, "", keys=True)
            text = flat(intro.getvalue())
            assert all(flat(sign.text) in text for sign in CATALOGUE.stop_signs), routine.id
            view = break_cmd._View(io.StringIO(), tty=False, stop=stop_line(routine.stop_signs))
            for i, step in enumerate(routine.steps):
                view.out = io.StringIO()
                view.show([StepStarted(i, len(routine.steps), step)])
                block = flat(view.out.getvalue())
                assert flat(line) in block, (routine.id, step.title)
                assert all(sign.short in block for sign in CATALOGUE.stop_signs)
                screens += 1
    assert screens > 65 * 3


def test_terminal_keys_read_single_presses_from_a_real_pty_and_restore_it(monkeypatch: pytest.MonkeyPatch) -> None:
    pty = pytest.importorskip("pty", reason="POSIX terminals only")
    termios = pytest.importorskip("termios", reason="POSIX terminals only")
    import os

    master, slave = pty.openpty()
    try:
        with open(slave, closefd=False) as stdin:
            monkeypatch.setattr(sys, "stdin", stdin)
            before = termios.tcgetattr(slave)
            with break_cmd.TerminalKeys() as keys:
                assert keys.poll() == []  # nothing pressed: no waiting
                os.write(master, b"h")  # one key, no Enter: cbreak mode delivers it at once
                time.sleep(0.05)
                assert keys.poll() == ["h"]
                os.write(master, b"pp")
                time.sleep(0.05)
                assert keys.poll() == ["p", "p"]
            assert termios.tcgetattr(slave) == before  # the terminal is left as it was found
    finally:
        os.close(master)
        os.close(slave)
