"""Heavy compression: a frame coded in visible 8x8 JPEG blocks is recognised and smoothed before the pose
model; a clean or lightly compressed frame is left as it is."""

from __future__ import annotations

import cv2
import numpy as np

from posture.conditions import lowres_jpeg, mirrored, small_in_frame
from posture.preprocess import HEAVY_BLOCKING, block_artefacts, prepare_frame

from conftest import SAMPLES


def _frame() -> np.ndarray:
    cap = cv2.VideoCapture(str(SAMPLES / "slouch.mp4"))
    try:
        ok, image = cap.read()
    finally:
        cap.release()
    assert ok
    return image


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


def test_block_artefacts_tell_a_heavily_compressed_frame_from_a_clean_one() -> None:
    frame = _frame()
    assert block_artefacts(frame) < 0.5 * HEAVY_BLOCKING
    assert block_artefacts(_jpeg(frame, 80)) < 0.5 * HEAVY_BLOCKING
    assert block_artefacts(small_in_frame(frame, 0)) < 0.5 * HEAVY_BLOCKING
    assert block_artefacts(_jpeg(frame, 12)) > 1.25 * HEAVY_BLOCKING
    assert block_artefacts(lowres_jpeg(frame, 0)) > 1.25 * HEAVY_BLOCKING


def test_a_mirrored_frame_reads_the_same_blocking() -> None:
    """The block grid of a frame whose width is not a multiple of 8 lands elsewhere in its mirror image."""
    frame = _jpeg(_frame()[:, :444], 12)
    assert block_artefacts(mirrored(frame, 0)) == block_artefacts(frame)


def test_prepare_frame_smooths_the_blocks_of_a_heavily_compressed_frame_only() -> None:
    clean = _frame()
    coded = lowres_jpeg(clean, 0)
    assert block_artefacts(prepare_frame(coded)) < 0.5 * block_artefacts(coded)
    light = _jpeg(cv2.resize(clean, (256, 256), interpolation=cv2.INTER_AREA), 80)
    assert prepare_frame(light) is light  # a small, lightly compressed frame reaches the model untouched
