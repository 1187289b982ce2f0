"""`/kpi set|confirm`: record a value (far-off ones are confirmed first) and say what changed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from handlers import alert_pipeline, calculated, render
from handlers.alert_judge import quiet_share, took_reading
from handlers.alert_pipeline import Declined
from handlers.common import author_id, chat_zone, kpi_or_fail, need, who, zone_of
from handlers.contract import (
    Command,
    Context,
    Reply,
    UsageError,
    command,
)
from handlers.dates import not_ahead
from handlers.far_values import (
    CANCELLED,
    addition,
    ask_first,
    ask_fraction,
    compared,
    confirmed,
    far_from,
    fraction_typed,
)
from handlers.parsing import (
    dot_reading,
    key_equals_value,
    normalize_key,
    note_of,
    parse_unit_value,
    take_date,
    unit_left_out,
    words_after_value,
)
from handlers.parsing import take_number_tokens as take_number
from handlers.scores import colour_said, due_so_far
from scoring.aggregation import combine, kpi_period, period_label
from scoring.kpi import progress
from scoring.models import Kpi, Measurement, Thresholds
from scoring.status import kpi_status
from scoring.targets import judged_on, kpi_on
from storage.kpis import value_doc, values_of


@command(
    "kpi set",
    usage="/kpi set <key> <value> [YYYY-MM-DD] [note…]",
    example="/kpi set cac 95 2026-03-31 after the spring campaign",
    mutates=True,
)
async def kpi_set(cmd: Command, ctx: Context) -> Reply:
    """Record a measurement (date defaults to today in the chat's timezone).

    `/kpi set cac=95` is `/kpi set cac 95`; one KPI per message.
    The date may be typed in words (`5 ноября`, `3 nov`, `yesterday`, `last friday`); a day
    and month without a year are this year's, and a future date is refused. A value more
    than 100× away from the KPI's recent values is only saved after you confirm it. On a
    `%` KPI, a share written as a fraction (`0.031` for 3.1 %) is asked about first, with
    both readings as buttons; `3.1` or `0.031%` is saved at once.
    """
    typed = cmd.args
    if len(typed) < 2 or "=" in typed[0] or typed[1][:1] == "=":
        typed = key_equals_value(typed)  # `cac=95`
    need(typed, 2)
    chat = cmd.chat.key
    kpi = kpi_or_fail(cmd, ctx, typed[0])
    _one_kpi_a_set(ctx, chat, typed[2:])
    if kpi.formula:
        raise _calculated(kpi)
    args = unit_left_out(typed, kpi.unit)
    raw, nxt = take_number(args, 1)
    value = parse_unit_value(raw, kpi.key, kpi.name, kpi.unit)
    if raw[:1] == "+":  # `+500`: 500 more was meant, and 500 would be saved
        raise _addition(kpi, value, ctx.store.kpis.latest_docs(chat, kpi.key))
    words_after_value(raw, value, args[nxt:], kpi.key, kpi.name, kpi.unit)
    zone = zone_of(ctx, chat)  # read once per command
    now = ctx.clock().astimezone(zone)
    today = now.date()
    day, note = today, ""
    if nxt < len(args):  # a date, a note (the common set has neither)
        typed_day, nxt = take_date(args, nxt, today)
        day = typed_day or today
        not_ahead(day, today)
        note = note_of(args[nxt:])
    latest = ctx.store.kpis.latest_docs(chat, kpi.key)
    recent = values_of(latest)
    if far_from(value, recent):
        payload = {"kpi": kpi.key, "value": value, "day": day.isoformat(), "note": note}
        about = f"the recent values of {kpi.name}"
        return ask_first(cmd, ctx, "kpi-set", payload, recent, about=about, unit=kpi.unit)
    if kpi.unit == "%":  # `0.031` for 3.1 %
        fraction = _fraction(
            cmd, ctx, kpi, (value, raw, len(args) != len(typed)), day, note, recent
        )
        if fraction is not None:
            return fraction
    quick = _quick(cmd, ctx, kpi, value, day, note, now, latest, chat)
    if isinstance(quick, Reply):
        saved = quick
    else:
        measured = _measurement(cmd, kpi, value, day, note, now)
        saved = _record(cmd, ctx, kpi, measured, zone, quick)
    reading = dot_reading(raw, value, recent)  # `14.000`: said unless its reading fits
    return saved.model_copy(update={"text": f"{saved.text}\n{reading}"}) if reading else saved


@command(
    "kpi confirm",
    usage="/kpi confirm <id> [cancel|x100]",
    example="/kpi confirm 3f9a1c2b",
    mutates=True,
)
async def kpi_confirm(cmd: Command, ctx: Context) -> Reply:
    """Record (or drop, with `cancel`) a value that was far from the KPI's recent ones;
    `x100`: a share written as a fraction, recorded as the percent it meant."""
    payload = confirmed(cmd, ctx, "kpi-set")
    if payload is None:
        return Reply(text=CANCELLED)
    kpi = kpi_or_fail(cmd, ctx, str(payload["kpi"]))
    if kpi.formula:  # made calculated since the value was parked: its values are the formula's
        raise _calculated(kpi)
    day = date.fromisoformat(str(payload["day"]))
    zone = chat_zone(cmd, ctx)
    value = float(payload["value"])
    now = ctx.clock().astimezone(zone)
    not_ahead(day, now.date())  # the chat's timezone may have moved since it was parked
    return _record(
        cmd, ctx, kpi, _measurement(cmd, kpi, value, day, str(payload["note"]), now), zone
    )


def _fraction(
    cmd: Command,
    ctx: Context,
    kpi: Kpi,
    typed: tuple[float, str, bool],
    day: date,
    note: str,
    recent: Sequence[float],
) -> Reply | None:
    """The question for a share written as a fraction on a `%` KPI (`far_values`), compared
    with its recent values, target and baseline; None when it is what it says. `typed`: the
    value, as typed, and whether a `%` followed it apart (`fraction_typed`)."""
    value, raw, apart = typed
    reference, about = compared(kpi, recent)
    meant = fraction_typed(kpi.unit, value, raw, apart, reference)
    if meant is None:
        return None
    payload = {"kpi": kpi.key, "value": value, "day": day.isoformat(), "note": note}
    return ask_fraction(cmd, ctx, "kpi-set", payload, meant, reference, name=kpi.name, about=about)


def _one_kpi_a_set(ctx: Context, chat: str, words: Sequence[str]) -> None:
    """Refuse a second KPI's `key=value` after the value: `/kpi set cac=95 leads=300` saved
    cac alone, with "leads=300" as its note, and the team believed both were saved."""
    for word in words:
        key, eq, value = word.partition("=")
        if not (eq and key and value):
            continue
        try:
            other = ctx.store.kpis.get(chat, normalize_key(key))
        except UsageError:
            continue  # not a key: the note's own words
        if other is not None:
            raise UsageError(
                f"One KPI per /kpi set: send /kpi set {other.key} {value} for "
                f"{other.name} as a message of its own. Nothing was saved."
            )


def _addition(kpi: Kpi, value: float, latest: Sequence[Mapping[str, Any]]) -> UsageError:
    """`far_values.addition` of `/kpi set`: the latest value is added to for a KPI scored
    on its last value (a sum's values are each a day's count)."""
    base = float(latest[-1]["value"]) if kpi.agg == "last" and latest else None
    return addition(f"/kpi set {kpi.key}", value, kpi.unit, base)


def _calculated(kpi: Kpi) -> UsageError:
    """Why a value typed for a calculated KPI is not recorded."""
    return UsageError(
        f"{kpi.key} is calculated ({kpi.formula}); record its inputs instead, "
        f"or make it manual with /kpi edit {kpi.key} formula=none"
    )


def _record(
    cmd: Command,
    ctx: Context,
    kpi: Kpi,
    measurement: Measurement,
    zone: ZoneInfo,
    declined: Declined | None = None,
) -> Reply:
    """Save `measurement` (recorded at its `at`, in the chat's `zone`) and say what it changed;
    `declined`: what `_quick` read and decided before it gave up (not done again)."""
    value, day, now = measurement.value, measurement.day, measurement.at
    today = now.date()
    chat = cmd.chat.key
    replaced = ctx.store.kpis.record_doc(chat, measurement)  # its value is all we need
    recomputed = calculated.values_changed(ctx, chat, {kpi.key: [day]}, now)
    thresholds = ctx.store.scorecards.thresholds(chat) if declined is None else declined.thresholds
    alert_pipeline.on_values_recorded(
        ctx, chat, [kpi, *recomputed], tz=zone, thresholds=thresholds, declined=declined
    )
    # only the newest day is needed: the index's documents, not its models (a colour
    # change's set built both values' models for it)
    latest = ctx.store.kpis.latest_docs(chat, kpi.key)
    period_value, period_text = _period_total(ctx, chat, kpi, value, day)
    newest = date.fromisoformat(latest[-1]["day"]) if latest else day
    latest_note = "" if newest == day else " An older date: the latest value is unchanged."
    readers = calculated.readers(ctx, chat, kpi.key)
    derived = "".join("\n" + formula_note(ctx, chat, k, day) for k in readers)
    was = None if replaced is None else float(replaced["value"])
    state = _scored(kpi, day, newest, thresholds, period_value, period_text)
    said = _said(kpi, value, day, today, was, state)
    return Reply.of(f"{said}.{latest_note}{derived}", cmd.chat)  # addressed here


def _measurement(
    cmd: Command, kpi: Kpi, value: float, day: date, note: str, now: datetime
) -> Measurement:
    """The value as the command's author records it at `now`."""
    return Measurement.of(
        kpi=kpi.key, value=value, day=day, at=now, by=who(cmd), by_id=author_id(cmd), note=note
    )


def _said(
    kpi: Kpi,
    value: float,
    day: date,
    today: date,
    replaced: float | None,
    state: str,
) -> str:
    """`Saved <name> = <value>[ for <day>][ (replaced …)] (<state>)`: the reply of both
    paths (`_record`, `_quick`), said in one place (`state`: `_scored` or `colour_said`)."""
    shown = render.num(value, kpi.unit)
    before = "" if replaced is None else render.num(replaced, kpi.unit)
    # "replaced 5" for a 5 sent again read as if something had changed
    was = "" if not before else " (as before)" if before == shown else f" (replaced {before})"
    when = "" if day == today else f" for {day.isoformat()}"
    return f"Saved {kpi.name} = {shown}{when}{was} ({state})"


def _scored(
    kpi: Kpi,
    day: date,
    newest: date,
    thresholds: Thresholds,
    period_value: float,
    period_text: str,
) -> str:
    """`[<period>]🔴 red, progress 40 %` of a value scored on `day` (`test mode, not
    scored` in test mode); a sum judged on its share due so far says against what
    (`🟢 green against 20 due by 2026-11-02`), its progress the whole target's."""
    if kpi.test:
        return "test mode, not scored"
    status = kpi_status(judged_on(kpi, day, newest), period_value, thresholds)
    progressed = progress(kpi_on(kpi, day), period_value)
    return f"{period_text}{colour_said(status, progressed, due_so_far(kpi, day, newest))}"


def _quick(
    cmd: Command,
    ctx: Context,
    kpi: Kpi,
    value: float,
    day: date,
    note: str,
    now: datetime,
    latest: Sequence[Mapping[str, Any]],
    chat: str,
) -> Reply | Declined | None:
    """`_record` of the common `/kpi set` (`value` for `day` with `note`, typed at `now`
    in the chat's zone), on the stored documents: a live KPI scored on its last value
    (`agg=last`) that no formula reads, a value for its newest day or later (`latest`:
    the index's documents before it), no mute run out, and a reading that leaves its
    alert colour as it is (`alert_judge.quiet_share`). Then a set writes the value, the
    index and the alert state (where it found it: `AlertRepo.put_quiet`), and neither the
    reading's model nor the alert pipeline's is made. Nothing written for any other set
    (`_record` does it): None, or, when the colour moves or a reminder is due, what was
    read and decided (`Declined`), for `_record`. `test_quick_set` holds both paths to
    the same stored tables and replies."""
    by, by_id = who(cmd), author_id(cmd)
    if not Measurement.exact(kpi.key, value, day, now, by, by_id, note):
        return None  # pydantic makes this reading (`_measurement`)
    if kpi.test or kpi.agg != "last" or (latest and latest[-1]["day"] > day.isoformat()):
        return None
    if calculated.readers(ctx, chat, kpi.key):
        return None
    alerts = ctx.store.alerts
    settings = alerts.settings(chat)
    at = ctx.clock()  # the alert step's now, read as `on_values_recorded` reads it
    if settings.mutes and any(m.until <= at for m in settings.mutes):
        return None  # the alert step ends them first, and catches up
    found = alerts.spot(chat, kpi.key)
    if found is None or found.test:
        return None  # never evaluated, or computed in test mode
    thresholds = ctx.store.scorecards.thresholds(chat)
    scored = kpi_on(kpi, day)
    judged = quiet_share(found.state, scored, value, settings, thresholds, at)
    if judged is None:
        return Declined(at, settings, thresholds, kpi.key, found.state)
    share, status = judged
    reading = value_doc(kpi.key, value, day, now, by, by_id, note)
    state = took_reading(found.state, value, by, reading["at"], share)
    old = ctx.store.kpis.record_value(chat, reading)
    # `values_changed` of a KPI no formula reads: the key results it drives follow it
    calculated.sync_key_results(ctx, chat, [kpi])
    alerts.put_quiet(chat, kpi.key, found, state)
    was = None if old is None else float(old["value"])
    coloured = colour_said(status, progress(scored, value))
    said = _said(kpi, value, day, now.date(), was, coloured)
    return Reply.of(f"{said}.", cmd.chat)


def _period_total(ctx: Context, chat: str, kpi: Kpi, value: float, day: date) -> tuple[float, str]:
    """What a new value makes of its period (`agg=sum`: the month's total), and how to say it,
    its period's first value too (its colour is the period's, not the value's); a `last` KPI
    is scored on the value itself."""
    if kpi.agg == "last":
        return value, ""
    period = kpi_period(kpi.every, day)
    values = ctx.store.kpis.between(chat, kpi.key, period.start, period.end)
    total = combine(kpi.agg, [m.value for m in values])
    if total is None:
        return value, ""
    label = render.period_aggregate(kpi.agg, period)
    return total, f"{label}: {render.num(total, kpi.unit)}, "


def formula_note(ctx: Context, chat: str, kpi: Kpi, day: date | None = None) -> str:
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
