"""`Database.model_by_key` answers from a key map built once per table version, or from the
one model it validated for that version: after any sequence of writes, rollbacks, cache
drops and reopens it must find what a scan finds."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict

from storage import engine
from storage.engine import Database
from storage.port import MemoryBackend

TABLE = "kpis:c"
KEYS = ("a", "b", "c", "d")


class _Keyed(BaseModel):
    model_config = ConfigDict(frozen=True)
    key: str
    n: int


class _Boom(Exception):
    """Raised inside an atomic block to roll it back."""


_ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("insert"), st.sampled_from(KEYS), st.integers(0, 9)),
        st.tuples(st.just("update"), st.sampled_from(KEYS), st.integers(0, 9)),
        st.tuples(st.just("remove"), st.sampled_from(KEYS), st.just(0)),
        st.tuples(st.just("edit"), st.sampled_from(KEYS), st.integers(0, 9)),
        st.tuples(st.just("rollback"), st.sampled_from(KEYS), st.integers(0, 9)),
        st.tuples(st.just("models"), st.just(""), st.just(0)),
        st.tuples(st.just("forget"), st.just(""), st.just(0)),
        st.tuples(st.just("reopen"), st.just(""), st.just(0)),
    ),
    max_size=25,
)


def _scan(db: Database, key: str) -> _Keyed | None:
    """The slow answer: the first stored document with that key, validated."""
    found = [d for d in db.table(TABLE).all() if d.get("key") == key]
    return _Keyed.model_validate(dict(found[0])) if found else None


def _apply(db: Database, backend: MemoryBackend, action: tuple[str, str, int]) -> Database:
    kind, key, n = action
    table = db.table(TABLE)
    if kind == "insert":  # duplicates allowed: the first of a key must win
        table.insert({"key": key, "n": n})
    elif kind == "update":
        table.update({"n": n}, lambda d: d.get("key") == key)
    elif kind == "remove":
        table.remove(lambda d: d.get("key") == key)
    elif kind == "edit":
        db.edit(TABLE, added=[{"key": key, "n": n}])
    elif kind == "rollback":
        with contextlib.suppress(_Boom), db.atomic():
            table.insert({"key": key, "n": n})
            raise _Boom
    elif kind == "models":
        db.models(TABLE, _Keyed)
    elif kind == "forget":
        db._forget(TABLE)
    elif kind == "reopen":
        db.flush()
        return Database(backend)
    return db


@settings(max_examples=60, deadline=None)
@given(_ACTIONS)
def test_a_model_by_key_equals_the_scan_after_any_writes_and_reopens(
    actions: list[tuple[str, str, int]],
) -> None:
    backend = MemoryBackend()
    db = Database(backend)
    for action in actions:
        db = _apply(db, backend, action)
        for key in KEYS:
            assert db.model_by_key(TABLE, _Keyed, key) == _scan(db, key), (action, key)


def test_the_property_catches_a_key_map_kept_across_table_versions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A planted bug: one key map, built at the first lookup, serves every later version."""
    real = engine._by_key
    kept: dict[str, BaseModel] = {}

    def stale(models: Iterable[BaseModel]) -> dict[str, BaseModel]:
        if not kept:
            kept.update(real(models))
        return kept

    monkeypatch.setattr(engine, "_by_key", stale)
    with pytest.raises(AssertionError):
        test_a_model_by_key_equals_the_scan_after_any_writes_and_reopens()


def test_the_property_catches_a_single_lookup_kept_across_table_versions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A planted bug: the models `model_by_key` validated one by one (`_Entry.one`) are
    carried over to the table's next version, as if a write could not change them."""
    real = Database._remember

    def carried(db: Database, name: str, entry: engine._Entry | None) -> None:
        old = db._cache.get(name)
        if entry is not None and old is not None and old.one:
            entry.one = old.one
        real(db, name, entry)

    monkeypatch.setattr(Database, "_remember", carried)
    with pytest.raises(AssertionError):
        test_a_model_by_key_equals_the_scan_after_any_writes_and_reopens()
