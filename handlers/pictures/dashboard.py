"""The scorecard dashboard (index gauge, perspective bars, a sparkline per KPI, movers) and
the OKR progress bars (one per objective and key result, the cycle's elapsed share marked).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from handlers.pictures import style
from handlers.pictures.dashboard_layout import SPARK_COLUMNS, Bar, DashboardSpec, OkrSpec, Spark

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def _gauge(ax: Axes, spec: DashboardSpec) -> None:
    from matplotlib.patches import Wedge

    ax.set_xlim(-1.15, 1.15)
    ax.set_ylim(-0.35, 1.15)
    ax.set_aspect("equal")
    ax.set_axis_off()
    for lo, hi, status in (
        (0, spec.yellow, "red"),
        (spec.yellow, spec.green, "yellow"),
        (spec.green, 1.0, "green"),
    ):
        ax.add_patch(
            Wedge(
                (0, 0),
                1,
                180 - hi * 180,
                180 - lo * 180,
                width=0.28,
                facecolor=style.FILL[status],
                edgecolor="white",
            )
        )
    if spec.index is not None:
        share = min(1.0, max(0.0, spec.index))
        angle = math.radians(180 - share * 180)
        ax.plot(
            [0, 0.8 * math.cos(angle)],
            [0, 0.8 * math.sin(angle)],
            color=style.INK,
            linewidth=2.5,
            solid_capstyle="round",
        )
        ax.plot([0], [0], "o", color=style.INK, markersize=6)
    ax.text(
        0,
        -0.22,
        style.pct(spec.index),
        ha="center",
        va="center",
        fontsize=18,
        fontweight="bold",
        color=style.EDGE.get(spec.status, style.INK),
    )
    ax.set_title("Scorecard index", fontsize=10, color=style.MUTED)


def _bars(
    ax: Axes,
    bars: tuple[Bar, ...],
    title: str,
    marker: float | None = None,
    marker_label: str = "",
) -> None:
    count = max(1, len(bars))
    ax.set_xlim(0, 1.0)
    ax.set_ylim(count - 0.5, -0.7 if marker is not None else -0.5)
    for i, bar in enumerate(bars):
        ax.barh(i, 1.0, color="#eef1f4", height=0.62 if not bar.indent else 0.42)
        share = 0.0 if bar.share is None else min(1.0, max(0.0, bar.share))
        ax.barh(
            i,
            share,
            color=style.EDGE.get(bar.status, style.MUTED) if share else "none",
            height=0.62 if not bar.indent else 0.42,
            alpha=0.85,
            hatch="///" if bar.share is None else None,
        )
        ax.text(
            share + 0.01 if share < 0.5 else share - 0.01,
            i,
            style.safe(bar.label) if bar.share is not None else "no data",
            va="center",
            ha="left" if share < 0.5 else "right",
            fontsize=8,
            fontweight="bold",
            color=style.INK if share < 0.5 else "white",
        )
    ax.set_yticks(range(len(bars)))
    ax.set_yticklabels(
        [
            ("   " if b.indent else "") + style.wrap(b.name, 30 if b.indent else 26, 1)
            for b in bars
        ],
        fontsize=8.5,
    )
    for label, bar in zip(ax.get_yticklabels(), bars, strict=False):
        if not bar.indent:
            label.set_fontweight("bold")
    ax.set_xticks([])
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(length=0)
    if marker is not None:
        ax.axvline(marker, color=style.INK, linestyle="--", linewidth=1.2)
        ax.text(marker, -0.62, marker_label, ha="center", va="bottom", fontsize=8, color=style.INK)
    ax.set_title(title, fontsize=10, color=style.MUTED, loc="left")


def _movers(ax: Axes, movers: tuple[tuple[str, str, str], ...]) -> None:
    ax.set_axis_off()
    ax.set_title("Biggest movers since last week", fontsize=10, color=style.MUTED, loc="left")
    if not movers:
        ax.text(
            0, 0.85, "no change in a week", fontsize=9, color=style.MUTED, transform=ax.transAxes
        )
    for i, (name, change, status) in enumerate(movers[:5]):
        y = 0.88 - i * 0.19
        ax.text(
            0,
            y,
            style.wrap(name, 24, 1),
            fontsize=9,
            color=style.INK,
            transform=ax.transAxes,
            va="center",
        )
        ax.text(
            1,
            y,
            change,
            fontsize=9,
            fontweight="bold",
            ha="right",
            va="center",
            color=style.EDGE.get(status, style.INK),
            transform=ax.transAxes,
        )


def _sparks(ax: Axes, sparks: tuple[Spark, ...]) -> None:
    """Every KPI's sparkline on one axes (a grid of cells): one line collection, one text
    per KPI, so fifty KPIs cost about what five separate charts would."""
    from matplotlib.collections import LineCollection

    rows = max(1, math.ceil(len(sparks) / SPARK_COLUMNS))
    ax.set_xlim(0, SPARK_COLUMNS)
    ax.set_ylim(rows, 0)
    ax.set_axis_off()
    lines: list[list[tuple[float, float]]] = []
    colours: list[str] = []
    targets: list[list[tuple[float, float]]] = []
    ends: list[tuple[float, float, str]] = []
    for i, spark in enumerate(sparks):
        row, col = divmod(i, SPARK_COLUMNS)
        x0, width, top, height = col + 0.03, 0.86, row + 0.38, 0.5
        colour = style.EDGE.get(spark.status, style.MUTED)
        ax.text(
            x0,
            row + 0.3,
            style.wrap(spark.name, 22, 1) + "  " + spark.value,
            fontsize=7.5,
            color=style.INK,
            va="bottom",
        )
        values = spark.values
        if len(values) < 2:
            continue
        low, high = min(values), max(values)
        span = high - low
        target = spark.target
        show_target = target is not None and low - span <= target <= high + span
        if show_target and target is not None:
            low, high = min(low, target), max(high, target)
        scale = (high - low) or 1.0

        last = len(values) - 1
        line = [
            (x0 + width * k / last, top + height * (1 - (v - low) / scale))
            for k, v in enumerate(values)
        ]
        lines.append(line)
        colours.append(colour)
        ends.append((*line[-1], colour))
        if show_target and target is not None:
            y = top + height * (1 - (target - low) / scale)
            targets.append([(x0, y), (x0 + width, y)])
    ax.add_collection(LineCollection(lines, colors=colours, linewidths=1.3))
    ax.add_collection(LineCollection(targets, colors=style.MUTED, linewidths=0.8, linestyles=":"))
    if ends:
        ax.scatter(
            [e[0] for e in ends], [e[1] for e in ends], s=9, c=[e[2] for e in ends], zorder=3
        )


def dashboard_png(spec: DashboardSpec) -> bytes:
    """The dashboard as PNG: gauge, perspective bars and movers on top, sparklines below."""
    with style.styled():
        rows = math.ceil(len(spec.sparks) / SPARK_COLUMNS)
        spark_h = 0.85
        top_h = 2.7
        height = 0.5 + top_h + rows * spark_h + 0.2
        fig = style.figure(11, height, dpi=100)
        style.title(fig, 0.02, 1 - 0.25 / height, spec.title, 13)
        y0 = 1 - (0.5 + top_h) / height
        h = (top_h - 0.3) / height
        _gauge(fig.add_axes((0.01, y0, 0.25, h)), spec)
        _bars(
            fig.add_axes((0.42, y0 + 0.05 / height, 0.26, h - 0.35 / height)),
            spec.perspectives,
            "Perspectives",
        )
        _movers(fig.add_axes((0.73, y0, 0.25, h - 0.3 / height)), spec.movers)
        if spec.sparks:
            bottom = 0.2 / height
            _sparks(fig.add_axes((0.02, bottom, 0.96, rows * spark_h / height)), spec.sparks)
        return style.png(fig)


def okr_png(spec: OkrSpec) -> bytes:
    """One bar per objective and key result, coloured by pace, the elapsed share marked."""
    with style.styled():
        height = 1.0 + 0.34 * max(1, len(spec.bars))
        fig = style.figure(8, height, dpi=100)
        style.title(fig, 0.02, 1 - 0.3 / height, spec.title, 12)
        ax = fig.add_axes((0.36, 0.25 / height, 0.6, 1 - 0.95 / height))
        _bars(
            ax,
            spec.bars,
            "",
            marker=min(1.0, max(0.0, spec.elapsed)),
            marker_label=f"{style.pct(spec.elapsed)} of the cycle elapsed",
        )
        return style.png(fig)
