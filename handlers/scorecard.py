"""`/scorecard` overview and thresholds; `/perspective` add, rename, move, remove."""

from __future__ import annotations

from handlers import alert_pipeline, render
from handlers.common import need, no_more_than, perspective_or_fail
from handlers.contract import (
    ChartRequest,
    Command,
    Conflict,
    Context,
    Reply,
    Table,
    UsageError,
    command,
)
from handlers.parsing import (
    name_of_words,
    normalize_key,
    parse_number,
    parse_weight,
    split_options,
)
from handlers.router import Router
from handlers.scores import scorecard_view
from scoring.models import MAX_PERSPECTIVES, Perspective, Status, Thresholds


@command("scorecard", usage="/scorecard", example="/scorecard")
async def scorecard(cmd: Command, ctx: Context) -> Reply:
    """Overview: the overall index, each perspective's score and its KPI colours."""
    if cmd.args:
        raise UsageError("Unknown /scorecard option. Try /scorecard or /scorecard thresholds …")
    view = scorecard_view(ctx, cmd.chat.key)
    rows = []
    for ps in view.score.perspectives:
        name = next((p.name for p in view.perspectives if p.key == ps.key), ps.key)
        name = f"{name} ({ps.key})"  # the key `perspective=` takes
        counts = ps.counts
        rows.append(
            (
                f"{render.mark(ps.status)} {name}",
                render.pct(ps.score),
                str(counts.get(Status.GREEN, 0)),
                str(counts.get(Status.YELLOW, 0)),
                str(counts.get(Status.RED, 0)),
                str(counts.get(Status.NODATA, 0)),
                str(counts.get(Status.TEST, 0)),
            )
        )
    notes = []
    if view.score.left_out_nodata:
        notes.append(f"{render.plural(view.score.left_out_nodata, 'KPI')} without data")
    if view.score.left_out_test:
        notes.append(f"{view.score.left_out_test} in test mode")
    if not view.kpis:
        footer = "No KPIs yet: /kpi add, or start from a ready-made one: /scorecard templates."
    elif notes:
        footer = f"Left out of scores (not counted as 0): {', '.join(notes)}."
    else:
        footer = "Every KPI has data."
    t = view.thresholds
    footer += (
        f" Colours: green ≥ {render.pct_exact(t.green)}, yellow ≥ {render.pct_exact(t.yellow)}."
    )
    # Drawn after the words are sent (a dashboard of nothing would only repeat "no data").
    dashboard = ChartRequest(chat=cmd.chat.key, dashboard=True) if view.kpis else None
    return Reply(
        title=f"{render.mark(view.score.status)} Scorecard index {render.pct(view.score.index)}",
        table=Table(
            columns=("perspective", "score", "🟢", "🟡", "🔴", "⚪", "🧪"),
            rows=tuple(rows),
            align=("l", "r", "r", "r", "r", "r", "r"),
        ),
        footer=footer,
        chart=dashboard,
    )


@command(
    "scorecard thresholds",
    usage="/scorecard thresholds [green=<pct>] [yellow=<pct>]",
    example="/scorecard thresholds green=85 yellow=60",
    mutates=True,
    role="admin",
)
async def scorecard_thresholds(cmd: Command, ctx: Context) -> Reply:
    """Set the colour thresholds of this scorecard in percent (defaults 80 and 50)."""
    positional, options = split_options(cmd.args, ("green", "yellow"))
    current = ctx.store.scorecards.thresholds(cmd.chat.key)
    if positional:  # `/scorecard thresholds 85 60`: which is which is not guessed
        raise UsageError(
            "Name each threshold: /scorecard thresholds green=85 yellow=60. Nothing was "
            f"changed (green ≥ {render.pct_exact(current.green)}, "
            f"yellow ≥ {render.pct_exact(current.yellow)})."
        )
    if not options:
        return Reply(
            text=(
                f"Green ≥ {render.pct_exact(current.green)}, "
                f"yellow ≥ {render.pct_exact(current.yellow)}, red below. "
                "Change: /scorecard thresholds green=85 yellow=60"
            )
        )
    green = _percent(options["green"], "green") if "green" in options else current.green
    yellow = _percent(options["yellow"], "yellow") if "yellow" in options else current.yellow
    if not 0 < yellow < green <= 1:
        raise UsageError("Thresholds must satisfy 0 < yellow < green ≤ 100.")
    ctx.store.scorecards.set_thresholds(cmd.chat.key, Thresholds(green=green, yellow=yellow))
    # colours may change now: checked at once, as for an edited target (never counted twice)
    alert_pipeline.on_values_recorded(ctx, cmd.chat.key, ctx.store.kpis.all(cmd.chat.key))
    return Reply(
        text=f"Saved: green ≥ {render.pct_exact(green)}, yellow ≥ {render.pct_exact(yellow)}."
    )


def _percent(raw: str, field: str) -> float:
    """A threshold typed in percent (80); a share like 0.8 is refused, not misread as 0.8 %."""
    value = parse_number(raw, field)
    if value <= 1:
        raise UsageError(f"{field}= is in percent: write {field}=80 for 80%, not {raw}.")
    return value / 100


@command("perspective", usage="/perspective", example="/perspective")
async def perspective_list(cmd: Command, ctx: Context) -> Reply:
    """List the perspectives top to bottom with their weights."""
    no_more_than(cmd.args, 0)
    perspectives = ctx.store.scorecards.perspectives(cmd.chat.key)
    rows = tuple(
        (str(i + 1), p.key, p.name, render.num(p.weight)) for i, p in enumerate(perspectives)
    )
    return Reply(
        title="Perspectives (top to bottom)",
        table=Table(columns=("#", "key", "name", "weight"), rows=rows, align=("r", "l", "l", "r")),
    )


@command(
    "perspective add",
    usage='/perspective add <key> "<name>" [position=<n>] [weight=<n>]',
    example='/perspective add service "Customer service" position=1',
    mutates=True,
)
async def perspective_add(cmd: Command, ctx: Context) -> Reply:
    """Add a perspective (up to 7); `position=1` puts it on top."""
    positional, options = split_options(cmd.args, ("position", "weight"))
    need(positional, 2)
    key = normalize_key(positional[0], "perspective key")
    name = name_of_words(positional[1:], "perspective name")
    perspectives = ctx.store.scorecards.perspectives(cmd.chat.key)
    if any(p.key == key for p in perspectives):
        raise Conflict(f"Perspective '{key}' already exists.")
    if len(perspectives) >= MAX_PERSPECTIVES:
        raise Conflict(f"A scorecard has at most {MAX_PERSPECTIVES} perspectives.")
    position = _position(options.get("position"), len(perspectives) + 1)
    weight = parse_weight(options["weight"]) if "weight" in options else 1.0
    new = Perspective(key=key, name=name, order=0, weight=weight)
    perspectives.insert(position - 1, new)
    ctx.store.scorecards.save_perspectives(cmd.chat.key, perspectives)
    return Reply(text=f"Added perspective {name} ({key}) at position {position}.")


def _position(raw: str | None, last: int) -> int:
    if raw is None:
        return last
    value = parse_number(raw, "position")
    if not value.is_integer() or not 1 <= value <= last:
        raise UsageError(f"position must be a whole number from 1 to {last}.")
    return int(value)


def _update_perspective(cmd: Command, ctx: Context, key: str, **changes: object) -> None:
    """Save the chat's perspectives with `changes` applied to the one named `key`."""
    perspectives = [
        p.model_copy(update=changes) if p.key == key else p
        for p in ctx.store.scorecards.perspectives(cmd.chat.key)
    ]
    ctx.store.scorecards.save_perspectives(cmd.chat.key, perspectives)


@command(
    "perspective rename",
    usage='/perspective rename <key> "<name>"',
    example='/perspective rename learning "Learning & growth"',
    mutates=True,
)
async def perspective_rename(cmd: Command, ctx: Context) -> Reply:
    """Rename a perspective (its key stays)."""
    need(cmd.args, 2)
    target = perspective_or_fail(cmd, ctx, cmd.args[0])
    name = name_of_words(cmd.args[1:], "perspective name")
    _update_perspective(cmd, ctx, target.key, name=name)
    return Reply(text=f"Renamed {target.key}: {target.name} → {name}.")


@command(
    "perspective move",
    usage="/perspective move <key> <position>",
    example="/perspective move service 1",
    mutates=True,
)
async def perspective_move(cmd: Command, ctx: Context) -> Reply:
    """Move a perspective to a position (1 = top of the strategy map)."""
    need(cmd.args, 2)
    target = perspective_or_fail(cmd, ctx, cmd.args[0])
    perspectives = [
        p for p in ctx.store.scorecards.perspectives(cmd.chat.key) if p.key != target.key
    ]
    position = _position(cmd.args[1], len(perspectives) + 1)
    perspectives.insert(position - 1, target)
    ctx.store.scorecards.save_perspectives(cmd.chat.key, perspectives)
    order = " › ".join(p.key for p in perspectives)
    return Reply(text=f"Moved {target.key} to position {position}: {order}.")


@command(
    "perspective weight",
    usage="/perspective weight <key> <n>",
    example="/perspective weight finance 2",
    mutates=True,
)
async def perspective_weight(cmd: Command, ctx: Context) -> Reply:
    """Set a perspective's weight in the scorecard index."""
    need(cmd.args, 2)
    target = perspective_or_fail(cmd, ctx, cmd.args[0])
    weight = parse_weight(cmd.args[1])
    _update_perspective(cmd, ctx, target.key, weight=weight)
    return Reply(text=f"{target.name} now weighs {render.num(weight)} in the index.")


@command(
    "perspective remove",
    usage="/perspective remove <key>",
    example="/perspective remove learning",
    mutates=True,
    role="admin",
)
async def perspective_remove(cmd: Command, ctx: Context) -> Reply:
    """Remove an empty perspective (move or remove its objectives first)."""
    need(cmd.args, 1)
    target = perspective_or_fail(cmd, ctx, cmd.args[0])
    chat = cmd.chat.key
    used = [o.key for o in ctx.store.scorecards.objectives(chat) if o.perspective == target.key]
    if used:
        raise Conflict(
            f"{target.name} still has objectives ({', '.join(used)}): move them with "
            "/objective edit <key> perspective=<other> or remove them first."
        )
    perspectives = [p for p in ctx.store.scorecards.perspectives(chat) if p.key != target.key]
    if not perspectives:
        raise Conflict("A scorecard keeps at least one perspective.")
    ctx.store.scorecards.save_perspectives(chat, perspectives)
    return Reply(text=f"Removed perspective {target.name} ({target.key}).")


def register(router: Router) -> None:
    """Register /scorecard and /perspective."""
    router.include(
        scorecard,
        scorecard_thresholds,
        perspective_list,
        perspective_add,
        perspective_rename,
        perspective_move,
        perspective_weight,
        perspective_remove,
    )
