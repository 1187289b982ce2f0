"""Geometry of a KPI chart, no drawing: nice y ticks, their labels, and data → inches.

Kept apart from the canvas so the rules a reader relies on are checked over any range
quickly (tests/pictures): 3 to 8 ticks in 1-2-5 steps covering the axis, distinct labels
in the chat's number format (never "1e9"). Units are inches, y grows upwards (the canvas's
convention).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from handlers.pictures import style

STEPS = (1.0, 2.0, 5.0, 10.0)
# a range split in 7.5 raw steps: the next 1-2-5 step (at most 2.5 times larger) leaves at
# least 3 ticks on the axis, and at most 8
PARTS = 7.5


def nice_step(low: float, high: float) -> float:
    """The 1-2-5 tick step for the axis `low..high` (a positive finite number)."""
    span = high - low
    if not (math.isfinite(span) and span > 0):
        return 1.0
    raw = span / PARTS
    power = 10.0 ** math.floor(math.log10(raw))
    return next(power * m for m in STEPS if power * m >= raw * (1 - 1e-9))


def nice_ticks(low: float, high: float) -> list[float]:
    """The y ticks of the axis `low..high`: every multiple of `nice_step` inside it."""
    if not (math.isfinite(low) and math.isfinite(high) and high > low):
        return [low] if math.isfinite(low) else []
    step = nice_step(low, high)
    first, last = math.ceil(low / step - 1e-9), math.floor(high / step + 1e-9)
    return [k * step if k else 0.0 for k in range(first, last + 1)]


def tick_labels(ticks: Sequence[float], fmt: Callable[[float], str] = style.num) -> list[str]:
    """The ticks in the chat's number format, or with as many decimals as their step needs
    when that format would write two ticks alike (it keeps two decimals at most)."""
    labels = [fmt(t) for t in ticks]
    if len(set(labels)) == len(labels) or len(ticks) < 2:
        return labels
    step = abs(ticks[1] - ticks[0])
    decimals = min(15, max(0, -math.floor(math.log10(step)) + 1))
    return [f"{t:,.{decimals}f}".replace(",", " ").replace("-", "−") if t else "0" for t in ticks]


@dataclass(frozen=True, slots=True)
class Frame:
    """The plot area (inches on the picture) and the data range it shows."""

    x0: float
    y0: float
    x1: float
    y1: float
    low_x: float
    high_x: float
    low_y: float
    high_y: float

    def x(self, value: float) -> float:
        """Inches from the picture's left of data x `value`."""
        share = (value - self.low_x) / ((self.high_x - self.low_x) or 1.0)
        return self.x0 + (self.x1 - self.x0) * share

    def y(self, value: float) -> float:
        """Inches from the picture's bottom of data y `value`, kept inside the plot."""
        share = (value - self.low_y) / ((self.high_y - self.low_y) or 1.0)
        return self.y0 + (self.y1 - self.y0) * min(1.0, max(0.0, share))

    def at(self, x: float, y: float) -> tuple[float, float]:
        """Inches of the data point (x, y)."""
        return self.x(x), self.y(y)


Box = tuple[float, float, float, float]  # left, bottom, right, top


def inside(box: Box, bounds: Box) -> tuple[float, float]:
    """How far to move `box` so it lies inside `bounds` (a label kept in its chart; when
    it is larger, its left and bottom stay inside)."""
    dx = max(0.0, bounds[0] - box[0]) or -min(max(0.0, box[2] - bounds[2]), box[0] - bounds[0])
    dy = max(0.0, bounds[1] - box[1]) or -min(max(0.0, box[3] - bounds[3]), box[1] - bounds[1])
    return dx, dy
