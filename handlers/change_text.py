"""An audited change in words: `/history` and `/undo` show what each item was and became.

Settings read as people type them (percents, 2h, schedules, quiet hours), lists by what
came or went, instants in the chat's zone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import TypeAdapter

from handlers import render
from handlers.alerts_command import duration_text
from handlers.digest import schedule_text
from scoring.alerts_quiet import QuietHours
from scoring.initiatives import format_cadence
from scoring.models import CLASSIC_PERSPECTIVES, Cadence, Thresholds
from scoring.schedule import Schedule
from storage import ChatSettings
from storage.alert_state import AlertSettings
from storage.changes import Change

_KEYED = {
    "kpi": "KPI",
    "obj": "objective",
    "okr": "OKR",
    "kr": "key result",
    "ini": "initiative",
    "funnel": "funnel",
    "journey": "journey",
    "source": "source",
}
_WHOLE = {
    "persp": "perspectives",
    "link": "objective links",
    "thresholds": "colour thresholds",
    "settings": "chat settings",
    "alset": "alert settings",
}


def when(at: datetime, tz: ZoneInfo) -> str:
    """An instant as the chat reads it: 2026-11-21 10:00."""
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def describe(changes: Sequence[Change], tz: ZoneInfo) -> list[str]:
    """One line per changed item: what it is, and its old → new."""
    return [_describe(c, tz) for c in changes]


def _describe(change: Change, tz: ZoneInfo) -> str:
    before, after = change.before, change.after
    if change.kind == "value":
        key, _, day = change.key.rpartition("@")
        return f"{key} {day}: {_reading(before, 'value')} → {_reading(after, 'value')}"
    if change.kind in ("checkin", "log"):
        key, _, at = change.key.rpartition("@")
        what = "check-in" if change.kind == "checkin" else "progress"
        field = "value" if change.kind == "checkin" else "amount"
        stamp = when(datetime.fromisoformat(at), tz)
        number = (before or after or {}).get("number")  # a log entry's # in /initiative
        if number is not None:
            stamp = f"#{number} {stamp}"
        return f"{key} {what} {stamp}: {_reading(before, field)} → {_reading(after, field)}"
    if change.kind == "token":  # that it came, changed or went; never more of it
        return "API token: " + (
            "issued" if before is None else "revoked" if after is None else "rotated"
        )
    label = _KEYED.get(change.kind) or _WHOLE.get(change.kind, change.kind)
    name = f"{label} {change.key}" if change.key else label
    if change.kind in _LISTS:
        return f"{name}: {_list_diff(change.kind, before, after, tz)}"
    if change.kind in _DEFAULTS:  # one settings document; none stored means defaults
        old = _single(before) if before else _DEFAULTS[change.kind]
        new = _single(after) if after else _DEFAULTS[change.kind]
        return f"{name}: {_fields_diff(old, new, tz)}"
    if before is None:
        return f"{name}: added"
    if after is None:
        return f"{name}: removed"
    return f"{name}: {_fields_diff(before, after, tz)}"


#: Whole tables that are ordered lists: shown by their items' keys.
_LISTS = {
    "persp": lambda d: str(d.get("key")),
    "link": lambda d: f"{d.get('cause')}→{d.get('effect')}",
}
_DEFAULTS: dict[str, dict[str, Any]] = {
    "settings": ChatSettings().model_dump(mode="json"),
    "thresholds": Thresholds().model_dump(mode="json"),
    "alset": AlertSettings().model_dump(mode="json"),
}


def _items(kind: str, doc: dict[str, Any] | None) -> list[dict[str, Any]]:
    if doc is None:  # none stored: a new chat's four classic perspectives
        return [p.model_dump(mode="json") for p in CLASSIC_PERSPECTIVES] if kind == "persp" else []
    return list(doc.get("items", []))


def _list_diff(
    kind: str, before: dict[str, Any] | None, after: dict[str, Any] | None, tz: ZoneInfo
) -> str:
    """`added service`, `removed writing→revenue`: what came and went (a long list's
    whole before → after would hide it); a new order is shown whole, and a list in the
    same order by what changed in its items (`finance name Finance → Money`)."""
    olds, news = _items(kind, before), _items(kind, after)
    old, new = [_LISTS[kind](i) for i in olds], [_LISTS[kind](i) for i in news]
    added = [item for item in new if item not in old]
    removed = [item for item in old if item not in new]
    parts = [f"added {_short(', '.join(added), 80)}"] if added else []
    parts += [f"removed {_short(', '.join(removed), 80)}"] if removed else []
    if parts:
        return ", ".join(parts)
    if old == new:  # a rename, a weight: the items' own fields
        changed = [
            f"{key} {_fields_diff(was, now, tz)}"
            for key, was, now in zip(new, olds, news, strict=True)
            if was != now
        ]
        return "; ".join(changed) or "unchanged"
    return f"{_short(', '.join(old), 80)} → {_short(', '.join(new), 80)}"  # reordered


def _single(doc: dict[str, Any]) -> dict[str, Any]:
    """A whole one-document table is compared by its document's fields."""
    items = doc.get("items")
    if isinstance(items, list) and len(items) == 1 and isinstance(items[0], dict):
        return dict(items[0])
    return doc


def _fields_diff(before: dict[str, Any], after: dict[str, Any], tz: ZoneInfo) -> str:
    """`target 80 → 75, no owner`: each changed field as people type it (`from=`, not
    `due_from`), its values as replies show them (percent, 2h, dates in the chat's zone)."""
    parts = []
    for field in dict.fromkeys([*before, *after]):
        old, new = before.get(field), after.get(field)
        if old == new:
            continue
        if field == "removed_at":
            parts.append("removed from the scorecard" if new else "restored")
        elif isinstance(old, dict) and isinstance(new, dict) and field not in _SHOWN:
            parts.append(_fields_diff(old, new, tz))  # a policy: its changed fields
        else:
            shown = _FIELD_NAMES.get(field, field)
            parts.append(f"{shown} {_value(field, old, tz)} → {_value(field, new, tz)}")
    return ", ".join(parts) if parts else "changed"


#: Stored field names that differ from the option people type.
_FIELD_NAMES = {
    "due_from": "from",
    "tolerance": "tol",
    "group_window": "group",
    "okr_cycle": "OKR cycle",
}
_DURATION = TypeAdapter(timedelta)
_ISO_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


def _staged(items: list[dict[str, Any]]) -> str:
    return ", ".join(f"{render.num(float(i['target']))} by {i['until']}" for i in items)


#: Fields whose stored form is not what people read, each with how replies show it.
_SHOWN: dict[str, Callable[[Any], str]] = {
    "hysteresis": lambda v: render.pct_exact(float(v)),
    "green": lambda v: render.pct_exact(float(v)),
    "yellow": lambda v: render.pct_exact(float(v)),
    "repeat": lambda v: duration_text(_DURATION.validate_python(v)),
    "group_window": lambda v: duration_text(_DURATION.validate_python(v)),
    "quiet": lambda v: str(QuietHours.model_validate(v)),
    "digest": lambda v: schedule_text(Schedule.model_validate(v)),
    "cadence": lambda v: format_cadence(Cadence.model_validate(v)),
    "staged": _staged,
}


def _value(field: str, value: object, tz: ZoneInfo) -> str:
    """One stored value as people read it; `—` when there is none."""
    if value is None or value == [] or value == "":
        return "—"
    shown = _SHOWN.get(field)
    if shown is not None:
        try:
            return _short(shown(value), 60)
        except (ValueError, TypeError, KeyError):  # stored by an older version: as it is
            pass
    if isinstance(value, str) and _ISO_INSTANT.match(value):
        return when(datetime.fromisoformat(value), tz)
    return _short(value)


def _reading(doc: dict[str, Any] | None, field: str) -> str:
    """`95 (@anna)`: a value with its author, or — when there was none."""
    if doc is None:
        return "—"
    value = doc.get(field)
    shown = render.num(float(value)) if isinstance(value, int | float) else _short(value)
    by = doc.get("by")
    return f"{shown} ({by})" if by else shown


def _short(value: object, width: int = 40) -> str:
    if value is None or value == [] or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return render.num(float(value))
    if isinstance(value, list):  # mutes, channels: what names them
        value = ", ".join(
            str(v.get("target") or v.get("kpi") or v.get("key") or v.get("chat_id") or v)
            if isinstance(v, dict)
            else str(v)
            for v in value
        )
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"
