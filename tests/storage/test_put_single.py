"""`Database.put_single` (a one-document table's document replaced whole, as a `/kpi set`
writes its KPI's value index) stores what `edit(name, {1: doc}, handed_over=True)` stores:
after any sequence of puts, other edits, rollbacks and reopens, the same documents by id,
the same body, and a write only where `edit` writes one."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.engine import Database
from storage.port import MemoryBackend
from tests.storage.test_replace_last import body_of

TABLE = "mix:c:k1"

_DOCS = st.dictionaries(
    st.sampled_from(["months", "count", "latest"]),
    st.one_of(st.integers(0, 3), st.lists(st.sampled_from(["2026-10", "2026-11"]), max_size=2)),
    max_size=3,
)
_ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("put"), _DOCS),
        st.tuples(st.just("again"), st.just({})),  # the stored document put back unchanged
        st.tuples(st.just("add"), _DOCS),  # a second document: no longer a one-document table
        st.tuples(st.just("drop"), st.just({})),
        st.tuples(st.just("rollback"), _DOCS),
        st.tuples(st.just("reopen"), st.just({})),
    ),
    max_size=12,
)


class _Edited(Database):
    """The same engine whose `put_single` is the `edit` it stands for."""

    def put_single(self, name: str, doc: dict[str, Any]) -> None:
        self.edit(name, {1: doc}, handed_over=True)


class _Boom(Exception):
    """Raised inside an atomic block to roll it back."""


def _apply(db: Database, backend: MemoryBackend, kind: str, doc: dict[str, Any]) -> Database:
    if kind == "put":
        db.put_single(TABLE, dict(doc))
    elif kind == "again" and db.docs(TABLE):
        db.put_single(TABLE, dict(next(iter(db.docs(TABLE).values()))))
    elif kind == "add":
        db.edit(TABLE, added=[doc])
    elif kind == "drop":
        db.drop_table(TABLE)
    elif kind == "rollback":  # the put rolled back with its block
        with contextlib.suppress(_Boom), db.atomic():
            db.put_single(TABLE, dict(doc))
            raise _Boom
    elif kind == "reopen":  # saved, then read back by a new engine of the same kind
        db.flush()
        db = type(db)(backend)
    return db


def _check(actions: list[tuple[str, dict[str, Any]]]) -> None:
    fast_backend, edited_backend = MemoryBackend(), MemoryBackend()
    fast: Database = Database(fast_backend)
    edited: Database = _Edited(edited_backend)
    for kind, doc in actions:
        fast = _apply(fast, fast_backend, kind, doc)
        edited = _apply(edited, edited_backend, kind, doc)
        assert fast.docs(TABLE) == edited.docs(TABLE), kind
        assert list(fast.docs(TABLE)) == list(edited.docs(TABLE)), kind
        assert body_of(fast, TABLE) == body_of(edited, TABLE), kind
        assert fast.changes == edited.changes, kind  # a write exactly where edit writes


@settings(max_examples=80, deadline=None)
@given(_ACTIONS)
def test_put_single_stores_what_the_edit_it_stands_for_stores(
    actions: list[tuple[str, dict[str, Any]]],
) -> None:
    _check(actions)


def test_the_property_catches_a_put_that_writes_an_unchanged_document(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A planted bug: the document is written even when it is the stored one."""

    def always(self: Database, name: str, doc: dict[str, Any]) -> None:
        self.drop_table(name)
        self.edit(name, {1: doc}, handed_over=True)

    monkeypatch.setattr(Database, "put_single", always)
    with pytest.raises(AssertionError):
        _check([("put", {"count": 1}), ("again", {})])


def test_the_property_catches_a_put_that_ignores_other_documents(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A planted bug: a table holding two documents is replaced by the one put."""
    real = Database.put_single

    def one_only(self: Database, name: str, doc: dict[str, Any]) -> None:
        self.drop_table(name)
        real(self, name, doc)

    monkeypatch.setattr(Database, "put_single", one_only)
    with pytest.raises(AssertionError):
        _check([("put", {"count": 1}), ("add", {"count": 2}), ("put", {"count": 3})])
