"""Reading a scorecard file (JSON, CSV or value rows) into records; problems name their line."""

from __future__ import annotations

import csv
import io
import json
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import BaseModel

from handlers.exchange_export import FORMAT, SECTIONS, SINGLE_SECTIONS, VERSION, csv_columns
from handlers.parsing import NOT_UTF8, SHEET_COLUMNS, sheet_delimiter, sheet_text


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
    text = sheet_text(data)
    if text is None:
        return ReadFile(problems=[Problem(None, "", f"the file {NOT_UTF8}")])
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
        items = [value] if name in SINGLE_SECTIONS else value
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
        return None if line is None else line + (0 if name in SINGLE_SECTIONS else index + 1)


def _read_csv(text: str) -> ReadFile:
    """An export's sections or a values sheet, in columns marked as `/kpi import` reads them."""
    delimiter = sheet_delimiter(text.split("\n", 1)[0]) or ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().casefold() for h in (reader.fieldnames or [])]
    found = ReadFile()
    if "section" not in header:
        return _read_value_rows(text, delimiter)
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


def _read_value_rows(text: str, delimiter: str) -> ReadFile:
    """A plain values sheet: header `kpi,value,date[,note]` (any order), one value per row."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    found = ReadFile()
    header = next(reader, None)
    if header is None:
        return ReadFile(problems=[Problem(None, "", "the file is empty")])
    names = [SHEET_COLUMNS.get(h.strip().casefold(), h.strip().casefold()) for h in header]
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


def park(found: ReadFile) -> list[list[Any]]:
    """A read file's records as JSON-safe rows (parked until the Apply button)."""
    return [[r.section, r.data, r.line, r.typed] for r in found.records]


def unpark(rows: Iterable[list[Any]]) -> ReadFile:
    """The records `park` stored; they are checked again when applied."""
    return ReadFile(
        records=[Record(str(s), dict(d), line, bool(typed)) for s, d, line, typed in rows]
    )
