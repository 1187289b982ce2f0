"""`/digest`: the weekly review on demand, and its schedule on the chat's wall clock."""

from __future__ import annotations

from datetime import time

from handlers.chart_specs import draw_requested
from handlers.common import zone_of
from handlers.contract import Command, Context, Reply, UsageError, command
from handlers.dates import weekday_number
from handlers.jobs import digest_build
from handlers.parsing import clip
from handlers.router import Router
from scoring.schedule import (
    EVERY_WEEKDAY,
    WEEKDAY_NAMES,
    Schedule,
    read_clock,
    weekday_names,
    weekdays_from_names,
)

_EVERY_DAY = {"day", "daily", "everyday", "*"}
_WORKDAYS = {"weekday", "weekdays", "workday", "workdays"}


@command("digest", usage="/digest", example="/digest")
async def digest_now(cmd: Command, ctx: Context) -> Reply:
    """The weekly review now: index and its change, movers, red KPIs, OKR pace, due work."""
    if cmd.args:
        option = cmd.args[0]
        raise UsageError(f"Unknown /digest option '{option}'. Try /digest every or /digest off.")
    reply = digest_build.build_digest(ctx, cmd.chat.key).model_copy(update={"to": None})
    schedule = ctx.store.alerts.settings(cmd.chat.key).digest
    when = (
        f"Scheduled {schedule_text(schedule)}"
        if schedule
        else "Not scheduled (/digest every mon 09:00)"
    )
    reply = await draw_requested(ctx, reply)
    return reply.model_copy(update={"footer": f"{reply.footer} · {when}"})


@command(
    "digest every",
    usage="/digest every <mon|mon,thu|mon-fri|day> <HH:MM>",
    example="/digest every mon 09:00",
    mutates=True,
)
async def digest_every(cmd: Command, ctx: Context) -> Reply:
    """Schedule the review for the chat, e.g. every Monday 09:00 before the meeting."""
    if len(cmd.args) < 2:
        raise UsageError("Say when.", usage=True)
    words = [a.casefold() for a in cmd.args if a.casefold() != "at"]
    if len(words) > 2 and words[-1] in ("am", "pm"):  # `9 am`
        words[-2:] = [words[-2] + words[-1]]
    if len(words) > 2 and _clock_shaped(words[-2]) and not _clock_shaped(words[-1]):
        raise UsageError(  # `mon 09:00 CET`: said as "'09:00' is not a weekday"
            f"'{clip(cmd.args[-1])}' after the time: the digest follows the chat's timezone "
            f"({zone_of(ctx, cmd.chat.key).key}); change it with /timezone, "
            "e.g. /timezone Europe/Berlin."
        )
    schedule = Schedule(weekdays=parse_days(words[:-1]), at=parse_time(words[-1]))
    chat = cmd.chat.key
    settings = ctx.store.alerts.settings(chat)
    ctx.store.alerts.save_settings(chat, settings.model_copy(update={"digest": schedule}))
    tz = zone_of(ctx, chat)
    upcoming = schedule.next_fire(ctx.clock(), tz)
    return Reply(
        text=f"Digest scheduled {schedule_text(schedule)} ({tz.key}); next "
        f"{upcoming:%a %d %b %H:%M}. It follows /timezone, summer time included."
    )


@command("digest off", usage="/digest off", example="/digest off", mutates=True)
async def digest_off(cmd: Command, ctx: Context) -> Reply:
    """Stop the scheduled digest (`/digest` still works on demand)."""
    chat = cmd.chat.key
    settings = ctx.store.alerts.settings(chat)
    if settings.digest is None:
        return Reply(text="No digest was scheduled; nothing to do.")
    ctx.store.alerts.save_settings(chat, settings.model_copy(update={"digest": None}))
    return Reply(text="Scheduled digest off. /digest still shows the review on demand.")


def parse_days(words: list[str]) -> frozenset[int]:
    """Weekday words ("mon", "mon,thu", "mon-fri", "fri-mon", "day", "weekdays", "пн") → days."""
    text = ",".join(words).replace(" ", "")
    if not text:
        raise UsageError("Which days?", usage=True)
    if text in _EVERY_DAY:
        return EVERY_WEEKDAY
    if text in _WORKDAYS:
        return digest_build.WORKDAYS
    named = []
    for part in filter(None, text.split(",")):
        ends = [weekday_number(end) for end in part.split("-")]
        if len(ends) > 2 or None in ends:
            raise UsageError(f"'{part}' is not a weekday: use mon…sun, mon-fri or day.")
        named.append("-".join(WEEKDAY_NAMES[end] for end in ends if end is not None))
    return weekdays_from_names(",".join(named))


def _clock_shaped(word: str) -> bool:
    """Whether `word` is written as a time of day (`09:00`, `9am`, even `25:00`)."""
    try:
        return read_clock(word) is not None
    except ValueError:
        return True


def parse_time(raw: str) -> time:
    """`09:00`, `9:30`, `9.30`, `9`, `9am` or `9:30pm` → a wall-clock time (`read_clock`)."""
    try:
        at = read_clock(raw)
    except ValueError:
        am_pm = raw.rstrip(".").casefold().endswith("m")
        raise UsageError(
            f"'{raw}' is not a time of day: use 00:00–23:59{' (or 1am–12pm)' if am_pm else ''}."
        ) from None
    if at is None:
        raise UsageError(f"'{raw}' is not a time: use HH:MM, e.g. 09:00.")
    return at


def schedule_text(schedule: Schedule) -> str:
    """When a digest goes out, as /digest every takes it: every mon 09:00."""
    names = weekday_names(schedule.weekdays)
    days = {"*": "every day", "mon-fri": "every weekday"}.get(names, f"every {names}")
    return f"{days} {schedule.at:%H:%M}"


def register(router: Router) -> None:
    """Register /digest."""
    router.include(digest_now, digest_every, digest_off)
