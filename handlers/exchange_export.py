"""The scorecard file format and its export: sections, JSON (a record a line) and CSV.

Versions: 1 had no `alerts` section (a chat's alert rules, quiet hours, mutes, alert
channels and digest schedule); 2 adds it. A version-1 file still imports and leaves the
chat's alert settings as they are.
"""

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
from storage.alert_state import AlertSettings
from storage.chats import ChatSettings

FORMAT = "scorecard-bot"
VERSION = 2


class AlertSetup(AlertSettings):
    """The `alerts` section: the chat's alert settings and the chat they were exported from,
    so an alert channel naming that chat names the importing chat once imported."""

    chat: str = ""


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
    "alerts": AlertSetup,  # last: a file's line numbers before it stay as in version 1
}
SINGLE_SECTIONS = ("settings", "thresholds", "alerts")  # one object, not a list


# --- export ----------------------------------------------------------------------------


def snapshot(store: Store, chat: str, now: datetime) -> dict[str, Any]:
    """Everything the chat has set up, as JSON-safe sections (soft-removed KPIs too).

    Left out: what the chat did rather than set (alert states and log, schedule runs, sent
    messages), a scheduled pull (its URL may carry a sheet's secret key) and the ingest
    API's token (a secret): README *Export and import files*.
    """
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
        "alerts": {**_dump(store.alerts.settings(chat)), "chat": chat},
    }
    return doc


def _dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")


def sections_of(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A file's sections, less the chat it came from (the `alerts` section names it): what
    two exports of the same set-up in two chats have in common."""
    found = {name: doc[name] for name in SECTIONS if name in doc}
    if isinstance(found.get("alerts"), dict):
        found["alerts"] = {k: v for k, v in found["alerts"].items() if k != "chat"}
    return found


def count_records(doc: Mapping[str, Any]) -> int:
    """How many records a snapshot holds (settings, thresholds and alerts count as one each)."""
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
