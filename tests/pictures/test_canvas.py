"""The Pillow canvas: inches with y up, shapes and text where asked, a faithful record, a PNG."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from handlers.pictures import style
from handlers.pictures.canvas import Canvas, _dashes
from tests.pictures.support import decode


class _Picture:
    """The canvas's PNG decoded, read pixel by pixel as RGB tuples."""

    def __init__(self, canvas: Canvas) -> None:
        self.image = Image.open(io.BytesIO(canvas.png())).convert("RGB")

    def getpixel(self, xy: tuple[int, int]) -> tuple[int, int, int]:
        red, green, blue = self.image.getpixel(xy)  # type: ignore[misc]
        return red, green, blue

    def crop(self, box: tuple[int, int, int, int]) -> Image.Image:
        return self.image.crop(box)


def _pixels(canvas: Canvas) -> _Picture:
    return _Picture(canvas)


def test_the_png_has_the_size_in_inches_times_dpi_and_decodes() -> None:
    canvas = Canvas(3.0, 2.0, dpi=100)
    canvas.rect(0.5, 0.5, 1.0, 1.0, fill="#9be0ad")
    assert decode(canvas.png()) == (300, 200)


def test_y_grows_upwards_and_a_rectangle_fills_where_it_is_placed() -> None:
    canvas = Canvas(2.0, 2.0, dpi=50)
    canvas.rect(0.0, 0.0, 1.0, 0.5, fill="#f5a3a3")  # lower-left quarter strip
    image = _pixels(canvas)
    assert image.getpixel((10, 90)) == (245, 163, 163)  # near the bottom of the picture
    assert image.getpixel((10, 10)) == (255, 255, 255)
    assert canvas.record[0].kind == "rect" and canvas.record[0].box == (0.0, 0.0, 1.0, 0.5)
    assert canvas.record[0].fill == "#f5a3a3"


def test_alpha_blends_with_what_is_below() -> None:
    canvas = Canvas(1.0, 1.0, dpi=40)
    canvas.rect(0.0, 0.0, 1.0, 1.0, fill="#000000", alpha=0.25)
    red, green, blue = _pixels(canvas).getpixel((20, 20))
    assert 185 <= red == green == blue <= 195
    assert canvas.record[0].alpha == 0.25


def test_hatching_draws_edge_coloured_lines_inside_the_box_only() -> None:
    canvas = Canvas(2.0, 2.0, dpi=50)
    canvas.rect(0.5, 0.5, 1.0, 1.0, fill="#eeeeee", edge="#8c959f", hatch=True, dashed=True)
    image = _pixels(canvas)
    inside = {image.getpixel((x, y)) for x in range(30, 70) for y in range(30, 70)}
    assert (238, 238, 238) in inside and len(inside) >= 2  # grey fill crossed by darker lines
    outside = {image.getpixel((x, 5)) for x in range(100)}
    assert outside == {(255, 255, 255)}
    assert canvas.record[0].hatch


def test_text_is_recorded_with_its_measured_box_and_alignment() -> None:
    canvas = Canvas(4.0, 2.0)
    width, height = canvas.measure("Рост выручки", 10)
    box = canvas.text(2.0, 1.0, "Рост выручки", size=10, ha="center", va="center", gid="t")
    assert box == canvas.record[-1].box
    assert abs(box[0] - (2.0 - width / 2)) < 1e-9 and abs(box[2] - box[0] - width) < 1e-9
    assert abs(box[1] - (1.0 - height / 2)) < 1e-9 and abs(box[3] - box[1] - height) < 1e-9
    assert canvas.record[-1].text == "Рост выручки" and canvas.record[-1].gid == "t"
    ink = _pixels(canvas).crop((100, 50, 300, 150)).getcolors(40000) or []
    assert len(ink) > 2  # antialiased dark glyphs were drawn around the anchor


def test_text_drops_glyphs_the_font_lacks() -> None:
    canvas = Canvas(4.0, 1.0)
    canvas.text(0.1, 0.5, "Launch 🚀 now", size=10)
    assert canvas.record[-1].text == "Launch now"
    assert all(ord(ch) in style._charmap() for ch in canvas.record[-1].text)


@settings(max_examples=60, deadline=None)
@given(
    st.text(alphabet="abc дежз WWW ", min_size=0, max_size=80),
    st.floats(0.5, 3.0),
    st.integers(1, 4),
)
def test_fitted_text_never_exceeds_its_width_or_line_count(
    text: str, width: float, lines: int
) -> None:
    canvas = Canvas(4.0, 1.0)
    fitted = canvas.fit(text, width, 9, lines=lines)
    assert fitted.count("\n") < lines
    assert canvas.measure(fitted, 9)[0] <= width + 1e-9
    kept = fitted.replace("\n", "").replace(" ", "").rstrip("…")
    assert kept == "".join(text.split())[: len(kept)]  # the words, in order, from the start


def test_arrows_end_at_their_last_point_and_keep_their_path() -> None:
    canvas = Canvas(2.0, 2.0, dpi=50)
    canvas.arrow([(1.0, 0.2), (1.0, 1.8)], colour="#000000", width=2, head=12, gid="link:a->b")
    image = _pixels(canvas)
    assert image.getpixel((50, 12))[0] < 128  # the head near the top point (y up)
    assert image.getpixel((50, 60))[0] < 128  # the shaft
    drawn = canvas.record[-1]
    assert drawn.kind == "arrow" and drawn.points == ((1.0, 0.2), (1.0, 1.8))
    assert drawn.gid == "link:a->b"


def test_dashes_alternate_along_a_polyline_over_its_corners() -> None:
    pieces = _dashes([(0.0, 0.0), (10.0, 0.0), (10.0, 10.0)], on=3.0, off=2.0)
    assert pieces[0] == [(0.0, 0.0), (3.0, 0.0)]
    assert pieces[1] == [(5.0, 0.0), (8.0, 0.0)]
    assert pieces[2] == [(10.0, 0.0), (10.0, 0.0), (10.0, 3.0)] or pieces[2][-1] == (10.0, 3.0)
    assert all(len(piece) >= 2 for piece in pieces)


def test_lines_and_wedges_are_recorded() -> None:
    canvas = Canvas(2.0, 2.0, dpi=50)
    canvas.line([(0.1, 0.1), (1.0, 1.0), (1.9, 0.1)], colour="#1f6feb", dashed=True)
    canvas.wedge(1.0, 1.0, 0.8, 0, 90, fill="#9be0ad", ring=0.2)
    canvas.wedge(1.0, 1.0, 0.5, 180, 270, fill="#f5a3a3")
    image = _pixels(canvas)
    assert image.getpixel((75, 30)) != (255, 255, 255)  # upper right: the ring
    assert image.getpixel((35, 65)) == (245, 163, 163)  # lower left: the pie slice
    assert [d.kind for d in canvas.record] == ["line", "wedge", "wedge"]
    assert canvas.record[1].box == pytest.approx((0.2, 0.2, 1.8, 1.8))


def test_the_canvas_does_not_import_matplotlib() -> None:
    check = (
        "import sys, handlers.pictures.canvas as c; "
        "x = c.Canvas(1, 1); x.text(0.1, 0.5, 'Рост', size=9); x.png(); "
        "print('matplotlib' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"
