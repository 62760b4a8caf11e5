"""Ordinary webcam conditions, as image transforms: what a real room does to a picture that a clean clip
never does.

Each `Condition` maps a frame (BGR uint8) to the frame a worse camera, room or setup would have
delivered. Some apply only after calibration (`after_calibration`): the user calibrated in one setting
and then the light or the camera changed. Every transform is deterministic: its noise is seeded by the
frame's index, so a run can be repeated exactly and a mirrored run sees mirrored noise.

`ConditionSource` wraps any recorded `FrameSource` and applies a condition to every frame it delivers, so
the whole pipeline (presence check, pose, metrics, scoring, nudges) runs on the degraded picture exactly
as it would on a live camera.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from posture.sources import Frame, FrameSource, WrappedSource

Transform = Callable[[np.ndarray, int], np.ndarray]


def _rng(index: int, salt: int) -> np.random.Generator:
    return np.random.default_rng((index * 7919 + salt) & 0xFFFFFFFF)


def _noise(shape: tuple[int, ...], sigma: float, index: int, salt: int) -> np.ndarray:
    return _rng(index, salt).normal(0.0, sigma, shape).astype(np.float32)


def _to_u8(img: np.ndarray) -> np.ndarray:
    return np.clip(img, 0, 255).astype(np.uint8)


def dim_noisy(img: np.ndarray, index: int) -> np.ndarray:
    """An evening desk lamp: a quarter of the light, warmer, gamma-lifted by the camera's auto gain (which
    also amplifies sensor noise), and a little soft from the longer exposure."""
    f = img.astype(np.float32) / 255.0
    f = f * np.array([0.20, 0.24, 0.30], dtype=np.float32)  # BGR: warm lamp, blue weakest
    # Auto gain: the camera brightens the dim picture, noise included, and adds its own read noise.
    f = np.power(np.clip(f, 0, 1), 0.8) * 1.6
    out: np.ndarray = cv2.GaussianBlur(f * 255.0, (0, 0), 0.9)
    return _to_u8(out + _noise(out.shape, 7.0, index, 1))


def daylight(img: np.ndarray, index: int) -> np.ndarray:
    """The clean picture: what the clip shows (the reference condition)."""
    return img


def small_in_frame(img: np.ndarray, index: int, scale: float = 0.45) -> np.ndarray:
    """The user at arm's length on a wide-angle 640x480 laptop camera: the clip's picture shrunk to the
    bottom middle of a bigger frame (the desk still cuts the body off at the bottom), the room around it
    continued from the clip's own edges and out of focus."""
    h, w = img.shape[:2]
    out_w, out_h = 640, 480
    sh = max(16, round(out_h * scale))
    sw = max(16, round(sh * w / h))
    if sw > out_w * 0.6:  # a wide clip: bound its width instead
        sw = round(out_w * 0.6)
        sh = max(16, round(sw * h / w))
    small = cv2.resize(img, (sw, sh), interpolation=cv2.INTER_AREA)
    top = out_h - sh
    left = (out_w - sw) // 2
    canvas = cv2.copyMakeBorder(small, top, 0, left, out_w - sw - left, cv2.BORDER_REPLICATE)
    blurred = cv2.GaussianBlur(canvas, (0, 0), 12)
    inside = np.zeros((out_h, out_w), np.float32)
    inside[top:, left : left + sw] = 1.0
    mask: np.ndarray = cv2.GaussianBlur(inside, (0, 0), 3)[..., None]
    out: np.ndarray = canvas.astype(np.float32) * mask + blurred.astype(np.float32) * (1 - mask)
    return _jpeg(_to_u8(out + _noise(out.shape, 2.5, index, 2)), 80)


def _jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV always encodes a uint8 BGR image
        return img
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


def lowres_jpeg(img: np.ndarray, index: int) -> np.ndarray:
    """A cheap 320 px camera through heavy MJPEG compression (quality 12: blocky, ringing edges)."""
    h, w = img.shape[:2]
    nw = 320
    nh = max(16, round(h * nw / w))
    small = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA)
    small = _to_u8(small.astype(np.float32) + _noise(small.shape, 3.0, index, 3))
    return _jpeg(small, 12)


def mirrored(img: np.ndarray, index: int) -> np.ndarray:
    """Left and right swapped, as many webcams and drivers deliver the picture."""
    return np.ascontiguousarray(img[:, ::-1])


# A pixel of the window region that differs from the empty room by more than this (grey levels, on a
# 2 px-blurred picture, brightest channel) has someone in front of it; fully so at WINDOW_HIDDEN_AT. The
# sample clips' room varies by under 8 levels between frames (H.264), a face against it by 40 and more.
WINDOW_SEEN_UNDER = 12.0
WINDOW_HIDDEN_AT = 32.0


def backlight(img: np.ndarray, index: int, room: np.ndarray | None = None) -> np.ndarray:
    """A bright window behind and beside the user: the camera exposes for the window, the user goes dark
    and flat, the window blows out to white, and glare veils the whole picture.

    `room` is the picture as the run began (the user seated upright, the window region empty): the window
    is behind the user, so where the picture differs from that room (the user has leant in front of the
    window) the user hides it. Without `room` the window is painted wherever it is, which is right only
    while nobody is in front of it."""
    h, w = img.shape[:2]
    f = img.astype(np.float32) * 0.42  # auto exposure metering the bright window
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    # The window: the upper-left part of the room, where a seated user's head and shoulders rarely are.
    win = ((xx < 0.24 * w) & (yy < 0.5 * h)).astype(np.float32)
    if room is not None and room.shape == img.shape:
        win *= 1.0 - _in_front(img, room)
    # Blurred after the user is cut out: the window's light wraps a little around the user's outline.
    win = cv2.GaussianBlur(win, (0, 0), 0.02 * w + 1)[..., None]
    f = f * (1 - win) + 250.0 * win
    glare = 38.0 * np.exp(-((xx / w) ** 2 + (yy / h) ** 2) / 0.35)[..., None]
    f = f * 0.85 + glare + 12.0  # veiling glare lifts the blacks and lowers contrast
    f += _noise(f.shape, 3.5, index, 4)
    return _to_u8(f)


def _in_front(img: np.ndarray, room: np.ndarray) -> np.ndarray:
    """0..1 per pixel: how surely something stands between the camera and the room as first seen."""
    a = cv2.GaussianBlur(img, (0, 0), 2.0).astype(np.int16)
    b = cv2.GaussianBlur(room, (0, 0), 2.0).astype(np.int16)
    diff = np.abs(a - b).max(axis=2).astype(np.float32)
    return np.clip((diff - WINDOW_SEEN_UNDER) / (WINDOW_HIDDEN_AT - WINDOW_SEEN_UNDER), 0.0, 1.0)


def backlight_behind(room: np.ndarray) -> Transform:
    """`backlight` for one run whose picture began as `room`."""
    def transform(img: np.ndarray, index: int) -> np.ndarray:
        return backlight(img, index, room)
    return transform


def _tilt_homography(w: int, h: int, degrees: float) -> np.ndarray:
    """Homography of a camera pitched by `degrees` (positive: pointing further down) about its centre,
    with a 60° horizontal field of view."""
    f = 0.5 * w / np.tan(np.radians(30.0))
    k = np.array([[f, 0, w / 2], [0, f, h / 2], [0, 0, 1]], dtype=np.float64)
    a = np.radians(degrees)
    r = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]], dtype=np.float64)
    return k @ r @ np.linalg.inv(k)


def camera_pitch(img: np.ndarray, index: int, degrees: float) -> np.ndarray:
    """The camera pitched by `degrees` and re-aimed so the user stays where they were in the picture (as
    anyone does after moving a camera): what remains is the perspective change, the picture keystoned."""
    h, w = img.shape[:2]
    hom = _tilt_homography(w, h, degrees)
    centre = hom @ np.array([w / 2, h / 2, 1.0])
    back = np.array([[1, 0, w / 2 - centre[0] / centre[2]], [0, 1, h / 2 - centre[1] / centre[2]], [0, 0, 1]])
    return cv2.warpPerspective(img, back @ hom, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def camera_higher(img: np.ndarray, index: int) -> np.ndarray:
    """The camera was moved up after calibration (monitor raised, laptop on a stand): it now looks down at
    the user, 10° steeper."""
    return camera_pitch(img, index, -10.0)


def camera_lower(img: np.ndarray, index: int) -> np.ndarray:
    """The camera was moved down after calibration (laptop on the lap or desk): it looks up 10°."""
    return camera_pitch(img, index, 10.0)


def motion_blur(img: np.ndarray, index: int) -> np.ndarray:
    """A long exposure in indoor light with the user moving: a linear smear about 3 % of the frame wide,
    in a direction that changes from frame to frame."""
    w = img.shape[1]
    length = max(3, round(0.03 * w)) | 1
    angle = float(_rng(index, 5).uniform(-60.0, 60.0))  # mostly sideways: heads sway more than they bob
    line = np.zeros((length, length), np.float32)
    line[length // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), angle, 1.0)
    kernel: np.ndarray = cv2.warpAffine(line, rot, (length, length))
    kernel = kernel / max(float(kernel.sum()), 1e-6)
    return cv2.filter2D(img, -1, kernel, borderType=cv2.BORDER_REPLICATE)


@dataclass(frozen=True, slots=True)
class Condition:
    """A named picture condition. `before` is applied to frames up to the end of calibration and `after`
    to later ones; most conditions use one transform for both (calibrated in the same conditions)."""

    name: str
    about: str
    before: Transform
    after: Transform
    mirrors: bool = False  # left and right are swapped, so reasons come out mirror-imaged
    # For a condition that depends on the scene the run began in (a window behind the user is hidden
    # wherever the user sits in front of it): makes the transform one run uses, before and after
    # calibration alike, from the run's first picture.
    staged: Callable[[np.ndarray], Transform] | None = None

    def apply(self, img: np.ndarray, index: int, t: float, calibration_end: float) -> np.ndarray:
        fn = self.before if t <= calibration_end else self.after
        return fn(img, index)


def _same(name: str, about: str, fn: Transform, mirrors: bool = False) -> Condition:
    return Condition(name, about, fn, fn, mirrors)


CONDITIONS: tuple[Condition, ...] = (
    _same("daylight", "the clip as it is: good light, user close, clean frames", daylight),
    _same("dim", "an evening lamp: dim, warm, noisy, a little soft", dim_noisy),
    Condition("light_to_dim", "calibrated in daylight, then used under the evening lamp", daylight, dim_noisy),
    Condition("light_to_bright", "calibrated under the evening lamp, then used in daylight", dim_noisy, daylight),
    _same("small", "the user small in a 640x480 frame (laptop at arm's length, wide-angle camera)", small_in_frame),
    _same("lowres_jpeg", "a cheap 320 px camera through heavy MJPEG compression", lowres_jpeg),
    _same("mirrored", "the picture mirrored left-right", mirrored, mirrors=True),
    Condition("backlight", "a bright window behind the user: dark, flat, glare", backlight, backlight,
              staged=backlight_behind),
    Condition("camera_higher", "the camera moved up 10° after calibration", daylight, camera_higher),
    Condition("camera_lower", "the camera moved down 10° after calibration", daylight, camera_lower),
    _same("motion_blur", "motion blur from a long indoor exposure", motion_blur),
)
CONDITION_BY_NAME = {c.name: c for c in CONDITIONS}


def conditions_named(names: Sequence[str] | None) -> list[Condition]:
    """The conditions to run, in table order; raises KeyError naming the first unknown name."""
    if not names:
        return list(CONDITIONS)
    out = []
    for n in names:
        if n not in CONDITION_BY_NAME:
            raise KeyError(n)
        out.append(CONDITION_BY_NAME[n])
    return out


class ConditionSource(WrappedSource):
    """A recorded source seen through a condition: same timeline, degraded pictures."""

    def __init__(self, inner: FrameSource, condition: Condition, calibration_end: float) -> None:
        super().__init__(inner)
        self.condition = condition
        self.calibration_end = calibration_end
        self.name = f"{inner.name} [{condition.name}]"
        self._staged: Transform | None = None

    def read(self) -> Frame | None:
        frame = self.inner.read()
        if frame is None:
            return None
        if self.condition.staged is not None:
            if self._staged is None:
                self._staged = self.condition.staged(frame.image)
            return Frame(self._staged(frame.image, frame.index), frame.t, frame.index)
        image = self.condition.apply(frame.image, frame.index, frame.t, self.calibration_end)
        return Frame(image, frame.t, frame.index)


class HeldFramesSource(FrameSource):
    """Still pictures held for a while each, as a recorded source at `fps` (real footage that comes as
    photos: a person holding a posture in front of a webcam)."""

    def __init__(self, name: str, frames: Sequence[np.ndarray], hold_s: Sequence[float], fps: float = 2.0) -> None:
        super().__init__()
        if len(frames) != len(hold_s) or not frames:
            raise ValueError("one hold time per frame, and at least one frame")
        self.name = name
        self._fps = fps
        self._timeline: list[int] = []
        for i, s in enumerate(hold_s):
            self._timeline += [i] * max(1, round(s * fps))
        self._frames = list(frames)
        self._index = -1

    @property
    def fps(self) -> float | None:
        return self._fps

    @property
    def duration(self) -> float | None:
        return len(self._timeline) / self._fps

    def open(self) -> None:
        self._index = -1

    def next_time(self) -> float:
        return (self._index + 1) / self._fps

    def read(self) -> Frame | None:
        if self._index + 1 >= len(self._timeline):
            return None
        self._index += 1
        self.frames_decoded += 1
        # Each still is one exposure; a real camera would expose afresh for every frame, so the frame index
        # (which seeds a condition's noise) advances, but the picture underneath is the same.
        return Frame(self._frames[self._timeline[self._index]], self._index / self._fps, self._index)

    def skip(self) -> bool:
        if self._index + 1 >= len(self._timeline):
            return False
        self._index += 1
        self.frames_skipped += 1
        return True

    def close(self) -> None:
        pass
