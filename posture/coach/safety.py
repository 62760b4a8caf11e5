"""The safety screen, and the one function that decides what every step says for every set of answers.

Six yes/no questions are asked once, before the first routine that presses a point, touches the neck
or moves the neck, shoulders or back (`needs_screen`). The answers are kept as a small JSON file at a
path the caller chooses (`default_safety_path()` is the user config dir).

`adapt_routine(routine, profile)` is the only place the answers change a routine; `filter_catalogue`
applies it to every routine. What each "yes" changes:

- recent injury or operation, nerve symptoms, or a known neck-instability, bone or blood-vessel
  condition ("needs a professional"): only breathing, a walk, sitting/desk resets and tips remain, with
  a short note to see a doctor or physiotherapist first. No acupressure, no touching the neck, no neck
  or shoulder movement. After an injury the warm/cool compress tip goes too (heat on a fresh injury is
  against the usual advice). A routine whose movement or pressure steps are all gone is not offered:
  "Neck reset" reduced to three breaths would be a neck reset in name only.
- pregnant: the LI4 and GB21 steps are removed everywhere (the usual advice is to avoid both in
  pregnancy), and the remaining points say to check with a midwife or doctor first.
- wounds or skin problems on the neck, shoulders or upper back: no pressing or stroking there; the hand
  points stay, each reminding you to skip broken or sore skin.
- blood thinners or a clotting problem: the points stay, but every pressure wording becomes "a light
  touch" (never "firm"), with advice to check with a doctor or nurse before using pressure at all.

Every acupressure step also gets its breathing cue here (breathe out as the pressure builds), so no
step can be written without it.

Unanswered (no profile yet) behaves as "not screened": the screened steps are left out, with a note
that answering the questions brings them back. Nothing is unlocked by default. Routines keep what is
left (at least one step) so that the app can still offer them and ask the questions before they run.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from posture.coach.routines import POINTS, PRESSURE_SLOT, Catalogue, Routine, Step, StopSign
from posture.errors import ConfigError
from posture.jsonvalues import JsonObject

PREGNANCY_AVOID: frozenset[str] = frozenset({"LI4", "GB21"})
NECK_POINTS: frozenset[str] = frozenset(code for code, p in POINTS.items() if p.region == "neck")
# Steps the questions must have been answered for: pressing, touching the neck, moving neck/shoulders/back.
SCREENED_TYPES: frozenset[str] = frozenset({"acupressure", "massage", "movement"})
# What a routine is for: when all of these are gone, what is left is not worth offering under its name.
CORE_TYPES: frozenset[str] = frozenset({"acupressure", "movement"})
# Steps that only make sense next to pressing a point.
WITH_PRESSURE_TYPES: frozenset[str] = frozenset({"prepare", "massage", "rest"})
# Version 2 added the neck/bone/blood-vessel question; older files are asked again (see load).
SAFETY_FILE_VERSION = 2


@dataclass(frozen=True, slots=True)
class SafetyQuestion:
    key: str  # the SafetyProfile field it answers
    text: str
    if_yes: str  # what changes when the answer is yes, shown after answering


SEE_A_PROFESSIONAL = "Please see a doctor or physiotherapist before trying neck exercises or acupressure."

SAFETY_QUESTIONS: tuple[SafetyQuestion, ...] = (
    SafetyQuestion(
        "injury_or_surgery",
        "Have you had an injury or an operation recently, especially to the head, neck, shoulders or back?",
        "Breaks keep to breathing, a short walk and desk resets: no acupressure, no neck or shoulder "
        "exercises, and no heat on the injury. " + SEE_A_PROFESSIONAL,
    ),
    SafetyQuestion(
        "neck_condition",
        "Has a doctor told you that you have an unstable neck, a condition that weakens the bones (such "
        "as osteoporosis, inflammatory arthritis or cancer affecting the bones), or a problem with the "
        "blood vessels of the neck?",
        "Breaks keep to breathing, a short walk and desk resets. " + SEE_A_PROFESSIONAL,
    ),
    SafetyQuestion(
        "skin_problems",
        "Is there a wound, rash, skin infection, bruise, swelling or varicose vein on your neck, "
        "shoulders or upper back?",
        "No pressing or stroking on the neck, shoulders or upper back; the hand points stay available.",
    ),
    SafetyQuestion(
        "blood_thinners",
        "Do you take blood thinners, or have a bleeding or clotting problem, or bruise very easily?",
        "Check with your doctor or nurse before using acupressure. The points stay, with a light touch "
        "only.",
    ),
    SafetyQuestion(
        "pregnant",
        "Are you pregnant, or might you be?",
        "The thumb-web point (LI4) and the top-of-shoulder point (GB21) are never suggested. Check with "
        "your midwife or doctor before using acupressure.",
    ),
    SafetyQuestion(
        "neuro_symptoms",
        "Do you have numbness, tingling, weakness, dizziness, or changes in your vision, speech or balance?",
        "Breaks keep to breathing, a short walk and desk resets. Please get these symptoms checked by a "
        "doctor.",
    ),
)


@dataclass(frozen=True, slots=True)
class SafetyProfile:
    """The answers to `SAFETY_QUESTIONS` (True = yes) and when they were given (epoch seconds)."""

    injury_or_surgery: bool = False
    neck_condition: bool = False
    skin_problems: bool = False
    blood_thinners: bool = False
    pregnant: bool = False
    neuro_symptoms: bool = False
    answered_at: float = 0.0

    @property
    def needs_professional(self) -> bool:
        return self.injury_or_surgery or self.neuro_symptoms or self.neck_condition

    @classmethod
    def from_answers(cls, answers: dict[str, bool], answered_at: float) -> SafetyProfile:
        missing = [q.key for q in SAFETY_QUESTIONS if q.key not in answers]
        if missing:
            raise ValueError(f"no answer for {', '.join(missing)}")
        return cls(**{q.key: bool(answers[q.key]) for q in SAFETY_QUESTIONS}, answered_at=answered_at)

    def answers(self) -> dict[str, bool]:
        return {q.key: bool(getattr(self, q.key)) for q in SAFETY_QUESTIONS}

    def to_json(self) -> JsonObject:
        return {"version": SAFETY_FILE_VERSION, "answered_at": self.answered_at, "answers": self.answers()}


def default_safety_path() -> Path:
    """`safety.json` in the user config dir (POSTURE_CONFIG_DIR overrides it, as for settings)."""
    override = os.environ.get("POSTURE_CONFIG_DIR")
    if override:
        return Path(override) / "safety.json"
    import platformdirs  # imported here so the rest of the module stays light to import

    return Path(platformdirs.user_config_dir("posture-companion")) / "safety.json"


def load_safety_profile(path: Path) -> SafetyProfile | None:
    """The stored answers, or None if the questions have not been answered yet.

    Answers saved before a question was added (an older `version`) count as not answered, so the
    questions are asked again rather than guessing the new answer. A damaged file raises `ConfigError`
    and is left untouched, so nothing else is lost and the person can look at it; deleting it means the
    questions are asked again.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the safety answers ({exc}); delete the file to answer "
                          "the questions again") from exc
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError(f"expected an object with \"version\": {SAFETY_FILE_VERSION}")
        version = data.get("version")
        if isinstance(version, int) and not isinstance(version, bool) and 1 <= version < SAFETY_FILE_VERSION:
            return None  # written before the current questions: ask again
        if version != SAFETY_FILE_VERSION:
            raise ValueError(f"expected an object with \"version\": {SAFETY_FILE_VERSION}")
        answers = data.get("answers")
        if not isinstance(answers, dict) or not all(isinstance(answers.get(q.key), bool)
                                                    for q in SAFETY_QUESTIONS):
            keys = ", ".join(q.key for q in SAFETY_QUESTIONS)
            raise ValueError(f"'answers' must hold true/false for {keys}")
        answered_at = data.get("answered_at", 0.0)
        if isinstance(answered_at, bool) or not isinstance(answered_at, int | float):
            raise ValueError("'answered_at' must be a number")
        return SafetyProfile.from_answers(answers, float(answered_at))
    except (ValueError, RecursionError) as exc:
        raise ConfigError(f"{path}: damaged safety answers ({exc}); delete the file to answer the "
                          "questions again") from exc


def save_safety_profile(profile: SafetyProfile, path: Path) -> None:
    """Write atomically (temporary file, then rename) so a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".safety-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(profile.to_json(), f, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- what every screen shows ------------------------------------------------------------------------


def stop_line(signs: tuple[StopSign, ...]) -> str:
    """The always-visible reminder: every stop sign, short. The GUI and the terminal both show this."""
    if not signs:
        return "Stop at once if anything hurts or feels wrong."
    shorts = [s.short for s in signs]
    listed = shorts[0] if len(shorts) == 1 else ", ".join(shorts[:-1]) + " or " + shorts[-1]
    return f"Stop at once if you notice {listed}, or anything else that worries you."


def needs_screen(routine: Routine) -> bool:
    """True if the routine has steps the safety questions must be answered for (before it runs)."""
    return any(step.type in SCREENED_TYPES for step in routine.steps)


# --- adapting routines to the answers ---------------------------------------------------------------

NOT_SCREENED_NOTE = ("Acupressure, touching the neck and neck or shoulder exercises are left out until the "
                     "short safety questions are answered; breathing, walking and desk resets are all here.")
PROFESSIONAL_NOTE = ("Because of your answers (a recent injury or operation, a neck, bone or blood-vessel "
                     "condition, or nerve symptoms), breaks keep to breathing, a short walk and desk "
                     "resets. " + SEE_A_PROFESSIONAL)
PREGNANCY_NOTE = ("During pregnancy the thumb-web (LI4) and top-of-shoulder (GB21) points are left out. "
                  "Check with your midwife or doctor before using acupressure.")
SKIN_NOTE = ("Pressing and stroking on the neck, shoulders and upper back are left out because of the skin "
             "there; the hand points are an alternative.")
BLOOD_THINNERS_NOTE = ("Blood thinners or a clotting problem: check with your doctor or nurse before using "
                       "acupressure. If they agree, use a light touch only, and stop if it feels sore or a "
                       "bruise appears.")
PREGNANCY_STEP_NOTE = "Pregnant: check with your midwife or doctor before using acupressure."
SKIN_STEP_NOTE = "Skip this point if the skin there is broken, sore, bruised or swollen."
BLOOD_THINNERS_STEP_NOTE = "Blood thinners: ask your doctor or nurse before pressing; a light touch only."
BLOOD_THINNERS_STROKES_NOTE = "Blood thinners: keep the strokes feather-light, and stop if the skin marks."
BREATHE_WITH_PRESSURE = "Breathe out as the pressure builds, and breathe in while you hold it."
PRESSURE_USUAL = "steady pressure, firm but comfortable and never painful"
PRESSURE_LIGHT = "only a light, gentle touch"


def pressure_words(profile: SafetyProfile | None) -> str:
    """How hard to press, in words that fit `{pressure}` in a step's instructions."""
    return PRESSURE_LIGHT if profile is not None and profile.blood_thinners else PRESSURE_USUAL


def _kept(step: Step, profile: SafetyProfile | None) -> bool:
    """Whether this step may be offered at all, before looking at its neighbours."""
    if profile is None:
        # Not knowing whether there is a fresh injury, leave the warmth tip out as well.
        return step.type not in SCREENED_TYPES and step.type != "heat-cold"
    if profile.needs_professional:
        if step.type in SCREENED_TYPES:
            return False
        return not (step.type == "heat-cold" and profile.injury_or_surgery)
    if profile.pregnant and step.point in PREGNANCY_AVOID:
        return False
    on_sore_skin = step.point in NECK_POINTS or (step.type == "massage" and step.area != "hands")
    return not (profile.skin_problems and on_sore_skin)


def adapt_step(step: Step, profile: SafetyProfile | None) -> Step:
    """The words of one kept step for these answers: pressure wording, breathing cue, notes."""
    if not step.is_acupressure:
        if step.type == "massage" and profile is not None and profile.blood_thinners:
            return replace(step, notes=(*step.notes, BLOOD_THINNERS_STROKES_NOTE))
        return step
    text = step.instructions.replace(PRESSURE_SLOT, pressure_words(profile))
    text = f"{text} {BREATHE_WITH_PRESSURE}"
    notes: list[str] = list(step.notes)
    if profile is not None:
        if profile.blood_thinners:
            notes.append(BLOOD_THINNERS_STEP_NOTE)
        if profile.pregnant:
            notes.append(PREGNANCY_STEP_NOTE)
        if profile.skin_problems:
            notes.append(SKIN_STEP_NOTE)
    return replace(step, instructions=text, notes=tuple(notes))


def _between_pressure(steps: list[Step], i: int) -> bool:
    return any(s.is_acupressure for s in steps[:i]) and any(s.is_acupressure for s in steps[i + 1:])


def routine_notes(routine: Routine, profile: SafetyProfile | None) -> tuple[str, ...]:
    """What the answers mean for this routine, to show before it starts."""
    if profile is None:
        return (NOT_SCREENED_NOTE,) if needs_screen(routine) else ()
    if profile.needs_professional:
        return (PROFESSIONAL_NOTE,)
    notes = []
    if routine.has_acupressure:
        if profile.pregnant:
            notes.append(PREGNANCY_NOTE)
        if profile.skin_problems and any(p in NECK_POINTS for p in routine.points):
            notes.append(SKIN_NOTE)
        if profile.blood_thinners:
            notes.append(BLOOD_THINNERS_NOTE)
    return tuple(notes)


def adapt_routine(routine: Routine, profile: SafetyProfile | None) -> Routine | None:
    """This routine as this person should be offered it, or None if nothing worth offering is left.

    The one place that decides, for every combination of answers, which steps stay and what each says.
    """
    kept = [s for s in routine.steps if _kept(s, profile)]
    if not any(s.is_acupressure for s in kept):
        # Warming the hands, resting between points and the closing strokes belong to the pressing.
        kept = [s for s in kept if s.type not in WITH_PRESSURE_TYPES]
    kept = [s for i, s in enumerate(kept) if s.type != "rest" or _between_pressure(kept, i)]
    if not kept:
        return None
    had_core = any(s.type in CORE_TYPES for s in routine.steps)
    if profile is not None and had_core and not any(s.type in CORE_TYPES for s in kept):
        return None
    steps = tuple(adapt_step(s, profile) for s in kept)
    return replace(routine, steps=steps, notes=routine.notes + routine_notes(routine, profile))


def catalogue_notes(profile: SafetyProfile | None) -> tuple[str, ...]:
    if profile is None:
        return (NOT_SCREENED_NOTE,)
    if profile.needs_professional:
        return (PROFESSIONAL_NOTE,)
    return tuple(note for yes, note in ((profile.pregnant, PREGNANCY_NOTE), (profile.skin_problems, SKIN_NOTE),
                                        (profile.blood_thinners, BLOOD_THINNERS_NOTE)) if yes)


def filter_catalogue(catalogue: Catalogue, profile: SafetyProfile | None) -> Catalogue:
    """The catalogue this person should be offered: every routine through `adapt_routine`."""
    routines = tuple(r for r in (adapt_routine(r, profile) for r in catalogue.routines) if r is not None)
    return catalogue.with_routines(routines, catalogue_notes(profile))
