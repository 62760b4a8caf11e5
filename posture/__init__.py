"""Posture Companion core: sources, pose, metrics, scoring, coaching and history. Never imports Qt."""

__version__ = "0.1.0"
