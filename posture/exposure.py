"""Exposure and colour of a poor-light picture, set back toward what the camera gives in good light.

An evening lamp reaches the camera as a dim, warm, low-contrast picture that the camera's auto gain then
lifts (noise and all). The pose model is not indifferent to that: on the same real frames, a slouch read
about a third shallower under the lamp than in daylight (head height +0.034 of a shoulder width on the
slouched frames, +0.008 on the upright ones), so slouches were missed. Of the lamp's parts, the darkness and
colour cast alone did half of it, the sensor noise alone little; together they compound.

`auto_levels` stretches each colour channel of the whole frame from its darkest to its brightest 1 % — what a
camera's auto white balance and auto levels do in good light. On the same frames it brought the slouched
frames' error from +0.034 to +0.006 and kept the upright ones at +0.010, so a user who calibrated by day is
judged fairly at night and the other way round. It is metered on the whole frame, never on the user: levels
metered on the user (tried last session) moved the landmarks of the user's own picture and broke runs where the
light changed between calibration and use.
"""

from __future__ import annotations

import cv2
import numpy as np

LIGHT_WIDTH = 160  # the light across the picture is measured on a copy this wide
LEVELS_CLIP = 1.0  # per cent of pixels allowed to clip at each end of each channel
LEVELS_ROW_STEP = 4


def levels(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per channel (B, G, R): the grey level mapped to black and the one mapped to white. From each channel's
    histogram over every pixel, so the answer does not depend on where anything is (a mirrored picture gets
    exactly the same levels)."""
    channels = image.shape[2] if image.ndim == 3 else 1
    lo = np.zeros(channels, np.float32)
    hi = np.zeros(channels, np.float32)
    # Every fourth row: a quarter of the work, and a mirror (which swaps columns) still sees the same pixels.
    rows = np.ascontiguousarray(image[::LEVELS_ROW_STEP])
    for c in range(channels):
        hist = cv2.calcHist([rows], [c], None, [256], [0, 256]).ravel()
        cum = np.cumsum(hist) / max(float(hist.sum()), 1.0)
        lo[c] = float(np.searchsorted(cum, LEVELS_CLIP / 100.0))
        hi[c] = float(np.searchsorted(cum, 1.0 - LEVELS_CLIP / 100.0))
    return lo, hi


def auto_levels(image: np.ndarray) -> np.ndarray:
    """Each channel stretched linearly from its darkest to its brightest 1 % (metered on the whole frame)."""
    lo, hi = levels(image)
    span = np.maximum(hi - lo, 1.0)
    ramp = np.arange(256, dtype=np.float32)
    luts = [np.clip((ramp - lo[c]) * 255.0 / span[c], 0, 255).astype(np.uint8) for c in range(len(lo))]
    if image.ndim == 2:
        return cv2.LUT(image, luts[0])
    # One channel at a time: OpenCV's per-channel table on a colour picture is several times slower.
    return cv2.merge([cv2.LUT(channel, lut) for channel, lut in zip(cv2.split(image), luts, strict=True)])


# --- a bright window in the picture -----------------------------------------------------------------
# A user in front of or beside a bright window is dark and flat while the window fills the top of the
# histogram, so whole-frame levels cannot lift them. The light falling across the picture is measured as
# the picture blurred an eighth of its width wide: in ordinary rooms (daylight or lamp, real and sample
# clips) its brightest part is 1.3-1.8 times its median, with the conditions' window 3.6 times. From this
# ratio up the picture counts as backlit.
BACKLIT_RATIO = 2.5
LIGHT_BLUR = 1 / 8  # of the picture's width
GAIN_ONE = 64  # a gain of 1 in `even_light`'s 8-bit gain map (gains up to ~4)


def light_field(image: np.ndarray) -> np.ndarray:
    """The light falling across the picture (a small grey copy blurred an eighth of its width), float32."""
    h, w = image.shape[:2]
    scale = LIGHT_WIDTH / w if w > LIGHT_WIDTH else 1.0
    size = (max(8, round(w * scale)), max(8, round(h * scale)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    grey = (cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small).astype(np.float32)
    blurred: np.ndarray = cv2.GaussianBlur(grey, (0, 0), LIGHT_BLUR * size[0])
    return blurred


def backlit(field: np.ndarray) -> bool:
    return float(field.max()) >= BACKLIT_RATIO * max(float(np.median(field)), 1.0)


def even_light(image: np.ndarray, field: np.ndarray) -> np.ndarray:
    """The picture with half of the uneven light taken out (divided by the square root of the light's ratio
    to its median): the window is toned down and the user brought up, without the halo a full flattening
    draws around the user's outline. On the real footage behind the conditions' window this brought a
    slouch's head-height error from +0.024 to +0.006 of a shoulder width (upright frames +0.001 to +0.003)."""
    h, w = image.shape[:2]
    gain = np.sqrt(max(float(np.median(field)), 1.0) / np.maximum(field, 1.0))
    # As a saturating 8-bit multiply (gain in 64ths), which costs a few milliseconds on a 720p frame where
    # floating point cost tens.
    scaled = np.clip(np.round(gain * GAIN_ONE), 0, 255).astype(np.uint8)
    full = cv2.resize(scaled, (w, h), interpolation=cv2.INTER_LINEAR)
    if image.ndim == 3:
        full = cv2.merge([full] * image.shape[2])
    return cv2.multiply(image, full, scale=1.0 / GAIN_ONE)


def balance_poor_light(image: np.ndarray) -> np.ndarray:
    """A poor-light picture as the pose model should see it: a bright window's light evened out, then the
    levels and white balance set from the whole frame."""
    field = light_field(image)
    if backlit(field):
        image = even_light(image, field)
    return auto_levels(image)
