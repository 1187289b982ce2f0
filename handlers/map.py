"""`/map`: the strategy map as text, perspectives top to bottom, links below."""

from __future__ import annotations

from handlers import render
from handlers.contract import Command, Context, Reply, UsageError, command
from handlers.router import Router
from handlers.scores import scorecard_view
from scoring.models import Status
from scoring.strategy_map import order_objectives


@command("map", usage="/map", example="/map")
async def strategy_map(cmd: Command, ctx: Context) -> Reply:
    """Show the strategy map: objectives with score and colour, and what drives what."""
    if cmd.args:
        raise UsageError("/map takes no arguments.")
    chat = cmd.chat.key
    view = scorecard_view(ctx, chat)
    links = ctx.store.scorecards.links(chat)
    scores = {o.key: o for ps in view.score.perspectives for o in ps.objectives}
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
    return Reply(
        title=f"Strategy map · index {render.pct(view.score.index)}", text="\n".join(lines)
    )


def register(router: Router) -> None:
    """Register /map."""
    router.include(strategy_map)
