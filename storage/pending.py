"""Changes waiting for a confirmation button (an import preview), kept for a day."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from storage.base import Tables

KEEP = timedelta(days=1)


class PendingRepo:
    """Per-chat parked payloads, each taken at most once by its id."""

    def __init__(self, db: Tables) -> None:
        self._db = db

    def put(self, chat: str, kind: str, payload: dict[str, Any], now: datetime) -> str:
        """Park `payload`; returns the short id a button carries. Old entries are dropped."""
        name = f"pending:{chat}"
        stale = [int(i) for i, doc in self._db.docs(name).items() if _age(doc, now) > KEEP]
        table = self._db.table(name)
        if stale:
            table.remove(doc_ids=stale)
        pending_id = secrets.token_hex(4)
        table.insert({"id": pending_id, "kind": kind, "at": now.isoformat(), "payload": payload})
        return pending_id

    def peek(
        self, chat: str, kind: str, pending_id: str, now: datetime
    ) -> Mapping[str, Any] | None:
        """The payload parked under `pending_id`, left in place and read-only (never mutate
        it); None when unknown or expired. A big import reads it in chunks before `take`."""
        for doc in self._db.docs(f"pending:{chat}").values():
            if doc.get("id") == pending_id:
                if doc["kind"] != kind or _age(doc, now) > KEEP:
                    return None
                payload: Mapping[str, Any] = doc["payload"]
                return payload
        return None

    def take(self, chat: str, kind: str, pending_id: str, now: datetime) -> dict[str, Any] | None:
        """The payload parked under `pending_id` (removed); None when unknown or expired."""
        name = f"pending:{chat}"
        found = [(i, d) for i, d in self._db.docs(name).items() if d.get("id") == pending_id]
        if not found:
            return None
        doc_id, doc = found[0]
        # removed from the table, so the caller owns it: no copy of a 300 000-value payload
        self._db.edit(name, {int(doc_id): None})
        if doc["kind"] != kind or _age(doc, now) > KEEP:
            return None
        return dict(doc["payload"])


def _age(doc: Mapping[str, Any], now: datetime) -> timedelta:
    return now - datetime.fromisoformat(str(doc["at"]))
