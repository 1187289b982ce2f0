"""Initiatives (the action plan) and the progress logged against them."""

from __future__ import annotations

from datetime import datetime

from scoring.models import Initiative, ProgressLog
from storage.base import (
    AppendLog,
    KeyedTable,
    Tables,
    TimedLog,
    instant_text,
    register_keyed,
    to_doc,
)
from storage.changes import Changes, Doc

_DEFS = "ini:"
LOG_BLOCK = 64  # progress logs per stored block: a hashtag rewrites at most this many


class InitiativeRepo:
    """Initiatives of a chat; logs kept in small blocks per initiative.

    Audited kinds: `ini` (by key) and `log` (key `<initiative>@<at>`; an initiative's log
    entries never share an instant).
    """

    def __init__(self, db: Tables, changes: Changes | None = None) -> None:
        self._db = db
        self._changes = changes or Changes()
        register_keyed(db, self._changes, "ini", self._keeps_logs)
        self._changes.register("log", self._log_doc, self._restore_log)

    def _defs(self, chat: str) -> KeyedTable:
        return KeyedTable(self._db, f"{_DEFS}{chat}", self._changes)

    def _log(self, chat: str, key: str) -> AppendLog:
        return AppendLog(self._db, "ilog", f"{chat}:{key}", block=LOG_BLOCK, stamp="at")

    def _timed(self, chat: str, key: str) -> TimedLog:
        return TimedLog(self._log(chat, key), self._changes, chat, "log", key)

    def _keeps_logs(self, chat: str, key: str, doc: Doc | None) -> str | None:
        if doc is None and self._log(chat, key).count():
            return f"{key} has logged progress now; remove it with /initiative remove {key}"
        return None

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
        self._timed(chat, key).drop()
        self._defs(chat).remove(key)

    def log(self, chat: str, entry: ProgressLog) -> ProgressLog:
        """Record progress (`/log articles +1 …` or a hashtag message); returns it as stored."""
        return self._timed(chat, entry.initiative).append(entry)

    def unlog(self, chat: str, key: str, at: datetime) -> ProgressLog | None:
        """Delete the log entry made at `at`; returns it (None when there is none)."""
        found = self._timed(chat, key).remove(instant_text(at))
        return None if found is None else ProgressLog.model_validate(found)

    def _log_doc(self, chat: str, item: str) -> Doc | None:
        key, _, at = item.rpartition("@")
        return self._timed(chat, key).get(at)

    def _restore_log(self, chat: str, item: str, doc: Doc | None) -> None:
        key, _, at = item.rpartition("@")
        if doc is None:
            self._timed(chat, key).remove(at)
        else:
            self._timed(chat, key).put_back(doc)

    def log_many(self, chat: str, key: str, entries: list[ProgressLog]) -> None:
        """Record many progress entries of one initiative at once (imports)."""
        self._log(chat, key).append(to_doc(entry) for entry in entries)

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
