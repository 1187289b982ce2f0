"""`/timezone`: where the chat lives, so "today" and schedules mean the local day."""

from __future__ import annotations

import difflib
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from handlers.contract import Command, Context, NotFound, Reply, UsageError, command
from handlers.router import Router


@command(
    "timezone",
    usage="/timezone [Area/City]",
    example="/timezone Europe/Moscow",
    mutates=True,
)
async def timezone(cmd: Command, ctx: Context) -> Reply:
    """Show or set the chat's timezone (IANA name, e.g. Europe/Moscow)."""
    settings = ctx.store.chats.settings(cmd.chat.key)
    if not cmd.args:
        return Reply(text=f"Timezone: {settings.timezone}. Change: /timezone Europe/Moscow")
    raw = cmd.args[0]
    names = {name.casefold(): name for name in available_timezones()}
    name = names.get(raw.casefold())
    if name is None:
        close = difflib.get_close_matches(raw.casefold(), list(names), n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(names[c] for c in close)}?" if close else ""
        raise UsageError(
            f"'{raw}' is not a timezone.{hint} Use an IANA name such as Europe/Moscow, "
            "Europe/Copenhagen or America/New_York."
        )
    try:
        ZoneInfo(name)
    except ZoneInfoNotFoundError as exc:  # pragma: no cover - listed but not loadable
        raise NotFound("timezone", raw) from exc
    ctx.store.chats.save(cmd.chat.key, settings.model_copy(update={"timezone": name}))
    return Reply(text=f"Timezone set to {name}.")


def register(router: Router) -> None:
    """Register /timezone."""
    router.include(timezone)
