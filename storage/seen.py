"""Recently processed platform update ids, so a redelivered update is applied once.

The mark is written in the same step as the command's own changes and becomes durable
with them: a crash before the commit loses both (the update is redelivered and applied
once), a crash after keeps both (the redelivery is skipped).
"""

from __future__ import annotations

import zlib

from storage.base import Tables

BUCKETS = 64
KEEP_PER_BUCKET = 256  # ~16 000 recent ids: hours of traffic for a busy team bot


class SeenRepo:
    """A bounded, durable set of update keys spread over small tables."""

    def __init__(self, db: Tables) -> None:
        self._db = db

    def first_time(self, key: str) -> bool:
        """Remember `key`; True when it had not been seen before."""
        table = self._db.table(f"seen:{zlib.crc32(key.encode()) % BUCKETS}")
        docs = table.all()
        keys: list[str] = list(docs[0]["keys"]) if docs else []
        if key in keys:
            return False
        keys = [*keys, key][-KEEP_PER_BUCKET:]
        if docs:
            table.update({"keys": keys}, doc_ids=[docs[0].doc_id])
        else:
            table.insert({"keys": keys})
        return True
