"""Geometry of the dashboard and the OKR bars: where every shape and text goes, no drawing.

Kept apart from the canvas so the rules a reader relies on are checked over many
scorecards quickly (tests/pictures): every text fits the picture and its panel, no two
texts overlap, bars are as long as their shares, colours follow statuses. Units are
inches, y grows upwards (the canvas's convention); a text is placed by its anchor point
(left, centre or right end, vertically centred) and carries the box it will cover.

Text is fitted, not wrapped: a name too wide for its place is cut and ends in "…", measured
with the real font through the `Fonts` the caller passes (the canvas that will draw it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, Protocol

from handlers.pictures import style

Align = Literal["left", "center", "right"]
Point = tuple[float, float]


class Fonts(Protocol):
    """Text measured and fitted as it will be drawn (`canvas.Canvas` is one)."""

    def measure(self, text: str, size: float, *, bold: bool = False) -> tuple[float, float]:
        """Width and height in inches."""
        ...

    def fit(
        self, text: str, width: float, size: float, *, bold: bool = False, lines: int = 1
    ) -> str:
        """`text` cut to `width` inches, ending in "…" when cut."""
        ...


WIDTH = 11.0
SPARK_COLUMNS = 5
SPARK_ROW = 0.85  # one row of sparklines, inches
TOP = 2.7  # gauge, perspectives and movers
HEADER = 0.5  # the title
FOOT = 0.2
BAR_BACK = "#eef1f4"
MOVERS = 5
OKR_WIDTH = 8.0
OKR_ROW = 0.34


@dataclass(frozen=True, slots=True)
class Bar:
    """One labelled share with its colour (a perspective, an OKR, a key result)."""

    name: str
    share: float | None  # None: no data
    status: str
    label: str  # "62%" or "3 of 5"
    indent: bool = False  # a key result under its objective


@dataclass(frozen=True, slots=True)
class Spark:
    """One KPI's sparkline."""

    name: str
    value: str
    status: str
    values: tuple[float, ...]
    target: float | None


@dataclass(frozen=True, slots=True)
class DashboardSpec:
    """Everything the dashboard shows."""

    title: str
    index: float | None
    status: str
    perspectives: tuple[Bar, ...]
    sparks: tuple[Spark, ...]
    movers: tuple[tuple[str, str, str], ...]  # (name, "+12 pp", status)
    green: float
    yellow: float
    index_label: str  # "66%": formatted by the handler, so the worker needs no text module


@dataclass(frozen=True, slots=True)
class OkrSpec:
    """The OKR progress picture: bars and the elapsed share of the cycle."""

    title: str
    bars: tuple[Bar, ...]
    elapsed: float
    elapsed_label: str  # "55%"


@dataclass(frozen=True, slots=True)
class Label:
    """A line of text at its anchor, with the box it covers (x0, y0, x1, y1)."""

    text: str
    x: float
    y: float  # vertical centre
    size: float
    bold: bool
    colour: str
    align: Align
    box: tuple[float, float, float, float]
    role: str = ""  # what it names, for tests: "kpi", "bar", "mover"
    plate: bool = False  # a white plate behind it (on hatching)


@dataclass(frozen=True, slots=True)
class Block:
    """A filled rectangle (a bar or its track); hatched when it stands for missing data."""

    x0: float
    y0: float
    x1: float
    y1: float
    fill: str
    hatched: bool = False
    status: str = ""  # what the fill means ("" for a track)


@dataclass(frozen=True, slots=True)
class Sector:
    """A part of a ring: the gauge's red, yellow and green stretches (degrees, 0 = east)."""

    cx: float
    cy: float
    radius: float
    ring: float  # its width
    start: float
    end: float
    fill: str
    status: str


@dataclass(frozen=True, slots=True)
class Stroke:
    """A line through points (a sparkline, a target, the gauge's needle)."""

    points: tuple[Point, ...]
    colour: str
    width: float  # points
    dashed: bool = False
    status: str = ""


@dataclass(frozen=True, slots=True)
class Dot:
    """A filled circle (a sparkline's latest value, the needle's pivot)."""

    x: float
    y: float
    radius: float
    colour: str


@dataclass(slots=True)
class Plan:
    """Everything to draw, in drawing order within each kind (shapes first, texts last)."""

    width: float
    height: float
    sectors: list[Sector] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    strokes: list[Stroke] = field(default_factory=list)
    dots: list[Dot] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)

    def text(
        self,
        fonts: Fonts,
        text: str,
        x: float,
        y: float,
        size: float,
        *,
        bold: bool = False,
        colour: str = style.INK,
        align: Align = "left",
        role: str = "",
        plate: bool = False,
    ) -> Label:
        """Place one line of `text` anchored at (x, y) and remember it."""
        width, height = fonts.measure(text, size, bold=bold)
        x0 = {"left": x, "center": x - width / 2, "right": x - width}[align]
        half = height / 2
        box = (x0, y - half, x0 + width, y + half)
        label = Label(text, x, y, size, bold, colour, align, box, role, plate)
        self.labels.append(label)
        return label


def _titled(width: float, height: float, title: str, size: float, fonts: Fonts) -> Plan:
    """A plan of that size with its bold title in the top left corner."""
    plan = Plan(width, height)
    plan.text(
        fonts,
        fonts.fit(title, width - 0.4, size, bold=True),
        0.2,
        height - 0.28,
        size,
        bold=True,
    )
    return plan


def dashboard_height(spec: DashboardSpec) -> float:
    """The picture's height: the top panels and one row per five sparklines."""
    rows = math.ceil(len(spec.sparks) / SPARK_COLUMNS)
    return HEADER + TOP + rows * SPARK_ROW + FOOT


def dashboard_plan(spec: DashboardSpec, fonts: Fonts) -> Plan:
    """The dashboard: title; gauge, perspective bars and movers on top; sparklines below."""
    height = dashboard_height(spec)
    plan = _titled(WIDTH, height, spec.title, 13, fonts)
    panel_title = height - 0.97
    _gauge(plan, spec, fonts, panel_title)
    plan.text(fonts, "Perspectives", 4.62, panel_title, 10, colour=style.MUTED)
    _bars(plan, fonts, spec.perspectives, (3.0, 4.62, 7.48), (height - 1.1, height - 3.15))
    _movers(plan, spec.movers, fonts, panel_title)
    _sparks(plan, spec.sparks, fonts)
    return plan


def _gauge(plan: Plan, spec: DashboardSpec, fonts: Fonts, title_y: float) -> None:
    cx, cy, radius = 1.485, plan.height - 2.47, 1.2
    plan.text(fonts, "Scorecard index", cx, title_y, 10, colour=style.MUTED, align="center")
    for lo, hi, status in (
        (0.0, spec.yellow, "red"),
        (spec.yellow, spec.green, "yellow"),
        (spec.green, 1.0, "green"),
    ):
        if hi > lo:
            plan.sectors.append(
                Sector(
                    cx,
                    cy,
                    radius,
                    radius * 0.28,
                    180 - hi * 180,
                    180 - lo * 180,
                    style.FILL[status],
                    status,
                )
            )
    if spec.index is not None:
        angle = math.radians(180 - min(1.0, max(0.0, spec.index)) * 180)
        tip = (cx + 0.8 * radius * math.cos(angle), cy + 0.8 * radius * math.sin(angle))
        plan.strokes.append(Stroke(((cx, cy), tip), style.INK, 2.5))
        plan.dots.append(Dot(cx, cy, 0.045, style.INK))
    colour = style.EDGE.get(spec.status, style.INK)
    plan.text(fonts, spec.index_label, cx, cy - 0.26, 18, bold=True, colour=colour, align="center")


def _bars(
    plan: Plan,
    fonts: Fonts,
    bars: tuple[Bar, ...],
    xs: tuple[float, float, float],
    ys: tuple[float, float],
) -> None:
    """Bars in a column: names right-aligned in [xs[0], xs[1]), tracks from xs[1] to xs[2],
    one slot each between ys[0] (top) and ys[1]."""
    left, start, end = xs
    slot = (ys[0] - ys[1]) / max(1, len(bars))
    length = end - start
    for i, bar in enumerate(bars):
        y = ys[0] - (i + 0.5) * slot
        half = slot * (0.21 if bar.indent else 0.31)
        size = min(8.5, slot * 54)  # a line is 1.2 × its size: 90 % of the slot
        name = fonts.fit(bar.name, start - 0.06 - left, size, bold=not bar.indent)
        plan.text(
            fonts, name, start - 0.06, y, size, bold=not bar.indent, align="right", role="bar"
        )
        plan.blocks.append(
            Block(start, y - half, end, y + half, BAR_BACK, hatched=bar.share is None)
        )
        share = 0.0 if bar.share is None else min(1.0, max(0.0, bar.share))
        if share:
            colour = style.EDGE.get(bar.status, style.MUTED)
            plan.blocks.append(
                Block(start, y - half, start + share * length, y + half, colour, status=bar.status)
            )
        text = style.safe(bar.label) if bar.share is not None else "no data"
        size = min(8.0, size)
        if share < 0.5:
            x = start + share * length + 0.03
            plan.text(fonts, text, x, y, size, bold=True, plate=bar.share is None)
        else:
            x = start + share * length - 0.03
            plan.text(fonts, text, x, y, size, bold=True, colour="white", align="right")


def _movers(
    plan: Plan, movers: tuple[tuple[str, str, str], ...], fonts: Fonts, title_y: float
) -> None:
    left, right = 8.03, 10.78
    plan.text(fonts, "Biggest movers since last week", left, title_y, 10, colour=style.MUTED)
    if not movers:
        plan.text(fonts, "no change in a week", left, title_y - 0.37, 9, colour=style.MUTED)
    for i, (name, change, status) in enumerate(movers[:MOVERS]):
        y = title_y - 0.37 - i * 0.4
        moved = plan.text(
            fonts,
            change,
            right,
            y,
            9,
            bold=True,
            colour=style.EDGE.get(status, style.INK),
            align="right",
        )
        plan.text(
            fonts,
            fonts.fit(name, moved.box[0] - 0.12 - left, 9),
            left,
            y,
            9,
            role="mover",
        )


def _sparks(plan: Plan, sparks: tuple[Spark, ...], fonts: Fonts) -> None:
    """One cell per KPI, five to a row: its name and latest value, then its line."""
    rows = math.ceil(len(sparks) / SPARK_COLUMNS)
    cell = (WIDTH - 0.44) / SPARK_COLUMNS
    for i, spark in enumerate(sparks):
        row, col = divmod(i, SPARK_COLUMNS)
        top = FOOT + (rows - row) * SPARK_ROW
        x0, width = 0.22 + col * cell + 0.03 * cell, 0.86 * cell
        value = " ".join(style.safe(spark.value).split())
        end = x0 + cell * 0.94
        room = max(end - x0 - 0.08 - fonts.measure(value, 7.5)[0], cell * 0.45)
        name = plan.text(fonts, fonts.fit(spark.name, room, 7.5), x0, top - 0.2, 7.5, role="kpi")
        after = name.box[2] + 0.08
        plan.text(fonts, fonts.fit(value, end - after, 7.5), after, top - 0.2, 7.5)
        _spark_line(plan, spark, x0, width, top - 0.33, top - 0.75)


def _spark_line(
    plan: Plan, spark: Spark, x0: float, width: float, top: float, bottom: float
) -> None:
    values = spark.values
    if len(values) < 2:
        return
    low, high = min(values), max(values)
    span = high - low
    target = spark.target
    if target is not None and low - span <= target <= high + span:
        low, high = min(low, target), max(high, target)
    else:
        target = None
    scale = (high - low) or 1.0

    def y_of(value: float) -> float:
        return bottom + (top - bottom) * (value - low) / scale

    last = len(values) - 1
    colour = style.EDGE.get(spark.status, style.MUTED)
    if target is not None:
        plan.strokes.append(
            Stroke(((x0, y_of(target)), (x0 + width, y_of(target))), style.MUTED, 0.8, dashed=True)
        )
    line = tuple((x0 + width * k / last, y_of(v)) for k, v in enumerate(values))
    plan.strokes.append(Stroke(line, colour, 1.3, status=spark.status))
    plan.dots.append(Dot(*line[-1], 0.03, colour))


def okr_height(spec: OkrSpec) -> float:
    """The OKR picture's height: one row per objective and key result."""
    return 1.0 + OKR_ROW * max(1, len(spec.bars))


def okr_plan(spec: OkrSpec, fonts: Fonts) -> Plan:
    """One bar per objective and key result, the elapsed share of the cycle marked."""
    height = okr_height(spec)
    plan = _titled(OKR_WIDTH, height, spec.title, 12, fonts)
    start, end = 2.88, 7.68
    top, bottom = height - 0.8, 0.25
    _bars(plan, fonts, spec.bars, (0.16, start, end), (top, bottom))
    elapsed = min(1.0, max(0.0, spec.elapsed))
    x = start + elapsed * (end - start)
    plan.strokes.append(Stroke(((x, top + 0.05), (x, bottom - 0.05)), style.INK, 1.2, dashed=True))
    note = f"{spec.elapsed_label} of the cycle elapsed"
    half = fonts.measure(note, 8)[0] / 2
    plan.text(
        fonts,
        note,
        min(max(x, half + 0.1), OKR_WIDTH - half - 0.1),
        top + 0.18,
        8,
        align="center",
    )
    return plan
