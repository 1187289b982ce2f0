"""Lookups every handler needs: the chat's clock and timezone, keys that must exist."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from handlers.contract import Command, Context, NotFound, UsageError
from handlers.parsing import KEY_RE, clip, normalize_key, split_options
from scoring.models import Funnel, Initiative, Journey, KeyResult, Kpi, Objective, Okr, Perspective
from storage.kpis import KpiRepo


def zone_of(ctx: Context, chat: str) -> ZoneInfo:
    """A chat's timezone, by its key (UTC until `/timezone` sets one); jobs have no command."""
    return ZoneInfo(ctx.store.chats.settings(chat).timezone)


def chat_zone(cmd: Command, ctx: Context) -> ZoneInfo:
    """The command's chat's timezone (UTC until `/timezone` sets one)."""
    return zone_of(ctx, cmd.chat.key)


def chat_now(cmd: Command, ctx: Context) -> datetime:
    """Now, in the chat's timezone."""
    return ctx.clock().astimezone(chat_zone(cmd, ctx))


def chat_today(cmd: Command, ctx: Context) -> date:
    """Today's date where the chat lives (a value logged at 23:30 in Moscow is for that day)."""
    return chat_now(cmd, ctx).date()


def today_of(ctx: Context, chat: str) -> date:
    """Today's date where `chat` lives, by its key (drawing and jobs have no command)."""
    return ctx.clock().astimezone(zone_of(ctx, chat)).date()


def who(cmd: Command) -> str:
    """How the author is shown in history: their handle, else their name."""
    return cmd.actor.handle or cmd.actor.display_name


def author_id(cmd: Command) -> str:
    """Who the author is, stably: the platform's user id (names and handles change)."""
    return f"{cmd.actor.platform}:{cmd.actor.user_id}"


def need(args: Sequence[str], count: int) -> None:
    """Refuse a command that lacks its positional arguments, showing its usage."""
    if len(args) < count:
        raise UsageError("Missing arguments.", usage=True)


def no_more_than(args: Sequence[str], most: int) -> None:
    """Refuse words after the last expected argument, showing the usage."""
    if len(args) > most:
        raise UsageError(f"Unexpected words: {' '.join(args[most:])}.", usage=True)


KeyedT = TypeVar(
    "KeyedT", Kpi, Objective, Perspective, Okr, KeyResult, Initiative, Funnel, Journey
)


def _pick(
    what: str,
    raw: str,
    get: Callable[[str], KeyedT | None],
    everything: Callable[[], list[KeyedT]],
) -> KeyedT:
    """The item stored under `raw` (normalized), or NotFound suggesting the closest keys.

    `get` is the fast path; the full list is read only to suggest keys after a miss.
    """
    try:
        key = normalize_key(raw, f"{what} key")
    except UsageError:  # a name typed for the key (`"Customer acquisition cost"`)?
        named = _named(raw, everything(), whole=True)
        if not named:
            raise
        raise UsageError(
            f"'{clip(raw)}' is a name: commands take the {what}'s key, {named[0]}."
        ) from None
    item = get(key)
    if item is not None:
        return item
    items = everything()
    raise NotFound(what, key, [item.key for item in items], first=_named(key, items))


def _named(typed: str, items: Sequence[KeyedT], *, whole: bool = False) -> list[str]:
    """Keys of the items whose name is `typed` (`whole`) or starts with it as a word: the
    first word of a name with spaces (`/kpi set customer acquisition cost 95`)."""
    wanted = " ".join(typed.split()).casefold()
    found = []
    for item in items:
        name = " ".join(str(getattr(item, "name", "")).split()).casefold()
        if name == wanted or (not whole and name.split()[:1] == [wanted]):
            found.append(item.key)
    return found


def objective_label(ctx: Context, chat: str, key: str) -> str:
    """The objective a card names (`Objective:`), by name as people gave it; by key only
    when it is gone, so a KPI card and an initiative card say the same."""
    objective = ctx.store.scorecards.objective(chat, key)
    return objective.name if objective else key


def edit_request(cmd: Command, fields: Sequence[str]) -> tuple[str, dict[str, str]]:
    """`<key> field=value…` of an edit command: the key as typed and the options."""
    positional, options = split_options(cmd.args, fields)
    need(positional, 1)
    if len(positional) > 1:
        raise UsageError(f"Unexpected words: {clip(' '.join(positional[1:]))}.", usage=True)
    if not options:
        raise UsageError(f"Nothing to change. Fields: {', '.join(fields)}")
    return positional[0], options


def kpi_or_fail(cmd: Command, ctx: Context, raw: str, *, removed: bool = False) -> Kpi:
    """The KPI named `raw`; soft-removed ones only when `removed` is True."""
    chat, repo = cmd.chat.key, ctx.store.kpis
    typed = _live_as_typed(repo, chat, raw)
    if typed is not None:
        return typed

    def live(key: str) -> Kpi | None:
        kpi = repo.get(chat, key)
        if kpi is not None and kpi.removed_at is not None and not removed:
            raise UsageError(  # not "No KPI": its history is still there
                f"{kpi.name} ({kpi.key}) is removed from the scorecard: "
                f"/kpi restore {kpi.key} brings it back with its history."
            )
        return kpi

    return _pick("KPI", raw, live, lambda: repo.all(chat, include_removed=removed))


def _live_as_typed(repo: KpiRepo, chat: str, raw: str) -> Kpi | None:
    """The live KPI stored under `raw` as typed, when `raw` is in its normal form (an ASCII
    key in lower case: `normalize_key` changes nothing else of it): what `_pick` finds,
    without it (every `/kpi set` names a KPI). None: ask `_pick`."""
    if raw.isascii() and raw.lower() == raw and KEY_RE.match(raw):
        typed = repo.get(chat, raw)
        if typed is not None and typed.removed_at is None:
            return typed
    return None


def objective_or_fail(cmd: Command, ctx: Context, raw: str) -> Objective:
    """The objective named `raw`."""
    chat, repo = cmd.chat.key, ctx.store.scorecards
    return _pick(
        "objective", raw, lambda k: repo.objective(chat, k), lambda: repo.objectives(chat)
    )


def perspective_or_fail(cmd: Command, ctx: Context, raw: str) -> Perspective:
    """The perspective named `raw`."""
    perspectives = ctx.store.scorecards.perspectives(cmd.chat.key)
    by_key = {p.key: p for p in perspectives}
    return _pick("perspective", raw, by_key.get, lambda: perspectives)


def okr_or_fail(cmd: Command, ctx: Context, raw: str) -> Okr:
    """The OKR objective named `raw`."""
    chat, repo = cmd.chat.key, ctx.store.okrs
    return _pick("OKR", raw, lambda k: repo.okr(chat, k), lambda: repo.okrs(chat))


def kr_or_fail(cmd: Command, ctx: Context, raw: str) -> KeyResult:
    """The key result named `raw`."""
    chat, repo = cmd.chat.key, ctx.store.okrs
    return _pick(
        "key result", raw, lambda k: repo.key_result(chat, k), lambda: repo.key_results(chat)
    )


def initiative_or_fail(cmd: Command, ctx: Context, raw: str) -> Initiative:
    """The initiative named `raw`."""
    chat, repo = cmd.chat.key, ctx.store.initiatives
    return _pick("initiative", raw, lambda k: repo.get(chat, k), lambda: repo.all(chat))


def funnel_or_fail(cmd: Command, ctx: Context, raw: str) -> Funnel:
    """The funnel named `raw`."""
    chat, repo = cmd.chat.key, ctx.store.funnels
    return _pick("funnel", raw, lambda k: repo.get(chat, k), lambda: repo.all(chat))


def journey_or_fail(cmd: Command, ctx: Context, raw: str) -> Journey:
    """The customer journey named `raw`."""
    chat, repo = cmd.chat.key, ctx.store.funnels
    return _pick("journey", raw, lambda k: repo.journey(chat, k), lambda: repo.journeys(chat))
