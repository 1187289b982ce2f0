"""`/funnel` and `/journey`: marketing funnels over KPIs and customer journey maps."""

from __future__ import annotations

from datetime import date, timedelta

from handlers import render
from handlers.calculated import compiled
from handlers.common import chat_today, funnel_or_fail, journey_or_fail, kpi_or_fail, need
from handlers.contract import (
    Command,
    Conflict,
    Context,
    NotFound,
    Reply,
    Table,
    UsageError,
    command,
)
from handlers.numbers import whole_percent
from handlers.parsing import name_of_words, normalize_key, parse_name, split_options
from handlers.router import Router
from handlers.scores import kpi_view
from scoring.aggregation import combine, kpi_period, period_label
from scoring.funnel import StageRow, biggest_drop, funnel_rows
from scoring.models import Funnel, Journey, JourneyStage, Kpi
from scoring.periods import Period

RESERVED = {"add", "remove", "edit"}
MAX_STAGES = 12
MAX_NOTES = 10


def _stage_keys(cmd: Command, ctx: Context, raw: str) -> tuple[str, ...]:
    """`traffic,leads,customers` → existing KPI keys, at least two, no repeats."""
    keys = tuple(kpi_or_fail(cmd, ctx, part).key for part in raw.split(",") if part.strip())
    if len(keys) < 2:
        raise UsageError("A funnel needs at least two stages, e.g. stages=traffic,leads,customers")
    if len(keys) > MAX_STAGES:
        raise UsageError(f"A funnel has at most {MAX_STAGES} stages.")
    if len(set(keys)) != len(keys):
        raise UsageError("A stage appears twice in stages=.")
    return keys


def _new_key(raw: str, what: str, exists: bool) -> str:
    key = normalize_key(raw, f"{what} key")
    if key in RESERVED:
        raise UsageError(f"'{key}' is a command word; pick another key.")
    if exists:
        raise Conflict(f"{what.capitalize()} '{key}' already exists; remove it first.")
    return key


@command(
    "funnel add",
    usage='/funnel add <key> "<name>" stages=<kpi>,<kpi>,…',
    example='/funnel add mkt "Marketing funnel" stages=traffic,leads,mql,sql,sal,customers',
    mutates=True,
)
async def funnel_add(cmd: Command, ctx: Context) -> Reply:
    """Define a funnel over existing KPIs, top stage first (each KPI counts one stage)."""
    positional, options = split_options(cmd.args, ("stages",))
    need(positional, 2)
    chat = cmd.chat.key
    exists = ctx.store.funnels.get(chat, positional[0].strip().casefold()) is not None
    key = _new_key(positional[0], "funnel", exists)
    if "stages" not in options:
        raise UsageError("stages= is required.", usage=True)
    funnel = Funnel(
        key=key,
        name=name_of_words(positional[1:], "funnel name"),
        stages=_stage_keys(cmd, ctx, options["stages"]),
    )
    ctx.store.funnels.put(chat, funnel)
    return Reply(
        text=f"Saved funnel {funnel.name} ({key}): {' → '.join(funnel.stages)}. "
        f"See it: /funnel {key}"
    )


@command("funnel remove", usage="/funnel remove <key>", example="/funnel remove mkt", mutates=True)
async def funnel_remove(cmd: Command, ctx: Context) -> Reply:
    """Remove a funnel (its KPIs and their values stay)."""
    need(cmd.args, 1)
    funnel = funnel_or_fail(cmd, ctx, cmd.args[0])
    ctx.store.funnels.remove(cmd.chat.key, funnel.key)
    return Reply(text=f"Removed funnel {funnel.name} ({funnel.key}); its KPIs stay.")


@command("funnel", usage="/funnel [<key>]", example="/funnel mkt")
async def funnel_show(cmd: Command, ctx: Context) -> Reply:
    """A funnel's stages in the latest period: values, stage-to-stage conversion, the change
    since the last period and the biggest drop (`/funnel` alone lists the funnels)."""
    chat = cmd.chat.key
    if not cmd.args:
        funnels = ctx.store.funnels.all(chat)
        if not funnels:
            return Reply(
                text='No funnels yet: /funnel add mkt "Marketing funnel" stages=traffic,leads,'
                "customers"
            )
        return Reply(
            title="Funnels",
            text="\n".join(f"{f.name} ({f.key}): {' → '.join(f.stages)}" for f in funnels),
        )
    if len(cmd.args) > 1:
        raise UsageError("Unknown words after the funnel key.", usage=True)
    funnel = funnel_or_fail(cmd, ctx, cmd.args[0])
    kpis = {k.key: k for k in ctx.store.kpis.all(chat)}
    stages = [kpis[s] for s in funnel.stages if s in kpis]
    newest = _latest_period(ctx, chat, stages)
    if newest is None:
        return Reply(text=f"{funnel.name} has no values yet: /kpi set {funnel.stages[0]} <value>")
    period, values, started = _whole_period(ctx, chat, stages, newest)
    before = kpi_period(stages[0].every, period.start - timedelta(days=1))
    rows = funnel_rows(funnel.stages, values, _values(ctx, chat, stages, before))
    targets = _conversion_kpis(funnel, kpis)
    gone = {key: gone_word(ctx, chat, key) for key in funnel.stages if key not in kpis}
    thresholds = ctx.store.scorecards.thresholds(chat)
    marks = {
        k.key: render.mark(kpi_view(ctx, chat, k, thresholds).status) for k in targets.values()
    }
    table = Table(
        columns=("stage", "value", "vs last", "conversion", "vs last", "conversion KPI"),
        rows=tuple(_row(i, row, kpis, targets, marks, funnel, gone) for i, row in enumerate(rows)),
        align=("l", "r", "r", "r", "r", "l"),
    )
    drop = biggest_drop(rows)
    notes = (
        [f"Biggest drop: {drop[0]} → {drop[1].key}, {render.pct(drop[1].conversion)} get through."]
        if drop
        else []
    )
    deleted = [s for s in funnel.stages if gone.get(s) == "deleted for good"]
    if deleted:
        notes.append(
            f"{', '.join(deleted)} {'was' if len(deleted) == 1 else 'were'} deleted for good "
            f"with {'its' if len(deleted) == 1 else 'their'} values; to drop "
            f"{'it' if len(deleted) == 1 else 'them'}, /funnel remove {funnel.key} and add "
            "it again."
        )
    if started:
        notes.append(started)
    footer = "\n".join(notes) or None
    return Reply(
        title=f"{funnel.name} ({funnel.key}) · {_so_far(period, chat_today(cmd, ctx))}, "
        f"vs {period_label(before)}",
        table=table,
        footer=footer,
    )


def gone_word(ctx: Context, chat: str, key: str) -> str:
    """How a funnel or journey names a KPI it lists that is gone: `removed (/kpi restore a1)`
    while it can come back, `deleted for good` once it was deleted for good with its values."""
    kpi = ctx.store.kpis.get(chat, key)
    return "deleted for good" if kpi is None else f"removed; /kpi restore {key}"


def users_of(ctx: Context, chat: str, key: str) -> list[str]:
    """The funnels and journeys that list KPI `key`: `funnel mkt`, `journey cx`."""
    funnels = [f"funnel {f.key}" for f in ctx.store.funnels.all(chat) if key in f.stages]
    journeys = [
        f"journey {j.key}"
        for j in ctx.store.funnels.journeys(chat)
        if any(key in stage.kpis for stage in j.stages)
    ]
    return funnels + journeys


def _latest_period(ctx: Context, chat: str, stages: list[Kpi]) -> Period | None:
    """The newest period (of the top stage's interval) in which any stage has a value."""
    days = [latest[-1].day for k in stages if (latest := ctx.store.kpis.latest(chat, k.key))]
    if not stages or not days:
        return None
    return kpi_period(stages[0].every, max(days))


def _whole_period(
    ctx: Context, chat: str, stages: list[Kpi], newest: Period
) -> tuple[Period, dict[str, float], str]:
    """The period the funnel shows, its stage values, and the line saying a newer one has
    started. A period some stage has no value in yet (on the 1st, traffic is typed before
    leads) would read as a collapse, so while the period before it has every stage, that
    one is shown; with neither whole, the newest is (a new funnel shows what it has)."""
    values = _values(ctx, chat, stages, newest)
    if len(values) == len(stages):
        return newest, values, ""
    previous = kpi_period(stages[0].every, newest.start - timedelta(days=1))
    earlier = _values(ctx, chat, stages, previous)
    if len(earlier) < len(stages):
        return newest, values, ""
    label, have = period_label(newest), [k.name for k in stages if k.key in values]
    named = ", ".join(have[:-1]) + f" and {have[-1]}" if len(have) > 1 else have[0]
    verb = "has a value" if len(have) == 1 else "have values"
    return (
        previous,
        earlier,
        f"{label} has started: so far only {named} {verb}; the funnel moves to {label} "
        "once every stage has one.",
    )


def _so_far(period: Period, today: date) -> str:
    """`2026-11`, or `2026-12 so far (1 of 31 days)` while the period is still running: its
    sums are partial, so a "−98%" against the last whole period is not a collapse."""
    if not period.contains(today) or period.days == 1:
        return period_label(period)
    days = (today - period.start).days + 1
    return f"{period_label(period)} so far ({days} of {period.days} days)"


def _values(ctx: Context, chat: str, stages: list[Kpi], period: Period) -> dict[str, float]:
    """Each stage's aggregate (its own `agg=`) over one period."""
    out: dict[str, float] = {}
    for kpi in stages:
        values = ctx.store.kpis.between(chat, kpi.key, period.start, period.end)
        value = combine(kpi.agg, [m.value for m in values])
        if value is not None:
            out[kpi.key] = value
    return out


def _conversion_kpis(funnel: Funnel, kpis: dict[str, Kpi]) -> dict[tuple[str, str], Kpi]:
    """KPIs whose formula is `conversion(a, b)` for two adjacent stages: targets per step."""
    steps = set(zip(funnel.stages, funnel.stages[1:], strict=False))
    found: dict[tuple[str, str], Kpi] = {}
    for kpi in kpis.values():
        if not kpi.formula or not kpi.formula.replace(" ", "").casefold().startswith(
            "conversion("
        ):
            continue
        inputs = compiled(kpi.formula).inputs
        if len(inputs) == 2 and (inputs[0], inputs[1]) in steps:
            found[(inputs[0], inputs[1])] = kpi
    return found


def _row(
    i: int,
    row: StageRow,
    kpis: dict[str, Kpi],
    targets: dict[tuple[str, str], Kpi],
    marks: dict[str, str],
    funnel: Funnel,
    gone: dict[str, str],
) -> tuple[str, ...]:
    kpi = kpis.get(row.key)
    name = f"{kpi.name} ({row.key})" if kpi else f"{row.key} ({gone[row.key]})"
    change = "" if row.change is None else _signed(round(row.change * 100), "%")
    conv_change = ""
    if row.conversion_change is not None and row.conversion is not None:
        # points between the two percents as shown (cut, like render.pct), so they add up
        before = row.conversion - row.conversion_change
        conv_change = _signed(whole_percent(row.conversion) - whole_percent(before), " pt")
    target = targets.get((funnel.stages[i - 1], row.key)) if i else None
    target_text = (
        f"{marks[target.key]} {target.key}: target {render.num(target.target, target.unit)}"
        if target
        else ""
    )
    return (
        name,
        render.num(row.value, kpi.unit if kpi else ""),
        change,
        "" if i == 0 else render.pct(row.conversion),
        conv_change,
        target_text,
    )


def _signed(value: int, unit: str) -> str:
    return f"{'+' if value > 0 else '−' if value < 0 else '±'}{abs(value)}{unit}"


# --- customer journey maps ----------------------------------------------------------------

JOURNEY_FIELDS = ("stages",)
STAGE_FIELDS = ("kpis", "touchpoint", "pain", "name")


@command(
    "journey add",
    usage='/journey add <key> "<name>" stages="Awareness, Purchase, Service, Loyalty"',
    example='/journey add cx "Customer journey" stages="Awareness, Purchase, Support, Loyalty"',
    mutates=True,
)
async def journey_add(cmd: Command, ctx: Context) -> Reply:
    """Map a customer journey: its stages from first contact to after-sales."""
    positional, options = split_options(cmd.args, JOURNEY_FIELDS)
    need(positional, 2)
    chat = cmd.chat.key
    exists = ctx.store.funnels.journey(chat, positional[0].strip().casefold()) is not None
    key = _new_key(positional[0], "journey", exists)
    names = [n.strip() for n in options.get("stages", "").split(",") if n.strip()]
    if not 2 <= len(names) <= MAX_STAGES:
        raise UsageError(f'A journey has 2 to {MAX_STAGES} stages in stages="…, …".')
    stages = tuple(
        JourneyStage(key=normalize_key(n.replace(" ", "-"), "stage"), name=parse_name(n, "stage"))
        for n in names
    )
    if len({s.key for s in stages}) != len(stages):
        raise UsageError("Two stages have the same name.")
    journey = Journey(key=key, name=name_of_words(positional[1:], "journey name"), stages=stages)
    ctx.store.funnels.put_journey(chat, journey)
    return Reply(
        text=f"Saved journey {journey.name} ({key}): {' → '.join(s.name for s in stages)}. "
        f"Add KPIs and notes: /journey stage {key} {stages[0].key} kpis=<kpi> "
        'touchpoint="…" pain="…"'
    )


@command(
    "journey stage",
    usage='/journey stage <key> <stage> [kpis=<kpi>,…] [touchpoint="…"] [pain="…"]',
    example='/journey stage cx support kpis=response,nps touchpoint="live chat" '
    'pain="waiting for an answer"',
    mutates=True,
)
async def journey_stage(cmd: Command, ctx: Context) -> Reply:
    """Set a journey stage's KPIs and add a touchpoint or pain point note to it."""
    positional, options = split_options(cmd.args, STAGE_FIELDS)
    need(positional, 2)
    if not options:
        raise UsageError("Nothing to change: give kpis=, touchpoint= or pain=.", usage=True)
    journey = journey_or_fail(cmd, ctx, positional[0])
    wanted = " ".join(positional[1:]).strip().casefold()
    stage = next((s for s in journey.stages if wanted in (s.key, s.name.casefold())), None)
    if stage is None:
        raise NotFound("stage", wanted, [s.key for s in journey.stages])
    update: dict[str, object] = {}
    if "kpis" in options:
        update["kpis"] = tuple(
            kpi_or_fail(cmd, ctx, part).key for part in options["kpis"].split(",") if part.strip()
        )
    for field, attr in (("touchpoint", "touchpoints"), ("pain", "pains")):
        if field in options:
            note = parse_name(options[field], field)
            existing: tuple[str, ...] = getattr(stage, attr)
            if len(existing) >= MAX_NOTES:
                raise UsageError(f"A stage keeps at most {MAX_NOTES} {attr}.")
            update[attr] = (*existing, note)
    if "name" in options:
        update["name"] = parse_name(options["name"], "stage name")
    changed = stage.model_copy(update=update)
    stages = tuple(changed if s.key == stage.key else s for s in journey.stages)
    ctx.store.funnels.put_journey(cmd.chat.key, journey.model_copy(update={"stages": stages}))
    return Reply(text=f"Updated stage {changed.name} of {journey.name}.")


@command(
    "journey remove", usage="/journey remove <key>", example="/journey remove cx", mutates=True
)
async def journey_remove(cmd: Command, ctx: Context) -> Reply:
    """Remove a journey map (its KPIs stay)."""
    need(cmd.args, 1)
    journey = journey_or_fail(cmd, ctx, cmd.args[0])
    ctx.store.funnels.remove_journey(cmd.chat.key, journey.key)
    return Reply(text=f"Removed journey {journey.name} ({journey.key}); its KPIs stay.")


@command("journey", usage="/journey [<key>]", example="/journey cx")
async def journey_show(cmd: Command, ctx: Context) -> Reply:
    """A customer journey: each stage with its KPIs (value and colour), touchpoints and
    pain points (`/journey` alone lists the journeys)."""
    chat = cmd.chat.key
    if not cmd.args:
        journeys = ctx.store.funnels.journeys(chat)
        if not journeys:
            return Reply(
                text='No journeys yet: /journey add cx "Customer journey" '
                'stages="Awareness, Purchase, Support, Loyalty"'
            )
        return Reply(
            title="Customer journeys",
            text="\n".join(
                f"{j.name} ({j.key}): {' → '.join(s.name for s in j.stages)}" for j in journeys
            ),
        )
    journey = journey_or_fail(cmd, ctx, cmd.args[0])
    thresholds = ctx.store.scorecards.thresholds(chat)
    lines: list[str] = []
    for number, stage in enumerate(journey.stages, 1):
        lines.append(f"{number}. {stage.name.upper()}")
        for key in stage.kpis:
            kpi = ctx.store.kpis.get(chat, key)
            if kpi is None or kpi.removed_at is not None:
                lines.append(f"   ⚪ {key}: {gone_word(ctx, chat, key)}")
                continue
            view = kpi_view(ctx, chat, kpi, thresholds)
            lines.append(
                f"   {render.mark(view.status)} {kpi.name} ({key}): "
                f"{render.num(view.value, kpi.unit)} of {render.num(kpi.target, kpi.unit)}"
            )
        lines.extend(f"   touchpoint: {t}" for t in stage.touchpoints)
        lines.extend(f"   pain point: {p}" for p in stage.pains)
        if not (stage.kpis or stage.touchpoints or stage.pains):
            lines.append("   (no KPIs or notes yet)")
    return Reply(title=f"{journey.name} ({journey.key})", text="\n".join(lines))


def register(router: Router) -> None:
    """Register /funnel and /journey."""
    router.include(
        funnel_show,
        funnel_add,
        funnel_remove,
        journey_show,
        journey_add,
        journey_stage,
        journey_remove,
    )
