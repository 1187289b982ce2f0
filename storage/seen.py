"""Recently processed platform update ids, so a redelivered update is applied once.

The mark is written before the command runs. A mutating command commits it in the same
transaction as its own changes: a crash before the commit loses both (the update is
redelivered and applied once), a crash after keeps both (the redelivery is skipped). A
read-only command does not wait for the disk for its mark alone (the tables are lazy, see
`Database.mark_lazy`): the mark rides with the next commit, at most a second later, so a
read answered just before a crash may be answered again; nothing is applied twice.
"""

from __future__ import annotations

import zlib

from storage.base import Tables, first_doc, save_single

BUCKETS = 256
KEEP_PER_BUCKET = 64  # ~16 000 recent ids: hours of traffic for a busy team bot
_PREFIX = "seen:"


class SeenRepo:
    """A bounded, durable set of update keys spread over small tables."""

    def __init__(self, db: Tables) -> None:
        self._db = db
        db.mark_lazy(_PREFIX)

    def first_time(self, key: str) -> bool:
        """Remember `key`; True when it had not been seen before."""
        name = f"{_PREFIX}{zlib.crc32(key.encode()) % BUCKETS}"
        doc = first_doc(self._db, name)
        keys: list[str] = list(doc["keys"]) if doc else []
        if key in keys:
            return False
        save_single(self._db, name, {"keys": [*keys, key][-KEEP_PER_BUCKET:]})
        return True
