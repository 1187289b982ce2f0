"""`scorecard-bot doctor`: check a data directory and report what it holds.

Runs SQLite's `integrity_check`, every table's checksum, the store's own checks (every
body is a JSON object of documents, the schema is one this version understands, no
acknowledged commit is missing, every stored sweep summary equals one built from its
source tables, every alert book parses and files each state under its own KPI, no red
alert state is outside the books) and reports tables, documents and bytes per kind of
table. Opening takes the directory lock, so stop the bot first.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from storage import alert_state, sweep_summary
from storage.engine import Database
from storage.errors import StoreError
from storage.initiatives import InitiativeRepo
from storage.kpis import KpiRepo
from storage.legacy import legacy_present, read_legacy
from storage.migrations import SCHEMA_VERSION
from storage.sqlite import DB_FILE, SqliteBackend

__all__ = ["Report", "examine"]

#: Tables `_check_books` reads: the alert books, the state buckets, the red state rows and
#: the books' changes.
_ALERT_KINDS = (alert_state.BOOK, alert_state.BUCKET, alert_state.RED, alert_state.CHANGE)


@dataclasses.dataclass
class Report:
    """What `doctor` found: lines to print and whether everything is fine."""

    lines: list[str] = dataclasses.field(default_factory=list)
    problems: list[str] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def text(self) -> str:
        """The report as printed."""
        verdict = [f"PROBLEM: {p}" for p in self.problems] or ["ok: no problems found"]
        return "\n".join([*self.lines, *verdict])


def _size(n: int) -> str:
    return f"{n / 1_048_576:.1f} MB" if n >= 1_048_576 else f"{n / 1024:.1f} KB"


def examine(root: Path) -> Report:
    """Check the store in `root` (read-only apart from taking its lock)."""
    report = Report()
    if not (root / DB_FILE).exists():
        if legacy_present(root):
            return _examine_legacy(root, report)
        report.problems.append(f"{root} holds no scorecard-bot store")
        return report
    backend = SqliteBackend(root)
    try:
        backend.lock()
    except StoreError as exc:
        report.problems.append(str(exc))
        return report
    try:
        _examine(backend, report)
    except StoreError as exc:  # a file too damaged to list: named, never a traceback
        report.problems.append(str(exc))
    finally:
        backend.close()
    return report


def _examine(backend: SqliteBackend, report: Report) -> None:
    sizes = backend.file_sizes()
    report.lines.append(", ".join(f"{name}: {_size(size)}" for name, size in sizes.items()))
    schema = backend.schema_version()
    known = "current" if schema == SCHEMA_VERSION else f"this version writes {SCHEMA_VERSION}"
    report.lines.append(f"schema {schema} ({known}), {backend.commits} commits")
    if schema is not None and schema > SCHEMA_VERSION:
        report.problems.append(f"schema {schema} is newer than this scorecard-bot understands")
    report.problems.extend(backend.integrity())
    kinds: dict[str, list[int]] = {}
    damaged = False
    alerts: list[tuple[str, dict[str, Any]]] = []  # books, buckets, rows: `_check_books`
    for name, body in backend.rows():
        try:
            docs = orjson.loads(body)
        except orjson.JSONDecodeError:
            report.problems.append(f"table {name!r} is not valid JSON")
            damaged = True
            continue
        if isinstance(docs, dict) and name.startswith(_ALERT_KINDS):
            alerts.append((name, docs))
        if not isinstance(docs, dict) or not all(isinstance(d, dict) for d in docs.values()):
            report.problems.append(f"table {name!r} does not hold documents")
            damaged = True
            continue
        totals = kinds.setdefault(name.partition(":")[0], [0, 0, 0])
        totals[0] += 1
        totals[1] += len(docs)
        totals[2] += len(body)
    report.lines.append("integrity: SQLite integrity_check and every table's checksum")
    report.lines.append(f"{'kind':<10} {'tables':>8} {'documents':>10} {'bytes':>10}")
    for kind, (tables, documents, size) in sorted(kinds.items()):
        report.lines.append(f"{kind:<10} {tables:>8} {documents:>10} {_size(size):>10}")
    if schema == SCHEMA_VERSION:  # an older store has none yet: the bot migrates it
        _check_books(alerts, report)
    if damaged:  # the summaries are checked against tables that must parse
        report.lines.append("sweep summaries: not checked (damaged tables, named below)")
    else:
        _check_summaries(backend, report)  # last: it closes the backend


def _check_books(tables: list[tuple[str, dict[str, Any]]], report: Report) -> None:
    """Each chat's alert book (`storage.alert_state`): one document whose states, waiting
    alerts, log and sent marks parse, each state filed under its own KPI; its changes
    where it says rows may exist, numbered from 1, each applying, and the book with them
    applied as sound; each red state row where its book says rows may exist, for a KPI
    red in it (its changes applied), that KPI's red state; and no red state outside
    the books and rows (the sweep reads the red ones there alone). `tables` are the
    books, state buckets, rows and changes as `_examine` parsed them: read once, not
    loaded again."""
    books = 0
    stored: dict[str, object] = {}  # each chat's book
    rows: dict[str, dict[str, dict[str, Any]]] = {}  # each chat's rows by KPI
    changes: dict[str, dict[str, Any]] = {}  # each chat's changes by id
    for name, docs in tables:
        if name.startswith(alert_state.RED):
            chat, kpi = alert_state.row_of(name)
            rows.setdefault(chat, {})[kpi] = docs
            continue
        if name.startswith(alert_state.CHANGE):
            changes[name[len(alert_state.CHANGE) :]] = docs
            continue
        if name.startswith(alert_state.BOOK):
            books += 1
            chat = name[len(alert_state.BOOK) :]
            if len(docs) != 1:
                report.problems.append(
                    f"the alert book of chat {chat} holds {len(docs)} documents"
                )
                continue
            stored[chat] = book = next(iter(docs.values()))
            for problem in alert_state.check_book(book):
                report.problems.append(f"the alert book of chat {chat}: {problem}")
            continue
        for doc in docs.values():
            state = doc.get("state") if isinstance(doc, dict) else None
            if isinstance(state, dict) and state.get("status") == "red":
                report.problems.append(
                    f"the red alert state of {doc.get('key')!r} is in {name}, not in its "
                    "chat's alert book: the sweep would never remind it"
                )
    for chat, found in sorted(changes.items()):
        book, problems = alert_state.check_changes(stored.get(chat), found)
        if not problems and book is not stored.get(chat):
            problems = [f"with its changes: {p}" for p in alert_state.check_book(book)]
            stored[chat] = book  # the red state rows are over it
        for problem in problems:
            report.problems.append(f"the alert book of chat {chat}: {problem}")
    for chat, found in sorted(rows.items()):
        for problem in alert_state.check_rows(stored.get(chat), found):
            report.problems.append(f"the alert book of chat {chat}: {problem}")
    if books:
        report.lines.append(f"alert books: {books} checked")


def _check_summaries(backend: SqliteBackend, report: Report) -> None:
    """Each stored sweep summary against one built from its chat's tables now (reads only);
    none when an older version wrote the store since (see `SweepSummaryRepo`)."""
    names = backend.names(sweep_summary.KIND)
    if not names:
        return
    if not backend.summaries_current():  # the bot drops them all at its next start
        report.lines.append(
            f"sweep summaries: {len(names)} left by a version that does not keep them; "
            "the bot rebuilds them at its next start"
        )
        return
    db = Database(backend)
    try:
        kpis = KpiRepo(db)
        summaries = sweep_summary.SweepSummaryRepo(db, kpis, InitiativeRepo(db))
        now = datetime.now(UTC)
        for name in names:
            chat = name[len(sweep_summary.KIND) :]
            if not summaries.check(chat, now):
                report.problems.append(
                    f"the sweep summary of chat {chat} differs from its KPIs and initiatives"
                )
    finally:
        db.close()  # nothing was changed: only releases what it opened
    report.lines.append(f"sweep summaries: {len(names)} checked against their tables")


def _examine_legacy(root: Path, report: Report) -> Report:
    try:
        bodies, schema = read_legacy(root)
    except StoreError as exc:
        report.problems.append(str(exc))
        return report
    documents = sum(len(orjson.loads(body)) for body in bodies.values())
    report.lines.append(
        f"journal store (schema {schema}): {len(bodies)} tables, {documents} documents; "
        "it moves to SQLite at the next start"
    )
    return report
