"""`/initiative`, `/initiatives` and `/log`: the action plan and the progress on it."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta

from handlers import render
from handlers.common import (
    author_id,
    chat_now,
    chat_today,
    chat_zone,
    edit_request,
    initiative_or_fail,
    need,
    no_more_than,
    objective_label,
    objective_or_fail,
    who,
)
from handlers.contract import (
    Button,
    Command,
    Conflict,
    Context,
    Field,
    Reply,
    Table,
    UsageError,
    command,
)
from handlers.dates import due_day, no_date_at, not_ahead, starts_date, take_stated_date
from handlers.history import page_size, paged_footer, undo_button, when
from handlers.parsing import (
    FIRST_DAY,
    MINUSES,
    FieldParser,
    dot_reading,
    hashtag_of,
    name_of_words,
    normalize_key,
    note_of,
    parse_bool,
    parse_fields,
    parse_name,
    parse_number,
    parse_owner,
    split_options,
)
from handlers.router import Router
from handlers.undo_rules import below_zero_without
from scoring.initiatives import (
    DONE_DIGITS,
    CadenceProgress,
    is_overdue,
    parse_cadence,
    period_progress,
)
from scoring.models import Initiative, ProgressLog
from scoring.periods import local_midnight, period_containing

#: The most tags one message logs: more is a pasted block, refused whole (one reply stays
#: one message, and /undo takes it back).
MAX_TAGS = 20
FIELDS = ("name", "objective", "owner", "due", "cadence", "done")
RECENT_AMOUNTS = 5  # the entries a lone-dot amount is compared with
ADD_USAGE = (
    '/initiative add <key> "<name>" [objective=<key>] [owner=@user] [due=YYYY-MM-DD] '
    "[cadence=4/month]"
)


def _fields(cmd: Command, ctx: Context, options: dict[str, str]) -> dict[str, object]:
    return parse_fields(
        options,
        {
            "name": parse_name,
            "objective": lambda raw: objective_or_fail(cmd, ctx, raw).key,
            "owner": parse_owner,
            "due": _optional(lambda raw: due_day(raw, chat_today(cmd, ctx))),
            "cadence": _optional(parse_cadence),
            "done": lambda raw: parse_bool(raw, "done"),
        },
    )


def _optional(parse: FieldParser) -> FieldParser:
    """`none` or `-` clears an optional field."""
    return lambda raw: None if raw.strip().casefold() in ("", "none", "-") else parse(raw.strip())


@command("initiatives", usage="/initiatives", example="/initiatives")
async def initiatives_list(cmd: Command, ctx: Context) -> Reply:
    """Show each initiative with this period's progress; overdue ones are marked."""
    no_more_than(cmd.args, 0)
    chat = cmd.chat.key
    items = ctx.store.initiatives.all(chat)
    if not items:
        return Reply(text=f"No initiatives yet. Add one: {ADD_USAGE}")
    today = chat_today(cmd, ctx)
    rows = []
    buttons: list[Button] = []
    for item in items:
        if item.done:
            state = "✅ done"
        elif is_overdue(item, today):
            state = f"⏰ overdue since {render.day(item.due) if item.due else ''}"
        elif item.cadence is not None:
            state = render.cadence_label(_cadence_progress(cmd, ctx, item))
        else:
            state = f"due {render.day(item.due)}" if item.due else "open"
        rows.append((f"{item.name} ({item.key})", item.owner or "—", state))
        if not item.done and len(buttons) < 5:
            buttons.append(Button(label=f"{item.key} +1", command=f"/log {item.key} +1"))
    return Reply(
        title="Initiatives",
        table=Table(columns=("initiative", "owner", "progress"), rows=tuple(rows)),
        buttons=tuple(buttons),
    )


@command(
    "initiative",
    usage="/initiative [<key> [all|<n>]]",
    example="/initiative articles",
)
async def initiative_show(cmd: Command, ctx: Context) -> Reply:
    """Show the action plan, or one initiative with its logged progress: /initiative <key>.

    Entries are numbered oldest first and keep their numbers (removing one leaves a gap);
    remove a wrong one with /initiative unlog <key> <#>. Telegram and Slack show the latest 20
    with a More button; add a number or `all` to see more.
    """
    if not cmd.args:
        return await initiatives_list(cmd, ctx)
    no_more_than(cmd.args, 2)
    item = initiative_or_fail(cmd, ctx, cmd.args[0])
    limit = page_size(
        cmd, cmd.args[1] if len(cmd.args) > 1 else None, f"/initiative {item.key} 50"
    )
    logs = ctx.store.initiatives.logs(cmd.chat.key, item.key)
    tz = chat_zone(cmd, ctx)
    fields = [Field(label="Owner", value=item.owner or "—")]
    if item.objective:
        objective = objective_label(ctx, cmd.chat.key, item.objective)
        fields.append(Field(label="Objective", value=objective))
    if item.due:
        fields.append(Field(label="Due", value=render.day(item.due)))
    if item.done:
        fields.append(Field(label="Progress", value="done"))
    elif item.cadence is not None:
        fields.append(
            Field(label="Progress", value=render.cadence_label(_cadence_progress(cmd, ctx, item)))
        )
    if not logs:
        return Reply(
            title=f"{item.name} ({item.key})",
            fields=tuple(fields),
            footer=f"Nothing logged yet: /log {item.key} +1",
        )
    first = 0 if limit is None else max(len(logs) - limit, 0)
    rows = tuple(
        (str(e.number), when(e.at, tz), _signed(e.amount), e.by or "—", e.note[:60])
        for e in reversed(logs[first:])
    )
    footer, buttons = paged_footer(len(logs), len(logs) - first, f"/initiative {item.key}")
    return Reply(
        title=f"{item.name} ({item.key}): {render.plural(len(logs), 'entry', 'entries')}",
        fields=tuple(fields),
        table=Table(
            columns=("#", "when", "amount", "by", "note"),
            rows=rows,
            align=("r", "l", "r", "l", "l"),
        ),
        footer=footer or f"Remove a wrong entry: /initiative unlog {item.key} <#>",
        buttons=buttons,
    )


def _signed(amount: float) -> str:
    return f"+{render.num(amount)}" if amount > 0 else render.num(amount)


@command(
    "initiative unlog",
    usage="/initiative unlog <key> <#>",
    example="/initiative unlog articles 3",
    mutates=True,
)
async def initiative_unlog(cmd: Command, ctx: Context) -> Reply:
    """Remove a wrongly logged progress entry (its # from /initiative <key>), with Undo."""
    need(cmd.args, 2)
    no_more_than(cmd.args, 2)
    item = initiative_or_fail(cmd, ctx, cmd.args[0])
    logs = ctx.store.initiatives.logs(cmd.chat.key, item.key)
    raw = cmd.args[1].lstrip("#")
    entry = next((e for e in logs if raw.isdigit() and e.number == int(raw)), None)
    if entry is None:
        numbers = [e.number or 0 for e in logs]
        shown = f"{min(numbers)} to {max(numbers)}" if logs else "none yet"
        raise UsageError(
            f"No entry #{raw[:20]} in {item.key} (entries: {shown}). See /initiative {item.key}"
        )
    _removal_not_below_zero(cmd, ctx, item, logs, entry)
    ctx.store.initiatives.unlog(cmd.chat.key, item.key, entry.at)
    by = f" by {entry.by}" if entry.by else ""
    note = f" ({entry.note[:60]})" if entry.note else ""
    return Reply(
        text=f"Removed entry #{raw} of {item.name}: {_signed(entry.amount)}{by} on "
        f"{when(entry.at, tz=chat_zone(cmd, ctx))}{note}.",
        buttons=undo_button(ctx),
    )


@command(
    "initiative add",
    usage=ADD_USAGE,
    example='/initiative add articles "Publish articles" objective=content owner=@anna '
    "cadence=4/month",
    mutates=True,
)
async def initiative_add(cmd: Command, ctx: Context) -> Reply:
    """Add an initiative, optionally with a cadence target like 4/month."""
    positional, options = split_options(cmd.args, FIELDS)
    need(positional, 2)
    key = normalize_key(positional[0], "initiative key")
    if ctx.store.initiatives.get(cmd.chat.key, key) is not None:
        raise Conflict(f"Initiative '{key}' already exists: /initiative edit {key} field=value")
    fields = _fields(cmd, ctx, options)
    fields["name"] = name_of_words(positional[1:])
    initiative = Initiative.model_validate({"key": key, **fields})
    ctx.store.initiatives.put(cmd.chat.key, initiative)
    hint = f" Log progress: /log {key} +1 or #{key} +1 in chat."
    return Reply(text=f"Saved initiative {initiative.name} ({key}){_due_read(fields)}.{hint}")


@command(
    "initiative edit",
    usage="/initiative edit <key> field=value…",
    example="/initiative edit articles due=2026-12-31 done=no",
    mutates=True,
)
async def initiative_edit(cmd: Command, ctx: Context) -> Reply:
    """Change an initiative's name, objective, owner, due date, cadence or done flag."""
    raw, options = edit_request(cmd, FIELDS)
    item = initiative_or_fail(cmd, ctx, raw)
    fields = _fields(cmd, ctx, options)
    updated = Initiative.model_validate({**item.model_dump(), **fields})
    ctx.store.initiatives.put(cmd.chat.key, updated)
    return Reply(text=f"Updated initiative {updated.name} ({updated.key}){_due_read(fields)}.")


def _due_read(fields: dict[str, object]) -> str:
    """`, due 2026-12-04`: the day a typed `due=` was read as (`friday`: which one)."""
    due = fields.get("due")
    return f", due {due.isoformat()}" if isinstance(due, date) else ""


@command(
    "initiative remove",
    usage="/initiative remove <key>",
    example="/initiative remove articles",
    mutates=True,
    role="admin",
)
async def initiative_remove(cmd: Command, ctx: Context) -> Reply:
    """Remove an initiative and its logged progress."""
    need(cmd.args, 1)
    item = initiative_or_fail(cmd, ctx, cmd.args[0])
    ctx.store.initiatives.remove(cmd.chat.key, item.key)
    return Reply(text=f"Removed initiative {item.name} ({item.key}).")


@command(
    "log",
    usage="/log <initiative> [+N|xN] [YYYY-MM-DD] [note…]",
    example="/log articles +1 published the BSC guide",
    mutates=True,
)
async def log_progress(cmd: Command, ctx: Context) -> Reply | None:
    """Log progress on an initiative (default +1); `#articles +1 note` in chat does the same.

    The amount may be written `+3`, `x3` or `×3` (`-1` corrects). Each later tag naming an
    initiative logs too: `#articles +1 #calls +3` logs both (at most 20 tags a message).
    """
    need(cmd.args, 1)
    tagged = None
    if cmd.via == "hashtag":
        tagged = ctx.store.initiatives.get(cmd.chat.key, cmd.args[0].casefold())
        if tagged is None:
            return None  # a hashtag that names no initiative is just chat
    tags = _tagged(cmd, ctx, tagged)
    if len(tags) > MAX_TAGS:  # a pasted block: thousands of entries, replies and no undo
        raise UsageError(
            f"That message names initiatives {render.num(len(tags))} times; one message "
            f"logs at most {MAX_TAGS} tags. Nothing was logged."
        )
    # every amount is read before anything is logged: one bad tag logs nothing
    read = [_entry(cmd, ctx, item, words) for item, words in tags]
    entries = [(item, entry) for item, entry, _, _ in read]
    _not_below_zero(cmd, ctx, entries)
    lines = []
    for item, entry, reading, day in read:
        ctx.store.initiatives.log(cmd.chat.key, entry)
        status = ""
        if item.cadence is not None:
            status = f" {render.cadence_label(_cadence_progress(cmd, ctx, item))}."
        when = "" if day is None else f" for {day.isoformat()}{_then(cmd, ctx, item, day)}"
        lines.append(f"Logged {render.num(entry.amount)} on {item.name}{when}.{status}")
        lines.extend([reading] if reading else [])
    # addressed here, as the router would: a hashtag's reply is not copied to add it
    return Reply.of("\n".join(lines), cmd.chat)


def _tagged(
    cmd: Command, ctx: Context, first: Initiative | None = None
) -> list[tuple[Initiative, list[str]]]:
    """The message cut at each later `#tag` that names an initiative: (initiative, its words).

    `first`: the initiative the first word was already found to name (a hashtag's), used
    when the key it normalizes to is that one's (not looked up a second time)."""
    raw = cmd.args[0]
    if first is not None and normalize_key(raw, "initiative key") == first.key:
        item = first
    else:
        item = initiative_or_fail(cmd, ctx, raw)
    parts: list[tuple[Initiative, list[str]]] = []
    words: list[str] = []
    for word in cmd.args[1:]:
        tagged = hashtag_of(word)
        named = tagged and ctx.store.initiatives.get(cmd.chat.key, tagged[0].casefold())
        if not tagged or named is None:
            words.append(word)
            continue
        parts.append((item, words))
        item, words = named, [tagged[1]] if tagged[1] else []
    parts.append((item, words))
    return parts


def _entry(
    cmd: Command, ctx: Context, item: Initiative, words: list[str]
) -> tuple[Initiative, ProgressLog, str, date | None]:
    """One tag's log entry: `+2` (or `-1`, `x2`) first is its amount, then a date as `/kpi set`
    reads one (`2026-11-30`, `30.11`, `yesterday`), the rest its note; how an amount typed
    `+1.500` was read (parsing.dot_reading, against the recent amounts); and the day it
    counts for when not today (logged at this time of that day)."""
    amount, rest, reading = 1.0, list(words), ""
    # `+2` (or `-1`) anywhere first is an amount; a bare number only when nothing or a date
    # follows, so "#articles 10 KPI mistakes" logs one article with that note
    now = chat_now(cmd, ctx)
    today = now.date()
    signed = bool(rest) and rest[0][:1] in f"+-{MINUSES}" and len(rest[0]) > 1
    # `x2` (`×2`): that many, as `+2` (it logged 1 with the note "x2")
    times = not signed and bool(rest) and rest[0][:1] in "xX×" and rest[0][1:].isdecimal()
    signed = signed or times
    bare = not signed and bool(rest) and re.fullmatch(r"\d+(?:[.,]\d+)?", rest[0]) is not None
    day, nxt = None, 0
    if bare and len(rest) > 1 and not no_date_at(rest, 0):  # `3 nov posts`: a date
        day, nxt = take_stated_date(rest, 0, today)
    if rest and day is None and (signed or (bare and (len(rest) == 1 or starts_date(rest, 1)))):
        raw = rest.pop(0)
        amount = _amount(raw[1:] if times else raw)
        if amount == 0:
            raise UsageError("Logging +0 changes nothing.")
        reading = dot_reading(raw, amount, lambda: _recent_amounts(ctx, cmd.chat.key, item))
    if day is None and rest and not no_date_at(rest, 0):  # a note is read once (cached)
        day, nxt = take_stated_date(rest, 0, today)
    if day is not None:
        not_ahead(day, today)
        rest = rest[nxt:]
        now = datetime.combine(day, now.time()).replace(tzinfo=now.tzinfo)  # that day's now
        now = now.astimezone(UTC).astimezone(now.tzinfo)  # a time a DST jump skips: after it
    entry = ProgressLog.of(
        initiative=item.key,
        amount=amount,
        at=now,
        by=who(cmd),
        by_id=author_id(cmd),
        note=note_of(rest),
    )
    return item, entry, reading, None if day == today else day


def _amount(raw: str) -> float:
    """`+2`, read as a number; `+1,` `+2!` `+1🎉` without the punctuation or emoji a chat
    sentence leaves on it (read only after the whole word is refused: the `+1,5` of a
    decimal comma stays 1.5, and a word that is no number is still refused as typed)."""
    try:
        return parse_number(raw, "amount")
    except UsageError:
        end = len(raw)
        while end and raw[end - 1] != "%" and unicodedata.category(raw[end - 1])[0] in "PSMC":
            end -= 1  # punctuation, symbols (emoji), their joiners and variation selectors
        if end == len(raw) or not raw[end - 1 : end].isdigit():
            raise
        return parse_number(raw[:end], "amount")


def _recent_amounts(ctx: Context, chat: str, item: Initiative) -> list[float]:
    """The amounts of the initiative's last few entries (read only for a `+1.500`)."""
    return [e.amount for e in ctx.store.initiatives.logs(chat, item.key)[-RECENT_AMOUNTS:]]


def _not_below_zero(
    cmd: Command, ctx: Context, entries: list[tuple[Initiative, ProgressLog]]
) -> None:
    """Refuse a correction (`-5`) that would take a count of work done below zero: this
    period's total for a cadence, the whole log's otherwise, with what the message logs
    before it. Only a negative amount reads a total, so a hashtag's `+1` costs nothing."""
    logged: dict[str, float] = {}
    for item, entry in entries:
        before = logged.get(item.key, 0.0)
        logged[item.key] = before + entry.amount
        if entry.amount >= 0:
            continue
        if item.cadence is not None:
            total, span = _cadence_progress(cmd, ctx, item).done, f" this {item.cadence.period}"
        else:
            since = datetime.combine(FIRST_DAY, time(), UTC)
            total, span = ctx.store.initiatives.progress_total(cmd.chat.key, item.key, since), ""
        total = round(total + before, DONE_DIGITS)
        if round(total + entry.amount, DONE_DIGITS) < 0:
            earlier = (
                f"; to take back an entry of an earlier {item.cadence.period}: "
                f"/initiative unlog {item.key} <#>"
                if item.cadence is not None
                else ""
            )
            raise UsageError(
                f"{render.num(entry.amount)} would take {item.name} below zero: "
                f"{render.num(total)} logged{span}. Nothing was logged{earlier}."
            )


def _removal_not_below_zero(
    cmd: Command, ctx: Context, item: Initiative, logs: list[ProgressLog], entry: ProgressLog
) -> None:
    """Refuse removing an entry that a later correction (`-2`) took back: without it the count
    of work done would be below zero, which `/log` refuses too (`_not_below_zero`). Counted
    over the entry's own period for a cadence, the whole log otherwise."""
    if entry.amount <= 0:
        return
    below = below_zero_without(cmd, ctx, item, logs, entry)
    if below is not None:
        total, left, span = below
        raise UsageError(
            f"Removing #{entry.number} ({_signed(entry.amount)}) would take {item.name} below "
            f"zero: {render.num(total)} logged{span}, {render.num(left)} without it. Nothing "
            f"was removed; remove the correction first (/initiative {item.key})."
        )


def _then(cmd: Command, ctx: Context, item: Initiative, day: date) -> str:
    """`: 4 of 4 that month`: the progress of the cadence period an earlier day's entry
    counts for, when it is not this one (whose progress the reply says anyway)."""
    if item.cadence is None:
        return ""
    period = item.cadence.period
    if period_containing(period, day).contains(chat_today(cmd, ctx)):
        return ""
    then = _cadence_progress(cmd, ctx, item, day)
    return f": {render.num(then.done)} of {then.target} that {period}"


def _cadence_progress(
    cmd: Command, ctx: Context, item: Initiative, day: date | None = None
) -> CadenceProgress:
    """The progress on a cadence target of this period, or of `day`'s (an earlier day's
    entry, `_then`), summed from the blocks that can hold the period's entries: a log of
    years is not read (and validated, sorted) per hashtag."""
    assert item.cadence is not None
    today, tz = chat_today(cmd, ctx), chat_zone(cmd, ctx)
    period = period_containing(item.cadence.period, day or today)
    since = local_midnight(period.start, tz)
    until = local_midnight(period.end + timedelta(days=1), tz)
    total = ctx.store.initiatives.progress_total(cmd.chat.key, item.key, since, until)
    return period_progress(item, period, total, today)


def register(router: Router) -> None:
    """Register /initiatives, /initiative and /log."""
    router.include(
        initiatives_list,
        initiative_show,
        initiative_unlog,
        initiative_add,
        initiative_edit,
        initiative_remove,
        log_progress,
    )
