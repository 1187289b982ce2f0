"""Correcting mistakes: value and check-in histories, removing a value, the audit log, undo.

Every mutating command is audited by the router (storage/changes.py collects what the
repositories changed); this module only reads that log and reverts one entry of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from handlers import alert_pipeline, calculated, render
from handlers.change_text import describe
from handlers.change_text import when as when  # initiatives shows times the same way
from handlers.common import (
    author_id,
    chat_today,
    chat_zone,
    kpi_or_fail,
    kr_or_fail,
    need,
    no_more_than,
    who,
)
from handlers.contract import (
    Button,
    Command,
    Context,
    NotFound,
    Reply,
    Table,
    UsageError,
    command,
)
from handlers.parsing import parse_date, take_date
from handlers.router import Router
from handlers.scores import colour_said, due_so_far, kpi_view
from handlers.undo_rules import undo_below_zero
from scoring.aggregation import kpi_period
from scoring.models import Kpi
from storage import AuditEntry, UndoConflict
from storage.changes import Change

PAGE = 20  # rows per page on Telegram and Slack; the console prints everything
HISTORY_PAGE = 10
SHOWN_CHANGES = 3  # item lines per entry in /history


def page_size(cmd: Command, raw: str | None, example: str, page: int = PAGE) -> int | None:
    """How many rows to show: `all` (None), a number, or one page (all on the console)."""
    if raw is None:
        return None if cmd.chat.platform == "console" else page
    if raw.casefold() == "all":
        return None
    if raw.isdigit() and 0 < int(raw) <= 100_000:
        return int(raw)
    raise UsageError(f"Show how many? 'all' or a number, e.g. {example}")


def paged_footer(
    total: int | None, shown: int, more: str
) -> tuple[str | None, tuple[Button, ...]]:
    """`Showing the latest 20 of 95.` with a More button, when rows were left out.

    `total` None: more rows exist, but counting them would mean reading them all.
    """
    if total is not None and shown >= total:
        return None, ()
    step = shown * 2 if total is None else min(shown * 2, total)
    of = "" if total is None else f" of {total}"
    text = f"Showing the latest {shown}{of}. More: {more} {step} · everything: {more} all"
    return text, (Button(label="More", command=f"{more} {step}"),)


@command("kpi history", usage="/kpi history <key> [all|<n>]", example="/kpi history cac")
async def kpi_history(cmd: Command, ctx: Context) -> Reply:
    """Every value of a KPI with its date, author and note, newest first.

    On Telegram and Slack the latest 20 are shown with a More button; add a number or
    `all` to see more. The console prints all of them.
    """
    need(cmd.args, 1)
    no_more_than(cmd.args, 2)
    kpi = kpi_or_fail(cmd, ctx, cmd.args[0], removed=True)
    limit = page_size(
        cmd, cmd.args[1] if len(cmd.args) > 1 else None, f"/kpi history {kpi.key} 50"
    )
    chat = cmd.chat.key
    total = ctx.store.kpis.count(chat, kpi.key)
    if total == 0:
        return Reply(text=f"{kpi.name} has no values yet: /kpi set {kpi.key} <value>")
    values = ctx.store.kpis.history(chat, kpi.key, limit=limit)
    rows = tuple(
        (m.day.isoformat(), render.num(m.value, kpi.unit), m.by or "—", m.note[:60])
        for m in reversed(values)
    )
    footer, buttons = paged_footer(total, len(values), f"/kpi history {kpi.key}")
    return Reply(
        title=f"{kpi.name} ({kpi.key}): {render.plural(total, 'value')}",
        table=Table(
            columns=("date", "value", "by", "note"), rows=rows, align=("l", "r", "l", "l")
        ),
        footer=footer or f"Remove a wrong value: /kpi unset {kpi.key} <date>",
        buttons=buttons,
    )


@command(
    "kpi unset",
    usage="/kpi unset <key> <YYYY-MM-DD>",
    example="/kpi unset cac 2026-03-31",
    mutates=True,
)
async def kpi_unset(cmd: Command, ctx: Context) -> Reply:
    """Remove one recorded value (a typo, a wrong date), with an Undo button.

    The latest value, scores and alert state follow at once.
    """
    need(cmd.args, 2)
    kpi = kpi_or_fail(cmd, ctx, cmd.args[0])
    day = _removed_day(cmd.args, chat_today(cmd, ctx))
    chat = cmd.chat.key
    removed = ctx.store.kpis.unset(chat, kpi.key, day)
    if removed is None:
        raise UsageError(
            f"{kpi.key} has no value for {day.isoformat()}. See /kpi history {kpi.key}"
        )
    recomputed = calculated.values_changed(ctx, chat, {kpi.key: [day]}, ctx.clock())
    follow_alerts(ctx, chat, [kpi.key, *(k.key for k in recomputed)], who(cmd))
    view = kpi_view(ctx, chat, kpi, ctx.store.scorecards.thresholds(chat))
    if view.value is not None and view.day is not None and view.progress is not None:
        # what /kpi shows: the period's aggregate, judged as `scores` judges it
        state = (
            "test mode"
            if kpi.test
            else colour_said(view.status, view.progress, due_so_far(kpi, view.day))
        )
        period = (
            ""
            if kpi.agg == "last"
            else f"{render.period_aggregate(kpi.agg, kpi_period(kpi.every, view.day))}: "
        )
        shown = render.num(view.value, kpi.unit)
        after = f"Latest: {period}{shown} on {view.day.isoformat()} ({state})."
    else:
        after = f"{kpi.name} has no values now."
    by = f" by {removed.by}" if removed.by else ""
    return Reply(
        text=f"Removed {kpi.name} = {render.num(removed.value, kpi.unit)} for "
        f"{day.isoformat()}{by}. {after}",
        buttons=undo_button(ctx),
    )


def _removed_day(args: Sequence[str], today: date) -> date:
    """The day `/kpi unset <key> …` names, in the words `/kpi set` reads after a value
    (`last friday`, `20 nov`): a value saved with them could not be removed with them."""
    if len(args) > 2:
        typed, end = take_date(args, 1, today)
        if typed is not None:
            no_more_than(args, end)
            return typed
    no_more_than(args, 2)
    return _stored_day(args[1], today)


def _stored_day(raw: str, today: date) -> date:
    """A date as typed; an ISO date outside the range new values may use is accepted too,
    so a value stored with a year-1 typo (before dates were checked) can be removed."""
    try:
        return parse_date(raw, today)
    except UsageError:
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            pass
        raise


def undo_button(ctx: Context) -> tuple[Button, ...]:
    """An Undo button for the change the running command is making."""
    entry_id = ctx.store.changes.entry_id()
    return (Button(label="Undo", command=f"/undo {entry_id}"),) if entry_id else ()


def follow_alerts(ctx: Context, chat: str, kpis: Iterable[str], by: str) -> None:
    """Alert state follows a KPI's values again after some were removed or restored (`by`).

    A KPI that is gone or removed has no alert state; one left without values has none
    either, and an alert people heard of is closed with a message; otherwise the latest
    reading goes through the usual pipeline (colour change → message).
    """
    for key in dict.fromkeys(kpis):
        kpi = ctx.store.kpis.get(chat, key)
        if kpi is None or kpi.removed_at is not None:
            ctx.store.alerts.drop_state(chat, key)
        elif not ctx.store.kpis.latest(chat, key):
            alert_pipeline.on_values_gone(ctx, chat, kpi, by)
        else:
            alert_pipeline.on_kpi_changed(ctx, chat, kpi)


@command(
    "okr kr history",
    usage="/okr kr history <kr-key> [all|<n>]",
    example="/okr kr history nps",
)
async def kr_history(cmd: Command, ctx: Context) -> Reply:
    """Every check-in of a key result with value, confidence, who and note, newest first."""
    need(cmd.args, 1)
    no_more_than(cmd.args, 2)
    kr = kr_or_fail(cmd, ctx, cmd.args[0])
    limit = page_size(cmd, cmd.args[1] if len(cmd.args) > 1 else None, "/okr kr history nps 50")
    items = ctx.store.okrs.check_ins(cmd.chat.key, kr.key)
    if not items:
        return Reply(text=f"{kr.name} has no check-ins yet: /okr checkin {kr.key} <value>")
    shown = items if limit is None else items[-limit:]
    tz = chat_zone(cmd, ctx)
    rows = tuple(
        (
            when(c.at, tz),
            render.num(c.value, kr.unit),
            f"{c.confidence}/10" if c.confidence is not None else "—",
            c.by or "—",
            c.note[:60],
        )
        for c in reversed(shown)
    )
    footer, buttons = paged_footer(len(items), len(shown), f"/okr kr history {kr.key}")
    return Reply(
        title=f"{kr.name} ({kr.key}): {render.plural(len(items), 'check-in')}",
        table=Table(
            columns=("when", "value", "confidence", "by", "note"),
            rows=rows,
            align=("l", "r", "r", "l", "l"),
        ),
        footer=footer,
        buttons=buttons,
    )


@command("history", usage="/history [key] [all|<n>]", example="/history cac")
async def history(cmd: Command, ctx: Context) -> Reply:
    """Who changed what and when in this chat (optionally one key), newest first.

    Each change shows the command and every item old → new, with the replaced value's
    author. `/undo` reverts your own last change.
    """
    args = list(cmd.args)
    raw_limit = None
    if args and (args[-1].casefold() == "all" or args[-1].isdigit()):
        raw_limit = args.pop()
    if len(args) > 1:
        raise UsageError(f"Unexpected words: {' '.join(args[1:])}.", usage=True)
    key = args[0].casefold() if args else None
    limit = page_size(cmd, raw_limit, "/history cac 30", HISTORY_PAGE)
    chat = cmd.chat.key
    matching = (e for e in ctx.store.audit.newest(chat) if key is None or e.touches(key))
    # read only as far back as the page needs (one more tells whether there is more)
    entries = list(matching if limit is None else islice(matching, limit + 1))
    if not entries:
        what = f" to {key}" if key else ""
        return Reply(text=f"No changes{what} recorded yet.")
    shown = entries if limit is None else entries[:limit]
    tz = chat_zone(cmd, ctx)
    blocks = [_entry_text(e, tz) for e in shown]
    more = f"/history {key}" if key else "/history"
    if key is None:
        total: int | None = ctx.store.audit.count(chat)
        title = f"Changes: {render.plural(total or 0, 'change')}"
    else:
        total = len(entries) if len(entries) <= len(shown) else None
        title = f"Changes to {key}"
    footer, buttons = paged_footer(total, len(shown), more)
    return Reply(
        title=title,
        text="\n".join(blocks),
        footer=footer or "Undo your last change: /undo",
        buttons=buttons,
    )


def _entry_text(entry: AuditEntry, tz: ZoneInfo) -> str:
    state = " (undone)" if entry.undone else ""
    head = f"{entry.id} · {when(entry.at, tz)} · {entry.actor} · {entry.command[:80]}{state}"
    lines = [head]
    if entry.skipped:
        lines.append(f"  {render.plural(entry.skipped, 'item')} changed (too many to keep)")
    lines.extend(f"  {line}" for line in describe(entry.changes[:SHOWN_CHANGES], tz))
    if len(entry.changes) > SHOWN_CHANGES:
        lines.append(f"  … and {len(entry.changes) - SHOWN_CHANGES} more")
    return "\n".join(lines)


@command("undo", usage="/undo [<id>]", example="/undo", mutates=True)
async def undo(cmd: Command, ctx: Context) -> Reply:
    """Revert your last change, after a confirmation button (or one change by its id).

    `/undo` shows your last change with an Undo button; `/undo <id>` (the button, or an
    id from /history) reverts it, unless someone changed the same item since.
    """
    if len(cmd.args) > 1:
        raise UsageError("Give one change id from /history, or none.", usage=True)
    chat = cmd.chat.key
    tz = chat_zone(cmd, ctx)
    if not cmd.args:
        mine = author_id(cmd)
        last = next(
            (e for e in ctx.store.audit.newest(chat) if e.actor_id == mine and _undoable(e)),
            None,
        )
        if last is None:
            return Reply(text="Nothing of yours to undo in this chat (see /history).")
        try:
            ctx.store.changes.check_revert(chat, last.changes)
            why = undo_below_zero(cmd, ctx, last.changes)
        except UndoConflict as exc:  # say why now, not behind a button that will refuse
            why = _conflict_reason(last, exc, ctx, chat)
        if why:
            return Reply(
                text=f"Can't undo your last change, {last.id} ({last.command[:80]}): {why}"
            )
        return Reply(
            title=f"Undo your last change ({when(last.at, tz)})?",
            text="\n".join([last.command[:200], *_listed(last.changes, tz)]),
            buttons=(Button(label="Undo", command=f"/undo {last.id}"),),
        )
    entry = ctx.store.audit.get(chat, cmd.args[0].casefold())
    if entry is None:
        raise NotFound("change", cmd.args[0].casefold(), [e.id for e in _first(ctx, chat)])
    if entry.undone:
        raise UsageError(f"Change {entry.id} was already undone.")
    if entry.undo_of is not None:
        raise UsageError(f"Change {entry.id} is itself an undo; repeat the change instead.")
    if entry.skipped:
        raise UsageError(f"Change {entry.id} touched too many items to undo.")
    check_may_undo(cmd, ctx, entry, entry.id)
    if why := undo_below_zero(cmd, ctx, entry.changes):
        raise UsageError(f"Can't undo {entry.id}: {why}")
    try:
        ctx.store.revert(chat, entry)
    except UndoConflict as exc:
        raise UsageError(
            f"Can't undo {entry.id}: {_conflict_reason(entry, exc, ctx, chat)}"
        ) from None
    recomputed = calculated.values_changed(ctx, chat, _days_of(entry.changes), ctx.clock())
    follow_alerts(ctx, chat, [*_kpis_of(entry.changes), *(k.key for k in recomputed)], who(cmd))
    return Reply(
        title=f"Undone {entry.id} ({entry.actor}, {entry.command[:80]})",
        text="\n".join(_listed([_reversed(c) for c in entry.changes], tz)),
    )


def check_may_undo(cmd: Command, ctx: Context, entry: AuditEntry | None, what: str) -> None:
    """The one rule for taking a change back, by `/undo` or by `/kpi restore` of a removal:
    its author or an admin may; a change the history no longer names, an admin only."""
    if ctx.is_admin(cmd.actor) or (entry is not None and entry.actor_id == author_id(cmd)):
        return
    if entry is None:
        raise UsageError(f"{what} is not in /history; only an admin can undo it.")
    raise UsageError(
        f"Change {entry.id} was made by {entry.actor}; only they or an admin can undo it."
    )


def removal_of(ctx: Context, chat: str, kpi: Kpi) -> AuditEntry | None:
    """The change that removed `kpi` (None when the history no longer has it): read back
    only to the time of the removal."""
    if kpi.removed_at is None:
        return None
    since = kpi.removed_at - timedelta(minutes=1)
    for entry in ctx.store.audit.newest(chat):
        if entry.at < since:
            break
        if any(_removes(change, kpi.key) for change in entry.changes):
            return entry
    return None


def _removes(change: Change, key: str) -> bool:
    before, after = change.before or {}, change.after or {}
    return (
        change.kind == "kpi"
        and change.key == key
        and after.get("removed_at") is not None
        and before.get("removed_at") is None
    )


def _listed(changes: Sequence[Change], tz: ZoneInfo, most: int = 10) -> list[str]:
    """The first items of an undo, and how many more it puts back (never cut silently)."""
    more = [f"… and {len(changes) - most} more"] if len(changes) > most else []
    return [*describe(changes[:most], tz), *more]


def _undoable(entry: AuditEntry) -> bool:
    return not entry.undone and entry.undo_of is None and not entry.skipped


def _first(ctx: Context, chat: str, count: int = 50) -> list[AuditEntry]:
    found: list[AuditEntry] = []
    for entry in ctx.store.audit.newest(chat):
        found.append(entry)
        if len(found) >= count:
            break
    return found


def _conflict_reason(entry: AuditEntry, exc: UndoConflict, ctx: Context, chat: str) -> str:
    """Why `entry` can't be undone: what was changed since, by whom, and what to do."""
    change = exc.change
    key = change.key.rpartition("@")[0] or change.key or change.kind
    if exc.reason:
        return f"{exc.reason}."
    later = None
    for newer in ctx.store.audit.newest(chat):
        if newer.id == entry.id:
            break
        if any((c.kind, c.key) == (change.kind, change.key) for c in newer.changes):
            later = newer
    by = f" by {later.actor} ({later.id})" if later is not None else ""
    return (
        f"{key} was changed again since{by}. Undo that first or fix it by hand; see /history {key}"
    )


def _reversed(change: Change) -> Change:
    return change.model_copy(update={"before": change.after, "after": change.before})


def _kpis_of(changes: Sequence[Change]) -> list[str]:
    keys = []
    for change in changes:
        if change.kind == "kpi":
            keys.append(change.key)
        elif change.kind == "value":
            keys.append(change.key.rpartition("@")[0])
    return keys


def _days_of(changes: Sequence[Change]) -> dict[str, list[date]]:
    """KPI key → the days whose values a change touched (formulas reading them follow)."""
    days: dict[str, list[date]] = {}
    for change in changes:
        if change.kind == "value":
            key, _, day = change.key.rpartition("@")
            days.setdefault(key, []).append(date.fromisoformat(day))
    return days


def register(router: Router) -> None:
    """Register the history and correction commands."""
    router.include(kpi_history, kpi_unset, kr_history, history, undo)
