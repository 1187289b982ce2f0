"""Lookups every handler needs: the chat's clock and timezone, keys that must exist."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from handlers.contract import Command, Context, NotFound, UsageError
from handlers.parsing import normalize_key
from scoring.models import Initiative, KeyResult, Kpi, Objective, Okr, Perspective


def chat_zone(cmd: Command, ctx: Context) -> ZoneInfo:
    """The chat's timezone (UTC until `/timezone` sets one)."""
    return ZoneInfo(ctx.store.chats.settings(cmd.chat.key).timezone)


def chat_now(cmd: Command, ctx: Context) -> datetime:
    """Now, in the chat's timezone."""
    return ctx.clock().astimezone(chat_zone(cmd, ctx))


def chat_today(cmd: Command, ctx: Context) -> date:
    """Today's date where the chat lives (a value logged at 23:30 in Moscow is for that day)."""
    return chat_now(cmd, ctx).date()


def who(cmd: Command) -> str:
    """How the author is shown in history: their handle, else their name."""
    return cmd.actor.handle or cmd.actor.display_name


def need(args: tuple[str, ...], count: int, usage: str) -> None:
    """Refuse a command that lacks its positional arguments, showing the usage."""
    if len(args) < count:
        raise UsageError(f"Missing arguments. Usage: {usage}")


def kpi_or_fail(cmd: Command, ctx: Context, raw: str, *, removed: bool = False) -> Kpi:
    """The KPI named `raw`; soft-removed ones only when `removed` is True."""
    key = normalize_key(raw, "KPI key")
    kpi = ctx.store.kpis.get(cmd.chat.key, key)
    if kpi is None or (kpi.removed_at is not None and not removed):
        keys = [k.key for k in ctx.store.kpis.all(cmd.chat.key)]
        raise NotFound("KPI", key, keys)
    return kpi


def objective_or_fail(cmd: Command, ctx: Context, raw: str) -> Objective:
    """The objective named `raw`."""
    key = normalize_key(raw, "objective key")
    objective = ctx.store.scorecards.objective(cmd.chat.key, key)
    if objective is None:
        keys = [o.key for o in ctx.store.scorecards.objectives(cmd.chat.key)]
        raise NotFound("objective", key, keys)
    return objective


def perspective_or_fail(cmd: Command, ctx: Context, raw: str) -> Perspective:
    """The perspective named `raw`."""
    key = normalize_key(raw, "perspective key")
    perspectives = ctx.store.scorecards.perspectives(cmd.chat.key)
    for perspective in perspectives:
        if perspective.key == key:
            return perspective
    raise NotFound("perspective", key, [p.key for p in perspectives])


def okr_or_fail(cmd: Command, ctx: Context, raw: str) -> Okr:
    """The OKR objective named `raw`."""
    key = normalize_key(raw, "OKR key")
    okr = ctx.store.okrs.okr(cmd.chat.key, key)
    if okr is None:
        raise NotFound("OKR", key, [o.key for o in ctx.store.okrs.okrs(cmd.chat.key)])
    return okr


def kr_or_fail(cmd: Command, ctx: Context, raw: str) -> KeyResult:
    """The key result named `raw`."""
    key = normalize_key(raw, "key result key")
    kr = ctx.store.okrs.key_result(cmd.chat.key, key)
    if kr is None:
        keys = [k.key for k in ctx.store.okrs.key_results(cmd.chat.key)]
        raise NotFound("key result", key, keys)
    return kr


def initiative_or_fail(cmd: Command, ctx: Context, raw: str) -> Initiative:
    """The initiative named `raw`."""
    key = normalize_key(raw, "initiative key")
    initiative = ctx.store.initiatives.get(cmd.chat.key, key)
    if initiative is None:
        keys = [i.key for i in ctx.store.initiatives.all(cmd.chat.key)]
        raise NotFound("initiative", key, keys)
    return initiative
