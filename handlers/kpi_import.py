"""`/kpi import`: many values at once (pasted from a spreadsheet or analytics export).

Every line is checked first; one bad line refuses the whole import with the line numbers.
A good import is shown as a preview and parked until someone presses Apply, then recorded
in one atomic step, and the alert rules see it as one import (one grouped message).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from handlers import alerting, calculated, render
from handlers.common import author_id, chat_now, chat_today, kpi_or_fail, need, who
from handlers.contract import Button, Command, CommandError, Context, Reply, UsageError, command
from handlers.parsing import clip, parse_number, take_date, take_number_tokens
from handlers.router import Router
from scoring.models import Kpi, Measurement

MAX_LINES = 5000
USAGE = "/kpi import (then one line per value: <key> <value> [YYYY-MM-DD])"
_HEADER = {"kpi", "key", "ключ"}


def _fields(line: str) -> list[str]:
    """`key value [date]` split by `;`/tab, by `,` when there are no spaces, else by spaces."""
    if ";" in line or "\t" in line:
        return [f.strip() for f in re.split(r"[;\t]", line) if f.strip()]
    if "," in line and " " not in line.strip():
        return [f.strip() for f in line.split(",") if f.strip()]
    return line.split()


def _parse_line(cmd: Command, ctx: Context, line: str, today: date) -> tuple[Kpi, float, date]:
    fields = _fields(line)
    if len(fields) < 2:
        raise UsageError("needs a key and a value")
    kpi = kpi_or_fail(cmd, ctx, fields[0])
    if kpi.formula:
        raise UsageError(f"{kpi.key} is calculated from its formula; import its inputs")
    raw, nxt = take_number_tokens(fields, 1)
    value = parse_number(raw, kpi.key)
    typed_day, nxt = take_date(fields, nxt, today)
    day = typed_day or today
    if nxt < len(fields):
        raise UsageError(f"unexpected '{clip(' '.join(fields[nxt:]))}'")
    if day > today:
        raise UsageError(f"{day.isoformat()} is in the future")
    return kpi, value, day


def _lines(cmd: Command) -> list[tuple[int, str]]:
    body = cmd.text.split(None, 1)[1] if len(cmd.text.split(None, 1)) > 1 else ""
    rows = [(n, line.strip()) for n, line in enumerate(body.splitlines(), 1) if line.strip()]
    if rows and _fields(rows[0][1])[0].casefold() in _HEADER:
        rows = rows[1:]
    return rows


@command("kpi import", usage=USAGE, example="/kpi import cac 95 2026-11-02", mutates=True)
async def kpi_import(cmd: Command, ctx: Context) -> Reply:
    """Import many values, one `<key> <value> [YYYY-MM-DD]` per line; preview, then Apply.

    Lines may also be `key;value;date`, tab-separated or `key,value,date` (a header line
    `kpi,value,date` is skipped). A value for a day that already has one replaces it.
    """
    rows = _lines(cmd)
    if not rows:
        raise UsageError(
            "Nothing to import: after /kpi import put one '<key> <value> [YYYY-MM-DD]' per line."
        )
    if len(rows) > MAX_LINES:
        raise UsageError(f"At most {MAX_LINES} lines per import (got {len(rows)}).")
    today = chat_today(cmd, ctx)
    parsed: dict[str, dict[str, float]] = defaultdict(dict)
    problems: list[str] = []
    for number, line in rows:
        try:
            kpi, value, day = _parse_line(cmd, ctx, line, today)
        except CommandError as exc:
            problems.append(f"line {number}: {exc}")
            continue
        parsed[kpi.key][day.isoformat()] = value
    if problems:
        more = f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""
        raise UsageError(
            f"{len(problems)} line(s) need fixing, nothing was imported: "
            + "; ".join(problems[:5])
            + more
        )
    pending = ctx.store.pending.put(cmd.chat.key, "kpi-import", dict(parsed), ctx.clock())
    total = sum(len(days) for days in parsed.values())
    summary = ", ".join(f"{key} ×{len(days)}" for key, days in parsed.items())
    return Reply(
        title=f"Import preview: {render.plural(total, 'value')} for "
        f"{render.plural(len(parsed), 'KPI')}",
        text=f"{summary}. Nothing is saved until you apply (valid for a day).",
        buttons=(
            Button(label="Apply import", command=f"/kpi import apply {pending}"),
            Button(label="Cancel", command=f"/kpi import cancel {pending}"),
        ),
    )


@command(
    "kpi import apply",
    usage="/kpi import apply <id>",
    example="/kpi import apply 3f9a1c2b",
    mutates=True,
)
async def kpi_import_apply(cmd: Command, ctx: Context) -> Reply:
    """Record a previewed import (the Apply button)."""
    need(cmd.args, 1)
    chat = cmd.chat.key
    payload = ctx.store.pending.take(chat, "kpi-import", cmd.args[0], ctx.clock())
    if payload is None:
        raise UsageError("This import was already applied, cancelled or has expired.")
    at, by, by_id = chat_now(cmd, ctx), who(cmd), author_id(cmd)
    kpis = [kpi_or_fail(cmd, ctx, key) for key in payload]
    values = [
        Measurement(
            kpi=key,
            value=float(v),
            day=date.fromisoformat(d),
            at=at,
            by=by,
            by_id=by_id,
            note="import",
        )
        for key, days in payload.items()
        for d, v in sorted(days.items())
    ]
    recorded = record_values(ctx, chat, kpis, values)
    names = ", ".join(k.name for k in kpis)
    return Reply(text=f"Imported {render.plural(recorded, 'value')}: {names}.")


def record_values(
    ctx: Context, chat: str, kpis: Sequence[Kpi], values: Sequence[Measurement]
) -> int:
    """The one path for many values at once (/kpi import, file import, ingest API, pulls).

    Stores each KPI's values in bulk (a day that has a value is replaced), then lets the
    alert rules see them as one batch, exactly as for values typed in chat. Must run
    inside the caller's atomic step. Returns how many values were given.
    """
    by_kpi: dict[str, list[Measurement]] = defaultdict(list)
    for m in values:
        by_kpi[m.kpi].append(m)
    for key, items in by_kpi.items():
        ctx.store.kpis.record_many(chat, key, items)
    # formulas reading these KPIs are recomputed for the periods touched, in the same step
    changes = {key: [m.day for m in items] for key, items in by_kpi.items()}
    recomputed = calculated.values_changed(ctx, chat, changes, ctx.clock())
    given = [k for k in kpis if k.key in by_kpi]
    alerting.on_values_recorded(ctx, chat, [*given, *recomputed])
    return len(values)


@command(
    "kpi import cancel",
    usage="/kpi import cancel <id>",
    example="/kpi import cancel 3f9a1c2b",
    mutates=True,
)
async def kpi_import_cancel(cmd: Command, ctx: Context) -> Reply:
    """Drop a previewed import (the Cancel button)."""
    need(cmd.args, 1)
    if ctx.store.pending.take(cmd.chat.key, "kpi-import", cmd.args[0], ctx.clock()) is None:
        return Reply(text="Nothing to cancel: that import is gone already.")
    return Reply(text="Import cancelled; nothing was saved.")


def register(router: Router) -> None:
    """Register /kpi import."""
    router.include(kpi_import, kpi_import_apply, kpi_import_cancel)
