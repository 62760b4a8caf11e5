"""The routine catalogue: short guided breaks built from steps, loaded from `posture/data/routines.json`.

A step lasts either a number of seconds or a number of slow breaths. One breath is paced as 4 s in and
6 s out, so it counts as `SECONDS_PER_BREATH` = 10 s (six breaths a minute, the usual "slow breathing"
pace); a routine's length is the sum of its steps.

The file is checked when it is loaded and every problem is reported as a one-line `ConfigError` naming
the routine, the step and the field, because the file is meant to be edited by people, not only by us.
Stop signs are written once at the top of the file and attached to every routine.

Step text is not final here: an acupressure step says `{pressure}` where the pressure wording goes, and
`posture.coach.safety.adapt_routine` decides that wording (and every other change the safety answers
make) in one place. Nothing should show a routine from this module without passing it through there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from posture.errors import ConfigError

INHALE_S = 4
EXHALE_S = 6
SECONDS_PER_BREATH = INHALE_S + EXHALE_S

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DEFAULT_PATH = DATA_DIR / "routines.json"

KINDS: tuple[str, ...] = ("micro", "neck_care", "hands_only", "breathing")
# What a routine mainly answers: the scheduler matches it to the posture reasons seen since the last break.
FOCI: tuple[str, ...] = ("forward", "sideways", "general")
AREAS: tuple[str, ...] = ("neck", "shoulders", "upper-back", "hands", "head", "breath", "eyes", "posture",
                          "body")
# movement: mobility and stretches of the neck, shoulders or back; acupressure: pressing a point (needs
# `point`); massage: light strokes over the skin; breathing: paced breaths; walk: getting up and walking;
# posture: a sitting or desk reset; rest: a pause between groups of points; prepare: getting ready to
# use the hands (washing, warming); tip: advice to read (water, screen height...); heat-cold: the warm
# or cool compress tip, a type of its own because it is wrong after a fresh injury.
STEP_TYPES: tuple[str, ...] = ("movement", "acupressure", "massage", "breathing", "walk", "posture", "rest",
                               "prepare", "tip", "heat-cold")
# The one placeholder step text may hold; the safety module fills it in (see the module docstring).
PRESSURE_SLOT = "{pressure}"

MAX_STEP_SECONDS = 600
MAX_STEP_BREATHS = 30
MAX_ROUTINE_SECONDS = 15 * 60
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


@dataclass(frozen=True, slots=True)
class Point:
    """An acupressure point: its code, traditional name, where to find it and the diagram showing it."""

    code: str
    name: str
    where: str
    region: str  # "neck" for points on the head, neck and shoulders; "hand" for points on the hand

    @property
    def picture(self) -> Path:
        return DATA_DIR / "points" / f"{self.code}.png"


POINTS: dict[str, Point] = {
    p.code: p
    for p in (
        Point("GB20", "Fengchi",
              "At the bottom edge of the skull, in the soft hollow on each side between the two thick "
              "muscles that run up the back of the neck.", "neck"),
        Point("GV16", "Fengfu",
              "On the centre line at the back of the head, in the dip just under the bony bump of the "
              "skull.", "neck"),
        Point("GV14", "Dazhui",
              "On the centre line at the bottom of the neck, just under the knobbly bone that sticks out "
              "most when you bend your head forward.", "neck"),
        Point("GB21", "Jianjing",
              "On top of the shoulder, half way between the side of the neck and the point of the "
              "shoulder.", "neck"),
        Point("SI3", "Houxi",
              "Curl the hand into a loose fist: on its outer side below the little finger, in the hollow "
              "behind that knuckle where the palm crease stops.", "hand"),
        Point("TE3", "Zhongzhu",
              "On the back of the hand, in the groove between the bones of the ring and little fingers, "
              "a little behind the knuckles.", "hand"),
        Point("LI4", "Hegu",
              "In the middle of the web of skin between the thumb and the index finger, on the back of the "
              "hand.", "hand"),
        Point("EX-UE8", "Luozhen",
              "On the back of the hand, between the bones of the index and middle fingers, a little "
              "behind the knuckles; often called the stiff-neck point.", "hand"),
    )
}


@dataclass(frozen=True, slots=True)
class StopSign:
    """A reason to stop at once: `short` for the always-visible line, `text` for the full list."""

    short: str
    text: str


@dataclass(frozen=True, slots=True)
class Step:
    title: str
    instructions: str
    type: str
    area: str
    seconds: int | None = None
    breaths: int | None = None
    point: str | None = None
    picture: Path | None = None
    notes: tuple[str, ...] = ()  # added by the safety filter, e.g. "press lightly"

    @property
    def duration(self) -> int:
        """Length in seconds; a breath counts as `SECONDS_PER_BREATH`."""
        if self.breaths is not None:
            return self.breaths * SECONDS_PER_BREATH
        return self.seconds or 0

    @property
    def is_acupressure(self) -> bool:
        return self.point is not None


@dataclass(frozen=True, slots=True)
class Routine:
    id: str
    title: str
    kind: str
    focus: str
    summary: str
    steps: tuple[Step, ...]
    stop_signs: tuple[StopSign, ...] = ()
    notes: tuple[str, ...] = ()  # added by the safety filter: what the answers changed and why

    @property
    def seconds(self) -> int:
        return sum(step.duration for step in self.steps)

    @property
    def areas(self) -> tuple[str, ...]:
        """Body areas in the order the routine visits them, each once."""
        return tuple(dict.fromkeys(step.area for step in self.steps))

    @property
    def points(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(step.point for step in self.steps if step.point))

    @property
    def has_acupressure(self) -> bool:
        return any(step.is_acupressure for step in self.steps)


@dataclass(frozen=True, slots=True)
class Catalogue:
    routines: tuple[Routine, ...]
    stop_signs: tuple[StopSign, ...]
    stop_advice: str
    red_flags: tuple[str, ...]
    red_flag_advice: str
    acupressure_note: str
    notes: tuple[str, ...] = field(default=())  # safety-filter messages to show before a routine

    def __iter__(self) -> Iterator[Routine]:
        return iter(self.routines)

    def __len__(self) -> int:
        return len(self.routines)

    def ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.routines)

    def get(self, routine_id: str) -> Routine | None:
        return next((r for r in self.routines if r.id == routine_id), None)

    def of_kind(self, kind: str) -> tuple[Routine, ...]:
        return tuple(r for r in self.routines if r.kind == kind)

    def with_routines(self, routines: tuple[Routine, ...], notes: tuple[str, ...] = ()) -> Catalogue:
        return replace(self, routines=routines, notes=self.notes + notes)


def load_catalogue(path: Path | str | None = None) -> Catalogue:
    """Load and check a routines file; the packaged one by default. Raises `ConfigError`."""
    file = Path(path) if path is not None else DEFAULT_PATH
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{file}: routines file not found; check the path") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read the routines file ({exc})") from exc
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ConfigError(f"{file.name}: not valid JSON ({exc}); fix the file or restore the original"
                          ) from exc
    return parse_catalogue(data, source=file.name, base_dir=file.parent)


def parse_catalogue(data: object, source: str = "routines.json", base_dir: Path | None = None) -> Catalogue:
    """Build a `Catalogue` from parsed JSON, raising a one-line `ConfigError` on the first problem."""
    base = base_dir if base_dir is not None else DATA_DIR
    top = _Where(source)
    obj = _object(data, top, "the file")
    _no_unknown(obj, {"version", "stop_signs", "stop_advice", "red_flags", "red_flag_advice",
                      "acupressure_note", "routines"}, top)
    version = obj.get("version")
    if version != 1:
        raise top.error(f"'version' must be 1, got {_show(version)}")
    stop_signs = _stop_signs(obj, top)
    red_flags = _text_list(obj, "red_flags", top)
    raw_routines = obj.get("routines")
    if not isinstance(raw_routines, list) or not raw_routines:
        raise top.error("'routines' must be a non-empty list")
    routines: list[Routine] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_routines, start=1):
        routine = _routine(raw, i, top, base, stop_signs)
        if routine.id in seen:
            raise top.error(f"routine '{routine.id}' is defined twice; ids must be unique")
        seen.add(routine.id)
        routines.append(routine)
    return Catalogue(
        routines=tuple(routines),
        stop_signs=stop_signs,
        stop_advice=_text(obj, "stop_advice", top),
        red_flags=red_flags,
        red_flag_advice=_text(obj, "red_flag_advice", top),
        acupressure_note=_text(obj, "acupressure_note", top),
    )


# --- checking helpers -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Where:
    """Where in the file a problem is: "routines.json: routine 'x', step 2: <problem>"."""

    source: str
    parts: tuple[str, ...] = ()

    def error(self, problem: str) -> ConfigError:
        where = f"{self.source}: {', '.join(self.parts)}" if self.parts else self.source
        return ConfigError(f"{where}: {problem}")

    def inside(self, more: str) -> _Where:
        return _Where(self.source, (*self.parts, more))


def _show(value: object) -> str:
    text = json.dumps(value) if isinstance(value, str | int | float | bool) or value is None else type(
        value
    ).__name__
    return text if len(text) <= 40 else text[:37] + "..."


def _object(value: object, where: _Where, what: str) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise where.error(f"{what} must be a JSON object, got {_show(value)}")
    return value


def _no_unknown(obj: Mapping[str, object], allowed: set[str], where: _Where) -> None:
    unknown = sorted(str(k) for k in obj if k not in allowed)
    if unknown:
        raise where.error(f"unknown field '{unknown[0]}'; allowed: {', '.join(sorted(allowed))}")


def _text(obj: Mapping[str, object], key: str, where: _Where, required: bool = True) -> str:
    value = obj.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise where.error(f"missing or empty '{key}' (text expected)")
    return value.strip()


def _text_list(obj: Mapping[str, object], key: str, where: _Where) -> tuple[str, ...]:
    value = obj.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise where.error(f"'{key}' must be a non-empty list of text")
    return tuple(v.strip() for v in value)


def _stop_signs(obj: Mapping[str, object], where: _Where) -> tuple[StopSign, ...]:
    value = obj.get("stop_signs")
    if not isinstance(value, list) or not value:
        raise where.error("'stop_signs' must be a non-empty list of {\"short\": ..., \"text\": ...}")
    signs = []
    for n, raw in enumerate(value, start=1):
        sign = _object(raw, where.inside(f"stop sign {n}"), "a stop sign")
        _no_unknown(sign, {"short", "text"}, where.inside(f"stop sign {n}"))
        signs.append(StopSign(_text(sign, "short", where.inside(f"stop sign {n}")),
                              _text(sign, "text", where.inside(f"stop sign {n}"))))
    return tuple(signs)


def _choice(obj: Mapping[str, object], key: str, choices: tuple[str, ...], where: _Where,
            default: str | None = None) -> str:
    value = obj.get(key, default)
    if not isinstance(value, str) or value not in choices:
        raise where.error(f"'{key}' must be one of {', '.join(choices)}, got {_show(value)}")
    return value


def _count(obj: Mapping[str, object], key: str, upper: int, where: _Where) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= upper:
        raise where.error(f"'{key}' must be a whole number from 1 to {upper}, got {_show(value)}")
    return value


def _routine(raw: object, index: int, top: _Where, base: Path, stop_signs: tuple[StopSign, ...]) -> Routine:
    obj = _object(raw, top.inside(f"routine #{index}"), "a routine")
    rid = obj.get("id")
    if not isinstance(rid, str) or not _ID_RE.match(rid):
        raise top.inside(f"routine #{index}").error(
            f"'id' must be lower-case letters, digits and dashes, got {_show(rid)}")
    where = top.inside(f"routine '{rid}'")
    _no_unknown(obj, {"id", "title", "kind", "focus", "summary", "steps"}, where)
    raw_steps = obj.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise where.error("'steps' must be a non-empty list")
    steps = tuple(_step(s, n, where.inside(f"step {n}"), base) for n, s in enumerate(raw_steps, start=1))
    routine = Routine(
        id=rid,
        title=_text(obj, "title", where),
        kind=_choice(obj, "kind", KINDS, where),
        focus=_choice(obj, "focus", FOCI, where, default="general"),
        summary=_text(obj, "summary", where, required=False),
        steps=steps,
        stop_signs=stop_signs,
    )
    if routine.seconds > MAX_ROUTINE_SECONDS:
        raise where.error(f"lasts {routine.seconds} s; a break routine must fit in {MAX_ROUTINE_SECONDS} s")
    return routine


def _step(raw: object, n: int, where: _Where, base: Path) -> Step:
    obj = _object(raw, where, "a step")
    _no_unknown(obj, {"title", "instructions", "type", "area", "seconds", "breaths", "point", "picture"},
                where)
    seconds = _count(obj, "seconds", MAX_STEP_SECONDS, where)
    breaths = _count(obj, "breaths", MAX_STEP_BREATHS, where)
    if seconds is None and breaths is None:
        raise where.error("missing 'seconds' or 'breaths'")
    if seconds is not None and breaths is not None:
        raise where.error("give either 'seconds' or 'breaths', not both")
    step_type = _choice(obj, "type", STEP_TYPES, where)
    point = obj.get("point")
    if point is not None:
        if not isinstance(point, str) or point not in POINTS:
            raise where.error(f"unknown acupressure point {_show(point)}; known: {', '.join(POINTS)}")
        if step_type != "acupressure":
            raise where.error(f"'point' is only for 'acupressure' steps, this one is '{step_type}'")
    elif step_type == "acupressure":
        raise where.error(f"an acupressure step needs a 'point'; known: {', '.join(POINTS)}")
    instructions = _text(obj, "instructions", where)
    _check_wording(instructions, step_type, where)
    picture: Path | None = None
    raw_picture = obj.get("picture")
    if raw_picture is not None:
        if not isinstance(raw_picture, str) or not raw_picture or "\x00" in raw_picture:
            raise where.error(f"'picture' must be a file path, got {_show(raw_picture)}")
        picture = base / raw_picture
        try:
            found = picture.is_file()
        except (OSError, ValueError):
            found = False
        if not found:
            raise where.error(f"picture '{raw_picture}' not found next to the routines file")
    elif point is not None and POINTS[point].picture.is_file():
        picture = POINTS[point].picture
    return Step(
        title=_text(obj, "title", where),
        instructions=instructions,
        type=step_type,
        area=_choice(obj, "area", AREAS, where),
        seconds=seconds,
        breaths=breaths,
        point=point,
        picture=picture,
    )


_PRESSURE_WORDS = re.compile(r"\b(firm|firmly|hard|deep|deeply|strong|strongly)\b", re.IGNORECASE)


def _check_wording(text: str, step_type: str, where: _Where) -> None:
    """How hard to press is decided by the safety answers, so the file must leave it to `{pressure}`."""
    braces = re.findall(r"\{[^{}]*\}|[{}]", text)
    if any(b != PRESSURE_SLOT for b in braces):
        raise where.error(f"'instructions' may only contain the placeholder {PRESSURE_SLOT}")
    if step_type == "acupressure" and PRESSURE_SLOT not in text:
        raise where.error(f"an acupressure step's 'instructions' must say {PRESSURE_SLOT} where the "
                          "pressure wording goes (it depends on the safety answers)")
    if step_type != "acupressure" and PRESSURE_SLOT in text:
        raise where.error(f"{PRESSURE_SLOT} is only for 'acupressure' steps")
    found = _PRESSURE_WORDS.search(text)
    if found:
        raise where.error(f"'instructions' say '{found.group(0)}'; write {PRESSURE_SLOT} instead, the "
                          "safety answers decide how hard to press")


def format_duration(seconds: float) -> str:
    """'3:45' for 225 s; what lists and countdowns show."""
    whole = max(0, round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"
