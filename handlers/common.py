"""Lookups every handler needs: the chat's clock and timezone, keys that must exist."""

from __future__ import annotations

from datetime import date, datetime
from typing import TypeVar
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


KeyedT = TypeVar("KeyedT", Kpi, Objective, Perspective, Okr, KeyResult, Initiative)


def _pick(what: str, raw: str, items: list[KeyedT]) -> KeyedT:
    """The item whose key is `raw` (normalized), or NotFound suggesting the closest keys."""
    key = normalize_key(raw, f"{what} key")
    for item in items:
        if item.key == key:
            return item
    raise NotFound(what, key, [item.key for item in items])


def kpi_or_fail(cmd: Command, ctx: Context, raw: str, *, removed: bool = False) -> Kpi:
    """The KPI named `raw`; soft-removed ones only when `removed` is True."""
    return _pick("KPI", raw, ctx.store.kpis.all(cmd.chat.key, include_removed=removed))


def objective_or_fail(cmd: Command, ctx: Context, raw: str) -> Objective:
    """The objective named `raw`."""
    return _pick("objective", raw, ctx.store.scorecards.objectives(cmd.chat.key))


def perspective_or_fail(cmd: Command, ctx: Context, raw: str) -> Perspective:
    """The perspective named `raw`."""
    return _pick("perspective", raw, ctx.store.scorecards.perspectives(cmd.chat.key))


def okr_or_fail(cmd: Command, ctx: Context, raw: str) -> Okr:
    """The OKR objective named `raw`."""
    return _pick("OKR", raw, ctx.store.okrs.okrs(cmd.chat.key))


def kr_or_fail(cmd: Command, ctx: Context, raw: str) -> KeyResult:
    """The key result named `raw`."""
    return _pick("key result", raw, ctx.store.okrs.key_results(cmd.chat.key))


def initiative_or_fail(cmd: Command, ctx: Context, raw: str) -> Initiative:
    """The initiative named `raw`."""
    return _pick("initiative", raw, ctx.store.initiatives.all(cmd.chat.key))
