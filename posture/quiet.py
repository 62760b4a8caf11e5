"""Quiet hours: a daily window (possibly across midnight) in which the app never interrupts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from posture.clock import local_datetime


@dataclass(frozen=True, slots=True)
class QuietHours:
    start: time | None = None
    end: time | None = None

    def active(self, wall: float) -> bool:
        if self.start is None or self.end is None or self.start == self.end:
            return False
        now = local_datetime(wall).time()
        if self.start < self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end  # window wraps past midnight

    @classmethod
    def parse(cls, text: str | None) -> QuietHours:
        """'22:00-07:30' → QuietHours; '' or None → none. Raises ValueError with the reason."""
        if not text:
            return cls()
        try:
            a, b = (part.strip() for part in text.split("-"))
            return cls(time.fromisoformat(a), time.fromisoformat(b))
        except ValueError as exc:
            raise ValueError(f"expected HH:MM-HH:MM, got {text!r}") from exc

    def __str__(self) -> str:
        if self.start is None or self.end is None:
            return ""
        return f"{self.start.strftime('%H:%M')}-{self.end.strftime('%H:%M')}"
