"""When the camera is on: a light users can trust.

A camera light that blinks every few seconds alarms people far more than a steady one, and every
open costs a second of warm-up frames that cannot be judged. So, while someone sits at the desk,
the camera stays open (at a low frame rate, one-frame buffer) and each sample takes the newest
frame. It is released, and the light goes off, only:

* while paused, while the screen is locked, while a listed app runs, and on quit (the monitor's
  pause handling does those);
* when nobody has been seen for `AWAY_RELEASE_AFTER_S`; presence is then checked by opening the
  camera at most once every `PRESENCE_CHECK_EVERY_S`, and a check that finds someone keeps it open;
* while a guided break watches through it (`BREAK_RELEASE`): the break's own feed holds the camera,
  at its faster rate, and the monitor takes it back when the break ends;
* in battery mode with `close_camera_between_samples` on, between samples at least
  `BATTERY_RELEASE_MIN_GAP_S` apart.

So a user at the desk sees at most one open per two minutes (in practice one per session).
`CameraLightPolicy` is pure logic on clock times; the live driver asks it after every sample.
"""

from __future__ import annotations

from dataclasses import dataclass

AWAY_RELEASE_AFTER_S = 60.0
PRESENCE_CHECK_EVERY_S = 60.0
BATTERY_RELEASE_MIN_GAP_S = 60.0
# Why the monitor let go of the camera while a guided break uses it (its paused_reason meanwhile).
BREAK_RELEASE = "break"


@dataclass(frozen=True, slots=True)
class LightDecision:
    keep_open: bool
    next_in: float  # seconds until the next sample
    why: str | None = None  # why the camera is released: "away", "battery"


class CameraLightPolicy:
    def __init__(self, away_release_after_s: float = AWAY_RELEASE_AFTER_S,
                 presence_check_every_s: float = PRESENCE_CHECK_EVERY_S,
                 battery_min_gap_s: float = BATTERY_RELEASE_MIN_GAP_S) -> None:
        self.away_release_after_s = away_release_after_s
        self.presence_check_every_s = presence_check_every_s
        self.battery_min_gap_s = battery_min_gap_s
        self._away_since: float | None = None
        self._last_open: float | None = None
        self.released_for: str | None = None  # set while the camera is off by this policy's choice

    def opened(self, now: float) -> None:
        self._last_open = now

    def wait_before_open(self, now: float) -> float:
        """Seconds to wait before the camera may be opened again (0 when it may be opened now).

        Only an away release holds the next open back: the presence check must stay infrequent even
        when something (a command, a resumed pause) wakes the loop early.
        """
        if self.released_for != "away" or self._last_open is None:
            return 0.0
        return max(0.0, self._last_open + self.presence_check_every_s - now)

    def reset(self) -> None:
        """Forget the absence (after a pause the user is looked for afresh, the camera may open at once)."""
        self._away_since = None
        self.released_for = None

    def after_sample(self, now: float, person: bool, interval: float, battery: bool = False,
                     close_between: bool = True, frames_watched: bool = False) -> LightDecision:
        """Keep the camera open until the sample due in `interval` seconds, or release it?"""
        if frames_watched:  # the live view or the wizard shows the picture: it has to be on
            self._away_since = None if person else self._away_since
            self.released_for = None
            return LightDecision(True, interval)
        if person:
            self._away_since = None
            if battery and close_between and interval >= self.battery_min_gap_s:
                self.released_for = "battery"
                return LightDecision(False, interval, "battery")
            self.released_for = None
            return LightDecision(True, interval)
        if self._away_since is None:
            self._away_since = now
        checking = self.released_for == "away"  # this sample came from a presence check
        if checking or now - self._away_since >= self.away_release_after_s:
            self.released_for = "away"
            due = (self._last_open if self._last_open is not None else now) + self.presence_check_every_s
            return LightDecision(False, max(interval, due - now), "away")
        return LightDecision(True, interval)
