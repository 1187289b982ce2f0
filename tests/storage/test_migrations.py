"""Schema migrations (one test per numbered migration) and the one-time move to SQLite."""

from __future__ import annotations

import logging
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from scoring.alert_rules import AlertState
from scoring.models import CheckIn, ProgressLog, Status
from storage import Store, migrations, open_store
from storage.alert_state import StoredState, change_name, check_book, row_name
from storage.engine import Database
from storage.errors import SchemaTooNew, StoreCorrupt
from storage.migrations import BACKUP_DIR, MIGRATIONS, SCHEMA_VERSION, migrate
from storage.port import Batch, MemoryBackend

AT = "2026-11-0{}T09:00:00Z"
Tables = dict[str, dict[str, dict[str, Any]]]


def _state(n: int) -> dict[str, Any]:
    return {
        "kpi": f"k{n}",
        "status": "red",
        "since": AT.format(1),
        "value": 120.0,
        "performance": 0.1,
        "reading_at": AT.format(1),
    }


def v1_tables() -> Tables:
    """A chat as the journal engine's schema 1 stored it."""
    transition = {
        "kpi": "cac",
        "name": "CAC",
        "objective": "o",
        "target": 80,
        "kind": "fired",
        "old": "green",
        "new": "red",
        "since": None,
        "value": 120,
        "performance": 0.1,
    }
    return {
        "kpi:c": {"1": {"key": "cac", "name": "CAC", "objective": "o", "target": 80}},
        "al:c": {str(n): {"key": f"k{n}", "test": False, "state": _state(n)} for n in range(1, 6)},
        "alog:c": {str(n): {**transition, "at": AT.format(n % 9 + 1)} for n in range(1, 26)},
        "iyears:c:articles": {"1": {"year": 2025}, "2": {"year": 2026}},
        "ilog:c:articles:2025": {
            "1": {"initiative": "articles", "amount": 1, "at": "2025-12-30T10:00:00Z"}
        },
        "ilog:c:articles:2026": {
            str(n): {"initiative": "articles", "amount": n, "at": AT.format(n)} for n in (1, 2)
        },
        "ci:c:kr1": {
            "1": {"kr": "kr1", "value": 3, "at": AT.format(1)},
            "2": {"kr": "kr1", "value": 5, "at": AT.format(2)},
        },
        "seen:7": {"1": {"keys": ["telegram:1", "telegram:2"]}},
    }


# --------------------------------------------------------------------------- migration 2


def at_schema_1(tables: Tables) -> Database:
    backend = MemoryBackend()
    backend.commit(Batch({n: orjson.dumps(d) for n, d in tables.items()}, schema=1))
    return Database(backend)


def test_every_schema_version_has_its_migration() -> None:
    assert sorted(MIGRATIONS) == list(range(2, SCHEMA_VERSION + 1))


def test_migration_2_moves_logs_into_blocks_and_state_into_buckets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = at_schema_1(v1_tables())
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", 2)
    assert migrate(db) == [2]
    assert db.backend.schema_version() == 2
    names = db.table_names()
    assert not {"al:c", "alog:c", "iyears:c:articles", "ci:c:kr1", "seen:7"} & names
    assert {n for n in names if n.startswith("alog:")} == {"alog:c:1", "alog:c:2"}
    assert sum(len(db.docs(n)) for n in names if n.startswith("al:c:")) == 5
    monkeypatch.undo()
    assert migrate(db) == list(range(3, SCHEMA_VERSION + 1))
    store = Store(db)
    assert {s.state.kpi for s in store.alerts.states("c")} == {f"k{n}" for n in range(1, 6)}
    assert len(store.alerts.recent_log("c", 100)) == 25
    logs = store.initiatives.logs("c", "articles")
    assert [log.amount for log in logs] == [1, 1, 2]
    assert isinstance(logs[0], ProgressLog)
    since = datetime(2026, 1, 1, tzinfo=UTC)
    assert store.initiatives.progress_total("c", "articles", since) == 3
    checkins = store.okrs.check_ins("c", "kr1")
    assert [c.value for c in checkins] == [3, 5] and isinstance(checkins[0], CheckIn)
    assert not store.seen.first_time("telegram:2")  # marks survive the re-bucketing
    assert store.seen.first_time("telegram:3")


# --------------------------------------------------------------------------- migration 3


def _v2_alert_tables() -> Tables:
    """Chat `c`'s alerts as schema 2 stored them: states in buckets (k0…k9 spread over
    them, the odd ones red), a waiting alert, and sent marks in the jobstate; chat `d`
    only a jobstate."""
    buckets: Tables = {}
    for n in range(10):
        name = f"al:c:{zlib.crc32(f'k{n}'.encode()) % 8}"
        docs = buckets.setdefault(name, {})
        state = {**_state(n), "status": "red" if n % 2 else "green"}
        docs[str(len(docs) + 1)] = {"key": f"k{n}", "test": n == 3, "state": state}
    transition = {
        "kpi": "k1", "name": "K1", "objective": "o", "target": 80, "kind": "fired",
        "old": "green", "new": "red", "since": None, "value": 120, "performance": 0.1,
        "at": AT.format(2),
    }  # fmt: skip
    return {
        **buckets,
        "albatch:c": {"1": {"queued": [{"transition": transition, "ready_at": AT.format(3)}]}},
        "jobs:c": {"1": {"sent": {"stale:k2": "2026-11-01"}, "last_fire": {}, "missed": []}},
        "jobs:d": {"1": {"sent": {}, "last_fire": {"digest": AT.format(4)}, "missed": []}},
        "alog:c:1": {"1": transition},
        "alogix:c": {"1": {"blocks": [[1, 1, "2026-11-02"]]}},
    }


def test_migration_3_gathers_each_chats_alerts_into_one_book(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tables = _v2_alert_tables()
    backend = MemoryBackend()
    backend.commit(Batch({n: orjson.dumps(d) for n, d in tables.items()}, schema=2))
    db = Database(backend)
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", 3)
    assert migrate(db) == [3]
    monkeypatch.undo()
    assert migrate(db) == list(range(4, SCHEMA_VERSION + 1))
    names = db.table_names()
    assert not any(n.startswith("albatch:") for n in names)
    assert {n for n in names if n.startswith("abook:")} == {"abook:c"}
    assert {"alog:c:1", "alogix:c", "jobs:c", "jobs:d"} <= names
    store = Store(db)
    buckets = sorted(n for n in tables if n.startswith("al:"))
    by_bucket = [d["key"] for n in buckets for d in tables[n].values()]
    red = [k for k in by_bucket if int(k[1:]) % 2]
    assert [s.state.kpi for s in store.alerts.states("c")] == red + [
        k for k in by_bucket if k not in red
    ]  # fmt: skip
    assert [s.state.kpi for s in store.alerts.states("c", status=Status.RED)] == red
    book = next(iter(db.docs("abook:c").values()))
    assert list(book["states"]) == red, "the red ones moved to the book"
    kept = [d["key"] for n in names if n.startswith("al:c:") for d in db.docs(n).values()]
    assert sorted(kept) == sorted(set(by_bucket) - set(red)), "the others stay in buckets"
    assert [s.test for s in store.alerts.states("c")][: len(red)] == [k == "k3" for k in red]
    assert store.alerts.state("c", "k4") == _stored_state(4)
    assert store.alerts.state("c", "k3") == _stored_state(3)
    assert [q.transition.kpi for q in store.alerts.batcher("c").queued] == ["k1"]
    assert store.alerts.next_flush("c") == datetime(2026, 11, 3, 9, tzinfo=UTC)
    assert store.alerts.chats_with_queued_alerts() == ["c"]
    assert store.alerts.sent_marks("c") == {"stale:k2": "2026-11-01"}
    assert store.alerts.sent_marks("d") == {}
    assert "sent" not in next(iter(db.docs("jobs:c").values()))
    assert store.alerts.jobstate("d").last_fire == {"digest": datetime(2026, 11, 4, 9, tzinfo=UTC)}
    assert [t.kpi for t in store.alerts.recent_log("c")] == ["k1"]
    assert check_book(dict(next(iter(db.docs("abook:c").values())))) == []


# --------------------------------------------------------------------------- migration 4


def test_migration_4_leaves_every_table_as_it_was_and_older_code_refuses_the_store(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Schema 4 lets a row override a red state of the book (the book says so): schema 3
    stores have none, so nothing moves; the recorded version makes an older scorecard-bot,
    which would read the book's older copies of those states, refuse the store."""
    tables = _v2_alert_tables()
    backend = MemoryBackend()
    backend.commit(Batch({n: orjson.dumps(d) for n, d in tables.items()}, schema=2))
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", 3)
    assert migrate(Database(backend)) == [3]
    before = {name: backend.load(name) for name in backend.names()}
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", 4)
    assert migrate(Database(backend)) == [4]
    assert backend.schema_version() == 4
    assert {name: backend.load(name) for name in backend.names()} == before
    store = Store(Database(backend))
    store.alerts.put_state("c", _stored_state(1).state.model_copy(update={"value": 7}), test=False)
    store.alerts.put_state("c", _stored_state(1).state.model_copy(update={"value": 8}), test=False)
    store.db.flush()
    # a row the older code would miss
    assert store.db.table_names(row_name("c")) == {row_name("c", "k1")}
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", 3)
    with pytest.raises(SchemaTooNew, match="Upgrade scorecard-bot"):
        migrate(Database(backend))
    assert backend.schema_version() == 4


def test_migration_5_leaves_every_table_as_it_was_and_older_code_refuses_the_store(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Schema 5 lets change rows add to an alert book (the book says rows may exist):
    schema 4 stores have none, so nothing moves, and they read as they did; the recorded
    version makes an older scorecard-bot, which would read the book without them, refuse
    the store."""
    tables = _v2_alert_tables()
    backend = MemoryBackend()
    backend.commit(Batch({n: orjson.dumps(d) for n, d in tables.items()}, schema=2))
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", 4)
    assert migrate(Database(backend)) == [3, 4]
    store = Store(Database(backend))
    red = _stored_state(1).state
    store.alerts.put_state("c", red.model_copy(update={"value": 7}), test=False)
    store.alerts.put_state("c", red.model_copy(update={"value": 8}), test=False)  # a row
    store.db.flush()
    before = {name: backend.load(name) for name in backend.names()}
    read = (store.alerts.red_docs("c"), store.alerts.states("c"), store.alerts.batcher("c"))
    monkeypatch.undo()
    assert migrate(Database(backend)) == [5]
    assert backend.schema_version() == 5
    assert {name: backend.load(name) for name in backend.names()} == before
    store = Store(Database(backend))
    assert (
        store.alerts.red_docs("c"),
        store.alerts.states("c"),
        store.alerts.batcher("c"),
    ) == read
    with store.db.atomic(), store.alerts.batch(rows=True):
        store.alerts.put_state("c", red.model_copy(update={"kpi": "k11", "value": 9}), test=False)
    store.db.flush()
    # a change the older code would miss
    assert list(store.db.docs(change_name("c"))) == ["1"]
    assert "k11" in dict(store.alerts.red_docs("c"))
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", 4)
    with pytest.raises(SchemaTooNew, match="Upgrade scorecard-bot"):
        migrate(Database(backend))
    assert backend.schema_version() == 5


def _stored_state(n: int) -> StoredState:
    state = {**_state(n), "status": "red" if n % 2 else "green"}
    return StoredState(AlertState.model_validate(state), test=n == 3)


def test_a_migration_that_fails_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    db = at_schema_1(v1_tables())

    def broken(db: Database) -> None:
        db.drop_table("kpi:c")
        raise RuntimeError("bug in a migration")

    monkeypatch.setitem(MIGRATIONS, 2, broken)
    with pytest.raises(RuntimeError):
        migrate(db)
    assert db.backend.schema_version() == 1 and "kpi:c" in db.table_names()


def test_a_store_from_a_newer_version_is_refused_untouched() -> None:
    backend = MemoryBackend()
    backend.commit(Batch({"t": b"{}"}, schema=SCHEMA_VERSION + 1))
    with pytest.raises(SchemaTooNew, match="Upgrade scorecard-bot"):
        migrate(Database(backend))
    assert backend.commits == 1


# --------------------------------------------------------------------------- journal engine


def _line(body: bytes) -> bytes:
    return b"%08x\t%b\n" % (zlib.crc32(body), body)


def _header(file: str, tables: int | None = None) -> bytes:
    header: dict[str, Any] = {
        "format": "scorecard-bot.store",
        "file": file,
        "schema": 1,
        "generation": 3,
    }
    if tables is not None:
        header["tables"] = tables
    return _line(b"H\t" + orjson.dumps(header))


def _put(name: str, docs: dict[str, Any]) -> bytes:
    return _line(b"P\t" + orjson.dumps(name) + b"\t" + orjson.dumps(docs))


def _batch(records: list[bytes]) -> bytes:
    crc = 0
    for record in records:
        crc = zlib.crc32(record, crc)
    size = sum(len(r) for r in records)
    return b"".join(records) + _line(b"C\t%d\t%d\t%08x" % (len(records), size, crc))


def write_journal_store(root: Path, tables: Tables, *, torn_tail: bool = True) -> None:
    """Files exactly as the journal engine left them: a snapshot, then one batch on top."""
    root.mkdir(parents=True)
    names = sorted(tables)
    first, later = names[:-2], names[-2:]
    snapshot = _header("snapshot", len(first)) + b"".join(_put(n, tables[n]) for n in first)
    (root / "store.snapshot").write_bytes(snapshot)
    journal = _header("journal") + _batch([_put(n, tables[n]) for n in later])
    if torn_tail:  # a batch cut short by a kill: never acknowledged, never imported
        journal += _put("never:saved", {"1": {"x": 1}})[:20]
    (root / "store.journal").write_bytes(journal + b"\0" * 512)
    (root / "store.lock").write_text("4242\n")


def test_an_old_store_is_moved_to_sqlite_once_verified_and_kept_as_a_backup(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "data"
    write_journal_store(root, v1_tables())
    snapshot = (root / "store.snapshot").read_bytes()
    with caplog.at_level(logging.WARNING):
        store = open_store(root)
    try:
        assert store.kpis.get("c", "cac") is not None
        assert len(store.alerts.recent_log("c", 100)) == 25
        assert [log.amount for log in store.initiatives.logs("c", "articles")] == [1, 1, 2]
        assert not store.db.table_names("never:")
    finally:
        store.close()
    said = caplog.text
    assert "moved 8 tables (39 documents) from store.snapshot + store.journal into SQLite" in said
    assert "migrated the stored data to schema 2" in said
    assert not (root / "store.snapshot").exists() and not (root / "store.journal").exists()
    assert (root / BACKUP_DIR / "store.snapshot").read_bytes() == snapshot

    caplog.clear()
    with caplog.at_level(logging.WARNING):
        again = open_store(root)
    again.close()
    assert "moved" not in caplog.text and "migrated" not in caplog.text  # once


def test_a_damaged_old_store_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    root = tmp_path / "data"
    write_journal_store(root, v1_tables(), torn_tail=False)
    raw = bytearray((root / "store.snapshot").read_bytes())
    raw[len(raw) // 2] ^= 0x01
    (root / "store.snapshot").write_bytes(bytes(raw))
    with pytest.raises(StoreCorrupt, match=r"store\.snapshot is damaged"):
        open_store(root)
    assert (root / "store.snapshot").read_bytes() == bytes(raw)
    assert (root / "store.journal").exists() and not (root / BACKUP_DIR).exists()
