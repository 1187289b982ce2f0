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
from itertools import groupby
from operator import itemgetter

from scoring.errors import LinkCycleError
from scoring.models import Link, Objective, Perspective

_SWEEPS = 8


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


def check_link(links: Iterable[Link], cause: str, effect: str) -> None:
    """Refuse a link that would close a loop, naming the loop."""
    path = cycle_path(links, cause, effect)
    if path is not None:
        raise LinkCycleError("map.link_loop", cause=cause, effect=effect, path=tuple(path))


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


def _positions(layers: Sequence[Sequence[Objective]]) -> dict[str, tuple[int, float]]:
    """key → (layer index, position scaled to 0..1) so layers of any size compare."""
    return {
        o.key: (depth, (i + 0.5) / len(layer))
        for depth, layer in enumerate(layers)
        for i, o in enumerate(layer)
    }


def _cost(layers: Sequence[Sequence[Objective]], links: Sequence[Link]) -> tuple[int, float]:
    """(crossing pairs of links between the same two perspectives, total sideways link length)."""
    pos = _positions(layers)
    edges: dict[tuple[int, int], list[tuple[float, float]]] = {}
    length = 0.0
    for link in links:
        if link.cause not in pos or link.effect not in pos:
            continue
        (la, pa), (lb, pb) = pos[link.cause], pos[link.effect]
        length += abs(pa - pb)
        if la == lb:
            continue
        if la > lb:
            (la, pa), (lb, pb) = (lb, pb), (la, pa)
        edges.setdefault((la, lb), []).append((pa, pb))
    return sum(_inversions(group) for group in edges.values()), round(length, 9)


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
    """How many pairs of links cross when the perspectives are drawn in `order`."""
    ranked = sorted(perspectives, key=lambda p: p.order)
    return _cost([list(order.get(p.key, ())) for p in ranked], links)[0]


def _reorder(
    layer: Sequence[Objective],
    pos: Mapping[str, tuple[int, float]],
    neighbours: Mapping[str, Sequence[str]],
) -> list[Objective]:
    """One layer sorted by the mean position of each objective's linked objectives."""

    def barycentre(item: tuple[int, Objective]) -> tuple[float, int]:
        index, objective = item
        linked = [pos[k][1] for k in neighbours.get(objective.key, ()) if k in pos]
        centre = sum(linked) / len(linked) if linked else pos[objective.key][1]
        return centre, index

    return [objective for _, objective in sorted(enumerate(layer), key=barycentre)]


def order_objectives(
    perspectives: Sequence[Perspective],
    objectives: Sequence[Objective],
    links: Sequence[Link],
) -> dict[str, list[Objective]]:
    """Objectives of each perspective (by key) in map order: linked ones close together."""
    layers = _layers(perspectives, objectives)
    neighbours: dict[str, list[str]] = {}
    for link in links:
        if link.cause != link.effect:
            neighbours.setdefault(link.cause, []).append(link.effect)
            neighbours.setdefault(link.effect, []).append(link.cause)
    best, best_cost = [list(layer) for layer in layers], _cost(layers, links)
    for sweep in range(_SWEEPS):
        depths = range(len(layers)) if sweep % 2 == 0 else range(len(layers) - 1, -1, -1)
        changed = False
        for depth in depths:
            reordered = _reorder(layers[depth], _positions(layers), neighbours)
            changed = changed or reordered != layers[depth]
            layers[depth] = reordered
        cost = _cost(layers, links)
        if cost < best_cost:
            best, best_cost = [list(layer) for layer in layers], cost
        if not changed:
            break
    best = _transpose(best, links, best_cost)
    ranked = sorted(perspectives, key=lambda p: p.order)
    return {p.key: best[depth] for depth, p in enumerate(ranked)}


def _transpose(
    layers: list[list[Objective]], links: Sequence[Link], cost: tuple[int, float]
) -> list[list[Objective]]:
    """Swap neighbours inside a layer while that lowers the cost (a finishing pass)."""
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
