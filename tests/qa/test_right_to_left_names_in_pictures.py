"""Hebrew and Arabic names are drawn in reading order (and Arabic joined), as chats show them.

The canvas laid every text out left to right in stored order: "מכירות" came out as "תוריכמ"
on the dashboard, and Arabic as reversed, unjoined letters.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont, ImageStat, features

from handlers.pictures import style
from handlers.pictures.canvas import Canvas, font

pytestmark = pytest.mark.skipif(
    not (features.check("raqm") and features.check("fribidi")),
    reason="this Pillow has no right-to-left layout (libraqm with FriBiDi)",
)
SIZE = 14  # points; 100 dpi


def _on_canvas(text: str) -> Image.Image:
    canvas = Canvas(2.0, 0.5, dpi=100)
    canvas.text(0.1, 0.25, text, size=SIZE, va="center")
    return Image.open(io.BytesIO(canvas.png())).convert("L")


def _left_to_right(text: str) -> Image.Image:
    """`text` as the basic layout draws it: the stored order, left to right."""
    image = Image.new("RGB", (200, 50), "white")
    face = ImageFont.truetype(
        style.font_file(bold=False), SIZE * 100 / 72, layout_engine=ImageFont.Layout.BASIC
    )
    ImageDraw.Draw(image).text((10, 25), text, font=face, fill=style.INK, anchor="lm")
    return image.convert("L")


def _difference(first: Image.Image, second: Image.Image) -> float:
    """How unlike two drawings are, forgiving the engines' sub-pixel glyph positions."""
    soft = ImageFilter.GaussianBlur(2)
    return float(
        ImageStat.Stat(ImageChops.difference(first.filter(soft), second.filter(soft))).sum[0]
    )


def test_a_hebrew_name_reads_right_to_left() -> None:
    """Drawn, "מכירות" looks like its letters laid left to right in reverse (Hebrew letters
    do not join), not like the stored order."""
    drawn = _on_canvas("מכירות")
    visual = _left_to_right("".join(reversed("מכירות")))
    stored = _left_to_right("מכירות")
    assert _difference(drawn, visual) * 2 < _difference(drawn, stored)


def test_right_to_left_text_is_shaped_and_latin_keeps_the_fast_layout() -> None:
    canvas = Canvas(2.0, 0.5, dpi=100)
    assert canvas.face_for(SIZE, "مبيعات الشهر").layout_engine == ImageFont.Layout.RAQM
    assert canvas.face_for(SIZE, "Sales 12 $").layout_engine == ImageFont.Layout.BASIC
    assert canvas.face_for(SIZE, "Sales").getlength("Sales") == font(SIZE * 100 / 72).getlength(
        "Sales"
    )
