"""A whole scorecard as a file: export (JSON or CSV) and a checked, previewed, atomic import.

The JSON file is one object with a section per kind (perspectives, objectives, links, KPIs,
values, OKRs, key results, check-ins, initiatives, progress), one record per line so a
problem can be named by its line. The CSV file has the same records, one per row, with a
`section` column and one column per field, so it opens in a spreadsheet. Both are read
back by `read_file`; `plan_import` checks every record against the file and the chat
(nothing is written), `apply_import` then writes the good records in one atomic step,
values through the same path as `/kpi import`, so alerts see them the same way.
"""

from __future__ import annotations

import csv
import io
import json
import math
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from pydantic import BaseModel, ValidationError

from handlers.contract import Context, UsageError
from handlers.kpi_import import record_values
from handlers.parsing import MAX_VALUE, parse_date, parse_number
from handlers.render import num
from scoring.models import (
    MAX_PERSPECTIVES,
    CheckIn,
    Initiative,
    KeyResult,
    Kpi,
    Link,
    Measurement,
    Objective,
    Okr,
    Perspective,
    ProgressLog,
    Thresholds,
)
from storage import Store
from storage.chats import ChatSettings

FORMAT = "scorecard-bot"
VERSION = 1
MAX_PROBLEMS_SHOWN = 10

#: section name → model, in the order a file lists (and an import applies) them
SECTIONS: dict[str, type[BaseModel]] = {
    "settings": ChatSettings,
    "thresholds": Thresholds,
    "perspectives": Perspective,
    "objectives": Objective,
    "links": Link,
    "kpis": Kpi,
    "values": Measurement,
    "okrs": Okr,
    "key_results": KeyResult,
    "checkins": CheckIn,
    "initiatives": Initiative,
    "progress": ProgressLog,
}
_SINGLE = ("settings", "thresholds")  # one object, not a list


# --- export ----------------------------------------------------------------------------


def snapshot(store: Store, chat: str, now: datetime) -> dict[str, Any]:
    """Everything the chat's scorecard holds, as JSON-safe sections (soft-removed KPIs too)."""
    kpis = store.kpis.all(chat, include_removed=True)
    okrs = store.okrs.okrs(chat)
    krs = store.okrs.key_results(chat)
    initiatives = store.initiatives.all(chat)
    doc: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": now.isoformat(),
        "chat": chat,
        "settings": _dump(store.chats.settings(chat)),
        "thresholds": _dump(store.scorecards.thresholds(chat)),
        "perspectives": [_dump(p) for p in store.scorecards.perspectives(chat)],
        "objectives": [_dump(o) for o in store.scorecards.objectives(chat)],
        "links": [_dump(link) for link in store.scorecards.links(chat)],
        "kpis": [_dump(k) for k in kpis],
        "values": [_dump(m) for k in kpis for m in store.kpis.history(chat, k.key)],
        "okrs": [_dump(o) for o in okrs],
        "key_results": [_dump(kr) for kr in krs],
        "checkins": [_dump(c) for kr in krs for c in store.okrs.check_ins(chat, kr.key)],
        "initiatives": [_dump(i) for i in initiatives],
        "progress": [_dump(p) for i in initiatives for p in store.initiatives.logs(chat, i.key)],
    }
    return doc


def _dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")


def count_records(doc: Mapping[str, Any]) -> int:
    """How many records a snapshot holds (settings and thresholds count as one each)."""
    return sum(
        1 if name in _SINGLE else len(doc.get(name) or []) for name in SECTIONS if name in doc
    )


def to_json(doc: Mapping[str, Any]) -> bytes:
    """The JSON file: header fields, then each section with one record per line."""
    out = ["{"]
    head = [k for k in doc if k not in SECTIONS]
    parts: list[str] = [f"  {_j(k)}: {_j(doc[k])}" for k in head]
    for name in SECTIONS:
        if name not in doc:
            continue
        value = doc[name]
        if name in _SINGLE:
            parts.append(f"  {_j(name)}: {_j(value)}")
        elif not value:
            parts.append(f"  {_j(name)}: []")
        else:
            rows = ",\n".join(f"    {_j(item)}" for item in value)
            parts.append(f"  {_j(name)}: [\n{rows}\n  ]")
    out.append(",\n".join(parts))
    out.append("}\n")
    return "\n".join(out).encode()


def _j(value: Any) -> str:
    return orjson.dumps(value).decode()


def csv_columns() -> list[str]:
    """`section` then every field of every section, in a stable order."""
    columns: dict[str, None] = dict.fromkeys(("section", "key", "name", "kpi", "day", "value"))
    for model in SECTIONS.values():
        for name in model.model_fields:
            columns.setdefault(name, None)
    return list(columns)


def to_csv(doc: Mapping[str, Any]) -> bytes:
    """The CSV file: one row per record; nested values (a cadence) as JSON in their cell."""
    buffer = io.StringIO()
    columns = csv_columns()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for name in SECTIONS:
        if name not in doc:
            continue
        items = [doc[name]] if name in _SINGLE else doc[name]
        for item in items:
            writer.writerow({"section": name, **{k: _cell(v) for k, v in item.items()}})
    return buffer.getvalue().encode()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return _j(value)
    return str(value)


# --- reading a file --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a file: where (line, field) and what."""

    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else "file"
        return (
            f"{where}, {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


@dataclass(slots=True)
class Record:
    """One record of a file, with its section and the line it starts on."""

    section: str
    data: dict[str, Any]
    line: int | None
    typed: bool = False  # a hand-made values sheet: numbers and dates as people type them


@dataclass(slots=True)
class ReadFile:
    """What `read_file` found: the records, or the problem that stopped reading."""

    records: list[Record] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


class FileRefused(Exception):
    """The file can't be read at all (not JSON or CSV, wrong format)."""


def read_file(data: bytes, filename: str = "") -> ReadFile:
    """Records of an export file (JSON or CSV, told apart by name or first character)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return ReadFile(problems=[Problem(None, "", "the file is not UTF-8 text")])
    stripped = text.lstrip()
    if filename.lower().endswith(".json") or stripped.startswith("{"):
        return _read_json(text)
    return _read_csv(text)


def _read_json(text: str) -> ReadFile:
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError:
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            return ReadFile(problems=[Problem(exc.lineno, "", f"not valid JSON: {exc.msg}")])
        return ReadFile(problems=[Problem(None, "", "not valid JSON")])
    if not isinstance(doc, dict):
        return ReadFile(problems=[Problem(1, "", "expected a JSON object with sections")])
    if doc.get("format") != FORMAT:
        return ReadFile(
            problems=[Problem(None, "format", f"not a {FORMAT} export (format is missing)")]
        )
    if not isinstance(doc.get("version"), int) or doc["version"] > VERSION:
        return ReadFile(
            problems=[Problem(None, "version", f"version {doc.get('version')!r} is not supported")]
        )
    lines = _LineFinder(text)
    found = ReadFile()
    for name in SECTIONS:
        if name not in doc:
            continue
        value = doc[name]
        items = [value] if name in _SINGLE else value
        if not isinstance(items, list):
            found.problems.append(Problem(lines.key(name), name, "must be a list"))
            continue
        for index, item in enumerate(items):
            line = lines.item(name, index)
            if not isinstance(item, dict):
                found.problems.append(Problem(line, name, "each record must be an object"))
                continue
            found.records.append(Record(name, item, line))
    unknown = [k for k in doc if k not in SECTIONS and k not in _HEADER]
    found.problems.extend(Problem(lines.key(k), k, "unknown section") for k in unknown)
    return found


_HEADER = {"format", "version", "exported_at", "chat"}


class _LineFinder:
    """Line numbers of sections and records in a JSON text, found only when asked.

    Exports put one record per line, so the n-th record of a section is on the n-th
    line after its key; hand-edited files fall back to the section's line.
    """

    def __init__(self, text: str) -> None:
        self._text = text
        self._starts: list[int] | None = None
        self._keys: dict[str, int] = {}

    def _line_at(self, offset: int) -> int:
        if self._starts is None:
            self._starts = [0] + [i + 1 for i, ch in enumerate(self._text) if ch == "\n"]
        return bisect_right(self._starts, offset)

    def key(self, name: str) -> int | None:
        if name not in self._keys:
            offset = self._text.find(f'"{name}"')
            self._keys[name] = self._line_at(offset) if offset >= 0 else 0
        return self._keys[name] or None

    def item(self, name: str, index: int) -> int | None:
        line = self.key(name)
        return None if line is None else line + (0 if name in _SINGLE else index + 1)


def _read_csv(text: str) -> ReadFile:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().casefold() for h in (reader.fieldnames or [])]
    found = ReadFile()
    if "section" not in header:
        return _read_value_rows(text)
    reader.fieldnames = header
    known = set(csv_columns())
    unknown = [h for h in header if h and h not in known]
    found.problems.extend(Problem(1, h, "unknown column") for h in unknown)
    line = reader.line_num
    for row in reader:
        section = (row.get("section") or "").strip()
        if section not in SECTIONS:
            found.problems.append(Problem(line + 1, "section", f"unknown section {section!r}"))
        else:
            model = SECTIONS[section]
            data = {
                k: _uncell(model, k, v)
                for k, v in row.items()
                if k in model.model_fields and v not in ("", None)
            }
            found.records.append(Record(section, data, line + 1))
        line = reader.line_num
    return found


_VALUE_COLUMNS = {"kpi": "kpi", "key": "kpi", "value": "value", "date": "day", "day": "day"}


def _read_value_rows(text: str) -> ReadFile:
    """A plain values sheet: header `kpi,value,date[,note]` (any order), one value per row."""
    reader = csv.reader(io.StringIO(text))
    found = ReadFile()
    header = next(reader, None)
    if header is None:
        return ReadFile(problems=[Problem(None, "", "the file is empty")])
    names = [_VALUE_COLUMNS.get(h.strip().casefold(), h.strip().casefold()) for h in header]
    if not {"kpi", "value"} <= set(names):
        return ReadFile(
            problems=[
                Problem(1, "", "expected a scorecard export or a header kpi,value,date[,note]")
            ]
        )
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        data = {n: c.strip() for n, c in zip(names, row, strict=False) if c.strip()}
        found.records.append(Record("values", data, reader.line_num, typed=True))
    return found


def _uncell(model: type[BaseModel], name: str, raw: str) -> Any:
    """A CSV cell back to what the export wrote: text stays exactly as it was, a nested
    value (a cadence, staged targets) is the JSON the export put in the cell."""
    if model.model_fields[name].annotation not in (str, str | None) and raw[:1] in "[{":
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw


# --- checking against the chat ---------------------------------------------------------


@dataclass(slots=True)
class Plan:
    """A checked import: the good records as models, the problems, and the diff counts."""

    models: dict[str, list[BaseModel]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    new: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    same: dict[str, int] = field(default_factory=dict)

    @property
    def good(self) -> int:
        """How many records would be applied."""
        return sum(len(items) for items in self.models.values())

    def count(self, section: str, kind: str) -> None:
        """Tally one record as new, changed or the same as stored."""
        target = {"new": self.new, "changed": self.changed, "same": self.same}[kind]
        target[section] = target.get(section, 0) + 1


Progress = Callable[[int], None]


def plan_import(
    store: Store,
    chat: str,
    found: ReadFile,
    now: datetime,
    *,
    progress: Progress | None = None,
    by: str = "",
) -> Plan:
    """Check every record (types, finite numbers, references, dates) and diff with the chat.

    Nothing is written. A record that refers to a bad record is a problem too, so
    applying only the good records never leaves a value without its KPI.
    """
    plan = Plan(problems=list(found.problems))
    checker = _Checker(store, chat, now, plan, by)
    for n, record in enumerate(found.records, 1):
        checker.check(record)
        if progress is not None and n % 1000 == 0:
            progress(1000)
    if progress is not None:
        progress(len(found.records) % 1000)
    checker.finish()
    return plan


class _Checker:
    def __init__(self, store: Store, chat: str, now: datetime, plan: Plan, by: str) -> None:
        self.store = store
        self.chat = chat
        self.plan = plan
        self.by = by
        self.now = now
        settings = store.chats.settings(chat)
        self.zone = ZoneInfo(settings.timezone)
        self.today = now.astimezone(self.zone).date()
        s = store.scorecards
        self.perspectives = {p.key: p for p in s.perspectives(chat)}
        self.objectives = {o.key: o for o in s.objectives(chat)}
        self.links = {(link.cause, link.effect) for link in s.links(chat)}
        self.kpis = {k.key: k for k in store.kpis.all(chat, include_removed=True)}
        self.okrs = {o.key: o for o in store.okrs.okrs(chat)}
        self.krs = {k.key: k for k in store.okrs.key_results(chat)}
        self.initiatives = {i.key: i for i in store.initiatives.all(chat)}
        self.seen: dict[str, set[Any]] = {}
        self.history: dict[str, dict[date, Measurement]] = {}
        self.file_perspectives: list[str] = []

    def problem(self, record: Record, fld: str, message: str) -> None:
        self.plan.problems.append(Problem(record.line, fld, message))

    def check(self, record: Record) -> None:
        model_type = SECTIONS[record.section]
        try:
            model = model_type.model_validate(self._defaults(record))
        except _FieldError as exc:
            self.problem(record, exc.field, exc.message)
            return
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"]) or record.section
                self.problem(record, loc, _friendly(err["msg"]))
            return
        for name, value in model:
            if isinstance(value, float) and not math.isfinite(value):
                self.problem(record, name, "must be a finite number")
                return
            if isinstance(value, float) and abs(value) > MAX_VALUE:
                self.problem(record, name, "is out of range: numbers go from −1e15 to 1e15")
                return
        getattr(self, f"_{record.section}")(record, model)

    def _defaults(self, record: Record) -> dict[str, Any]:
        data = dict(record.data)
        for k in ("key", "kpi", "kr", "okr", "initiative", "objective", "perspective"):
            if isinstance(data.get(k), str):
                data[k] = data[k].strip().casefold()
        if record.section == "values" and record.typed:  # a sheet: these are the importer's
            data.setdefault("at", self.now.isoformat())
            data.setdefault("day", self.today.isoformat())
            data.setdefault("by", self.by)
        if record.section == "values":
            if isinstance(data.get("value"), str):
                data["value"] = _value(data["value"])
            # a hand-made sheet: dates as people type them (21.11.2026, yesterday)
            try:
                if record.typed and isinstance(data.get("day"), str):
                    data["day"] = parse_date(data["day"], self.today).isoformat()
            except UsageError as exc:
                raise _FieldError("day", str(exc)) from None
        if record.section == "perspectives":
            data.setdefault("order", len(self.file_perspectives))
        return data

    def _once(self, record: Record, what: Any) -> bool:
        seen = self.seen.setdefault(record.section, set())
        if what in seen:
            self.problem(record, "key", f"{what} appears twice in the file")
            return False
        seen.add(what)
        return True

    def _keep(self, section: str, model: BaseModel, stored: BaseModel | None) -> None:
        if stored == model:
            self.plan.count(section, "same")  # nothing to write
            return
        self.plan.models.setdefault(section, []).append(model)
        self.plan.count(section, "new" if stored is None else "changed")

    def _settings(self, record: Record, model: Any) -> None:
        try:
            ZoneInfo(model.timezone)
        except Exception:
            self.problem(record, "timezone", f"unknown timezone {model.timezone!r}")
            return
        self._keep("settings", model, self.store.chats.settings(self.chat))

    def _thresholds(self, record: Record, model: Any) -> None:
        if not 0 < model.yellow < model.green <= 1:
            self.problem(record, "green", "thresholds must satisfy 0 < yellow < green ≤ 1")
            return
        self._keep("thresholds", model, self.store.scorecards.thresholds(self.chat))

    def _perspectives(self, record: Record, model: Any) -> None:
        if not self._once(record, model.key):
            return
        stored = self.perspectives.get(model.key)
        self.file_perspectives.append(model.key)
        self.perspectives[model.key] = model
        self._keep("perspectives", model, stored)

    def _objectives(self, record: Record, model: Any) -> None:
        if not self._once(record, model.key):
            return
        if model.perspective not in self.perspectives:
            self.problem(record, "perspective", f"no perspective '{model.perspective}'")
            return
        stored = self.objectives.get(model.key)
        self.objectives[model.key] = model
        self._keep("objectives", model, stored)

    def _links(self, record: Record, model: Any) -> None:
        for end in ("cause", "effect"):
            if getattr(model, end) not in self.objectives:
                self.problem(record, end, f"no objective '{getattr(model, end)}'")
                return
        pair = (model.cause, model.effect)
        if not self._once(record, pair):
            return
        self._keep("links", model, model if pair in self.links else None)

    def _kpis(self, record: Record, model: Any) -> None:
        if not self._once(record, model.key):
            return
        if model.objective not in self.objectives:
            self.problem(record, "objective", f"no objective '{model.objective}'")
            return
        stored = self.kpis.get(model.key)
        self.kpis[model.key] = model
        self._keep("kpis", model, stored)

    def _values(self, record: Record, model: Any) -> None:
        kpi = self.kpis.get(model.kpi)
        if kpi is None:
            self.problem(record, "kpi", f"no KPI '{model.kpi}'")
            return
        if record.typed and kpi.formula:  # an export's computed values are recomputed anyway
            self.problem(record, "kpi", f"{kpi.key} is calculated from its formula")
            return
        if model.day > self.today:
            self.problem(record, "day", f"{model.day.isoformat()} is in the future")
            return
        if not self._once(record, (model.kpi, model.day)):
            return
        if model.kpi not in self.history:
            self.history[model.kpi] = {
                m.day: m for m in self.store.kpis.history(self.chat, model.kpi)
            }
        stored = self.history[model.kpi].get(model.day)
        same = stored is not None and (stored.value, stored.note) == (model.value, model.note)
        self._keep("values", model, stored if not same else model)

    def _okrs(self, record: Record, model: Any) -> None:
        if not self._once(record, model.key):
            return
        stored = self.okrs.get(model.key)
        self.okrs[model.key] = model
        self._keep("okrs", model, stored)

    def _key_results(self, record: Record, model: Any) -> None:
        if not self._once(record, model.key):
            return
        if model.okr not in self.okrs:
            self.problem(record, "okr", f"no OKR '{model.okr}'")
            return
        stored = self.krs.get(model.key)
        self.krs[model.key] = model
        self._keep("key_results", model, stored)

    def _checkins(self, record: Record, model: Any) -> None:
        if model.kr not in self.krs:
            self.problem(record, "kr", f"no key result '{model.kr}'")
            return
        if not self._once(record, (model.kr, model.at)):
            return
        stored = {c.at: c for c in self._stored_checkins(model.kr)}.get(model.at)
        self._keep("checkins", model, stored)

    def _stored_checkins(self, kr: str) -> list[CheckIn]:
        if kr not in {k.key for k in self.store.okrs.key_results(self.chat)}:
            return []
        result: list[CheckIn] = self.store.okrs.check_ins(self.chat, kr)
        return result

    def _initiatives(self, record: Record, model: Any) -> None:
        if not self._once(record, model.key):
            return
        if model.objective is not None and model.objective not in self.objectives:
            self.problem(record, "objective", f"no objective '{model.objective}'")
            return
        stored = self.initiatives.get(model.key)
        self.initiatives[model.key] = model
        self._keep("initiatives", model, stored)

    def _progress(self, record: Record, model: Any) -> None:
        if model.initiative not in self.initiatives:
            self.problem(record, "initiative", f"no initiative '{model.initiative}'")
            return
        if not self._once(record, (model.initiative, model.at)):
            return
        stored_logs = (
            self.store.initiatives.logs(self.chat, model.initiative)
            if self.store.initiatives.get(self.chat, model.initiative) is not None
            else []
        )
        stored = {p.at: p for p in stored_logs}.get(model.at)
        self._keep("progress", model, stored)

    def finish(self) -> None:
        if len(self.perspectives) > MAX_PERSPECTIVES:
            self.plan.problems.append(
                Problem(
                    None,
                    "perspectives",
                    f"the scorecard would have {len(self.perspectives)} perspectives "
                    f"(at most {MAX_PERSPECTIVES})",
                )
            )
            self.plan.models.pop("perspectives", None)


def _value(raw: str) -> float:
    """A value cell: what an export wrote (`6.1e-05`), else as people type it (`1 234,5`)."""
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        return parse_number(raw, "value")
    except UsageError as exc:
        raise _FieldError("value", str(exc)) from None


class _FieldError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _friendly(message: str) -> str:
    text = message.removeprefix("Value error, ")
    return text[:1].lower() + text[1:]


# --- applying --------------------------------------------------------------------------


def apply_import(ctx: Context, chat: str, plan: Plan) -> int:
    """Write a checked plan's records (inside the caller's atomic step); returns how many.

    Records equal to what is stored are skipped; values go through `record_values`, so
    alerts evaluate them as one batch like `/kpi import`.
    """
    store = ctx.store
    models = plan.models
    written = 0

    def changed(section: str) -> list[Any]:
        return list(models.get(section, []))

    for item in changed("settings"):
        store.chats.save(chat, item)
        written += 1
    for item in changed("thresholds"):
        store.scorecards.set_thresholds(chat, item)
        written += 1
    file_perspectives = changed("perspectives")
    if file_perspectives:
        keys = {p.key for p in file_perspectives}
        kept = [p for p in store.scorecards.perspectives(chat) if p.key not in keys]
        store.scorecards.save_perspectives(chat, [*file_perspectives, *kept])
        written += len(file_perspectives)
    for item in changed("objectives"):
        store.scorecards.put_objective(chat, item)
        written += 1
    existing_links = set(store.scorecards.links(chat))
    for item in changed("links"):
        if item not in existing_links:
            store.scorecards.add_link(chat, item)
        written += 1
    for item in changed("kpis"):
        store.kpis.put(chat, item)
        written += 1
    values = changed("values")
    if values:
        keys = {m.kpi for m in values}
        kpis = [k for k in store.kpis.all(chat) if k.key in keys]
        written += record_values(ctx, chat, kpis, values)
    for item in changed("okrs"):
        store.okrs.put_okr(chat, item)
        written += 1
    krs = changed("key_results")
    for item in krs:
        store.okrs.put_key_result(chat, item)
        written += 1
    checkins = changed("checkins")
    for item in sorted(checkins, key=lambda c: c.at):
        if item not in store.okrs.check_ins(chat, item.kr):
            store.okrs.check_in(chat, item)
        written += 1
    for item in krs:  # a check-in moves `current`; the file's value wins
        store.okrs.put_key_result(chat, item)
    for item in changed("initiatives"):
        store.initiatives.put(chat, item)
        written += 1
    for item in changed("progress"):
        if item not in store.initiatives.logs(chat, item.initiative):
            store.initiatives.log(chat, item)
        written += 1
    return written


# --- describing ------------------------------------------------------------------------

_LABELS = {
    "settings": "settings",
    "thresholds": "thresholds",
    "perspectives": "perspectives",
    "objectives": "objectives",
    "links": "links",
    "kpis": "KPIs",
    "values": "values",
    "okrs": "OKRs",
    "key_results": "key results",
    "checkins": "check-ins",
    "initiatives": "initiatives",
    "progress": "progress entries",
}


def diff_lines(plan: Plan) -> list[str]:
    """One line per section: how many records are new, changed or already the same."""
    lines = []
    for section in SECTIONS:
        new = plan.new.get(section, 0)
        changed = plan.changed.get(section, 0)
        same = plan.same.get(section, 0)
        if not new and not changed and not same:
            continue
        parts = [f"{num(new)} new" if new else "", f"{num(changed)} changed" if changed else ""]
        parts.append(f"{num(same)} unchanged" if same else "")
        lines.append(f"{_LABELS[section]}: " + ", ".join(p for p in parts if p))
    return lines


def problem_lines(problems: Iterable[Problem], limit: int = MAX_PROBLEMS_SHOWN) -> list[str]:
    """The first `limit` problems, one per line, and how many more there are."""
    items = list(problems)
    shown = [str(p) for p in items[:limit]]
    if len(items) > limit:
        shown.append(f"… and {len(items) - limit} more")
    return shown


def park(found: ReadFile) -> list[list[Any]]:
    """A read file's records as JSON-safe rows (parked until the Apply button)."""
    return [[r.section, r.data, r.line, r.typed] for r in found.records]


def unpark(rows: Iterable[list[Any]]) -> ReadFile:
    """The records `park` stored; they are checked again when applied."""
    return ReadFile(
        records=[Record(str(s), dict(d), line, bool(typed)) for s, d, line, typed in rows]
    )


def export_filename(chat: str, day: date, fmt: str) -> str:
    """`scorecard-telegram-123-2026-11-21.json`: safe on every platform and file system."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in chat)
    return f"scorecard-{safe}-{day.isoformat()}.{fmt}"
