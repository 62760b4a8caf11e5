"""The first-use safety screen and the catalogue filter it drives.

Five yes/no questions are asked once, before the first routine with acupressure. The answers are kept
as a small JSON file at a path the caller chooses (`default_safety_path()` is the user config dir).

What each "yes" changes (`filter_catalogue`):

- pregnant: the LI4 and GB21 steps are removed from every routine (the usual advice is to avoid both in
  pregnancy); the other steps stay, and a routine left with no steps disappears.
- recent injury or surgery, or neurological symptoms: no acupressure at all, and no neck or shoulder
  movement either; only breathing, posture resets and tips remain, with advice to see a professional
  first. Gentle movement is fine for most people, but after an injury or operation, or with nerve
  symptoms, even that should be cleared by someone who has examined you; we would rather offer a
  breathing break than guess.
- wounds or skin problems on the neck, shoulders or upper back: no pressing there; hand points stay as
  the alternative, and every remaining point reminds you to skip broken or sore skin.
- blood thinners or a clotting problem: points stay, each with a note to press lightly.

Unanswered (no profile yet) behaves as "not screened": acupressure steps are left out, with a note that
answering the questions brings them back. Nothing is unlocked by default.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from posture.coach.routines import POINTS, Catalogue, Routine, Step
from posture.errors import ConfigError

PREGNANCY_AVOID: frozenset[str] = frozenset({"LI4", "GB21"})
NECK_POINTS: frozenset[str] = frozenset(code for code, p in POINTS.items() if p.region == "neck")
SAFE_WITHOUT_CLEARANCE: frozenset[str] = frozenset({"breathing", "posture", "tip"})
SAFETY_FILE_VERSION = 1


@dataclass(frozen=True, slots=True)
class SafetyQuestion:
    key: str  # the SafetyProfile field it answers
    text: str
    if_yes: str  # what changes when the answer is yes, shown after answering


SAFETY_QUESTIONS: tuple[SafetyQuestion, ...] = (
    SafetyQuestion(
        "injury_or_surgery",
        "Have you had an injury or an operation recently, especially to the head, neck, shoulders or back?",
        "Acupressure and neck exercises are left out; breaks offer breathing and posture resets. "
        "Ask a doctor or physiotherapist which movements suit you.",
    ),
    SafetyQuestion(
        "skin_problems",
        "Is there a wound, rash, skin infection, bruise, swelling or varicose vein on your neck, "
        "shoulders or upper back?",
        "No pressing on the neck, shoulders or upper back; the hand points stay available.",
    ),
    SafetyQuestion(
        "blood_thinners",
        "Do you take blood thinners, or have a bleeding or clotting problem, or bruise very easily?",
        "Acupressure stays, with light pressure only.",
    ),
    SafetyQuestion(
        "pregnant",
        "Are you pregnant, or might you be?",
        "The thumb-web point (LI4) and the top-of-shoulder point (GB21) are never suggested.",
    ),
    SafetyQuestion(
        "neuro_symptoms",
        "Do you have numbness, tingling, weakness, dizziness, or changes in your vision, speech or balance?",
        "Acupressure and neck exercises are left out. Please get these symptoms checked by a doctor.",
    ),
)


@dataclass(frozen=True, slots=True)
class SafetyProfile:
    """The answers to `SAFETY_QUESTIONS` (True = yes) and when they were given (epoch seconds)."""

    injury_or_surgery: bool = False
    skin_problems: bool = False
    blood_thinners: bool = False
    pregnant: bool = False
    neuro_symptoms: bool = False
    answered_at: float = 0.0

    @property
    def needs_professional(self) -> bool:
        return self.injury_or_surgery or self.neuro_symptoms

    @classmethod
    def from_answers(cls, answers: dict[str, bool], answered_at: float) -> SafetyProfile:
        missing = [q.key for q in SAFETY_QUESTIONS if q.key not in answers]
        if missing:
            raise ValueError(f"no answer for {', '.join(missing)}")
        return cls(**{q.key: bool(answers[q.key]) for q in SAFETY_QUESTIONS}, answered_at=answered_at)

    def answers(self) -> dict[str, bool]:
        return {q.key: bool(getattr(self, q.key)) for q in SAFETY_QUESTIONS}

    def to_json(self) -> dict[str, Any]:
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

    A damaged file raises `ConfigError` and is left untouched, so nothing else is lost and the person
    can look at it; deleting it means the questions are asked again.
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
        if not isinstance(data, dict) or data.get("version") != SAFETY_FILE_VERSION:
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


# --- filtering --------------------------------------------------------------------------------------

NOT_SCREENED_NOTE = ("Acupressure steps are left out until the short safety questions are answered; "
                     "the movement and breathing steps are all here.")
PROFESSIONAL_NOTE = ("Because of a recent injury or operation, or nerve symptoms, acupressure and neck "
                     "exercises are left out. Please see a doctor or physiotherapist before trying them; "
                     "breathing and posture resets are still here.")
PREGNANCY_NOTE = "During pregnancy the thumb-web (LI4) and top-of-shoulder (GB21) points are left out."
SKIN_NOTE = ("Points on the neck, shoulders and upper back are left out because of the skin there; the hand "
             "points are an alternative.")
SKIN_STEP_NOTE = "Skip this point if the skin there is broken, sore, bruised or swollen."
GENTLE_NOTE = "Blood thinners or a clotting problem: press lightly, never hard, and stop if it feels sore."


def filter_catalogue(catalogue: Catalogue, profile: SafetyProfile | None) -> Catalogue:
    """The catalogue this person should be offered, with notes explaining what was changed."""
    notes: list[str] = []
    avoid: set[str] = set()
    if profile is None:
        notes.append(NOT_SCREENED_NOTE)
    elif profile.needs_professional:
        notes.append(PROFESSIONAL_NOTE)
    else:
        if profile.pregnant:
            avoid |= PREGNANCY_AVOID
            notes.append(PREGNANCY_NOTE)
        if profile.skin_problems:
            avoid |= NECK_POINTS
            notes.append(SKIN_NOTE)
        if profile.blood_thinners:
            notes.append(GENTLE_NOTE)

    def keep(step: Step) -> bool:
        if profile is None:
            return not step.is_acupressure
        if profile.needs_professional:
            return step.type in SAFE_WITHOUT_CLEARANCE
        return step.point not in avoid

    def annotate(step: Step) -> Step:
        if profile is None or not step.is_acupressure:
            return step
        extra = ((GENTLE_NOTE,) if profile.blood_thinners else ()) + (
            (SKIN_STEP_NOTE,) if profile.skin_problems else ())
        return replace(step, notes=step.notes + extra) if extra else step

    routines: list[Routine] = []
    for routine in catalogue.routines:
        steps = tuple(annotate(s) for s in routine.steps if keep(s))
        if steps:
            routines.append(routine if steps == routine.steps else replace(routine, steps=steps))
    return catalogue.with_routines(tuple(routines), tuple(notes))
