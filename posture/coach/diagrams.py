"""Draw the acupressure point diagrams in `posture/data/points/` (one small PNG per point).

Simple line drawings made by the project, so there is no image licence to worry about:

    python -m posture.coach.diagrams            # rewrite the packaged PNGs
    python -m posture.coach.diagrams OUT_DIR    # write them somewhere else

Each picture is a grey outline (the back of the head and shoulders, or the back of a right hand) with
an orange dot on the point (both sides where the point is paired) and the code and name underneath.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from posture.coach.routines import DATA_DIR, POINTS

SIZE = 200  # the drawing area is SIZE x SIZE
WIDTH = 260  # the picture is wider, for the caption
CAPTION_H = 44
INK = (70, 70, 70)  # BGR
FAINT = (200, 200, 200)
DOT = (20, 110, 235)  # orange
BACKGROUND = (255, 255, 255)
AA = cv2.LINE_AA

Image = np.ndarray
XY = tuple[int, int]


def _canvas() -> Image:
    return np.full((SIZE, SIZE, 3), BACKGROUND, dtype=np.uint8)


def _dot(img: Image, at: XY) -> None:
    cv2.circle(img, at, 9, DOT, 2, AA)
    cv2.circle(img, at, 4, DOT, -1, AA)


def _caption(img: Image, title: str, hint: str) -> None:
    font = cv2.FONT_HERSHEY_SIMPLEX
    for text, y, scale in ((title, SIZE + 16, 0.5), (hint, SIZE + 36, 0.42)):
        while cv2.getTextSize(text, font, scale, 1)[0][0] > WIDTH - 8 and scale > 0.3:
            scale -= 0.02  # shrink a long hint until it fits
        (w, _), _ = cv2.getTextSize(text, font, scale, 1)
        cv2.putText(img, text, ((WIDTH - w) // 2, y), font, scale, INK, 1, AA)


def _back_of_head(img: Image, head_scale: float = 1.0) -> None:
    """Head from behind, neck and the top of the shoulders; the spine's centre line faint."""
    cx = SIZE // 2
    head_c = (cx, int(68 * head_scale + (1 - head_scale) * 40))
    axes = (int(42 * head_scale), int(52 * head_scale))
    cv2.line(img, (cx, head_c[1] + axes[1] - 8), (cx, 196), FAINT, 1, AA)
    cv2.ellipse(img, head_c, axes, 0, 0, 360, INK, 2, AA)
    neck_top = head_c[1] + axes[1] - 10
    for side in (-1, 1):
        x_top = cx + side * int(24 * head_scale)
        cv2.line(img, (x_top, neck_top), (cx + side * 26, 150), INK, 2, AA)
        # Shoulder: a gentle slope from the neck to the shoulder tip, then down the arm.
        pts = np.array([(cx + side * 26, 150), (cx + side * 50, 160), (cx + side * 80, 168),
                        (cx + side * 94, 182), (cx + side * 96, 198)], dtype=np.int32)
        cv2.polylines(img, [pts], False, INK, 2, AA)
    # The knobbly C7 bone where the neck meets the back; GV14 lies just under it.
    cv2.circle(img, (cx, 150), 3, FAINT, -1, AA)


def _back_of_hand(img: Image) -> None:
    """A right hand from the back, fingers up, thumb to the left; the hand bones faint."""
    # Thumb first, as a rounded finger from the lower palm up and out to the left; the palm covers its root.
    base, tip = np.array([74.0, 168.0]), np.array([34.0, 112.0])
    along = (tip - base) / np.linalg.norm(tip - base)
    across = np.array([-along[1], along[0]]) * 11
    side = np.array([base + across, tip + across, tip - across, base - across], dtype=np.int32)
    angle = float(np.degrees(np.arctan2(along[1], along[0])))
    cv2.ellipse(img, (int(tip[0]), int(tip[1])), (11, 11), angle, -90, 90, INK, 2, AA)
    cv2.line(img, tuple(side[0]), tuple(side[1]), INK, 2, AA)
    cv2.line(img, tuple(side[2]), tuple(side[3]), INK, 2, AA)
    palm = np.array([(62, 118), (150, 118), (156, 150), (146, 192), (76, 192), (58, 150)], dtype=np.int32)
    cv2.fillPoly(img, [palm], BACKGROUND, AA)
    cv2.polylines(img, [palm], True, INK, 2, AA)
    knuckles = (72, 98, 124, 146)  # index, middle, ring, little
    lengths = (70, 78, 72, 56)
    for x, length in zip(knuckles, lengths, strict=True):
        cv2.rectangle(img, (x - 10, 118 - length), (x + 10, 118), INK, 2, AA)
        cv2.line(img, (x, 122), (x + (110 - x) // 4, 186), FAINT, 1, AA)  # hand bone


def _points_on_head(*spots: XY) -> Callable[[Image], None]:
    def draw(img: Image) -> None:
        _back_of_head(img)
        for spot in spots:
            _dot(img, spot)

    return draw


def _points_on_hand(spot: XY) -> Callable[[Image], None]:
    def draw(img: Image) -> None:
        _back_of_hand(img)
        _dot(img, spot)

    return draw


C = SIZE // 2
# code -> (drawing, one-line hint under the name)
DRAWINGS: dict[str, tuple[Callable[[Image], None], str]] = {
    "GB20": (_points_on_head((C - 16, 116), (C + 16, 116)), "hollows under the skull, both sides"),
    "GV16": (_points_on_head((C, 114)), "centre, just under the skull"),
    "GV14": (_points_on_head((C, 160)), "centre, just under the neck's bony bump"),
    "GB21": (_points_on_head((C - 62, 163), (C + 62, 163)), "top of the shoulders, half way out"),
    "EX-UE8": (_points_on_hand((86, 134)), "back of hand, index/middle bones"),
    "TE3": (_points_on_hand((136, 134)), "back of hand, ring/little bones"),
    "LI4": (_points_on_hand((60, 126)), "web of thumb and index finger"),
    "SI3": (_points_on_hand((156, 132)), "loose fist: little-finger edge"),
}


def draw(code: str) -> Image:
    drawing, hint = DRAWINGS[code]
    figure = _canvas()
    drawing(figure)
    img = np.full((SIZE + CAPTION_H, WIDTH, 3), BACKGROUND, dtype=np.uint8)
    left = (WIDTH - SIZE) // 2
    img[:SIZE, left:left + SIZE] = figure
    _caption(img, f"{code}  {POINTS[code].name}", hint)
    return img


def write_all(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for code in POINTS:
        path = out_dir / f"{code}.png"
        if not cv2.imwrite(str(path), draw(code), [cv2.IMWRITE_PNG_COMPRESSION, 9]):
            raise OSError(f"could not write {path}")
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    out_dir = Path(args[0]) if args else DATA_DIR / "points"
    for path in write_all(out_dir):
        print(f"{path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
