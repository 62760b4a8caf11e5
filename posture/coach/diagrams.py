"""Draw the acupressure point diagrams in `posture/data/points/` (one small PNG per point).

Simple line drawings made by the project, so there is no image licence to worry about:

    python -m posture.coach.diagrams            # rewrite the packaged PNGs
    python -m posture.coach.diagrams OUT_DIR    # write them somewhere else

Each picture is a grey outline (the back of the head and shoulders, or the back of a right hand) with
an orange dot on the point (both sides where the point is paired) and the code and name underneath.
Landmarks a description refers to are drawn too, and never covered by a dot: the bump at the back of
the skull (GV16 lies just under it), the C7 bone at the base of the neck (GV14 lies just under it) and
the web of skin between thumb and index finger (LI4 lies in its middle). Where each dot sits and why
is in the README's break coach section; the positions follow `posture-science.md`.
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
LANDMARK = (140, 140, 140)  # a bone the text points to: darker than FAINT so it reads next to a dot
SKIN = (222, 232, 246)  # the thumb web, so the dot visibly sits on skin between the bones
DOT = (20, 110, 235)  # orange
BACKGROUND = (255, 255, 255)
AA = cv2.LINE_AA

Image = np.ndarray
XY = tuple[int, int]


def _canvas() -> Image:
    return np.full((SIZE, SIZE, 3), BACKGROUND, dtype=np.uint8)


DOT_RING = 9  # outer radius of a dot; landmarks are kept further than this from it


def _dot(img: Image, at: XY) -> None:
    cv2.circle(img, at, DOT_RING, DOT, 2, AA)
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
    cv2.circle(img, C7, 4, LANDMARK, -1, AA)
    # The bump at the back of the skull (external occipital protuberance); GV16 lies just under it.
    cv2.ellipse(img, SKULL_BUMP, (9, 4), 0, 180, 360, LANDMARK, 2, AA)


def _label(img: Image, text: str, at: XY) -> None:
    cv2.putText(img, text, at, cv2.FONT_HERSHEY_SIMPLEX, 0.36, LANDMARK, 1, AA)


# The thumb: a rounded finger from the lower palm out to the left, spread so the web shows; the palm
# covers its root.
THUMB_BASE = np.array([88.0, 174.0])
THUMB_TIP = np.array([16.0, 134.0])
INDEX_X = 82  # knuckle centres: index, middle, ring, little
KNUCKLES = (INDEX_X, 107, 132, 155)
KNUCKLE_Y = 112
PALM = np.array([(72, 112), (166, 112), (172, 146), (162, 192), (92, 192), (72, 152)], dtype=np.int32)


def _thumb_edges() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    along = (THUMB_TIP - THUMB_BASE) / np.linalg.norm(THUMB_TIP - THUMB_BASE)
    across = np.array([-along[1], along[0]]) * 11  # points up and right: towards the index finger
    return along, THUMB_BASE + across, THUMB_TIP + across  # the thumb's edge that faces the index


def _on_thumb_edge(x: float) -> np.ndarray:
    _, inner_base, inner_tip = _thumb_edges()
    t = (x - inner_tip[0]) / (inner_base[0] - inner_tip[0])
    return inner_tip + t * (inner_base - inner_tip)


def web_outline() -> np.ndarray:
    """The thumb web as a polygon: its free edge, the index finger's side, the palm, the thumb's edge."""
    _, inner_base, inner_tip = _thumb_edges()
    start = inner_tip + 0.2 * (inner_base - inner_tip)  # where the web leaves the thumb
    end = np.array([INDEX_X - 10.0, KNUCKLE_Y - 22.0])  # where it meets the index finger
    sag = (start + end) / 2 + np.array([7.0, 9.0])  # the free edge dips towards the palm
    free = [(1 - t) ** 2 * start + 2 * (1 - t) * t * sag + t ** 2 * end for t in np.linspace(0, 1, 12)]
    palm_corner = np.array([float(PALM[0][0]), float(PALM[0][1])])
    into_palm = _on_thumb_edge(float(PALM[0][0]))  # where the thumb's edge goes under the palm
    return np.array([*free, palm_corner, into_palm], dtype=np.int32)


def web_centre() -> XY:
    """Middle of the web between the thumb and index bones (the polygon's centroid): where LI4 is drawn."""
    pts = web_outline().astype(float)
    x, y = pts[:, 0], pts[:, 1]
    cross = x * np.roll(y, -1) - np.roll(x, -1) * y
    area = cross.sum() / 2
    cx = ((x + np.roll(x, -1)) * cross).sum() / (6 * area)
    cy = ((y + np.roll(y, -1)) * cross).sum() / (6 * area)
    return round(float(cx)), round(float(cy))


def _back_of_hand(img: Image) -> None:
    """A right hand from the back, fingers up, thumb to the left; the hand bones faint, the web tinted."""
    along, inner_base, inner_tip = _thumb_edges()
    outer_base, outer_tip = 2 * THUMB_BASE - inner_base, 2 * THUMB_TIP - inner_tip
    web = web_outline()
    cv2.fillPoly(img, [web], SKIN, AA)
    angle = float(np.degrees(np.arctan2(along[1], along[0])))
    cv2.ellipse(img, (int(THUMB_TIP[0]), int(THUMB_TIP[1])), (11, 11), angle, -90, 90, INK, 2, AA)
    for a, b in ((inner_base, inner_tip), (outer_base, outer_tip)):
        cv2.line(img, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), INK, 2, AA)
    cv2.fillPoly(img, [PALM], BACKGROUND, AA)
    cv2.polylines(img, [PALM], True, INK, 2, AA)
    cv2.polylines(img, [web[:12]], False, INK, 2, AA)  # the free edge of the web
    lengths = (66, 74, 68, 52)
    for x, length in zip(KNUCKLES, lengths, strict=True):
        cv2.rectangle(img, (x - 10, KNUCKLE_Y - length), (x + 10, KNUCKLE_Y), INK, 2, AA)
        cv2.line(img, (x, KNUCKLE_Y + 4), (x + (122 - x) // 4, 186), FAINT, 1, AA)  # hand bone
    # The thumb's hand bone, faint like the others, so the web reads as the gap between two bones.
    cv2.line(img, (int(THUMB_BASE[0]), int(THUMB_BASE[1])), (int(THUMB_TIP[0] * 0.45 + THUMB_BASE[0] * 0.55),
             int(THUMB_TIP[1] * 0.45 + THUMB_BASE[1] * 0.55)), FAINT, 1, AA)


def _points_on_head(*spots: XY, labels: tuple[tuple[str, XY], ...] = ()) -> Callable[[Image], None]:
    def draw(img: Image) -> None:
        _back_of_head(img)
        for spot in spots:
            _dot(img, spot)
        for text, at in labels:
            _label(img, text, at)

    return draw


def _points_on_hand(spot: XY) -> Callable[[Image], None]:
    def draw(img: Image) -> None:
        _back_of_hand(img)
        _dot(img, spot)

    return draw


C = SIZE // 2
C7: XY = (C, 148)  # the base of the neck, where the shoulders start
SKULL_BUMP: XY = (C, 100)
# code -> (drawing, one-line hint under the name)
DRAWINGS: dict[str, tuple[Callable[[Image], None], str]] = {
    "GB20": (_points_on_head((C - 16, 116), (C + 16, 116)), "hollows under the skull, both sides"),
    "GV16": (_points_on_head((C, 114)), "centre, just under the bump of the skull"),
    "GV14": (_points_on_head((C, 164), labels=(("C7", (C + 8, 146)),)), "centre, just under the C7 bump"),
    "GB21": (_points_on_head((C - 62, 163), (C + 62, 163)), "top of the shoulders, half way out"),
    "EX-UE8": (_points_on_hand((95, 128)), "back of hand, index/middle bones"),
    "TE3": (_points_on_hand((143, 128)), "back of hand, ring/little bones"),
    "LI4": (_points_on_hand(web_centre()), "middle of the thumb-index web"),
    "SI3": (_points_on_hand((168, 128)), "loose fist: little-finger edge"),
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
