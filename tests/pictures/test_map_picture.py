"""The strategy map picture: geometry rules over many maps, and one real 30/40 render read
back from the canvas's record of what it drew."""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.pictures import layout, style
from handlers.pictures.canvas import Canvas, Drawn
from handlers.pictures.strategy import (
    BandSpec,
    BoxSpec,
    KpiMark,
    MapSpec,
    arranged,
    map_canvas,
    map_png,
)
from tests.pictures.support import STATUSES, big_map, decode, drawn_texts


@st.composite
def maps(draw: st.DrawFn) -> tuple[list[list[str]], list[tuple[str, str]], list[float]]:
    sizes = draw(st.lists(st.integers(0, 9), min_size=1, max_size=7))
    layers = [[f"b{b}o{i}" for i in range(n)] for b, n in enumerate(sizes)]
    keys = [k for layer in layers for k in layer]
    links: list[tuple[str, str]] = []
    if len(keys) >= 2:
        pairs = st.tuples(st.sampled_from(keys), st.sampled_from(keys)).filter(
            lambda p: p[0] != p[1]
        )
        links = draw(st.lists(pairs, max_size=45, unique=True))
    heights = [draw(st.sampled_from([0.95, 1.2, 1.6])) for _ in layers]
    return layers, links, heights


@settings(max_examples=150, deadline=None)
@given(maps())
def test_boxes_never_overlap_and_no_arrow_runs_under_a_box(
    case: tuple[list[list[str]], list[tuple[str, str]], list[float]],
) -> None:
    layers, links, heights = case
    geometry = layout.layout(layers, links, heights)
    boxes = list(geometry.boxes.values())
    assert len(boxes) == sum(len(layer) for layer in layers)
    for i, a in enumerate(boxes):
        assert a.x >= 0 and a.x + a.w <= geometry.width and a.y >= 0 and a.top <= geometry.height
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b), (a, b)
    assert len(geometry.paths) == len(links)
    for (cause, effect), path in zip(links, geometry.paths, strict=True):
        start, end = geometry.boxes[cause], geometry.boxes[effect]
        assert start.x <= path[0][0] <= start.x + start.w and path[0][1] in (start.y, start.top)
        assert end.x <= path[-1][0] <= end.x + end.w and path[-1][1] in (end.y, end.top)
        for p, q in itertools.pairwise(path):
            for box in boxes:
                assert not layout.segment_hits_box(p, q, box), (cause, effect, box.key)


def test_a_segment_through_a_box_is_caught() -> None:
    box = layout.Box("x", 0, 0, 1.0, 1.0, 1.0, 1.0)
    assert layout.segment_hits_box((0.0, 1.5), (3.0, 1.5), box)
    assert not layout.segment_hits_box((0.0, 2.0), (3.0, 2.0), box)  # along the edge
    assert not layout.segment_hits_box((1.5, 2.0), (1.5, 3.0), box)  # leaving from the top


@pytest.fixture(scope="module")
def drawn() -> tuple[MapSpec, Canvas, bytes]:
    spec = big_map()
    canvas = map_canvas(spec)
    return spec, canvas, canvas.png()


def _boxes(canvas: Canvas) -> dict[str, Drawn]:
    return {d.gid[4:]: d for d in canvas.record if d.gid.startswith("box:")}


def test_map_of_30_objectives_and_40_links_is_a_png_of_phone_size(drawn: Any) -> None:
    _, canvas, png = drawn
    width, height = decode(png)
    assert 1000 <= width <= 1400 and 1000 <= height <= 2000  # tall, not wide: phone screens
    assert (width, height) == canvas.size


def test_every_objective_name_is_drawn_cyrillic_included_emoji_dropped(drawn: Any) -> None:
    spec, canvas, _ = drawn
    shown = " | ".join(drawn_texts(canvas))
    letters = "".join(shown.split())  # a name may wrap anywhere
    for band in spec.bands:
        assert style.safe(band.name).upper() in shown
        for box in band.boxes:
            assert "".join(style.safe(box.name).split()) in letters, box.name
    assert "Рост выручки от статей" in shown and "🚀" not in shown


def test_every_drawn_glyph_is_in_the_bundled_font(drawn: Any) -> None:
    _, canvas, _ = drawn
    glyphs = style._charmap()
    for text in drawn_texts(canvas):
        assert all(ord(ch) in glyphs for ch in text.replace(" ", "")), text


def test_names_fit_inside_their_box_and_every_text_inside_the_picture(drawn: Any) -> None:
    _, canvas, _ = drawn
    boxes = _boxes(canvas)
    for d in canvas.record:
        left, bottom, right, top = d.box
        assert left >= 0 and right <= canvas.width and bottom >= 0 and top <= canvas.height
        if d.gid.startswith(("name:", "score:")):
            box = boxes[d.gid.split(":", 1)[1]].box
            assert box[0] <= left and right <= box[2] and box[1] <= bottom and top <= box[3], d


def test_one_arrow_per_link(drawn: Any) -> None:
    spec, canvas, _ = drawn
    arrows = [d.gid for d in canvas.record if d.kind == "arrow"]
    assert sorted(arrows) == sorted(f"link:{c}->{e}" for c, e in spec.links)
    assert len(spec.links) == 40


def test_fill_colours_follow_statuses_and_no_data_is_hatched(drawn: Any) -> None:
    spec, canvas, _ = drawn
    boxes = _boxes(canvas)
    for band in spec.bands:
        for box in band.boxes:
            rect = boxes[box.key]
            assert rect.fill == style.FILL[box.status]
            assert rect.hatch == (box.status == "nodata")
    assert style.FILL["nodata"] != style.FILL["red"]


def test_the_drawn_boxes_never_overlap_and_no_drawn_arrow_runs_under_one(drawn: Any) -> None:
    _, canvas, _ = drawn
    rects = [
        layout.Box(gid, 0, 0, left, bottom, right - left, top - bottom)
        for gid, d in _boxes(canvas).items()
        for left, bottom, right, top in [d.box]
    ]
    assert len(rects) == 30
    for i, a in enumerate(rects):
        assert not any(a.overlaps(b) for b in rects[i + 1 :]), a
    for arrow in (d for d in canvas.record if d.kind == "arrow"):
        for p, q in itertools.pairwise(arrow.points):
            assert not any(layout.segment_hits_box(p, q, b) for b in rects), arrow.gid


def test_the_drawn_arrows_are_the_checked_geometry(drawn: Any) -> None:
    spec, canvas, _ = drawn
    _, geometry = arranged(spec)
    drawn_paths = [list(d.points) for d in canvas.record if d.kind == "arrow"]
    assert drawn_paths == geometry.paths


def test_why_keeps_the_path_in_full_colour_and_fades_the_rest() -> None:
    spec = big_map(objectives=8, links=6)
    path_link = spec.links[0]
    why = replace(spec, highlight=frozenset(path_link), highlight_links=frozenset([path_link]))
    canvas = map_canvas(why)
    for d in canvas.record:
        if d.kind == "arrow":
            on_path = d.gid == f"link:{path_link[0]}->{path_link[1]}"
            assert (d.fill, d.alpha) == (("#cf222e", 0.85) if on_path else ("#424a53", 0.18))
        elif d.gid.startswith("box:"):
            assert d.alpha == (1.0 if d.gid[4:] in path_link else 0.25)


def test_a_zoomed_band_lists_each_objectives_kpis_in_its_box() -> None:
    kpis = (KpiMark("Blog visits", "12 000", "yellow"), KpiMark("Посещения", "—", "nodata"))
    box = BoxSpec("traffic", "Более трафика", "60%", "yellow", kpis)
    spec = MapSpec("Customers", (BandSpec("Customers", "60%", "yellow", (box,)),), (), box_w=3.0)
    canvas = map_canvas(spec)
    lines = [d for d in canvas.record if d.gid == "kpi:traffic"]
    assert [d.text for d in lines] == ["Blog visits: 12 000", "Посещения: —"]
    frame = _boxes(canvas)["traffic"].box
    assert all(frame[0] < d.box[0] and d.box[2] <= frame[2] for d in lines)


def test_a_map_without_objectives_or_links_still_draws() -> None:
    spec = big_map(objectives=0, links=0)
    assert map_png(spec).startswith(b"\x89PNG")
    assert "no objectives yet" in drawn_texts(map_canvas(spec))


# names from words, long ones, Cyrillic, Greek, emoji and dashes (emoji must vanish)
_NAME = st.lists(
    st.sampled_from(["abc", "XYZ", "Рост", "выручки", "Ωmega", "🚀", "—", "Supercalifragilistic"]),
    min_size=1,
    max_size=14,
).map(" ".join)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.lists(_NAME, max_size=5), min_size=1, max_size=5),
    st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), max_size=12),
    st.sampled_from(list(STATUSES)),
)
def test_any_map_draws_every_name_inside_its_box_and_one_arrow_per_link(
    names: list[list[str]], pairs: list[tuple[int, int]], status: str
) -> None:
    bands = tuple(
        BandSpec(
            f"Band {b}",
            "50%",
            status,
            tuple(BoxSpec(f"b{b}o{i}", name, "50%", status) for i, name in enumerate(layer)),
        )
        for b, layer in enumerate(names)
    )
    keys = [box.key for band in bands for box in band.boxes]
    links = {(keys[c % len(keys)], keys[e % len(keys)]) for c, e in pairs} if keys else set()
    spec = MapSpec("Map", bands, tuple(sorted((c, e) for c, e in links if c != e)))
    canvas = map_canvas(spec)
    boxes = _boxes(canvas)
    glyphs = style._charmap()
    for d in canvas.record:
        assert all(ord(ch) in glyphs for ch in d.text.replace("\n", "")), d.text
        if d.gid.startswith("name:"):
            box = boxes[d.gid[5:]].box
            assert box[0] <= d.box[0] and d.box[2] <= box[2] and box[1] <= d.box[1], d
            assert d.text.count("\n") < 3
    arrows = sorted(d.gid for d in canvas.record if d.kind == "arrow")
    assert arrows == sorted(f"link:{c}->{e}" for c, e in spec.links)
