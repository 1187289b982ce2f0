"""KPI charts: the history as a line against target, baseline and the KPI's own colour bands.

`ChartSpec` carries plain numbers: days as ordinals (so no stored date, even year 1,
can push matplotlib's date axis out of range), values, and the colour bands the handler
computed with the shared status function. Axis labels use the chat's number format
(thousands grouped, never "1e9"); dates are written by us, in English month names.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from handlers.pictures import style

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

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


def chart_figure(spec: ChartSpec, *, small: bool = False) -> Figure:
    """Draw one chart (`small` for alerts: fewer labels, half the size)."""
    with style.styled():
        fig = style.figure(5.2, 2.5, dpi=100) if small else style.figure(8, 4, dpi=110)
        left, bottom, width, height = (0.12, 0.16, 0.72, 0.64) if small else (0.1, 0.14, 0.78, 0.7)
        # narrower plot when the target or baseline label needs more room on the right
        width = min(width, 1 - left - _margin(spec, fig.get_figwidth() * 72))
        ax = fig.add_axes((left, bottom, width, height))
        draw_chart(ax, spec, small=small)
        style.title(
            fig, 0.1 if not small else 0.12, 0.955, spec.title, 12 if not small else 10, va="top"
        )
        if spec.note:
            fig.text(
                0.1 if not small else 0.12,
                0.885,
                style.safe(spec.note),
                fontsize=8.5,
                color=style.MUTED,
                va="top",
            )
        return fig


def draw_chart(ax: Axes, spec: ChartSpec, *, small: bool = False, tiny: bool = False) -> None:
    """The chart itself on `ax` (also used for the small multiples)."""
    from matplotlib.ticker import FixedLocator, FuncFormatter

    xs: list[Any] = list(spec.days)
    first, last = (xs[0], xs[-1]) if xs else (0, 1)
    if spec.plan:
        first, last = min(first, spec.plan[0][0]), max(last, spec.plan[-1][0])
    if first == last:
        first, last = first - 1, last + 1
    pad = max(1, (last - first) // 40)
    ax.set_xlim(first - pad, last + pad * (10 if not tiny else 2))
    ax.set_ylim(spec.low, spec.high)
    for lo, hi, status in spec.bands:
        ax.axhspan(
            lo,
            hi,
            color=style.EDGE.get(status, style.MUTED),
            alpha=BAND_ALPHA,
            linewidth=0,
            zorder=0,
        )
    if spec.range_band is not None:
        for edge in spec.range_band:
            ax.axhline(edge, color=style.EDGE["green"], linewidth=1, linestyle="-", alpha=0.7)
    right = last + pad * (10 if not tiny else 2)
    for value, word, colour, dash in (
        (spec.target, "target", style.EDGE["green"], "--"),
        (spec.baseline, "baseline", style.MUTED, ":"),
    ):
        if value is None or spec.range_band is not None or (tiny and word == "baseline"):
            continue
        ax.axhline(value, color=colour, linestyle=dash, linewidth=1.3 if dash == "--" else 1.1)
        if not tiny:
            ax.text(
                right,
                value,
                _fitted(f" {word} ", value, spec.unit, 8, _room(ax, right)),
                fontsize=8,
                color=colour,
                va="center",
                ha="left",
                clip_on=False,
            )
    if spec.plan:
        ax.plot(
            [d for d, _ in spec.plan],
            [v for _, v in spec.plan],
            color=PLAN,
            linestyle="--",
            linewidth=1.2,
            marker="|" if not tiny else None,
            zorder=2,
        )
        if not tiny:
            ax.text(
                spec.plan[-1][0],
                spec.plan[-1][1],
                " plan",
                fontsize=8,
                color=PLAN,
                va="bottom",
                ha="left",
            )
    marker = "o" if len(xs) <= MAX_MARKERS and not tiny else None
    ax.plot(
        xs,
        list(spec.values),
        color=style.LINE,
        linewidth=1.3 if tiny else 1.8,
        marker=marker,
        markersize=3,
        zorder=3,
    )
    if xs:
        ax.plot(
            [xs[-1]],
            [spec.values[-1]],
            "o",
            color=style.EDGE.get(spec.status, style.LINE),
            markersize=6 if not tiny else 4,
            zorder=4,
        )
        if not tiny:
            label = f"{style.num(spec.values[-1], spec.unit)}\n{day_label(xs[-1], 0)}"
            # right of the point, unless it would run off the picture (a long unit)
            fits = style.width_pt(label, 8.5, bold=True) + 12 <= _room(ax, xs[-1])
            ax.annotate(
                label,
                (xs[-1], spec.values[-1]),
                xytext=(6, 8) if fits else (-6, 8),
                ha="left" if fits else "right",
                textcoords="offset points",
                fontsize=8.5,
                fontweight="bold",
                color=style.INK,
                zorder=5,
                bbox={
                    "boxstyle": "round,pad=0.2",
                    "facecolor": "white",
                    "edgecolor": style.EDGE.get(spec.status, style.MUTED),
                    "alpha": 0.9,
                },
            )
    span = last - first
    ax.xaxis.set_major_locator(FixedLocator(day_ticks(first, last)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: day_label(int(v), span)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: style.num(float(v))))
    size = 7 if (small or tiny) else 8.5
    ax.tick_params(labelsize=size, colors=style.MUTED)
    if tiny:
        ax.set_yticks([])
        ax.set_xticks([])
    elif spec.unit:
        ax.set_ylabel(style.safe(spec.unit), fontsize=size, color=style.MUTED)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="y", alpha=0.25)


def _room(ax: Axes, x: float) -> float:
    """Points from data `x` to the picture's right edge: the room a label there has."""
    low, high = ax.get_xlim()
    box = ax.get_position()
    fig = ax.get_figure(root=True)
    width = fig.get_figwidth() * 72 if fig is not None else 0.0
    return float((1.0 - box.x0 - box.width * (x - low) / ((high - low) or 1.0)) * width)


def _margin(spec: ChartSpec, points: float) -> float:
    """The share of a `points`-wide picture the target and baseline labels need on the
    right (at most 0.3: a longer label drops its unit instead, see `_fitted`)."""
    if spec.range_band is not None:
        return 0.0
    labels = [
        f" {word} {style.num(value, spec.unit)}"
        for word, value in (("target", spec.target), ("baseline", spec.baseline))
        if value is not None
    ]
    widest = max((style.width_pt(label, 8) for label in labels), default=0.0)
    return min(0.3, (widest + 4) / points)


def _fitted(prefix: str, value: float, unit: str, size: float, room: float) -> str:
    """`prefix` and the value with its unit, or without the unit (the axis names it) when
    that is too wide for `room` points."""
    text = prefix + style.num(value, unit)
    return text if style.width_pt(text, size) <= room else prefix + style.num(value)


def chart_png(spec: ChartSpec) -> bytes:
    """One KPI chart as PNG."""
    return style.png(chart_figure(spec))


def small_chart_png(spec: ChartSpec) -> bytes:
    """A small KPI chart for an alert."""
    return style.png(chart_figure(spec, small=True))


def multiples_png(specs: Sequence[ChartSpec]) -> bytes:
    """Several small charts in one picture (a grouped alert, the digest)."""
    with style.styled():
        count = max(1, len(specs))
        cols = min(3, count)
        rows = math.ceil(count / cols)
        fig = style.figure(3.3 * cols, 2.1 * rows + 0.2, dpi=100)
        axes = fig.subplots(rows, cols, squeeze=False)
        for i, ax in enumerate(axes.flat):
            if i >= len(specs):
                ax.set_axis_off()
                continue
            spec = specs[i]
            draw_chart(ax, spec, small=True)
            ax.set_title(
                style.wrap(spec.title, 34, 1),
                fontsize=9,
                loc="left",
                color=style.EDGE.get(spec.status, style.INK),
                fontweight="bold",
            )
            ax.set_ylabel("")
        fig.tight_layout(pad=0.6)
        return style.png(fig)
