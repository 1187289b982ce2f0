"""Changes waiting for a confirmation button (an import preview), kept for a day."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from tinydb import Query

from storage.base import Tables

KEEP = timedelta(days=1)
_ID = Query().id


class PendingRepo:
    """Per-chat parked payloads, each taken at most once by its id."""

    def __init__(self, db: Tables) -> None:
        self._db = db

    def put(self, chat: str, kind: str, payload: dict[str, Any], now: datetime) -> str:
        """Park `payload`; returns the short id a button carries. Old entries are dropped."""
        table = self._db.table(f"pending:{chat}")
        stale = [doc.doc_id for doc in table.all() if _age(doc, now) > KEEP]
        if stale:
            table.remove(doc_ids=stale)
        pending_id = secrets.token_hex(4)
        table.insert({"id": pending_id, "kind": kind, "at": now.isoformat(), "payload": payload})
        return pending_id

    def take(self, chat: str, kind: str, pending_id: str, now: datetime) -> dict[str, Any] | None:
        """The payload parked under `pending_id` (removed); None when unknown or expired."""
        table = self._db.table(f"pending:{chat}")
        doc = table.get(pending_id == _ID)
        if doc is None:
            return None
        table.remove(doc_ids=[doc.doc_id])
        if doc["kind"] != kind or _age(doc, now) > KEEP:
            return None
        return dict(doc["payload"])


def _age(doc: dict[str, Any], now: datetime) -> timedelta:
    return now - datetime.fromisoformat(str(doc["at"]))
