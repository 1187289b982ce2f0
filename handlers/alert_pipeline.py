"""Threshold alerts: evaluated the moment a value is recorded, turned into chat messages.

For a recorded value, inside the command's atomic step and without awaiting:

1. the KPI's latest reading gets its colour and performance (scoring.status/kpi);
2. `scoring.alert_rules.evaluate` steps the persisted AlertState; the new state is stored
   and every transition is written to the alert log (test-mode and muted ones too);
3. unsuppressed transitions join the chat's Batcher (scoring.alerts_batch);
4. whatever is ready now goes into the outbox as one message per alert channel, and
   anything still waiting (group window, quiet hours) asks for a wake-up at its time.

The outbox write is part of the same atomic step, so the message is durable with the
value; delivery starts after the router's commit. Scheduled work (reminders, flushes)
reuses `queue` and `flush_due`.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from handlers import render
from handlers.alert_messages import channels, hold_text, render_batch
from handlers.alert_rebuild import REBUILD_READINGS, rebuild_state
from handlers.calculated import current_measurement
from handlers.common import zone_of
from handlers.contract import ChartRequest, Context
from scoring.alert_rules import (
    AlertState,
    Mute,
    Transition,
    active_mute,
    evaluate,
    hold,
    range_of,
    transition_kind,
    values_gone,
)
from scoring.alerts_batch import Batch, Batcher
from scoring.kpi import performance
from scoring.models import Kpi, Measurement, Status, Thresholds
from scoring.status import would_be_status
from scoring.targets import kpi_on
from storage.alert_state import AlertSettings

if TYPE_CHECKING:
    pass

__all__ = [
    "current_reading",
    "end_expired_mutes",
    "evaluate_kpi",
    "flush_due",
    "on_kpi_changed",
    "on_kpi_deleted",
    "on_mutes_ended",
    "on_values_gone",
    "on_values_recorded",
    "queue",
    "step",
]

Release = Literal["due", "groups", "all"]

MAX_CHARTS = 6  # a grouped alert's small multiples: the first six KPIs


def on_values_recorded(ctx: Context, chat: str, kpis: Sequence[Kpi]) -> None:
    """The entry point for recorded values: evaluate the chat's `kpis` (one `/kpi set`, an
    import, a mute's end) and flush once, so their alerts group together.

    Runs inside the mutating command's atomic step, so it must not await: state and
    outbox entries are written synchronously and become durable with the command. Each
    KPI's *current* reading is evaluated: a back-dated value that leaves it as it was is
    a reading already counted, so it changes nothing and says nothing.
    """
    now = ctx.clock()
    settings = end_expired_mutes(ctx, chat, now)
    tz = zone_of(ctx, chat)
    thresholds = ctx.store.scorecards.thresholds(chat)
    transitions: list[Transition] = []
    for kpi in kpis:
        transitions.extend(evaluate_kpi(ctx, chat, kpi, settings, tz, thresholds, now))
    queue(ctx, chat, transitions, settings=settings, now=now)


def on_kpi_changed(ctx: Context, chat: str, kpi: Kpi) -> None:
    """A KPI definition changed (target, thresholds, test mode, removal): re-evaluate it.

    A removed KPI keeps its state (what people last heard) without a message, so a
    restore picks up from there; otherwise the latest reading is evaluated again under
    the new definition (it is never counted twice).
    """
    if kpi.removed_at is not None:
        return
    on_values_recorded(ctx, chat, [kpi])


def end_expired_mutes(
    ctx: Context, chat: str, now: datetime, settings: AlertSettings | None = None
) -> AlertSettings:
    """Drop mutes that ran out and catch up on what they hid; returns the settings now.

    Runs before anything else evaluates or sends the chat's alerts (a command, the flush
    timer, the sweep), so no message goes out while an unmuted KPI's news still waits.
    """
    settings = settings or ctx.store.alerts.settings(chat)
    if all(m.until > now for m in settings.mutes):
        return settings
    live = tuple(m for m in settings.mutes if m.until > now)
    settings = settings.model_copy(update={"mutes": live})
    ctx.store.alerts.save_settings(chat, settings)
    on_mutes_ended(ctx, chat)
    return settings


def on_mutes_ended(ctx: Context, chat: str) -> None:
    """A mute ended (unmute, or it expired): tell what changed while it lasted, once.

    Each KPI whose last change was muted and whose colour is not what people last heard
    is evaluated again; `scoring.alert_rules` turns that into one catch-up message (or, for
    red, the reminder).
    """
    kpis = {k.key: k for k in ctx.store.kpis.all(chat)}
    due = [
        kpis[s.state.kpi]
        for s in ctx.store.alerts.states(chat)
        if s.state.kpi in kpis
        and not s.test
        and s.state.last_notified is None
        and s.state.status != s.state.heard
    ]
    if due:
        on_values_recorded(ctx, chat, due)


def on_values_gone(ctx: Context, chat: str, kpi: Kpi, by: str) -> None:
    """Every value of a KPI was removed (`/kpi unset`, an undo): its state goes, and a
    yellow or red alert people heard of is closed with a message, queued as usual."""
    stored = ctx.store.alerts.state(chat, kpi.key)
    ctx.store.alerts.drop_state(chat, kpi.key)
    if stored is None or stored.test != kpi.test or kpi.removed_at is not None:
        return
    now = ctx.clock()
    settings = end_expired_mutes(ctx, chat, now)
    closed = values_gone(
        stored.state,
        kpi=kpi,
        by=by,
        now=now,
        policy=settings.policy,
        mutes=settings.mutes,
        tz=zone_of(ctx, chat),
    )
    if closed is not None:
        queue(ctx, chat, [closed], settings=settings, now=now)


def on_kpi_deleted(ctx: Context, chat: str, key: str) -> None:
    """A KPI was deleted for good: forget its alert state (a new KPI may take the key)."""
    ctx.store.alerts.drop_state(chat, key)


def current_reading(ctx: Context, chat: str, kpi: Kpi) -> tuple[Kpi, Measurement] | None:
    """The reading alerts judge a KPI by (its period's aggregate with agg=), and the KPI
    with the staged target in force that day; None without data."""
    reading = current_measurement(ctx, chat, kpi)
    if reading is None:
        return None
    return kpi_on(kpi, reading.day), reading


def evaluate_kpi(
    ctx: Context,
    chat: str,
    kpi: Kpi,
    settings: AlertSettings,
    tz: ZoneInfo,
    thresholds: Thresholds,
    now: datetime,
) -> list[Transition]:
    """Step one KPI's alert state with its current reading; persist it; return transitions.

    A reading already counted (a back-dated value left it as it was) changes nothing.
    Without a stored state, a KPI with history gets its state rebuilt from that history
    silently (demo, import, restore, older stores): 90 days of data are not a "first
    reading". A KPI's very first value, or its first out of test mode, is announced.
    """
    current = current_reading(ctx, chat, kpi)
    if current is None:
        return []
    kpi, reading = current
    stored = ctx.store.alerts.state(chat, kpi.key)
    # Test mode switched on or off since the state was written: start afresh, so the
    # first live reading announces its colour and test readings never reach people.
    state = stored.state if stored is not None and stored.test == kpi.test else None
    if stored is not None and state is None:  # afresh, from what people last heard
        state = AlertState(
            kpi=kpi.key,
            told=stored.state.heard,
            value=reading.value,
            performance=performance(kpi, reading.value),
            reading_at=reading.at,
        )
    silent = False
    if stored is None:  # never evaluated (a KPI leaving test mode announces its colour)
        history = ctx.store.kpis.history(chat, kpi.key, limit=REBUILD_READINGS)
        if len(history) > 1:
            state, silent = rebuild_state(kpi, history, settings, thresholds, now), True
    state, transitions = step(state, kpi, reading, settings, tz, thresholds, now)
    if silent:  # the current reading completes the history: still nothing to announce
        state = state.model_copy(update={"told": state.status, "last_notified": now})
        transitions = []
    ctx.store.alerts.put_state(chat, state, test=kpi.test)
    return transitions


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


def queue(
    ctx: Context,
    chat: str,
    transitions: Sequence[Transition],
    *,
    settings: AlertSettings | None = None,
    now: datetime,
) -> bool:
    """Log transitions, batch the sendable ones and flush whatever is ready now.

    Returns whether it flushed (so a caller about to flush at the same `now` need not).
    """
    if not transitions:
        return False
    settings = settings or ctx.store.alerts.settings(chat)
    ctx.store.alerts.log(chat, list(transitions))
    if not channels(settings, chat):
        return False  # `/alerts off`: the log still shows what would have been sent
    batcher = ctx.store.alerts.batcher(chat)
    for transition in transitions:
        batcher = batcher.add(transition, now=now, window=settings.policy.group_window)
    ctx.store.alerts.save_batcher(chat, batcher)
    flush_due(ctx, chat, now, batcher=batcher, settings=settings)
    return True


def flush_due(
    ctx: Context,
    chat: str,
    now: datetime,
    *,
    release: Release = "due",
    batcher: Batcher | None = None,
    settings: AlertSettings | None = None,
) -> int:
    """Send the chat's alerts that are ready at `now` as one message; returns items sent.

    `release="groups"` also sends alerts still collecting company in a group window (at
    shutdown no more company will come; quiet-hours holds keep waiting); `"all"` sends
    held ones too (quiet hours were just switched off). `batcher` and `settings`, when
    given, are what the caller just read or saved (spares reading them again).
    """
    if batcher is None:
        batcher = ctx.store.alerts.batcher(chat)
    if not batcher.queued:
        return 0
    if release == "due" and all(q.ready_at > now for q in batcher.queued):
        ctx.outbox.wake_at(chat, min(q.ready_at for q in batcher.queued))  # nothing ready
        return 0
    keep = Batcher(
        queued=tuple(
            q
            for q in batcher.queued
            if q.ready_at > now
            and (release == "due" or (release == "groups" and q.transition.held_until))
        )
    )
    ready = Batcher(queued=tuple(q for q in batcher.queued if q not in keep.queued))
    _, batch = ready.due(max((q.ready_at for q in ready.queued), default=now))
    if batch is not None:
        settings = settings or ctx.store.alerts.settings(chat)
        batch = as_of_now(ctx, chat, batch, settings, now)
    rest = keep
    if len(rest.queued) != len(batcher.queued):  # nothing taken: the stored one is right
        ctx.store.alerts.save_batcher(chat, rest)
    sent = 0
    if batch is not None:
        assert settings is not None
        tz = zone_of(ctx, chat)
        notes = {t.kpi: _now_note(ctx, chat, t, tz) for t in batch.items}
        reply = render_batch(ctx, chat, batch, notes)
        if settings.charts:
            drawn = (t.kpi for t in batch.items if t.new is not Status.NODATA)
            kpis = tuple(dict.fromkeys(drawn))[:MAX_CHARTS]
            if kpis:
                reply = reply.model_copy(update={"chart": ChartRequest(chat=chat, kpis=kpis)})
        # A batch leaves the batcher in the same atomic step that queues it, so it is
        # queued once; its key is unique even when the same change happens twice in one
        # instant (red → yellow → red → yellow must end with "yellow" said).
        sent_id = secrets.token_hex(6)
        for channel in channels(settings, chat):
            key = f"alert:{channel.thread_id or ''}:{batch.at.isoformat()}:{sent_id}"
            ctx.outbox.put(reply.model_copy(update={"to": channel}), key=key)
        sent = len(batch.items)
    next_due = rest.next_due()
    if next_due is not None:
        ctx.outbox.wake_at(chat, next_due)
    return sent


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


def _now_note(ctx: Context, chat: str, t: Transition, tz: ZoneInfo) -> str | None:
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
