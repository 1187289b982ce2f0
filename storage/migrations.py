"""Schema versions and the migrations between them, plus the one-time move to SQLite.

`SCHEMA_VERSION` is the layout of the stored tables this code writes. Each change of
layout gets a numbered migration in `MIGRATIONS` (the version it produces → the function
that turns the previous version into it) and a test (tests/storage/test_migrations.py).
`open_database` runs the missing ones at start, each as one transaction that also
records its version, so a crash leaves the store at the old version or the new one.

Stores of the journal engine (`store.snapshot` + `store.journal`) are imported once:
read and validated without changing them, written to SQLite in one transaction,
verified table by table (document counts), then moved to `legacy-backup/`; the log says
so. A crash anywhere in between repeats only what is missing at the next start.
"""

from __future__ import annotations

import logging
import os
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import orjson

from storage.base import AppendLog
from storage.engine import Database, copy_json
from storage.errors import SchemaTooNew, StoreCorrupt, StoreFailed, StoreNotOpened
from storage.legacy import JOURNAL_FILE, SNAPSHOT_FILE, document_count, legacy_present, read_legacy
from storage.port import Batch

__all__ = ["BACKUP_DIR", "MIGRATIONS", "SCHEMA_VERSION", "migrate", "open_database"]

_LOGGER = logging.getLogger(__name__)

SCHEMA_VERSION: Final = 5
BACKUP_DIR: Final = "legacy-backup"

Migration = Callable[[Database], None]


def _v2_small_shards(db: Database) -> None:
    """Version 2: alert state in 8 buckets per chat; alert logs, initiative logs and
    check-ins in blocks (`AppendLog`); dedupe marks in 256 smaller buckets."""
    for name in sorted(db.table_names("al:")):
        docs = list(db.docs(name).values())
        db.drop_table(name)
        chat = name[len("al:") :]
        for doc in docs:
            bucket = zlib.crc32(str(doc["key"]).encode()) % 8
            db.table(f"al:{chat}:{bucket}").insert(dict(doc))
    for name in sorted(db.table_names("alog:")):
        docs = [dict(d) for d in db.docs(name).values()]
        db.drop_table(name)
        AppendLog(db, "alog", name[len("alog:") :], block=20, stamp="at").append(docs)
    for name in sorted(db.table_names("iyears:")):
        owner = name[len("iyears:") :]
        years = sorted(int(d["year"]) for d in db.docs(name).values())
        db.drop_table(name)
        docs = []
        for year in years:
            docs.extend(dict(d) for d in db.docs(f"ilog:{owner}:{year}").values())
            db.drop_table(f"ilog:{owner}:{year}")
        AppendLog(db, "ilog", owner, block=64, stamp="at").append(docs)
    for name in sorted(db.table_names("ci:")):
        docs = [dict(d) for d in db.docs(name).values()]
        db.drop_table(name)
        AppendLog(db, "ci", name[len("ci:") :], block=64, stamp="at").append(docs)
    keys: list[str] = []
    for name in sorted(db.table_names("seen:")):
        for doc in db.docs(name).values():
            keys.extend(doc.get("keys", []))
        db.drop_table(name)
    buckets: dict[int, list[str]] = {}
    for key in keys:
        buckets.setdefault(zlib.crc32(key.encode()) % 256, []).append(key)
    for bucket, marks in buckets.items():
        db.put_table(f"seen:{bucket}", {1: {"keys": marks[-64:]}})


def _v3_alert_books(db: Database) -> None:
    """Version 3: one alert book per chat (`abook:<chat>`) holding its red KPIs' alert
    states (taken out of the `al:<chat>:<n>` buckets, which keep the others), its waiting
    alerts (`albatch:<chat>`) and its sent reminder marks (taken out of `jobs:<chat>`), so
    a sweep's reminder is one write. The alert log's blocks stay where they are; the
    book's newest log starts empty."""
    books: dict[str, dict[str, Any]] = {}
    for name in sorted(db.table_names("al:"), key=_bucket_order):
        red = {i: d for i, d in db.docs(name).items() if d["state"].get("status") == "red"}
        if not red:
            continue
        chat = name[len("al:") :].rpartition(":")[0]
        states = books.setdefault(chat, {}).setdefault("states", {})
        for doc in red.values():
            states[str(doc["key"])] = {"test": bool(doc.get("test", False)), "state": doc["state"]}
        db.edit(name, dict.fromkeys(int(i) for i in red))
    for name in sorted(db.table_names("albatch:")):
        first = next(iter(db.docs(name).values()), None)
        if first is not None and first.get("queued"):
            books.setdefault(name[len("albatch:") :], {})["queued"] = first["queued"]
        db.drop_table(name)
    for name in sorted(db.table_names("jobs:")):
        first = next(iter(db.docs(name).values()), None)
        if first is None or "sent" not in first:
            continue
        if first["sent"]:
            books.setdefault(name[len("jobs:") :], {})["sent"] = first["sent"]
        db.put_table(name, {1: {k: v for k, v in first.items() if k != "sent"}})
    for chat, book in books.items():
        db.put_table(f"abook:{chat}", {1: copy_json(book)})


def _v4_red_rows(db: Database) -> None:
    """Version 4: a red KPI's state may be in a row of its own (`ared:<chat>:<kpi>`) that
    overrides its chat's alert book, where the book says so (`rows`). Older stores have
    none, so nothing moves; the version is recorded so that an older scorecard-bot
    refuses the store rather than read the book's older copies of those states."""


def _v5_change_rows(db: Database) -> None:
    """Version 5: what a command changed of a chat's alert book may be in changes over it
    (documents 1, 2, … of `abch:<chat>`: a state put or gone, log entries, waiting alerts), where
    the book says rows may exist. Older stores have none, so nothing moves; the version
    is recorded so that an older scorecard-bot refuses the store rather than read the
    book without them (waiting alerts and log entries missed, states stale)."""


def _bucket_order(name: str) -> tuple[str, int]:
    """`al:<chat>:<n>` sorted by chat, then bucket number."""
    chat, _, bucket = name.rpartition(":")
    return chat, int(bucket) if bucket.isdigit() else -1


#: version produced → migration from the version before it.
MIGRATIONS: Final[dict[int, Migration]] = {
    2: _v2_small_shards,
    3: _v3_alert_books,
    4: _v4_red_rows,
    5: _v5_change_rows,
}


def migrate(db: Database) -> list[int]:
    """Bring the store to SCHEMA_VERSION; returns the versions applied."""
    found = db.stored_schema
    where = db.path or Path("memory")
    if found is None:  # a new store
        db.set_schema(SCHEMA_VERSION)
        db.flush()
        return []
    if found > SCHEMA_VERSION:
        raise SchemaTooNew(where, found, SCHEMA_VERSION)
    applied = []
    for version in range(found + 1, SCHEMA_VERSION + 1):
        with db.atomic():
            MIGRATIONS[version](db)
        db.set_schema(version)
        db.flush()
        applied.append(version)
        _LOGGER.warning("%s: migrated the stored data to schema %d", where, version)
    return applied


def _import_legacy(db: Database, root: Path) -> None:
    """Copy the journal engine's tables into SQLite once, verify them, keep a backup."""
    bodies, schema = read_legacy(root)  # validates; changes nothing
    if schema > SCHEMA_VERSION:
        raise SchemaTooNew(root / SNAPSHOT_FILE, schema, SCHEMA_VERSION)
    backend = db.backend
    if db.stored_schema is None:
        backend.commit(Batch(dict(bodies), schema=schema))  # one transaction
        db.stored_schema = schema
    elif db.stored_schema != schema:
        _LOGGER.warning(
            "%s: old store files found next to a store already at schema %d; "
            "they were not imported again (move them away to silence this)",
            root,
            db.stored_schema,
        )
        return
    documents = 0
    for name, body in bodies.items():
        stored = backend.load(name)
        expected = document_count(body)
        if stored is None or document_count(stored) != expected:
            raise StoreCorrupt(root, f"table {name!r} did not survive the move to SQLite")
        documents += expected
    backup = root / BACKUP_DIR
    backup.mkdir(exist_ok=True)
    for file in (SNAPSHOT_FILE, JOURNAL_FILE):
        if (root / file).exists():
            os.replace(root / file, backup / file)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    _LOGGER.warning(
        "%s: moved %d tables (%d documents) from store.snapshot + store.journal into "
        "SQLite and checked every table; the old files are kept in %s",
        root,
        len(bodies),
        documents,
        backup,
    )


def open_database(path: Path | None) -> Database:
    """Open the store, importing a journal-engine store and migrating as needed."""
    db = Database.open(path)
    try:
        if path is not None and legacy_present(path):
            _import_legacy(db, path)
        migrate(db)
    except StoreFailed as exc:  # its "reading still works" holds only once running
        db.close()
        raise StoreNotOpened(exc.path, str(exc.cause)) from None
    except OSError as exc:  # the old store's move: its own commit, files moved after it
        db.close()
        raise StoreNotOpened(path or Path("memory"), exc.strerror or str(exc)) from None
    except BaseException:
        db.close()
        raise
    return db


def table_documents(body: bytes) -> dict[str, Any]:
    """A table body's documents by id (for checks)."""
    docs: dict[str, Any] = orjson.loads(body)
    return docs
