"""Calculated KPIs and period values: the storage side of `scoring.formula` and aggregation.

* `reading` is what `/kpi`, roll-ups, alerts and key results use as a KPI's value: the
  aggregate (`agg=`) of the latest period that has values, and the one before it.
* `values_changed` is called, inside the command's atomic step, by everything that adds
  or removes values (`/kpi set`, imports, API ingest, undo): every KPI whose formula reads
  a changed KPI, directly or through others, is recomputed for the affected periods —
  inputs before users — and stored as one value per period; key results driven by any of
  them follow. It returns the recomputed KPIs so the caller alerts on them with the rest.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from handlers import render
from handlers.contract import Button, Command, Conflict, Context, Reply, UsageError
from handlers.messages import say
from scoring.aggregation import (
    PeriodValue,
    by_period,
    combine,
    kpi_period,
    period_label,
)
from scoring.formula import (
    Formula,
    NoValue,
    check_new_formula,
    dependents_in_order,
    evaluate,
    find_cycle,
    parse_formula,
)
from scoring.models import Kpi, Measurement
from scoring.periods import Period

FORMULA_AUTHOR = "formula"


@functools.lru_cache(maxsize=1024)
def compiled(text: str) -> Formula:
    """A stored formula, parsed and checked once per process (the text is immutable)."""
    return parse_formula(text)


def graph(kpis: Iterable[Kpi]) -> dict[str, tuple[str, ...]]:
    """Formula KPI key → the KPI keys its formula reads (live KPIs only)."""
    return {k.key: compiled(k.formula).inputs for k in kpis if k.formula and k.removed_at is None}


def readers(ctx: Context, chat: str, key: str) -> list[Kpi]:
    """Live formula KPIs that read `key` directly, in definition order (the chat's map of
    them is remembered with the version of its KPI definitions: a `/kpi set` need not scan
    every KPI for it)."""
    kpis = ctx.store.kpis
    by_input = kpis.memo(
        chat, None, _readers_by_input, (), lambda: _readers_by_input(kpis.all(chat))
    )
    return list(by_input.get(key, ()))


def _readers_by_input(kpis: list[Kpi]) -> dict[str, tuple[Kpi, ...]]:
    """Each KPI read by a formula → the formula KPIs among `kpis` that read it, in order."""
    found: dict[str, list[Kpi]] = {}
    for kpi in kpis:
        for read in compiled(kpi.formula).inputs if kpi.formula else ():
            found.setdefault(read, []).append(kpi)
    return {read: tuple(readers) for read, readers in found.items()}


def check_formula(ctx: Context, chat: str, key: str, text: str) -> Formula:
    """A formula for KPI `key`, refused with one line if it is malformed, names a KPI that
    does not exist, or would make the KPI depend on itself."""
    formula = parse_formula(text)
    kpis = {k.key: k for k in ctx.store.kpis.all(chat)}
    unknown = [name for name in formula.inputs if name not in kpis and name != key]
    if unknown:
        raise UsageError(
            f"The formula reads {', '.join(repr(u) for u in unknown)}, which "
            f"{'is not a KPI' if len(unknown) == 1 else 'are not KPIs'} here; add "
            f"{'it' if len(unknown) == 1 else 'them'} first (keys with - or . can't be used "
            "in formulas)."
        )
    if not formula.inputs:
        raise UsageError(
            f"The formula '{formula.text[:60]}' reads no KPI, so it would never get a value; "
            'a formula combines KPIs, e.g. formula="spend / newc" (record a fixed number '
            "with /kpi set instead)."
        )
    check_new_formula(formula)
    if key in formula.inputs:
        raise Conflict(f"The formula of {key} reads {key} itself; a KPI can't depend on itself.")
    others = graph(k for k in kpis.values() if k.key != key)
    loop = find_cycle(key, formula.inputs, others)
    if loop is not None:
        raise Conflict(
            f"That formula would make a loop: {' → '.join(loop)} (each reads the next); "
            "a KPI can't depend on itself."
        )
    return formula


# --- values per period ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reading:
    """A KPI's current value: the aggregate of its latest period with data, and the one before."""

    value: float | None
    previous: float | None
    day: date | None  # newest day with a value
    period: Period | None
    count: int  # values in the period


NO_READING = Reading(None, None, None, None, 0)


def reading(ctx: Context, chat: str, kpi: Kpi) -> Reading:
    """The value `/kpi`, roll-ups and alerts use (a plain `last` KPI reads only the index)."""
    latest = ctx.store.kpis.latest(chat, kpi.key)
    if not latest:
        return NO_READING
    last = latest[-1]
    period = kpi_period(kpi.every, last.day)
    if kpi.agg == "last" and not kpi.formula:
        previous = latest[-2].value if len(latest) > 1 else None
        return Reading(last.value, previous, last.day, period, 1)
    before = kpi_period(kpi.every, period.start - timedelta(days=1))
    values = ctx.store.kpis.between(chat, kpi.key, before.start, period.end)
    now = combine(kpi.agg, [m.value for m in values if m.day >= period.start])
    prev = combine(kpi.agg, [m.value for m in values if m.day < period.start])
    count = sum(1 for m in values if m.day >= period.start)
    return Reading(now, prev, last.day, period, count)


def current_measurement(ctx: Context, chat: str, kpi: Kpi) -> Measurement | None:
    """The latest stored reading with the period's aggregate as its value (for alerts)."""
    if kpi.agg == "last":
        return ctx.store.kpis.newest(chat, kpi.key)
    latest = ctx.store.kpis.latest(chat, kpi.key)
    if not latest:
        return None
    value = reading(ctx, chat, kpi).value
    return latest[-1] if value is None else latest[-1].model_copy(update={"value": value})


# --- a half-entered day ------------------------------------------------------------------------

#: How long a calculated KPI's alert waits for an input still missing on its day (spend is
#: typed, new customers a minute later): the missing value settles it, or the alert goes
#: out then, saying what is missing.
INPUTS_WAIT = timedelta(minutes=15)


def missing_inputs(ctx: Context, chat: str, kpi: Kpi) -> tuple[list[str], date | None]:
    """The inputs of a formula KPI that add up over its period (`agg=sum`: spend, new
    customers) and have no value yet on the day its value is dated, the day another input
    moved, although they were typed with that input on its last two days (or its only
    one); and that day.
    A half-entered day: CAC from today's spend and no new customers of today reads too high
    for a minute. An input typed on its own schedule (spend monthly, new customers daily) is
    not missing on the other's days; inputs that stand on their own (`last`, `avg`…) and
    manual KPIs are never missing."""
    if not kpi.formula:
        return [], None
    latest = ctx.store.kpis.latest(chat, kpi.key)
    if not latest:
        return [], None
    day = latest[-1].day
    repo = ctx.store.kpis
    inputs = compiled(kpi.formula).inputs
    absent = [key for key in inputs if not repo.between(chat, key, day, day)]
    summed = [key for key in absent if (source := repo.get(chat, key)) and source.agg == "sum"]
    if not summed:
        return [], day
    # the last two days before this one that each input that moved was typed
    moved = [key for key in inputs if key not in absent]
    last = [_days_before(repo.history(chat, key, limit=3), day) for key in moved]
    if not all(last):
        return summed, day  # an input's first day: nothing tells its company yet
    return [
        key
        for key in summed
        if any(all(repo.between(chat, key, d, d) for d in days) for days in last)
    ], day


def _days_before(values: Sequence[Measurement], day: date) -> list[date]:
    """The newest two days of `values` before `day`."""
    return sorted({v.day for v in values if v.day < day})[-2:]


def wait_for_inputs(
    ctx: Context, chat: str, keys: Iterable[str], now: datetime
) -> dict[str, datetime]:
    """The KPIs among `keys` whose alert waits for a missing input, and until when: the
    one rule for every alert a half-entered day causes (the pipeline asks it per change)."""
    waits: dict[str, datetime] = {}
    for key in keys:
        kpi = ctx.store.kpis.get(chat, key)
        if kpi is not None and missing_inputs(ctx, chat, kpi)[0]:
            waits[key] = now + INPUTS_WAIT
    return waits


def missing_text(ctx: Context, chat: str, key: str) -> str | None:
    """`newc has no value for 2026-11-22 yet`: said in an alert that went out while an input
    of its day was still missing; None when none is (or `key` is not calculated)."""
    kpi = ctx.store.kpis.get(chat, key)
    if kpi is None:
        return None
    missing, day = missing_inputs(ctx, chat, kpi)
    if not missing or day is None:
        return None
    verb = "has" if len(missing) == 1 else "have"
    return f"{', '.join(missing)} {verb} no value for {day.isoformat()} yet"


def period_values(ctx: Context, chat: str, kpi: Kpi, first: date, last: date) -> list[PeriodValue]:
    """The KPI's aggregate for each of its periods between two days (for ytd and charts)."""
    return by_period(kpi.every, kpi.agg, ctx.store.kpis.between(chat, kpi.key, first, last))


# --- recomputation ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """A formula KPI in one period: its value, or why it has none, and its inputs' values."""

    period: Period
    value: float | None
    reason: str | None
    inputs: Mapping[str, float]


def _input_values(
    ctx: Context, chat: str, kpis: Mapping[str, Kpi], formula: Formula, first: date, last: date
) -> dict[str, list[Measurement]]:
    return {
        key: ctx.store.kpis.between(chat, key, first, last)
        for key in formula.inputs
        if key in kpis
    }


def _outcome(
    kpi: Kpi,
    formula: Formula,
    kpis: Mapping[str, Kpi],
    values: Mapping[str, Sequence[Measurement]],
    period: Period,
) -> tuple[Outcome, date | None]:
    """Evaluate a formula for one period from its inputs' values (each by its own `agg`)."""
    before = kpi_period(kpi.every, period.start - timedelta(days=1))
    now: dict[str, float] = {}
    previous: dict[str, float] = {}
    newest: date | None = None
    for key, items in values.items():
        agg = kpis[key].agg
        inside = [m for m in items if period.start <= m.day <= period.end]
        value = combine(agg, [m.value for m in inside])
        if value is not None:
            now[key] = value
            newest = max(newest or inside[-1].day, inside[-1].day)
        old = combine(agg, [m.value for m in items if before.start <= m.day <= before.end])
        if old is not None:
            previous[key] = old
    try:
        return Outcome(period, evaluate(formula, now, previous), None, now), newest
    except NoValue as exc:
        return Outcome(period, None, say(exc), now), newest


def outcome(ctx: Context, chat: str, kpi: Kpi, day: date) -> Outcome:
    """A formula KPI's value (or reason for none) in the period containing `day`."""
    assert kpi.formula is not None
    formula = compiled(kpi.formula)
    kpis = {k.key: k for k in ctx.store.kpis.all(chat)}
    period = kpi_period(kpi.every, day)
    before = kpi_period(kpi.every, period.start - timedelta(days=1))
    values = _input_values(ctx, chat, kpis, formula, before.start, period.end)
    return _outcome(kpi, formula, kpis, values, period)[0]


def values_changed(
    ctx: Context, chat: str, changes: Mapping[str, Iterable[date]], now: datetime
) -> list[Kpi]:
    """Recompute every formula KPI that reads a changed KPI, for the periods touched.

    `changes` maps a KPI key to the days whose values were added, replaced or removed.
    Each dependent keeps exactly one value per period (dated on the newest input day of
    that period); a period whose formula has no value (missing input, division by zero)
    loses its stored value. Returns the KPIs whose stored values changed.
    """
    repo = ctx.store.kpis
    # the formulas' inputs, worked out once per version of the chat's KPI definitions
    formulas = repo.memo(chat, None, graph, (), lambda: graph(repo.all(chat)))
    if not formulas:  # nothing to recompute: the changed KPIs alone, not all 50 of the chat
        changed_kpis = (repo.get(chat, key) for key in changes)
        sync_key_results(ctx, chat, [k for k in changed_kpis if k and k.removed_at is None])
        return []
    kpis = {k.key: k for k in repo.all(chat)}
    days: dict[str, set[date]] = {k: set(v) for k, v in changes.items()}
    changed: list[Kpi] = []
    for key in dependents_in_order(days, formulas):
        kpi = kpis[key]
        touched = {d for read in formulas[key] for d in days.get(read, ())}
        periods = {kpi_period(kpi.every, d) for d in touched}
        # pct_change() reads the previous period, so a change also moves the next one
        if compiled(kpi.formula or "").previous:
            periods |= {p.next() for p in periods}
        if not periods:
            continue
        stored_days = _recompute(ctx, chat, kpi, kpis, sorted(periods, key=lambda p: p.start), now)
        if stored_days:
            days.setdefault(key, set()).update(stored_days)
            changed.append(kpi)
    sync_key_results(ctx, chat, [kpis[k] for k in days if k in kpis])
    return changed


def _recompute(
    ctx: Context,
    chat: str,
    kpi: Kpi,
    kpis: Mapping[str, Kpi],
    periods: list[Period],
    now: datetime,
) -> set[date]:
    """Store the formula's value for each period; returns the days whose value changed."""
    formula = compiled(kpi.formula or "")
    first = kpi_period(kpi.every, periods[0].start - timedelta(days=1)).start
    last = periods[-1].end
    values = _input_values(ctx, chat, kpis, formula, first, last)
    stored = ctx.store.kpis.between(chat, kpi.key, periods[0].start, last)
    fresh: list[Measurement] = []
    moved: set[date] = set()
    for period in periods:
        result, newest = _outcome(kpi, formula, kpis, values, period)
        old = [m for m in stored if period.start <= m.day <= period.end]
        if result.value is None or newest is None:
            if old:
                ctx.store.kpis.clear_between(chat, kpi.key, period.start, period.end)
                moved.update(m.day for m in old)
            continue
        if len(old) == 1 and old[0].day == newest and old[0].value == result.value:
            continue
        if any(m.day != newest for m in old):
            ctx.store.kpis.clear_between(chat, kpi.key, period.start, period.end)
        moved.update(m.day for m in old)
        moved.add(newest)
        fresh.append(
            Measurement(kpi=kpi.key, value=result.value, day=newest, at=now, by=FORMULA_AUTHOR)
        )
    if fresh:
        ctx.store.kpis.record_many(chat, kpi.key, fresh)
    return moved


def backfill(ctx: Context, chat: str, kpi: Kpi, now: datetime) -> list[Kpi]:
    """Compute a new (or changed) formula for every period its inputs have values in."""
    assert kpi.formula is not None
    formula = compiled(kpi.formula)
    changes: dict[str, set[date]] = {}
    for key in formula.inputs:
        changes[key] = {m.day for m in ctx.store.kpis.history(chat, key)}
    # old values of this KPI in periods its inputs no longer cover must go too
    covered = {kpi_period(kpi.every, d) for days in changes.values() for d in days}
    for m in ctx.store.kpis.history(chat, kpi.key):
        if kpi_period(kpi.every, m.day) not in covered:
            ctx.store.kpis.clear_between(chat, kpi.key, m.day, m.day)
    changed = values_changed(ctx, chat, changes, now)
    return changed if any(k.key == kpi.key for k in changed) else [kpi, *changed]


@dataclass(frozen=True, slots=True)
class Dropped:
    """Stored values an edit of a formula KPI would remove, and why they have no value."""

    values: list[Measurement]
    reason: str

    def what(self) -> str:
        """`1 stored value (2026-12-01)` / `3 stored values (2026-10-01 to 2026-12-01)`."""
        days = sorted(m.day.isoformat() for m in self.values)
        span = days[0] if len(days) == 1 else f"{days[0]} to {days[-1]}"
        return f"{render.plural(len(days), 'stored value')} ({span})"

    def question(self, cmd: Command, kpi: Kpi, updated: Kpi) -> Reply:
        """Ask before removing them; the button re-sends the edit with `confirm`."""
        return Reply(
            text=f"With formula={updated.formula}, {kpi.name} ({kpi.key}) would lose its "
            f"{self.what()}: {self.reason}. Nothing is changed until you confirm.",
            buttons=(
                Button(
                    label=f"Change and remove {render.plural(len(self.values), 'value')}",
                    command=f"/kpi {cmd.text} confirm",
                ),
            ),
        )


def values_dropped(ctx: Context, chat: str, kpi: Kpi, updated: Kpi) -> Dropped | None:
    """The stored values `kpi` would lose when edited to `updated` (a formula, `agg=` or
    `every=` change after which some periods have no value); None when none are lost."""
    if not updated.formula or all(
        getattr(kpi, f) == getattr(updated, f) for f in ("formula", "agg", "every")
    ):
        return None
    kpi = updated
    formula = compiled(kpi.formula or "")
    stored = ctx.store.kpis.history(chat, kpi.key)
    if not stored:
        return None
    kpis = {k.key: k for k in ctx.store.kpis.all(chat)}
    periods = sorted({kpi_period(kpi.every, m.day) for m in stored}, key=lambda p: p.start)
    first = kpi_period(kpi.every, periods[0].start - timedelta(days=1)).start
    values = _input_values(ctx, chat, kpis, formula, first, periods[-1].end)
    lost: list[Measurement] = []
    reason = ""
    for period in periods:
        result, newest = _outcome(kpi, formula, kpis, values, period)
        if result.value is None or newest is None:
            lost.extend(m for m in stored if period.start <= m.day <= period.end)
            reason = result.reason or f"its inputs have no values in {period_label(period)}"
    return Dropped(lost, reason) if lost else None


def sync_key_results(ctx: Context, chat: str, kpis: Sequence[Kpi]) -> None:
    """Key results driven by these KPIs take their current value."""
    driving = ctx.store.okrs.kpis_driving(chat)
    keys = {k.key: k for k in kpis if k.key in driving} if driving else {}
    if not keys:
        return
    for kr in ctx.store.okrs.key_results(chat):
        if kr.kpi in keys:
            value = reading(ctx, chat, keys[kr.kpi]).value
            if value != kr.current:
                ctx.store.okrs.put_key_result(chat, kr.model_copy(update={"current": value}))


def latest_input_day(ctx: Context, chat: str, kpi: Kpi) -> date | None:
    """The newest day any input of a formula KPI has a value (its current period)."""
    days = [
        latest[-1].day
        for key in compiled(kpi.formula or "").inputs
        if (latest := ctx.store.kpis.latest(chat, key))
    ]
    return max(days, default=None)
