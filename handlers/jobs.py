"""Time-triggered work: what the scheduler runs, as plain functions of (ctx, chat).

Each entry point reads the clock from `ctx.clock`, decides what is due, and queues
Replies in `ctx.outbox` with an idempotency key per occasion (a date, a week, a
period), so a job that runs twice — a restart, a DST fold repeating a wall-clock
time — still sends once. The synchronous functions must run inside `store.atomic()`
(the scheduler does that, then commits and wakes delivery); `sweep` is async and
works in atomic steps of about 2 ms, yielding to the loop in between so commands keep
flowing, and skips chats whose next possible due time (`SweepMemory`) has not come.

- `sweep`: per chat, stale data (KPIs whose `every` has passed plus a grace, owner
  mentioned), initiatives behind their cadence (once per period, in time to act),
  alert reminders for KPIs that stay red (`repeat`), and any alert flush that is due.
- `flush_alerts`: the group-window / quiet-hours timer of one chat.
- `send_digest`, `okr_checkin_reminder`, `okr_cycle_summary`: the weekly review,
  the Friday OKR check-in nudge, and the summary after a cycle ends.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from time import perf_counter
from zoneinfo import ZoneInfo

from handlers import alert_pipeline, calculated, render
from handlers.common import zone_of
from handlers.contract import ChartRequest, Context, Reply
from handlers.scores import ScorecardView, scorecard_view
from scoring.alert_rules import Transition, active_mute, quiet_release_time
from scoring.initiatives import behind_cadence, cadence_progress, expected_by_now, is_overdue
from scoring.kpi import performance
from scoring.models import Initiative, ProgressLog, Status
from scoring.numbers import whole_percent
from scoring.okr import Cycle, current_quarter, elapsed_share, kr_grade, okr_progress, pace
from scoring.periods import Period, PeriodKind, local_date, local_midnight, period_containing
from scoring.targets import kpi_on
from storage.alert_state import (
    AlertSettings,
    DigestSnapshot,
    JobState,
    KpiFact,
    MissedRun,
    StoredState,
)

_LOGGER = logging.getLogger(__name__)

#: Days between values each `every` promises, and the grace before a reminder.
INTERVAL_DAYS = {"day": 1, "week": 7, "month": 31, "quarter": 92}
GRACE_DAYS = {"day": 1, "week": 2, "month": 5, "quarter": 10}
#: Reminders that mention people go out in local working hours only.
WORK_START, WORK_END = time(9, 0), time(19, 0)
#: Work a sweep does in one atomic step before yielding to the loop (a command waits
#: at most about this long, plus one chat's share, behind a sweep).
SWEEP_SLICE = 0.002
#: How often the sweep re-reads the list of chats from the store.
RESCAN = timedelta(hours=1)
MISSED_KEPT = 10
PACE_MARK = {"on track": "🟢", "behind": "🟡", "at risk": "🔴"}
JOB_WORDS = {
    "digest": "weekly digest",
    "okr-checkin": "OKR check-in reminder",
    "okr-cycle": "OKR cycle summary",
}


@dataclass
class SweepReport:
    """What one sweep did (for logs, tests and the benchmark)."""

    chats: int = 0
    stale: int = 0
    cadence: int = 0
    reminders: int = 0
    flushed: int = 0
    queued: list[Reply] = field(default_factory=list)
    next_look: datetime | None = None  # one chat: when it next needs a look

    def add(self, other: SweepReport) -> None:
        """Fold another report into this one."""
        self.chats += other.chats
        self.stale += other.stale
        self.cadence += other.cadence
        self.reminders += other.reminders
        self.flushed += other.flushed
        self.queued.extend(other.queued)


def _put(ctx: Context, reply: Reply, key: str, queued: list[Reply]) -> None:
    if ctx.outbox.put(reply, key=key):
        queued.append(reply)


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

    def touch(self, chat: str) -> None:
        """Something changed in `chat`: look at it in the next sweep."""
        self.next_look.pop(chat, None)
        if self.chats is not None:
            self.chats.add(chat)

    def due(self, ctx: Context, now: datetime) -> list[str]:
        """The chats to look at now."""
        if self.chats is None or self.scanned_at is None or now - self.scanned_at >= RESCAN:
            self.chats = set(ctx.store.alerts.chats())
            self.scanned_at = now
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
        names = memory.due(ctx, ctx.clock())
    else:
        names = ctx.store.alerts.chats()
    report = SweepReport()
    position = 0
    while position < len(names):
        started = perf_counter()  # CPU slicing, not business time: not the clock
        with ctx.store.atomic():
            while position < len(names):
                chat = names[position]
                position += 1
                try:
                    looked = sweep_chat(ctx, chat)
                except Exception:  # one broken chat must not starve the others
                    _LOGGER.exception("sweep failed for chat %s", chat)
                    continue
                report.add(looked)
                if memory is not None and looked.next_look is not None:
                    memory.next_look[chat] = looked.next_look
                if perf_counter() - started >= slice_seconds:
                    break
        await (pause() if pause is not None else _yield())
    return report


async def _yield() -> None:
    """Let waiting commands run before the next step of the sweep.

    Twice: a command whose timer fired during a step is only made runnable after the
    sweep's own wake-up is queued; the second yield lets it go first.
    """
    await asyncio.sleep(0)
    await asyncio.sleep(0)


def sweep_chat(ctx: Context, chat: str) -> SweepReport:
    """One chat's share of the sweep (synchronous; run inside `store.atomic()`).

    The messages it queues are written to the outbox together when it is done.
    """
    with ctx.store.outbox.batch():
        return _look_at(ctx, chat)


def _look_at(ctx: Context, chat: str) -> SweepReport:
    now = ctx.clock()
    report = SweepReport(chats=1)
    settings = alert_pipeline.end_expired_mutes(ctx, chat, now)
    tz = zone_of(ctx, chat)
    red_before = ctx.store.alerts.states(chat, status=Status.RED)
    report.reminders, flushed = _remind(ctx, chat, settings, now, red_before, tz)
    if not flushed:  # the reminders' queue flushed what is ready at `now` already
        report.flushed = alert_pipeline.flush_due(ctx, chat, now, settings=settings)
    local = now.astimezone(tz)
    quiet = settings.policy.quiet
    wall = local.time().replace(tzinfo=None)
    in_hours = WORK_START <= wall < WORK_END and not (quiet is not None and quiet.contains(wall))
    red = ctx.store.alerts.states(chat, status=Status.RED) if report.reminders else red_before
    report.next_look = _next_look(ctx, chat, settings, now, tz, looked=in_hours, red=red)
    if not in_hours:
        return report  # people are mentioned in working hours only
    before = ctx.store.alerts.sent_marks(chat)
    sent = dict(before)
    candidates = ctx.store.alerts.kpi_facts(chat, last_on_or_before=stale_cutoffs(local.date()))
    stale = stale_reminder(ctx, chat, candidates, local.date(), sent)
    if stale is not None:
        report.stale = len(stale[1])
        _put(ctx, stale[0], f"stale:{local.date()}:{'+'.join(stale[1])}", report.queued)
    cadence = cadence_reminder(ctx, chat, tz, local.date(), sent)
    if cadence is not None:
        report.cadence = len(cadence[1])
        _put(ctx, cadence[0], f"cadence:{local.date()}:{'+'.join(cadence[1])}", report.queued)
    if sent != before:
        ctx.store.alerts.save_sent_marks(chat, sent)
    return report


def _next_look(
    ctx: Context,
    chat: str,
    settings: AlertSettings,
    now: datetime,
    tz: ZoneInfo,
    *,
    looked: bool,
    red: Sequence[StoredState],
) -> datetime:
    """The earliest instant anything in the chat can become due without a command.

    Staleness and cadence change with the local date, so they need one look per day in
    working hours; a red KPI's reminder is due `repeat` after people were told (or when
    its mute ends); held alerts when their batch is ready.
    """
    local = now.astimezone(tz)
    wall = local.time().replace(tzinfo=None)
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
    for stored in red:
        if stored.test:
            continue
        told = stored.state.last_notified
        due = now if told is None else told + settings.policy.repeat
        mute = active_mute(stored.state.kpi, settings.mutes, now)
        candidates.append(due if mute is None else max(due, mute.until))
    candidates.extend(m.until for m in settings.mutes if m.until > now)  # catch-ups
    held = ctx.store.alerts.next_flush(chat)
    if held is not None:
        candidates.append(held)
    return min(candidates)


def stale_cutoffs(today: date) -> dict[str, date]:
    """Per `every`: a latest value on or before this day is stale today."""
    return {
        every: today - timedelta(days=INTERVAL_DAYS[every] + GRACE_DAYS[every])
        for every in INTERVAL_DAYS
    }


def stale_due(fact: KpiFact, today: date) -> bool:
    """Whether a KPI's latest value is older than its `every` plus the grace."""
    if fact.last_day is None or fact.every not in INTERVAL_DAYS:
        return False
    days = INTERVAL_DAYS[fact.every] + GRACE_DAYS[fact.every]
    return today >= fact.last_day + timedelta(days=days)


def stale_reminder(
    ctx: Context, chat: str, facts: Sequence[KpiFact], today: date, sent: dict[str, str]
) -> tuple[Reply, list[str]] | None:
    """One message mentioning the owners of KPIs that went stale (once per missing value)."""
    due = [
        f for f in facts if stale_due(f, today) and sent.get(f"stale:{f.key}") != str(f.last_day)
    ]
    if not due:
        return None
    lines = []
    for fact in due:
        sent[f"stale:{fact.key}"] = str(fact.last_day)
        assert fact.last_day is not None
        age = (today - fact.last_day).days
        owner = fact.owner or "no owner"
        lines.append(
            f"{owner}: {fact.name} ({fact.key}, every {fact.every}) — last value "
            f"{fact.last_day:%d %b}, {age} days ago → /kpi set {fact.key} <value>"
        )
    reply = Reply(
        title="Data is getting stale",
        text="\n".join(lines),
        footer="Owners: /kpi edit <key> owner=@name",
        to=alert_pipeline.chat_ref(chat),
        kind="reminder",
    )
    return reply, [f.key for f in due]


def cadence_reminder(
    ctx: Context, chat: str, tz: ZoneInfo, today: date, sent: dict[str, str]
) -> tuple[Reply, list[str]] | None:
    """Initiatives behind their cadence, flagged once per period while there is time left."""
    lines, keys = [], []
    for item in ctx.store.alerts.cadence_initiatives(chat):
        assert item.cadence is not None
        period, since = _cadence_window(item.cadence.period, today, tz)
        mark = f"cadence:{item.key}"
        if sent.get(mark) == str(period.start):
            continue
        total = ctx.store.alerts.progress_total(chat, item.key, since)
        if total >= item.cadence.count:
            continue  # target met: cannot be behind
        # The period's total as one log: cadence_progress sums the amounts in the period.
        logs = [ProgressLog(initiative=item.key, amount=total, at=since)] if total else []
        progress = cadence_progress(item, logs, today, tz)
        if not behind_cadence(progress, today):
            continue
        sent[mark] = str(period.start)
        keys.append(item.key)
        expected = expected_by_now(progress, today)
        lines.append(
            f"{item.owner or 'no owner'}: {item.name} ({item.key}) is behind — "
            f"{progress.label} ({expected} expected by now) → /log {item.key} +1"
        )
    if not lines:
        return None
    reply = Reply(
        title="Behind cadence",
        text="\n".join(lines),
        to=alert_pipeline.chat_ref(chat),
        kind="reminder",
    )
    return reply, keys


@functools.lru_cache(maxsize=64)
def _cadence_window(kind: PeriodKind, today: date, tz: ZoneInfo) -> tuple[Period, datetime]:
    """The cadence period containing `today` and the instant it starts in `tz`.

    The same for most chats of a sweep, so it is computed once (both are immutable).
    """
    period = period_containing(kind, today)
    return period, local_midnight(period.start, tz)


def _remind(
    ctx: Context,
    chat: str,
    settings: AlertSettings,
    now: datetime,
    red: Sequence[StoredState],
    tz: ZoneInfo | None = None,
) -> tuple[int, bool]:
    """Remind red KPIs not told within `repeat` (also after a mute ends): how many, and
    whether its queue flushed the chat's alerts.

    Each candidate is evaluated again with its current definition and latest reading, so
    a KPI whose target was edited into green resolves instead of being reminded.
    """
    if not red:
        return 0, False
    policy = settings.policy
    candidates = [
        s
        for s in red
        if not s.test
        and (s.state.last_notified is None or now - s.state.last_notified >= policy.repeat)
    ]
    if not candidates:
        return 0, False
    tz = tz or zone_of(ctx, chat)
    thresholds = ctx.store.scorecards.thresholds(chat)
    transitions: list[Transition] = []
    for stored in candidates:
        kpi, reading = ctx.store.alerts.kpi_reading(chat, stored.state.kpi)
        if kpi is not None and kpi.removed_at is not None:
            continue  # removed, not deleted: its state waits for a restore
        if kpi is None or kpi.test != stored.test or reading is None:
            ctx.store.alerts.drop_state(chat, stored.state.kpi)  # gone: no message
            continue
        if kpi.agg != "last" or kpi.staged:  # the period's aggregate, the stage in force
            reading = calculated.current_measurement(ctx, chat, kpi) or reading
            kpi = kpi_on(kpi, reading.day)
        state, found = alert_pipeline.step(
            stored.state, kpi, reading, settings, tz, thresholds, now
        )
        if state != stored.state:
            ctx.store.alerts.put_state(chat, state, test=kpi.test)
        transitions.extend(found)
    flushed = alert_pipeline.queue(ctx, chat, transitions, settings=settings, now=now)
    return sum(1 for t in transitions if t.kind == "reminder" and t.suppressed is None), flushed


# --- alert flush timer -----------------------------------------------------------------------


def flush_alerts(ctx: Context, chat: str) -> int:
    """The group-window / quiet-hours timer fired: send what is ready (items sent)."""
    now = ctx.clock()
    settings = alert_pipeline.end_expired_mutes(ctx, chat, now)
    return alert_pipeline.flush_due(ctx, chat, now, settings=settings)


# --- digest ----------------------------------------------------------------------------------


def build_digest(ctx: Context, chat: str) -> Reply:
    """The review meeting's page: index and its change, movers, red KPIs, OKR pace, due work."""
    now = ctx.clock()
    tz = zone_of(ctx, chat)
    today = local_date(now, tz)
    view = scorecard_view(ctx, chat)
    jobstate = ctx.store.alerts.jobstate(chat)
    snapshot = jobstate.snapshot
    sections = [f"Index: {_index_text(view.score.index, snapshot, tz)}"]
    movers = _movers(view, snapshot)
    if movers:
        sections.append("Movers: " + "; ".join(movers))
    red = [
        f"{render.mark(v.status)} {v.kpi.name} {render.num(v.value, v.kpi.unit)} vs "
        f"{render.num(v.kpi.target, v.kpi.unit)}"
        for v in view.kpis
        if v.status is Status.RED and v.kpi.removed_at is None
    ]
    sections.append("Red: " + ("; ".join(red) if red else "none 🎉"))
    sections.extend(_okr_lines(ctx, chat, now, tz))
    sections.extend(_initiative_lines(ctx, chat, tz, today))
    missed = [_missed_text(m, tz) for m in jobstate.missed]
    if missed:
        sections.append("Missed schedules: " + "; ".join(missed))
    if not view.kpis:
        sections.insert(0, "No KPIs yet: /kpi add …")
    return Reply(
        title=f"Weekly review · {today:%a %d %b}",
        text="\n".join(sections),
        footer="Details: /scorecard, /kpi, /okr progress, /initiatives",
        to=alert_pipeline.chat_ref(chat),
        kind="digest",
        chart=_digest_chart(ctx, chat, view),
    )


def _digest_chart(ctx: Context, chat: str, view: ScorecardView) -> ChartRequest | None:
    """The KPIs a digest draws: red ones, else yellow ones (none when charts are off)."""
    if not ctx.store.alerts.settings(chat).charts:
        return None
    for status in (Status.RED, Status.YELLOW):
        keys = tuple(v.kpi.key for v in view.kpis if v.status is status)
        if keys:
            return ChartRequest(chat=chat, kpis=keys[: alert_pipeline.MAX_CHARTS])
    return None


def send_digest(ctx: Context, chat: str) -> Reply | None:
    """The scheduled digest: queue it once per local date and time, remember its snapshot."""
    now = ctx.clock()
    tz = zone_of(ctx, chat)
    local = now.astimezone(tz)
    reply = build_digest(ctx, chat)
    if not ctx.outbox.put(reply, key=f"digest:{local:%Y-%m-%dT%H:%M}"):
        return None
    view = scorecard_view(ctx, chat)
    snapshot = DigestSnapshot(
        at=now,
        index=view.score.index,
        performance={v.kpi.key: v.performance for v in view.kpis if v.performance is not None},
    )
    jobstate = ctx.store.alerts.jobstate(chat)
    ctx.store.alerts.save_jobstate(
        chat, jobstate.model_copy(update={"snapshot": snapshot, "missed": ()})
    )
    return reply


def _index_text(index: float | None, snapshot: DigestSnapshot | None, tz: ZoneInfo) -> str:
    text = render.pct(index)
    if index is None or snapshot is None or snapshot.index is None:
        return text
    points = whole_percent(index) - whole_percent(snapshot.index)
    arrow = "▲" if points > 0 else ("▼" if points < 0 else "=")
    return f"{text} ({arrow} {abs(points)} pts since {snapshot.at.astimezone(tz):%a %d %b})"


def _movers(view: ScorecardView, snapshot: DigestSnapshot | None) -> list[str]:
    changes = []
    for v in view.kpis:
        if v.performance is None:
            continue
        if snapshot is not None and v.kpi.key in snapshot.performance:
            before: float | None = snapshot.performance[v.kpi.key]
        elif v.previous is not None:
            before = performance(v.kpi, v.previous)
        else:
            before = None
        if before is None:
            continue
        points = whole_percent(v.performance) - whole_percent(before)
        if points:
            name = f"{render.mark(Status.TEST)} {v.kpi.name}" if v.kpi.test else v.kpi.name
            changes.append((abs(points), points, name))
    changes.sort(reverse=True)
    return [f"{'▲' if p > 0 else '▼'} {name} {_signed(p)} pts" for _, p, name in changes[:3]]


def _signed(points: int) -> str:
    """+40 / −50 with a real minus sign, as render.num writes negatives."""
    return f"+{points}" if points > 0 else f"−{-points}"


def _okr_lines(ctx: Context, chat: str, now: datetime, tz: ZoneInfo) -> list[str]:
    cycle = ctx.store.chats.settings(chat).okr_cycle or current_quarter(now, tz)
    okrs = ctx.store.okrs.okrs(chat, cycle)
    if not okrs:
        return []
    expected = elapsed_share(cycle, now, tz)
    parts = []
    for okr in okrs:
        progress = okr_progress(ctx.store.okrs.key_results(chat, okr.key)) or 0.0
        verdict = pace(progress, expected)
        parts.append(f"{PACE_MARK[verdict.value]} {okr.name} {render.pct(progress)} {verdict}")
    return [f"OKR pace {cycle} ({render.pct(expected)} elapsed): " + "; ".join(parts)]


def _initiative_lines(ctx: Context, chat: str, tz: ZoneInfo, today: date) -> list[str]:
    due: list[str] = []
    for item in ctx.store.initiatives.all(chat):
        if item.done:
            continue
        text = _initiative_due(ctx, chat, item, tz, today)
        if text:
            due.append(text)
    return ["Initiatives due: " + "; ".join(due)] if due else []


def _initiative_due(
    ctx: Context, chat: str, item: Initiative, tz: ZoneInfo, today: date
) -> str | None:
    if is_overdue(item, today) and item.due is not None:
        return f"⏰ {item.name} overdue since {item.due:%d %b}"
    if item.due is not None and item.due - today <= timedelta(days=7):
        return f"{item.name} due {item.due:%a %d %b}"
    if item.cadence is not None:
        logs = ctx.store.initiatives.logs(chat, item.key)
        progress = cadence_progress(item, logs, today, tz)
        if behind_cadence(progress, today):
            return f"{item.name} behind: {progress.label}"
    return None


def _missed_text(missed: MissedRun, tz: ZoneInfo) -> str:
    what = JOB_WORDS.get(missed.job, missed.job)
    verb = "failed" if missed.reason == "failed" else "did not run (bot was down or busy)"
    more = f" (+{missed.count - 1} earlier)" if missed.count > 1 else ""
    return f"{what} due {missed.at.astimezone(tz):%a %d %b %H:%M} {verb}{more}"


def record_missed(
    ctx: Context, chat: str, job: str, at: datetime, *, reason: str = "missed", count: int = 1
) -> None:
    """Remember a run that did not happen on time; the next digest reports it."""
    jobstate = ctx.store.alerts.jobstate(chat)
    entry = MissedRun.model_validate({"job": job, "at": at, "reason": reason, "count": count})
    missed = (*jobstate.missed, entry)[-MISSED_KEPT:]
    ctx.store.alerts.save_jobstate(chat, jobstate.model_copy(update={"missed": missed}))


def record_fire(ctx: Context, chat: str, job: str, at: datetime) -> None:
    """Remember the latest fire time a schedule was run (or reported) for."""
    jobstate = ctx.store.alerts.jobstate(chat)
    if jobstate.last_fire.get(job) is not None and jobstate.last_fire[job] >= at:
        return
    fires = {**jobstate.last_fire, job: at}
    ctx.store.alerts.save_jobstate(chat, jobstate.model_copy(update={"last_fire": fires}))


def last_fire(ctx: Context, chat: str, job: str) -> datetime | None:
    """The latest fire time a schedule was run (or reported) for."""
    return ctx.store.alerts.jobstate(chat).last_fire.get(job)


# --- OKRs ------------------------------------------------------------------------------------


def okr_checkin_reminder(ctx: Context, chat: str) -> Reply | None:
    """Friday nudge: owners of key results without a check-in since Monday (local)."""
    now = ctx.clock()
    tz = zone_of(ctx, chat)
    today = local_date(now, tz)
    cycle = ctx.store.chats.settings(chat).okr_cycle or current_quarter(now, tz)
    week = period_containing("week", today)
    week_start = local_midnight(week.start, tz)
    by_owner: dict[str, list[str]] = {}
    for okr in ctx.store.okrs.okrs(chat, cycle):
        for kr in ctx.store.okrs.key_results(chat, okr.key):
            checkins = ctx.store.okrs.check_ins(chat, kr.key)
            if checkins and checkins[-1].at >= week_start:
                continue
            owner = kr.owner or okr.owner or "no owner"
            by_owner.setdefault(owner, []).append(f"{kr.name} ({kr.key})")
    if not by_owner:
        return None
    year, number, _ = today.isocalendar()
    reply = Reply(
        title=f"OKR check-in · {cycle}, week {number}",
        text="\n".join(f"{owner}: {', '.join(krs)}" for owner, krs in sorted(by_owner.items())),
        footer="Check in: /okr checkin <kr> <value> [confidence=1-10] [note]",
        to=alert_pipeline.chat_ref(chat),
        kind="reminder",
    )
    return reply if ctx.outbox.put(reply, key=f"okr-checkin:{year}-W{number:02d}") else None


def okr_cycle_summary(ctx: Context, chat: str) -> list[Reply]:
    """After a cycle ends: each objective's final progress and its key results' grades."""
    now = ctx.clock()
    tz = zone_of(ctx, chat)
    today = local_date(now, tz)
    cycles = {okr.cycle for okr in ctx.store.okrs.okrs(chat)}
    replies = []
    for cycle in sorted(cycles):
        end = Cycle.parse(cycle).period.end
        if not end < today <= end + timedelta(days=7):
            continue  # summarise in the week after the cycle ends (a late run still counts)
        lines = []
        for okr in ctx.store.okrs.okrs(chat, cycle):
            krs = ctx.store.okrs.key_results(chat, okr.key)
            grades = ", ".join(f"{kr.key} {kr_grade(kr):.1f}" for kr in krs) or "no key results"
            lines.append(f"{okr.name}: {render.pct(okr_progress(krs))} ({grades})")
        reply = Reply(
            title=f"OKR cycle {cycle} is over",
            text="\n".join(lines),
            footer="Grades 0.0–1.0; about 0.7 is a well-set stretch goal.",
            to=alert_pipeline.chat_ref(chat),
            kind="digest",
        )
        if ctx.outbox.put(reply, key=f"okr-cycle:{cycle}"):
            replies.append(reply)
    return replies


def state_of(ctx: Context, chat: str) -> JobState:
    """The chat's schedule bookkeeping (for the scheduler and tests)."""
    return ctx.store.alerts.jobstate(chat)
