"""`/map`: the strategy map as a picture (or text), one perspective zoomed, and `/map why`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from handlers import render
from handlers.common import chat_today, chat_zone, perspective_or_fail
from handlers.contract import Command, Context, Image, NotFound, Reply, UsageError, command
from handlers.jobs.slicing import yield_to_loop
from handlers.pictures import style
from handlers.pictures.layout import BOX_W
from handlers.pictures.strategy import (
    BandSpec,
    BoxSpec,
    KpiMark,
    MapSpec,
    map_png,
)
from handlers.router import Router
from handlers.scores import KpiView, ScorecardView, scorecard_view
from scoring.initiatives import cadence_progress
from scoring.models import Link, Objective, Status
from scoring.rollup import ObjectiveScore
from scoring.strategy_map import causes_tree, order_objectives

# worst first: what a reader should look at before the rest
_SEVERITY = {Status.RED: 0, Status.YELLOW: 1, Status.NODATA: 2, Status.TEST: 3, Status.GREEN: 4}
TREND_DAYS = 30
TREND_READ = 62  # values read for the 30-day change: a month of daily values, and then some
ZOOM_BOX_W = 3.0  # room for KPI names and values


@command("map", usage="/map [text|<perspective>|why <key>]", example="/map customers")
async def strategy_map(cmd: Command, ctx: Context) -> Reply:
    """Draw the strategy map: perspectives as bands, objectives coloured by status, links.

    `/map text` shows the same as text, `/map <perspective>` zooms into one band with
    its KPIs, `/map why <kpi|objective>` walks the causes of a colour.
    """
    chat = cmd.chat.key
    view = scorecard_view(ctx, chat)
    links = ctx.store.scorecards.links(chat)
    if cmd.args:
        if len(cmd.args) > 1:
            raise UsageError("/map takes one perspective at a time.", usage=True)
        perspective = perspective_or_fail(cmd, ctx, cmd.args[0])
        return await _zoom(ctx, view, links, perspective.key)
    png = await _picture(ctx, view, links, f"Strategy map · index {render.pct(view.score.index)}")
    return Reply(
        title="Strategy map",
        text=f"Index {render.pct(view.score.index)} · "
        f"{render.plural(len(view.objectives), 'objective')}, "
        f"{render.plural(len(links), 'link')}. /map text for the text version, "
        "/map <perspective> to zoom in, /map why <key> to trace a colour.",
        image=Image(data=png, filename="map.png", alt=_alt(view)),
    )


async def _picture(
    ctx: Context,
    view: ScorecardView,
    links: Sequence[Link],
    title: str,
    *,
    only: str | None = None,
    highlight: tuple[frozenset[str], frozenset[tuple[str, str]]] | None = None,
) -> bytes:
    """The map picture of what was read. Its spec is built in a loop step of its own, so
    a command that arrived while the map was read answers first: `/kpi` keeps its p99
    while maps are drawn back to back (issue 11). Nothing is read after the yield."""
    await yield_to_loop()
    spec = map_spec(view, links, title, only=only, highlight=highlight)
    return await ctx.painter.paint(map_png, spec)


def _alt(view: ScorecardView) -> str:
    """The picture's alt text: each perspective with its score."""
    parts = []
    for perspective in view.score.perspectives:
        name = next((p.name for p in view.perspectives if p.key == perspective.key), "")
        parts.append(f"{name} {render.pct(perspective.score)}")
    return "Strategy map: " + ", ".join(parts)


def _scores(view: ScorecardView) -> dict[str, ObjectiveScore]:
    return {o.key: o for ps in view.score.perspectives for o in ps.objectives}


def map_spec(
    view: ScorecardView,
    links: Sequence[Link],
    title: str,
    *,
    only: str | None = None,
    highlight: tuple[frozenset[str], frozenset[tuple[str, str]]] | None = None,
) -> MapSpec:
    """What the map picture shows (`only`: one perspective with KPIs), objectives in
    barycentre order; the drawing keeps that order, the same mirrored or the given one,
    whichever crosses fewest arrows as drawn (`MapSpec.orders`, tried in the worker)."""
    scores = _scores(view)
    ordered = order_objectives(view.perspectives, view.objectives, links)
    given: dict[str, list[str]] = {}
    for objective in view.objectives:
        given.setdefault(objective.perspective, []).append(objective.key)
    bands = []
    drawn = []
    for perspective in view.perspectives:
        if only is not None and perspective.key != only:
            continue
        drawn.append(perspective.key)
        ps = next((p for p in view.score.perspectives if p.key == perspective.key), None)
        boxes = tuple(
            _box(o, scores.get(o.key), view if only else None)
            for o in ordered.get(perspective.key, [])
        )
        bands.append(
            BandSpec(
                name=perspective.name,
                score=render.pct(ps.score) if ps else "—",
                status=(ps.status if ps else Status.NODATA).value,
                boxes=boxes,
            )
        )
    shown = {b.key for band in bands for b in band.boxes}
    kept = tuple((k.cause, k.effect) for k in links if k.cause in shown and k.effect in shown)
    # mirrored, the ranks cross the same; drawn, long links climb on the other side
    mirrored = tuple(tuple(b.key for b in reversed(band.boxes)) for band in bands)
    return MapSpec(
        title=title,
        bands=tuple(bands),
        links=kept,
        highlight=highlight[0] if highlight else None,
        highlight_links=highlight[1] if highlight else frozenset(),
        box_w=ZOOM_BOX_W if only is not None else BOX_W,
        orders=(mirrored, tuple(tuple(given.get(key, ())) for key in drawn)),
        words=style.status_words(),
    )


def _box(
    objective: Objective, score: ObjectiveScore | None, view: ScorecardView | None
) -> BoxSpec:
    kpis: tuple[KpiMark, ...] = ()
    if view is not None:
        kpis = tuple(
            KpiMark(v.kpi.name, render.num(v.value, v.kpi.unit), v.status.value)
            for v in view.kpis
            if v.kpi.objective == objective.key
        )
    return BoxSpec(
        key=objective.key,
        name=objective.name,
        score=render.pct(score.score) if score else "—",
        status=(score.status if score else Status.NODATA).value,
        kpis=kpis,
    )


async def _zoom(ctx: Context, view: ScorecardView, links: Sequence[Link], key: str) -> Reply:
    perspective = next(p for p in view.perspectives if p.key == key)
    ps = next((p for p in view.score.perspectives if p.key == key), None)
    score = render.pct(ps.score if ps else None)
    png = await _picture(ctx, view, links, f"{perspective.name} · {score}", only=key)
    members = [o for o in view.objectives if o.perspective == key]
    kpis = [v for v in view.kpis if any(v.kpi.objective == o.key for o in members)]
    return Reply(
        title=perspective.name,
        text=f"Score {score} · {render.plural(len(members), 'objective')}, "
        f"{render.plural(len(kpis), 'KPI')}.",
        image=Image(data=png, filename=f"map-{key}.png", alt=f"{perspective.name} zoomed in"),
    )


@command("map text", usage="/map text", example="/map text")
async def strategy_map_text(cmd: Command, ctx: Context) -> Reply:
    """Show the strategy map as text: objectives with score and colour, and what drives what."""
    if cmd.args:
        raise UsageError("/map text takes no arguments.")
    chat = cmd.chat.key
    view = scorecard_view(ctx, chat)
    links = ctx.store.scorecards.links(chat)
    scores = _scores(view)
    names = {o.key: o.name for o in view.objectives}
    ordered = order_objectives(view.perspectives, view.objectives, links)
    lines: list[str] = []
    for perspective in view.perspectives:
        ps = next((p for p in view.score.perspectives if p.key == perspective.key), None)
        score = render.pct(ps.score) if ps else "—"
        status = ps.status if ps else Status.NODATA
        lines.append(f"{render.mark(status)} {perspective.name.upper()} · {score}")
        members = ordered.get(perspective.key, [])
        if not members:
            lines.append("   (no objectives)")
        for objective in members:
            os = scores.get(objective.key)
            mark = render.mark(os.status) if os else render.mark(Status.NODATA)
            value = render.pct(os.score) if os else "—"
            drives = [
                names.get(link.effect, link.effect)
                for link in links
                if link.cause == objective.key
            ]
            arrow = f"  → {', '.join(drives)}" if drives else ""
            lines.append(f"   {mark} {objective.name} ({objective.key}) {value}{arrow}")
    if links:
        lines.append("")
        lines.append("Cause → effect:")
        lines.extend(f"   {link.cause} → {link.effect}" for link in links)
    else:
        lines.append("")
        lines.append("No links yet: /objective link <cause> <effect>")
    aligned = [o for o in ctx.store.okrs.okrs(chat) if o.align]
    if aligned:
        lines.append("")
        lines.append("OKRs aligned to objectives:")
        lines.extend(
            f"   OKR {o.name} ({o.key}, {o.cycle}) → {names.get(o.align or '', o.align)}"
            for o in aligned
        )
    return Reply(
        title=f"Strategy map · index {render.pct(view.score.index)}", text="\n".join(lines)
    )


@command("map why", usage="/map why <kpi|objective>", example="/map why profit")
async def strategy_map_why(cmd: Command, ctx: Context) -> Reply:
    """Explain a colour: walk from a KPI or objective down its causes, worst first.

    Each cause shows its colour, its KPIs with their 30-day trend and owner, and the
    cadence of its initiatives; the picture is the map with that path highlighted.
    """
    if len(cmd.args) != 1:
        raise UsageError("Name one KPI or objective, e.g. /map why profit.", usage=True)
    chat = cmd.chat.key
    view = scorecard_view(ctx, chat)
    links = ctx.store.scorecards.links(chat)
    scores = _scores(view)
    raw = cmd.args[0].casefold()
    objectives = {o.key: o for o in view.objectives}
    kpi = next((v for v in view.kpis if v.kpi.key == raw), None)
    if kpi is None and raw not in objectives:
        raise NotFound("KPI or objective", raw, [*objectives, *(v.kpi.key for v in view.kpis)])
    start = kpi.kpi.objective if kpi is not None else raw
    today = chat_today(cmd, ctx)
    severity = {
        key: _SEVERITY[scores[key].status] if key in scores else _SEVERITY[Status.NODATA]
        for key in objectives
    }
    tree = causes_tree(links, start, rank=lambda key: severity.get(key, 5))
    lines: list[str] = []
    if kpi is not None:
        lines.append(f"{_kpi_line(ctx, chat, kpi, today)}")
        lines.append(f"  in {_objective_line(objectives, scores, start)}")
    else:
        lines.append(_objective_line(objectives, scores, start))
        lines.extend(_details(ctx, cmd, view, start, today, "  "))
    for depth, key, _ in tree[1:]:
        indent = "  " * depth
        lines.append(f"{indent}← {_objective_line(objectives, scores, key)}")
        lines.extend(_details(ctx, cmd, view, key, today, indent + "    "))
    if len(tree) == 1:
        lines.append("No causes linked to it yet: /objective link <cause> <effect>")
    path_keys = frozenset(key for _, key, _ in tree)
    path_links = frozenset((key, parent) for _, key, parent in tree[1:] if parent is not None)
    subject = kpi.kpi.name if kpi is not None else objectives[start].name
    status = kpi.status if kpi is not None else _status(scores, start)
    title = (
        f"Why {subject} has no score yet"
        if status is Status.NODATA
        else f"Why {subject} is {render.STATUS_WORD[status]}"
    )
    png = await _picture(ctx, view, links, title, highlight=(path_keys, path_links))
    return Reply(
        title=title,
        text="\n".join(lines),
        image=Image(data=png, filename=f"why-{raw}.png", alt=f"{title}: the causes highlighted"),
    )


def _status(scores: dict[str, ObjectiveScore], key: str) -> Status:
    return scores[key].status if key in scores else Status.NODATA


def _objective_line(
    objectives: dict[str, Objective], scores: dict[str, ObjectiveScore], key: str
) -> str:
    score = scores.get(key)
    status = _status(scores, key)
    name = objectives[key].name if key in objectives else key
    value = render.pct(score.score) if score else "—"
    return f"{render.mark(status)} {name} ({key}) {value}"


def _kpi_line(ctx: Context, chat: str, v: KpiView, today: date) -> str:
    parts = [f"{render.mark(v.status)} {v.kpi.name} {render.num(v.value, v.kpi.unit)}"]
    parts.append(f"of {render.num(v.kpi.target, v.kpi.unit)}")
    extra = [t for t in (_change(ctx, chat, v, today), v.kpi.owner) if t]
    if extra:
        parts.append(f"({', '.join(extra)})")
    return " ".join(parts)


def _change(ctx: Context, chat: str, v: KpiView, today: date) -> str | None:
    """ "−12% in 30 days" from the last value on or before 30 days ago."""
    if v.value is None:
        return None
    cutoff = today - timedelta(days=TREND_DAYS)
    recent = ctx.store.kpis.history(chat, v.kpi.key, limit=TREND_READ)
    before = [m for m in recent if m.day <= cutoff]
    if not before or before[-1].value == 0:
        return None
    change = (v.value - before[-1].value) / abs(before[-1].value)
    sign = "+" if change > 0 else ""
    return f"{sign}{render.pct(change)} in {TREND_DAYS} days"


def _details(
    ctx: Context, cmd: Command, view: ScorecardView, key: str, today: date, indent: str
) -> list[str]:
    chat = cmd.chat.key
    members = sorted(
        (v for v in view.kpis if v.kpi.objective == key), key=lambda v: _SEVERITY[v.status]
    )
    lines = [f"{indent}{_kpi_line(ctx, chat, v, today)}" for v in members]
    zone = chat_zone(cmd, ctx)
    for item in ctx.store.initiatives.all(chat):
        if item.objective != key or item.done or item.cadence is None:
            continue
        logs = ctx.store.initiatives.logs(chat, item.key)
        progress = cadence_progress(item, logs, today, zone)
        owner = f" ({item.owner})" if item.owner else ""
        lines.append(f"{indent}▸ {item.name}: {render.cadence_label(progress)}{owner}")
    return lines


def register(router: Router) -> None:
    """Register /map, /map text and /map why."""
    router.include(strategy_map, strategy_map_text, strategy_map_why)
