"""What `/undo` may not take back though the items are as the change left them: a count of
work done below zero, which `/log` and `/initiative unlog` refuse too."""

from __future__ import annotations

from collections.abc import Sequence

from handlers import render
from handlers.common import chat_today, chat_zone
from handlers.contract import Command, Context
from scoring.aggregation import period_label
from scoring.initiatives import DONE_DIGITS
from scoring.models import Initiative, ProgressLog
from scoring.periods import period_containing
from storage.changes import Change


def counted_with(
    cmd: Command, ctx: Context, item: Initiative, logs: Sequence[ProgressLog], entry: ProgressLog
) -> tuple[list[ProgressLog], str]:
    """The entries counted together with `entry` (its period's for a cadence, the whole log
    otherwise) and how a reply names that span (" this week", " in Nov 2026", "")."""
    if item.cadence is None:
        return list(logs), ""
    tz = chat_zone(cmd, ctx)
    period = period_containing(item.cadence.period, entry.at.astimezone(tz).date())
    kept = [e for e in logs if period.contains(e.at.astimezone(tz).date())]
    here = period.contains(chat_today(cmd, ctx))
    return kept, f" this {item.cadence.period}" if here else f" in {period_label(period)}"


def below_zero_without(
    cmd: Command,
    ctx: Context,
    item: Initiative,
    logs: Sequence[ProgressLog],
    entry: ProgressLog,
    *,
    back: bool = False,
) -> tuple[float, float, str] | None:
    """(the total logged, what is left without `entry` — with it, when `back` puts a
    removed entry back — the span's words) when that would leave the count of work done
    below zero; None otherwise. The one rule `/initiative unlog` and `/undo` refuse by."""
    kept, span = counted_with(cmd, ctx, item, logs, entry)
    total = round(sum(e.amount for e in kept), DONE_DIGITS)
    left = round(total + entry.amount if back else total - entry.amount, DONE_DIGITS)
    return (total, left, span) if left < 0 else None


def undo_below_zero(cmd: Command, ctx: Context, changes: Sequence[Change]) -> str:
    """Why undoing `changes` would leave a count of work done below zero ("" if it would
    not): taking back a `/log +5` that a later `-3` corrected, or putting back a removed
    `-1` whose corrected entry was removed since (removing another entry is no change to
    the `-1`'s own, so the "changed since" check lets it through). Undo is generic; this
    is the one rule it shares with `/log` and `/initiative unlog`."""
    chat = cmd.chat.key
    for change in changes:
        if change.kind != "log" or (change.before is None) == (change.after is None):
            continue  # a /log's entry goes when undone, an unlog's comes back
        back = change.before is not None
        entry = ProgressLog.model_validate(change.before if back else change.after)
        item = ctx.store.initiatives.get(chat, entry.initiative)
        if item is None or (entry.amount >= 0 if back else entry.amount <= 0):
            continue
        logs = ctx.store.initiatives.logs(chat, item.key)
        below = below_zero_without(cmd, ctx, item, logs, entry, back=back)
        if below is None:
            continue
        total, left, span = below
        counts = f"would be below zero: {render.num(total)} logged{span}, {render.num(left)}"
        if back:
            return (
                f"with {render.num(entry.amount)} (#{entry.number}) back, {item.name} {counts} "
                "with it. Take back the later removal first (/history lists the changes), "
                "then undo this."
            )
        return (
            f"without +{render.num(entry.amount)} (#{entry.number}) {item.name} {counts} "
            f"without it. Take back the correction first (/initiative {item.key} lists the "
            "entries), then undo this."
        )
    return ""
