"""The weekly review page: index and its change, movers, red KPIs, OKR pace, due work."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from handlers import alert_messages, alert_pipeline, render
from handlers.common import zone_of
from handlers.contract import ChartRequest, Context, Reply
from handlers.numbers import whole_percent
from handlers.scores import ScorecardView, due_state, pace_mark, scorecard_view
from scoring.initiatives import behind_cadence, cadence_progress, is_overdue
from scoring.kpi import performance
from scoring.models import Initiative, Status
from scoring.okr import current_quarter, elapsed_share, okr_progress, pace
from scoring.periods import local_date
from scoring.schedule import EVERY_WEEKDAY, Schedule
from storage.alert_state import (
    DigestSnapshot,
    MissedRun,
)

WORKDAYS = frozenset(range(5))
JOB_WORDS = {
    "digest": "weekly digest",
    "okr-checkin": "OKR check-in reminder",
    "okr-cycle": "OKR cycle summary",
}


def build_digest(ctx: Context, chat: str) -> Reply:
    """The review meeting's page: index and its change, movers, red KPIs, OKR pace, due work."""
    now = ctx.clock()
    tz = zone_of(ctx, chat)
    today = local_date(now, tz)
    view = scorecard_view(ctx, chat)
    jobstate = ctx.store.alerts.jobstate(chat)
    snapshot = jobstate.snapshot
    sections = [f"Index: {_index_text(view.score.index, snapshot, tz, today)}"]
    movers = _movers(view, snapshot)
    if movers:
        sections.append("Movers: " + "; ".join(movers))
    red = [
        f"{render.mark(v.status)} {v.kpi.name} {render.num(v.value, v.kpi.unit)} vs "
        f"{render.num(v.target_now, v.kpi.unit)}"
        for v in view.kpis
        if v.status is Status.RED and v.kpi.removed_at is None
    ]
    sections.append("Red: " + ("; ".join(red) if red else "none 🎉"))
    due = [
        f"{v.kpi.name} {mark} (due {render.day(v.kpi.due)})"
        for v in view.kpis
        if v.kpi.due is not None and (mark := pace_mark(due_state(ctx, chat, v, today)))
    ]
    if due:
        sections.append("Due dates: " + "; ".join(due))
    sections.extend(_okr_lines(ctx, chat, now, tz))
    sections.extend(_initiative_lines(ctx, chat, tz, today))
    missed = [_missed_text(m, tz) for m in jobstate.missed]
    if missed:
        sections.append("Missed schedules: " + "; ".join(missed))
    if not view.kpis:
        sections.insert(0, "No KPIs yet: /kpi add …")
    return Reply(
        title=f"{review_name(ctx.store.alerts.settings(chat).digest)} · {today:%a %d %b}",
        text="\n".join(sections),
        footer="Details: /scorecard, /kpi, /okr progress, /initiatives",
        to=alert_messages.chat_ref(chat),
        kind="digest",
        chart=_digest_chart(ctx, chat, view),
    )


def review_name(schedule: Schedule | None) -> str:
    """What the digest is called: by how often it is sent (weekly when it is not scheduled)."""
    days = schedule.weekdays if schedule is not None else frozenset({0})
    if days in (EVERY_WEEKDAY, WORKDAYS):
        return "Daily review"
    return "Weekly review" if len(days) == 1 else "Review"


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


def _index_text(
    index: float | None, snapshot: DigestSnapshot | None, tz: ZoneInfo, today: date
) -> str:
    """The index and its change since the last review sent; one sent earlier today is named
    by its time (`since Mon 23 Nov` asked at 11:00 on Mon 23 Nov read as a day's change)."""
    text = render.pct(index)
    if index is None or snapshot is None or snapshot.index is None:
        return text
    points = whole_percent(index) - whole_percent(snapshot.index)
    arrow = "▲" if points > 0 else ("▼" if points < 0 else "=")
    at = snapshot.at.astimezone(tz)
    since = f"{at:%H:%M} today" if at.date() == today else f"{at:%a %d %b}"
    return f"{text} ({arrow} {abs(points)} pts since {since})"


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
        word = render.PACE_WORD[verdict]
        parts.append(f"{render.PACE_MARK[verdict]} {okr.name} {render.pct(progress)} {word}")
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
        return f"⏰ {item.name} overdue since {render.day(item.due)}"
    if item.due is not None and item.due - today <= timedelta(days=7):
        return f"{item.name} due {render.day(item.due)}"
    if item.cadence is not None:
        logs = ctx.store.initiatives.logs(chat, item.key)
        progress = cadence_progress(item, logs, today, tz)
        if behind_cadence(progress, today):
            return f"{item.name} behind: {render.cadence_label(progress)}"
    return None


def _missed_text(missed: MissedRun, tz: ZoneInfo) -> str:
    what = JOB_WORDS.get(missed.job, missed.job)
    verb = "failed" if missed.reason == "failed" else "did not run (bot was down or busy)"
    more = f" (+{missed.count - 1} earlier)" if missed.count > 1 else ""
    return f"{what} due {missed.at.astimezone(tz):%a %d %b %H:%M} {verb}{more}"
