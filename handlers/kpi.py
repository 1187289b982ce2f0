"""`/kpi`: the list and one KPI's card, chart, maths (`explain`) and year so far.

Adding, editing and removing live in handlers.kpi_edit, recording values in handlers.kpi_set;
`register` keeps the whole /kpi family in one place.
"""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import cast

from handlers import calculated, calculated_explain, render
from handlers import explain as explain_text
from handlers.chart_specs import chart_note, judged_history, kpi_chart_spec, parse_period, window
from handlers.common import chat_today, kpi_or_fail, objective_label
from handlers.contract import (
    Command,
    Context,
    Field,
    Image,
    Reply,
    Table,
    UsageError,
    command,
)
from handlers.kpi_edit import kpi_add, kpi_edit, kpi_remove, kpi_restore
from handlers.kpi_set import kpi_confirm, kpi_set
from handlers.parsing import (
    clip,
)
from handlers.pictures.charts import chart_png
from handlers.render import AGG_WORDS
from handlers.router import Router
from handlers.scores import (
    KpiView,
    ScorecardView,
    due_so_far,
    due_state,
    kpi_view,
    pace_mark,
    scorecard_view,
)
from scoring.aggregation import combine, kpi_period, period_label
from scoring.explain import explain
from scoring.models import Kpi, Perspective
from scoring.targets import due_days, judged_on, kpi_on


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
    chat = cmd.chat.key
    today = chat_today(cmd, ctx)
    paces = tuple(
        pace_mark(due_state(ctx, chat, v, today)) if v.kpi.due else "" for v in view.kpis
    )
    shown = (view.score.index, tuple(view.kpis), tuple(view.perspectives), tuple(view.objectives))
    args = (*shown, today, paces)
    return ctx.store.kpis.memo(
        chat,
        None,
        _list_reply,
        args,
        partial(_list_reply, ctx, chat, view, today, paces),
        update=lambda old, previous: _list_update(
            ctx, chat, view, today, paces, args, old, previous
        ),
    )


def _layout(view: ScorecardView) -> list[tuple[Perspective, list[int]]]:
    """Each perspective with KPIs, and the positions (in `view.kpis`) of its KPIs."""
    home = {o.key: o.perspective for o in reversed(view.objectives)}  # the first one wins
    under: dict[str, list[int]] = {p.key: [] for p in view.perspectives}
    for i, v in enumerate(view.kpis):
        place = home.get(v.kpi.objective)
        if place is not None and place in under:
            under[place].append(i)
    return [(p, under[p.key]) for p in view.perspectives if under[p.key]]


def _list_reply(
    ctx: Context, chat: str, view: ScorecardView, today: date, paces: tuple[str, ...]
) -> Reply:
    """The whole list; a KPI's cells are remembered with its view, so when one KPI changed
    only its row is formatted again."""
    rows: list[tuple[str, ...]] = []
    for perspective, members in _layout(view):
        rows.append((perspective.name.upper(), "", "", "", "", ""))
        rows.extend(_row(ctx, chat, view.kpis[i], paces[i], today) for i in members)
    return _list(view, rows)


def _list_update(
    ctx: Context,
    chat: str,
    view: ScorecardView,
    today: date,
    paces: tuple[str, ...],
    args: tuple[object, ...],
    old: tuple[object, ...],
    previous: Reply,
) -> Reply:
    """The list after some KPIs' views changed (a `/kpi set`): the remembered rows with only
    theirs formatted again; the whole list when anything else it shows changed.

    `args` and `old`: the list's remembered-by values now and then (index, KPI views, then
    what else it shows), compared as `kpi_list` made them rather than rebuilt here."""
    before = cast(tuple[KpiView, ...], old[1])
    same = old[2:] == args[2:]
    keys = [v.kpi.key for v in before] == [v.kpi.key for v in view.kpis]
    if not (same and keys) or previous.table is None:
        return _list_reply(ctx, chat, view, today, paces)
    rows = list(previous.table.rows)
    at = 0
    for _, members in _layout(view):
        at += 1  # the perspective's own row
        for i in members:
            if before[i] is not view.kpis[i]:
                rows[at] = _row(ctx, chat, view.kpis[i], paces[i], today)
            at += 1
    return _list(view, rows)


def _row(ctx: Context, chat: str, v: KpiView, pace: str, today: date) -> tuple[str, ...]:
    """A KPI's row: its remembered cells, and its age (and pace) today."""
    cells = ctx.store.kpis.memo(chat, v.kpi.key, _cells, (v,), partial(_cells, v))
    age = render.age(v.day, today)
    return (*cells, f"{age}  {pace}" if pace else age)


def _list(view: ScorecardView, rows: list[tuple[str, ...]]) -> Reply:
    """The list's reply around its rows: the index, and what was left out."""
    notes = [_left_out_note(view.kpis)]
    if any(v.kpi.due is not None for v in view.kpis):
        notes.append("⏱ pace towards the due date; /kpi <key> shows the forecast.")
    footer = "\n".join(n for n in notes if n) or None
    return Reply(
        title=f"KPIs · index {render.pct(view.score.index)}",
        table=Table(
            columns=("KPI", "value", "target", "progress", "", "updated"),
            rows=tuple(rows),
            align=("l", "r", "r", "r", "l", "l"),
        ),
        footer=footer,
    )


def _cells(v: KpiView) -> tuple[str, ...]:
    """A KPI's row in `/kpi` but its age: what its view alone decides."""
    return (
        f"{render.mark(v.status)} {v.kpi.name} ({v.kpi.key})",
        render.num(v.value, v.kpi.unit),
        _target_text(v.kpi, v.target_now),
        render.pct(v.progress),
        render.trend(v.previous, v.value),
    )


def _goal_word(kpi: Kpi) -> str:
    return "range" if kpi.direction == "range" else "target"


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


def _due_fields(kpi: Kpi, view: KpiView) -> tuple[Field, ...]:
    """`Judged against: 20 due by 2026-11-02 (a sum is judged on the share of its month
    gone)`: why a sum's colour and performance are not its whole target's progress."""
    due = due_so_far(kpi, view.day)
    if due is None:
        return ()
    return (Field(label="Judged against", value=f"{due} ({_why_paced(kpi)})"),)


def _why_paced(kpi: Kpi) -> str:
    """Why a sum's colour is not its whole target's, as the card and `explain` say it."""
    return f"a sum is judged on the share of its {kpi.every} gone"


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
    fields = [
        Field(label="Value", value=render.num(view.value, kpi.unit)),
        *_scale_fields(kpi, view),
        Field(label="Progress", value=render.pct(view.progress)),
        *_due_fields(kpi, view),
        Field(label="Performance", value=render.pct(view.performance)),
        Field(
            label="Status", value=f"{render.mark(view.status)} {render.STATUS_WORD[view.status]}"
        ),
        Field(label="Direction", value=_direction_text(kpi.direction, kpi.min, kpi.max)),
        Field(label="Objective", value=objective_label(ctx, chat, kpi.objective)),
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
    win = window(
        judged_history(kpi, ctx.store.kpis.history(chat, kpi.key)), period, chat_today(cmd, ctx)
    )
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
        f"latest {_aggregate_of(kpi, last.day)}{render.num(last.value, kpi.unit)}, "
        f"{_goal_word(kpi)} {_target_text(kpi, kpi_on(kpi, last.day).target)}.",
        image=Image(data=png, filename=f"{kpi.key}.png", alt=f"{kpi.name} over time"),
    )


def _aggregate_of(kpi: Kpi, day: date) -> str:
    """`sum for 2026-11: `: what a chart's latest point of a KPI with `agg=` is."""
    if kpi.agg == "last":
        return ""
    return f"{render.period_aggregate(kpi.agg, kpi_period(kpi.every, day))}: "


def _kpi_explain(ctx: Context, chat: str, kpi: Kpi, view: KpiView) -> Reply:
    """The maths of one KPI: where its value comes from (formula, period), then its scores."""
    thresholds = ctx.store.scorecards.thresholds(chat)
    now = calculated.reading(ctx, chat, kpi)
    source = calculated_explain.explain_value(ctx, chat, kpi, now)
    if view.value is None:
        if not source:
            hint = (
                f"its formula is {kpi.formula}, and {calculated_explain.no_value_reason(kpi)}"
                if kpi.formula
                else f"/kpi set {kpi.key} <value>"
            )
            return Reply(text=f"{kpi.name} has no value yet: {hint}")
        return Reply(title=f"How {kpi.name} is scored", text="\n".join(source))
    scored = kpi_on(kpi, view.day)
    judged = judged_on(kpi, view.day)
    lines = [*source, *explain_text.lines(explain(judged, view.value, thresholds))]
    if view.day is not None and (due := due_so_far(kpi, view.day)) is not None:
        period = kpi_period(kpi.every, view.day)
        days, _ = due_days(kpi.every, view.day)
        lines.insert(
            len(source),
            f"judged against {due} = {render.num(scored.target, kpi.unit)} × {days} of "
            f"{period.days} days of {period_label(period)} ({_why_paced(kpi)}); progress of "
            f"the whole target {render.pct(view.progress)}",
        )
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
        missing = calculated.missing_text(ctx, cmd.chat.key, kpi.key)  # a half-entered day
        formula = f"{kpi.formula} ({missing})" if missing else kpi.formula
        fields.append(Field(label="Formula", value=formula))
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
    state = due_state(ctx, cmd.chat.key, view, chat_today(cmd, ctx))
    assert kpi.due is not None and state is not None
    parts = [render.day(kpi.due), f"{render.pct(state.elapsed)} of the time gone"]
    if state.pace is not None:
        parts[-1] += f": {render.PACE_WORD[state.pace]}"
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
    # a sum's target is per period: the year's sum beside it read as the target met
    per = f" a {kpi.every}" if kpi.agg == "sum" else ""
    return Reply(
        title=f"{kpi.name} ({kpi.key}) · {today.year} to date",
        text=f"Year to date ({AGG_WORDS[kpi.agg]} of {render.plural(len(values), 'value')}): "
        f"{render.num(total, kpi.unit)}; target {render.num(kpi.target, kpi.unit)}{per}.",
        table=Table(columns=("period", "value", "values"), rows=rows, align=("l", "r", "r")),
    )


def _direction_text(direction: str, low: float | None, high: float | None) -> str:
    if direction == "range":
        return f"stay between {render.num(low)} and {render.num(high)}"
    text = "higher is better" if direction == "up" else "lower is better"
    if low is not None and high is not None:
        text += f" (scale {render.num(low)}–{render.num(high)})"
    return text


def register(router: Router) -> None:
    """Register the /kpi family."""
    router.include(kpi_list, kpi_add, kpi_edit, kpi_remove, kpi_restore, kpi_set, kpi_confirm)
