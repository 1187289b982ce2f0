"""The strategy map picture: perspective bands, objective boxes by status, cause → effect arrows.

`MapSpec` is what the handler knows (names, scores, statuses, links, map order);
`map_canvas` draws it on a Pillow `Canvas` (tests read its record of drawn texts, boxes and
arrows) and `map_png` returns the PNG. No matplotlib: the map is ready right after start,
without its half-second import, in a fraction of the time. `highlight` (for `/map why`)
keeps the walked path in full colour and fades everything else; `kpis` (for
`/map <perspective>`) lists each objective's KPIs in its box.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from handlers.pictures import layout, style
from handlers.pictures.canvas import Canvas

NAME_LINES = 3
NAME_SIZES = (9.5, 8.5, 7.5)  # a long name shrinks before it is cut
KPI_LINE = 0.19
PAD = 0.1  # between a box's edge and its text
DIM = 0.25  # alpha of what is off the `why` path (its text stays readable at 0.35)


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
    # status value → word (`style.status_words()`), carried so that the worker never
    # imports the text side for them (see `style.status_words`)
    words: Mapping[str, str] = field(default_factory=dict)

    def word(self, status: str) -> str:
        """ "green", "no data"… for a status value."""
        return self.words.get(status, status)


def _box_height(band: BandSpec) -> float:
    kpis = max((len(b.kpis) for b in band.boxes), default=0)
    return 0.95 + KPI_LINE * kpis + (0.08 if kpis else 0.0)


def plan(spec: MapSpec) -> layout.MapLayout:
    """The geometry of `spec` (the same one `map_canvas` draws)."""
    return layout.layout(
        [[b.key for b in band.boxes] for band in spec.bands],
        spec.links,
        [_box_height(band) for band in spec.bands],
        box_w=spec.box_w,
    )


def arranged(spec: MapSpec) -> tuple[MapSpec, layout.MapLayout]:
    """`spec` with its boxes in the order, of its own and its `orders`, whose arrows cross
    fewest as drawn (its own on a tie), and its geometry, laid out once (the map's
    costliest step before drawing).

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
    planned = [(candidate, plan(candidate)) for candidate in candidates]
    best, geometry = min(planned, key=lambda pair: layout.crossings(pair[1].paths))
    return replace(best, orders=()), geometry


def map_canvas(spec: MapSpec) -> Canvas:
    """Draw the map: one text per name, one arrow per link (id `link:cause->effect`), one
    rectangle per objective (id `box:key`), all in the canvas's record."""
    spec, geometry = arranged(spec)
    canvas = Canvas(geometry.width, geometry.height)
    faded = spec.highlight is not None
    canvas.text(
        layout.MARGIN,
        geometry.height - layout.TITLE_H / 2,
        spec.title,
        size=13,
        bold=True,
        va="center",
    )
    for band_spec, band in zip(spec.bands, geometry.bands, strict=True):
        _band(canvas, geometry.width, band_spec, band)
    placed = [(c, e) for c, e in spec.links if c in geometry.boxes and e in geometry.boxes]
    for link, points in zip(placed, geometry.paths, strict=True):
        on_path = link in spec.highlight_links
        canvas.arrow(
            points,
            colour="#cf222e" if on_path else "#424a53",
            width=2.2 if on_path else 1.1,
            head=11 if on_path else 9,
            alpha=0.18 if faded and not on_path else 0.85,
            gid=f"link:{link[0]}->{link[1]}",
        )
    for band_spec in spec.bands:
        for box_spec in band_spec.boxes:
            dim = faded and box_spec.key not in (spec.highlight or ())
            _box(canvas, geometry.boxes[box_spec.key], box_spec, spec.word, dim=dim)
    _legend(canvas, geometry.width, spec.word)
    return canvas


def _band(canvas: Canvas, width: float, spec: BandSpec, band: layout.Band) -> None:
    shade = "#f6f8fa" if band.index % 2 == 0 else "#ffffff"
    canvas.rect(0, band.y, width, band.h, fill=shade, edge="#d0d7de", width=0.6)
    canvas.rect(0, band.y, 0.09, band.h, fill=style.EDGE[spec.status])
    name = canvas.fit(spec.name.upper(), layout.LABEL_W - PAD, 10, bold=True, lines=2)
    canvas.text(
        layout.MARGIN,
        band.y + band.h / 2,
        f"{name}\n{spec.score}",
        size=10,
        bold=True,
        va="center",
        gid="band",
    )
    if not spec.boxes:
        canvas.text(
            layout.MARGIN + layout.LABEL_W + 0.3,
            band.row_y + band.row_h / 2,
            "no objectives yet",
            size=9,
            colour=style.MUTED,
            va="center",
        )


def _box(
    canvas: Canvas, box: layout.Box, spec: BoxSpec, word: Callable[[str], str], *, dim: bool
) -> None:
    alpha = DIM if dim else 1.0
    nodata = spec.status == "nodata"
    canvas.rect(
        box.x,
        box.y,
        box.w,
        box.h,
        fill=style.FILL.get(spec.status, style.FILL["nodata"]),
        edge=style.EDGE.get(spec.status, style.EDGE["nodata"]),
        width=1.4,
        radius=0.08,
        hatch=nodata,
        dashed=nodata,
        alpha=alpha,
        gid=f"box:{spec.key}",
    )
    name, size = _name(canvas, spec.name, box.w - 2 * PAD)
    canvas.text(
        box.cx,
        box.top - PAD,
        name,
        size=size,
        ha="center",
        va="top",
        alpha=max(alpha, 0.35),
        plate=nodata,  # the hatching never crosses letters
        gid=f"name:{spec.key}",
    )
    score = word(spec.status) if nodata else f"{spec.score} · {word(spec.status)}"
    canvas.text(
        box.cx,
        box.y + PAD + KPI_LINE * len(spec.kpis) + (0.08 if spec.kpis else 0.0),
        score,
        size=9,
        bold=True,
        colour=style.EDGE.get(spec.status, style.INK),
        ha="center",
        alpha=max(alpha, 0.35),
        plate=nodata,
        gid=f"score:{spec.key}",
    )
    for i, kpi in enumerate(spec.kpis):
        y = box.y + 0.08 + KPI_LINE * (len(spec.kpis) - 1 - i)
        canvas.rect(
            box.x + PAD, y + 0.03, 0.11, 0.11, fill=style.EDGE.get(kpi.status, style.MUTED)
        )
        label = canvas.fit(f"{kpi.name}: {kpi.value}", box.w - 0.26 - PAD, 7.5)
        canvas.text(box.x + 0.26, y + 0.085, label, size=7.5, va="center", gid=f"kpi:{spec.key}")


def _name(canvas: Canvas, name: str, width: float) -> tuple[str, float]:
    """The name wrapped into the box, a size or two smaller if that keeps it whole (only
    a name too long even then ends in …)."""
    whole = "".join(style.safe(name).split())
    for size in NAME_SIZES:
        fitted = canvas.fit(name, width, size, lines=NAME_LINES)
        if "".join(fitted.split()) == whole:
            break
    return fitted, size


def _legend(canvas: Canvas, width: float, word: Callable[[str], str]) -> None:
    x = layout.MARGIN
    for status in ("green", "yellow", "red", "nodata"):
        canvas.rect(
            x,
            0.12,
            0.22,
            0.16,
            fill=style.FILL[status],
            edge=style.EDGE[status],
            hatch=status == "nodata",
            gid=f"legend:{status}",
        )
        canvas.text(x + 0.3, 0.2, word(status), size=8.5, colour=style.MUTED, va="center")
        x += 1.15
    canvas.text(
        width - layout.MARGIN,
        0.2,
        "arrow: cause → effect",
        size=8.5,
        colour=style.MUTED,
        ha="right",
        va="center",
    )


def map_png(spec: MapSpec) -> bytes:
    """The map as PNG bytes (run in the painter's worker)."""
    return map_canvas(spec).png()
