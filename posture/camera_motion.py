"""Undo a camera that was tilted or nudged since calibration, from the room behind the user.

A camera moved lower (a laptop on the lap) or higher (a monitor raised) and re-aimed at the user keeps the
user where they were in the picture but keystones it: rows near the top are magnified against rows lower
down, so the face grows ~13 % against the shoulders and an upright user reads as a forward head. Nothing
in the pose alone tells that apart from a head that came forward, but the room does: turning a camera
maps the whole background by one homography, while posture moves only the person.

`CameraMotion` keeps a small grey copy of the scene at calibration and, when the background no longer
matches it, finds the homography from the current picture to the calibration's from ORB features outside
the user (RANSAC). Landmarks are mapped through it before the metrics are computed, so posture is measured
as the calibrated camera would have seen it. A failed or implausible fit changes nothing (the picture is
judged as it is); a shift too small to matter is ignored, so a steady camera costs one small difference
check per pose look (~0.3 ms).

The same copy of the room shows someone standing close behind the user (`CameraMotion.crowding`): the pose
model's landmarks are drawn toward a second body beside the head, so such a look counts less
(`crowded_weight`).
"""

from __future__ import annotations

import cv2
import numpy as np

from posture.landmarks import P, Pose
from posture.preprocess import person_box

CHECK_WIDTH = 64  # the cheap "did the background change" copy
# Mean absolute grey difference (0-255) of the background, after removing the mean light change, past which
# the camera may have moved: sensor noise and a light change stay under it; a 2° turn is well over it.
MOVED_AT = 6.0
FIT_WIDTH = 160  # the camera-motion fit works on a copy this wide
PITCHES_DEG = tuple(range(-15, 16))  # candidate pitch changes, whole degrees
# The best candidate must match the calibration's background this much better than the picture as it is.
CLEARLY_BETTER = 0.8


def _pitch(w: int, h: int, degrees: float) -> np.ndarray:
    """Homography of a 60° webcam pitched by `degrees` about its centre, for a w x h picture."""
    f = 0.5 * w / np.tan(np.radians(30.0))
    k = np.array([[f, 0, w / 2], [0, f, h / 2], [0, 0, 1]], dtype=np.float64)
    a = np.radians(degrees)
    r = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]], dtype=np.float64)
    hom: np.ndarray = k @ r @ np.linalg.inv(k)
    return hom


def _reaimed_pitch(w: int, h: int, degrees: float) -> np.ndarray:
    """The pitch, then re-aimed so the picture's centre shows what it showed before (as anyone does after
    moving a camera): the calibration picture -> the picture now."""
    hom = _pitch(w, h, degrees)
    c = hom @ np.array([w / 2, h / 2, 1.0])
    back = np.array([[1, 0, w / 2 - c[0] / c[2]], [0, 1, h / 2 - c[1] / c[2]], [0, 0, 1]])
    out: np.ndarray = back @ hom
    return out


def _grey(image: np.ndarray, width: int) -> np.ndarray:
    h, w = image.shape[:2]
    size = (width, max(8, round(h * width / w)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return small if small.ndim == 2 else cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)


def _background_mask(shape: tuple[int, int], pose: Pose | None) -> np.ndarray:
    """255 on the room, 0 on the user: the head, and the body from just above the shoulders down to the desk.

    Cut to the user's outline rather than a box around head and shoulders: a user close to the camera fills
    the picture's width with their shoulders, and a box around them left no room at all to measure, while
    the wall beside the head (above the shoulders) was there to see."""
    h, w = shape
    mask = np.full((h, w), 255, np.uint8)
    if pose is None:
        return mask
    ls, rs, nose = pose[P.LEFT_SHOULDER], pose[P.RIGHT_SHOULDER], pose[P.NOSE]
    ears = [pose[i] for i in (P.LEFT_EAR, P.RIGHT_EAR)]
    sw = abs(ls.x - rs.x)
    head = abs(ears[0].x - ears[1].x)
    if head < 0.15 * sw or sw <= 1e-6:
        # Turned sideways (or a face the model barely placed): the outline is unknown, mask a generous box.
        box = person_box(pose, margin=0.6)
        if box is not None:
            x0, y0, x1, _ = box
            mask[int(y0 * h):, int(x0 * w):int(np.ceil(x1 * w))] = 0
        return mask
    # The head: the ears' span and half again on each side (hair, a headset), from well above the eyes.
    hx0, hx1 = min(e.x for e in ears) - 0.5 * head, max(e.x for e in ears) + 0.5 * head
    hy0 = nose.y - 1.6 * head * pose.aspect
    # The body: a little beyond the shoulder joints, from a third of a shoulder width above them (the
    # trapezius) down to the desk.
    by0 = min(ls.y, rs.y) - 0.35 * sw * pose.aspect
    bx0, bx1 = min(ls.x, rs.x) - 0.25 * sw, max(ls.x, rs.x) + 0.25 * sw

    def cut(x0: float, y0: float, x1: float) -> None:
        mask[max(0, int(y0 * h)):, max(0, int(x0 * w)):max(0, int(np.ceil(x1 * w)))] = 0

    cut(hx0, hy0, hx1)
    cut(bx0, by0, bx1)
    return mask


# A room pixel beside the head counts as changed past this many standard deviations of the room's grey.
CHANGED_AT = 0.6
# Someone standing close behind the user, their head beside the user's, changed 0.12-0.33 of the band beside
# the head (second_person.mp4), and in those looks every backend read the user's face 11-15 % larger (the
# pose model's landmarks drawn toward the other body: head_forward, raw scores 37-46). The real man's own
# slouches changed up to 0.12 of it (his body moving, the chair behind him showing). From CROWDED_FROM to
# CROWDED_AT a look's weight in the smoothed score falls to CROWDED_WEIGHT: such a look still counts, so a
# posture held while someone stands there still shows, only later.
CROWDED_FROM = 0.15
CROWDED_AT = 0.35
CROWDED_WEIGHT = 0.25


def crowded_weight(crowding: float) -> float:
    """How much a look counts (0..1) given `CameraMotion.crowding`."""
    share = min(1.0, max(0.0, (crowding - CROWDED_FROM) / (CROWDED_AT - CROWDED_FROM)))
    return 1.0 - (1.0 - CROWDED_WEIGHT) * share


def _beside_head(shape: tuple[int, int], pose: Pose) -> np.ndarray:
    """True on a band around the user's head (a head width each side, from above the hair down to the top of
    the shoulders): where someone standing close behind the user shows."""
    h, w = shape
    band = np.zeros((h, w), bool)
    ls, rs, nose = pose[P.LEFT_SHOULDER], pose[P.RIGHT_SHOULDER], pose[P.NOSE]
    ears = [pose[i] for i in (P.LEFT_EAR, P.RIGHT_EAR)]
    head = abs(ears[0].x - ears[1].x)
    sw = abs(ls.x - rs.x)
    if head <= 1e-6:
        return band
    x0, x1 = min(e.x for e in ears) - 1.5 * head, max(e.x for e in ears) + 1.5 * head
    y0 = nose.y - 2.2 * head * pose.aspect
    y1 = min(ls.y, rs.y) - 0.35 * sw * pose.aspect
    band[max(0, int(y0 * h)):max(0, int(np.ceil(y1 * h))), max(0, int(x0 * w)):max(0, int(np.ceil(x1 * w)))] = True
    return band


class CameraMotion:
    """The calibration's background, and the homography taking the current picture back to it."""

    def __init__(self, image: np.ndarray, pose: Pose | None) -> None:
        self.picture = image.copy()  # the calibration's view of the room, to fill what a turn leaves out
        grey = _grey(image, FIT_WIDTH)
        self._size: tuple[int, int] = (grey.shape[0], grey.shape[1])
        self._mask = _background_mask(self._size, pose)
        self._fit = _grey(image, FIT_WIDTH).astype(np.float32)
        self._fit_mask = cv2.resize(self._mask, self._fit.shape[::-1], interpolation=cv2.INTER_NEAREST) > 0
        self._check = _grey(image, CHECK_WIDTH).astype(np.float32)
        self._check_mask = cv2.resize(self._mask, self._check.shape[::-1], interpolation=cv2.INTER_NEAREST) > 0
        self.homography: np.ndarray | None = None  # current picture -> calibration picture, normalised
        self._pitch_deg: int | None = None  # the pitch found last time
        self._held: np.ndarray | None = None  # and its homography (FIT_WIDTH pixels)

    def _moved(self, image: np.ndarray, pose: Pose | None) -> bool:
        now = _grey(image, CHECK_WIDTH).astype(np.float32)
        keep = self._check_mask & (cv2.resize(_background_mask(self._size, pose), now.shape[::-1],
                                              interpolation=cv2.INTER_NEAREST) > 0)
        if keep.sum() < 50:
            return False
        a, b = self._check[keep], now[keep]
        # Normalise brightness and contrast so that a light change alone does not read as a moved camera.
        a = (a - a.mean()) / max(float(a.std()), 1.0)
        b = (b - b.mean()) / max(float(b.std()), 1.0)
        return float(np.mean(np.abs(a - b))) * 40.0 > MOVED_AT

    def update(self, image: np.ndarray, pose: Pose | None) -> np.ndarray | None:
        """Re-estimate from a freshly analysed frame; the homography to use (None: the framing is unchanged).

        The background is sparse behind a seated user (a wall, a chair), too sparse for features, so the
        fit is constrained to what moving a webcam does: a pitch (a 60° webcam, as in posture.metrics)
        and the re-aim that keeps the picture's centre on the same spot. Each candidate pitch is undone
        and the one that best matches the calibration's background wins, if it matches clearly better
        than leaving the picture alone.
        """
        self.homography = None
        if not self._moved(image, pose):
            return None
        now = _grey(image, FIT_WIDTH).astype(np.float32)
        ref = self._fit
        if now.shape != ref.shape:
            return None
        h, w = ref.shape
        keep = self._room_at_fit(pose)
        if keep.sum() < 0.1 * keep.size:
            return None
        def error(hom: np.ndarray) -> float:
            back = cv2.warpPerspective(now, hom, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            a, b = ref[keep], back[keep]
            a = (a - a.mean()) / max(float(a.std()), 1.0)
            b = (b - b.mean()) / max(float(b.std()), 1.0)
            return float(np.mean(np.abs(a - b)))

        best: tuple[float, np.ndarray, int] | None = None
        plain = error(np.eye(3))
        # A camera that turned stays turned: once a pitch is known only its neighbours are tried again
        # (5 warps of a 160 px picture instead of 31), and the full search runs only if none of them fits.
        near = [d for d in PITCHES_DEG if self._pitch_deg is not None and abs(d - self._pitch_deg) <= 2]
        for candidates in (near, PITCHES_DEG):
            for deg in candidates:
                hom = np.linalg.inv(_reaimed_pitch(w, h, float(deg)))
                e = error(hom)
                if best is None or e < best[0]:
                    best = (e, hom, deg)
            if best is not None and best[0] <= CLEARLY_BETTER * plain and best[2] not in (min(near, default=0),
                                                                                        max(near, default=0)):
                break
        if best is None or best[0] > CLEARLY_BETTER * plain:
            # A camera that turned stays turned until the picture says otherwise: someone walking through
            # the room can spoil the fit for a moment, but only a picture that matches the calibration
            # better as it is than through the known turn undoes it.
            held = self._held
            if held is not None and error(held) < plain:
                self.homography = held_norm = self._normalised(held, w, h)
                return held_norm
            self._pitch_deg = self._held = None
            return None
        self._pitch_deg, self._held = best[2], best[1]
        self.homography = self._normalised(best[1], w, h)
        return self.homography

    def _room_at_fit(self, pose: Pose | None) -> np.ndarray:
        """True on the FIT_WIDTH copy where both the calibration and this look show the room."""
        h, w = self._fit.shape
        return self._fit_mask & (cv2.resize(_background_mask(self._size, pose), (w, h),
                                            interpolation=cv2.INTER_NEAREST) > 0)

    def crowding(self, seen: np.ndarray, pose: Pose | None) -> float:
        """Share of the room just beside the user's head that differs from the calibration's (0..1): someone
        standing close behind the user. `seen` is the picture as the pose model saw it (a turn undone)."""
        if pose is None:
            return 0.0
        now = _grey(seen, FIT_WIDTH).astype(np.float32)
        ref = self._fit
        if now.shape != ref.shape:
            return 0.0
        room = self._room_at_fit(pose)
        band = room & _beside_head(self._size, pose)
        if band.sum() < 20 or room.sum() < 50:
            return 0.0
        # The light may have changed since calibration: compare with the room's levels taken out.
        a_mean, a_std = float(ref[room].mean()), max(float(ref[room].std()), 1.0)
        b_mean, b_std = float(now[room].mean()), max(float(now[room].std()), 1.0)
        diff = np.abs((ref[band] - a_mean) / a_std - (now[band] - b_mean) / b_std)
        return float(np.mean(diff > CHANGED_AT))

    @staticmethod
    def _normalised(hom: np.ndarray, w: int, h: int) -> np.ndarray:
        """In normalised picture coordinates (0..1), so it applies whatever the frame's size."""
        scale = np.diag([float(w), float(h), 1.0])
        out: np.ndarray = np.linalg.inv(scale) @ hom @ scale
        return out


def rectify(image: np.ndarray, homography: np.ndarray, fill: np.ndarray | None = None) -> np.ndarray:
    """The picture as the calibrated camera would have taken it (`homography` normalised, from `update`).

    What the turned camera no longer sees (a strip along one edge) is taken from `fill`, the calibration's
    own picture of the room, when it has the same size: smeared edge pixels there moved the pose model's
    landmarks by more than the turn itself."""
    h, w = image.shape[:2]
    scale = np.diag([float(w), float(h), 1.0])
    hom = scale @ homography @ np.linalg.inv(scale)
    out = np.asarray(cv2.warpPerspective(image, hom, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE))
    if fill is not None and fill.shape == image.shape:
        seen = np.asarray(cv2.warpPerspective(np.full((h, w), 255, np.uint8), hom, (w, h), flags=cv2.INTER_NEAREST,
                                              borderMode=cv2.BORDER_CONSTANT, borderValue=(0,)))
        out[seen == 0] = fill[seen == 0]
    return out
