"""`/source`: scheduled pulls of a CSV over HTTP(S) (a published Google Sheet, a BI export).

Each pull downloads the file (through the injected `ctx.fetch`), reads a date column and
one column per KPI, and records new or edited rows through the same path as `/kpi import`
(so alerts see them as one batch); a column named like a KPI's key is taken even when
map= names others, and the columns no KPI was taken from are named in the result; rows
it took before with the same value are skipped, so a pull is idempotent. Bad rows are
listed with their line; good rows are still taken.
A failure is told in the chat once — when it starts or changes — not on every run.
`/source run` only makes a source due: the download never happens inside a command's
atomic step, and the app's pull job runs at once and posts the result.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from handlers import alert_messages, render
from handlers.common import kpi_or_fail, need, who, zone_of
from handlers.contract import (
    Command,
    CommandError,
    Context,
    FetchError,
    NotFound,
    Reply,
    Table,
    UsageError,
    command,
)
from handlers.dates import not_ahead
from handlers.far_values import refuse_fraction
from handlers.kpi_import import dot_reading_lines, record_values
from handlers.parsing import (
    chat_numbers,
    dot_reading,
    normalize_key,
    parse_date,
    parse_value,
    sheet_text,
    split_options,
)
from handlers.router import Router
from scoring.models import Kpi, Measurement

EVERY = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}
DATE_COLUMNS = ("date", "day", "дата")
MAX_SOURCES = 20
MAX_PROBLEMS = 3
ADD_USAGE = "/source add <key> csv <url> every=hour|day|week [map=date:Date,<kpi>:<Column>,…]"


@dataclass
class Pull:
    """What one pull did."""

    taken: int = 0  # new or edited values recorded
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)  # columns no KPI was taken from
    problems: list[str] = field(default_factory=list)
    error: str = ""  # the whole pull failed (download, no date column…)
    #: `Line 3: read 14.000 as 14 …` for each value taken that was written with a lone dot
    readings: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        """What the chat is told about a failure (empty: all good)."""
        if self.error:
            return self.error
        if not self.problems:
            return ""
        more = len(self.problems) - MAX_PROBLEMS
        shown = "; ".join(self.problems[:MAX_PROBLEMS])
        return f"{len(self.problems)} bad row(s): {shown}" + (
            f" (+{more} more)" if more > 0 else ""
        )

    @property
    def signature(self) -> str:
        """What makes a failure "the same" as last time: the error, or the bad rows' places
        (a message may quote today's date, which must not make it new every day)."""
        if self.error or not self.problems:
            return self.error
        return "|".join(p.split(":", 1)[0] for p in self.problems)

    def summary(self, key: str) -> str:
        """One line for `/source run`."""
        if self.error:
            return f"Source {key} failed: {_sentence(self.error)}"
        text = (
            f"Pulled {key}: {render.plural(self.taken, 'new or changed value')}, "
            f"{self.unchanged} unchanged."
        )
        if self.skipped:
            text += f" Not a KPI column, skipped: {', '.join(self.skipped)}."
        return f"{text} {_sentence(self.status)}" if self.status else text

    def reading_text(self, key: str) -> str:
        """What a scheduled pull tells the chat of its lone-dot values ("" for none)."""
        return "\n".join([f"Source {key}:", *self.readings]) if self.readings else ""


def _sentence(text: str) -> str:
    """`text` ending in exactly one period (a quoted problem may end in its own)."""
    return text.rstrip(".") + "."


async def pull(ctx: Context, chat: str, source: dict[str, Any]) -> Pull:
    """Download and take one source now, in one step after the download; tell the chat
    the result when someone asked for this run, else only a new failure."""
    result = Pull()
    data = b""
    if ctx.fetch is None:
        result.error = "downloads are not available in this process"
    else:
        try:
            data = await ctx.fetch(str(source["url"]))
        except FetchError as exc:
            result.error = f"download failed: {exc}"
    with ctx.store.atomic():  # nothing awaits from here on
        if not result.error:
            with (
                ctx.store.audited(
                    chat,
                    actor_id=f"source:{source['key']}",
                    actor=f"source {source['key']}",
                    command=f"/source run {source['key']}",
                    at=ctx.clock(),
                ),
                chat_numbers(ctx.store.chats.dots_group(chat)),
            ):
                _take(ctx, chat, source, data, result)  # `1.200` read as the chat writes it
        _finish(ctx, chat, source, result)
    return result


def _take(ctx: Context, chat: str, source: dict[str, Any], data: bytes, result: Pull) -> None:
    text = sheet_text(data)
    if text is None:
        result.error = "the file is not UTF-8 text"
        return
    reader = csv.DictReader(io.StringIO(text))
    headers = {h.strip().casefold(): h for h in reader.fieldnames or [] if h}
    mapping: dict[str, str] = dict(source.get("map") or {})
    date_col = _column(headers, mapping.pop("date", None), DATE_COLUMNS)
    if date_col is None:
        result.error = "no date column (name it date, or map=date:<Column>)"
        return
    kpis: dict[str, tuple[Kpi, str]] = {}
    for kpi_key, column in mapping.items():
        kpi = ctx.store.kpis.get(chat, kpi_key)
        col = _column(headers, column, ())
        if kpi is not None and kpi.formula:
            result.error = f"{kpi.key} is calculated from its formula; map its inputs instead"
            return
        if kpi is None or kpi.removed_at is not None or col is None:
            result.error = f"no column '{column}' or no KPI '{kpi_key}'"
            return
        kpis[kpi.key] = (kpi, col)
    # map= adds to the columns named like a KPI's key, it does not replace them
    used = {date_col, *(col for _, col in kpis.values())}
    for name, header in headers.items():
        if header in used or name in DATE_COLUMNS:
            continue
        kpi = ctx.store.kpis.get(chat, name)
        if kpi is None or kpi.key in kpis or kpi.removed_at is not None or kpi.formula:
            result.skipped.append(header)
        else:
            kpis[kpi.key] = (kpi, header)
    if not kpis:
        result.error = "no column is named after a KPI (or map=<kpi>:<Column>)"
        return
    now = ctx.clock()
    today = now.astimezone(zone_of(ctx, chat)).date()
    taken = ctx.store.sources.taken(chat, source["key"])
    values: list[Measurement] = []
    taken_now: dict[str, dict[str, float]] = {}  # per KPI, day → value taken in this pull
    dotted: list[tuple[int, str, str, str]] = []  # (line, KPI, day, as written): `14.000`
    first_line: dict[str, int] = {}  # a second row for a KPI and day is a bad row
    recent: dict[str, list[float]] = {}  # of `%` KPIs, by key
    line = reader.line_num
    for row in reader:
        number, line = line + 1, reader.line_num
        try:
            day = not_ahead(parse_date((row.get(date_col) or "").strip(), today), today)
        except CommandError as exc:
            result.problems.append(f"line {number}, {date_col}: {exc}")
            continue
        for kpi, column in kpis.values():
            raw = (row.get(column) or "").strip()
            if not raw:
                continue
            try:
                value = parse_value(raw, kpi.key, kpi.name, kpi.unit)
                refuse_fraction(ctx.store, chat, kpi, value, raw, recent)  # no one to ask
            except CommandError as exc:
                result.problems.append(f"line {number}, {column}: {exc}")
                continue
            mark = f"{kpi.key}|{day.isoformat()}"
            if (earlier := first_line.setdefault(mark, number)) != number:
                result.problems.append(
                    f"line {number}, {column}: a second value for {kpi.key} on "
                    f"{day.isoformat()} (line {earlier} has one)"
                )
                continue
            if taken.get(mark) == value:
                result.unchanged += 1
                continue
            taken[mark] = value
            note = f"source {source['key']}"
            values.append(Measurement(kpi=kpi.key, value=value, day=day, at=now, by=note))
            taken_now.setdefault(kpi.key, {})[day.isoformat()] = value
            if dot_reading(raw, value):  # shaped like `14.000`: said as /kpi import says it
                dotted.append((number, kpi.key, day.isoformat(), raw))
    if values:
        result.readings = dot_reading_lines(ctx, chat, taken_now, dotted)  # before recording
        record_values(ctx, chat, [k for k, _ in kpis.values()], values)
        ctx.store.sources.set_taken(chat, source["key"], taken)
    result.taken = len(values)


def _column(headers: dict[str, str], wanted: str | None, defaults: tuple[str, ...]) -> str | None:
    names = [wanted] if wanted else list(defaults)
    return next((headers[n.casefold()] for n in names if n.casefold() in headers), None)


def _finish(ctx: Context, chat: str, source: dict[str, Any], result: Pull) -> None:
    now = ctx.clock()
    status = result.status
    asked = source.get("requested_by")
    if asked:
        ctx.outbox.put(
            Reply(
                kind="notice",
                to=alert_messages.chat_ref(chat),
                text="\n".join(
                    [f"{result.summary(str(source['key']))} (asked by {asked})", *result.readings]
                ),
            ),
            key=f"source-run:{source['key']}:{source.get('runs', 0)}",
        )
    updated = {
        **source,
        "last_run": now.isoformat(),
        "rows": result.taken,
        "last_error": status,
        "next_at": (now + EVERY[str(source["every"])]).isoformat(),
        "reported": result.signature,
        "requested_by": None,
        "runs": int(source.get("runs", 0)) + 1,
    }
    if not asked and status and result.signature != source.get("reported"):
        ctx.outbox.put(
            Reply(
                kind="notice",
                to=alert_messages.chat_ref(chat),
                text=f"Source {source['key']}: {_sentence(status)} I'll say so again only if "
                "it changes; /source shows the status.",
            ),
            key=f"source:{source['key']}:{source.get('runs', 0)}",
        )
    if not asked and result.readings:  # each value once: an unchanged row is not read again
        ctx.outbox.put(
            Reply(
                kind="notice",
                to=alert_messages.chat_ref(chat),
                text=result.reading_text(str(source["key"])),
            ),
            key=f"source-read:{source['key']}:{source.get('runs', 0)}",
        )
    ctx.store.sources.put(chat, updated, audited=False)


async def run_due(ctx: Context) -> int:
    """Pull every source whose time has come (the scheduler's job); returns how many."""
    now = ctx.clock()
    pulled = 0
    for chat in ctx.store.sources.chats():
        for source in ctx.store.sources.all(chat):
            if datetime.fromisoformat(str(source["next_at"])) <= now:
                await pull(ctx, chat, source)
                pulled += 1
    return pulled


# --- commands --------------------------------------------------------------------------


@command("source", usage="/source", example="/source")
async def source_list(cmd: Command, ctx: Context) -> Reply:
    """List scheduled pulls: how often, the last run, rows taken and the last error.

    Add one with /source add; /source run <key> pulls now; /source remove <key>.
    """
    sources = ctx.store.sources.all(cmd.chat.key)
    if not sources:
        return Reply(
            title="No sources yet",
            text=f"Pull a CSV on a schedule: {ADD_USAGE}",
        )
    rows = tuple(
        (
            str(s["key"]),
            str(s["every"]),
            str(s.get("last_run") or "never")[:16].replace("T", " "),
            str(s.get("rows", 0)),
            str(s.get("last_error") or "—")[:80],
        )
        for s in sources
    )
    return Reply(
        title="Sources",
        table=Table(
            columns=("source", "every", "last run (UTC)", "rows", "last error"),
            rows=rows,
            align=("l", "l", "l", "r", "l"),
        ),
    )


@command(
    "source add",
    usage=ADD_USAGE,
    example="/source add leads-sheet csv https://example.com/pub?output=csv "
    "every=day map=date:Date,leads:Leads",
    mutates=True,
    role="admin",
)
async def source_add(cmd: Command, ctx: Context) -> Reply:
    """Pull a CSV over HTTP(S) on a schedule and record its KPI columns.

    The file needs a date column and one column per KPI (named like the KPI's key, or
    given with map=<kpi>:<Column>). New and edited rows are recorded; a bad row is
    reported with its line, and a failure is told here once, not on every run.
    """
    need(cmd.args, 3)
    raw_key, kind, url = cmd.args[:3]
    _, options = split_options(cmd.args[3:], ("every", "map"))
    key = normalize_key(raw_key, "source key")
    chat = cmd.chat.key
    if ctx.store.sources.get(chat, key) is not None:
        raise UsageError(f"Source '{key}' exists already: /source remove {key} first.")
    if len(ctx.store.sources.all(chat)) >= MAX_SOURCES:
        raise UsageError(f"At most {MAX_SOURCES} sources per scorecard.")
    if kind.casefold() != "csv":
        raise UsageError("Only csv sources for now: /source add <key> csv <url> every=day")
    if not url.startswith(("https://", "http://")) or len(url) > 2000:
        raise UsageError("The URL must start with https:// (or http://).")
    every = options.get("every", "day").casefold()
    if every not in EVERY:
        raise UsageError("every= must be hour, day or week.")
    mapping = _mapping(cmd, ctx, options.get("map", ""))
    now = ctx.clock()
    ctx.store.sources.put(
        chat,
        {
            "key": key,
            "kind": "csv",
            "url": url,
            "every": every,
            "map": mapping,
            "added_by": who(cmd),
            "added_at": now.isoformat(),
            "next_at": now.isoformat(),
            "last_run": None,
            "rows": 0,
            "last_error": "",
            "reported": "",
        },
    )
    return Reply(
        text=f"Added source {key}: pulled every {every}, the first time within minutes. "
        f"/source run {key} pulls now."
    )


def _mapping(cmd: Command, ctx: Context, raw: str) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in raw.split(","))):
        name, colon, column = pair.partition(":")
        if not colon or not name.strip() or not column.strip():
            raise UsageError("map= takes pairs like date:Date,leads:Leads")
        target = name.strip().casefold()
        if target != "date":
            target = kpi_or_fail(cmd, ctx, target).key
        mapping[target] = column.strip()
    if mapping and set(mapping) == {"date"}:
        raise UsageError("map= names the date column and at least one KPI column.")
    return mapping


def _source_or_fail(cmd: Command, ctx: Context) -> dict[str, Any]:
    need(cmd.args, 1)
    key = normalize_key(cmd.args[0], "source key")
    source = ctx.store.sources.get(cmd.chat.key, key)
    if source is None:
        keys = [str(s["key"]) for s in ctx.store.sources.all(cmd.chat.key)]
        raise NotFound("source", key, keys)
    return source


@command(
    "source run",
    usage="/source run <key>",
    example="/source run leads-sheet",
    mutates=True,
)
async def source_run(cmd: Command, ctx: Context) -> Reply:
    """Pull a source now; the result follows in this chat (the schedule goes on from then)."""
    source = _source_or_fail(cmd, ctx)
    ctx.store.sources.request_run(cmd.chat.key, str(source["key"]), ctx.clock(), who(cmd))
    return Reply(text=f"Pulling {source['key']} now; the result follows here.")


@command(
    "source remove",
    usage="/source remove <key>",
    example="/source remove leads-sheet",
    mutates=True,
    role="admin",
)
async def source_remove(cmd: Command, ctx: Context) -> Reply:
    """Stop pulling a source (values it recorded stay)."""
    source = _source_or_fail(cmd, ctx)
    ctx.store.sources.remove(cmd.chat.key, str(source["key"]))
    return Reply(text=f"Removed source {source['key']}; the values it recorded stay.")


def register(router: Router) -> None:
    """Register /source."""
    router.include(source_list, source_add, source_run, source_remove)
