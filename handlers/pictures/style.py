"""Shared look of every picture: status colours, the bundled font, safe text, PNG output.

The font is DejaVu Sans (it has Latin, Cyrillic and Greek), bundled in `fonts/` with its
licence (free to redistribute), so no system font and no matplotlib are needed. Characters
the font lacks (emoji, variation selectors) are dropped before drawing: they would
otherwise draw as tofu boxes.
"""

from __future__ import annotations

import functools
import struct
import zlib
from pathlib import Path

# status value → (fill, edge); "nodata" is drawn grey and hatched, never like red
FILL = {
    "green": "#9be0ad",
    "yellow": "#ffe28a",
    "red": "#f5a3a3",
    "nodata": "#eeeeee",
    "test": "#d6e4ff",
}
EDGE = {
    "green": "#1a7f37",
    "yellow": "#9a6700",
    "red": "#cf222e",
    "nodata": "#8c959f",
    "test": "#0969da",
}
INK = "#1f2328"
MUTED = "#57606a"
LINE = "#1f6feb"
FONTS = Path(__file__).resolve().parent / "fonts"


@functools.cache
def status_words() -> dict[str, str]:
    """Status value → its word ("nodata" → "no data"), from the text replies' one table.

    Imported on first use: `handlers.render` brings scoring's pydantic models (0.1 s of
    CPU), which the map worker never needs (the map's spec carries these words).
    """
    from handlers import render

    return {str(k.value): v for k, v in render.STATUS_WORD.items()}


def font_file(*, bold: bool = False) -> str:
    """The bundled DejaVu Sans file (regular or bold), shipped with this package."""
    return str(FONTS / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"))


@functools.cache
def _charmap() -> frozenset[int]:
    """Code points the bundled DejaVu Sans (regular and bold) can draw."""
    points: set[int] = set()
    for bold in (False, True):
        points.update(_cmap(Path(font_file(bold=bold)).read_bytes()))
    return frozenset(points)


def _cmap(font: bytes) -> set[int]:
    """The code points a TrueType font maps to a glyph, read from its full-Unicode cmap
    subtable (format 12): 3 ms, where fontTools' import alone costs 50."""
    tables = struct.unpack_from(">H", font, 4)[0]
    cmap = next(
        offset
        for tag, _, offset, _ in struct.iter_unpack(">4sIII", font[12 : 12 + 16 * tables])
        if tag == b"cmap"
    )
    subtables = {
        struct.unpack_from(">H", font, cmap + offset)[0]: cmap + offset
        for platform, encoding, offset in struct.iter_unpack(
            ">HHI", font[cmap + 4 : cmap + 4 + 8 * struct.unpack_from(">H", font, cmap + 2)[0]]
        )
        if (platform, encoding) in ((3, 10), (0, 4))
    }
    at = subtables[12]  # both bundled DejaVu files carry one
    count = struct.unpack_from(">I", font, at + 12)[0]
    points: set[int] = set()
    for start, end, glyph in struct.iter_unpack(">III", font[at + 16 : at + 16 + 12 * count]):
        points.update(range(start + (glyph == 0), end + 1))
    return points


def safe(text: str) -> str:
    """`text` with the characters the font can't draw removed (emoji, joiners)."""
    points = _charmap()
    kept = "".join(ch if ord(ch) in points or ch == "\n" else " " for ch in text)
    return "\n".join(" ".join(line.split()) for line in kept.split("\n"))


def num(value: float | None, unit: str = "") -> str:
    """The chat's number format (thousands grouped, no scientific notation) for a label
    (from `handlers.numbers`, which loads no domain models: the chart worker stays light)."""
    from handlers.numbers import format_number

    return safe(format_number(value, unit))


def png_rgb(width: int, height: int, pixels: bytes, compress_level: int = 1) -> bytes:
    """PNG bytes of 8-bit RGB `pixels` (rows top to bottom): no row filter, fast zlib."""
    stride = 3 * width
    rows = memoryview(pixels)
    packer = zlib.compressobj(compress_level)
    # row by row, each after its filter byte 0 ("none"): no copy of the whole picture
    packed = [
        part
        for at in range(0, stride * height, stride)
        for part in (packer.compress(b"\x00"), packer.compress(rows[at : at + stride]))
    ]
    packed.append(packer.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", b"".join(packed)),
            _chunk(b"IEND", b""),
        )
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
