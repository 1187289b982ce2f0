"""The strategy map as a graph: cause→effect links between objectives, loops, and layout order.

A strategy map reads one way (learning → processes → customers → finance), so
a link that would close a loop is refused; `cycle_path` names the loop for the
message ("cac → leads → cac"). A link from an objective to itself is a loop.

`order_objectives` orders objectives inside each perspective so linked ones sit
near each other and links cross less: the barycentre heuristic (each objective
moves to the mean position of the objectives it is linked to, sweeping down
and up the perspectives) with the current order breaking ties, then swaps of
neighbours while they help. The best order seen (fewest crossings, then
shortest sideways links), the input order included, is kept: it never adds
crossings, and the same input gives the same map.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from itertools import groupby
from math import lcm
from operator import itemgetter

from scoring.models import Link, Objective, Perspective

_SWEEPS = 8
_REMEMBERED = 64  # maps whose order is remembered (a few bytes of keys each)
Pairs = Sequence[tuple[str, str]]  # (cause, effect) keys of links


def _successors(links: Iterable[Link]) -> dict[str, list[str]]:
    """cause → its effects, in link order (so paths are reproducible)."""
    graph: dict[str, list[str]] = {}
    for link in links:
        graph.setdefault(link.cause, []).append(link.effect)
    return graph


def cycle_path(links: Iterable[Link], cause: str, effect: str) -> list[str] | None:
    """The loop that adding `cause → effect` would close, from cause back to cause; else None.

    The loop closes when `effect` already leads to `cause`; the shortest such
    chain is returned, e.g. ["cac", "leads", "cac"].
    """
    if cause == effect:
        return [cause, cause]
    graph = _successors(links)
    parent: dict[str, str] = {effect: effect}
    queue = deque([effect])
    while queue:
        node = queue.popleft()
        for nxt in graph.get(node, ()):
            if nxt in parent:
                continue
            parent[nxt] = node
            if nxt == cause:
                chain = [cause]
                while chain[-1] != effect:
                    chain.append(parent[chain[-1]])
                return [cause, *reversed(chain)]
            queue.append(nxt)
    return None


def would_create_cycle(links: Iterable[Link], cause: str, effect: str) -> bool:
    """Whether adding `cause → effect` would make the links go in a circle."""
    return cycle_path(links, cause, effect) is not None


def _layers(
    perspectives: Sequence[Perspective], objectives: Sequence[Objective]
) -> list[list[Objective]]:
    """Objectives grouped by perspective, top of the map first, input order within."""
    ordered = sorted(perspectives, key=lambda p: p.order)
    members: dict[str, list[Objective]] = {p.key: [] for p in ordered}
    for objective in objectives:
        group = members.get(objective.perspective)
        if group is not None:
            group.append(objective)
    return [members[p.key] for p in ordered]


def _positions(layers: Sequence[Sequence[str]]) -> dict[str, tuple[int, float]]:
    """key → (layer index, position scaled to 0..1) so layers of any size compare."""
    return {
        key: (depth, (i + 0.5) / len(layer))
        for depth, layer in enumerate(layers)
        for i, key in enumerate(layer)
    }


def _cost(layers: Sequence[Sequence[str]], links: Pairs) -> tuple[int, float]:
    """(crossing pairs of links between the same two perspectives, total sideways link length)."""
    pos = _positions(layers)
    edges: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for cause, effect in links:
        if cause not in pos or effect not in pos:
            continue
        (la, pa), (lb, pb) = pos[cause], pos[effect]
        if la == lb:
            continue
        if la > lb:
            (la, pa), (lb, pb) = (lb, pb), (la, pa)
        edges.setdefault((la, lb), []).append((pa, pb))
    return sum(_inversions(group) for group in edges.values()), _length(pos, links)


def _length(pos: Mapping[str, tuple[int, float]], links: Pairs) -> float:
    """Total sideways length of the links, rounded so that float noise never decides."""
    length = 0.0
    for cause, effect in links:
        if cause in pos and effect in pos:
            length += abs(pos[cause][1] - pos[effect][1])
    return round(length, 9)


def _inversions(pairs: Sequence[tuple[float, float]]) -> int:
    """How many pairs (a1, b1), (a2, b2) have a1 < a2 and b1 > b2: links between two layers
    that cross (shared ends do not). Counted with a sorted list rather than pair by pair:
    the ordering tries about a hundred orders per `/map`, on the event loop."""
    below: list[float] = []  # sorted b of the links whose a is smaller than the current a
    count = 0
    for _, same_a in groupby(sorted(pairs), key=itemgetter(0)):
        ends = [b for _, b in same_a]
        for b in ends:
            count += len(below) - bisect_right(below, b)
        for b in ends:
            insort(below, b)
    return count


def count_crossings(
    perspectives: Sequence[Perspective],
    order: Mapping[str, Sequence[Objective]],
    links: Sequence[Link],
) -> int:
    """How many pairs of links cross when the perspectives are drawn in `order`, counted
    whole: what the tests judge the ordering and its incremental swaps (`_Swaps`) by."""
    ranked = sorted(perspectives, key=lambda p: p.order)
    keys = [[o.key for o in order.get(p.key, ())] for p in ranked]
    return _cost(keys, _pairs(links))[0]


def _reorder(
    layer: Sequence[str],
    pos: Mapping[str, tuple[int, float]],
    neighbours: Mapping[str, Sequence[str]],
) -> list[str]:
    """One layer sorted by the mean position of each objective's linked objectives."""

    def barycentre(item: tuple[int, str]) -> tuple[float, int]:
        index, key = item
        linked = [pos[k][1] for k in neighbours.get(key, ()) if k in pos]
        centre = sum(linked) / len(linked) if linked else pos[key][1]
        return centre, index

    return [key for _, key in sorted(enumerate(layer), key=barycentre)]


def order_objectives(
    perspectives: Sequence[Perspective],
    objectives: Sequence[Objective],
    links: Sequence[Link],
) -> dict[str, list[Objective]]:
    """Objectives of each perspective (by key) in map order: linked ones close together.

    The order depends only on the objectives' keys, their perspectives and input order and
    the links, never on names or scores, so it is remembered for the last few maps (`_ordered`
    takes exactly those as its key): `/map`, its `why`, zoom and text versions of one map
    order it once, on the event loop, until the map itself changes."""
    ranked = sorted(perspectives, key=lambda p: p.order)
    layers = _layers(ranked, objectives)
    orders = _ordered(tuple(tuple(o.key for o in layer) for layer in layers), _pairs(links))
    placed: dict[str, list[Objective]] = {}
    for perspective, layer, keys in zip(ranked, layers, orders, strict=True):
        by_key = {o.key: o for o in layer}
        placed[perspective.key] = [by_key[key] for key in keys]
    return placed


def _pairs(links: Iterable[Link]) -> tuple[tuple[str, str], ...]:
    """The links as (cause, effect) keys: hashable, so `_ordered` can remember by them."""
    return tuple((link.cause, link.effect) for link in links)


@lru_cache(maxsize=_REMEMBERED)
def _ordered(layers: tuple[tuple[str, ...], ...], links: Pairs) -> tuple[tuple[str, ...], ...]:
    """Each layer's keys in map order (see the module's docstring); a pure function of its
    arguments, remembered."""
    neighbours: dict[str, list[str]] = {}
    for cause, effect in links:
        if cause != effect:
            neighbours.setdefault(cause, []).append(effect)
            neighbours.setdefault(effect, []).append(cause)
    current = [list(layer) for layer in layers]
    best, best_cost = [list(layer) for layer in layers], _cost(layers, links)
    pos = _positions(current)
    for sweep in range(_SWEEPS):
        depths = range(len(current)) if sweep % 2 == 0 else range(len(current) - 1, -1, -1)
        changed = False
        for depth in depths:
            reordered = _reorder(current[depth], pos, neighbours)
            changed = changed or reordered != current[depth]
            current[depth] = reordered
            for i, key in enumerate(reordered):
                pos[key] = (depth, (i + 0.5) / len(reordered))
        cost = _cost(current, links)
        if cost < best_cost:
            best, best_cost = [list(layer) for layer in current], cost
        if not changed:
            break
    return tuple(tuple(layer) for layer in _transpose(best, links, best_cost))


def _transpose(layers: list[list[str]], links: Pairs, cost: tuple[int, float]) -> list[list[str]]:
    """Swap neighbours inside a layer while that lowers the cost (a finishing pass).

    Each swap is judged by what it changes (`_Swaps`), not by counting the whole map again:
    this pass tries about a hundred swaps per `/map`, on the event loop."""
    swaps = _Swaps(layers, links)
    improved = True
    for _ in range(_SWEEPS):
        if not improved:
            break
        improved = False
        for depth, layer in enumerate(layers):
            for i in range(len(layer) - 1):
                swapped = swaps.swap_if_better(depth, i, cost)
                if swapped is not None:
                    cost, improved = swapped, True
    return layers


class _Swaps:
    """Layers whose neighbours can be swapped, with what a swap does to `_cost`.

    Swapping neighbours u, v changes only whether a link of u crosses a link of v (every
    other pair keeps its order at both ends) and only the lengths of u's and v's links, so
    only those are counted: exactly, in integers (a position is (2i + 1) / 2n; scaled by
    the layers' common multiple it is whole). A swap that adds crossings, or ties on them
    and lengthens the links, is refused from that alone; any other is made and its length
    summed as `_cost` sums it, so the choice is the full count's to the last bit (the
    tests check it against the full count on random maps). Keys are unique (a chat's
    objectives).
    """

    def __init__(self, layers: list[list[str]], links: Pairs) -> None:
        self.layers = layers
        self.links = links
        self.pos = _positions(layers)  # as `_cost` computes them, updated on every swap
        self.index = {key: i for layer in layers for i, key in enumerate(layer)}
        self.depth = {key: depth for key, (depth, _) in self.pos.items()}
        self.scale = lcm(*(len(layer) for layer in layers if layer))
        # an exact difference of 1 / 2·scale is far above the float sum's noise
        self.exact = 2 * self.scale * (len(links) + 1) ** 2 < 10**15
        self.linked: dict[str, list[str]] = {}  # the other end of each link, both ways
        self.across: dict[str, list[str]] = {}  # … of each link to another layer
        for cause, effect in links:
            if cause == effect or cause not in self.pos or effect not in self.pos:
                continue
            self.linked.setdefault(cause, []).append(effect)
            self.linked.setdefault(effect, []).append(cause)
            if self.depth[cause] != self.depth[effect]:
                self.across.setdefault(cause, []).append(effect)
                self.across.setdefault(effect, []).append(cause)

    def crossings_change(self, u: str, v: str) -> int:
        """How many more crossings once neighbours u (left) and v change places."""
        change = 0
        depth, index = self.depth, self.index
        for x in self.across.get(u, ()):
            for y in self.across.get(v, ()):
                if depth[x] == depth[y] and x != y:
                    change += 1 if index[x] < index[y] else -1
        return change

    def _exact(self, key: str) -> int:
        """`key`'s position in whole units of 1 / 2·scale, so length changes add up exactly."""
        layer = self.layers[self.depth[key]]
        return (2 * self.index[key] + 1) * (self.scale // len(layer))

    def length_change(self, u: str, v: str) -> int:
        """How much longer the links get once neighbours u (left) and v change places, in
        units of 1 / 2·scale (a link between u and v keeps its length)."""
        at_u, at_v = self._exact(u), self._exact(v)
        change = 0
        for w in self.linked.get(u, ()):
            if w != v:
                at_w = self._exact(w)
                change += abs(at_v - at_w) - abs(at_u - at_w)
        for w in self.linked.get(v, ()):
            if w != u:
                at_w = self._exact(w)
                change += abs(at_u - at_w) - abs(at_v - at_w)
        return change

    def _swap(self, depth: int, i: int) -> None:
        layer = self.layers[depth]
        layer[i], layer[i + 1] = layer[i + 1], layer[i]
        for j in (i, i + 1):
            key = layer[j]
            self.index[key] = j
            self.pos[key] = (depth, (j + 0.5) / len(layer))

    def swap_if_better(
        self, depth: int, i: int, cost: tuple[int, float]
    ) -> tuple[int, float] | None:
        """Swap the objectives at i and i + 1 if that lowers `cost`: the new cost, or None."""
        layer = self.layers[depth]
        u, v = layer[i], layer[i + 1]
        if u not in self.linked and v not in self.linked:
            return None  # nothing drawn changes
        crossings = cost[0] + self.crossings_change(u, v)
        if crossings > cost[0]:
            return None
        if crossings == cost[0] and self.exact and self.length_change(u, v) > 0:
            return None
        self._swap(depth, i)
        swapped = (crossings, _length(self.pos, self.links))
        if swapped < cost:
            return swapped
        self._swap(depth, i)
        return None


def causes_tree(
    links: Sequence[Link], start: str, rank: Callable[[str], int | float]
) -> list[tuple[int, str, str | None]]:
    """The causes of `start`, walked down the links: (depth, key, the effect it explains).

    Depth-first with the worst cause (lowest `rank`) first at every level, so the chain a
    reader should follow comes first; an objective reached twice is listed once.
    """
    causes: dict[str, list[str]] = {}
    for link in links:
        causes.setdefault(link.effect, []).append(link.cause)
    seen = {start}
    out: list[tuple[int, str, str | None]] = [(0, start, None)]

    def walk(key: str, depth: int) -> None:
        for cause in sorted(causes.get(key, ()), key=lambda k: (rank(k), k)):
            if cause in seen:
                continue
            seen.add(cause)
            out.append((depth + 1, cause, key))
            walk(cause, depth + 1)

    walk(start, 0)
    return out
