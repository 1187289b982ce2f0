"""The audit log: one entry per mutating command (who, when, command, each item old → new).

Entries are sharded per chat and month (`audit:<chat>:<YYYY-MM>`, months listed in
`auditm:<chat>`), so writing one rewrites only the current month of one chat. An entry id
is its month and number (`2611-14`), so finding it reads one shard.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import AwareDatetime, BaseModel, ConfigDict
from tinydb import Query

from storage.base import Tables, to_doc
from storage.changes import Change

_ID = Query().id


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


class AuditRepo:
    """Audit entries of each chat, newest month first when read."""

    def __init__(self, db: Tables) -> None:
        self._db = db

    def _months(self, chat: str) -> list[str]:
        return sorted(str(doc["month"]) for doc in self._db.docs(f"auditm:{chat}").values())

    def new_id(self, chat: str, at: AwareDatetime) -> str:
        """The next id in the chat: month and number (`2611-14`), naming its shard."""
        return f"{at:%y%m}-{len(self._db.docs(f'audit:{chat}:{at:%Y-%m}')) + 1}"

    def add(self, chat: str, entry: AuditEntry) -> None:
        """Append an entry to its month."""
        month = _month(entry.id)
        if month not in self._months(chat):
            self._db.table(f"auditm:{chat}").insert({"month": month})
        self._db.table(f"audit:{chat}:{month}").insert(to_doc(entry))

    def get(self, chat: str, entry_id: str) -> AuditEntry | None:
        """The entry with `entry_id`, or None."""
        month = _month(entry_id)
        if month is None:
            return None
        for doc in self._db.docs(f"audit:{chat}:{month}").values():
            if doc.get("id") == entry_id:
                return AuditEntry.model_validate(doc)
        return None

    def newest(self, chat: str) -> Iterator[AuditEntry]:
        """Entries newest first, reading one month at a time."""
        for month in reversed(self._months(chat)):
            yield from reversed(self._db.models(f"audit:{chat}:{month}", AuditEntry))

    def mark_undone(self, chat: str, entry_id: str) -> None:
        """Record that the entry was reverted (it can't be undone twice)."""
        table = self._db.table(f"audit:{chat}:{_month(entry_id)}")
        table.update({"undone": True}, entry_id == _ID)


def _month(entry_id: str) -> str | None:
    """`2611-14` → "2026-11"; None for anything else."""
    head, dash, number = entry_id.partition("-")
    if len(head) != 4 or not dash or not head.isdigit() or not number.isdigit():
        return None
    return f"20{head[:2]}-{head[2:]}"
