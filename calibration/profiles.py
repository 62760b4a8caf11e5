"""Named calibration profiles, one per setup (laptop screen, desk monitor, standing desk…).

Each profile is a small versioned JSON file in the user config dir; `active.json` names the one in use.
A corrupt profile is reported by name and never deleted or overwritten behind the user's back.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from posture.baseline import Baseline
from posture.errors import ConfigError
from posture.settings import config_dir

PROFILE_VERSION = 1
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,47}$")


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    baseline: Baseline
    created: float
    source: str = ""


ACTIVE_FILE = "active.json"
# File stems that are not profiles: a profile named so would be saved over the active-profile pointer.
RESERVED_SLUGS = frozenset({"active"})


def _slug(name: str) -> str:
    """The file stem for a name. Names equal up to case and punctuation share it ("Laptop", "laptop",
    "laptop."): that is what most file systems would do anyway, so such names are one profile."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "profile"


class ProfileStore:
    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else config_dir() / "profiles"

    def _path(self, name: str) -> Path:
        return self.root / f"{_slug(name)}.json"

    @staticmethod
    def check_name(name: str) -> str:
        if not NAME_RE.match(name or ""):
            raise ConfigError(
                f"profile name {name!r} is not allowed; use up to 48 letters, digits, spaces, '-', '_' or '.'"
            )
        if _slug(name) in RESERVED_SLUGS:
            raise ConfigError(f"profile name {name!r} is reserved by the app; choose another name")
        return name

    def save(self, name: str, baseline: Baseline, source: str = "") -> Path:
        self.check_name(name)
        existing = self._path(name)
        if existing.exists():
            # Recalibrating a profile keeps its exact name; a different name that maps to the same file
            # ("Laptop" vs "laptop", "Desk." vs "desk") would silently replace someone else's baseline.
            try:
                stored = self._read(existing).name
            except ConfigError:
                # Recalibrating over an unreadable profile: keep the damaged file beside the new one.
                os.replace(existing, existing.with_suffix(f".corrupt-{int(time.time())}"))
                stored = name
            if stored != name:
                raise ConfigError(
                    f"a profile named {stored!r} already exists, and names that differ only in case or "
                    f"punctuation are the same profile; recalibrate {stored!r} or choose another name"
                )
        self.root.mkdir(parents=True, exist_ok=True)
        doc = {
            "version": PROFILE_VERSION,
            "name": name,
            "created": time.time(),
            "source": source,
            "baseline": baseline.to_json(),
        }
        path = self._path(name)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
        return path

    def load(self, name: str) -> Profile:
        path = self._path(name)
        if not path.exists():
            known = ", ".join(self.names()) or "none yet"
            raise ConfigError(f"no profile named {name!r} (known: {known}); run 'posture calibrate --profile {name}'")
        return self._read(path)

    def _read(self, path: Path) -> Profile:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise ConfigError(
                f"profile file {path} is corrupt ({type(exc).__name__}); recalibrate or delete that file"
            ) from exc
        return parse_profile(doc, str(path))

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        out = []
        for p in sorted(self.root.glob("*.json")):
            if p.name == ACTIVE_FILE:
                continue
            try:
                out.append(self._read(p).name)
            except ConfigError:
                out.append(p.stem + " (corrupt)")
        return out

    def delete(self, name: str) -> None:
        path = self._path(name)
        if not path.exists():
            raise ConfigError(f"no profile named {name!r}")
        active = self.active_name()
        path.unlink()
        if active is not None and _slug(active) == _slug(name):
            (self.root / ACTIVE_FILE).unlink(missing_ok=True)

    def set_active(self, name: str) -> str:
        """Make `name` (or a name matching it up to case and punctuation) active; returns the stored name."""
        stored = self.load(name).name  # must exist and be readable
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / ACTIVE_FILE
        tmp = path.with_suffix(".json.tmp")
        # The profile's own spelling, so `profile list` marks the right line whatever was typed.
        tmp.write_text(json.dumps({"active": stored}) + "\n", encoding="utf-8")
        os.replace(tmp, path)
        return stored

    def active_name(self) -> str | None:
        path = self.root / ACTIVE_FILE
        try:
            name = json.loads(path.read_text(encoding="utf-8")).get("active")
        except (OSError, ValueError, AttributeError):
            return None
        if not isinstance(name, str):
            return None
        # Older versions stored the name as typed ("laptop" for "Laptop"): report the profile's own.
        target = self._path(name)
        if target.is_file():
            try:
                return self._read(target).name
            except ConfigError:
                return name
        return name

    def active(self) -> Profile | None:
        name = self.active_name()
        return self.load(name) if name else None


def parse_profile(doc: object, where: str) -> Profile:
    try:
        if not isinstance(doc, dict):
            raise ValueError("expected a JSON object")
        version = doc.get("version")
        if version != PROFILE_VERSION:
            raise ValueError(f"unsupported version {version!r} (this app reads version {PROFILE_VERSION})")
        name = doc["name"]
        if not isinstance(name, str) or not name:
            raise ValueError("missing name")
        baseline = Baseline.from_json(doc["baseline"])
        created = float(doc.get("created", 0.0))
        source = str(doc.get("source", ""))
    except (KeyError, TypeError, ValueError, OverflowError, AttributeError) as exc:
        detail = str(exc)[:80]
        raise ConfigError(f"profile file {where} is invalid ({detail}); recalibrate or delete that file") from exc
    return Profile(name, baseline, created, source)


def calibration_target(source: str | None, profile: str | None, activate: bool) -> tuple[str, bool]:
    """(profile name, make it active?) for `posture calibrate`.

    From a camera: the named profile (or 'default'), made active. From a recording (a file or folder)
    without --profile: a profile named after the recording, left inactive, so a sample clip never
    replaces the person's own calibration.
    """
    recorded = source is not None and not re.fullmatch(r"\d{1,2}", source)
    if profile is not None or not recorded:
        return profile or "default", activate
    stem = re.sub(r"[^A-Za-z0-9 _.-]+", "-", Path(str(source).rstrip("/\\")).stem).strip(" .-_") or "recording"
    return f"clip {stem}"[:48].rstrip(" .-_"), False
