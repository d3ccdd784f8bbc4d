"""Build static/fonts/star-sign.ttf: one glyph, a gold five-pointed star at U+2B50 (⭐).

The site's CSS puts this font first for the ⭐ code point only (unicode-range), so the sign
of a Star never depends on an emoji font being installed; the text itself stays "⭐".
Run once with fontTools (`pip install fonttools`): python static/fonts/make_star_font.py
"""

from __future__ import annotations

import math
from pathlib import Path

from fontTools.colorLib.builder import buildCOLR, buildCPAL
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen

UPM, ADVANCE = 1000, 1100
TARGET = Path(__file__).resolve().parent / "star-sign.ttf"


def star_points(cx: float, cy: float, outer: float, inner: float) -> list[tuple[int, int]]:
    points = []
    for i in range(10):
        radius = outer if i % 2 == 0 else inner
        angle = math.pi / 2 - i * math.pi / 5  # clockwise from the top point (TrueType outer contours)
        points.append((round(cx + radius * math.cos(angle)), round(cy + radius * math.sin(angle))))
    return points


def glyph(points: list[tuple[int, int]] | None):
    pen = TTGlyphPen(None)
    if points:
        pen.moveTo(points[0])
        for point in points[1:]:
            pen.lineTo(point)
        pen.closePath()
    return pen.glyph()


def build() -> None:
    builder = FontBuilder(UPM, isTTF=True)
    names = [".notdef", "star"]
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({0x2B50: "star"})
    outline = star_points(ADVANCE / 2, 330, 470, 190)
    builder.setupGlyf({".notdef": glyph(None), "star": glyph(outline)})
    builder.setupHorizontalMetrics({".notdef": (ADVANCE, 0), "star": (ADVANCE, 80)})
    builder.setupHorizontalHeader(ascent=880, descent=-220)
    builder.setupNameTable({"familyName": "Star Sign", "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=880, sTypoDescender=-220, usWinAscent=880, usWinDescent=220)
    builder.setupPost()
    # Gold like the emoji; without COLR support the star takes the text colour.
    builder.font["CPAL"] = buildCPAL([[(0.96, 0.70, 0.0, 1.0)]])
    builder.font["COLR"] = buildCOLR({"star": [("star", 0)]})
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    builder.save(str(TARGET))


if __name__ == "__main__":
    build()
    print(TARGET, TARGET.stat().st_size, "bytes")
