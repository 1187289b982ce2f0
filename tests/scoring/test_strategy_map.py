"""Strategy map: loops refused with their path, stable ordering that keeps links short."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.models import Link, Objective, Perspective
from scoring.strategy_map import (
    _SWEEPS,
    Pairs,
    _cost,
    _inversions,
    _ordered,
    _positions,
    _Swaps,
    _transpose,
    count_crossings,
    cycle_path,
    order_objectives,
    would_create_cycle,
)


def links(*pairs: str) -> list[Link]:
    """Links written "cause>effect"."""
    return [Link(cause=a, effect=b) for a, b in (p.split(">") for p in pairs)]


CHAIN = links("practices>content", "content>traffic", "traffic>customers", "customers>profit")


@pytest.mark.parametrize(
    ("existing", "cause", "effect", "path"),
    [
        ([], "cac", "cac", ["cac", "cac"]),
        (links("leads>cac"), "cac", "leads", ["cac", "leads", "cac"]),
        (
            CHAIN,
            "profit",
            "practices",
            ["profit", "practices", "content", "traffic", "customers", "profit"],
        ),
        (CHAIN, "traffic", "content", ["traffic", "content", "traffic"]),
        (
            links("a>b", "b>c", "c>d", "a>d"),
            "d",
            "a",
            ["d", "a", "d"],  # the shortest loop is named
        ),
    ],
)
def test_cycle_path_names_the_loop_from_cause_back_to_cause(
    existing: list[Link], cause: str, effect: str, path: list[str]
) -> None:
    assert cycle_path(existing, cause, effect) == path
    assert would_create_cycle(existing, cause, effect)


@pytest.mark.parametrize(
    ("existing", "cause", "effect"),
    [
        ([], "a", "b"),
        (CHAIN, "practices", "profit"),  # a shortcut in the same direction
        (CHAIN, "practices", "traffic"),
        (links("a>b", "c>d"), "b", "c"),
        (links("a>b", "a>c"), "b", "c"),  # a diamond is not a loop
    ],
)
def test_links_that_flow_one_way_are_fine(existing: list[Link], cause: str, effect: str) -> None:
    assert cycle_path(existing, cause, effect) is None
    assert not would_create_cycle(existing, cause, effect)


def test_cycle_detection_on_a_long_chain_is_quick_and_exact() -> None:
    chain = [Link(cause=f"n{i}", effect=f"n{i + 1}") for i in range(2000)]
    path = cycle_path(chain, "n2000", "n0")
    assert path is not None and len(path) == 2002
    assert cycle_path(chain, "n0", "n2000") is None


# --- ordering -----------------------------------------------------------------------------


def perspectives(*keys: str) -> list[Perspective]:
    return [Perspective(key=k, name=k.title(), order=i) for i, k in enumerate(keys)]


def objectives(**members: str) -> list[Objective]:
    """objectives(fin="profit revenue") → objectives in the order written."""
    return [
        Objective(key=key, name=key.title(), perspective=p)
        for p, keys in members.items()
        for key in keys.split()
    ]


def keys(order: dict[str, list[Objective]]) -> dict[str, list[str]]:
    return {p: [o.key for o in members] for p, members in order.items()}


def test_without_links_the_input_order_is_kept() -> None:
    ps = perspectives("fin", "cus")
    os = objectives(fin="profit revenue costs", cus="content prospects")
    assert keys(order_objectives(ps, os, [])) == {
        "fin": ["profit", "revenue", "costs"],
        "cus": ["content", "prospects"],
    }


def test_crossing_links_are_uncrossed() -> None:
    ps = perspectives("top", "bottom")
    os = objectives(top="a b", bottom="c d")
    crossing = links("c>b", "d>a")
    assert count_crossings(ps, {"top": os[:2], "bottom": os[2:]}, crossing) == 1
    ordered = order_objectives(ps, os, crossing)
    assert count_crossings(ps, ordered, crossing) == 0


def test_linked_objectives_in_one_perspective_end_up_side_by_side() -> None:
    ps = perspectives("int")
    os = objectives(int="writing x y distribution")
    ordered = keys(order_objectives(ps, os, links("writing>distribution")))["int"]
    gap = abs(ordered.index("writing") - ordered.index("distribution"))
    assert gap == 1


def test_content_marketing_map_loses_most_crossings() -> None:
    ps = perspectives("fin", "cus", "int", "lrn")
    os = objectives(
        fin="profit revenue costs",
        cus="content prospects educate",
        int="writing distribution tracking",
        lrn="ab competitors topics",
    )
    chain = links(
        "topics>writing",
        "competitors>distribution",
        "ab>tracking",
        "writing>prospects",
        "distribution>content",
        "tracking>educate",
        "content>costs",
        "prospects>profit",
        "educate>revenue",
    )
    before = count_crossings(
        ps, {p.key: [o for o in os if o.perspective == p.key] for p in ps}, chain
    )
    after = count_crossings(ps, order_objectives(ps, os, chain), chain)
    assert (before, after) == (6, 1)


def test_every_objective_appears_once_in_its_own_perspective() -> None:
    ps = perspectives("fin", "cus", "empty")
    os = objectives(fin="profit revenue", cus="content prospects educate")
    stray = Objective(key="stray", name="Stray", perspective="gone")
    ordered = order_objectives(ps, [*os, stray], links("content>revenue", "educate>profit"))
    assert set(ordered) == {"fin", "cus", "empty"}
    assert ordered["empty"] == []
    assert sorted(o.key for o in ordered["fin"]) == ["profit", "revenue"]
    assert sorted(o.key for o in ordered["cus"]) == ["content", "educate", "prospects"]
    assert all(o.perspective == p for p, members in ordered.items() for o in members)


def test_perspective_order_field_not_input_order_decides_the_layers() -> None:
    ps = [Perspective(key="cus", name="C", order=1), Perspective(key="fin", name="F", order=0)]
    os = objectives(fin="a b", cus="c d")
    crossing = links("c>b", "d>a")
    assert count_crossings(ps, order_objectives(ps, os, crossing), crossing) == 0


def test_ordering_is_deterministic_and_never_adds_crossings() -> None:
    rng = random.Random(20261123)
    for _ in range(60):
        ps = perspectives("a", "b", "c", "d")
        os = [
            Objective(key=f"{p.key}{i}", name="O", perspective=p.key)
            for p in ps
            for i in range(rng.randint(0, 5))
        ]
        pool = [o.key for o in os]
        pairs = (
            {(rng.choice(pool), rng.choice(pool)) for _ in range(rng.randint(0, 12))}
            if pool
            else set()
        )
        some = [Link(cause=a, effect=b) for a, b in sorted(pairs) if a != b]
        given = {p.key: [o for o in os if o.perspective == p.key] for p in ps}
        first = order_objectives(ps, os, some)
        assert keys(first) == keys(order_objectives(ps, os, some))
        assert count_crossings(ps, first, some) <= count_crossings(ps, given, some)
        for p in ps:
            assert sorted(o.key for o in first[p.key]) == sorted(o.key for o in given[p.key])


@given(
    st.lists(
        st.tuples(
            st.sampled_from([0.125, 0.25, 0.375, 0.5, 0.75]),
            st.sampled_from([0.1, 0.3, 0.5, 0.7, 0.9]),
        ),
        max_size=25,
    )
)
def test_links_between_two_layers_cross_when_their_ends_are_in_opposite_orders(
    pairs: list[tuple[float, float]],
) -> None:
    # the pair-by-pair definition the sorted count replaces; shared ends never cross
    expected = sum(
        1
        for i, (a1, b1) in enumerate(pairs)
        for a2, b2 in pairs[i + 1 :]
        if (a1 - a2) * (b1 - b2) < 0
    )
    assert _inversions(pairs) == expected


# --- the neighbour-swap pass judged by what a swap changes ---------------------------------


def full_transpose(
    layers: list[list[str]], links: Pairs, cost: tuple[int, float]
) -> list[list[str]]:
    """The pass as it was: every swap judged by counting the whole map again."""
    improved = True
    for _ in range(_SWEEPS):
        if not improved:
            break
        improved = False
        for layer in layers:
            for i in range(len(layer) - 1):
                layer[i], layer[i + 1] = layer[i + 1], layer[i]
                swapped = _cost(layers, links)
                if swapped < cost:
                    cost, improved = swapped, True
                else:
                    layer[i], layer[i + 1] = layer[i + 1], layer[i]
    return layers


@st.composite
def maps(draw: st.DrawFn) -> tuple[list[list[str]], list[tuple[str, str]]]:
    """Up to 7 layers of up to 9 objective keys, and links between any of them: inside a
    layer, skipping layers, twice, both ways, to itself, or to an objective not drawn."""
    sizes = draw(st.lists(st.integers(0, 9), min_size=1, max_size=7))
    layers = [[f"o{d}_{i}" for i in range(size)] for d, size in enumerate(sizes)]
    pool = [key for layer in layers for key in layer] + ["gone"]
    pairs = draw(st.lists(st.tuples(st.sampled_from(pool), st.sampled_from(pool)), max_size=45))
    return layers, pairs


@settings(max_examples=150, deadline=None)
@given(maps())
def test_the_swap_pass_picks_what_counting_the_whole_map_picks(
    drawn: tuple[list[list[str]], list[tuple[str, str]]],
) -> None:
    layers, some = drawn
    cost = _cost(layers, some)
    expected = full_transpose([list(layer) for layer in layers], some, cost)
    assert _transpose([list(layer) for layer in layers], some, cost) == expected


@settings(max_examples=100, deadline=None)
@given(maps(), st.data())
def test_a_swaps_change_in_crossings_and_length_is_the_full_counts(
    drawn: tuple[list[list[str]], list[tuple[str, str]]], data: st.DataObject
) -> None:
    layers, some = drawn
    swaps = _Swaps([list(layer) for layer in layers], some)
    for _ in range(data.draw(st.integers(1, 12))):
        depth = data.draw(st.sampled_from(range(len(swaps.layers))))
        layer = swaps.layers[depth]
        if len(layer) < 2:
            continue
        i = data.draw(st.integers(0, len(layer) - 2))
        u, v = layer[i], layer[i + 1]
        crossings, length = swaps.crossings_change(u, v), swaps.length_change(u, v)
        before = _cost(swaps.layers, some)
        swaps._swap(depth, i)  # kept: the next swap starts from here
        after = _cost(swaps.layers, some)
        assert after[0] - before[0] == crossings
        assert after[1] - before[1] == pytest.approx(length / (2 * swaps.scale), abs=1e-9)
        assert swaps.pos == _positions(swaps.layers)


# --- the remembered order --------------------------------------------------------------------

EDITS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(0, 30), st.sampled_from("abcd")),
        st.tuples(st.just("remove"), st.integers(0, 30), st.just("")),
        st.tuples(st.just("move"), st.integers(0, 30), st.sampled_from("abcd")),
        st.tuples(st.just("rename"), st.integers(0, 30), st.just("")),
        st.tuples(st.just("link"), st.integers(0, 30), st.integers(0, 30)),
        st.tuples(st.just("unlink"), st.integers(0, 30), st.just("")),
        st.tuples(st.just("reorder"), st.permutations("abcd"), st.just("")),
    ),
    max_size=40,
)


@settings(max_examples=100, deadline=None)
@given(EDITS)
def test_the_remembered_order_is_always_the_order_computed_afresh(
    edits: list[tuple[object, object, object]],
) -> None:
    """Any sequence of map edits: after each, `/map`'s order (remembered across maps and
    edits) equals ordering that map from scratch."""
    ps = perspectives(*"abcd")
    os: list[Objective] = []
    some: list[Link] = []
    for kind, x, y in edits:
        keys_now = [o.key for o in os]
        if kind == "add":
            os.append(Objective(key=f"k{x}", name=f"K{x}", perspective=str(y)))
        elif kind == "reorder" and isinstance(x, list):
            ps = [Perspective(key=k, name=k, order=x.index(k)) for k in "abcd"]
        elif keys_now and isinstance(x, int):
            at = x % len(keys_now)
            if kind == "remove":
                os.pop(at)
            elif kind == "move":
                os[at] = os[at].model_copy(update={"perspective": str(y)})
            elif kind == "rename":
                os[at] = os[at].model_copy(update={"name": os[at].name + "!"})
            elif kind == "link" and isinstance(y, int):
                some.append(Link(cause=keys_now[at], effect=keys_now[y % len(keys_now)]))
            elif kind == "unlink" and some:
                some.pop(x % len(some))
        remembered = order_objectives(ps, os, some)
        ranked = sorted(ps, key=lambda p: p.order)
        layers = tuple(tuple(o.key for o in os if o.perspective == p.key) for p in ranked)
        afresh = _ordered.__wrapped__(layers, tuple((k.cause, k.effect) for k in some))
        assert {p: [o.key for o in members] for p, members in remembered.items()} == {
            p.key: list(keys) for p, keys in zip(ranked, afresh, strict=True)
        }
        # the objects handed back are the current ones (a rename shows at once)
        assert all(o in os for members in remembered.values() for o in members)
