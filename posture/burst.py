"""Several looks at a still user in poor light, combined: the landmark-wise median of the latest looks.

In poor light every look of the pose model at a grainy picture is a noisy measurement (the head height of
one held posture read up to 0.06 apart between looks under an evening lamp, about the size of a slouch).
While the picture has not changed, the user has not moved, so the latest looks measure the same posture
and their median is a better measurement than any one of them; one wild look (a landmark thrown onto the
shadow of the collar) is outvoted instead of flipping the state. When the picture changes the history is
dropped, so a real change of posture is seen at the first look after it.

Once the median is settled (`LOOKS` looks at an unchanged picture that each alone would be judged alike)
more looks at the same picture add nothing a real person does: a sensor's grain changes every frame, a
seated user's posture does not. So the fresh looks stop there, and the picture is watched by the motion
gate until it changes. Looks that disagree (a borderline posture in a poor picture) keep coming.
"""

from __future__ import annotations

import numpy as np

from posture.landmarks import Landmark, Pose, WorldLandmark

LOOKS = 3  # a live camera delivers a new look every sample; three are ~3 s at the companion's fastest rate


def median_pose(poses: list[Pose]) -> Pose:
    """Landmark-wise median of looks at the same picture (order-free, and a mirror commutes with it)."""
    if len(poses) == 1:
        return poses[0]
    arr = np.median(np.array([[(p.x, p.y, p.z, p.visibility) for p in pose.landmarks] for pose in poses]), axis=0)
    lms = tuple(Landmark(float(x), float(y), float(z), float(v)) for x, y, z, v in arr)
    world = None
    if all(pose.world is not None for pose in poses):
        w = np.median(np.array([[(p.x, p.y, p.z, p.visibility) for p in pose.world or ()] for pose in poses]), axis=0)
        world = tuple(WorldLandmark(float(x), float(y), float(z), float(v)) for x, y, z, v in w)
    return Pose(lms, world, poses[-1].aspect)


class StillLooks:
    """The latest valid looks at an unchanged picture."""

    def __init__(self, size: int = LOOKS) -> None:
        self.size = size
        self._poses: list[Pose] = []

    def add(self, pose: Pose, still: bool) -> Pose:
        """Record a valid look; `still`: the picture has not changed since the previous look. Returns the
        median of the looks kept."""
        if not still:
            self._poses = []
        self._poses = [*self._poses[-(self.size - 1):], pose]
        return median_pose(self._poses)

    @property
    def poses(self) -> tuple[Pose, ...]:
        return tuple(self._poses)

    @property
    def settled(self) -> bool:
        """The median is made of a full set of looks at an unchanged picture: a further look at the same
        picture would only replace the oldest of them (whether they agree is the judge's to say)."""
        return len(self._poses) >= self.size

    def reset(self) -> None:
        self._poses = []
