"""User settings: one JSON file in the platform's config dir, validated key by key at load.

A bad value is reported with its key and the default stays in force for that key only; a file that is
not JSON at all is reported and left untouched (we never overwrite what the user wrote), and the app
runs on defaults.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from platformdirs import user_config_dir

from posture.coach.nudges import NudgeSettings
from posture.inputs import special_file
from posture.jsonvalues import JsonObject, finite_number
from posture.quiet import QuietHours

APP = "posture-companion"
SAMPLING_MODES = {
    # name: (fastest Hz, slowest Hz when steady and good)
    "battery": (1.0, 0.2),
    "balanced": (2.0, 0.33),
    "responsive": (4.0, 1.0),
}


def config_dir() -> Path:
    return Path(os.environ.get("POSTURE_CONFIG_DIR") or user_config_dir(APP))


def settings_path() -> Path:
    return config_dir() / "settings.json"


@dataclass(frozen=True)
class Settings:
    sensitivity: str = "medium"
    onset_delay_s: float = 45.0
    cooldown_s: float = 300.0
    daily_nudge_cap: int = 12
    quiet_hours: str = ""
    sampling_mode: str = "balanced"
    camera_index: int = 0
    sound: bool = False
    glow: bool = True
    notifications: bool = True
    pose_model: str = ""
    retention_days: int = 0  # 0 keeps everything
    pause_apps: tuple[str, ...] = ()
    close_camera_between_samples: bool = True
    micro_break_every_min: float = 25.0
    neck_break_every_min: float = 55.0
    breaks_enabled: bool = True
    # Guided breaks with movement steps are watched by the camera (counted and coached) unless this is off.
    watch_breaks: bool = True

    def nudge_settings(self) -> NudgeSettings:
        return NudgeSettings(
            onset_delay_s=self.onset_delay_s,
            cooldown_s=self.cooldown_s,
            daily_cap=self.daily_nudge_cap,
            quiet_hours=QuietHours.parse(self.quiet_hours),
        )

    @property
    def rates(self) -> tuple[float, float]:
        return SAMPLING_MODES[self.sampling_mode]

    def to_json(self) -> JsonObject:
        data: JsonObject = asdict(self)
        data["pause_apps"] = list(self.pause_apps)
        return data


Validator = Callable[[object], object]


def _number(lo: float, hi: float, integer: bool = False) -> Validator:
    def check(v: object) -> object:
        if not finite_number(v):
            raise ValueError(f"expected a number between {lo:g} and {hi:g}")
        assert isinstance(v, int | float)
        if integer and int(v) != v:
            raise ValueError("expected a whole number")
        if not lo <= v <= hi:
            raise ValueError(f"must be between {lo:g} and {hi:g}")
        return int(v) if integer else float(v)

    return check


def _choice(*options: str) -> Validator:
    def check(v: object) -> object:
        if v not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return v

    return check


def _boolean(v: object) -> object:
    if not isinstance(v, bool):
        raise ValueError("expected true or false")
    return v


def _text(v: object) -> object:
    if not isinstance(v, str):
        raise ValueError("expected a string")
    return v


def _quiet(v: object) -> object:
    if not isinstance(v, str):
        raise ValueError("expected a string")
    QuietHours.parse(v)
    return v


def _apps(v: object) -> object:
    if not isinstance(v, list) or not all(isinstance(a, str) and a.strip() for a in v):
        raise ValueError("expected a list of program names")
    return tuple(a.strip() for a in v)


VALIDATORS: dict[str, Validator] = {
    "sensitivity": _choice("low", "medium", "high"),
    "onset_delay_s": _number(0, 600),
    "cooldown_s": _number(30, 7200),
    "daily_nudge_cap": _number(1, 200, integer=True),
    "quiet_hours": _quiet,
    "sampling_mode": _choice(*SAMPLING_MODES),
    "camera_index": _number(0, 99, integer=True),
    "sound": _boolean,
    "glow": _boolean,
    "notifications": _boolean,
    "pose_model": _text,
    "retention_days": _number(0, 36500, integer=True),
    "pause_apps": _apps,
    "close_camera_between_samples": _boolean,
    "micro_break_every_min": _number(10, 120),
    "neck_break_every_min": _number(20, 240),
    "breaks_enabled": _boolean,
    "watch_breaks": _boolean,
}
assert set(VALIDATORS) == {f.name for f in fields(Settings)}


@dataclass
class LoadResult:
    settings: Settings
    problems: list[str] = field(default_factory=list)


# A settings file is a few hundred bytes; anything far larger is not one (and parsing or reporting it
# key by key could take minutes).
MAX_SETTINGS_BYTES = 256 * 1024
# Unknown keys are listed up to this many; the rest are counted in one line.
MAX_UNKNOWN_LISTED = 5


def parse_settings(data: object, source: str = "settings") -> LoadResult:
    if not isinstance(data, dict):
        return LoadResult(Settings(), [f"{source}: expected a JSON object; using defaults"])
    problems: list[str] = []
    values: dict[str, object] = {}
    unknown = [key for key in data if key not in VALIDATORS]
    for key in unknown[:MAX_UNKNOWN_LISTED]:
        problems.append(f"{source}: unknown key {_short(key)} ignored")
    if len(unknown) > MAX_UNKNOWN_LISTED:
        problems.append(f"{source}: {len(unknown) - MAX_UNKNOWN_LISTED} more unknown keys ignored")
    for key, raw in data.items():
        check = VALIDATORS.get(key)
        if check is None:
            continue
        try:
            values[key] = check(raw)
        except ValueError as exc:
            default = getattr(Settings(), key)
            problems.append(f"{source}: '{key}' = {_short(raw)} {exc}; using the default {default!r}")
    return LoadResult(settings_with(Settings(), values), problems)


def settings_with(base: Settings, values: Mapping[str, object]) -> Settings:
    """`base` with validated values (each passed its key's VALIDATORS check, which fixes its type)."""
    return replace(base, **values)  # type: ignore[arg-type]  # types are checked per key at run time


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def load_settings(path: Path | None = None) -> LoadResult:
    """Never raises for bad content: problems come back as one-line messages, defaults fill the gaps."""
    path = path or settings_path()
    if not path.exists():
        return LoadResult(Settings())
    if special_file(path):
        # "unreadable" also keeps `posture settings set` from replacing it.
        return LoadResult(Settings(), [
            f"settings file {path} is unreadable (a pipe or device, not a file); using defaults until you replace it"
        ])
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    if size > MAX_SETTINGS_BYTES:
        return LoadResult(Settings(), [
            f"settings file {path} is unreadable ({size // 1024} KB, far larger than any settings file); "
            "using defaults until you fix or delete it"
        ])
    try:
        # utf-8-sig: editors such as Notepad put a byte-order mark at the start; it is not content.
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        msg = getattr(exc, "msg", None) or type(exc).__name__
        return LoadResult(
            Settings(), [f"settings file {path} is unreadable ({msg}); using defaults until you fix or delete it"]
        )
    return parse_settings(data, str(path))


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write atomically (temp file + rename) so a crash never leaves half a settings file."""
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(settings.to_json(), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path
