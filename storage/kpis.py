"""KPI definitions and their measurements.

Measurements live in one small table per chat, KPI and month (`m:<chat>:<kpi>:<YYYY-MM>`)
so recording a value rewrites a few kilobytes, never the whole history. A per-KPI index
document keeps the months that have data, the count and the two latest values, which is
all `/kpi` and `/scorecard` need.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from tinydb import Query

from scoring.models import Kpi, Measurement
from storage.base import KeyedTable, Tables, from_docs, to_doc

_DAY = Query().day


def _sort_key(m: Measurement) -> tuple[date, str]:
    return m.day, m.at.isoformat()


class KpiRepo:
    """KPIs of a chat and their history."""

    def __init__(self, db: Tables) -> None:
        self._db = db

    def _defs(self, chat: str) -> KeyedTable:
        return KeyedTable(self._db, f"kpi:{chat}")

    def all(self, chat: str, *, include_removed: bool = False) -> list[Kpi]:
        """Every KPI of the chat (soft-removed ones only when asked)."""
        kpis = self._defs(chat).all(Kpi)
        return kpis if include_removed else [k for k in kpis if k.removed_at is None]

    def get(self, chat: str, key: str) -> Kpi | None:
        """One KPI by key, removed or not."""
        return self._defs(chat).get(Kpi, key)

    def put(self, chat: str, kpi: Kpi) -> None:
        """Create or replace a KPI definition."""
        self._defs(chat).put(kpi)

    def purge(self, chat: str, key: str) -> int:
        """Delete a KPI and its whole history for good; returns how many values went."""
        index = self._index(chat, key)
        for month in index.get("months", []):
            self._db.drop_table(self._shard(chat, key, month))
        self._db.drop_table(self._index_name(chat, key))
        self._defs(chat).remove(key)
        return int(index.get("count", 0))

    # measurements ---------------------------------------------------------------------

    @staticmethod
    def _shard(chat: str, key: str, month: str) -> str:
        return f"m:{chat}:{key}:{month}"

    @staticmethod
    def _index_name(chat: str, key: str) -> str:
        return f"mix:{chat}:{key}"

    def _index(self, chat: str, key: str) -> dict[str, Any]:
        docs = self._db.table(self._index_name(chat, key)).all()
        return dict(docs[0]) if docs else {}

    def record(self, chat: str, m: Measurement) -> Measurement | None:
        """Store a value; a value for the same day replaces it. Returns the replaced one."""
        month = m.day.isoformat()[:7]
        shard = self._db.table(self._shard(chat, m.kpi, month))
        day = m.day.isoformat()
        old_doc = shard.get(day == _DAY)
        replaced = None
        if old_doc is None:
            shard.insert(to_doc(m))
        else:
            replaced = Measurement.model_validate(dict(old_doc))
            shard.remove(doc_ids=[old_doc.doc_id])
            shard.insert(to_doc(m))
        self._update_index(chat, m, month, added=replaced is None)
        return replaced

    def record_many(self, chat: str, key: str, values: list[Measurement]) -> int:
        """Import a KPI's history in bulk (one write per month shard); returns values added.

        Values for days that already have one replace it, as with `record`.
        """
        by_month: dict[str, dict[str, Measurement]] = {}
        for m in values:
            by_month.setdefault(m.day.isoformat()[:7], {})[m.day.isoformat()] = m
        added = 0
        for month, days in sorted(by_month.items()):
            shard = self._db.table(self._shard(chat, key, month))
            existing = {doc["day"]: doc.doc_id for doc in shard.all()}
            stale = [existing[d] for d in days if d in existing]
            if stale:
                shard.remove(doc_ids=stale)
            shard.insert_multiple(to_doc(m) for m in days.values())
            added += len(days) - len(stale)
        index = self._index(chat, key)
        unique = {m.day: m for m in values}  # a repeated day: the last value wins, as on disk
        newest = sorted(unique.values(), key=_sort_key)[-2:]
        latest = from_docs(Measurement, index.get("latest", []))
        merged = {m.day: m for m in [*latest, *newest]}
        doc = {
            "months": sorted({*index.get("months", []), *by_month}),
            "count": int(index.get("count", 0)) + added,
            "latest": [to_doc(x) for x in sorted(merged.values(), key=_sort_key)[-2:]],
        }
        table = self._db.table(self._index_name(chat, key))
        table.truncate()
        table.insert(doc)
        return added

    def _update_index(self, chat: str, m: Measurement, month: str, *, added: bool) -> None:
        index = self._index(chat, m.kpi)
        months = sorted({*index.get("months", []), month})
        latest = from_docs(Measurement, index.get("latest", []))
        latest = [x for x in latest if x.day != m.day] + [m]
        latest = sorted(latest, key=_sort_key)[-2:]
        doc = {
            "months": months,
            "count": int(index.get("count", 0)) + (1 if added else 0),
            "latest": [to_doc(x) for x in latest],
        }
        table = self._db.table(self._index_name(chat, m.kpi))
        table.truncate()
        table.insert(doc)

    def latest(self, chat: str, key: str) -> list[Measurement]:
        """Up to the two most recent values, oldest first (for value and trend)."""
        return from_docs(Measurement, self._index(chat, key).get("latest", []))

    def count(self, chat: str, key: str) -> int:
        """How many values the KPI has."""
        return int(self._index(chat, key).get("count", 0))

    def history(self, chat: str, key: str, limit: int | None = None) -> list[Measurement]:
        """Values oldest first; with `limit`, only the most recent ones (reads few shards)."""
        months = sorted(self._index(chat, key).get("months", []), reverse=True)
        found: list[Measurement] = []
        for month in months:
            found.extend(
                from_docs(Measurement, self._db.table(self._shard(chat, key, month)).all())
            )
            if limit is not None and len(found) >= limit:
                break
        found.sort(key=_sort_key)
        return found[-limit:] if limit is not None else found
