"""Geometry of the strategy-map picture: bands, boxes and arrow paths, without drawing.

Kept apart from matplotlib so the rules a reader relies on can be checked over many maps
quickly (tests/pictures): boxes never overlap, and no arrow runs under a box. Units are
inches, y grows upwards, band 0 is the top of the map.

Routing: a link between neighbouring bands is one straight segment through the free
space between their rows. A link that skips bands climbs in a *channel*, a gap between
boxes that is free in every band it crosses (the right margin always is), and a link
inside one band runs in the lane under its row. Each box spreads the ends of its arrows
along its edge in the order of where they come from, so they don't meet in one point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

LABEL_W = 1.9  # the band's name and score
MARGIN = 0.25
CHANNEL = 0.5  # the free right margin every band keeps for long arrows
GAP = 0.5  # minimum free space between two boxes (a channel)
BOX_W = 1.9
ROW_PAD = 0.42  # free space above and below each row: where arrows run
TITLE_H = 0.55
LEGEND_H = 0.4
MIN_WIDTH = 8.0
PER_ROW = 4  # a perspective with more objectives wraps into several rows (phone width)


@dataclass(frozen=True, slots=True)
class Box:
    """One objective's rectangle: lower-left corner, width and height."""

    key: str
    band: int
    row: int  # rows are numbered top to bottom over the whole map; arrows route by row
    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        """Horizontal centre."""
        return self.x + self.w / 2

    @property
    def top(self) -> float:
        """Upper edge."""
        return self.y + self.h

    def overlaps(self, other: Box) -> bool:
        """Whether the two rectangles share any area."""
        return (
            self.x < other.x + other.w
            and other.x < self.x + self.w
            and self.y < other.top
            and other.y < self.top
        )


Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Band:
    """A perspective's horizontal strip and the y-range of its rows of boxes."""

    index: int
    y: float
    h: float
    row_y: float
    row_h: float


@dataclass(frozen=True, slots=True)
class Row:
    """One row of boxes: its y-range (a band has one row per PER_ROW objectives)."""

    index: int
    band: int
    row_y: float
    row_h: float


@dataclass(slots=True)
class MapLayout:
    """Where everything goes: the figure size, bands, boxes and one path per link."""

    width: float
    height: float
    bands: list[Band] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    boxes: dict[str, Box] = field(default_factory=dict)
    paths: list[list[Point]] = field(default_factory=list)


def layout(
    layers: Sequence[Sequence[str]],
    links: Sequence[tuple[str, str]],
    box_h: Sequence[float],
    *,
    box_w: float = BOX_W,
) -> MapLayout:
    """Place `layers` (object keys per band, top first, in map order) and route `links`.

    `box_h[i]` is the box height of band i (taller when names wrap or KPIs are listed).
    Links whose ends are not placed are skipped (their path list keeps the link order of
    the ones that are).
    """
    splits = [_split(layer) for layer in layers]
    widest = max((len(row) for rows in splits for row in rows), default=0)
    area_w = max(widest * (box_w + GAP) + GAP, MIN_WIDTH - LABEL_W - CHANNEL - 2 * MARGIN)
    width = LABEL_W + area_w + CHANNEL + 2 * MARGIN
    heights = [len(rows) * (h + 2 * ROW_PAD) for rows, h in zip(splits, box_h, strict=True)]
    height = TITLE_H + sum(heights) + LEGEND_H
    result = MapLayout(width=width, height=height)
    left = MARGIN + LABEL_W
    columns = max(1, widest)
    slot = area_w / columns
    w = min(box_w, slot - GAP)
    y = height - TITLE_H
    for index, rows in enumerate(splits):
        band_h = heights[index]
        top = y
        y -= band_h
        h = box_h[index]
        result.bands.append(Band(index, y, band_h, y + ROW_PAD, band_h - 2 * ROW_PAD))
        for number, row in enumerate(rows):
            row_y = top - (number + 1) * (h + 2 * ROW_PAD) + ROW_PAD
            result.rows.append(Row(len(result.rows), index, row_y, h))
            for i, key in enumerate(row):
                x = left + slot * (_column(i, len(row), columns) + 0.5) - w / 2
                result.boxes[key] = Box(key, index, len(result.rows) - 1, x, row_y, w, h)
    result.paths = _route(result, links, left + area_w, left)
    return result


def _column(i: int, count: int, columns: int) -> float:
    """The grid position of a row's i-th box: spread evenly, snapped to half columns so
    the gaps of rows with fewer boxes still line up with the others' (wider channels)."""
    even = (i + 0.5) * columns / count - 0.5
    return min(columns - 1.0, max(0.0, round(even * 2) / 2))


def _split(layer: Sequence[str]) -> list[list[str]]:
    """A band's objectives in balanced rows of at most PER_ROW (one empty row if none)."""
    count = max(1, -(-len(layer) // PER_ROW))
    size = -(-len(layer) // count) if layer else 0
    return [list(layer[i * size : (i + 1) * size]) for i in range(count)]


def _route(
    plan: MapLayout, links: Sequence[tuple[str, str]], area_right: float, area_left: float
) -> list[list[Point]]:
    placed = [(c, e) for c, e in links if c in plan.boxes and e in plan.boxes]
    channels = _channels(plan, placed, area_left, area_right)
    skeletons: list[list[Point]] = []
    for number, (cause, effect) in enumerate(placed):
        a, b = plan.boxes[cause], plan.boxes[effect]
        if a.row == b.row:
            lane = plan.rows[a.row].row_y - ROW_PAD * (
                0.35 + 0.4 * _spread(number, placed, a.row, plan)
            )
            skeletons.append([(a.cx, a.y), (a.cx, lane), (b.cx, lane), (b.cx, b.y)])
            continue
        up = b.row < a.row  # effect above cause: leave the cause's top
        start = (a.cx, a.top if up else a.y)
        end = (b.cx, b.y if up else b.top)
        if abs(a.row - b.row) == 1:
            skeletons.append([start, end])
            continue
        x = channels[number]
        inner = range(b.row + 1, a.row) if up else range(a.row + 1, b.row)
        first = plan.rows[inner[-1] if up else inner[0]]
        last = plan.rows[inner[0] if up else inner[-1]]
        y1 = first.row_y if up else first.row_y + first.row_h
        y2 = last.row_y + last.row_h if up else last.row_y
        skeletons.append([start, (x, y1), (x, y2), end])
    return _spread_ports(plan, placed, skeletons)


def _spread(number: int, placed: Sequence[tuple[str, str]], row: int, plan: MapLayout) -> float:
    """0..1: this same-row link's lane among the row's same-row links."""
    same = [
        i
        for i, (c, e) in enumerate(placed)
        if plan.boxes[c].row == row and plan.boxes[e].row == row
    ]
    return same.index(number) / max(1, len(same) - 1) if len(same) > 1 else 0.0


def _free(plan: MapLayout, row: int, left: float, right: float) -> list[tuple[float, float]]:
    """The gaps of one row: between its boxes and at both ends (including the margin)."""
    boxes = sorted((b for b in plan.boxes.values() if b.row == row), key=lambda b: b.x)
    edges = [left - GAP / 2, *[v for b in boxes for v in (b.x, b.x + b.w)], right + CHANNEL]
    return [(edges[i], edges[i + 1]) for i in range(0, len(edges), 2)]


def _channels(
    plan: MapLayout, placed: Sequence[tuple[str, str]], left: float, right: float
) -> dict[int, float]:
    """The x of each band-skipping link's climb: the common gap nearest its ends' midpoint."""
    wanted: dict[tuple[float, float], list[tuple[float, int]]] = {}
    for number, (cause, effect) in enumerate(placed):
        a, b = plan.boxes[cause], plan.boxes[effect]
        if abs(a.row - b.row) < 2:
            continue
        lo, hi = sorted((a.row, b.row))
        common = [(left - GAP / 2, right + CHANNEL)]
        for row in range(lo + 1, hi):
            common = _intersect(common, _free(plan, row, left, right))
        mid = (a.cx + b.cx) / 2
        best = min(common, key=lambda g: abs(min(max(mid, g[0]), g[1]) - mid))
        wanted.setdefault(best, []).append((mid, number))
    result: dict[int, float] = {}
    for (g0, g1), users in wanted.items():
        users.sort()
        pad = min(0.12, (g1 - g0) / 4)
        step = (g1 - g0 - 2 * pad) / (len(users) + 1)
        for rank, (_, number) in enumerate(users, start=1):
            result[number] = g0 + pad + step * rank
    return result


def _intersect(
    a: Sequence[tuple[float, float]], b: Sequence[tuple[float, float]]
) -> list[tuple[float, float]]:
    out = []
    for a0, a1 in a:
        for b0, b1 in b:
            lo, hi = max(a0, b0), min(a1, b1)
            if hi - lo > 0.05:
                out.append((lo, hi))
    return out


def _spread_ports(
    plan: MapLayout, placed: Sequence[tuple[str, str]], skeletons: list[list[Point]]
) -> list[list[Point]]:
    """Move each arrow end along its box edge, ordered by where the arrow goes next."""
    ends: dict[tuple[str, float], list[tuple[float, int, int]]] = {}
    for number, ((cause, effect), path) in enumerate(zip(placed, skeletons, strict=True)):
        ends.setdefault((cause, path[0][1]), []).append((path[1][0], number, 0))
        ends.setdefault((effect, path[-1][1]), []).append((path[-2][0], number, -1))
    paths = [list(p) for p in skeletons]
    for (key, _), users in ends.items():
        box = plan.boxes[key]
        users.sort()
        usable = box.w * 0.7
        for rank, (_, number, which) in enumerate(users):
            x = box.x + box.w * 0.15 + usable * (rank + 0.5) / len(users)
            path = paths[number]
            y = path[which][1]
            path[which] = (x, y)
            # keep the lane/climb segment next to the end vertical where it was vertical
            nxt = 1 if which == 0 else -2
            if (
                len(path) == 4
                and plan.boxes[placed[number][0]].row == plan.boxes[placed[number][1]].row
            ):
                path[nxt] = (x, path[nxt][1])
    return paths


def segment_hits_box(p: Point, q: Point, box: Box, inset: float = 1e-6) -> bool:
    """Whether segment p→q passes through the inside of `box` (touching an edge is fine)."""
    x0, y0 = box.x + inset, box.y + inset
    x1, y1 = box.x + box.w - inset, box.top - inset
    t0, t1 = 0.0, 1.0
    dx, dy = q[0] - p[0], q[1] - p[1]
    for d, lo, hi, start in ((dx, x0, x1, p[0]), (dy, y0, y1, p[1])):
        if abs(d) < 1e-12:
            if start <= lo or start >= hi:
                return False
            continue
        a, b = (lo - start) / d, (hi - start) / d
        if a > b:
            a, b = b, a
        t0, t1 = max(t0, a), min(t1, b)
        if t0 >= t1:
            return False
    return True


def crossings(paths: Sequence[Sequence[Point]]) -> int:
    """How many pairs of arrows cross as drawn (paths that only touch do not count)."""
    # each segment with its box (x low, x high, y low, y high)
    segments = [
        [
            (a, b, min(a[0], b[0]), max(a[0], b[0]), min(a[1], b[1]), max(a[1], b[1]))
            for a, b in pairwise(path)
        ]
        for path in paths
    ]
    boxes = [
        (
            min(x for x, _ in path),
            max(x for x, _ in path),
            min(y for _, y in path),
            max(y for _, y in path),
        )
        for path in paths
    ]
    count = 0
    for i, (ax0, ax1, ay0, ay1) in enumerate(boxes):
        for j in range(i + 1, len(paths)):
            bx0, bx1, by0, by1 = boxes[j]
            if ax1 <= bx0 or bx1 <= ax0 or ay1 <= by0 or by1 <= ay0:
                continue  # apart: most pairs of a big map
            count += any(
                _cross((p0, p1), (q0, q1))
                for p0, p1, px0, px1, py0, py1 in segments[i]
                for q0, q1, qx0, qx1, qy0, qy1 in segments[j]
                # segments whose boxes at most touch cannot cross inside both: most pairs
                # (routes run in channels), skipped without four cross products
                if px1 > qx0 and qx1 > px0 and py1 > qy0 and qy1 > py0
            )
    return count


def _cross(a: tuple[Point, Point], b: tuple[Point, Point]) -> bool:
    """Whether two segments cross at a point inside both (strictly: no shared ends)."""

    def side(p: Point, q: Point, r: Point) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    (p1, p2), (q1, q2) = a, b
    return side(p1, p2, q1) * side(p1, p2, q2) < 0 and side(q1, q2, p1) * side(q1, q2, p2) < 0
