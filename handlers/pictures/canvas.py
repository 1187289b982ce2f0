"""A small raster canvas on Pillow: the one place pictures are rasterised without matplotlib.

Why: matplotlib costs half a second of CPU to import and lays out and draws text glyph by
glyph in Python; Pillow draws whole strings with FreeType in C and imports in 20 ms, so a
picture drawn here is ready right after start and several times faster.

Units are inches with y growing upwards (the geometry in `layout` is used as is); sizes of
text and lines are in points, as in matplotlib. Shapes are drawn `supersample` times
larger and reduced at the end, which antialiases lines, arrow heads and box edges; texts
are then drawn on the reduced picture (FreeType antialiases them itself, a quarter of the
pixels to render), so a text is always above every shape, as labels should be.

Every call also appends a `Drawn` record (kind, box in inches, fill, text, id…) to
`record`, so tests check what a reader sees: names drawn, one arrow per link, colours,
boxes apart, glyphs present in the font.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageColor, ImageDraw, ImageFont, features

from handlers.pictures import style

Point = tuple[float, float]
Kind = Literal["rect", "text", "line", "arrow", "wedge"]
HAlign = Literal["left", "center", "right"]
VAlign = Literal["top", "center", "bottom"]
DASHES = (3.7, 1.6)  # matplotlib's "--", in line widths
DOTS = (1.0, 1.65)  # matplotlib's ":"
LINE_PITCH = 1.2  # a line of text is 1.2 × its size apart from the next, like matplotlib


@dataclass(frozen=True, slots=True)
class Drawn:
    """One drawn primitive as a test reads it back; `box` is (left, bottom, right, top) in
    inches, `points` the path of a line or an arrow."""

    kind: Kind
    box: tuple[float, float, float, float]
    fill: str | None = None
    edge: str | None = None
    text: str = ""
    gid: str = ""
    points: tuple[Point, ...] = ()
    hatch: bool = False
    alpha: float = 1.0
    bold: bool = False


#: Hebrew, Arabic and the other right-to-left scripts (with their presentation forms).
_RIGHT_TO_LEFT = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")


@functools.cache
def font(size_px: float, *, bold: bool = False, rtl: bool = False) -> ImageFont.FreeTypeFont:
    """DejaVu Sans at a pixel size (cached: loading a face costs about 0.1 ms).

    Text is laid out by the basic engine, the fast one, which puts characters left to right
    in stored order; right-to-left text (`rtl`) by raqm (FriBiDi's order, HarfBuzz's joined
    Arabic) where this Pillow has it, else "מכירות" would be drawn "תוריכמ".
    """
    raqm = rtl and features.check("raqm") and features.check("fribidi")
    engine = ImageFont.Layout.RAQM if raqm else ImageFont.Layout.BASIC
    return ImageFont.truetype(style.font_file(bold=bold), size_px, layout_engine=engine)


@functools.lru_cache(maxsize=8192)
def _length(face: ImageFont.FreeTypeFont, text: str) -> float:
    """A string's advance in pixels, remembered: fitting tries each name word by word, and
    a chat's map shows the same names every time (a fifth of the map's drawing time)."""
    return face.getlength(text)


def _rgba(colour: str, alpha: float) -> tuple[int, int, int, int]:
    red, green, blue = ImageColor.getrgb(colour)[:3]
    return red, green, blue, round(255 * alpha)


class Canvas:
    """An RGB picture `width` × `height` inches at `dpi`, drawn `supersample` times larger."""

    def __init__(
        self,
        width: float,
        height: float,
        *,
        dpi: int = 100,
        supersample: int = 2,
        background: str = "white",
    ) -> None:
        self.width = width
        self.height = height
        self.dpi = dpi
        self.supersample = supersample
        self.scale = dpi * supersample  # pixels of the drawn image per inch
        self.size = (round(width * dpi), round(height * dpi))  # of the PNG
        self.image = Image.new(
            "RGB", (self.size[0] * supersample, self.size[1] * supersample), background
        )
        self._draw = ImageDraw.Draw(self.image, "RGBA")  # RGBA colours blend (alpha)
        self._solid = ImageDraw.Draw(self.image)  # opaque: no per-pixel blending, faster
        self._labels: list[_Label] = []  # drawn on the reduced picture by `final`
        self._final: Image.Image | None = None
        self.record: list[Drawn] = []

    # --- units ---------------------------------------------------------------------------

    def px(self, x: float, y: float) -> tuple[float, float]:
        """Pixel position of the point (x, y) inches, y up."""
        return x * self.scale, (self.height - y) * self.scale

    def pt(self, points: float) -> float:
        """Pixels of a length in points."""
        return points * self.scale / 72

    def _box(
        self, x: float, y: float, w: float, h: float, scale: float = 0.0
    ) -> tuple[float, float, float, float]:
        """Pixel box (left, top, right, bottom) at `scale` pixels an inch (the drawn image's)."""
        scale = scale or self.scale
        return x * scale, (self.height - y - h) * scale, (x + w) * scale, (self.height - y) * scale

    def _pen(self, colour: str, alpha: float) -> tuple[ImageDraw.ImageDraw, tuple[int, ...]]:
        """The drawer and ink for a colour: blending only when translucent."""
        if alpha >= 1:
            return self._solid, ImageColor.getrgb(colour)[:3]
        return self._draw, _rgba(colour, alpha)

    # --- text ----------------------------------------------------------------------------

    def measure(self, text: str, size: float, *, bold: bool = False) -> tuple[float, float]:
        """Width and height in inches of `text` (lines split at newlines) as `text` draws it."""
        face = self.face_for(size, text, bold=bold)
        lines = text.split("\n")
        width = max(_length(face, line) for line in lines) / self.dpi
        return width, self._pitch(size) * len(lines)

    def face_for(self, size: float, text: str, *, bold: bool = False) -> ImageFont.FreeTypeFont:
        """The font at `size` points on the final picture (texts are drawn there), laid out
        for `text`'s direction."""
        return font(size * self.dpi / 72, bold=bold, rtl=bool(_RIGHT_TO_LEFT.search(text)))

    def _pitch(self, size: float) -> float:
        return size * LINE_PITCH / 72

    def fit(
        self, text: str, width: float, size: float, *, bold: bool = False, lines: int = 1
    ) -> str:
        """`text` (made safe) wrapped at spaces to lines no wider than `width` inches, at most
        `lines` of them; a word too long for a line is cut, and what does not fit ends in …"""
        face = self.face_for(size, text, bold=bold)
        room = width * self.dpi
        out: list[str] = []
        words = style.safe(text).split() or [""]
        current = ""
        for word in words:
            candidate = f"{current} {word}" if current else word
            if _length(face, candidate) <= room:
                current = candidate
                continue
            if current:
                out.append(current)
            current = word
            while _length(face, current) > room and len(current) > 1:
                cut = _longest_prefix(face, current, room)
                out.append(current[:cut])
                current = current[cut:]
        out.append(current)
        if len(out) > lines:
            out = out[:lines]
            last = out[-1]
            while last and _length(face, last + "…") > room:
                last = last[:-1]
            out[-1] = last.rstrip() + "…"
        return "\n".join(out)

    def text(
        self,
        x: float,
        y: float,
        text: str,
        *,
        size: float,
        colour: str = style.INK,
        bold: bool = False,
        ha: HAlign = "left",
        va: VAlign = "bottom",
        alpha: float = 1.0,
        plate: bool = False,
        gid: str = "",
    ) -> tuple[float, float, float, float]:
        """Draw `text` (made safe; newlines start lines) anchored at (x, y) and return its box
        (left, bottom, right, top). `plate` puts a white plate behind it (on hatching)."""
        text = style.safe(text)
        face = self.face_for(size, text, bold=bold)
        lines = text.split("\n")
        widths = [_length(face, line) / self.dpi for line in lines]
        width, height = max(widths), self._pitch(size) * len(lines)
        left = x - {"left": 0.0, "center": width / 2, "right": width}[ha]
        bottom = y - {"bottom": 0.0, "center": height / 2, "top": height}[va]
        pad = size * 0.15 / 72
        self._labels.append(
            _Label(
                face,
                _rgba(colour, alpha),
                [
                    (
                        line,
                        (left + {"left": 0.0, "center": (width - w) / 2, "right": width - w}[ha])
                        * self.dpi,
                        (self.height - bottom - height + self._pitch(size) * (i + 0.5)) * self.dpi,
                    )
                    for i, (line, w) in enumerate(zip(lines, widths, strict=True))
                ],
                self._box(left - pad, bottom - pad, width + 2 * pad, height + 2 * pad, self.dpi)
                if plate
                else None,
                pad * self.dpi,
            )
        )
        box = (left, bottom, left + width, bottom + height)
        self.record.append(
            Drawn("text", box, fill=colour, text=text, gid=gid, alpha=alpha, bold=bold)
        )
        return box

    # --- shapes --------------------------------------------------------------------------

    def rect(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        *,
        fill: str | None,
        edge: str | None = None,
        width: float = 1.0,
        radius: float = 0.0,
        hatch: bool = False,
        dashed: bool = False,
        alpha: float = 1.0,
        gid: str = "",
    ) -> None:
        """A rectangle (lower-left corner x, y), optionally rounded (`radius` inches), hatched
        (the "no data" look, in the edge colour) and with a dashed edge."""
        xy = self._box(x, y, w, h)
        corner = radius * self.scale
        if fill is not None:
            pen, ink = self._pen(fill, alpha)
            if corner:
                pen.rounded_rectangle(xy, radius=corner, fill=ink)
            else:
                pen.rectangle(xy, fill=ink)
        if hatch:
            self._hatch(xy, corner, edge or style.MUTED, alpha)
        if edge is not None and width > 0:
            if dashed:
                self._stroke(_rounded_outline(xy, corner), edge, width, alpha, pattern=DASHES)
            else:
                pen, ink = self._pen(edge, alpha)
                pen.rounded_rectangle(
                    xy,
                    radius=corner,
                    outline=ink,
                    width=max(1, round(self.pt(width))),
                )
        self.record.append(
            Drawn(
                "rect",
                (x, y, x + w, y + h),
                fill=fill,
                edge=edge,
                gid=gid,
                hatch=hatch,
                alpha=alpha,
            )
        )

    def _hatch(
        self, xy: tuple[float, float, float, float], corner: float, colour: str, alpha: float
    ) -> None:
        """Diagonal lines ("///") inside the box, clipped to it kept clear of its rounded
        corners (0.3 of the radius: where a corner's arc is furthest in), so none pokes out.

        Clipped by arithmetic rather than through a mask image: masks cost three images and
        a paste per box, a third of the map's drawing time."""
        stroke = max(1, round(self.pt(0.8)))
        inset = 0.3 * corner + stroke
        left, top, right, bottom = xy[0] + inset, xy[1] + inset, xy[2] - inset, xy[3] - inset
        pen, ink = self._draw, _rgba(colour, 0.6 * alpha)
        step = max(2, round(self.pt(6)))
        # a line x + y = c (pixels, y down) runs from lower left to upper right
        for c in range(math.ceil(left + top), math.floor(right + bottom), step):
            x0, x1 = max(left, c - bottom), min(right, c - top)
            if x1 > x0:
                pen.line([(x0, c - x0), (x1, c - x1)], fill=ink, width=stroke)

    def line(
        self,
        points: Sequence[Point],
        *,
        colour: str,
        width: float = 1.0,
        alpha: float = 1.0,
        dashed: bool = False,
        dotted: bool = False,
        gid: str = "",
    ) -> None:
        """A polyline through `points` (inches), `width` in points, round joins; `dotted`
        like matplotlib's ":" (a baseline beside a dashed target)."""
        self._stroke(
            [self.px(x, y) for x, y in points],
            colour,
            width,
            alpha,
            pattern=DOTS if dotted else (DASHES if dashed else None),
        )
        self.record.append(
            Drawn("line", _bounds(points), fill=colour, gid=gid, points=tuple(points), alpha=alpha)
        )

    def arrow(
        self,
        points: Sequence[Point],
        *,
        colour: str,
        width: float = 1.0,
        head: float = 9.0,
        alpha: float = 1.0,
        gid: str = "",
    ) -> None:
        """A polyline ending in a filled triangular head (`head` points long) whose tip is
        the last point: the shaft stops at the head's base so alpha does not double up."""
        pixels = [self.px(x, y) for x, y in points]
        (x0, y0), (x1, y1) = pixels[-2], pixels[-1]
        length = math.hypot(x1 - x0, y1 - y0) or 1.0
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        long, half = self.pt(head) * 0.9, self.pt(head) * 0.35
        base = (x1 - ux * long, y1 - uy * long)
        shaft = [*pixels[:-1], base] if length > long else pixels[:-1]
        if len(shaft) >= 2:
            self._stroke(shaft, colour, width, alpha)
        tip = [
            (x1, y1),
            (base[0] - uy * half, base[1] + ux * half),
            (base[0] + uy * half, base[1] - ux * half),
        ]
        pen, ink = self._pen(colour, alpha)
        pen.polygon(tip, fill=ink)
        self.record.append(
            Drawn(
                "arrow", _bounds(points), fill=colour, gid=gid, points=tuple(points), alpha=alpha
            )
        )

    def wedge(
        self,
        cx: float,
        cy: float,
        radius: float,
        start: float,
        end: float,
        *,
        fill: str,
        ring: float | None = None,
        alpha: float = 1.0,
        gid: str = "",
    ) -> None:
        """A pie slice (or, with `ring` inches, an annulus slice) from `start` to `end`
        degrees, counter-clockwise from 3 o'clock as in matplotlib's `Wedge`."""
        xy = self._box(cx - radius, cy - radius, 2 * radius, 2 * radius)
        pen, ink = self._pen(fill, alpha)
        if ring is None:
            pen.pieslice(xy, -end, -start, fill=ink)
        else:
            pen.arc(xy, -end, -start, fill=ink, width=max(1, round(ring * self.scale)))
        self.record.append(
            Drawn(
                "wedge",
                (cx - radius, cy - radius, cx + radius, cy + radius),
                fill=fill,
                gid=gid,
                alpha=alpha,
            )
        )

    def _stroke(
        self,
        pixels: Sequence[tuple[float, float]],
        colour: str,
        width: float,
        alpha: float,
        *,
        pattern: tuple[float, float] | None = None,
    ) -> None:
        """A polyline in pixels, solid or dashed (`pattern`: on and off in line widths,
        `DASHES` or `DOTS`)."""
        pen, ink = self._pen(colour, alpha)
        stroke = max(1, round(self.pt(width)))
        pieces = (
            _dashes(pixels, self.pt(pattern[0] * width), self.pt(pattern[1] * width))
            if pattern is not None
            else [pixels]
        )
        for piece in pieces:
            # round joins, except when translucent: Pillow's joint disc would darken them
            pen.line(list(piece), fill=ink, width=stroke, joint="curve" if alpha >= 1 else None)

    # --- output --------------------------------------------------------------------------

    def final(self) -> Image.Image:
        """The picture at its final size: the shapes reduced, then the texts drawn on them."""
        if self._final is None:
            image = self.image.reduce(self.supersample) if self.supersample > 1 else self.image
            pen = ImageDraw.Draw(image, "RGBA")
            for label in self._labels:
                if label.plate is not None:
                    pen.rounded_rectangle(label.plate, radius=label.pad, fill=_rgba("white", 0.9))
                for line, x, y in label.lines:
                    pen.text((x, y), line, font=label.face, fill=label.ink, anchor="lm")
            self._final = image
        return self._final

    def png(self, compress_level: int = 1) -> bytes:
        """The picture as PNG bytes (fast zlib: the chat platforms recompress anyway)."""
        image = self.final()
        return style.png_rgb(image.width, image.height, image.tobytes(), compress_level)


@dataclass(frozen=True, slots=True)
class _Label:
    """A text waiting for the reduced picture: its lines with their pixel anchors (left,
    middle) there, and the white plate behind it, if any."""

    face: ImageFont.FreeTypeFont
    ink: tuple[int, int, int, int]
    lines: list[tuple[str, float, float]]
    plate: tuple[float, float, float, float] | None
    pad: float


def _longest_prefix(face: ImageFont.FreeTypeFont, text: str, room: float) -> int:
    """How many leading characters of `text` fit in `room` pixels (at least one)."""
    low, high = 1, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if _length(face, text[:middle]) <= room:
            low = middle
        else:
            high = middle - 1
    return low


def _bounds(points: Sequence[Point]) -> tuple[float, float, float, float]:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def _rounded_outline(
    xy: tuple[float, float, float, float], corner: float
) -> list[tuple[float, float]]:
    """The closed outline of a rounded rectangle (pixels) as a polyline, 4 steps a corner."""
    left, top, right, bottom = xy
    r = min(corner, (right - left) / 2, (bottom - top) / 2)
    centres = (
        (right - r, bottom - r, 0),
        (left + r, bottom - r, 90),
        (left + r, top + r, 180),
        (right - r, top + r, 270),
    )
    outline = [
        (
            cx + r * math.cos(math.radians(a0 + 22.5 * i)),
            cy + r * math.sin(math.radians(a0 + 22.5 * i)),
        )
        for cx, cy, a0 in centres
        for i in range(5)
    ]
    return [*outline, outline[0]]


def _dashes(
    points: Sequence[tuple[float, float]], on: float, off: float
) -> list[list[tuple[float, float]]]:
    """The polyline cut into dashes `on` long with `off` gaps (pixels), continuing over corners."""
    pieces: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = [points[0]]
    drawing, left = True, on
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        length = math.hypot(x1 - x0, y1 - y0)
        done = 0.0
        while length - done > left:
            done += left
            point = (x0 + (x1 - x0) * done / length, y0 + (y1 - y0) * done / length)
            if drawing:
                current.append(point)
                pieces.append(current)
            else:
                current = [point]
            drawing = not drawing
            left = on if drawing else off
        left -= length - done
        if drawing:
            current.append((x1, y1))
    if drawing and len(current) >= 2:
        pieces.append(current)
    return pieces
