"""The scorecard file format and its export: sections, JSON (a record a line) and CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import orjson
from pydantic import BaseModel

from scoring.models import (
    CheckIn,
    Funnel,
    Initiative,
    Journey,
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
    "funnels": Funnel,
    "journeys": Journey,
}
SINGLE_SECTIONS = ("settings", "thresholds")  # one object, not a list


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
        "funnels": [_dump(f) for f in store.funnels.all(chat)],
        "journeys": [_dump(j) for j in store.funnels.journeys(chat)],
    }
    return doc


def _dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")


def count_records(doc: Mapping[str, Any]) -> int:
    """How many records a snapshot holds (settings and thresholds count as one each)."""
    return sum(
        1 if name in SINGLE_SECTIONS else len(doc.get(name) or [])
        for name in SECTIONS
        if name in doc
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
        if name in SINGLE_SECTIONS:
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
        items = [doc[name]] if name in SINGLE_SECTIONS else doc[name]
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


def export_filename(chat: str, day: date, fmt: str) -> str:
    """`scorecard-telegram-123-2026-11-21.json`: safe on every platform and file system."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in chat)
    return f"scorecard-{safe}-{day.isoformat()}.{fmt}"
