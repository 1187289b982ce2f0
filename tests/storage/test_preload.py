"""`Database.preload` (whole kinds loaded by range queries), interleaved with writes, reads
exactly what one-by-one loading would."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from storage.engine import Database
from tests.storage.test_engine import SpyBackend

NAMES = ("a:1", "a:2", "a:3", "a:x:1", "ab:1", "b:1", "b:2", "c:1")


def _seeded(backend: SpyBackend, names: tuple[str, ...]) -> Database:
    """A cold database over `backend`, after another one stored `names` there."""
    first = Database(backend)
    for name in names:
        first.put_table(name, {1: {"v": f"stored {name}"}})
    asyncio.run(first.commit())
    return Database(backend)


def test_a_preloaded_kind_answers_absent_names_without_asking_the_backend() -> None:
    backend = SpyBackend()
    db = _seeded(backend, ("a:1", "a:2", "b:1"))
    assert list(db.preload(["a:", "z:"], step=1)) == ["a:1", "a:2", "a:", "z:"]
    before = backend.loads
    assert dict(db.docs("a:1")) == {"1": {"v": "stored a:1"}}
    assert db.docs("a:9") == {} and db.docs("z:chat:1") == {}  # absent: known, not asked
    assert backend.loads == before
    assert db.docs("b:1") == {"1": {"v": "stored b:1"}}  # not preloaded: loaded on demand
    assert backend.loads == before + 1
    assert list(db.preload(["a:"])) == []  # already complete: nothing to do


class _RangeSpy(SpyBackend):
    """Notes the name of every table a range query answers."""

    def __init__(self) -> None:
        super().__init__()
        self.ranged: list[str] = []

    def load_after(
        self, after: str, limit: int, before: str | None = None
    ) -> list[tuple[str, bytes]]:
        rows = super().load_after(after, limit, before)
        self.ranged.extend(name for name, _ in rows)
        return rows


def test_a_preload_reads_no_table_of_another_kind() -> None:
    """A kind with no table, or the last query of a kind, read `step` tables of the next
    kinds and dropped them (about 1 % of a cold sweep)."""
    backend = _RangeSpy()
    db = _seeded(backend, ("a:1", "a:2", "a:x:1", "ab:1", "b:1", "b:2", "c:1"))
    assert list(db.preload(["a:", "aa:", "b:"], step=2)) == [
        *("a:1", "a:2", "a:x:1", "a:"),
        "aa:",
        *("b:1", "b:2", "b:"),
    ]
    assert backend.ranged == ["a:1", "a:2", "a:x:1", "b:1", "b:2"]


def _changed(db: Database, truth: dict[str, Any], op: str, name: str, n: int) -> bool:
    """Apply a change op (put, drop, forget, commit) to `db` and to `truth`; False: `op` is
    not one of them."""
    if op == "put":
        db.put_table(name, {1: {"v": str(n)}})
        truth[name] = {"1": {"v": str(n)}}
    elif op == "drop":
        db.drop_table(name)
        truth.pop(name, None)
    elif op == "forget":  # the cache dropping a table (eviction, a rolled-back step)
        db._forget(name)
    elif op == "commit":
        asyncio.run(db.commit())
    else:
        return False
    return True


_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("put"), st.sampled_from(NAMES), st.integers(0, 3)),
        st.tuples(st.just("drop"), st.sampled_from(NAMES), st.just(0)),
        st.tuples(st.just("forget"), st.sampled_from(NAMES), st.just(0)),
        st.tuples(st.just("step"), st.just(""), st.integers(1, 3)),
        st.tuples(st.just("commit"), st.just(""), st.just(0)),
        st.tuples(st.just("read"), st.sampled_from(NAMES), st.just(0)),
    ),
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(stored=st.sets(st.sampled_from(NAMES)), ops=_OPS)
def test_reads_stay_exact_whatever_happens_between_preload_steps(
    stored: set[str], ops: list[tuple[str, str, int]]
) -> None:
    db = _seeded(SpyBackend(), tuple(sorted(stored)))
    truth = {name: {"1": {"v": f"stored {name}"}} for name in stored}
    steps: Iterator[str] = db.preload(["a:", "b:", "c:"], step=2)
    for op, name, n in ops:
        if _changed(db, truth, op, name, n):
            continue
        if op == "step":
            for _ in range(n):
                next(steps, None)
        else:  # reads load on demand, so the whole check waits for the end
            assert dict(db.docs(name)) == truth.get(name, {})
    for _ in steps:
        pass
    assert {m: dict(db.docs(m)) for m in NAMES} == {m: truth.get(m, {}) for m in NAMES}


def test_an_unsaved_table_the_cache_let_go_of_is_still_read_after_a_preload() -> None:
    db = _seeded(SpyBackend(), ("a:1",))
    db.put_table("a:2", {1: {"v": "unsaved"}})
    db._forget("a:2")  # evicted before it was saved: only the unsaved body has it
    list(db.preload(["a:"]))
    assert dict(db.docs("a:2")) == {"1": {"v": "unsaved"}}


def _unsaved_and_let_go(backend: SpyBackend) -> Database:
    """A database whose change to `a:3` is unsaved and no longer in the cache (evicted, or
    a rolled-back step's table forgotten)."""
    db = _seeded(backend, ("a:1", "b:1"))
    db.put_table("a:3", {1: {"v": "unsaved"}})
    db._forget("a:3")
    return db


def test_a_table_saved_between_a_preloads_query_and_its_end_is_not_taken_for_absent() -> None:
    db = _unsaved_and_let_go(SpyBackend())
    steps = db.preload(["a:"], step=2)
    assert next(steps) == "a:1"  # the range query ran before `a:3` was saved
    asyncio.run(db.commit())
    list(steps)
    assert dict(db.docs("a:3")) == {"1": {"v": "unsaved"}}


def test_a_warm_store_still_reads_an_unsaved_table_the_cache_let_go_of() -> None:
    db = _unsaved_and_let_go(SpyBackend())
    asyncio.run(db.warm())
    assert dict(db.docs("a:3")) == {"1": {"v": "unsaved"}}
    asyncio.run(db.commit())
    assert dict(db.docs("a:3")) == {"1": {"v": "unsaved"}}
