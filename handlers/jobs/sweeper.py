"""The sweep: every few minutes, per chat, what became due without a command.

Stale data (KPIs whose `every` has passed plus a grace, owner mentioned), initiatives
behind their cadence, reminders for KPIs that stay red (`repeat`) and any alert flush
that is due. Chats are taken in atomic slices of about 2 ms of work (`slicing`), and
chats whose next possible due time (`SweepMemory`) has not come are skipped.
`flush_alerts` is the group-window / quiet-hours timer of one chat.

The work stays on the event loop: the store is used from one loop only (an atomic step is
atomic because nothing else runs, and its cache is not locked), so a sweep is kept cheap
and sliced rather than moved to a worker thread.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from handlers import alert_pipeline
from handlers.common import zone_of
from handlers.contract import Context
from handlers.jobs.reminders import cadence_reminder, day_text, stale_cutoffs, stale_reminder
from handlers.jobs.slicing import in_slices, yield_to_loop
from scoring.alert_rules import active_mute, quiet_release_time
from storage.alert_state import AlertSettings

_LOGGER = logging.getLogger(__name__)

#: Reminders that mention people go out in local working hours only.
WORK_START, WORK_END = time(9, 0), time(19, 0)
#: Work a sweep does in one atomic step before yielding to the loop (a command waits
#: at most about this long, plus one chat's share, behind a sweep).
SWEEP_SLICE = 0.002
#: How often the sweep re-reads the list of chats from the store.
RESCAN = timedelta(hours=1)


@dataclass
class SweepReport:
    """What one sweep did (for logs, tests and the benchmark)."""

    chats: int = 0
    stale: int = 0
    cadence: int = 0
    reminders: int = 0
    flushed: int = 0
    queued: list[dict[str, Any]] = field(default_factory=list)  # as the outbox stores them
    next_look: datetime | None = None  # one chat: when it next needs a look

    def add(self, other: SweepReport) -> None:
        """Fold another report into this one."""
        self.chats += other.chats
        self.stale += other.stale
        self.cadence += other.cadence
        self.reminders += other.reminders
        self.flushed += other.flushed
        self.queued.extend(other.queued)


def _put(ctx: Context, body: dict[str, Any], key: str, queued: list[dict[str, Any]]) -> None:
    if ctx.outbox.put_doc(body, key=key):
        queued.append(body)


# --- sweep -----------------------------------------------------------------------------------


@dataclass
class SweepMemory:
    """When each chat next needs a look, so a sweep skips chats where nothing can be due.

    In memory only: after a restart the first sweep looks at every chat. A command in a
    chat (`touch`) makes the next sweep look at it again, since it may have added a
    KPI, an owner, a mute or a timezone. The list of chats is rescanned every hour so
    chats created by other paths (imports) are found too.
    """

    next_look: dict[str, datetime] = field(default_factory=dict)
    chats: set[str] | None = None
    scanned_at: datetime | None = None
    preloaded: bool = False  # the first sweep since the start loaded what sweeps read
    scans: int = 0  # times the chat list was read

    def touch(self, chat: str) -> None:
        """Something changed in `chat`: look at it in the next sweep."""
        self.next_look.pop(chat, None)
        if self.chats is not None:
            self.chats.add(chat)

    def forget(self, chat: str) -> None:
        """`chat` has no data any more (moved to a new id): do not look at it."""
        self.next_look.pop(chat, None)
        if self.chats is not None:
            self.chats.discard(chat)

    def due(self, ctx: Context, now: datetime) -> list[str]:
        """The chats to look at now."""
        if self.chats is None or self.scanned_at is None or now - self.scanned_at >= RESCAN:
            self.chats = set(ctx.store.alerts.chats())
            self.scanned_at = now
            self.scans += 1
        return sorted(c for c in self.chats if self.next_look.get(c, now) <= now)


async def sweep(
    ctx: Context,
    chats: Iterable[str] | None = None,
    *,
    memory: SweepMemory | None = None,
    slice_seconds: float = SWEEP_SLICE,
    pause: Callable[[], Awaitable[None]] | None = None,
) -> SweepReport:
    """Look at every chat (or `chats`, or those `memory` says are due) for due work.

    Due work: stale data, cadence, red reminders, due alert flushes. Chats are taken in
    atomic steps of about `slice_seconds` of work; between steps the loop serves
    commands. The caller commits and wakes delivery afterwards.
    """
    if chats is not None:
        names = list(chats)
    elif memory is not None:
        scans = memory.scans
        names = memory.due(ctx, ctx.clock())
        if memory.scans != scans:  # reading the chat list (~2 ms at 500 chats) is a slice
            await (pause() if pause is not None else yield_to_loop())
        if not memory.preloaded:  # the first sweep since the start: few queries, not one
            memory.preloaded = True  # per table, whether or not the warm got there first
            await in_slices(
                ctx.store.sweep_preload(),
                _loaded,
                atomic=ctx.store.atomic,
                slice_seconds=slice_seconds,
                pause=pause,
            )
    else:
        names = ctx.store.alerts.chats()
    report = SweepReport()

    def look(chat: str) -> None:
        if memory is not None and memory.chats is not None and chat not in memory.chats:
            return  # moved away since the list was taken (`SweepMemory.forget`)
        try:
            looked = sweep_chat(ctx, chat)
        except Exception:  # one broken chat must not starve the others
            _LOGGER.exception("sweep failed for chat %s", chat)
            return
        report.add(looked)
        if memory is not None and looked.next_look is not None:
            memory.next_look[chat] = looked.next_look

    await in_slices(names, look, atomic=ctx.store.atomic, slice_seconds=slice_seconds, pause=pause)
    return report


def _loaded(table: str) -> None:
    """A preload step is done when it is taken (`in_slices` counts it in the slice)."""
    del table


def sweep_chat(ctx: Context, chat: str) -> SweepReport:
    """One chat's share of the sweep (synchronous; run inside `store.atomic()`).

    The messages it queues are written to the outbox together when it is done, and what
    it changes of the chat's alerts (states, log, waiting alerts, sent marks) is one
    write of its alert book. A chat that fails leaves nothing behind (its own atomic
    step), so the sweep can go on with the next one.
    """
    store = ctx.store
    with store.atomic(), store.outbox.batch(), store.alerts.batch():
        return _look_at(ctx, chat)


def _look_at(ctx: Context, chat: str) -> SweepReport:
    now = ctx.clock()
    report = SweepReport(chats=1)
    settings = alert_pipeline.end_expired_mutes(ctx, chat, now)
    tz = zone_of(ctx, chat)
    red_before = ctx.store.alerts.red_docs(chat)
    stored = ctx.store.sweeps.stored(chat) if red_before else None
    report.reminders, flushed = alert_pipeline.remind_red(
        ctx, chat, settings, now, red_before, tz, None if stored is None else stored.kpi
    )
    if not flushed:  # the reminders' queue flushed what is ready at `now` already
        report.flushed = alert_pipeline.flush_due(ctx, chat, now, settings=settings)
    local = now.astimezone(tz)
    quiet = settings.policy.quiet
    wall = local.time()  # naive: `time()`, not `timetz()`
    in_hours = WORK_START <= wall < WORK_END and not (quiet is not None and quiet.contains(wall))
    red = ctx.store.alerts.red_docs(chat) if report.reminders else red_before
    report.next_look = _next_look(ctx, chat, settings, now, local, tz, looked=in_hours, red=red)
    if not in_hours:
        return report  # people are mentioned in working hours only
    before = ctx.store.alerts.sent_marks(chat)
    sent = dict(before)
    summary = ctx.store.sweeps.get(chat, now)
    today = local.date()
    candidates = summary.stale_candidates(stale_cutoffs(today))
    stale = stale_reminder(ctx, chat, candidates, today, sent)
    if stale is not None:
        report.stale = len(stale[1])
        _put(ctx, stale[0], f"stale:{day_text(today)}:{'+'.join(stale[1])}", report.queued)
    cadence = cadence_reminder(ctx, chat, summary.cadence, tz, today, sent)
    if cadence is not None:
        report.cadence = len(cadence[1])
        _put(ctx, cadence[0], f"cadence:{day_text(today)}:{'+'.join(cadence[1])}", report.queued)
    if sent != before:
        ctx.store.alerts.save_sent_marks(chat, sent)
    return report


def _next_look(
    ctx: Context,
    chat: str,
    settings: AlertSettings,
    now: datetime,
    local: datetime,
    tz: ZoneInfo,
    *,
    looked: bool,
    red: Sequence[tuple[str, Mapping[str, Any]]],
) -> datetime:
    """The earliest instant anything in the chat can become due without a command
    (`local`: `now` in the chat's time zone `tz`, as the look just worked it out).

    Staleness and cadence change with the local date, so they need one look per day in
    working hours; a red KPI's reminder is due `repeat` after people were told (or when
    its mute ends); held alerts when their batch is ready.
    """
    wall = local.time()  # naive: `time()`, not `timetz()`
    quiet = settings.policy.quiet
    if looked or wall >= WORK_END:
        daily = datetime.combine(local.date() + timedelta(days=1), WORK_START, tzinfo=tz)
    elif wall < WORK_START:
        daily = datetime.combine(local.date(), WORK_START, tzinfo=tz)
    else:  # working hours, but quiet: look again when the quiet window ends
        daily = quiet_release_time(now, quiet, tz) or now
    if quiet is not None:
        daily = quiet_release_time(daily, quiet, tz) or daily
    candidates = [daily]
    repeat = settings.policy.repeat
    for kpi, stored in red:
        if stored.get("test"):
            continue
        told = stored["state"]["last_notified"]
        due = now if told is None else datetime.fromisoformat(told) + repeat
        mute = active_mute(kpi, settings.mutes, now) if settings.mutes else None
        candidates.append(due if mute is None else max(due, mute.until))
    candidates.extend(m.until for m in settings.mutes if m.until > now)  # catch-ups
    held = ctx.store.alerts.next_flush(chat)
    if held is not None:
        candidates.append(held)
    return min(candidates)


def flush_alerts(ctx: Context, chat: str) -> int:
    """The group-window / quiet-hours timer fired: send what is ready (items sent)."""
    now = ctx.clock()
    with ctx.store.alerts.batch():
        settings = alert_pipeline.end_expired_mutes(ctx, chat, now)
        return alert_pipeline.flush_due(ctx, chat, now, settings=settings)
