"""The audit log: one entry per mutating command (who, when, command, each item old → new).

Entries are sharded per chat and month, and within a month kept in blocks of
AUDIT_BLOCK (`AppendLog`, months listed in `auditm:<chat>`), so recording a change
rewrites one small block however long the history. An entry id is its month and number
(`2611-14`), so finding it reads one month. An entry is stored without the fields at their
defaults (`_DEFAULTS`: nothing skipped, no undo, not undone), which the model fills in
when read: the block holding it is rewritten at every later entry in it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from functools import partial
from typing import Any, NamedTuple

from pydantic import AwareDatetime, BaseModel, ConfigDict

from storage.base import AppendLog, Tables, instant_text, to_doc
from storage.changes import Change, Doc

#: Entries per stored block: recording a change rewrites at most this many. Eight `/kpi
#: set` entries (~470 bytes each) fit one 4 KB SQLite page; the 16 of before (7.4 KB)
#: spilled into an overflow page for half the block's life, which SQLite frees and takes
#: again at each rewrite: with page 1 and the freelist's page, three more WAL frames a set.
AUDIT_BLOCK = 8
#: Fields an entry is stored without when they hold these values (`AuditEntry`'s defaults):
#: 44 of the ~500 bytes of a `/kpi set`'s entry. Stores that keep them read the same.
_DEFAULTS: dict[str, Any] = {"skipped": 0, "undo_of": None, "undone": False}


class AuditEntry(BaseModel):
    """What one command changed; `undone` once someone reverted it."""

    model_config = ConfigDict(frozen=True)

    id: str
    at: AwareDatetime
    actor_id: str  # "telegram:12345": who may /undo it
    actor: str  # "@anna", as shown
    command: str
    changes: tuple[Change, ...] = ()
    skipped: int = 0  # items beyond what an entry keeps: such an entry can't be undone
    undo_of: str | None = None
    undone: bool = False

    def touches(self, key: str) -> bool:
        """Whether the entry changed the item `key` (a KPI's values count as the KPI)."""
        return any(c.key == key or c.key.startswith(key + "@") for c in self.changes)


class NextEntry(NamedTuple):
    """Where the next audit entry goes (`AuditRepo.next_entry`): its id; the month's newest
    block when the entry lands there (the month listed, the block with room; else None and
    `record` finds its place); the tables that say so, which must not be written between
    the two for `block` to hold (the router's audited step checks its atomic block).
    A named tuple: a frozen dataclass sets each field through `object.__setattr__`, at
    every mutating command."""

    id: str
    block: str | None
    watched: tuple[str, ...]


#: `NextEntry((id, block, watched))`, made in C.
_next_entry = partial(tuple.__new__, NextEntry)


class _Month(NamedTuple):
    """A chat's audit month as `AuditRepo` names it: the month (`2026-11`), its entry ids'
    prefix (`2611-`), the chat's table of months (`auditm:`) and the month's log."""

    month: str
    id_prefix: str
    months_table: str
    log: AppendLog


def _months_table(chat: str) -> str:
    """The name of the chat's table of months with entries: spelled here alone."""
    return f"auditm:{chat}"


#: (chat, month)s whose names `AuditRepo` keeps before it drops them all and starts again.
_NAMES_KEPT = 4096


class AuditRepo:
    """Audit entries of each chat, newest first when read."""

    def __init__(self, db: Tables) -> None:
        self._db = db
        #: Each (chat, month)'s names, as `_month` spells them (see `_Month`).
        self._named: dict[tuple[str, str], _Month] = {}
        #: The same by (chat, year * 100 + month): `next_entry`'s key, spelled without text.
        self._numbered: dict[tuple[str, int], _Month] = {}

    def _months(self, chat: str) -> tuple[str, ...]:
        """The chat's months with entries, oldest first (sorted once per version of the
        list: every mutating command asks for the newest, twice)."""
        return self._db.derived(_months_table(chat), _sorted_months)

    def _log(self, chat: str, month: str) -> AppendLog:
        return self._month(chat, month).log

    def _month(self, chat: str, month: str) -> _Month:
        """`month`'s names in `chat`, spelled once and kept (a few strings and a stateless
        `AppendLog` per chat and month; dropped all at once past `_NAMES_KEPT`)."""
        found = self._named.get((chat, month))
        if found is None:
            if len(self._named) >= _NAMES_KEPT:
                self._named.clear()
                self._numbered.clear()
            found = self._named[chat, month] = _Month(
                month,
                f"{month[2:4]}{month[5:]}-",
                _months_table(chat),
                AppendLog(self._db, "audit", f"{chat}:{month}", block=AUDIT_BLOCK, stamp="at"),
            )
        return found

    def new_id(self, chat: str, at: AwareDatetime) -> str:
        """The next id in the chat: month and number (`2611-14`), naming its shard.

        The month is `at`'s (the chat's calendar), but never one before the chat's newest
        shard: a zone moved back across a month's end must not file newer entries under an
        older month, which `newest` would then list after older ones.
        """
        return self.next_entry(chat, at).id

    def next_entry(self, chat: str, at: AwareDatetime) -> NextEntry:
        """`new_id`, with where that entry goes (see `NextEntry`). Every mutating command
        asks, so the month's names are looked up, not spelled (`_month`), and the tuple is
        made in C (a named tuple's own `__new__` is a Python function)."""
        key = (chat, at.year * 100 + at.month)
        named = self._numbered.get(key)
        if named is None:
            month = "%04d-%02d" % (at.year, at.month)  # noqa: UP031 - isoformat()[:7], cheaper
            named = self._numbered[key] = self._month(chat, month)
        months = self._db.derived(named.months_table, _sorted_months)
        if months and months[-1] > named.month:
            named = self._month(chat, months[-1])
        log = named.log
        count, newest = log.count_and_newest()
        entry_id = f"{named.id_prefix}{count + 1}"
        if newest is None or len(newest[1]) >= AUDIT_BLOCK or named.month not in months:
            return _next_entry((entry_id, None, ()))
        return _next_entry((entry_id, newest[0], (named.months_table, log.index_name, newest[0])))

    def add(self, chat: str, entry: AuditEntry) -> None:
        """Append an entry to its month (stored without the fields at their defaults)."""
        doc = to_doc(entry)
        for name, default in _DEFAULTS.items():
            if doc[name] == default:
                del doc[name]
        self._append(chat, entry.id, doc)

    def record(
        self,
        chat: str,
        *,
        entry_id: str,
        at: datetime,
        actor_id: str,
        actor: str,
        command: str,
        changes: list[Doc],
        skipped: int = 0,
        undo_of: str | None = None,
        block: str | None = None,
    ) -> None:
        """`add(chat, AuditEntry(...))` with `changes` given as `Change` documents: the
        stored document is built directly, as `to_doc` of the entry would make it (every
        mutating command writes one, and the model round trip was half its cost). Changes
        holding what JSON does not (a datetime, say) take the model's way.

        `block`: `next_entry(...).block` for this `entry_id`, none of its `watched` tables
        written since (the caller's word): the entry is appended to it as it is, its place
        not looked up again (the router's audited step, at every mutating command)."""
        if at.tzinfo is None:
            raise ValueError("an audit entry's time must be timezone-aware")
        doc: Doc = {
            "id": entry_id,
            "at": instant_text(at),
            "actor_id": actor_id,
            "actor": actor,
            "command": command,
            "changes": changes,
        }
        if skipped:  # as `add` stores it: without the fields at their `_DEFAULTS`
            doc["skipped"] = skipped
        if undo_of is not None:
            doc["undo_of"] = undo_of
        try:
            if block is not None:  # built here, never touched again: kept without a copy
                self._db.edit(block, added=(doc,), handed_over=True)
            else:
                self._append(chat, entry_id, doc)
        except TypeError:  # not plain JSON: the model says how it is stored
            self.add(chat, AuditEntry.model_validate({**doc, "at": at}))

    def _append(self, chat: str, entry_id: str, doc: Doc) -> None:
        month = _month(entry_id)
        if month is None:
            raise ValueError(f"not an audit id: {entry_id!r}")
        if month not in self._months(chat):
            self._db.table(_months_table(chat)).insert({"month": month})
        self._log(chat, month).append([doc])

    def get(self, chat: str, entry_id: str) -> AuditEntry | None:
        """The entry with `entry_id`, or None."""
        month = _month(entry_id)
        if month is None:
            return None
        found = self._log(chat, month).find({"id": entry_id})
        return None if found is None else AuditEntry.model_validate(found)

    def newest(self, chat: str) -> Iterator[AuditEntry]:
        """Entries newest first, reading one block at a time."""
        for month in reversed(self._months(chat)):
            yield from self._log(chat, month).newest_first(AuditEntry)

    def count(self, chat: str) -> int:
        """How many entries the chat has (read from the blocks' index, not the entries)."""
        return sum(self._log(chat, month).count() for month in self._months(chat))

    def mark_undone(self, chat: str, entry_id: str) -> None:
        """Record that the entry was reverted (it can't be undone twice)."""
        month = _month(entry_id)
        if month is not None:
            self._log(chat, month).update_where({"id": entry_id}, {"undone": True})


def _sorted_months(docs: Mapping[str, Mapping[str, Any]]) -> tuple[str, ...]:
    """An `auditm:` table's months, oldest first."""
    return tuple(sorted(str(doc["month"]) for doc in docs.values()))


def _month(entry_id: str) -> str | None:
    """`2611-14` → "2026-11"; None for anything else."""
    head, dash, number = entry_id.partition("-")
    if len(head) != 4 or not dash or not head.isdigit() or not number.isdigit():
        return None
    return f"20{head[:2]}-{head[2:]}"
