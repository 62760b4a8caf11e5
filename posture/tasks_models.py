"""Loading a MediaPipe Tasks model from its file, the one way every Tasks model here is loaded.

The pose landmarker (posture/pose_tasks.py), the watching pose (posture/exercise/watch_tasks.py) and the
face detector (posture/exercise/face_tasks.py) each check that the model file is there, ask the native
loggers for errors only, build their options around the file, create the task with standard error muted
(the model's load prints lines no log level silences), and turn mediapipe's errors into one line that
says what to do (`ConfigError`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from posture.errors import ConfigError
from posture.native_logs import native_stderr_muted, quiet_native_logging

REINSTALL = "reinstall posture-companion"

T = TypeVar("T")


def load_task_model(kind: str, path: Path, create: Callable[[object], T], unloadable_hint: str = REINSTALL) -> T:
    """The task `create` builds from mediapipe's `BaseOptions` for the model file `path`.

    `create` imports the task's own classes (an ImportError there is a mediapipe without the Tasks API).
    `kind` names the model for people ("pose", "face"); a missing file is the built-in model gone (a
    user-supplied file is checked by its caller, which knows which setting named it), and a file mediapipe
    cannot load says `unloadable_hint`.
    """
    if not path.is_file():
        raise ConfigError(f"the built-in {kind} model is missing ({path}); {REINSTALL}")
    quiet_native_logging()
    try:
        from mediapipe.tasks.python import BaseOptions

        with native_stderr_muted():
            return create(BaseOptions(model_asset_path=str(path)))
    except ImportError as exc:  # pragma: no cover - depends on the wheel
        raise ConfigError(f"this mediapipe build has no Tasks API ({exc}); {REINSTALL}") from exc
    except (RuntimeError, ValueError) as exc:
        raise ConfigError(f"{kind} model file {path} could not be loaded ({exc}); {unloadable_hint}") from exc
