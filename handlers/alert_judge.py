"""How alerts judge a KPI: its current reading, one step of the rules, and whether an alert
waiting to go out is still true.

`handlers.alert_pipeline` evaluates and sends; this module holds what it (and `/alerts`)
asks about a KPI at a given instant, so the rules are applied the same way when a value
is recorded, when the sweep reminds and when a waiting batch finally goes out.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from handlers import render
from handlers.alert_messages import hold_text
from handlers.calculated import current_measurement
from handlers.common import zone_of
from handlers.contract import Context
from scoring.alert_rules import (
    COLOURS,
    AlertState,
    Mute,
    Transition,
    active_mute,
    evaluate,
    hold,
    quiet_release_time,
    range_of,
    settle,
    transition_kind,
)
from scoring.alerts_batch import Batch
from scoring.kpi import performance
from scoring.models import Kpi, Measurement, Status, Thresholds
from scoring.status import colour, would_be_status
from scoring.targets import judged_on
from storage.alert_state import AlertSettings
from storage.base import instant_text

__all__ = [
    "as_of_now",
    "change_step",
    "current_reading",
    "now_note",
    "quiet_share",
    "quiet_step",
    "reminder_step",
    "step",
    "took_reading",
]

_COLOURS = {status.value: status for status in COLOURS}
#: A stored state's keys, in the order `to_doc` writes them (a document with any other
#: keys, or in another order, is left to `step`: only then is the answer byte-identical).
_STATE_KEYS = tuple(AlertState.model_fields)


def current_reading(ctx: Context, chat: str, kpi: Kpi) -> tuple[Kpi, Measurement] | None:
    """The reading alerts judge a KPI by (its period's aggregate with agg=), and the KPI
    with the staged target in force that day (a sum's share of it due by then,
    `judged_on`); None without data."""
    reading = current_measurement(ctx, chat, kpi)
    if reading is None:
        return None
    return judged_on(kpi, reading.day), reading


def step(
    state: AlertState | None,
    kpi: Kpi,
    reading: Measurement,
    settings: AlertSettings,
    tz: ZoneInfo,
    thresholds: Thresholds,
    now: datetime,
) -> tuple[AlertState, list[Transition]]:
    """`scoring.alert_rules.evaluate` with the reading's colour and performance filled in."""
    return evaluate(
        state,
        kpi=kpi,
        measurement=reading,
        status=would_be_status(kpi, reading.value, thresholds),
        performance=performance(kpi, reading.value),
        now=now,
        policy=settings.policy,
        mutes=settings.mutes,
        tz=tz,
        thresholds=thresholds,
    )


def quiet_step(
    state: Mapping[str, Any],
    kpi: Kpi,
    reading: Measurement,
    settings: AlertSettings,
    thresholds: Thresholds,
    now: datetime,
) -> dict[str, Any] | None:
    """`step` on the stored state (`to_doc` of an AlertState) when the reading changes
    nothing but itself: the colour settles where it is (a count towards another one ends),
    people were told of it and no reminder is due. Then the new state's document is the
    old one with the reading in it and no count, exactly `to_doc` of `step`'s state, and
    there is no transition; None otherwise (`step` decides). Most `/kpi set`s are this,
    and the model round trip (parse, copy, serialise) was most of their alert step."""
    judged = quiet_share(state, kpi, reading.value, settings, thresholds, now)
    return None if judged is None else _with_reading(state, reading, judged[0])


def quiet_share(
    state: Mapping[str, Any],
    kpi: Kpi,
    value: float,
    settings: AlertSettings,
    thresholds: Thresholds,
    now: datetime,
) -> tuple[float, Status] | None:
    """`quiet_step`'s decision, on the reading's value alone: its performance share and
    the colour it earns before hysteresis (`scoring.status.colour`, what `kpi_status`
    shows of a live KPI) when the state takes it quietly (then the new state is
    `took_reading`'s), else None. The quick `/kpi set` asks this before it makes any model
    of the reading, and its reply says that colour without scoring the value again."""
    status = _COLOURS.get(state["status"])
    last = state.get("last_notified")
    if status is None or last is None or state["kpi"] != kpi.key:
        return None  # no colour yet, or a muted change to catch up on
    policy = settings.policy
    share, raw, kept = _scored(status, kpi, value, policy.hysteresis, thresholds)
    if kept is not status:
        return None
    if status is Status.RED and now - datetime.fromisoformat(last) >= policy.repeat:
        return None  # a reminder is due
    return share, raw


def took_reading(
    state: Mapping[str, Any], value: float, by: str, at: str, share: float
) -> dict[str, Any]:
    """`state` having taken a reading of `value` by `by` at instant `at` (`instant_text`;
    its performance `share`) with its colour kept: the reading noted, no change pending.
    Keys keep `state`'s order (`to_doc`'s)."""
    return {
        **state,
        "value": value,
        "performance": share,
        "by": by,
        "reading_at": at,
        "pending": None,
        "pending_count": 0,
        "pending_since": None,
    }


def _with_reading(state: Mapping[str, Any], reading: Measurement, share: float) -> dict[str, Any]:
    """`took_reading` of a reading's model."""
    return took_reading(state, reading.value, reading.by, instant_text(reading.at), share)


def _settled(
    status: Status, kpi: Kpi, value: float, hysteresis: float, thresholds: Thresholds
) -> tuple[float, Status]:
    """A reading's performance share, and the colour a state at `status` settles at with
    it (`would_be_status` then `settle`, the share computed once)."""
    share, _, kept = _scored(status, kpi, value, hysteresis, thresholds)
    return share, kept


def _scored(
    status: Status, kpi: Kpi, value: float, hysteresis: float, thresholds: Thresholds
) -> tuple[float, Status, Status]:
    """`_settled`, with the colour the reading earns before hysteresis between them."""
    share = performance(kpi, value)
    raw = colour(kpi, value, share, thresholds)
    if raw is status:  # what `settle` answers at once: a colour kept (most readings)
        return share, raw, raw
    kept = settle(
        status,
        raw,
        kpi=kpi,
        value=value,
        performance=share,
        thresholds=thresholds,
        hysteresis=hysteresis,
    )
    return share, raw, kept


def reminder_step(
    state: Mapping[str, Any],
    kpi: Kpi,
    reading: Measurement,
    settings: AlertSettings,
    thresholds: Thresholds,
    tz: ZoneInfo,
    now: datetime,
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """`step` on the stored state of a red KPI the sweep reminds, when the reading keeps
    it red, it is live (not in test mode, not muted) and `repeat` has passed since people
    were told: the new state's document and the reminder's (exactly `to_doc` of `step`'s
    state and of its one transition); None otherwise (`step` decides). A busy sweep is
    one of these per chat, and the model round trip (parse, copies, a Transition built,
    both serialised) was most of its work."""
    if tuple(state) != _STATE_KEYS or state["status"] != "red" or state["kpi"] != kpi.key:
        return None
    last = state["last_notified"]
    policy = settings.policy
    if kpi.test or (last is not None and now - datetime.fromisoformat(last) < policy.repeat):
        return None  # would-be reminders, or none due: `step` decides
    if settings.mutes and active_mute(kpi.key, settings.mutes, now) is not None:
        return None  # a muted KPI is reminded after its mute
    value = reading.value
    share, kept = _settled(Status.RED, kpi, value, policy.hysteresis, thresholds)
    if kept is not Status.RED:
        return None  # the colour moves on: a change, not a reminder
    at = instant_text(now)
    held = quiet_release_time(now, policy.quiet, tz)
    held_until = None if held is None else instant_text(held)
    after = {
        **_with_reading(state, reading, share),
        "last_notified": held_until or at,
        "last_reminder": at,
    }
    reminder = _said(kpi, "reminder", Status.RED, Status.RED, at, state["since"], reading, share)
    reminder["held_until"] = held_until
    return after, reminder


def change_step(
    state: Mapping[str, Any],
    kpi: Kpi,
    reading: Measurement,
    settings: AlertSettings,
    thresholds: Thresholds,
    tz: ZoneInfo,
    now: datetime,
) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """`step` on the stored state when the reading moves a live, unmuted KPI off a colour
    people were told of: the new state's document and the change's (exactly `to_doc` of
    `step`'s state and transition), or only the state while the change waits for its
    `confirm` count; None otherwise (`step` decides: `quiet_step` when the colour stays,
    the first colour, test mode, mutes and catch-ups). A colour-changing `/kpi set` is
    this, and the model round trip (parse, four copies, a Transition built, both
    serialised) was most of its alert step."""
    if tuple(state) != _STATE_KEYS or state["kpi"] != kpi.key or kpi.test:
        return None
    current = _COLOURS.get(state["status"])
    if current is None or state["last_notified"] is None:
        return None  # no colour yet, or a muted change to catch up on
    if settings.mutes and active_mute(kpi.key, settings.mutes, now) is not None:
        return None
    policy = settings.policy
    value = reading.value
    share, goal = _settled(current, kpi, value, policy.hysteresis, thresholds)
    if goal is current:
        return None  # `quiet_step`, or a reminder
    at = instant_text(now)
    after = {**state, "value": value, "performance": share, "by": reading.by}
    after["reading_at"] = instant_text(reading.at)
    if state["pending"] == goal.value:
        counted = (datetime.fromisoformat(state["reading_at"]), state["value"]) == (
            reading.at,
            value,
        )
        after["pending_count"] = state["pending_count"] + (0 if counted else 1)
    else:
        after.update(pending=goal.value, pending_count=1, pending_since=at)
    if after["pending_count"] < policy.confirm:
        if (
            current is Status.RED
            and now - datetime.fromisoformat(state["last_notified"]) >= policy.repeat
        ):
            return None  # a reminder is due meanwhile
        return after, []
    kind = transition_kind(current, goal)
    assert kind is not None  # one colour to another
    held = None if goal is Status.RED else quiet_release_time(now, policy.quiet, tz)
    held_until = None if held is None else instant_text(held)
    after.update(
        status=goal.value,
        since=at,
        pending=None,
        pending_count=0,
        pending_since=None,
        last_notified=held_until or at,
        last_reminder=None,
    )
    change = _said(kpi, kind, current, goal, at, at, reading, share)
    change["held_until"] = held_until
    return after, [change]


def _said(
    kpi: Kpi,
    kind: str,
    old: Status,
    new: Status,
    at: str,
    since: str | None,
    reading: Measurement,
    share: float,
) -> dict[str, Any]:
    """`to_doc` of the live, unmuted Transition a step on documents gives (the caller sets
    `held_until`): its keys in field order, as `scoring.alert_rules._transition` fills them.
    The colours' texts are read as `_value_`, what `.value` answers: that is an enum property
    run in Python, 1.8 k instructions each (a busy sweep's reminder reads two per chat)."""
    return {
        "kpi": kpi.key,
        "name": kpi.name,
        "objective": kpi.objective,
        "unit": kpi.unit,
        "target": kpi.target,
        **range_of(kpi),
        "kind": kind,
        "old": old._value_,
        "new": new._value_,
        "at": at,
        "since": since,
        "value": reading.value,
        "performance": share,
        "by": reading.by,
        "suppressed": None,
        "mute": None,
        "held_until": None,
    }


def as_of_now(
    ctx: Context, chat: str, batch: Batch, settings: AlertSettings, now: datetime
) -> Batch | None:
    """The batch re-evaluated against each KPI's latest value at `now`: true, or dropped.

    A waiting alert may be stale by the time it goes out (a newer value, an edit, a
    mute, a removal). Each KPI's latest reading is evaluated again (never counted
    twice) and the message becomes "what people last heard → the colour now", keeping
    a red reminder a reminder (its "red since" is the news); a KPI that is removed, in
    test mode or muted now, or whose colour is what people last heard, is dropped. Sent
    KPIs are marked told.
    """
    thresholds = ctx.store.scorecards.thresholds(chat)
    tz = zone_of(ctx, chat)
    items = []
    for item in batch.items:
        known = ctx.store.kpis.get(chat, item.kpi)
        current = None if known is None else current_reading(ctx, chat, known)
        stored = ctx.store.alerts.state(chat, item.kpi)
        if item.new is Status.NODATA:  # values removed: still true while none came back
            live = known is not None and not known.test and known.removed_at is None
            if live and current is None and not active_mute(item.kpi, settings.mutes, now):
                items.append(item)
            continue
        if current is None or stored is None or stored.test != current[0].test:
            continue
        kpi, reading = current
        state, found = step(stored.state, kpi, reading, settings, tz, thresholds, now)
        ctx.store.alerts.log(chat, [t for t in found if t.kind != "reminder"])
        true = _true_message(item, state, kpi, active_mute(kpi.key, settings.mutes, now))
        if true is None:
            if kpi.removed_at is not None or active_mute(kpi.key, settings.mutes, now):
                state = state.model_copy(update={"last_notified": None})  # nobody was told
            ctx.store.alerts.put_state(chat, state, test=kpi.test)
            continue
        ctx.store.alerts.put_state(
            chat, state.model_copy(update={"told": true.new}), test=kpi.test
        )
        items.append(true)
    if not items:
        return None
    return batch.model_copy(update={"at": now, "items": tuple(items)})


def _true_message(
    item: Transition, state: AlertState, kpi: Kpi, mute: Mute | None
) -> Transition | None:
    """What `item` should say given the KPI's state now (None: nothing true to say)."""
    if kpi.removed_at is not None or kpi.test or mute is not None:
        return None
    current = {
        "new": state.status,
        "value": state.value,
        "performance": state.performance,
        "by": state.by,
        "since": state.since,
        "name": kpi.name,
        "unit": kpi.unit,
        "target": kpi.target,
        **range_of(kpi),
        "objective": kpi.objective,
    }
    if item.kind == "reminder" and state.status is Status.RED and state.heard is Status.RED:
        # a reminder only for a red people heard of (else: the change, e.g. after a mute)
        return item.model_copy(update={**current, "old": Status.RED})
    kind = transition_kind(state.heard, state.status)
    if kind is None:
        return None
    return item.model_copy(update={**current, "old": state.heard, "kind": kind})


def now_note(ctx: Context, chat: str, t: Transition, tz: ZoneInfo) -> str | None:
    """ "yellow now; the red alert … clears at 55%" when the alert's colour is held."""
    kpi = ctx.store.kpis.get(chat, t.kpi)
    current = None if kpi is None else current_reading(ctx, chat, kpi)
    stored = ctx.store.alerts.state(chat, t.kpi)
    if current is None or stored is None or stored.state.status is not t.new:
        return None
    kpi, reading = current
    thresholds = ctx.store.scorecards.thresholds(chat)
    now_status = would_be_status(kpi, reading.value, thresholds)
    waiting = hold(
        stored.state,
        now_status,
        kpi=kpi,
        value=reading.value,
        performance=performance(kpi, reading.value),
        policy=ctx.store.alerts.settings(chat).policy,
        thresholds=thresholds,
    )
    if waiting is None:
        return None
    why = hold_text(waiting, stored.state, tz, t.unit, since=False)
    return f"{render.STATUS_WORD[now_status]} now; {why}"
