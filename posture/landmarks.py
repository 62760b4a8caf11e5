"""Frozen landmark types, independent of the pose backend that produced them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

import numpy as np


class P(IntEnum):
    """BlazePose landmark indices (the 33-point topology MediaPipe Pose uses)."""

    NOSE = 0
    LEFT_EYE_INNER = 1
    LEFT_EYE = 2
    LEFT_EYE_OUTER = 3
    RIGHT_EYE_INNER = 4
    RIGHT_EYE = 5
    RIGHT_EYE_OUTER = 6
    LEFT_EAR = 7
    RIGHT_EAR = 8
    MOUTH_LEFT = 9
    MOUTH_RIGHT = 10
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_HIP = 23
    RIGHT_HIP = 24


NUM_LANDMARKS = 33

# Pairs drawn as the skeleton in previews (upper body only: a seated user's legs are under the desk).
SKELETON_EDGES: tuple[tuple[int, int], ...] = (
    (P.LEFT_EAR, P.LEFT_EYE), (P.LEFT_EYE, P.NOSE), (P.NOSE, P.RIGHT_EYE), (P.RIGHT_EYE, P.RIGHT_EAR),
    (P.MOUTH_LEFT, P.MOUTH_RIGHT), (P.LEFT_SHOULDER, P.RIGHT_SHOULDER),
    (P.LEFT_SHOULDER, P.LEFT_ELBOW), (P.LEFT_ELBOW, P.LEFT_WRIST),
    (P.RIGHT_SHOULDER, P.RIGHT_ELBOW), (P.RIGHT_ELBOW, P.RIGHT_WRIST),
    (P.LEFT_SHOULDER, P.LEFT_HIP), (P.RIGHT_SHOULDER, P.RIGHT_HIP), (P.LEFT_HIP, P.RIGHT_HIP),
)


@dataclass(frozen=True, slots=True)
class Landmark:
    """One point. x and y are normalised to the image (0..1 inside it); z is relative depth."""

    x: float
    y: float
    z: float
    visibility: float

    def inside(self, margin: float = 0.0) -> bool:
        return -margin <= self.x <= 1.0 + margin and -margin <= self.y <= 1.0 + margin


@dataclass(frozen=True, slots=True)
class WorldLandmark:
    """One point in metres, origin between the hips (MediaPipe world landmarks)."""

    x: float
    y: float
    z: float
    visibility: float


@dataclass(frozen=True, slots=True)
class Pose:
    """One detected person in one frame.

    `aspect` is width / height of the image: normalised x and y have different units, and every angle
    or distance must be measured in a common unit (image heights) to be honest.
    """

    landmarks: tuple[Landmark, ...]
    world: tuple[WorldLandmark, ...] | None
    aspect: float

    def __post_init__(self) -> None:
        if len(self.landmarks) != NUM_LANDMARKS:
            raise ValueError(f"a pose has {NUM_LANDMARKS} landmarks, got {len(self.landmarks)}")
        if not self.aspect > 0:
            raise ValueError("aspect must be positive")

    def __getitem__(self, index: int) -> Landmark:
        return self.landmarks[index]

    def xy(self, index: int) -> np.ndarray:
        """Point in isotropic units: x scaled by the aspect ratio so one unit is one image height."""
        lm = self.landmarks[index]
        return np.array([lm.x * self.aspect, lm.y], dtype=float)

    def transformed(self, fn: Callable[[float, float], tuple[float, float]]) -> Pose:
        """The same pose with every landmark's (x, y) mapped through `fn` (used by property tests)."""
        pts = []
        for lm in self.landmarks:
            x, y = fn(lm.x, lm.y)
            pts.append(Landmark(x, y, lm.z, lm.visibility))
        return Pose(tuple(pts), self.world, self.aspect)


def pose_from_arrays(points: np.ndarray, visibility: np.ndarray | None = None, aspect: float = 1.0) -> Pose:
    """Build a pose from an (33, 2|3) array; handy for synthetic tests and for backends."""
    pts = np.asarray(points, dtype=float)
    if pts.shape[0] != NUM_LANDMARKS or pts.shape[1] not in (2, 3):
        raise ValueError("points must be shaped (33, 2) or (33, 3)")
    vis = np.ones(NUM_LANDMARKS) if visibility is None else np.asarray(visibility, dtype=float)
    z = pts[:, 2] if pts.shape[1] == 3 else np.zeros(NUM_LANDMARKS)
    lms = tuple(Landmark(float(p[0]), float(p[1]), float(zz), float(v)) for p, zz, v in zip(pts, z, vis, strict=True))
    return Pose(lms, None, aspect)
