"""The strategy map picture: perspective bands, objective boxes by status, cause → effect arrows.

`MapSpec` is what the handler knows (names, scores, statuses, links, map order);
`map_figure` draws it on a matplotlib figure (tests inspect its artists) and `map_png`
returns the PNG. `highlight` (for `/map why`) keeps the walked path in full colour and
fades everything else; `kpis` (for `/map <perspective>`) lists each objective's KPIs in
its box.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from handlers.pictures import layout, style

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

NAME_LINES = 3
# a white plate behind text on a hatched (no data) box, so the hatching never crosses letters
_PLATE = {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.9}
NAME_SIZE = 9.5
KPI_LINE = 0.19


@dataclass(frozen=True, slots=True)
class KpiMark:
    """One KPI line in a zoomed box: name, shown value and status."""

    name: str
    value: str
    status: str


@dataclass(frozen=True, slots=True)
class BoxSpec:
    """One objective as drawn."""

    key: str
    name: str
    score: str  # "66%" or "—"
    status: str  # Status value
    kpis: tuple[KpiMark, ...] = ()


@dataclass(frozen=True, slots=True)
class BandSpec:
    """One perspective: its name, score and objectives in map order."""

    name: str
    score: str
    status: str
    boxes: tuple[BoxSpec, ...]


@dataclass(frozen=True, slots=True)
class MapSpec:
    """Everything the map picture shows."""

    title: str
    bands: tuple[BandSpec, ...]
    links: tuple[tuple[str, str], ...]
    highlight: frozenset[str] | None = None  # objective keys on the `why` path
    highlight_links: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    box_w: float = layout.BOX_W  # wider when boxes list their KPIs
    # other orders of each band's boxes (keys) to try: the drawing keeps whichever of
    # these and `bands` crosses fewest arrows (see `arranged`)
    orders: tuple[tuple[tuple[str, ...], ...], ...] = ()


def _box_height(band: BandSpec) -> float:
    kpis = max((len(b.kpis) for b in band.boxes), default=0)
    return 0.95 + KPI_LINE * kpis + (0.08 if kpis else 0.0)


def plan(spec: MapSpec) -> layout.MapLayout:
    """The geometry of `spec` (the same one `map_figure` draws)."""
    return layout.layout(
        [[b.key for b in band.boxes] for band in spec.bands],
        spec.links,
        [_box_height(band) for band in spec.bands],
        box_w=spec.box_w,
    )


def arranged(spec: MapSpec) -> MapSpec:
    """`spec` with its boxes in the order, of its own and its `orders`, whose arrows cross
    fewest as drawn (its own on a tie).

    The barycentre order counts crossings between ranks; drawn, with bands wrapped into
    rows and long links in channels, another order can cross fewer.
    """
    candidates = [spec]
    for order in spec.orders:
        bands = []
        for band, keys in zip(spec.bands, order, strict=True):
            boxes = {box.key: box for box in band.boxes}
            if sorted(keys) != sorted(boxes):
                break  # not an order of this band's boxes
            bands.append(replace(band, boxes=tuple(boxes[key] for key in keys)))
        else:
            candidates.append(replace(spec, bands=tuple(bands)))
    best = min(candidates, key=lambda s: layout.crossings(plan(s).paths))
    return replace(best, orders=())


def map_figure(spec: MapSpec) -> Figure:
    """Draw the map; the figure's text artists carry every name, one arrow patch per link."""
    with style.styled():
        return _draw(arranged(spec))


def _draw(spec: MapSpec) -> Figure:
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle
    from matplotlib.path import Path

    geometry = plan(spec)
    fig = style.figure(geometry.width, geometry.height)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, geometry.width)
    ax.set_ylim(0, geometry.height)
    ax.set_axis_off()
    faded = spec.highlight is not None
    style.title(ax, layout.MARGIN, geometry.height - layout.TITLE_H / 2, spec.title, 13)
    for band_spec, band in zip(spec.bands, geometry.bands, strict=True):
        shade = "#f6f8fa" if band.index % 2 == 0 else "#ffffff"
        ax.add_artist(
            Rectangle(
                (0, band.y),
                geometry.width,
                band.h,
                facecolor=shade,
                edgecolor="#d0d7de",
                linewidth=0.6,
                zorder=0,
            )
        )
        ax.add_artist(
            Rectangle(
                (0, band.y),
                0.09,
                band.h,
                facecolor=style.EDGE[band_spec.status],
                edgecolor="none",
                zorder=1,
            )
        )
        ax.text(
            layout.MARGIN,
            band.y + band.h / 2,
            style.wrap(band_spec.name.upper(), 16, 2) + f"\n{band_spec.score}",
            fontsize=10,
            fontweight="bold",
            color=style.INK,
            va="center",
            linespacing=1.3,
        )
        if not band_spec.boxes:
            ax.text(
                layout.MARGIN + layout.LABEL_W + 0.3,
                band.row_y + band.row_h / 2,
                "no objectives yet",
                fontsize=9,
                color=style.MUTED,
                va="center",
                style="italic",
            )
    for band_spec in spec.bands:
        for box_spec in band_spec.boxes:
            _box(
                ax,
                geometry.boxes[box_spec.key],
                box_spec,
                dim=faded and box_spec.key not in (spec.highlight or ()),
                patch=FancyBboxPatch,
                square=Rectangle,
            )
    placed = [(c, e) for c, e in spec.links if c in geometry.boxes and e in geometry.boxes]
    for link, points in zip(placed, geometry.paths, strict=True):
        on_path = link in spec.highlight_links
        codes = [Path.MOVETO] + [Path.LINETO] * (len(points) - 1)
        colour = "#cf222e" if on_path else "#424a53"
        ax.add_artist(
            FancyArrowPatch(
                path=Path(points, codes),
                arrowstyle="-|>",
                mutation_scale=11 if on_path else 9,
                linewidth=2.2 if on_path else 1.1,
                color=colour,
                alpha=0.18 if faded and not on_path else 0.85,
                shrinkA=0,
                shrinkB=0,
                joinstyle="round",
                capstyle="round",
                zorder=3,
                gid=f"link:{link[0]}->{link[1]}",
            )
        )
    _legend(ax, geometry.width)
    return fig


def _box(
    ax: Axes, box: layout.Box, spec: BoxSpec, *, dim: bool, patch: type, square: type
) -> None:
    alpha = 0.25 if dim else 1.0
    nodata = spec.status == "nodata"
    ax.add_artist(
        patch(
            (box.x, box.y),
            box.w,
            box.h,
            boxstyle="round,pad=0,rounding_size=0.08",
            facecolor=style.FILL.get(spec.status, style.FILL["nodata"]),
            edgecolor=style.EDGE.get(spec.status, style.EDGE["nodata"]),
            hatch="///" if nodata else None,
            linewidth=1.4,
            alpha=alpha,
            zorder=4,
            linestyle="--" if nodata else "-",
            gid=f"box:{spec.key}",
        )
    )
    chars = int(box.w * 72 / (NAME_SIZE * 0.58))
    top = box.top - 0.1
    ax.text(
        box.cx,
        top,
        style.wrap(spec.name, chars, NAME_LINES),
        ha="center",
        va="top",
        fontsize=NAME_SIZE,
        color=style.INK,
        alpha=max(alpha, 0.35),
        zorder=5,
        linespacing=1.15,
        gid=f"name:{spec.key}",
        bbox=_PLATE if nodata else None,
    )
    score = "no data" if nodata else f"{spec.score} · {style.word(spec.status)}"
    score_y = box.y + 0.1 + KPI_LINE * len(spec.kpis) + (0.08 if spec.kpis else 0.0)
    ax.text(
        box.cx,
        score_y,
        score,
        ha="center",
        va="bottom",
        fontsize=9,
        fontweight="bold",
        color=style.EDGE.get(spec.status, style.INK),
        alpha=max(alpha, 0.35),
        zorder=5,
        bbox=_PLATE if nodata else None,
    )
    for i, kpi in enumerate(spec.kpis):
        y = box.y + 0.08 + KPI_LINE * (len(spec.kpis) - 1 - i)
        ax.add_artist(
            square(
                (box.x + 0.1, y + 0.03),
                0.11,
                0.11,
                facecolor=style.EDGE.get(kpi.status, style.MUTED),
                edgecolor="none",
                zorder=5,
            )
        )
        chars_kpi = int((box.w - 0.3) * 72 / (7.5 * 0.58))
        label = style.wrap(f"{kpi.name}: {kpi.value}", chars_kpi, 1)
        ax.text(
            box.x + 0.26, y + 0.085, label, fontsize=7.5, va="center", color=style.INK, zorder=5
        )


def _legend(ax: Axes, width: float) -> None:
    from matplotlib.patches import Rectangle

    x = layout.MARGIN
    for status in ("green", "yellow", "red", "nodata"):
        ax.add_artist(
            Rectangle(
                (x, 0.12),
                0.22,
                0.16,
                facecolor=style.FILL[status],
                edgecolor=style.EDGE[status],
                hatch="///" if status == "nodata" else None,
                linewidth=1,
            )
        )
        ax.text(x + 0.3, 0.2, style.word(status), fontsize=8.5, va="center", color=style.MUTED)
        x += 1.15
    ax.text(
        width - layout.MARGIN,
        0.2,
        "arrow: cause → effect",
        fontsize=8.5,
        ha="right",
        va="center",
        color=style.MUTED,
    )


def map_png(spec: MapSpec) -> bytes:
    """The map as PNG bytes (run in the painter's worker)."""
    return style.png(map_figure(spec))
