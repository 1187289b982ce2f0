"""`/okr`: objectives and key results of a cycle, check-ins and pace."""

from __future__ import annotations

import re

from handlers import calculated, render
from handlers.common import (
    author_id,
    chat_now,
    chat_zone,
    edit_request,
    kpi_or_fail,
    kr_or_fail,
    need,
    objective_or_fail,
    okr_or_fail,
    who,
)
from handlers.contract import (
    Command,
    Conflict,
    Context,
    Field,
    Image,
    Reply,
    Table,
    UsageError,
    command,
)
from handlers.parsing import (
    FieldParser,
    normalize_key,
    parse_fields,
    parse_name,
    parse_number,
    parse_owner,
    parse_weight,
    split_options,
    take_number_tokens,
)
from handlers.pictures.dashboard import Bar, OkrSpec, okr_png
from handlers.router import Router
from scoring.models import CheckIn, KeyResult, Okr
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
KR_FIELDS = ("name", "start", "target", "unit", "weight", "owner", "kpi")
PACE_MARK = {Pace.ON_TRACK: "🟢", Pace.BEHIND: "🟡", Pace.AT_RISK: "🔴"}
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
    if not okrs:
        return Reply(
            text=f'No OKRs in {cycle}. Add one: /okr add nps "Delight customers" cycle={cycle}'
        )
    rows: list[tuple[str, ...]] = []
    for okr in okrs:
        krs = ctx.store.okrs.key_results(chat, okr.key)
        rows.append((f"{okr.name} ({okr.key})", "", "", render.pct(okr_progress(krs)), ""))
        for kr in krs:
            current = kr.current if kr.current is not None else kr.start
            driven = f" ← KPI {kr.kpi}" if kr.kpi else ""
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
        ),
    )


def _alignment_lines(ctx: Context, chat: str, okrs: list[Okr]) -> list[str]:
    """`OKR delight serves scorecard objective Retain customers (retain)` per aligned OKR."""
    names = {o.key: o.name for o in ctx.store.scorecards.objectives(chat)}
    return [
        f"OKR {okr.key} serves scorecard objective {names.get(okr.align, okr.align)} ({okr.align})"
        for okr in okrs
        if okr.align
    ]


def _resolve_links(cmd: Command, ctx: Context, fields: dict[str, object]) -> None:
    """`align=` names a scorecard objective and `kpi=` a KPI (`none` removes the link)."""
    for field, find in (("align", objective_or_fail), ("kpi", kpi_or_fail)):
        raw = fields.get(field)
        if isinstance(raw, str):
            none = raw.strip().casefold() in ("none", "-", "")
            fields[field] = None if none else find(cmd, ctx, raw).key


def _follow_kpi(cmd: Command, ctx: Context, kr: KeyResult) -> KeyResult:
    """A KPI-driven key result takes the KPI's current value (its period aggregate)."""
    if kr.kpi is None:
        return kr
    kpi = kpi_or_fail(cmd, ctx, kr.kpi)
    return kr.model_copy(update={"current": calculated.reading(ctx, cmd.chat.key, kpi).value})


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
        rows.append(
            (f"{PACE_MARK[verdict]} {okr.name} ({okr.key})", render.pct(progress), verdict)
        )
        bars.append(Bar(okr.name, progress, PACE_STATUS[verdict], render.pct(progress)))
        for kr in krs:
            share = kr_progress(kr)
            status = PACE_STATUS[pace(share, expected)]
            bars.append(Bar(kr.name, share, status, render.pct(share), indent=True))
    if not rows:
        return Reply(text=f"No OKRs in {cycle}.")
    spec = OkrSpec(title=f"OKR progress {cycle}", bars=tuple(bars), elapsed=expected)
    png = await ctx.painter.paint(okr_png, spec)
    return Reply(
        image=Image(data=png, filename=f"okr-{cycle}.png", alt=f"OKR progress {cycle}"),
        title=f"OKR pace {cycle}: {render.pct(expected)} of the cycle elapsed",
        table=Table(
            columns=("objective", "progress", "pace"), rows=tuple(rows), align=("l", "r", "l")
        ),
        footer="On track ≥ 95% of expected, behind ≥ 75%, else at risk.",
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
KR_PARSERS: dict[str, FieldParser] = {
    "name": parse_name,
    "start": lambda raw: parse_number(raw, "start"),
    "target": lambda raw: parse_number(raw, "target"),
    "unit": lambda raw: raw.strip()[:16],
    "weight": parse_weight,
    "owner": parse_owner,
    "kpi": str,
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
    _resolve_links(cmd, ctx, fields)
    name = parse_name(" ".join(positional[1:]), "OKR objective")
    okr = Okr.model_validate({"key": key, "name": name, **fields})
    ctx.store.okrs.put_okr(cmd.chat.key, okr)
    return Reply(text=f"Saved OKR {okr.name} ({key}) in {okr.cycle}. Add key results: {KR_USAGE}")


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
    _resolve_links(cmd, ctx, fields)
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


def _check_kr(kr: KeyResult) -> KeyResult:
    if kr.start == kr.target:
        raise UsageError(
            f"start and target are both {render.num(kr.start)}: progress needs a distance."
        )
    return kr


@command(
    "okr kr",
    usage=KR_USAGE,
    example='/okr kr delight nps "Raise NPS" start=30 target=50',
    mutates=True,
    aliases=("okr kr add",),
)
async def okr_kr_add(cmd: Command, ctx: Context) -> Reply:
    """Add a key result to an OKR objective (decreasing KRs: target below start).

    With `kpi=<key>` its current value follows that KPI; check-ins then record confidence.
    """
    positional, options = split_options(cmd.args, KR_FIELDS)
    need(positional, 3)
    okr = okr_or_fail(cmd, ctx, positional[0])
    key = normalize_key(positional[1], "key result key")
    if ctx.store.okrs.key_result(cmd.chat.key, key) is not None:
        raise Conflict(f"Key result '{key}' already exists: /okr kr edit {key} field=value")
    fields = parse_fields(options, KR_PARSERS)
    _resolve_links(cmd, ctx, fields)
    missing = [f for f in ("start", "target") if f not in fields]
    if missing:
        raise UsageError(f"{' and '.join(f + '=' for f in missing)} required.", usage=True)
    name = parse_name(" ".join(positional[2:]), "key result name")
    kr = _check_kr(KeyResult.model_validate({"key": key, "okr": okr.key, "name": name, **fields}))
    kr = _follow_kpi(cmd, ctx, kr)
    ctx.store.okrs.put_key_result(cmd.chat.key, kr)
    follows = f", following KPI {kr.kpi} (now {render.num(kr.current, kr.unit)})" if kr.kpi else ""
    return Reply(
        text=f"Saved key result {kr.name} ({key}) of {okr.key}: {render.num(kr.start)} → "
        f"{render.num(kr.target, kr.unit)}{follows}."
    )


@command(
    "okr kr edit",
    usage="/okr kr edit <kr-key> field=value…",
    example="/okr kr edit nps target=55",
    mutates=True,
)
async def okr_kr_edit(cmd: Command, ctx: Context) -> Reply:
    """Change a key result's name, start, target, unit, weight, owner or KPI (`kpi=none`)."""
    raw, options = edit_request(cmd, KR_FIELDS)
    kr = kr_or_fail(cmd, ctx, raw)
    fields = parse_fields(options, KR_PARSERS)
    _resolve_links(cmd, ctx, fields)
    updated = _follow_kpi(
        cmd, ctx, _check_kr(KeyResult.model_validate({**kr.model_dump(), **fields}))
    )
    ctx.store.okrs.put_key_result(cmd.chat.key, updated)
    return Reply(text=f"Updated key result {updated.name} ({updated.key}).")


@command(
    "okr kr remove",
    usage="/okr kr remove <kr-key>",
    example="/okr kr remove nps",
    mutates=True,
    role="admin",
)
async def okr_kr_remove(cmd: Command, ctx: Context) -> Reply:
    """Remove a key result and its check-ins."""
    need(cmd.args, 1)
    kr = kr_or_fail(cmd, ctx, cmd.args[0])
    ctx.store.okrs.remove_key_result(cmd.chat.key, kr.key)
    return Reply(text=f"Removed key result {kr.name} ({kr.key}).")


@command(
    "okr checkin",
    usage="/okr checkin <kr> <value> [confidence=1-10] [note…] (a KPI-driven KR: no value)",
    example="/okr checkin nps 38 confidence=7 after the survey",
    mutates=True,
)
async def okr_checkin(cmd: Command, ctx: Context) -> Reply:
    """Record a key-result check-in with who, when and how confident (1–10)."""
    positional, options = split_options(cmd.args, ("confidence",))
    need(positional, 1 if positional and _driven(cmd, ctx, positional[0]) else 2)
    kr = kr_or_fail(cmd, ctx, positional[0])
    if kr.kpi is not None:  # the value follows the KPI; the check-in records confidence
        if len(positional) > 1 and re.fullmatch(r"[−+-]?[\d.,]+%?", positional[1]):
            raise UsageError(
                f"{kr.key} follows KPI {kr.kpi}: record values with /kpi set {kr.kpi} …; "
                f"a check-in records confidence, e.g. /okr checkin {kr.key} confidence=7"
            )
        kr = _follow_kpi(cmd, ctx, kr)
        value, nxt = kr.current if kr.current is not None else kr.start, 1
    else:
        raw, nxt = take_number_tokens(positional, 1)
        value = parse_number(raw, kr.key)
    confidence = None
    if "confidence" in options:
        raw_conf = options["confidence"].strip()
        conf = float(raw_conf) if re.fullmatch(r"[0-9]+", raw_conf) else 0.0
        if not conf.is_integer() or not 1 <= conf <= 10:
            raise UsageError("confidence must be a whole number from 1 to 10.")
        confidence = int(conf)
    checkin = CheckIn(
        kr=kr.key,
        value=value,
        at=chat_now(cmd, ctx),
        by=who(cmd),
        by_id=author_id(cmd),
        confidence=confidence,
        note=" ".join(positional[nxt:])[:500],
    )
    updated = ctx.store.okrs.check_in(cmd.chat.key, checkin)
    fields = [
        Field(label="Progress", value=render.pct(kr_progress(updated))),
        Field(label="Grade", value=f"{kr_grade(updated):.1f}"),
    ]
    if confidence is not None:
        fields.append(Field(label="Confidence", value=f"{confidence}/10"))
    return Reply(
        text=f"Checked in {kr.name}: {render.num(value, kr.unit)} "
        f"(target {render.num(kr.target, kr.unit)}).",
        fields=tuple(fields),
    )


def _driven(cmd: Command, ctx: Context, raw: str) -> bool:
    """Whether the key result named `raw` follows a KPI (its check-in needs no value)."""
    kr = ctx.store.okrs.key_result(cmd.chat.key, raw.strip().casefold())
    return kr is not None and kr.kpi is not None


def register(router: Router) -> None:
    """Register /okr."""
    router.include(
        okr_list,
        okr_progress_cmd,
        okr_cycle,
        okr_add,
        okr_edit,
        okr_remove,
        okr_kr_add,
        okr_kr_edit,
        okr_kr_remove,
        okr_checkin,
    )
