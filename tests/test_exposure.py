"""Poor-light exposure (posture/exposure.py): a dim, colour-cast picture is given back the levels and white
balance a camera gives it in good light, metered on the whole frame so that a mirror cannot change them, and
a picture in good light is never touched."""

from __future__ import annotations

import numpy as np
import pytest
from test_poor_light import ROOM

from posture.conditions import CONDITION_BY_NAME
from posture.exposure import auto_levels, levels
from posture.preprocess import prepare_frame

from footage import slouch_frames


@pytest.fixture(scope="module")
def desk() -> np.ndarray:
    """A real webcam picture of a person at a desk (../shared/footage; skipped where it is absent)."""
    import cv2

    up, _ = slouch_frames()
    image = cv2.imread(str(up[0]), cv2.IMREAD_COLOR)
    assert image is not None
    return image


def _lamp(img: np.ndarray) -> np.ndarray:
    """The evening lamp without its grain: a quarter of the light, warm (blue weakest), lifted by auto gain."""
    f = img.astype(np.float32) / 255.0 * np.array([0.20, 0.24, 0.30], dtype=np.float32)
    return np.clip(np.power(f, 0.8) * 1.6 * 255.0, 0, 255).astype(np.uint8)


def _diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.abs(a.astype(np.float32) - b.astype(np.float32))))


def test_levels_give_a_lamp_lit_picture_back_the_daylight_colours(desk: np.ndarray) -> None:
    day, lamp = auto_levels(desk), auto_levels(_lamp(desk))
    # Under the lamp every channel is squeezed into a low, different range (a warm cast); set back from its
    # own histogram, at least three quarters of the difference from the same room in daylight (set back the
    # same way) is gone (the camera's gamma curve, which levels cannot undo, is most of what is left).
    assert _diff(lamp, day) < 0.25 * _diff(_lamp(desk), day)
    # And the cast is gone: the three channels' means are as far apart as in daylight, not more.
    spread = lambda img: float(np.ptp(img.reshape(-1, 3).mean(axis=0)))  # noqa: E731
    assert spread(lamp) < spread(day) + 8


def test_levels_clip_only_the_extreme_percent(desk: np.ndarray) -> None:
    lo, hi = levels(_lamp(desk))
    out = auto_levels(_lamp(desk))
    assert np.all(hi > lo)
    for c in range(3):
        channel = out[..., c]
        assert np.mean(channel == 0) <= 0.02 and np.mean(channel == 255) <= 0.02


def test_a_mirror_cannot_change_the_levels() -> None:
    grainy = CONDITION_BY_NAME["dim"].after(ROOM, 5)
    mirrored = np.ascontiguousarray(grainy[:, ::-1])
    assert np.array_equal(auto_levels(mirrored), auto_levels(grainy)[:, ::-1])
    assert np.array_equal(prepare_frame(mirrored), prepare_frame(grainy)[:, ::-1])


def test_only_a_poor_light_picture_is_rebalanced() -> None:
    assert prepare_frame(ROOM) is ROOM
    for name in ("lowres_jpeg", "motion_blur", "small"):
        shot = CONDITION_BY_NAME[name].after(ROOM, 2)
        lo, hi = levels(prepare_frame(shot))
        assert np.all(lo > 0) or np.all(hi < 255) or shot.shape[0] >= 300, name  # levels left as the camera set them
    for name in ("dim", "backlight"):
        lo, hi = levels(prepare_frame(CONDITION_BY_NAME[name].after(ROOM, 2)))
        assert np.all(lo <= 3) and np.all(hi >= 252), name


def test_balancing_keeps_the_picture_shape_and_type() -> None:
    for shot in (CONDITION_BY_NAME["dim"].after(ROOM, 3), CONDITION_BY_NAME["backlight"].after(ROOM, 3)):
        out = auto_levels(shot)
        assert out.shape == shot.shape and out.dtype == np.uint8
