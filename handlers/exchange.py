"""A whole scorecard as a file: export (JSON or CSV) and a checked, previewed, atomic import.

The JSON file is one object with a section per kind (perspectives, objectives, links, KPIs,
values, OKRs, key results, check-ins, initiatives, progress, funnels, journeys, alert
settings), one record
per line so a problem can be named by its line. The CSV file has the same records, one per
row, with a `section` column and one column per field, so it opens in a spreadsheet. Both
are read back by `read_file`; `plan_import` checks every record against the file and the chat
(nothing is written), `apply_import` then writes the good records in one atomic step,
values through the same path as `/kpi import`, so alerts see them the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from datetime import datetime
from typing import Any

from handlers.contract import Context
from handlers.exchange_check import Checker, Plan
from handlers.exchange_export import (
    SECTIONS,
    count_records,
    export_filename,
    sections_of,
    snapshot,
    to_csv,
    to_json,
)
from handlers.exchange_read import FileRefused, Problem, ReadFile, park, read_file, unpark
from handlers.kpi_import import record_values
from handlers.render import num
from storage import Store

MAX_PROBLEMS_SHOWN = 10

#: the whole file feature from one place: export, reading, checking, applying, describing
__all__ = [
    "SECTIONS",
    "FileRefused",
    "Plan",
    "Problem",
    "ReadFile",
    "apply_import",
    "count_records",
    "diff_lines",
    "export_filename",
    "park",
    "plan_import",
    "problem_lines",
    "read_file",
    "sections_of",
    "snapshot",
    "to_csv",
    "to_json",
    "unpark",
]


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
    checker = Checker(store, chat, now, plan, by)
    for n, record in enumerate(found.records, 1):
        checker.check(record)
        if progress is not None and n % 1000 == 0:
            progress(1000)
    if progress is not None:
        progress(len(found.records) % 1000)
    checker.finish()
    return plan


# --- applying --------------------------------------------------------------------------


def apply_import(ctx: Context, chat: str, plan: Plan) -> int:
    """Write a checked plan's records (inside the caller's atomic step); returns how many.

    Records equal to what is stored are skipped; values go through `record_values`, so
    alerts evaluate them as one batch like `/kpi import`.
    """
    store = ctx.store
    models = plan.models

    def changed(section: str) -> list[Any]:
        return list(models.get(section, []))

    written = _put_each(changed("settings"), lambda item: store.chats.save(chat, item))
    written += _put_each(
        changed("thresholds"), lambda item: store.scorecards.set_thresholds(chat, item)
    )
    # before the values: their alerts follow the file's rules, mutes, quiet hours, channels
    written += _put_each(changed("alerts"), lambda item: store.alerts.save_settings(chat, item))
    file_perspectives = changed("perspectives")
    if file_perspectives:
        keys = {p.key for p in file_perspectives}
        kept = [p for p in store.scorecards.perspectives(chat) if p.key not in keys]
        store.scorecards.save_perspectives(chat, [*file_perspectives, *kept])
        written += len(file_perspectives)
    written += _put_each(
        changed("objectives"), lambda item: store.scorecards.put_objective(chat, item)
    )
    written += _add_missing(
        changed("links"),
        lambda item: None,
        lambda _: store.scorecards.links(chat),
        lambda item: store.scorecards.add_link(chat, item),
    )
    written += _put_each(changed("kpis"), lambda item: store.kpis.put(chat, item))
    values = changed("values")
    if values:
        keys = {m.kpi for m in values}
        kpis = [k for k in store.kpis.all(chat) if k.key in keys]
        written += record_values(ctx, chat, kpis, values)
    written += _put_each(changed("okrs"), lambda item: store.okrs.put_okr(chat, item))
    krs = changed("key_results")
    written += _put_each(krs, lambda item: store.okrs.put_key_result(chat, item))
    written += _add_missing(
        sorted(changed("checkins"), key=lambda c: c.at),
        lambda item: item.kr,
        lambda kr: store.okrs.check_ins(chat, kr),
        lambda item: store.okrs.check_in(chat, item),
    )
    for item in krs:  # a check-in moves `current`; the file's value wins
        store.okrs.put_key_result(chat, item)
    written += _put_each(changed("initiatives"), lambda item: store.initiatives.put(chat, item))
    written += _add_missing(
        changed("progress"),
        lambda item: item.initiative,
        lambda initiative: store.initiatives.logs(chat, initiative),
        lambda item: store.initiatives.log(chat, item),
    )
    written += _put_each(changed("funnels"), lambda item: store.funnels.put(chat, item))
    written += _put_each(changed("journeys"), lambda item: store.funnels.put_journey(chat, item))
    return written


def _put_each(items: list[Any], put: Callable[[Any], object]) -> int:
    """Write every record of a section; returns how many."""
    for item in items:
        put(item)
    return len(items)


def _add_missing(
    items: list[Any],
    group: Callable[[Any], Hashable],
    stored: Callable[[Any], Iterable[Any]],
    add: Callable[[Any], object],
) -> int:
    """Add the records not stored yet (a log entry or link the chat already has is kept
    once); what is stored is read once per group, not once per record."""
    seen: dict[Hashable, list[Any]] = {}
    for item in items:
        key = group(item)
        if key not in seen:
            seen[key] = list(stored(key))
        if item not in seen[key]:
            add(item)
            seen[key].append(item)
    return len(items)


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
    "funnels": "funnels",
    "journeys": "journeys",
    "alerts": "alert settings",
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
