"""OKR jobs: the Friday check-in nudge and the summary after a cycle ends."""

from __future__ import annotations

from datetime import timedelta

from handlers import alert_messages, render
from handlers.common import zone_of
from handlers.contract import Context, Reply
from scoring.okr import Cycle, current_quarter, kr_grade, okr_progress
from scoring.periods import local_date, local_midnight, period_containing


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
        to=alert_messages.chat_ref(chat),
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
            to=alert_messages.chat_ref(chat),
            kind="digest",
        )
        if ctx.outbox.put(reply, key=f"okr-cycle:{cycle}"):
            replies.append(reply)
    return replies
