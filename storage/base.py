"""Shared plumbing of the repositories: model ↔ TinyDB document, keyed tables.

Every repository method takes the chat key (`ChatRef.key`) and touches only that chat's
tables, so one chat can never read or change another's data. Tables are kept small
(one per chat and kind, measurements sharded per KPI and month) because every TinyDB
write re-serialises the table it touches.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel
from tinydb import Query
from tinydb.table import Table

ModelT = TypeVar("ModelT", bound=BaseModel)

_KEY = Query().key


class Tables(Protocol):
    """What repositories need from the database engine."""

    def table(self, name: str) -> Table:
        """The named table (created on first write)."""

    def drop_table(self, name: str) -> None:
        """Remove a table and its documents."""

    def table_names(self) -> set[str]:
        """Names of every stored table."""


def to_doc(model: BaseModel) -> dict[str, Any]:
    """JSON-safe document of a model (dates as ISO strings)."""
    return model.model_dump(mode="json")


def from_docs(model: type[ModelT], docs: Iterable[dict[str, Any]]) -> list[ModelT]:
    """Validate stored documents back into models."""
    return [model.model_validate(dict(doc)) for doc in docs]


class KeyedTable:
    """A table of models identified by their `key` field."""

    def __init__(self, db: Tables, name: str) -> None:
        self._db = db
        self.name = name

    @property
    def table(self) -> Table:
        """The underlying TinyDB table."""
        return self._db.table(self.name)

    def get(self, model: type[ModelT], key: str) -> ModelT | None:
        """The model stored under `key`, or None."""
        doc = self.table.get(key == _KEY)
        return None if doc is None else model.model_validate(dict(doc))

    def all(self, model: type[ModelT]) -> list[ModelT]:
        """Every model in insertion order."""
        return from_docs(model, self.table.all())

    def put(self, item: BaseModel) -> None:
        """Insert or replace the model with the same key."""
        doc = to_doc(item)
        table = self.table
        existing = table.get(doc["key"] == _KEY)
        if existing is None:
            table.insert(doc)
        else:
            table.update(_replace(doc), doc_ids=[existing.doc_id])

    def remove(self, key: str) -> bool:
        """Delete the model with `key`; True when something was deleted."""
        return bool(self.table.remove(key == _KEY))

    def keys(self) -> list[str]:
        """Every stored key."""
        return [str(doc["key"]) for doc in self.table.all()]


def _replace(doc: dict[str, Any]) -> Any:
    """A TinyDB update operation that replaces the whole document (drops stale fields)."""

    def transform(current: dict[str, Any]) -> None:
        current.clear()
        current.update(doc)

    return transform
