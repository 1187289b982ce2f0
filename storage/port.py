"""The storage port: what the document layer needs from a backend, and nothing more.

The repositories speak TinyDB documents to `storage.engine.Database`; the database keeps
a bounded cache of parsed tables and hands whole-table images to a backend through this
port. A backend stores each table as one opaque body (JSON bytes) under its name and
commits a batch of table puts and drops atomically. SQLite (`storage.sqlite`) is the
durable backend; `MemoryBackend` serves tests and `open_store(None)`; a PostgreSQL
backend can fill the same port without touching a repository.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Protocol, runtime_checkable

__all__ = ["Batch", "CommitsNow", "MemoryBackend", "StoragePort", "past_prefix"]


@dataclasses.dataclass(frozen=True, slots=True)
class Batch:
    """One atomic step for the backend: new bodies of changed tables (None = drop)."""

    tables: Mapping[str, bytes | None]
    schema: int | None = None  # set: record this schema version in the same transaction


def past_prefix(prefix: str) -> str:
    """The smallest string greater than every string starting with `prefix`: a range query
    bounded by it reads the names under `prefix` and no other (the SQLite queries, a
    preload's walk over one kind, a prefetch)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


class StoragePort(Protocol):
    """A backend: named table bodies, atomic batches, one owner at a time, a schema."""

    #: Whether `commit` waits for a disk (then the database may run it off the loop).
    durable: bool

    def lock(self) -> None:
        """Become the only user of the store (raises `StoreLocked` when another is)."""

    def schema_version(self) -> int | None:
        """The stored schema version; None for a store that was never written."""

    def load(self, name: str) -> bytes | None:
        """The body of table `name`, or None when it does not exist."""

    def names(self, prefix: str = "") -> list[str]:
        """Names of the stored tables starting with `prefix`, sorted."""

    def load_prefix(self, prefix: str) -> dict[str, bytes]:
        """Every table whose name starts with `prefix`, in one go (one query)."""

    def load_after(
        self, after: str, limit: int, before: str | None = None
    ) -> list[tuple[str, bytes]]:
        """Up to `limit` tables whose names sort after `after` (and before `before`, when
        given), in name order (one query): a walk over the whole store, or over one kind
        of table, in small steps, to warm the cache."""

    def commit(self, batch: Batch) -> None:
        """Apply every put and drop of `batch` durably, all or nothing."""

    def summaries_current(self) -> bool:
        """Whether every commit was made by code that keeps summaries of tables up to date
        (`Database.summarises`): False after a version without them wrote the store."""

    def close(self) -> None:
        """Release the store (idempotent)."""

    # Optional: `idle()`, called on the writer thread of a durable backend whenever no
    # transaction waits (after one), for upkeep no command should wait for (SQLite
    # rewinds its WAL there). Not part of the protocol so that a test double needs none.


@runtime_checkable
class CommitsNow(Protocol):
    """Optional, for a durable backend: a lone transaction may run on the caller's thread
    (the event loop's, which would only wait for it) instead of the database's writer
    thread. A backend without it (a test double) always gets the writer thread."""

    def commit_now(self, batch: Batch) -> bool:
        """`commit(batch)` on this thread if it can start at once; False, with nothing
        done, while another thread holds the backend (its `idle` upkeep) or upkeep must
        come first: then the writer thread commits it (and waits for those)."""

    def upkeep_due(self) -> bool:
        """Whether `idle` has work waiting: after a transaction run by `commit_now` the
        database then gives its writer thread an idle moment for it."""


class MemoryBackend:
    """A backend in a dict: for tests and stores that need no disk."""

    durable = False

    def __init__(self) -> None:
        self._tables: dict[str, bytes] = {}
        self._schema: int | None = None
        self.commits = 0

    def lock(self) -> None:
        """Nothing to lock: the dict belongs to this process."""

    def schema_version(self) -> int | None:
        """The schema recorded by the last batch that carried one."""
        return self._schema

    def load(self, name: str) -> bytes | None:
        """The stored body of `name`."""
        return self._tables.get(name)

    def names(self, prefix: str = "") -> list[str]:
        """Stored names with `prefix`, sorted."""
        return sorted(name for name in self._tables if name.startswith(prefix))

    def load_prefix(self, prefix: str) -> dict[str, bytes]:
        """Every stored table with `prefix`."""
        return {name: self._tables[name] for name in self.names(prefix)}

    def load_after(
        self, after: str, limit: int, before: str | None = None
    ) -> list[tuple[str, bytes]]:
        """The next `limit` stored tables after `after` (and before `before`), by name."""
        return [
            (name, self._tables[name])
            for name in self.names()
            if name > after and (before is None or name < before)
        ][:limit]

    def commit(self, batch: Batch) -> None:
        """Apply a batch (a dict update cannot fail half-way)."""
        for name, body in batch.tables.items():
            if body is None:
                self._tables.pop(name, None)
            else:
                self._tables[name] = body
        if batch.schema is not None:
            self._schema = batch.schema
        self.commits += 1

    def summaries_current(self) -> bool:
        """Always: only this process ever wrote the dict."""
        return True

    def close(self) -> None:
        """Nothing to release."""
