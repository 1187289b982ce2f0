"""The hot read path: what `/kpi` and `/scorecard` read is cached per table version and
follows every change at once; checkpoints stay off the commit path."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.models import Measurement
from storage import open_store
from storage.engine import Database
from storage.kpis import KpiRepo
from storage.port import Batch
from storage.sqlite import DB_FILE, SqliteBackend

AT = datetime(2026, 11, 21, tzinfo=UTC)
FIRST = date(2026, 8, 1)

calls: list[int] = []


def _counted_keys(docs: Mapping[str, Mapping[str, Any]]) -> tuple[str, ...]:
    calls.append(len(docs))
    return tuple(str(doc["key"]) for doc in docs.values())


def _row(key: str) -> dict[str, object]:
    return {"key": key}


def test_a_derivation_runs_once_per_table_version() -> None:
    db = Database.open(None)
    calls.clear()
    db.table("t").insert(_row("a"))
    db.table("u").insert(_row("x"))
    assert db.derived("t", _counted_keys) == ("a",)
    assert db.derived("t", _counted_keys) == ("a",)
    assert calls == [1]
    db.table("u").insert(_row("y"))  # another table: the cached result stands
    assert db.derived("t", _counted_keys) == ("a",)
    assert calls == [1]
    db.table("t").insert(_row("b"))
    assert db.derived("t", _counted_keys) == ("a", "b")
    assert calls == [1, 2]
    db.drop_table("t")
    assert db.derived("t", _counted_keys) == ()


def test_history_reads_back_dated_and_replaced_values_in_time_order() -> None:
    store = open_store(None)
    kpis = store.kpis

    def record(day: int, value: float) -> None:
        kpis.record("c", Measurement(kpi="v", value=value, day=FIRST + timedelta(days=day), at=AT))

    for day in (3, 1, 40, 2):
        record(day, day)
    assert [m.value for m in kpis.history("c", "v", limit=3)] == [2, 3, 40]  # cached now
    record(0, 0)  # back-dated into a shard already read
    record(2, 22)  # replaces a value already read
    assert [m.value for m in kpis.history("c", "v")] == [0, 1, 22, 3, 40]
    kpis.unset("c", "v", FIRST + timedelta(days=40))
    assert [m.value for m in kpis.history("c", "v", limit=2)] == [22, 3]
    assert _newest(kpis, 2) == [
        (FIRST + timedelta(days=2), 22),
        (FIRST + timedelta(days=3), 3),
    ]


def _newest(kpis: KpiRepo, limit: int) -> list[tuple[date, float]]:
    """The latest `limit` (day, value) points of "v" from the cached shards the dashboard reads."""
    return [point for shard in kpis.recent_shards("c", "v", limit) for point in shard][-limit:]


ops = st.lists(
    st.tuples(st.booleans(), st.integers(0, 120), st.integers(0, 999)), min_size=1, max_size=40
)


@settings(max_examples=40, deadline=None)
@given(ops, st.integers(1, 50))
def test_history_is_always_the_newest_values_in_day_order(
    steps: list[tuple[bool, int, int]], limit: int
) -> None:
    """Whatever the sequence of records and unsets, reads in between included (they fill
    the caches), `history` equals the values kept, oldest first, cut to `limit`."""
    store = open_store(None)
    kept: dict[date, float] = {}
    for is_record, offset, value in steps:
        day = FIRST + timedelta(days=offset)
        if is_record:
            store.kpis.record("c", Measurement(kpi="v", value=value, day=day, at=AT))
            kept[day] = value
        else:
            store.kpis.unset("c", "v", day)
            kept.pop(day, None)
        expected = [kept[d] for d in sorted(kept)]
        assert [m.value for m in store.kpis.history("c", "v", limit=limit)] == expected[-limit:]
        assert [m.value for m in store.kpis.history("c", "v")] == expected
        recent = [(d, kept[d]) for d in sorted(kept)][-limit:]
        assert _newest(store.kpis, limit) == recent


def _commit_pages(backend: SqliteBackend, n: int) -> None:
    for i in range(n):
        backend.commit(Batch({f"t{i}": bytes([i % 256]) * 5000}))


def test_the_wal_is_copied_into_the_database_off_the_commit_path(tmp_path: Path) -> None:
    """Past the mark a checkpoint copies the WAL on its own thread: the database file grows
    while the store is open, and commits go on while a checkpoint is still running."""
    backend = SqliteBackend(tmp_path, checkpoint_pages=10)
    backend.lock()
    try:
        before = (tmp_path / DB_FILE).stat().st_size
        release = threading.Event()
        running = threading.Event()
        passive = backend._passive_checkpoint

        def slow_checkpoint() -> None:
            running.set()
            release.wait(timeout=10)
            passive()

        backend._passive_checkpoint = slow_checkpoint  # type: ignore[method-assign]
        _commit_pages(backend, 4)
        assert running.wait(timeout=10)
        _commit_pages(backend, 4)  # the checkpoint is still waiting: commits do not
        release.set()
        assert backend._checkpoint is not None
        backend._checkpoint.result(timeout=10)
        assert (tmp_path / DB_FILE).stat().st_size > before
        assert backend.load("t3") == bytes([3]) * 5000
    finally:
        backend.close()
