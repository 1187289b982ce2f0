"""The scorecard dashboard (index gauge, perspective bars, a sparkline per KPI, movers) and
the OKR progress bars (one per objective and key result, the cycle's elapsed share marked),
drawn on the Pillow canvas from the geometry in `dashboard_layout`.

Drawn with Pillow rather than matplotlib: fifty sparklines and their names cost matplotlib
about 200 ms of axes, tick and per-glyph text machinery; here every text is one FreeType
call in C and no matplotlib import is needed.
"""

from __future__ import annotations

from handlers.pictures.canvas import Canvas
from handlers.pictures.dashboard_layout import (
    OKR_WIDTH,
    WIDTH,
    DashboardSpec,
    OkrSpec,
    Plan,
    dashboard_height,
    dashboard_plan,
    okr_height,
    okr_plan,
)


def draw(plan: Plan, canvas: Canvas) -> None:
    """Every shape of `plan` on `canvas`, then every text on top."""
    for sector in plan.sectors:
        canvas.wedge(
            sector.cx,
            sector.cy,
            sector.radius,
            sector.start,
            sector.end,
            fill=sector.fill,
            ring=sector.ring,
            gid=f"gauge-{sector.status}",
        )
    for block in plan.blocks:
        canvas.rect(
            block.x0,
            block.y0,
            block.x1 - block.x0,
            block.y1 - block.y0,
            fill=block.fill,
            hatch=block.hatched,
            gid=block.status,
        )
    for stroke in plan.strokes:
        canvas.line(
            stroke.points,
            colour=stroke.colour,
            width=stroke.width,
            dashed=stroke.dashed,
            gid=stroke.status,
        )
    for dot in plan.dots:
        canvas.wedge(dot.x, dot.y, dot.radius, 0, 360, fill=dot.colour, gid="dot")
    for label in plan.labels:
        canvas.text(
            label.x,
            label.y,
            label.text,
            size=label.size,
            colour=label.colour,
            bold=label.bold,
            ha=label.align,
            va="center",
            plate=label.plate,
            gid=label.role,
        )


def dashboard_canvas(spec: DashboardSpec) -> Canvas:
    """The dashboard drawn (its record is what tests read)."""
    canvas = Canvas(WIDTH, dashboard_height(spec))
    draw(dashboard_plan(spec, canvas), canvas)
    return canvas


def dashboard_png(spec: DashboardSpec) -> bytes:
    """The dashboard as PNG: gauge, perspective bars and movers on top, sparklines below."""
    return dashboard_canvas(spec).png()


def okr_canvas(spec: OkrSpec) -> Canvas:
    """The OKR bars drawn (its record is what tests read)."""
    canvas = Canvas(OKR_WIDTH, okr_height(spec))
    draw(okr_plan(spec, canvas), canvas)
    return canvas


def okr_png(spec: OkrSpec) -> bytes:
    """One bar per objective and key result, coloured by pace, the elapsed share marked."""
    return okr_canvas(spec).png()
