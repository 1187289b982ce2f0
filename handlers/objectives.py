"""`/objective`: strategic objectives with weight and owner, and cause-effect links."""

from __future__ import annotations

from handlers import render
from handlers.common import (
    edit_request,
    need,
    no_more_than,
    objective_or_fail,
    perspective_or_fail,
)
from handlers.contract import Command, Conflict, Context, Reply, Table, UsageError, command
from handlers.parsing import (
    name_of_words,
    normalize_key,
    parse_choice,
    parse_fields,
    parse_name,
    parse_owner,
    parse_weight,
    split_options,
)
from handlers.router import Router
from scoring.models import Link, Objective
from scoring.strategy_map import cycle_path

FIELDS = ("name", "perspective", "weight", "owner", "aggregate")
AGGREGATES = {
    "wavg": "wavg",
    "weighted": "wavg",
    "avg": "avg",
    "mean": "avg",
    "min": "min",
    "max": "max",
}
ADD_USAGE = (
    '/objective add <key> "<name>" perspective=<key> [weight=<n>] [owner=@user] '
    "[aggregate=wavg|avg|min|max]"
)


def _fields(cmd: Command, ctx: Context, options: dict[str, str]) -> dict[str, object]:
    return parse_fields(
        options,
        {
            "name": parse_name,
            "perspective": lambda raw: perspective_or_fail(cmd, ctx, raw).key,
            "weight": parse_weight,
            "owner": parse_owner,
            "aggregate": lambda raw: parse_choice(raw, "aggregate", AGGREGATES),
        },
    )


@command("objective", usage="/objective", example="/objective")
async def objective_list(cmd: Command, ctx: Context) -> Reply:
    """List objectives by perspective with weight, owner and roll-up rule."""
    no_more_than(cmd.args, 0)  # `/objective profit` listed them all, the word unread
    chat = cmd.chat.key
    objectives = ctx.store.scorecards.objectives(chat)
    if not objectives:
        return Reply(text=f"No objectives yet. Add one: {ADD_USAGE}")
    rows = []
    for p in ctx.store.scorecards.perspectives(chat):
        for o in (o for o in objectives if o.perspective == p.key):
            rows.append((p.key, o.key, o.name, render.num(o.weight), o.owner or "—", o.aggregate))
    return Reply(
        title="Objectives",
        table=Table(
            columns=("perspective", "key", "name", "weight", "owner", "roll-up"), rows=tuple(rows)
        ),
    )


@command(
    "objective add",
    usage=ADD_USAGE,
    example='/objective add profit "Grow profit" perspective=finance weight=2 owner=@anna',
    mutates=True,
)
async def objective_add(cmd: Command, ctx: Context) -> Reply:
    """Add a strategic objective to a perspective."""
    positional, options = split_options(cmd.args, FIELDS)
    need(positional, 2)
    key = normalize_key(positional[0], "objective key")
    if ctx.store.scorecards.objective(cmd.chat.key, key) is not None:
        raise Conflict(f"Objective '{key}' already exists: /objective edit {key} field=value")
    if "perspective" not in options:
        keys = ", ".join(p.key for p in ctx.store.scorecards.perspectives(cmd.chat.key))
        raise UsageError(f"perspective= is required ({keys}).", usage=True)
    fields = _fields(cmd, ctx, options)
    fields["name"] = name_of_words(positional[1:], "objective name")
    objective = Objective.model_validate({"key": key, **fields})
    ctx.store.scorecards.put_objective(cmd.chat.key, objective)
    return Reply(text=f"Saved objective {objective.name} ({key}) in {objective.perspective}.")


@command(
    "objective edit",
    usage="/objective edit <key> field=value…",
    example="/objective edit profit weight=3 aggregate=min",
    mutates=True,
)
async def objective_edit(cmd: Command, ctx: Context) -> Reply:
    """Change an objective's name, perspective, weight, owner or roll-up rule."""
    raw, options = edit_request(cmd, FIELDS)
    objective = objective_or_fail(cmd, ctx, raw)
    if objective.general and "perspective" in options:
        raise Conflict(
            f"{objective.name} is its perspective's catch-all for perspective= KPIs and stays "
            "there; move its KPIs with /kpi edit <key> objective=<other> instead."
        )
    updated = objective.model_copy(update=_fields(cmd, ctx, options))
    ctx.store.scorecards.put_objective(
        cmd.chat.key, Objective.model_validate(updated.model_dump())
    )
    return Reply(text=f"Updated objective {updated.name} ({updated.key}).")


@command(
    "objective remove",
    usage="/objective remove <key>",
    example="/objective remove profit",
    mutates=True,
    role="admin",
)
async def objective_remove(cmd: Command, ctx: Context) -> Reply:
    """Remove an objective that has no KPIs (its links go with it)."""
    need(cmd.args, 1)
    objective = objective_or_fail(cmd, ctx, cmd.args[0])
    chat = cmd.chat.key
    kpis = [
        k.key
        for k in ctx.store.kpis.all(chat, include_removed=True)
        if k.objective == objective.key
    ]
    if kpis:
        raise Conflict(
            f"{objective.name} still has KPIs ({', '.join(kpis)}): move them with "
            "/kpi edit <key> objective=<other> or remove them first."
        )
    ctx.store.scorecards.remove_objective(chat, objective.key)
    return Reply(text=f"Removed objective {objective.name} ({objective.key}) and its links.")


@command(
    "objective link",
    usage="/objective link <cause> <effect>",
    example="/objective link content traffic",
    mutates=True,
)
async def objective_link(cmd: Command, ctx: Context) -> Reply:
    """Link two objectives: the first drives the second (cycles are refused)."""
    need(cmd.args, 2)
    cause = objective_or_fail(cmd, ctx, cmd.args[0])
    effect = objective_or_fail(cmd, ctx, cmd.args[1])
    if cause.key == effect.key:
        raise UsageError(
            f"{cause.key} can't drive itself: link two different objectives, "
            "e.g. /objective link content traffic."
        )
    chat = cmd.chat.key
    links = ctx.store.scorecards.links(chat)
    link = Link(cause=cause.key, effect=effect.key)
    if link in links:
        return Reply(text=f"{cause.key} → {effect.key} is already linked.")
    path = cycle_path(links, cause.key, effect.key)
    if path:
        raise Conflict(
            f"Refused: {cause.key} → {effect.key} would close a cycle ({' → '.join(path)}). "
            "Cause and effect must flow one way."
        )
    ctx.store.scorecards.add_link(chat, link)
    return Reply(text=f"Linked: {cause.name} → {effect.name}.")


@command(
    "objective unlink",
    usage="/objective unlink <cause> <effect>",
    example="/objective unlink content traffic",
    mutates=True,
)
async def objective_unlink(cmd: Command, ctx: Context) -> Reply:
    """Remove a cause-effect link."""
    need(cmd.args, 2)
    cause = objective_or_fail(cmd, ctx, cmd.args[0])
    effect = objective_or_fail(cmd, ctx, cmd.args[1])
    if not ctx.store.scorecards.remove_link(
        cmd.chat.key, Link(cause=cause.key, effect=effect.key)
    ):
        raise UsageError(f"There is no link {cause.key} → {effect.key}.")
    return Reply(text=f"Unlinked {cause.key} → {effect.key}.")


def register(router: Router) -> None:
    """Register /objective."""
    router.include(
        objective_list,
        objective_add,
        objective_edit,
        objective_remove,
        objective_link,
        objective_unlink,
    )
