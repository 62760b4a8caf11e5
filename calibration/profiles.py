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
from typing import Any

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


def _slug(name: str) -> str:
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
        return name

    def save(self, name: str, baseline: Baseline, source: str = "") -> Path:
        self.check_name(name)
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
            if p.name == "active.json":
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
        path.unlink()
        if self.active_name() == name:
            (self.root / "active.json").unlink(missing_ok=True)

    def set_active(self, name: str) -> None:
        self.load(name)  # must exist and be readable
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "active.json").write_text(json.dumps({"active": name}) + "\n", encoding="utf-8")

    def active_name(self) -> str | None:
        path = self.root / "active.json"
        try:
            name = json.loads(path.read_text(encoding="utf-8")).get("active")
        except (OSError, ValueError, AttributeError):
            return None
        return name if isinstance(name, str) else None

    def active(self) -> Profile | None:
        name = self.active_name()
        return self.load(name) if name else None


def parse_profile(doc: Any, where: str) -> Profile:
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
