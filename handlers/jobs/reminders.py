"""Stale-data and behind-cadence reminders: who to nudge today, once per missing value
or period."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from handlers import alert_messages, render
from handlers.contract import Context, text_reply_doc
from scoring.initiatives import behind_cadence, count_progress, expected_by_now
from scoring.periods import Period, PeriodKind, local_midnight, period_containing
from storage.kpis import KpiFact
from storage.sweep_summary import CadenceFacts, micros

#: Days between values each `every` promises, and the grace before a reminder.
INTERVAL_DAYS = {"day": 1, "week": 7, "month": 31, "quarter": 92}
GRACE_DAYS = {"day": 1, "week": 2, "month": 5, "quarter": 10}


@functools.lru_cache(maxsize=8)
def stale_cutoffs(today: date) -> Mapping[str, str]:
    """Per `every`: a latest value on or before this day (ISO) is stale today (the same
    for every chat of a sweep on that local day, so computed and spelled once; never
    mutate it)."""
    return MappingProxyType(
        {
            every: (today - timedelta(days=INTERVAL_DAYS[every] + GRACE_DAYS[every])).isoformat()
            for every in INTERVAL_DAYS
        }
    )


#: A day as `str(day)` spells it (ISO), remembered: a busy chat's reminders spell today,
#: a stale KPI's last day (twice) and each cadence period's start, and `date.__str__`'s C
#: formatting was about 3 400 instructions each, for the same few days in every chat of a
#: sweep. Only for the exact `date` type (`day_text`).
_ISO_DAY = functools.lru_cache(maxsize=256)(date.isoformat)


def day_text(day: date | None) -> str:
    """`str(day)`, remembered per day (`_ISO_DAY`); anything but a `date` itself (a
    subclass, None) is spelled by its own `__str__`."""
    return _ISO_DAY(day) if type(day) is date else str(day)


#: `%b` as the C locale spells it (the bot never sets another).
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day_month(day: date) -> str:
    """`day` as `f"{day:%d %b}"` writes it (`07 Nov`), without strftime: a busy sweep writes
    one per stale KPI, and strftime was a third of a stale reminder's cost."""
    return f"{day.day:02d} {_MONTHS[day.month - 1]}"


def stale_due(fact: KpiFact, today: date) -> bool:
    """Whether a KPI's latest value is older than its `every` plus the grace."""
    if fact.last_day is None or fact.every not in INTERVAL_DAYS:
        return False
    days = INTERVAL_DAYS[fact.every] + GRACE_DAYS[fact.every]
    return today >= fact.last_day + timedelta(days=days)


def stale_reminder(
    ctx: Context, chat: str, facts: Sequence[KpiFact], today: date, sent: dict[str, str]
) -> tuple[dict[str, Any], list[str]] | None:
    """One message mentioning the owners of KPIs that went stale (once per missing value),
    as the outbox stores it."""
    due = [
        f
        for f in facts
        if stale_due(f, today) and sent.get(f"stale:{f.key}") != day_text(f.last_day)
    ]
    if not due:
        return None
    lines = []
    for fact in due:
        assert fact.last_day is not None
        sent[f"stale:{fact.key}"] = day_text(fact.last_day)
        age = (today - fact.last_day).days
        owner = fact.owner or "no owner"
        lines.append(
            f"{owner}: {fact.name} ({fact.key}, every {fact.every}) — last value "
            f"{day_month(fact.last_day)}, {age} days ago → /kpi set {fact.key} <value>"
        )
    reply = text_reply_doc(
        title="Data is getting stale",
        text="\n".join(lines),
        footer="Owners: /kpi edit <key> owner=@name",
        to=alert_messages.chat_to(chat),
        kind="reminder",
    )
    return reply, [f.key for f in due]


def cadence_reminder(
    ctx: Context,
    chat: str,
    initiatives: Sequence[CadenceFacts],
    tz: ZoneInfo,
    today: date,
    sent: dict[str, str],
) -> tuple[dict[str, Any], list[str]] | None:
    """Initiatives behind their cadence (`initiatives`: the chat's open ones with a cadence,
    from its sweep summary), flagged once per period while there is time left; the message
    as the outbox stores it."""
    lines, keys = [], []
    for facts in initiatives:
        period, since, at, start = _cadence_window(facts.period, today, tz)
        mark = f"cadence:{facts.key}"
        if sent.get(mark) == start:
            continue
        total = facts.total_from(at)
        if total is None:  # before what the summary keeps: read the log itself
            total = ctx.store.alerts.progress_total(chat, facts.key, since)
        if total >= facts.count:
            continue  # target met: cannot be behind
        # the period's sum, as is; the cadence, name and owner as stored (no model built)
        progress = count_progress(facts.count, facts.period, period, total, today)
        if not behind_cadence(progress, today):
            continue
        sent[mark] = start
        keys.append(facts.key)
        expected = expected_by_now(progress, today)
        item = facts.doc
        lines.append(
            f"{item['owner'] or 'no owner'}: {item['name']} ({facts.key}) is behind — "
            f"{render.cadence_label(progress)} ({expected} expected by now) → /log {facts.key} +1"
        )
    if not lines:
        return None
    reply = text_reply_doc(
        title="Behind cadence",
        text="\n".join(lines),
        footer=None,
        to=alert_messages.chat_to(chat),
        kind="reminder",
    )
    return reply, keys


@functools.lru_cache(maxsize=64)
def _cadence_window(
    kind: PeriodKind, today: date, tz: ZoneInfo
) -> tuple[Period, datetime, int, str]:
    """The cadence period containing `today`, the instant it starts in `tz`, that
    instant's `micros` (what `CadenceFacts.total_from` compares) and the period's first
    day as a sent mark spells it (`str`).

    The same for most chats of a sweep, so it is computed once (all are immutable).
    """
    period = period_containing(kind, today)
    since = local_midnight(period.start, tz)
    return period, since, micros(since), str(period.start)
