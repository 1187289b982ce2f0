"""`/kpi`: list, show, explain, add, edit, remove/restore and record values."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from handlers import alerting, calculated, render
from handlers import explain as explain_text
from handlers.chart_specs import chart_note, kpi_chart_spec, parse_period, window
from handlers.common import author_id, chat_now, chat_today, edit_request, kpi_or_fail, need, who
from handlers.contract import (
    Button,
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
from handlers.kpi_fields import (
    ADD_FIELDS,
    DIRECTIONS,
    build_kpi,
    placement,
    require_new_key,
    typed_fields,
)
from handlers.parsing import (
    clip,
    parse_name,
    parse_number,
    split_options,
    take_date,
)
from handlers.parsing import take_number_tokens as take_number
from handlers.pictures.charts import chart_png
from handlers.router import Router
from handlers.scores import KpiView, kpi_view, scorecard_view
from scoring.aggregation import AGG_WORDS, combine, kpi_period, period_label
from scoring.explain import explain
from scoring.kpi import progress
from scoring.models import FOCUS_PER_PERSPECTIVE, FOCUS_TOTAL, Kpi, Measurement
from scoring.status import kpi_status
from scoring.targets import due_pace, kpi_on

ADD_USAGE = (
    '/kpi add <key> "<name>" target=<n> [baseline=<n>] [direction=up|down|range] [min=<n>] '
    "[max=<n>] [tol=<n>] [unit=<u>] [weight=<n>] [objective=<key>] [perspective=<key>] "
    "[owner=@user] [every=day|week|month|quarter] [warn=<n>] [crit=<n>] [test=yes|no] "
    '[formula="<expr>"] [agg=last|sum|avg|max|min] [due=YYYY-MM-DD] [from=YYYY-MM-DD] '
    "[staged=2027Q1:<n>,…]"
)


@command(
    "kpi",
    usage="/kpi [<key> [explain|ytd|chart [30d|90d|1y|all]]]",
    example="/kpi cac chart 1y",
)
async def kpi_list(cmd: Command, ctx: Context) -> Reply:
    """List every KPI by perspective: value, target, progress, colour, trend and age.

    `/kpi <key>` shows one KPI with its history, `/kpi <key> explain` shows the maths,
    `/kpi <key> chart [30d|90d|1y|all]` draws its history against the target and colour bands.
    """
    if cmd.args:
        return await _kpi_one(cmd, ctx)
    view = scorecard_view(ctx, cmd.chat.key)
    if not view.kpis:
        return Reply(
            title="No KPIs yet",
            text='Add one: /kpi add leads "Leads per month" target=200 perspective=customers',
        )
    today = chat_today(cmd, ctx)
    rows: list[tuple[str, ...]] = []
    for perspective in view.perspectives:
        members = [v for v in view.kpis if view.perspective_of(v.kpi.objective) == perspective.key]
        if not members:
            continue
        rows.append((perspective.name.upper(), "", "", "", "", ""))
        rows.extend(_row(v, today) for v in members)
    footer = _left_out_note(view.kpis)
    return Reply(
        title=f"KPIs · index {render.pct(view.score.index)}",
        table=Table(
            columns=("KPI", "value", "target", "progress", "", "updated"),
            rows=tuple(rows),
            align=("l", "r", "r", "r", "l", "l"),
        ),
        footer=footer,
    )


def _row(v: KpiView, today: date) -> tuple[str, ...]:
    return (
        f"{render.mark(v.status)} {v.kpi.name} ({v.kpi.key})",
        render.num(v.value, v.kpi.unit),
        _target_text(v.kpi, v.target_now),
        render.pct(v.progress),
        render.trend(v.previous, v.value),
        render.age(v.day, today),
    )


def _target_text(kpi: Kpi, target: float | None = None) -> str:
    """A range KPI aims for its range (`2–4 h`), not the middle it is stored with; others
    show `target` (the staged target in force, the one progress is measured against)."""
    if kpi.direction == "range" and kpi.min is not None and kpi.max is not None:
        return render.span(kpi.min, kpi.max, kpi.unit)
    return render.num(kpi.target if target is None else target, kpi.unit)


def _scale_fields(kpi: Kpi, view: KpiView) -> tuple[Field, ...]:
    if kpi.direction == "range":
        return (Field(label="Target", value=f"between {_target_text(kpi)}"),)
    target = _target_text(kpi, view.target_now)
    stage = next((s for s in kpi.staged if view.day is not None and view.day <= s.until), None)
    if stage is not None and view.target_now != kpi.target:
        target += (
            f" (staged, until {stage.until.isoformat()}; final {render.num(kpi.target, kpi.unit)})"
        )
    return (
        Field(label="Target", value=target),
        Field(label="Baseline", value=render.num(kpi.baseline, kpi.unit)),
    )


def _left_out_note(views: list[KpiView]) -> str | None:
    nodata = sum(1 for v in views if v.value is None and not v.kpi.test)
    test = sum(1 for v in views if v.kpi.test)
    parts = []
    if nodata:
        parts.append(f"{nodata} without data")
    if test:
        parts.append(f"{test} in test mode")
    return f"Left out of scores: {', '.join(parts)}." if parts else None


async def _kpi_one(cmd: Command, ctx: Context) -> Reply:
    kpi = kpi_or_fail(cmd, ctx, cmd.args[0])
    rest = [a.casefold() for a in cmd.args[1:]]
    if rest[:1] == ["chart"]:
        return await _kpi_chart(cmd, ctx, kpi, parse_period(cmd.args[2:]))
    if rest == ["ytd"]:
        return _kpi_ytd(cmd, ctx, kpi)
    if rest and rest != ["explain"]:
        raise UsageError(
            f"Unknown words after the key: {clip(' '.join(cmd.args[1:]))}. "
            f"Try {cmd.help_for('kpi')}"
        )
    chat = cmd.chat.key
    thresholds = ctx.store.scorecards.thresholds(chat)
    view = kpi_view(ctx, chat, kpi, thresholds)
    if rest == ["explain"]:
        return _kpi_explain(ctx, chat, kpi, view)
    history = ctx.store.kpis.history(chat, kpi.key, limit=10)
    objective = ctx.store.scorecards.objective(chat, kpi.objective)
    fields = [
        Field(label="Value", value=render.num(view.value, kpi.unit)),
        *_scale_fields(kpi, view),
        Field(label="Progress", value=render.pct(view.progress)),
        Field(label="Performance", value=render.pct(view.performance)),
        Field(
            label="Status", value=f"{render.mark(view.status)} {render.STATUS_WORD[view.status]}"
        ),
        Field(label="Direction", value=_direction_text(kpi.direction, kpi.min, kpi.max)),
        Field(label="Objective", value=objective.name if objective else kpi.objective),
        Field(label="Owner", value=kpi.owner or "—"),
        Field(
            label="Updated",
            value=f"every {kpi.every}, last {render.age(view.day, chat_today(cmd, ctx))}",
        ),
        Field(label="Weight", value=render.num(kpi.weight)),
    ]
    fields.extend(_calc_fields(cmd, ctx, kpi, view))
    if kpi.warn is not None or kpi.crit is not None:
        fields.append(
            Field(
                label="Thresholds",
                value=f"warn {render.num(kpi.warn)}, crit {render.num(kpi.crit)}",
            )
        )
    table = None
    if history:
        table = Table(
            columns=("date", "value", "by", "note"),
            rows=tuple(
                (m.day.isoformat(), render.num(m.value, kpi.unit), m.by, m.note[:40])
                for m in reversed(history)
            ),
            align=("l", "r", "l", "l"),
        )
    footer = "Test mode: collects data, not counted in scores or alerts." if kpi.test else None
    return Reply(
        title=f"{render.mark(view.status)} {kpi.name} ({kpi.key})",
        fields=tuple(fields),
        table=table,
        footer=footer,
    )


async def _kpi_chart(cmd: Command, ctx: Context, kpi: Kpi, period: str | None) -> Reply:
    chat = cmd.chat.key
    win = window(ctx.store.kpis.history(chat, kpi.key), period, chat_today(cmd, ctx))
    if len(win.points) < 2:
        where = "" if period is None else f" in {win.label}"
        return Reply(text=f"{kpi.name} needs at least two values{where} for a chart.")
    thresholds = ctx.store.scorecards.thresholds(chat)
    spec = kpi_chart_spec(kpi, win.points, thresholds, chart_note(win))
    png = await ctx.painter.paint(chart_png, spec)
    first, last = win.points[0], win.points[-1]
    return Reply(
        title=f"{kpi.name} ({kpi.key})",
        text=f"{len(win.points)} values from {first.day.isoformat()} to {last.day.isoformat()}; "
        f"latest {render.num(last.value, kpi.unit)}, target {render.num(kpi.target, kpi.unit)}.",
        image=Image(data=png, filename=f"{kpi.key}.png", alt=f"{kpi.name} over time"),
    )


def _kpi_explain(ctx: Context, chat: str, kpi: Kpi, view: KpiView) -> Reply:
    """The maths of one KPI: where its value comes from (formula, period), then its scores."""
    thresholds = ctx.store.scorecards.thresholds(chat)
    now = calculated.reading(ctx, chat, kpi)
    source = calculated.explain_value(ctx, chat, kpi, now)
    if view.value is None:
        if not source:
            hint = (
                f"its formula is {kpi.formula}" if kpi.formula else f"/kpi set {kpi.key} <value>"
            )
            return Reply(text=f"{kpi.name} has no value yet: {hint}")
        return Reply(title=f"How {kpi.name} is scored", text="\n".join(source))
    scored = kpi_on(kpi, view.day)
    lines = [*source, *explain_text.lines(explain(scored, view.value, thresholds))]
    if scored.target != kpi.target:
        lines.append(
            f"target in force = {render.num(scored.target, kpi.unit)} (staged), final "
            f"{render.num(kpi.target, kpi.unit)}"
        )
    return Reply(title=f"How {kpi.name} is scored", text="\n".join(lines))


def _calc_fields(cmd: Command, ctx: Context, kpi: Kpi, view: KpiView) -> list[Field]:
    """Formula, aggregation, due date with pace and forecast, staged targets."""
    fields: list[Field] = []
    if kpi.formula:
        fields.append(Field(label="Formula", value=kpi.formula))
    if kpi.agg != "last":
        fields.append(Field(label="Per period", value=f"{AGG_WORDS[kpi.agg]} (agg={kpi.agg})"))
    if kpi.staged:
        stages = ", ".join(
            f"{s.until.isoformat()}: {render.num(s.target, kpi.unit)}" for s in kpi.staged
        )
        fields.append(Field(label="Staged targets", value=stages))
    if kpi.due is not None:
        fields.append(Field(label="Due", value=_due_text(cmd, ctx, kpi, view)))
    return fields


def _due_text(cmd: Command, ctx: Context, kpi: Kpi, view: KpiView) -> str:
    """`2027-09-30 · 35% of the time gone: on track · on pace to reach 11 400 of 12 000`.

    The pace compares the way made towards the final target with the time gone; its percent
    is not shown, so the card has one progress figure (against the target in force)."""
    assert kpi.due is not None
    today = chat_today(cmd, ctx)
    start = kpi.due_from or today
    values = calculated.period_values(ctx, cmd.chat.key, kpi, start, today)
    points = [(p.last_day, p.value) for p in values]
    final = None if view.value is None else progress(kpi, view.value)
    state = due_pace(kpi, start, today, final, points)
    parts = [kpi.due.isoformat(), f"{render.pct(state.elapsed)} of the time gone"]
    if state.pace is not None:
        parts[-1] += f": {state.pace}"
    if state.forecast is None:
        parts.append("no forecast yet (needs values on two different days)")
    else:
        parts.append(
            f"on pace to reach {render.num(round(state.forecast))} of "
            f"{render.num(kpi.target, kpi.unit)}"
        )
    return " · ".join(parts)


def _kpi_ytd(cmd: Command, ctx: Context, kpi: Kpi) -> Reply:
    """The year so far: each period's value and the year's aggregate by the KPI's `agg`."""
    today = chat_today(cmd, ctx)
    first = date(today.year, 1, 1)
    periods = calculated.period_values(ctx, cmd.chat.key, kpi, first, today)
    if not periods:
        return Reply(text=f"{kpi.name} has no values in {today.year} yet.")
    values = ctx.store.kpis.between(cmd.chat.key, kpi.key, first, today)
    total = combine(kpi.agg, [m.value for m in values])
    rows = tuple(
        (period_label(p.period), render.num(p.value, kpi.unit), str(p.count)) for p in periods
    )
    return Reply(
        title=f"{kpi.name} ({kpi.key}) · {today.year} to date",
        text=f"Year to date ({AGG_WORDS[kpi.agg]} of {render.plural(len(values), 'value')}): "
        f"{render.num(total, kpi.unit)}; target {render.num(kpi.target, kpi.unit)}.",
        table=Table(columns=("period", "value", "values"), rows=rows, align=("l", "r", "r")),
    )


def _direction_text(direction: str, low: float | None, high: float | None) -> str:
    if direction == "range":
        return f"stay between {render.num(low)} and {render.num(high)}"
    text = "higher is better" if direction == "up" else "lower is better"
    if low is not None and high is not None:
        text += f" (scale {render.num(low)}–{render.num(high)})"
    return text


@command(
    "kpi add",
    usage=ADD_USAGE,
    example='/kpi add cac "Customer acquisition cost" baseline=120 target=80 unit=$ '
    "perspective=finance",
    mutates=True,
)
async def kpi_add(cmd: Command, ctx: Context) -> Reply:
    """Create a KPI on an objective (or a perspective's general objective).

    Without objective= or perspective= it offers the perspectives as buttons.
    """
    positional, options = split_options(cmd.args, ADD_FIELDS)
    need(positional, 1)
    key = require_new_key(cmd, ctx, positional[0])
    name = parse_name(" ".join(positional[1:]) or options.get("name", ""), "KPI name")
    if not name:
        raise UsageError("Give the KPI a name in quotes.", usage=True)
    direction = DIRECTIONS.get(options.get("direction", "").casefold())
    if "target" not in options and direction != "range":
        raise UsageError(f'target= is required, e.g. /kpi add {key} "{name}" target=100')
    fields = typed_fields(options)
    fields.setdefault("name", name)
    fields["name"] = name
    if "target" not in fields:  # a range KPI aims for the middle of its range
        low, high = fields.get("min"), fields.get("max")
        if low is None or high is None:
            raise UsageError("A range KPI needs min= and max=.")
        fields["target"] = (low + high) / 2
    objective = placement(cmd, ctx, options)
    chat = cmd.chat.key
    _dated_defaults(cmd, ctx, fields, None)
    if fields.get("formula"):
        fields["formula"] = calculated.check_formula(ctx, chat, key, fields["formula"]).text
    if objective is None:  # checked whole first, so a pressed button saves it
        build_kpi({"key": key, "objective": "-"}, fields)
        return _ask_perspective(cmd, ctx, key)
    kpi = build_kpi({"key": key, "objective": objective.key}, fields)
    if ctx.store.scorecards.objective(chat, objective.key) is None:
        ctx.store.scorecards.put_objective(chat, objective)
    ctx.store.kpis.put(chat, kpi)
    computed = ""
    if kpi.formula:
        changed = calculated.backfill(ctx, chat, kpi, ctx.clock())
        alerting.on_values_recorded(ctx, chat, changed)
        computed = " " + _formula_note(ctx, chat, kpi)
    return Reply(
        text=f"Saved KPI {kpi.name} ({kpi.key}).{computed}"
        f"{_focus_warning(cmd, ctx, objective.perspective)}"
    )


def _dated_defaults(
    cmd: Command, ctx: Context, fields: dict[str, object], old: Kpi | None
) -> None:
    """A new due date starts its clock today unless `from=` says otherwise."""
    due = fields.get("due", old.due if old else None)
    if due is None:
        if "from" in fields or "due_from" in fields:
            raise UsageError("from= is the start of a dated target; give due= too.")
        return
    if "due_from" not in fields and (old is None or old.due_from is None or "due" in fields):
        fields["due_from"] = chat_today(cmd, ctx)


def _formula_note(ctx: Context, chat: str, kpi: Kpi, day: date | None = None) -> str:
    """`Recalculated CAC (cac) = 125 $ for 2026-11.` or why it has no value for that period."""
    day = day or calculated.latest_input_day(ctx, chat, kpi)
    if day is None:
        return "Its inputs have no values yet."
    result = calculated.outcome(ctx, chat, kpi, day)
    label = period_label(result.period)
    name = f"{kpi.name} ({kpi.key})"
    if result.value is None:
        return f"{name} has no value for {label}: {result.reason}."
    return f"Recalculated {name} = {render.num(result.value, kpi.unit)} for {label}."


def _ask_perspective(cmd: Command, ctx: Context, key: str) -> Reply:
    """`/kpi add` without a place: one button per perspective re-sends it with that place."""
    perspectives = ctx.store.scorecards.perspectives(cmd.chat.key)
    return Reply(
        text=f"Which perspective does {key} belong to? Pick one (or add objective=<key>); "
        "nothing is saved until you do.",
        buttons=tuple(
            Button(label=p.name, command=f"/kpi {cmd.text} perspective={p.key}")
            for p in perspectives
        ),
    )


def _focus_warning(cmd: Command, ctx: Context, perspective: str) -> str:
    chat = cmd.chat.key
    objectives = {o.key: o.perspective for o in ctx.store.scorecards.objectives(chat)}
    kpis = ctx.store.kpis.all(chat)
    here = sum(1 for k in kpis if objectives.get(k.objective) == perspective)
    if here > FOCUS_PER_PERSPECTIVE:
        return (
            f"\nHeads-up: {here} KPIs in {perspective}. Focus is lost beyond "
            f"{FOCUS_PER_PERSPECTIVE}; keep the 3–5 that matter."
        )
    if len(kpis) > FOCUS_TOTAL:
        return (
            f"\nHeads-up: {len(kpis)} KPIs in total. Focus is lost beyond {FOCUS_TOTAL}; "
            "keep the 3–5 per perspective that matter."
        )
    return ""


@command(
    "kpi edit",
    usage="/kpi edit <key> field=value…",
    example="/kpi edit cac target=75 owner=@anna",
    mutates=True,
)
async def kpi_edit(cmd: Command, ctx: Context) -> Reply:
    """Change fields of a KPI (`objective=` or `perspective=` moves it)."""
    raw, options = edit_request(cmd, ADD_FIELDS)
    kpi = kpi_or_fail(cmd, ctx, raw)
    objective = placement(cmd, ctx, options)
    updates = typed_fields(options)
    if objective is not None:
        updates["objective"] = objective.key
    chat = cmd.chat.key
    _dated_defaults(cmd, ctx, updates, kpi)
    if updates.get("formula"):
        updates["formula"] = calculated.check_formula(ctx, chat, kpi.key, updates["formula"]).text
    updated = build_kpi(kpi.model_dump(), updates)
    if objective is not None and ctx.store.scorecards.objective(chat, objective.key) is None:
        ctx.store.scorecards.put_objective(chat, objective)
    ctx.store.kpis.put(chat, updated)
    recomputed: list[Kpi] = []
    how = ("formula", "agg", "every")
    if any(getattr(kpi, f) != getattr(updated, f) for f in how):
        if updated.formula:
            recomputed = calculated.backfill(ctx, chat, updated, ctx.clock())
        else:  # formulas reading this KPI combine its values differently now
            days = {m.day for m in ctx.store.kpis.history(chat, kpi.key)}
            recomputed = calculated.values_changed(ctx, chat, {kpi.key: days}, ctx.clock())
    if updated.removed_at is None:
        others = [k for k in recomputed if k.key != updated.key]
        alerting.on_values_recorded(ctx, chat, [updated, *others])
    else:
        alerting.on_kpi_changed(ctx, chat, updated)
    return Reply(text=f"Updated {updated.name} ({updated.key}): {_changed(options, updates)}.")


def _changed(options: Mapping[str, str], updates: Mapping[str, object]) -> str:
    """`target=75, no owner`: the options as typed, a cleared field in words (`owner=none`
    would read as someone called "none")."""
    return ", ".join(
        f"no {k}" if k in updates and updates[k] is None else f"{k}={v}"
        for k, v in options.items()
    )


@command(
    "kpi remove",
    usage="/kpi remove <key> [confirm]",
    example="/kpi remove cac",
    mutates=True,
    role="admin",
)
async def kpi_remove(cmd: Command, ctx: Context) -> Reply:
    """Remove a KPI; its history is kept until you confirm (or undo with /kpi restore)."""
    need(cmd.args, 1)
    confirm = len(cmd.args) > 1 and cmd.args[1].casefold() == "confirm"
    kpi = kpi_or_fail(cmd, ctx, cmd.args[0], removed=True)
    chat = cmd.chat.key
    if confirm:
        if kpi.removed_at is None:
            # Confirms an earlier remove only: a stale "Delete for good" button pressed
            # after Undo must not delete a KPI that is back on the scorecard.
            raise UsageError(
                f"{kpi.name} ({kpi.key}) is not removed, so there is nothing to confirm. "
                f"Remove it first: /kpi remove {kpi.key}"
            )
        gone = ctx.store.kpis.purge(chat, kpi.key)
        alerting.on_kpi_deleted(ctx, chat, kpi.key)
        return Reply(text=f"Deleted {kpi.name} ({kpi.key}) and its {gone} values for good.")
    if kpi.removed_at is not None:
        raise UsageError(
            f"{kpi.key} is already removed: /kpi restore {kpi.key} "
            f"or /kpi remove {kpi.key} confirm"
        )
    readers = [
        user
        for user, reads in calculated.graph(ctx.store.kpis.all(chat)).items()
        if kpi.key in reads
    ]
    if readers:
        raise Conflict(
            f"{kpi.key} is read by the formula of {', '.join(readers)}; change "
            f"{'that formula' if len(readers) == 1 else 'those formulas'} first "
            f"(/kpi edit {readers[0]} formula=…)."
        )
    removed = kpi.model_copy(update={"removed_at": ctx.clock()})
    ctx.store.kpis.put(chat, removed)
    alerting.on_kpi_changed(ctx, chat, removed)
    count = ctx.store.kpis.count(chat, kpi.key)
    return Reply(
        text=(
            f"Removed {kpi.name} ({kpi.key}) from the scorecard; its {count} values are kept "
            f"until you confirm. Undo: /kpi restore {kpi.key}"
        ),
        buttons=(
            Button(label="Undo", command=f"/kpi restore {kpi.key}"),
            Button(label="Delete for good", command=f"/kpi remove {kpi.key} confirm"),
        ),
    )


@command("kpi restore", usage="/kpi restore <key>", example="/kpi restore cac", mutates=True)
async def kpi_restore(cmd: Command, ctx: Context) -> Reply:
    """Bring back a removed KPI with its history."""
    need(cmd.args, 1)
    kpi = kpi_or_fail(cmd, ctx, cmd.args[0], removed=True)
    if kpi.removed_at is None:
        return Reply(text=f"{kpi.name} ({kpi.key}) is not removed; nothing to do.")
    restored = kpi.model_copy(update={"removed_at": None})
    chat = cmd.chat.key
    if restored.formula:  # its inputs may have changed (or gone) while it was away
        calculated.check_formula(ctx, chat, restored.key, restored.formula)
    ctx.store.kpis.put(chat, restored)
    alerting.on_kpi_changed(ctx, chat, restored)
    if restored.formula:
        alerting.on_values_recorded(
            ctx, chat, calculated.backfill(ctx, chat, restored, ctx.clock())
        )
    return Reply(text=f"Restored {kpi.name} ({kpi.key}) with its history.")


#: A value this many times above or below a KPI's recent values is asked about first.
OUTLIER = 100


@command(
    "kpi set",
    usage="/kpi set <key> <value> [YYYY-MM-DD] [note…]",
    example="/kpi set cac 95 2026-03-31 after the spring campaign",
    mutates=True,
)
async def kpi_set(cmd: Command, ctx: Context) -> Reply:
    """Record a measurement (date defaults to today in the chat's timezone).

    The date may be typed in words (`5 ноября`, `3 nov`, `yesterday`). A value more than
    100× away from the KPI's recent values is only saved after you confirm it.
    """
    need(cmd.args, 2)
    kpi = kpi_or_fail(cmd, ctx, cmd.args[0])
    if kpi.formula:
        raise UsageError(
            f"{kpi.key} is calculated ({kpi.formula}); record its inputs instead, "
            f"or make it manual with /kpi edit {kpi.key} formula=none"
        )
    raw, nxt = take_number(cmd.args, 1)
    value = parse_number(raw, kpi.key)
    today = chat_today(cmd, ctx)
    typed_day, nxt = take_date(cmd.args, nxt, today)
    day = typed_day or today
    if day > today:
        raise UsageError(
            f"{day.isoformat()} is in the future; values are recorded for today or earlier."
        )
    note = " ".join(cmd.args[nxt:])[:500]
    recent = [m.value for m in ctx.store.kpis.latest(cmd.chat.key, kpi.key)]
    if _far_from(value, recent):
        payload = {"kpi": kpi.key, "value": value, "day": day.isoformat(), "note": note}
        pending = ctx.store.pending.put(cmd.chat.key, "kpi-set", payload, ctx.clock())
        low, high = min(recent), max(recent)
        shown = (
            render.num(low, kpi.unit)
            if low == high
            else (f"{render.num(low, kpi.unit)} to {render.num(high, kpi.unit)}")
        )
        return Reply(
            text=f"{render.num(value, kpi.unit)} is more than {OUTLIER}× away from "
            f"the recent values of {kpi.name} ({shown}). Record it anyway? "
            "Nothing is saved until you confirm.",
            buttons=(
                Button(
                    label=f"Record {render.num(value, kpi.unit)}",
                    command=f"/kpi confirm {pending}",
                ),
                Button(label="Cancel", command=f"/kpi confirm {pending} cancel"),
            ),
        )
    return _record(cmd, ctx, kpi, value, day, note)


def _far_from(value: float, recent: list[float]) -> bool:
    """More than 100× above or below every recent value (zeros and sign flips don't count)."""
    sizes = [abs(v) for v in recent if v != 0]
    if value == 0 or not sizes:
        return False
    return abs(value) > OUTLIER * max(sizes) or abs(value) * OUTLIER < min(sizes)


@command(
    "kpi confirm",
    usage="/kpi confirm <id> [cancel]",
    example="/kpi confirm 3f9a1c2b",
    mutates=True,
)
async def kpi_confirm(cmd: Command, ctx: Context) -> Reply:
    """Record (or drop, with `cancel`) a value that was far from the KPI's recent ones."""
    need(cmd.args, 1)
    payload = ctx.store.pending.take(cmd.chat.key, "kpi-set", cmd.args[0], ctx.clock())
    if payload is None:
        raise UsageError("That value was already recorded, cancelled or has expired.")
    if [a.casefold() for a in cmd.args[1:]] == ["cancel"]:
        return Reply(text="Cancelled; nothing was saved.")
    kpi = kpi_or_fail(cmd, ctx, str(payload["kpi"]))
    day = date.fromisoformat(str(payload["day"]))
    return _record(cmd, ctx, kpi, float(payload["value"]), day, str(payload["note"]))


def _record(cmd: Command, ctx: Context, kpi: Kpi, value: float, day: date, note: str) -> Reply:
    today = chat_today(cmd, ctx)
    measurement = Measurement(
        kpi=kpi.key,
        value=value,
        day=day,
        at=chat_now(cmd, ctx),
        by=who(cmd),
        by_id=author_id(cmd),
        note=note,
    )
    chat = cmd.chat.key
    replaced = ctx.store.kpis.record(chat, measurement)
    recomputed = calculated.values_changed(ctx, chat, {kpi.key: [day]}, ctx.clock())
    alerting.on_values_recorded(ctx, chat, [kpi, *recomputed])
    thresholds = ctx.store.scorecards.thresholds(chat)
    latest = ctx.store.kpis.latest(chat, kpi.key)
    scored = kpi_on(kpi, day)
    period_value, period_text = _period_total(ctx, chat, kpi, value, day)
    status = kpi_status(scored, period_value, thresholds)
    was = f" (replaced {render.num(replaced.value, kpi.unit)})" if replaced else ""
    when = "" if day == today else f" for {day.isoformat()}"
    state = (
        "test mode, not scored"
        if kpi.test
        else f"{period_text}{render.mark(status)} {render.STATUS_WORD[status]}, "
        f"progress {render.pct(progress(scored, period_value))}"
    )
    newest = latest[-1].day if latest else day
    latest_note = "" if newest == day else " An older date: the latest value is unchanged."
    derived = "".join(
        "\n" + _formula_note(ctx, chat, k, day) for k in _readers(ctx, chat, kpi.key)
    )
    return Reply(
        text=f"Saved {kpi.name} = {render.num(value, kpi.unit)}{when}{was} ({state})."
        f"{latest_note}{derived}"
    )


def _period_total(ctx: Context, chat: str, kpi: Kpi, value: float, day: date) -> tuple[float, str]:
    """What a new value makes of its period (`agg=sum`: the month's total), and how to say it;
    a `last` KPI is scored on the value itself."""
    if kpi.agg == "last":
        return value, ""
    period = kpi_period(kpi.every, day)
    values = ctx.store.kpis.between(chat, kpi.key, period.start, period.end)
    total = combine(kpi.agg, [m.value for m in values])
    if total is None or len(values) < 2:
        return value, ""
    label = f"{AGG_WORDS[kpi.agg]} for {period_label(period)}"
    return total, f"{label}: {render.num(total, kpi.unit)}, "


def _readers(ctx: Context, chat: str, key: str) -> list[Kpi]:
    """Formula KPIs that read `key` directly."""
    return [
        k
        for k in ctx.store.kpis.all(chat)
        if k.formula and key in calculated.compiled(k.formula).inputs
    ]


def register(router: Router) -> None:
    """Register the /kpi family."""
    router.include(kpi_list, kpi_add, kpi_edit, kpi_remove, kpi_restore, kpi_set, kpi_confirm)
