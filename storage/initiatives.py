"""Initiatives (the action plan) and the progress logged against them."""

from __future__ import annotations

from datetime import datetime

from scoring.models import Initiative, ProgressLog
from storage.base import AppendLog, KeyedTable, Tables, to_doc

_DEFS = "ini:"
LOG_BLOCK = 64  # progress logs per stored block: a hashtag rewrites at most this many


class InitiativeRepo:
    """Initiatives of a chat; logs kept in small blocks per initiative."""

    def __init__(self, db: Tables) -> None:
        self._db = db

    def _defs(self, chat: str) -> KeyedTable:
        return KeyedTable(self._db, f"{_DEFS}{chat}")

    def _log(self, chat: str, key: str) -> AppendLog:
        return AppendLog(self._db, "ilog", f"{chat}:{key}", block=LOG_BLOCK, stamp="at")

    def chats(self) -> list[str]:
        """Chats that have initiatives."""
        return [name[len(_DEFS) :] for name in sorted(self._db.table_names(_DEFS))]

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
        self._log(chat, key).drop()
        self._defs(chat).remove(key)

    def log(self, chat: str, entry: ProgressLog) -> None:
        """Record progress (`/log articles +1 …` or a hashtag message)."""
        self._log(chat, entry.initiative).append([to_doc(entry)])

    def logs(self, chat: str, key: str, since: datetime | None = None) -> list[ProgressLog]:
        """Logged progress oldest first, optionally only from `since` on."""
        items = self._log(chat, key).entries(ProgressLog, since)
        if since is not None:
            items = [i for i in items if i.at >= since]
        return sorted(items, key=lambda i: i.at)

    def cadence_initiatives(self, chat: str) -> list[Initiative]:
        """Open initiatives that have a cadence target (for the sweep)."""
        return [i for i in self.all(chat) if i.cadence is not None and not i.done]

    def progress_total(self, chat: str, key: str, since: datetime) -> float:
        """An initiative's logged amount from `since` on."""
        entries = self._log(chat, key).entries(ProgressLog, since)
        return sum(i.amount for i in entries if i.at >= since)
