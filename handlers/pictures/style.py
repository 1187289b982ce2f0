"""Shared look of every picture: status colours, the bundled font, safe text, PNG output.

The font is DejaVu Sans from matplotlib's own data directory (it has Latin, Cyrillic and
Greek), so no system font is needed. Characters the font lacks (emoji, variation
selectors) are dropped before drawing: matplotlib would otherwise warn "Glyph … missing"
into the console and draw tofu boxes.
"""

from __future__ import annotations

import functools
import struct
import textwrap
import zlib
from typing import TYPE_CHECKING, Any

from handlers import render

if TYPE_CHECKING:
    from matplotlib.figure import Figure

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
STATUS_WORD = {str(k.value): v for k, v in render.STATUS_WORD.items()}
FONT = "DejaVu Sans"
RC: dict[str, Any] = {
    "font.family": FONT,
    "text.parse_math": False,  # "$" in a unit or a name is text, not TeX
    "axes.unicode_minus": True,
    "svg.fonttype": "none",
    # FreeType's hinting runs each glyph's bytecode: a third of the map's drawing time, for
    # a difference nobody sees at 100 dpi
    "text.hinting": "no_hinting",
}


def word(status: str) -> str:
    """ "green", "no data"… for a status value."""
    return STATUS_WORD.get(status, status)


@functools.cache
def _charmap() -> frozenset[int]:
    """Code points the bundled DejaVu Sans (regular and bold) can draw."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    points: set[int] = set()
    for weight in ("normal", "bold"):
        path = font_manager.findfont(
            font_manager.FontProperties(family=FONT, weight=weight), fallback_to_default=True
        )
        points.update(FT2Font(path).get_charmap())
    return frozenset(points)


def safe(text: str) -> str:
    """`text` with the characters the font can't draw removed (emoji, joiners)."""
    points = _charmap()
    kept = "".join(ch if ord(ch) in points or ch == "\n" else " " for ch in text)
    return "\n".join(" ".join(line.split()) for line in kept.split("\n"))


def wrap(text: str, width: int, lines: int) -> str:
    """`text` wrapped to `width` characters, at most `lines` lines (the last one ends in …)."""
    parts = textwrap.wrap(safe(text), width=max(4, width), break_long_words=True) or [""]
    if len(parts) > lines:
        parts = parts[:lines]
        parts[-1] = parts[-1][: max(1, width - 1)].rstrip() + "…"
    return "\n".join(parts)


def width_pt(text: str, size: float, *, bold: bool = False) -> float:
    """A text's width in points, estimated without a renderer (measuring costs ~1 ms a line).

    DejaVu Sans averages under 0.64 em a character (digits 0.64, bold 0.70), so the
    estimate errs on the wide side: a label placed by it is never cut off.
    """
    longest = max((len(line) for line in text.split("\n")), default=0)
    return longest * size * (0.72 if bold else 0.64)


def num(value: float | None, unit: str = "") -> str:
    """The chat's number format (thousands grouped, no scientific notation) for a label."""
    return safe(render.num(value, unit))


def pct(share: float | None) -> str:
    """The chat's whole-percent format."""
    return render.pct(share)


def title(on: Any, x: float, y: float, text: str, size: float, va: str = "center") -> None:
    """A picture's bold title, drawn the same way on every picture (figure or axes)."""
    on.text(x, y, safe(text), fontsize=size, fontweight="bold", color=INK, va=va)


def figure(width: float, height: float, dpi: int = 100) -> Figure:
    """A blank figure on the Agg canvas (no pyplot, no global state)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=dpi, facecolor="white")


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes (RGB, no row filter, fast zlib).

    Written here rather than by `savefig` (Pillow): Pillow tries five row filters per row
    and keeps the alpha channel, which costs twice the time for a bigger file on these
    flat-coloured pictures; the chat platforms recompress pictures anyway.
    """
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas: Any = FigureCanvasAgg(fig)  # its draw methods are untyped
    with styled():  # some settings (hinting) are read while drawing, not when building
        canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    height, width = rgba.shape[:2]
    rows = np.empty((height, 1 + 3 * width), dtype=np.uint8)
    rows[:, 0] = 0  # filter type "none" for every row
    rows[:, 1:] = rgba[:, :, :3].reshape(height, 3 * width)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(rows.tobytes(), 1)),
            _chunk(b"IEND", b""),
        )
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def styled() -> Any:
    """A context manager applying the shared rc settings (font, no math text)."""
    import matplotlib

    settings: Any = RC  # matplotlib types the keys as a Literal of every rc name
    return matplotlib.rc_context(settings)
