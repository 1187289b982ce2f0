"""The strategy map picture: geometry rules over many maps, and one real 30/40 render."""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.pictures import layout, style
from handlers.pictures.strategy import map_figure, map_png, plan
from tests.pictures.support import big_map, decode, texts


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
def drawn() -> Any:
    spec = big_map()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph would be a UserWarning
        fig = map_figure(spec)
        png = style.png(fig)
    return spec, fig, png


def test_map_of_30_objectives_and_40_links_is_a_png_of_phone_size(drawn: Any) -> None:
    _, _, png = drawn
    width, height = decode(png)
    assert 1000 <= width <= 1400 and 1000 <= height <= 2000  # tall, not wide: phone screens


def test_every_objective_name_is_drawn_cyrillic_included_emoji_dropped(drawn: Any) -> None:
    spec, fig, _ = drawn
    shown = " | ".join(texts(fig))
    for band in spec.bands:
        assert style.safe(band.name).upper() in shown
        for box in band.boxes:
            assert style.safe(box.name) in shown, box.name
    assert "Рост выручки от статей" in shown and "🚀" not in shown


def test_one_arrow_per_link(drawn: Any) -> None:
    spec, fig, _ = drawn
    arrows = [a.get_gid() for a in fig.findobj() if str(a.get_gid()).startswith("link:")]
    assert sorted(arrows) == sorted(f"link:{c}->{e}" for c, e in spec.links)
    assert len(spec.links) == 40


def test_fill_colours_follow_statuses_and_no_data_is_hatched(drawn: Any) -> None:
    from matplotlib.colors import to_hex

    spec, fig, _ = drawn
    patches = {a.get_gid(): a for a in fig.findobj() if str(a.get_gid()).startswith("box:")}
    for band in spec.bands:
        for box in band.boxes:
            patch = patches[f"box:{box.key}"]
            assert to_hex(patch.get_facecolor()) == style.FILL[box.status]
            assert bool(patch.get_hatch()) == (box.status == "nodata")
    assert style.FILL["nodata"] != style.FILL["red"]


def test_the_drawn_arrows_are_the_checked_geometry(drawn: Any) -> None:
    spec, _, _ = drawn
    geometry = plan(spec)
    for path in geometry.paths:
        for p, q in itertools.pairwise(path):
            assert not any(layout.segment_hits_box(p, q, b) for b in geometry.boxes.values())


def test_a_map_without_objectives_or_links_still_draws() -> None:
    spec = big_map(objectives=0, links=0)
    assert map_png(spec).startswith(b"\x89PNG")
