"""`/kpi import`: many values at once (pasted from a spreadsheet or analytics export).

Every line is checked first; one bad line refuses the whole import with the line numbers.
A good import is shown as a preview and parked until someone presses Apply, then recorded
in one atomic step, and the alert rules see it as one import (one grouped message).
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, NamedTuple

from handlers import alert_pipeline, calculated, render
from handlers.alert_rebuild import REBUILD_READINGS, replay_ahead
from handlers.common import author_id, chat_now, chat_today, kpi_or_fail, need, who
from handlers.contract import (
    PASTED,
    Button,
    Command,
    CommandError,
    Context,
    Reply,
    UsageError,
    command,
)
from handlers.dates import not_ahead
from handlers.far_values import compared, fraction_shaped, fraction_typed, span
from handlers.parsing import (
    NOT_UTF8,
    SHEET_COLUMNS,
    clip,
    dot_reading,
    parse_unit_value,
    sheet_delimiter,
    sheet_text,
    take_date,
    take_number_tokens,
    unit_left_out,
    words_after_value,
)
from handlers.router import Router, breathe
from scoring.models import Kpi, Measurement
from scoring.targets import kpi_on
from storage.base import to_doc
from storage.changes import Doc
from storage.kpis import PreparedValues

#: Rows one import may carry: a quarter of daily values for thousands of KPIs, or years
#: of history; a typed message stops far earlier, at the 20 000-character message limit.
MAX_LINES = 500_000
#: Values the preview lists per KPI before "… and N more".
SHOWN = 5
USAGE = "/kpi import (then one line per value: <key> <value> [YYYY-MM-DD])"
#: Where `Sheet` puts a header's kpi, value and date columns (`SHEET_COLUMNS` names them).
_PLACE = {"kpi": 0, "value": 1, "day": 2}
#: Lines read (or values built) per slice of a big import; other commands run in between.
CHUNK = 500
_FILE_NAME = re.compile(r"\S+\.(?:csv|tsv|txt)", re.IGNORECASE)


def _cells(line: str, delimiter: str | None) -> list[str]:
    """A line's cells, empty ones kept in their places; by spaces without a column mark.
    Quoted CSV fields keep their commas: `cac,"1,000",2026-11-01`."""
    if delimiter is None:
        return line.split()
    return next(csv.reader([line], delimiter=delimiter)) if '"' in line else line.split(delimiter)


def _fields(line: str, header: Sheet | None = None) -> list[str]:
    """`key value [date]` split by the sheet's column mark: its header line's if it has one
    (as `/scorecard import` reads a sheet), else the line's own (`sheet_delimiter`), else
    by spaces. A header naming its columns in another order (`date;kpi;value`) has them
    put back in this one.
    """
    delimiter = (header and header.delimiter) or sheet_delimiter(line)
    cells = _cells(line, delimiter)
    if delimiter is None:
        return cells
    if header is not None and header.order is not None:
        cells = header.ordered(cells)
    if len(cells) > 1 and not cells[1].strip() and cells[0].strip():
        raise UsageError("the value cell is empty (type the value, or leave the line out)")
    return [f.strip() for f in cells if f.strip()]


class Sheet(NamedTuple):
    """A header line: its column mark, and where its kpi, value and date columns are when
    it names them in another order than `kpi,value,date` (None: in that order; a sheet
    without a date column has two places)."""

    delimiter: str | None
    order: tuple[int, ...] | None

    @classmethod
    def of(cls, number: int, line: str) -> Sheet | None:
        """The header `line` is, or None for a line of values."""
        delimiter = sheet_delimiter(line)
        # every cell, an empty one too: a column's place is where its lines have it
        names = [cell.strip().casefold() for cell in _cells(line, delimiter)]
        roles = [SHEET_COLUMNS.get(name) for name in names]
        kpi = next((i for i, role in enumerate(roles) if role == "kpi"), None)
        if kpi is None or (kpi and not {"value", "day"} & set(roles)):  # `cac 5 key`: values
            return None
        notes = [name for name, role in zip(names, roles, strict=True) if role == "note"]
        if notes:
            raise _need_fixing(
                [
                    f"line {number}: /kpi import reads the columns kpi, value and date, not "
                    f"{notes[0]}: attach the sheet to /scorecard import, which keeps each "
                    "value's note, or leave the column out"
                ]
            )
        at = {_PLACE[role]: i for i, role in enumerate(roles) if role in ("value", "day")}
        order = (kpi, at.get(1, kpi + 1), at.get(2))
        if delimiter is None or (order[:2] == (0, 1) and order[2] in (None, 2)):
            return cls(delimiter, None)  # `kpi value date`, `kpi,value,date`: as typed
        return cls(delimiter, tuple(i for i in order if i is not None))

    def ordered(self, cells: list[str]) -> list[str]:
        """A line's cells as `kpi, value, date`, then any other cell (said as unexpected)."""
        picked = self.order
        assert picked is not None
        others = [cell for i, cell in enumerate(cells) if i not in picked]
        return [cells[i] if i < len(cells) else "" for i in picked] + others


class _Reader:
    """Reads lines against one chat's KPIs; lookups and dates are remembered (300 000 rows)."""

    def __init__(self, cmd: Command, ctx: Context, today: date, header: Sheet | None) -> None:
        self._cmd, self._ctx, self._today, self._header = cmd, ctx, today, header
        self._kpis: dict[str, Kpi] = {}
        self._days: dict[tuple[str, ...], tuple[date | None, int]] = {}
        #: the number typed on the line just read (`14.000` is said in the preview), and
        #: whether a `%` followed it as a word of its own (`0.031 %`: no fraction question)
        self.raw, self.apart = "", False

    def kpi(self, raw: str) -> Kpi:
        kpi = self._kpis.get(raw)
        if kpi is None:
            kpi = self._kpis[raw] = kpi_or_fail(self._cmd, self._ctx, raw)
        return kpi

    def line(self, line: str) -> tuple[Kpi, float, date]:
        fields = _fields(line, self._header)
        if len(fields) < 2:
            raise UsageError("needs a key and a value")
        kpi = _not_calculated(self.kpi(fields[0]))
        # the value and its unit are read as `/kpi set` reads them (`42 €`, `42€`, `€ 42`)
        words = unit_left_out(tuple(fields), kpi.unit)
        self.apart = len(words) != len(fields)
        raw, nxt = take_number_tokens(words, 1)
        value = parse_unit_value(raw, kpi.key, kpi.name, kpi.unit)
        words_after_value(raw, value, words[nxt:], kpi.key, kpi.name, kpi.unit)
        self.raw = raw
        rest = tuple(words[nxt:])
        found = self._days.get(rest)
        if found is None:
            found = self._days[rest] = take_date(rest, 0, self._today)
        typed_day, used = found
        day = typed_day or self._today
        if used < len(rest):
            raise UsageError(f"unexpected '{clip(' '.join(rest[used:]))}'")
        return kpi, value, not_ahead(day, self._today)


def _not_calculated(kpi: Kpi) -> Kpi:
    """A calculated KPI takes no imported values: its formula gives them (also at Apply,
    since the KPI may have been given a formula after the preview)."""
    if kpi.formula:
        raise UsageError(f"{kpi.key} is calculated from its formula; import its inputs.")
    return kpi


async def _lines(cmd: Command) -> tuple[list[tuple[int, str]], Sheet | None]:
    """The numbered non-empty lines, and their header line's columns (if any)."""
    if cmd.attachment is not None and cmd.attachment.filename == PASTED:
        # typed lines: a byte that is not UTF-8 is quoted in its line's refusal
        body = cmd.attachment.data.decode("utf-8", errors="replace")
    elif cmd.attachment is not None:  # an attached file
        text = sheet_text(cmd.attachment.data)
        if text is None:
            raise UsageError(f"{clip(cmd.attachment.filename)} {NOT_UTF8}.")
        body = text
    else:
        body = cmd.text.split(None, 1)[1] if len(cmd.text.split(None, 1)) > 1 else ""
    lines = body.removeprefix("\ufeff").splitlines()  # a pasted sheet's byte-order mark
    rows: list[tuple[int, str]] = []
    for start in range(0, len(lines), CHUNK):
        if start:
            await breathe()
        chunk = enumerate(lines[start : start + CHUNK], start + 1)
        rows.extend((n, line.strip()) for n, line in chunk if line.strip())
    header = Sheet.of(*rows[0]) if rows else None
    return (rows[1:], header) if header is not None else (rows, None)


def _need_fixing(problems: list[str]) -> UsageError:
    """The refusal of an import with these problems (`line 3: …`), the first five said."""
    more = f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""
    return UsageError(
        f"{len(problems)} line(s) need fixing, nothing was imported: "
        + "; ".join(problems[:5])
        + more
    )


def _no_file(cmd: Command, name: str) -> UsageError:
    """`/kpi import data.csv` with no file: the bot never opens a path on its own machine."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]  # the file's own name, not its path
    if cmd.chat.platform == "console":
        return UsageError(
            f"No file '{clip(name)}' here (a path is relative to where the bot runs)."
        )
    return UsageError(
        f"'{clip(name)}' looks like a file name; the bot never reads files on its server. "
        "Attach the CSV file to /kpi import instead, or paste its lines after /kpi import."
    )


@command("kpi import", usage=USAGE, example="/kpi import cac 95 2026-11-02", mutates=True)
async def kpi_import(cmd: Command, ctx: Context) -> Reply:
    """Import many values, one `<key> <value> [YYYY-MM-DD]` per line; preview, then Apply.

    Lines may also be `key;value;date`, tab-separated or `key,value,date` (a header line
    `kpi,value,date` names the columns, in any order; `"1,000"` in quotes is one number).
    A value for a day that already has one replaces it; the preview says which. Two lines
    for one KPI and day are refused. In the console, type
    `/kpi import` alone and paste lines until an empty line or `/end`, or name a file:
    `/kpi import values.csv`. Elsewhere attach the file.
    """
    rows, header = await _lines(cmd)
    if len(rows) == 1 and cmd.attachment is None and _FILE_NAME.fullmatch(rows[0][1]):
        raise _no_file(cmd, rows[0][1])
    if not rows:
        raise UsageError(
            "Nothing to import: after /kpi import put one '<key> <value> [YYYY-MM-DD]' per line."
        )
    if len(rows) > MAX_LINES:
        raise UsageError(
            f"At most {MAX_LINES:,} lines per import (got {len(rows):,}).".replace(",", " ")
        )
    reader = _Reader(cmd, ctx, chat_today(cmd, ctx), header)
    parsed: dict[str, dict[str, float]] = defaultdict(dict)
    first_line: dict[tuple[str, str], int] = {}  # a second value for a day is refused
    dotted: list[tuple[int, str, str, str]] = []  # `14.000` lines: number, key, day, raw
    shares: list[_Share] = []  # values between 0 and 1 on `%` KPIs (`0.031` for 3.1 %?)
    problems: list[str] = []
    for i, (number, line) in enumerate(rows):
        if i and i % CHUNK == 0:
            await breathe()  # other chats' commands answer while a big import is read
        try:
            kpi, value, day = reader.line(line)
            earlier = first_line.setdefault((kpi.key, day.isoformat()), number)
            if earlier != number:  # as the ingest API and file import do: nothing dropped
                raise UsageError(
                    f"a second value for {kpi.key} on {day.isoformat()} (line {earlier} has one)"
                )
        except CommandError as exc:
            problems.append(f"line {number}: {str(exc).rstrip('.')}")  # joined with "; "
            if len(problems) > 100:
                break
            continue
        parsed[kpi.key][day.isoformat()] = value
        if dot_reading(reader.raw, value):  # shaped like `14.000`
            dotted.append((number, kpi.key, day.isoformat(), reader.raw))
        if fraction_shaped(kpi.unit, value):
            shares.append(_Share(number, kpi, day.isoformat(), value, reader.raw, reader.apart))
    if problems:
        raise _need_fixing(problems)
    kpis = {k: reader.kpi(k) for k in parsed}
    lines, replaced = await _preview(ctx, cmd.chat.key, kpis, parsed)
    lines.extend(dot_reading_lines(ctx, cmd.chat.key, parsed, dotted))
    meant, asked = _fractions(ctx, cmd.chat.key, shares)
    lines.extend(asked)
    parked: dict[str, object] = {**parsed, X100: meant} if meant else dict(parsed)
    # the one write, in the last slice: the preview is parked whole or not at all
    parking = ctx.store.pending.prepare(cmd.chat.key, "kpi-import", parked, ctx.clock())
    await breathe()  # serialised in a slice of its own: the step below only installs it
    pending = ctx.store.pending.put_prepared(parking)
    total = sum(len(days) for days in parsed.values())
    replaces = f"Replaces {render.plural(replaced, 'existing value')}. " if replaced else ""
    apply = f"/kpi import apply {pending}"
    applies = (
        (
            Button(label="Apply ×100", command=f"{apply} x100"),
            Button(label="Apply as typed", command=apply),
        )
        if meant
        else (Button(label="Apply import", command=apply),)
    )
    return Reply(
        title=f"Import preview: {render.plural(total, 'value')} for "
        f"{render.plural(len(parsed), 'KPI')}",
        text="\n".join(lines),
        footer=f"{replaces}Nothing is saved until you apply (valid for a day).",
        buttons=(*applies, Button(label="Cancel", command=f"/kpi import cancel {pending}")),
    )


#: Where a parked import keeps the hundredfold of its rows that read like shares written as
#: fractions, by KPI and day (not a KPI key: `~` is in none); Apply ×100 records them.
X100 = "~x100"


class _Share(NamedTuple):
    """A row's value between 0 and 1 on a `%` KPI, as read and typed."""

    line: int
    kpi: Kpi
    day: str
    value: float
    raw: str
    apart: bool


def _fractions(
    ctx: Context, chat: str, shares: Sequence[_Share]
) -> tuple[dict[str, dict[str, float]], list[str]]:
    """The rows that read like shares written as fractions (`far_values.fraction_typed`,
    compared with the KPI's recent values, target and baseline, as `/kpi set` compares
    one), their hundredfold by KPI and day, and a preview line per KPI: an import can't ask
    per row, so it asks once, with *Apply ×100* beside *Apply as typed*."""
    by_kpi: dict[str, list[tuple[_Share, float]]] = defaultdict(list)
    references: dict[str, tuple[list[float], str]] = {}
    for share in shares:
        kpi = share.kpi
        if kpi.key not in references:
            references[kpi.key] = compared(kpi, ctx.store.kpis.recent_values(chat, kpi.key))
        reference = references[kpi.key][0]
        meant = fraction_typed(kpi.unit, share.value, share.raw, share.apart, reference)
        if meant is not None:
            by_kpi[kpi.key].append((share, meant))
    lines = []
    for key, found in by_kpi.items():
        first, meant = found[0]
        reference, about = references[key]
        shown = [render.num(m, "%") for _, m in found[:SHOWN]]
        more = f", … and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
        listed = ", ".join(shown[:-1]) + f" and {shown[-1]}" if len(shown) > 1 else shown[0]
        reads = (
            "read like shares written as fractions"
            if len(found) > 1
            else "reads like a share written as a fraction"
        )
        them = "them" if len(found) > 1 else "it"
        lines.append(
            f"{first.kpi.name} ({key}): {render.plural(len(found), 'value')} between 0 and 1 "
            f"{reads} (line {first.line}: {first.raw} for "
            f"{render.num(meant, '%')}?; {about}: {span(reference, '%')}). "
            f"Apply ×100 records {them} as {listed}{more}."
        )
    return {k: {s.day: m for s, m in found} for k, found in by_kpi.items()}, lines


def dot_reading_lines(
    ctx: Context,
    chat: str,
    parsed: Mapping[str, Mapping[str, float]],
    dotted: Sequence[tuple[int, str, str, str]],
) -> list[str]:
    """`Line 3: read 14.000 as 14 …` for each value typed with a lone dot before three
    digits, as `/kpi set` says it (parsing.dot_reading), unless the KPI's recent stored
    values and this import's other values for it (not typed so) say the reading fits.
    Scheduled pulls say the same lines for the values they take (handlers/sources.py)."""
    shaped = {(key, day) for _, key, day, _ in dotted}
    compared: dict[str, list[float]] = {}  # per KPI, worked out once
    said: list[str] = []
    for n, (number, key, day, raw) in enumerate(dotted):
        if len(said) == SHOWN:
            said.append(f"… and {len(dotted) - n} more lines with a lone dot.")
            break
        if key not in compared:
            stored = ctx.store.kpis.recent_values(chat, key)
            others = [v for d, v in parsed[key].items() if (key, d) not in shaped]
            compared[key] = [*stored, *others]
        reading = dot_reading(raw, parsed[key][day], compared[key])
        if reading:
            said.append(f"Line {number}: {reading[0].lower()}{reading[1:]}")
    return said


async def _preview(
    ctx: Context, chat: str, kpis: dict[str, Kpi], parsed: dict[str, dict[str, float]]
) -> tuple[list[str], int]:
    """One line per KPI: its values with dates, marking each that replaces a stored value."""
    lines, replaced = [], 0
    for key, days in parsed.items():
        await breathe()  # each KPI's history is read in a slice of its own
        kpi = kpis[key]
        stored = {m.day.isoformat(): m.value for m in ctx.store.kpis.history(chat, key)}
        ordered = sorted(days.items())
        shown: list[str] = []
        for day, value in ordered:
            old = stored.get(day)
            replaced += old is not None
            if len(shown) < SHOWN:
                was = "" if old is None else f", replaces {render.num(old, kpi.unit)}"
                shown.append(f"{render.num(value, kpi.unit)} ({day}{was})")
        more = (
            f" … and {len(ordered) - SHOWN:,} more up to {ordered[-1][0]}".replace(",", " ")
            if len(ordered) > SHOWN
            else ""
        )
        lines.append(f"{kpi.name} ({key}) ×{render.num(len(ordered))}: {', '.join(shown)}{more}")
    return lines, replaced


@command(
    "kpi import apply",
    usage="/kpi import apply <id> [x100]",
    example="/kpi import apply 3f9a1c2b",
    mutates=True,
)
async def kpi_import_apply(cmd: Command, ctx: Context) -> Reply:
    """Record a previewed import (the Apply button); `x100`: its rows that read like shares
    written as fractions recorded as the percent they meant (*Apply ×100*)."""
    need(cmd.args, 1)
    chat = cmd.chat.key
    parked = ctx.store.pending.peek(chat, "kpi-import", cmd.args[0], ctx.clock())
    if parked is None:
        raise _gone()
    payload = _applied(parked, [a.casefold() for a in cmd.args[1:]] == ["x100"])
    kpis = [kpi_or_fail(cmd, ctx, key) for key in payload]
    at, by, by_id = chat_now(cmd, ctx), who(cmd), author_id(cmd)
    # The values are built and laid out in their shards in chunks, other commands answering
    # in between; the last slice takes the preview (once: a second Apply meanwhile finds it
    # gone) and writes them, placing afresh only a shard someone changed meanwhile.
    prepared: list[PreparedValues] = []
    days: dict[str, list[date]] = {}
    for kpi, (key, values) in zip(kpis, payload.items(), strict=True):
        first = Measurement(
            kpi=key, value=0, day=date.min, at=at, by=by, by_id=by_id, note="import"
        )
        template = to_doc(first)
        docs: list[Doc] = []
        days[key] = []
        for day, value in sorted(values.items()):
            docs.append({**template, "day": day, "value": float(value)})
            days[key].append(date.fromisoformat(day))
            if len(docs) % CHUNK == 0:
                await breathe()
        prepared.append(ctx.store.kpis.prepare_values(chat, key, docs))
        await breathe()
        _replay_ahead(ctx, chat, kpi, prepared[-1])
        await breathe()
    # Looked up again: a KPI removed, deleted for good or given a formula since gets nothing.
    kpis = [_not_calculated(kpi_or_fail(cmd, ctx, key)) for key in payload]
    if ctx.store.pending.take(chat, "kpi-import", cmd.args[0], ctx.clock()) is None:
        raise _gone()
    recorded = record_prepared(ctx, chat, kpis, prepared, days)
    names = ", ".join(k.name for k in kpis)
    return Reply(text=f"Imported {render.plural(recorded, 'value')}: {names}.")


def _applied(parked: Mapping[str, Any], hundredfold: bool) -> dict[str, dict[str, float]]:
    """A parked import's values by KPI and day, its fractions' hundredfold in their place
    after *Apply ×100* (refused when the preview offered none)."""
    meant = parked.get(X100)
    values = {key: dict(days) for key, days in parked.items() if key != X100}
    if hundredfold and not meant:
        raise UsageError("That import offered no ×100 reading: press Apply import or Cancel.")
    for key, days in (meant or {}).items() if hundredfold else ():
        values[key].update(days)
    return values


def _replay_ahead(ctx: Context, chat: str, kpi: Kpi, values: PreparedValues) -> None:
    """A KPI getting its first values has its alert state rebuilt from them in the atomic
    step (60 readings replayed): replayed here, in a slice of its own, from the history
    the step will see; the step uses it only if every input is still the same."""
    if ctx.store.alerts.state(chat, kpi.key) is not None:
        return
    history = ctx.store.kpis.history_after(chat, values, REBUILD_READINGS)
    if len(history) > 1:
        settings = ctx.store.alerts.settings(chat)
        thresholds = ctx.store.scorecards.thresholds(chat)
        scored = kpi_on(kpi, history[-1].day)
        replay_ahead(scored, history, settings, thresholds, ctx.clock())


def _gone() -> UsageError:
    return UsageError("This import was already applied, cancelled or has expired.")


def record_values(
    ctx: Context, chat: str, kpis: Sequence[Kpi], values: Sequence[Measurement]
) -> int:
    """The one path for many values at once (/kpi import, file import, ingest API, pulls).

    Stores each KPI's values in bulk (a day that has a value is replaced), then lets the
    alert rules see them as one batch, exactly as for values typed in chat. Must run
    inside the caller's atomic step. Returns how many values were given.
    """
    docs: dict[str, list[Doc]] = defaultdict(list)
    days: dict[str, list[date]] = defaultdict(list)
    for m in values:
        docs[m.kpi].append(to_doc(m))
        days[m.kpi].append(m.day)
    prepared = [ctx.store.kpis.prepare_values(chat, key, items) for key, items in docs.items()]
    record_prepared(ctx, chat, kpis, prepared, days)
    return len(values)


def record_prepared(
    ctx: Context,
    chat: str,
    kpis: Sequence[Kpi],
    prepared: Sequence[PreparedValues],
    days: Mapping[str, Sequence[date]],
) -> int:
    """`record_values` of values already laid out (`KpiRepo.prepare_values`), with their
    days by KPI; returns how many values (days) were written."""
    for values in prepared:
        ctx.store.kpis.record_prepared(chat, values)
    # formulas reading these KPIs are recomputed for the periods touched, in the same step
    recomputed = calculated.values_changed(ctx, chat, days, ctx.clock())
    given = [k for k in kpis if k.key in days]
    alert_pipeline.on_values_recorded(ctx, chat, [*given, *recomputed])
    return sum(values.size for values in prepared)


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
