"""`/timezone`: where the chat lives, so "today" and schedules mean the local day."""

from __future__ import annotations

import difflib
import functools
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from handlers.contract import Command, Context, NotFound, Reply, UsageError, command
from handlers.parsing import clip
from handlers.router import Router
from storage.chats import NUMBER_STYLES

_OFFSET = re.compile(r"(?:utc|gmt)?\s*([+\-−])(\d{1,2})(?::?([0-5]\d))?", re.IGNORECASE)
_WELL_KNOWN = {
    "Europe/London",
    "Europe/Berlin",
    "Europe/Moscow",
    "Europe/Istanbul",
    "Asia/Dubai",
    "Asia/Yekaterinburg",
    "Asia/Kolkata",
    "Asia/Novosibirsk",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Singapore",
    "Africa/Lagos",
}

#: Abbreviations people type that are not IANA names, each with the one city it means
#: (ones with more than one meaning are in `_AMBIGUOUS`).
_ABBREVIATIONS = {
    "msk": "Europe/Moscow",
    "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles",
    "mdt": "America/Denver",
    "cdt": "America/Chicago",
    "edt": "America/New_York",
    "cest": "Europe/Berlin",
    "eest": "Europe/Helsinki",
    "jst": "Asia/Tokyo",
}
#: Abbreviations with more than one meaning, each with its cities: none is picked, as a
#: guess would put a chat an hour or more off (AEST is Sydney's winter time and Brisbane's
#: all year; IST is India, Ireland and Israel; CST is Chicago and China).
_AMBIGUOUS = {
    "aest": ("Australia/Sydney", "Australia/Brisbane"),
    "ist": ("Asia/Kolkata", "Europe/Dublin", "Asia/Jerusalem"),
    "cst": ("America/Chicago", "Asia/Shanghai"),
}


@functools.cache
def _zones() -> dict[str, str]:
    """Every IANA name by its case-folded spelling (read from disk once)."""
    return {name.casefold(): name for name in available_timezones()}


def _cities_at(offset: timedelta, now: datetime) -> list[str]:
    """A few Area/City zones whose clocks show `offset` from UTC right now."""
    areas = ("Europe/", "Asia/", "America/", "Africa/", "Australia/", "Pacific/")
    found = [
        name
        for name in sorted(_zones().values())
        if name.startswith(areas) and now.astimezone(ZoneInfo(name)).utcoffset() == offset
    ]
    found.sort(key=lambda name: (name not in _WELL_KNOWN, not name.startswith("Europe/")))
    return found[:3]


def _not_a_zone(raw: str, now: datetime) -> str:
    offset = _OFFSET.fullmatch(raw.strip())
    if offset is not None and int(offset[2]) <= 14:
        sign = -1 if offset[1] in "-−" else 1
        delta = sign * timedelta(hours=int(offset[2]), minutes=int(offset[3] or 0))
        cities = _cities_at(delta, now)
        example = f", e.g. {', '.join(cities)}" if cities else ", e.g. Europe/Moscow"
        return (
            f"'{clip(raw)}' is an offset, not a timezone: use a city that keeps that time"
            f"{example} (a city follows summer time; an offset does not)."
        )
    city = _ABBREVIATIONS.get(raw.strip().casefold())
    if city is not None:
        return f"'{clip(raw)}' is an abbreviation, not a timezone: use /timezone {city}."
    if meanings := _AMBIGUOUS.get(raw.strip().casefold()):
        *first, last = (f"/timezone {c}" for c in meanings)
        return (
            f"'{clip(raw)}' is an abbreviation with more than one meaning, not a timezone: use "
            f"the city whose clock you keep, e.g. {', '.join(first)} or {last}."
        )
    names = _zones()
    # Area/City names only: 'MSK' was offered MST, a fixed US offset kept for old systems.
    cities = [name for name in names if "/" in name]
    close = difflib.get_close_matches(raw[:60].casefold(), cities, n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(names[c] for c in close)}?" if close else ""
    return (
        f"'{clip(raw)}' is not a timezone.{hint} Use an IANA name such as Europe/Moscow, "
        "Europe/Copenhagen or America/New_York."
    )


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
    name = _zones().get(raw.casefold())
    if name is None:
        raise UsageError(_not_a_zone(raw, ctx.clock()))
    try:
        ZoneInfo(name)
    except ZoneInfoNotFoundError as exc:  # pragma: no cover - listed but not loadable
        raise NotFound("timezone", raw) from exc
    ctx.store.chats.save(cmd.chat.key, settings.model_copy(update={"timezone": name}))
    return Reply(text=f"Timezone set to {name}{_fixed_note(name, ctx.clock())}")


#: Legacy zones people type for a US clock, and that clock's city (HST is Honolulu's all year).
_FIXED_CITIES = {
    "EST": ("America/New_York", ""),
    "MST": ("America/Denver", " (Phoenix's is MST's)"),
}


def _fixed_note(name: str, now: datetime) -> str:
    """`.`, or for a legacy or Etc/ zone whose clock never moves (`EST`, `Etc/GMT+3`) what it
    is: "Timezone set to EST." left a New York team's digests an hour late all summer."""
    if "/" in name and not name.startswith("Etc/"):
        return "."
    zone = ZoneInfo(name)
    offsets = {datetime(now.year, month, 1, tzinfo=zone).utcoffset() for month in (1, 7)}
    offset = offsets.pop() if len(offsets) == 1 else None
    if not offset:  # moves with summer time (EST5EDT, CET), or UTC itself
        return "."
    hours, rest = divmod(abs(offset), timedelta(hours=1))
    minutes = f":{rest // timedelta(minutes=1):02d}" if rest else ""
    sign = "−" if offset < timedelta(0) else "+"
    note = f": UTC{sign}{hours}{minutes} all year, without summer time"
    if name.startswith("Etc/GMT"):
        return f"{note} (an Etc/GMT name counts the hours the other way round)."
    if name in _FIXED_CITIES:
        city, aside = _FIXED_CITIES[name]
        town = city.split("/")[1].replace("_", " ")
        return f"{note}. {town}'s clock is /timezone {city}{aside}."
    return f"{note}."


@command(
    "numbers",
    usage="/numbers [1.234,5|1,234.5]",
    example="/numbers 1.234,5",
    mutates=True,
)
async def numbers(cmd: Command, ctx: Context) -> Reply:
    """Show or set how this chat writes numbers: `1.234,5` where a dot groups thousands
    (Danish, German: `1.200` is 1 200), or `1,234.5` (the default: `1.200` is 1.2)."""
    settings = ctx.store.chats.settings(cmd.chat.key)
    if len(cmd.args) > 1 or (cmd.args and cmd.args[0] not in NUMBER_STYLES):
        raise UsageError(
            f"'{clip(' '.join(cmd.args))}' is not a number style: use /numbers 1.234,5 "
            "(a dot groups thousands) or /numbers 1,234.5 (a dot is the decimal point)."
        )
    if cmd.args:
        settings = settings.model_copy(update={"numbers": cmd.args[0]})
        ctx.store.chats.save(cmd.chat.key, settings)
    if settings.dots_group:
        return Reply(
            text="Numbers here: a dot groups thousands and a comma is the decimal mark "
            "(1.234,5), so 1.200 is 1 200."
        )
    tail = "" if cmd.args else " Where a dot groups thousands: /numbers 1.234,5"
    return Reply(
        text=f"Numbers here: a dot is the decimal point (1,234.5), so 1.200 is 1.2.{tail}"
    )


def register(router: Router) -> None:
    """Register /timezone and /numbers."""
    router.include(timezone, numbers)
