"""Threshold alerts: evaluated the moment a value is recorded, turned into chat messages.

`evaluate_chat` is the one entry point that evaluates a chat's KPIs: commands reach it
through `on_values_recorded` (and the other `on_*` events), the sweep through
`remind_red`. Inside the caller's atomic step and without awaiting:

1. the KPI's latest reading gets its colour and performance (`handlers.alert_judge`);
2. `scoring.alert_rules.evaluate` steps the persisted AlertState; the new state is stored
   and every transition is written to the alert log (test-mode and muted ones too);
3. unsuppressed transitions join the chat's Batcher (scoring.alerts_batch);
4. whatever is ready now goes into the outbox as one message per alert channel, and
   anything still waiting (group window, quiet hours) asks for a wake-up at its time;
   a waiting alert is checked against the KPI's state when it goes out (`as_of_now`).

The outbox write is part of the same atomic step, so the message is durable with the
value; delivery starts after the router's commit. The flush timer reuses `flush_due`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from handlers.alert_judge import (
    as_of_now,
    change_step,
    current_reading,
    now_note,
    quiet_step,
    reminder_step,
    step,
)
from handlers.alert_messages import channels, has_channels, render_batch
from handlers.alert_rebuild import REBUILD_READINGS, rebuild_state
from handlers.calculated import missing_inputs, missing_text, wait_for_inputs
from handlers.common import zone_of
from handlers.contract import ChartRequest, Context
from scoring.alert_rules import AlertState, Transition, values_gone
from scoring.alerts_batch import Batcher, add_doc
from scoring.kpi import performance
from scoring.models import Kpi, Measurement, Status, Thresholds
from storage.alert_state import AlertSettings, StoredState, reminder_due, stored_state
from storage.base import instant_text, to_doc

__all__ = [
    "Declined",
    "end_expired_mutes",
    "evaluate_chat",
    "evaluate_kpi",
    "flush_due",
    "on_kpi_changed",
    "on_kpi_deleted",
    "on_mutes_ended",
    "on_values_gone",
    "on_values_recorded",
    "queue",
    "remind_red",
    "reminder_step",
]

Release = Literal["due", "groups", "all"]
#: A transition as the step that found it gave it: a model (`step`), or already its document
#: (`change_step`, exactly `to_doc` of the model `step` would have given).
Said = Transition | dict[str, Any]

MAX_CHARTS = 6  # a grouped alert's small multiples: the first six KPIs


@dataclass(frozen=True)
class Declined:
    """What `/kpi set`'s quick path read at `now` before it gave up (`kpi_set._quick`): the
    chat's alert settings (no mute ran out) and thresholds, and the live KPI `kpi`'s stored
    alert state document, which `quiet_step` declined at `now` for the value now recorded.
    Handed on so the alert step neither reads them again nor asks `quiet_step` twice."""

    now: datetime
    settings: AlertSettings
    thresholds: Thresholds
    kpi: str
    state: Mapping[str, Any]


def on_values_recorded(
    ctx: Context,
    chat: str,
    kpis: Sequence[Kpi],
    *,
    tz: ZoneInfo | None = None,
    thresholds: Thresholds | None = None,
    declined: Declined | None = None,
) -> None:
    """The entry point for recorded values: evaluate the chat's `kpis` (one `/kpi set`, an
    import, a mute's end) and flush once, so their alerts group together. `tz` and
    `thresholds`, when given, are the chat's as the caller just read them; `declined`,
    what the quick `/kpi set` read and decided in this atomic step (its `now` is this one).

    Runs inside the mutating command's atomic step, so it must not await: state and
    outbox entries are written synchronously and become durable with the command. Each
    KPI's *current* reading is evaluated: a back-dated value that leaves it as it was is
    a reading already counted, so it changes nothing and says nothing.
    """
    now = ctx.clock() if declined is None else declined.now
    # the chat's alert book is written once: what changed, as a row over it, when small
    with ctx.store.alerts.batch(rows=True):
        settings = end_expired_mutes(ctx, chat, now, declined.settings if declined else None)
        evaluate_chat(
            ctx,
            chat,
            kpis,
            settings=settings,
            tz=zone_of(ctx, chat) if tz is None else tz,
            now=now,
            thresholds=thresholds,
            declined=None if declined is None else {declined.kpi: declined.state},
        )


def evaluate_chat(
    ctx: Context,
    chat: str,
    kpis: Sequence[Kpi],
    *,
    settings: AlertSettings,
    tz: ZoneInfo,
    now: datetime,
    thresholds: Thresholds | None = None,
    stored: Mapping[str, StoredState] | None = None,
    readings: Mapping[str, tuple[Kpi, Measurement]] | None = None,
    declined: Mapping[str, Mapping[str, Any]] | None = None,
) -> tuple[list[Said], bool]:
    """Evaluate `kpis` of the chat (`evaluate_kpi`) and queue what they say, together.

    The one place a chat's KPIs are evaluated, for commands and for the sweep alike.
    Returns the transitions and whether the queue flushed the chat's alerts at `now`.
    `stored` and `readings`: KPIs' alert states and current readings as the caller read
    them in this atomic step (not read again); `declined`: live KPIs' state documents
    that `quiet_step` already declined at `now` with their current reading (`Declined`).
    """
    if thresholds is None:
        thresholds = ctx.store.scorecards.thresholds(chat)
    transitions: list[Said] = []
    for kpi in kpis:
        known = stored.get(kpi.key) if stored is not None else None
        current = readings.get(kpi.key) if readings is not None else None
        doc = declined.get(kpi.key) if declined is not None else None
        transitions.extend(
            evaluate_kpi(ctx, chat, kpi, settings, tz, thresholds, now, known, current, doc)
        )
    settle_whole_days(ctx, chat, kpis, settings, now)
    return transitions, queue(ctx, chat, transitions, settings=settings, now=now)


def settle_whole_days(
    ctx: Context, chat: str, kpis: Sequence[Kpi], settings: AlertSettings, now: datetime
) -> None:
    """A calculated KPI's alert that waits for an input missing on its day goes out on the
    usual group time once the input comes, also when the whole day keeps the colour the
    half day had (then there is no new change to queue, and it would wait its 15 minutes)."""
    calculated = [k for k in kpis if k.formula]
    if not calculated or ctx.store.alerts.next_flush(chat) is None:
        return
    batcher = ctx.store.alerts.batcher(chat)
    waiting = {q.transition.kpi for q in batcher.queued if q.waits}
    whole = [k.key for k in calculated if k.key in waiting and not missing_inputs(ctx, chat, k)[0]]
    if whole:
        window = settings.policy.group_window
        settled = batcher.settle(whole, now=now, window=window)
        flush_due(ctx, chat, now, batcher=settled, settings=settings, saved=False)


def remind_red(
    ctx: Context,
    chat: str,
    settings: AlertSettings,
    now: datetime,
    red: Sequence[tuple[str, Mapping[str, Any]]],
    tz: ZoneInfo,
    definitions: Callable[[str], Kpi | None] | None = None,
) -> tuple[int, bool]:
    """The sweep's entry point: red KPIs (`red`, their stored states as `red_docs` reads
    them) not told within `repeat`, or muted since, are evaluated again like a recorded
    value (so a KPI whose target was edited into green resolves instead of being
    reminded). Returns how many reminders were queued and whether the queue flushed the
    chat's alerts. `definitions`: where the KPIs are read (the chat's sweep summary's,
    `SweepSummary.kpi`), instead of `KpiRepo.get`.

    A removed KPI's state waits for a restore; a deleted KPI's, or one whose test mode or
    values went, is dropped without a message. The usual case (each one still red, live,
    nothing waiting to go out) is decided on the stored documents (`_remind_on_docs`).
    """
    repeat = settings.policy.repeat
    due = [(kpi, doc) for kpi, doc in red if reminder_due(doc, now, repeat)]
    if not due:
        return 0, False
    kpis: list[Kpi] = []
    readings: dict[str, tuple[Kpi, Measurement]] = {}
    gone: list[str] = []
    for key, _ in due:
        kpi = ctx.store.kpis.get(chat, key) if definitions is None else definitions(key)
        if kpi is not None and kpi.removed_at is not None:
            continue
        current = None
        if kpi is not None and not kpi.test:
            current = current_reading(ctx, chat, kpi)
        if kpi is None or current is None:
            gone.append(key)
            continue
        kpis.append(kpi)
        readings[kpi.key] = current
    if not gone:
        taken = _remind_on_docs(ctx, chat, settings, now, tz, dict(due), readings)
        if taken is not None:
            return taken
    for key in gone:
        ctx.store.alerts.drop_state(chat, key)
    if not kpis:
        return 0, False
    states = {key: stored_state(doc) for key, doc in due}  # parsed once, not read again
    found, flushed = evaluate_chat(
        ctx, chat, kpis, settings=settings, tz=tz, now=now, stored=states, readings=readings
    )
    sent = (_field(t, "kind") == "reminder" and _field(t, "suppressed") is None for t in found)
    return sum(sent), flushed


def _remind_on_docs(
    ctx: Context,
    chat: str,
    settings: AlertSettings,
    now: datetime,
    tz: ZoneInfo,
    due: Mapping[str, Mapping[str, Any]],
    readings: Mapping[str, tuple[Kpi, Measurement]],
) -> tuple[int, bool] | None:
    """`remind_red`'s evaluation and queueing written as documents, when every due KPI
    takes `reminder_step` and no alert of the chat is waiting (so each reminder opens or
    joins the group at `now` + the window, or waits for quiet hours to end): the same
    states, log entries and waiting alerts as `evaluate_chat` and `queue`, byte for byte,
    without a model built. None (nothing written): the caller takes the model path."""
    if not readings or ctx.store.alerts.next_flush(chat) is not None:
        return None  # nothing to remind, or alerts waiting (groups, merges: `Batcher.add`)
    thresholds = ctx.store.scorecards.thresholds(chat)
    steps = []
    for key, (kpi, reading) in readings.items():
        answer = reminder_step(due[key]["state"], kpi, reading, settings, thresholds, tz, now)
        if answer is None:
            return None
        steps.append(answer)
    states = {key: state for key, (state, _) in zip(readings, steps, strict=True)}
    log = [reminder for _, reminder in steps]
    if not has_channels(settings):  # `/alerts off`: the log still shows what would go
        stored = ctx.store.alerts.put_reminders(chat, states, log, [])
        return (len(steps), False) if stored else None
    grouped = now + settings.policy.group_window
    waiting = [
        grouped if held is None else datetime.fromisoformat(held)
        for held in (reminder["held_until"] for _, reminder in steps)
    ]
    queued = [
        {"transition": reminder, "ready_at": instant_text(ready)}
        for reminder, ready in zip(log, waiting, strict=True)
    ]
    if not ctx.store.alerts.put_reminders(chat, states, log, queued):
        return None
    if min(waiting) <= now:  # a group window of 0: what is ready goes out now
        flush_due(ctx, chat, now, settings=settings)
    else:
        ctx.outbox.wake_at(chat, min(waiting))
    return len(steps), True


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


def evaluate_kpi(
    ctx: Context,
    chat: str,
    kpi: Kpi,
    settings: AlertSettings,
    tz: ZoneInfo,
    thresholds: Thresholds,
    now: datetime,
    stored: StoredState | None = None,
    current: tuple[Kpi, Measurement] | None = None,
    declined: Mapping[str, Any] | None = None,
) -> list[Said]:
    """Step one KPI's alert state with its current reading; persist it; return transitions.

    A reading already counted (a back-dated value left it as it was) changes nothing.
    Without a stored state, a KPI with history gets its state rebuilt from that history
    silently (demo, import, restore, older stores): 90 days of data are not a "first
    reading". A KPI's very first value, or its first out of test mode, is announced.
    `stored` and `current`: its state and `current_reading` as the caller just read them
    (else they are read here); `declined`: its live state document, which `quiet_step`
    already declined at `now` with this reading (not read, nor asked, again).
    """
    if current is None:
        current = current_reading(ctx, chat, kpi)
    if current is None:
        return []
    kpi, reading = current
    if stored is None:
        found = (
            (declined, False)
            if declined is not None
            else ctx.store.alerts.state_doc(chat, kpi.key)
        )
        if found is not None and found[1] == kpi.test:
            quiet = (
                None
                if declined is not None
                else quiet_step(found[0], kpi, reading, settings, thresholds, now)
            )
            if quiet is not None:
                ctx.store.alerts.put_state_doc(chat, kpi.key, quiet, test=kpi.test)
                return []
            moved = change_step(found[0], kpi, reading, settings, thresholds, tz, now)
            if moved is not None:  # the colour moves on: the change as documents
                ctx.store.alerts.put_state_doc(chat, kpi.key, moved[0], test=kpi.test)
                return list(moved[1])
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
    return list(transitions)


def _doc(said: Said) -> dict[str, Any]:
    """A transition's document (`to_doc` of the model)."""
    return said if isinstance(said, dict) else to_doc(said)


def _field(said: Said, name: str) -> Any:
    """One field of a transition, model or document."""
    return said[name] if isinstance(said, dict) else getattr(said, name)


def _model(said: Said) -> Transition:
    """A transition's model (parsed from its document when that is what was said)."""
    return Transition.model_validate(said) if isinstance(said, dict) else said


def queue(
    ctx: Context,
    chat: str,
    transitions: Sequence[Said],
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
    docs = [_doc(t) for t in transitions]  # logged and queued: serialised once
    ctx.store.alerts.log_docs(chat, docs)
    if not channels(settings, chat):
        return False  # `/alerts off`: the log still shows what would have been sent
    changes = (t["kpi"] for t in docs if t["kind"] != "reminder" and t["suppressed"] is None)
    waits = wait_for_inputs(ctx, chat, changes, now)  # a half-entered day (calculated KPIs)
    not_before = [waits.get(t["kpi"]) if t["kind"] != "reminder" else None for t in docs]
    if _queue_on_docs(ctx, chat, docs, not_before, settings, now):
        return True
    batcher = ctx.store.alerts.batcher(chat)
    for transition, wait in zip(map(_model, transitions), not_before, strict=True):
        batcher = batcher.add(
            transition, now=now, window=settings.policy.group_window, not_before=wait
        )
    flush_due(ctx, chat, now, batcher=batcher, settings=settings, saved=False)
    return True


def _queue_on_docs(
    ctx: Context,
    chat: str,
    docs: Sequence[Mapping[str, Any]],
    not_before: Sequence[datetime | None],
    settings: AlertSettings,
    now: datetime,
) -> bool:
    """`queue`'s batching and flush written as documents, when the stored waiting alerts
    are exactly `to_doc`'s (`AlertRepo.queued_docs`) and nothing is ready at `now` (so the
    flush only stores them and asks for a wake-up): the same book, byte for byte, as
    `Batcher.add` then `flush_due`, without the chat's waiting alerts parsed and
    serialised again. False, nothing written: the caller takes the model path."""
    queued = ctx.store.alerts.queued_docs(chat)
    if queued is None:
        return False
    window = settings.policy.group_window
    for doc, wait in zip(docs, not_before, strict=True):
        queued = add_doc(queued, doc, now=now, window=window, not_before=wait)
    # the instants they wait for (a group's alerts share one: each spelling parsed once)
    ready = [datetime.fromisoformat(at) for at in dict.fromkeys(q["ready_at"] for q in queued)]
    if ready and min(ready) <= now:
        return False  # something goes out now: `flush_due` sends it
    ctx.store.alerts.save_queued_docs(chat, queued)
    if ready:
        ctx.outbox.wake_at(chat, min(ready))
    return True


def _note(ctx: Context, chat: str, t: Transition, tz: ZoneInfo) -> str | None:
    """What an alert says beside its value: why its colour is held, and an input of a
    calculated KPI's day still missing when it goes out."""
    said = [now_note(ctx, chat, t, tz), missing_text(ctx, chat, t.kpi)]
    return "; ".join(n for n in said if n) or None


def flush_due(
    ctx: Context,
    chat: str,
    now: datetime,
    *,
    release: Release = "due",
    batcher: Batcher | None = None,
    settings: AlertSettings | None = None,
    saved: bool = True,
) -> int:
    """Send the chat's alerts that are ready at `now` as one message; returns items sent.

    `release="groups"` also sends alerts still collecting company in a group window (at
    shutdown no more company will come; quiet-hours holds keep waiting); `"all"` sends
    held ones too (quiet hours were just switched off). `batcher` and `settings`, when
    given, are what the caller just read (spares reading them again); `saved=False`: the
    caller changed `batcher` and leaves storing it to this flush (stored once, not twice).
    """
    if batcher is None:
        if ctx.store.alerts.next_flush(chat) is None:
            return 0  # nothing waits: said by the book unparsed, no batcher built
        batcher = ctx.store.alerts.batcher(chat)
    if not batcher.queued or (
        release == "due" and all(q.ready_at > now for q in batcher.queued)
    ):  # nothing ready
        if not saved:
            ctx.store.alerts.save_batcher(chat, batcher)
        if batcher.queued:
            ctx.outbox.wake_at(chat, min(q.ready_at for q in batcher.queued))
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
    if not saved or len(rest.queued) != len(batcher.queued):  # else the stored one is right
        ctx.store.alerts.save_batcher(chat, rest)
    sent = 0
    if batch is not None:
        assert settings is not None
        tz = zone_of(ctx, chat)
        notes = {t.kpi: _note(ctx, chat, t, tz) for t in batch.items}
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
