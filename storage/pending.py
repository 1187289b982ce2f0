"""Changes waiting for a confirmation button (an import preview), kept for a day."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from storage.base import Tables
from storage.engine import Prepared

KEEP = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Parking:
    """A `put` built ahead (`PendingRepo.prepare`)."""

    pending_id: str
    now: datetime
    doc: dict[str, Any]
    table: Prepared


class PendingRepo:
    """Per-chat parked payloads, each taken at most once by its id."""

    def __init__(self, db: Tables) -> None:
        self._db = db

    def put(self, chat: str, kind: str, payload: dict[str, Any], now: datetime) -> str:
        """Park `payload`; returns the short id a button carries. Old entries are dropped."""
        return self.put_prepared(self.prepare(chat, kind, payload, now))

    def prepare(self, chat: str, kind: str, payload: dict[str, Any], now: datetime) -> Parking:
        """`put`'s table built and serialised but not written (a 300 000-value preview is
        megabytes of JSON): a big import prepares it in a slice of its own, then
        `put_prepared` in its atomic step. The payload is handed over (not copied)."""
        name = f"pending:{chat}"
        stale = self._stale(name, now)
        doc = {"id": secrets.token_hex(4), "kind": kind, "at": now.isoformat(), "payload": payload}
        table = self._db.prepare(name, stale, [doc], handed_over=True)
        return Parking(str(doc["id"]), now, doc, table)

    def put_prepared(self, parking: Parking) -> str:
        """Write a prepared `put` (afresh if the table changed meanwhile); returns its id."""
        if not self._db.install(parking.table):  # ids may have been reused: look again
            name = parking.table.name
            self._db.edit(name, self._stale(name, parking.now), [parking.doc], handed_over=True)
        return parking.pending_id

    def _stale(self, name: str, now: datetime) -> dict[int, None]:
        return {int(i): None for i, doc in self._db.docs(name).items() if _age(doc, now) > KEEP}

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
