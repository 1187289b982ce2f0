"""KPI charts: the history as a line against target, baseline and the KPI's own colour bands.

Drawn on the Pillow canvas (like the map and the dashboard), so the first chart after start
waits for no matplotlib import. `ChartSpec` carries plain numbers: days as ordinals (no
stored date, even year 1, breaks the day axis), values, and the colour bands the handler
computed with the shared status function. Axis labels use the chat's number format
(thousands grouped, never "1e9", nice 1-2-5 steps from `chart_layout`); dates are written
by us, in English month names.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from handlers.pictures import style
from handlers.pictures.canvas import Canvas
from handlers.pictures.chart_layout import Frame, inside, nice_ticks, tick_labels

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
BAND_ALPHA = 0.13
MAX_MARKERS = 60
PLAN = "#8250df"


@dataclass(frozen=True, slots=True)
class ChartSpec:
    """One KPI's chart."""

    title: str
    unit: str
    days: tuple[int, ...]  # date ordinals, ascending
    values: tuple[float, ...]
    target: float | None
    baseline: float | None
    low: float  # the y-range to show (bands are cut to it)
    high: float
    bands: tuple[tuple[float, float, str], ...] = ()  # (from, to, status value)
    range_band: tuple[float, float] | None = None  # a range KPI's min..max
    status: str = "nodata"
    note: str = ""  # under the title, e.g. "90 days · 1 value before 2000 left out"
    plan: tuple[tuple[int, float], ...] = ()  # a dated target's planned path (day, value)


def day_label(ordinal: int, span: int) -> str:
    """A tick label: "Nov 21" for spans up to about a year, "2026" or "Mar 2026" beyond."""
    day = date.fromordinal(min(max(1, ordinal), date.max.toordinal()))
    if span <= 400:
        return f"{MONTHS[day.month - 1]} {day.day}"
    if span <= 3 * 366:
        return f"{MONTHS[day.month - 1]} {day.year}"
    return str(day.year)


def day_ticks(first: int, last: int) -> list[int]:
    """Tick days: weekly for a month, monthly up to a year or two, yearly beyond."""
    span = max(1, last - first)
    start = date.fromordinal(max(1, first))
    ticks: list[int] = []
    if span <= 45:
        step = 7 if span > 10 else max(1, span // 5)
        return list(range(first, last + 1, step))
    if span <= 3 * 366:
        every = 1 if span <= 200 else (2 if span <= 400 else 6)
        year, month = start.year, start.month
        while True:
            month += 1
            if month > 12:
                year, month = year + 1, 1
            ordinal = date(year, month, 1).toordinal()
            if ordinal > last:
                break
            if (month - 1) % every == 0:
                ticks.append(ordinal)
        return ticks or [first, last]
    years = max(1, (span // 365) // 6)
    year = start.year + 1
    while year <= date.max.year and date(year, 1, 1).toordinal() <= last:
        if year % years == 0:
            ticks.append(date(year, 1, 1).toordinal())
        year += 1
    return ticks or [first, last]


CHART = (8.0, 4.0, 110)  # width, height inches, dpi: 880 × 440
SMALL = (5.2, 2.5, 100)  # 520 × 250, an alert's chart
CELL = (3.3, 2.1)  # one chart of the small multiples (100 dpi)
GRID = "#e3e6ea"
AXIS = "#8c959f"


def draw_chart(
    canvas: Canvas,
    spec: ChartSpec,
    box: tuple[float, float, float, float],
    *,
    small: bool = False,
    unit_label: bool = True,
) -> Frame:
    """The chart itself inside `box` (left, bottom, right, top inches): axes with their
    labels, bands, lines and the latest value; also used for each of the small multiples."""
    size = 7.0 if small else 8.5
    xs = list(spec.days)
    first, last = (xs[0], xs[-1]) if xs else (0, 1)
    if spec.plan:
        first, last = min(first, spec.plan[0][0]), max(last, spec.plan[-1][0])
    if first == last:
        first, last = first - 1, last + 1
    pad = max(1, (last - first) // 40)
    ticks = nice_ticks(spec.low, spec.high)
    labels = tick_labels(ticks)
    widest = max((canvas.measure(t, size)[0] for t in labels), default=0.0)
    line_h = canvas.measure("0", size)[1]
    unit = style.safe(spec.unit) if unit_label else ""
    top = box[3] - (line_h + 0.04 if unit else line_h / 2)
    right = box[2] - _margin(canvas, spec, box[2] - box[0])
    frame = Frame(
        box[0] + widest + 0.1,
        box[1] + line_h + 0.1,
        right,
        top,
        first - pad,
        last + pad * 10,
        spec.low,
        spec.high,
    )
    if unit:
        canvas.text(
            box[0],
            frame.y1 + 0.04,
            canvas.fit(unit, frame.x1 - box[0], size),
            size=size,
            colour=style.MUTED,
            gid="unit",
        )
    _axes(canvas, frame, spec, ticks, labels, size)
    _lines(canvas, frame, spec, box[2])
    _latest(canvas, frame, spec, box)
    return frame


def _axes(
    canvas: Canvas,
    frame: Frame,
    spec: ChartSpec,
    ticks: Sequence[float],
    labels: Sequence[str],
    size: float,
) -> None:
    """Bands, grid, the y ticks, the day ticks (a label that would touch the one before is
    left out) and both axes."""
    for lo, hi, status in spec.bands:
        y0, y1 = frame.y(lo), frame.y(hi)
        if y1 > y0:
            colour = style.EDGE.get(status, style.MUTED)
            canvas.rect(
                frame.x0,
                y0,
                frame.x1 - frame.x0,
                y1 - y0,
                fill=colour,
                alpha=BAND_ALPHA,
                gid=f"band-{status}",
            )
    for tick, label in zip(ticks, labels, strict=True):
        y = frame.y(tick)
        canvas.line([(frame.x0, y), (frame.x1, y)], colour=GRID, width=0.8, gid="grid")
        _tick(canvas, frame.x0 - 0.06, y, label, size, "ytick")
    span = int(frame.high_x - frame.low_x)
    free = -math.inf  # where the next day label may start
    for day in day_ticks(int(frame.low_x) + 1, int(frame.high_x) - 1):
        if frame.low_x <= day <= frame.high_x:
            x = frame.x(day)
            canvas.line([(x, frame.y0), (x, frame.y0 - 0.04)], colour=AXIS, width=0.8, gid="xtick")
            label = day_label(day, span)
            half = canvas.measure(label, size)[0] / 2
            if x - half < free:
                continue
            free = x + half + 0.08
            _tick(canvas, x, frame.y0 - 0.06, label, size, "xtick")
    canvas.line(
        [(frame.x0, frame.y1), (frame.x0, frame.y0), (frame.x1, frame.y0)],
        colour=AXIS,
        width=0.8,
        gid="axis",
    )


def _tick(canvas: Canvas, x: float, y: float, label: str, size: float, axis: str) -> None:
    """A tick label: right-aligned left of the y axis, centred under the x axis."""
    if axis == "ytick":
        canvas.text(x, y, label, size=size, colour=style.MUTED, ha="right", va="center", gid=axis)
    else:
        canvas.text(x, y, label, size=size, colour=style.MUTED, ha="center", va="top", gid=axis)


def _lines(canvas: Canvas, frame: Frame, spec: ChartSpec, edge: float) -> None:
    """The range band's edges or the target and baseline (labelled right of the plot, up
    to `edge` inches), the plan and the history."""
    if spec.range_band is not None:
        for edge in spec.range_band:
            y = frame.y(edge)
            canvas.line(
                [(frame.x0, y), (frame.x1, y)],
                colour=style.EDGE["green"],
                alpha=0.7,
                gid="range",
            )
    else:
        for value, word, colour, width in (
            (spec.target, "target", style.EDGE["green"], 1.3),
            (spec.baseline, "baseline", style.MUTED, 1.1),
        ):
            if value is None:
                continue
            y = frame.y(value)
            canvas.line(
                [(frame.x0, y), (frame.x1, y)],
                colour=colour,
                width=width,
                dashed=word == "target",
                dotted=word == "baseline",
                gid=word,
            )
            room = edge - frame.x1 - 0.04
            text = f"{word} {style.num(value, spec.unit)}"
            if canvas.measure(text, 8)[0] > room:
                text = f"{word} {style.num(value)}"  # the axis names the unit
            canvas.text(frame.x1 + 0.04, y, text, size=8, colour=colour, va="center", gid=word)
    if spec.plan:
        path = [frame.at(d, v) for d, v in spec.plan]
        canvas.line(path, colour=PLAN, width=1.2, dashed=True, gid="plan")
        for x, y in path:
            canvas.line([(x, y - 0.04), (x, y + 0.04)], colour=PLAN, width=1.0, gid="plan")
        canvas.text(
            path[-1][0] + 0.03, path[-1][1] + 0.02, "plan", size=8, colour=PLAN, gid="plan"
        )
    points = [frame.at(d, v) for d, v in zip(spec.days, spec.values, strict=True)]
    if len(points) >= 2:
        canvas.line(points, colour=style.LINE, width=1.8, gid="history")
    if len(points) <= MAX_MARKERS:
        for x, y in points:
            canvas.wedge(x, y, 1.5 / 72, 0, 360, fill=style.LINE, gid="marker")


def _latest(
    canvas: Canvas, frame: Frame, spec: ChartSpec, box: tuple[float, float, float, float]
) -> None:
    """The latest value: a dot in its status colour and its label, right of the point
    unless that runs out of the chart's `box`, and always kept inside it."""
    if not spec.days:
        return
    x, y = frame.at(spec.days[-1], spec.values[-1])
    edge = style.EDGE.get(spec.status, style.LINE)
    canvas.wedge(x, y, 3 / 72, 0, 360, fill=edge, gid="latest")
    day = day_label(spec.days[-1], 0)
    label = f"{style.num(spec.values[-1], spec.unit)}\n{day}"
    width, height = canvas.measure(label, 8.5, bold=True)
    if width > 0.4 * (box[2] - frame.x0):  # a long unit: the axis or the title names it
        label = f"{style.num(spec.values[-1])}\n{day}"
        width, height = canvas.measure(label, 8.5, bold=True)
    pad = 0.03
    labelled = spec.range_band is None and (spec.target, spec.baseline) != (None, None)
    right = frame.x1 if labelled else box[2]  # clear of the target and baseline labels
    left = x + 6 / 72 if x + 6 / 72 + width + pad <= right else x - 6 / 72 - width
    bottom = y + 8 / 72
    if bottom + height + pad > frame.y1:  # no room above the point: below it
        bottom = y - 8 / 72 - height
    dx, dy = inside(
        (left - pad, bottom - pad, left + width + pad, bottom + height + pad),
        (frame.x0, frame.y0, right, frame.y1),
    )
    left, bottom = left + dx, bottom + dy
    canvas.rect(
        left - pad,
        bottom - pad,
        width + 2 * pad,
        height + 2 * pad,
        fill="white",
        edge=edge,
        width=0.8,
        radius=0.03,
        alpha=0.9,
        gid="latest",
    )
    canvas.text(left, bottom, label, size=8.5, bold=True, gid="latest")


def _margin(canvas: Canvas, spec: ChartSpec, width: float) -> float:
    """Inches the target and baseline labels need right of the plot (at most 0.3 of the
    chart's `width`: a longer label drops its unit instead)."""
    if spec.range_band is not None:
        return 0.1
    labels = [
        f"{word} {style.num(value, spec.unit)}"
        for word, value in (("target", spec.target), ("baseline", spec.baseline))
        if value is not None
    ]
    widest = max((canvas.measure(label, 8)[0] for label in labels), default=0.0)
    return min(0.3 * width, widest + 0.12)


def _heading(canvas: Canvas, spec: ChartSpec, size: float) -> float:
    """The title and the note at the top; returns the top of the room left for the chart."""
    x = 0.15
    room = canvas.width - x - 0.1
    box = canvas.text(
        x,
        canvas.height - 0.12,
        canvas.fit(spec.title, room, size, bold=True),
        size=size,
        bold=True,
        va="top",
        gid="title",
    )
    bottom = box[1]
    if spec.note:
        box = canvas.text(
            x,
            bottom - 0.04,
            canvas.fit(spec.note, room, 8.5),
            size=8.5,
            colour=style.MUTED,
            va="top",
            gid="note",
        )
        bottom = box[1]
    return bottom - 0.06


def chart_canvas(spec: ChartSpec, *, small: bool = False) -> Canvas:
    """One chart drawn (its record is what tests read); `small` for alerts."""
    width, height, dpi = SMALL if small else CHART
    canvas = Canvas(width, height, dpi=dpi)
    top = _heading(canvas, spec, 10 if small else 12)
    draw_chart(canvas, spec, (0.1, 0.08, width - 0.05, top), small=small)
    return canvas


def chart_png(spec: ChartSpec) -> bytes:
    """One KPI chart as PNG."""
    return chart_canvas(spec).png()


def small_chart_png(spec: ChartSpec) -> bytes:
    """A small KPI chart for an alert."""
    return chart_canvas(spec, small=True).png()


def multiples_canvas(specs: Sequence[ChartSpec]) -> Canvas:
    """Several small charts in a grid of up to three columns, each titled in its status colour."""
    count = max(1, len(specs))
    cols = min(3, count)
    rows = math.ceil(count / cols)
    canvas = Canvas(CELL[0] * cols, CELL[1] * rows + 0.2, dpi=100)
    for i, spec in enumerate(specs):
        left = CELL[0] * (i % cols)
        top = canvas.height - 0.1 - CELL[1] * (i // cols)
        title = canvas.fit(spec.title, CELL[0] - 0.2, 9, bold=True)
        box = canvas.text(
            left + 0.1,
            top,
            title,
            size=9,
            bold=True,
            va="top",
            colour=style.EDGE.get(spec.status, style.INK),
            gid="title",
        )
        draw_chart(
            canvas,
            spec,
            (left + 0.06, top - CELL[1] + 0.1, left + CELL[0] - 0.06, box[1] - 0.06),
            small=True,
            unit_label=False,
        )
    return canvas


def multiples_png(specs: Sequence[ChartSpec]) -> bytes:
    """Several small charts in one picture (a grouped alert, the digest)."""
    return multiples_canvas(specs).png()
