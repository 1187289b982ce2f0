"""`/okr`: the OKRs of a cycle, their pace, and their objectives (add, edit, remove).

Key results and check-ins are in `handlers.okr_key_results`.
"""

from __future__ import annotations

from collections import Counter

from handlers import render
from handlers.common import (
    chat_zone,
    edit_request,
    kpi_or_fail,
    need,
    objective_or_fail,
    okr_or_fail,
)
from handlers.contract import (
    Command,
    Conflict,
    Context,
    Image,
    Reply,
    Table,
    UsageError,
    command,
)
from handlers.funnel import gone_word
from handlers.parsing import (
    FieldParser,
    name_of_words,
    normalize_key,
    parse_fields,
    parse_name,
    parse_owner,
    split_options,
)
from handlers.pictures.dashboard import okr_png
from handlers.pictures.dashboard_layout import Bar, OkrSpec
from handlers.router import Router
from scoring.models import Okr
from scoring.okr import (
    Pace,
    current_quarter,
    elapsed_share,
    kr_grade,
    kr_progress,
    okr_progress,
    pace,
    parse_cycle,
)

RESERVED = {"add", "edit", "remove", "kr", "checkin", "progress", "cycle"}
KR_USAGE = (
    '/okr kr <okr-key> <kr-key> "<name>" start=<n> target=<n> [unit=<u>] [weight=<n>] '
    "[owner=@user] [kpi=<kpi-key>]"
)
PACE_STATUS = {Pace.ON_TRACK: "green", Pace.BEHIND: "yellow", Pace.AT_RISK: "red"}


def _cycle(cmd: Command, ctx: Context) -> str:
    settings = ctx.store.chats.settings(cmd.chat.key)
    return settings.okr_cycle or current_quarter(ctx.clock(), chat_zone(cmd, ctx))


@command("okr", usage="/okr", example="/okr")
async def okr_list(cmd: Command, ctx: Context) -> Reply:
    """List the OKRs of the current cycle with their key results."""
    if cmd.args:
        raise UsageError(f"Unknown /okr option. Try /okr, /okr progress or {cmd.help_for('okr')}")
    cycle = _cycle(cmd, ctx)
    chat = cmd.chat.key
    okrs = ctx.store.okrs.okrs(chat, cycle)
    elsewhere = _elsewhere(cmd, ctx, cycle)
    if not okrs:
        return Reply(
            text=f'No OKRs in {cycle}. Add one: /okr add nps "Delight customers" cycle={cycle}'
            + elsewhere
        )
    rows: list[tuple[str, ...]] = []
    for okr in okrs:
        krs = ctx.store.okrs.key_results(chat, okr.key)
        rows.append((f"{okr.name} ({okr.key})", "", "", render.pct(okr_progress(krs)), ""))
        for kr in krs:
            current = kr.current if kr.current is not None else kr.start
            driven = f" ← KPI {kr.kpi}{_gone(ctx, chat, kr.kpi)}" if kr.kpi else ""
            rows.append(
                (
                    f"  {kr.name} ({kr.key}){driven}",
                    f"{render.num(current)} → {render.num(kr.target, kr.unit)}",
                    render.num(kr.start),
                    render.pct(kr_progress(kr)),
                    f"{kr_grade(kr):.1f}",
                )
            )
    return Reply(
        title=f"OKRs {cycle}",
        table=Table(
            columns=("objective / key result", "now → target", "start", "progress", "grade"),
            rows=tuple(rows),
            align=("l", "r", "r", "r", "r"),
        ),
        footer="\n".join(
            [
                *_alignment_lines(ctx, chat, okrs),
                "Objective progress = weighted mean of its KRs' progress, each capped at 100%.",
            ]
        )
        + elsewhere,
    )


def _elsewhere(cmd: Command, ctx: Context, cycle: str) -> str:
    """`\nIn other cycles: 2026 (1 OKR), …; see one with /okr cycle 2026.` when OKRs of
    cycles not over yet, other than the one looked at, exist ("" when none do): a yearly
    OKR was hidden behind "No OKRs in 2026Q4", as if lost. Ended cycles had their summary."""
    now, tz = ctx.clock(), chat_zone(cmd, ctx)
    counts = Counter(
        okr.cycle
        for okr in ctx.store.okrs.okrs(cmd.chat.key)
        if okr.cycle != cycle and elapsed_share(okr.cycle, now, tz) < 1
    )
    if not counts:
        return ""
    named = ", ".join(f"{c} ({render.plural(n, 'OKR')})" for c, n in sorted(counts.items()))
    return f"\nIn other cycles: {named}; see one with /okr cycle {min(counts)}."


def _gone(ctx: Context, chat: str, key: str) -> str:
    """` (removed; /kpi restore nps)` after a key result's KPI that is no longer on the
    scorecard, as a funnel marks its stages; "" for a KPI that is."""
    kpi = ctx.store.kpis.get(chat, key)
    return "" if kpi is not None and kpi.removed_at is None else f" ({gone_word(ctx, chat, key)})"


def _alignment_lines(ctx: Context, chat: str, okrs: list[Okr]) -> list[str]:
    """`OKR delight serves scorecard objective Retain customers (retain)` per aligned OKR."""
    names = {o.key: o.name for o in ctx.store.scorecards.objectives(chat)}
    return [
        f"OKR {okr.key} serves scorecard objective {names.get(okr.align, okr.align)} ({okr.align})"
        for okr in okrs
        if okr.align
    ]


def resolve_links(cmd: Command, ctx: Context, fields: dict[str, object]) -> None:
    """`align=` names a scorecard objective and `kpi=` a KPI (`none` removes the link)."""
    for field, find in (("align", objective_or_fail), ("kpi", kpi_or_fail)):
        raw = fields.get(field)
        if isinstance(raw, str):
            none = raw.strip().casefold() in ("none", "-", "")
            fields[field] = None if none else find(cmd, ctx, raw).key


@command("okr progress", usage="/okr progress", example="/okr progress")
async def okr_progress_cmd(cmd: Command, ctx: Context) -> Reply:
    """Each objective's progress next to the share of the cycle already elapsed."""
    cycle = _cycle(cmd, ctx)
    chat = cmd.chat.key
    expected = elapsed_share(cycle, ctx.clock(), chat_zone(cmd, ctx))
    rows = []
    bars: list[Bar] = []
    for okr in ctx.store.okrs.okrs(chat, cycle):
        krs = ctx.store.okrs.key_results(chat, okr.key)
        progress = okr_progress(krs) or 0.0
        verdict = pace(progress, expected)
        name = f"{render.PACE_MARK[verdict]} {okr.name} ({okr.key})"
        rows.append((name, render.pct(progress), render.PACE_WORD[verdict]))
        bars.append(Bar(okr.name, progress, PACE_STATUS[verdict], render.pct(progress)))
        for kr in krs:
            share = kr_progress(kr)
            status = PACE_STATUS[pace(share, expected)]
            bars.append(Bar(kr.name, share, status, render.pct(share), indent=True))
    elsewhere = _elsewhere(cmd, ctx, cycle)
    if not rows:
        return Reply(text=f"No OKRs in {cycle}.{elsewhere}")
    spec = OkrSpec(
        title=f"OKR progress {cycle}",
        bars=tuple(bars),
        elapsed=expected,
        elapsed_label=render.pct(expected),
    )
    png = await ctx.painter.paint(okr_png, spec)
    return Reply(
        image=Image(data=png, filename=f"okr-{cycle}.png", alt=f"OKR progress {cycle}"),
        title=f"OKR pace {cycle}: {render.pct(expected)} of the cycle elapsed",
        table=Table(
            columns=("objective", "progress", "pace"), rows=tuple(rows), align=("l", "r", "l")
        ),
        footer=f"On track ≥ 95% of expected, behind ≥ 75%, else at risk.{elsewhere}",
    )


@command(
    "okr cycle",
    usage="/okr cycle [2026Q4|2026H2|2026|auto]",
    example="/okr cycle 2027Q1",
    mutates=True,
)
async def okr_cycle(cmd: Command, ctx: Context) -> Reply:
    """Show or set the cycle `/okr` looks at (default: the current quarter)."""
    settings = ctx.store.chats.settings(cmd.chat.key)
    if not cmd.args:
        return Reply(
            text=f"Current OKR cycle: {_cycle(cmd, ctx)}. Change: /okr cycle 2027Q1 (or 'auto')."
        )
    if cmd.args[0].casefold() == "auto":
        ctx.store.chats.save(cmd.chat.key, settings.model_copy(update={"okr_cycle": None}))
        return Reply(text=f"OKR cycle follows the calendar quarter ({_cycle(cmd, ctx)}).")
    cycle = parse_cycle(cmd.args[0])
    ctx.store.chats.save(cmd.chat.key, settings.model_copy(update={"okr_cycle": cycle}))
    return Reply(text=f"OKR cycle set to {cycle}.")


OKR_PARSERS: dict[str, FieldParser] = {
    "name": parse_name,
    "cycle": parse_cycle,
    "owner": parse_owner,
    "align": str,
}


@command(
    "okr add",
    usage='/okr add <key> "<objective>" [cycle=2026Q4] [owner=@user] [align=<objective>]',
    example='/okr add delight "Delight our customers" cycle=2026Q4 owner=@anna',
    mutates=True,
)
async def okr_add(cmd: Command, ctx: Context) -> Reply:
    """Add an OKR objective to a cycle."""
    positional, options = split_options(cmd.args, tuple(OKR_PARSERS))
    need(positional, 2)
    key = normalize_key(positional[0], "OKR key")
    if key in RESERVED:
        raise UsageError(f"'{key}' is a command word; pick another key.")
    if ctx.store.okrs.okr(cmd.chat.key, key) is not None:
        raise Conflict(f"OKR '{key}' already exists: /okr edit {key} field=value")
    fields = {"cycle": _cycle(cmd, ctx), **parse_fields(options, OKR_PARSERS)}
    resolve_links(cmd, ctx, fields)
    name = name_of_words(positional[1:], "OKR objective")
    okr = Okr.model_validate({"key": key, "name": name, **fields})
    ctx.store.okrs.put_okr(cmd.chat.key, okr)
    shown = _cycle(cmd, ctx)
    where = (
        ""
        if okr.cycle == shown
        else f"; /okr shows {shown}: /okr cycle {okr.cycle} shows this one"
    )
    return Reply(
        text=f"Saved OKR {okr.name} ({key}) in {okr.cycle}{where}. Add key results: {KR_USAGE}"
    )


@command(
    "okr edit",
    usage="/okr edit <key> field=value…",
    example="/okr edit delight owner=@ivan",
    mutates=True,
)
async def okr_edit(cmd: Command, ctx: Context) -> Reply:
    """Change an OKR objective's name, cycle or owner."""
    raw, options = edit_request(cmd, tuple(OKR_PARSERS))
    okr = okr_or_fail(cmd, ctx, raw)
    fields = parse_fields(options, OKR_PARSERS)
    resolve_links(cmd, ctx, fields)
    updated = Okr.model_validate({**okr.model_dump(), **fields})
    ctx.store.okrs.put_okr(cmd.chat.key, updated)
    return Reply(text=f"Updated OKR {updated.name} ({updated.key}).")


@command(
    "okr remove",
    usage="/okr remove <key>",
    example="/okr remove delight",
    mutates=True,
    role="admin",
)
async def okr_remove(cmd: Command, ctx: Context) -> Reply:
    """Remove an OKR objective with its key results and check-ins."""
    need(cmd.args, 1)
    okr = okr_or_fail(cmd, ctx, cmd.args[0])
    ctx.store.okrs.remove_okr(cmd.chat.key, okr.key)
    return Reply(text=f"Removed OKR {okr.name} ({okr.key}) and its key results.")


def register(router: Router) -> None:
    """Register /okr and its objectives (key results: `handlers.okr_key_results`)."""
    router.include(okr_list, okr_progress_cmd, okr_cycle, okr_add, okr_edit, okr_remove)
