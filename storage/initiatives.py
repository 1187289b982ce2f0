"""Initiatives (the action plan) and the progress logged against them."""

from __future__ import annotations

from datetime import datetime

from scoring.models import Initiative, ProgressLog
from storage.base import KeyedTable, Tables, from_docs, to_doc


class InitiativeRepo:
    """Initiatives of a chat; logs sharded per initiative and year."""

    def __init__(self, db: Tables) -> None:
        self._db = db

    def _defs(self, chat: str) -> KeyedTable:
        return KeyedTable(self._db, f"ini:{chat}")

    def all(self, chat: str) -> list[Initiative]:
        """Every initiative."""
        return self._defs(chat).all(Initiative)

    def get(self, chat: str, key: str) -> Initiative | None:
        """One initiative."""
        return self._defs(chat).get(Initiative, key)

    def put(self, chat: str, initiative: Initiative) -> None:
        """Create or replace an initiative."""
        self._defs(chat).put(initiative)

    def remove(self, chat: str, key: str) -> None:
        """Delete an initiative and its logs."""
        for year in self._years(chat, key):
            self._db.drop_table(f"ilog:{chat}:{key}:{year}")
        self._db.drop_table(f"iyears:{chat}:{key}")
        self._defs(chat).remove(key)

    def _years(self, chat: str, key: str) -> list[int]:
        return sorted(int(doc["year"]) for doc in self._db.table(f"iyears:{chat}:{key}").all())

    def log(self, chat: str, entry: ProgressLog) -> None:
        """Record progress (`/log articles +1 …` or a hashtag message)."""
        year = entry.at.year
        if year not in self._years(chat, entry.initiative):
            self._db.table(f"iyears:{chat}:{entry.initiative}").insert({"year": year})
        self._db.table(f"ilog:{chat}:{entry.initiative}:{year}").insert(to_doc(entry))

    def logs(self, chat: str, key: str, since: datetime | None = None) -> list[ProgressLog]:
        """Logged progress oldest first, optionally only from `since` on."""
        years = self._years(chat, key)
        if since is not None:
            years = [y for y in years if y >= since.year - 1]
        items: list[ProgressLog] = []
        for year in years:
            items.extend(from_docs(ProgressLog, self._db.table(f"ilog:{chat}:{key}:{year}").all()))
        if since is not None:
            items = [i for i in items if i.at >= since]
        return sorted(items, key=lambda i: i.at)
