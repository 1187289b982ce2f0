"""The durable TinyDB engine: what survives a reopen, what is refused, what rolls back."""

from __future__ import annotations

import asyncio
import datetime as dt
import errno
import os
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import orjson
import pytest
from tinydb import Query

from storage import engine
from storage.engine import (
    DEFAULT_INLINE_FSYNC_BELOW,
    JOURNAL_FILE,
    LOCK_FILE,
    SCHEMA_VERSION,
    SNAPSHOT_FILE,
    Database,
)
from storage.errors import SchemaTooNew, StoreCorrupt, StoreError, StoreFailed, StoreLocked

ROOT = Path(__file__).resolve().parents[2]
Q = Query()
State = dict[str, dict[int, dict[str, Any]]]


def state(db: Database) -> State:
    """Every table's documents by id, as plain dicts."""
    return {
        name: {doc.doc_id: dict(doc) for doc in db.table(name).all()}
        for name in sorted(db.table_names())
    }


def reopened(path: Path) -> State:
    """The state a fresh process would see (no snapshot on close: keep the files as they are)."""
    db = Database.open(path)
    try:
        return state(db)
    finally:
        db.close(snapshot=False)


def file_bytes(path: Path) -> dict[str, bytes]:
    """Contents of the data files (not the lock), to prove a refusal changed nothing."""
    return {p.name: p.read_bytes() for p in sorted(path.iterdir()) if p.name != LOCK_FILE}


def written(journal: Path) -> bytes:
    """The journal without the zeros kept ahead of the data."""
    return journal.read_bytes().rstrip(b"\0")


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def db(data: Path) -> Iterator[Database]:
    db = Database.open(data)
    yield db
    db.close(snapshot=False)


def test_documents_survive_close_and_reopen(data: Path) -> None:
    with Database.open(data) as db:
        db.table("kpis").insert({"key": "cac", "name": "Customer acquisition cost"})
        db.table("m:c1:cac:2026-11").insert_multiple(
            [{"day": "2026-11-01", "value": 95.5}, {"day": "2026-11-02", "value": None}]
        )
        before = state(db)
    assert (data / SNAPSHOT_FILE).exists()
    assert reopened(data) == before
    assert before["m:c1:cac:2026-11"][2] == {"day": "2026-11-02", "value": None}


def test_journal_replay_restores_updates_removes_and_drops(db: Database, data: Path) -> None:
    kpis, gone = db.table("kpis"), db.table("gone")
    kpis.insert_multiple([{"key": k, "v": i} for i, k in enumerate("abcd")])
    gone.insert({"x": 1})
    db.flush()
    kpis.update({"v": 10}, Q.key == "a")
    kpis.remove(Q.key == "b")
    db.drop_table("gone")
    db.table("new").insert({"y": 2})
    db.flush()
    expected = state(db)
    db.close(snapshot=False)
    assert reopened(data) == expected
    assert set(expected) == {"kpis", "new"}


WRITE_PATHS: dict[str, Callable[[Database], object]] = {
    "insert": lambda db: db.table("t").insert({"k": 9}),
    "insert_multiple": lambda db: db.table("t").insert_multiple([{"k": 7}, {"k": 8}]),
    "update_fields": lambda db: db.table("t").update({"v": 1}, Q.k == 1),
    "update_callable": lambda db: db.table("t").update(lambda d: d.update(v=2), doc_ids=[2]),
    "update_multiple": lambda db: db.table("t").update_multiple([({"v": 3}, Q.k == 1)]),
    "upsert_existing": lambda db: db.table("t").upsert({"k": 1, "v": 4}, Q.k == 1),
    "upsert_new": lambda db: db.table("t").upsert({"k": 5}, Q.k == 5),
    "remove": lambda db: db.table("t").remove(Q.k == 2),
    "truncate": lambda db: db.table("t").truncate(),
    "drop_table": lambda db: db.drop_table("t"),
    "tinydb_drop_tables": lambda db: db._tinydb.drop_tables(),
    "new_table_persist_empty": lambda db: db._tinydb.table("empty", persist_empty=True),
}


@pytest.mark.parametrize("op", WRITE_PATHS)
def test_every_tinydb_write_path_is_journalled(db: Database, data: Path, op: str) -> None:
    db.table("t").insert_multiple([{"k": 1}, {"k": 2}])
    db.table("other").insert({"k": 3})
    db.flush()
    WRITE_PATHS[op](db)
    assert db.stats().pending_records >= 1
    expected = state(db)
    db.close(snapshot=False)
    assert reopened(data) == expected


def test_an_update_that_changes_nothing_writes_nothing(db: Database) -> None:
    db.table("t").insert({"k": 1})
    db.flush()
    db.table("t").update({"k": 1})
    assert db.stats().pending_records == 0


def test_many_writes_to_one_table_before_a_commit_save_it_once(db: Database) -> None:
    for i in range(50):
        db.table("t").insert({"i": i})
    assert db.stats().pending_records == 1
    db.flush()
    journal = (db.path or Path()) / JOURNAL_FILE
    assert journal.read_bytes().count(b'\tP\t"t"\t') == 1


@pytest.mark.parametrize(
    "tail",
    [b'0badc0de\tP\t"t"\t{"9":{"k"', b"\0" * 300, b"00000000\tC\t1\n", b'1\tP\t"x"\t{}\n'],
    ids=["cut-line", "zeros", "bad-crc-line", "bad-frame"],
)
def test_torn_final_record_is_ignored_and_cut_off(data: Path, tail: bytes) -> None:
    with Database.open(data) as db:
        db.table("t").insert({"k": 1})
        db.flush()
        db.table("t").insert({"k": 2})
        db.close(snapshot=False)
        expected = {"t": {1: {"k": 1}, 2: {"k": 2}}}
    journal = data / JOURNAL_FILE
    good = written(journal)
    journal.write_bytes(good + tail)
    assert reopened(data) == expected
    assert journal.read_bytes() == good


def test_batch_without_its_end_line_is_dropped_whole(data: Path) -> None:
    db = Database.open(data)
    db.table("a").insert({"k": 1})
    db.flush()
    saved = written(data / JOURNAL_FILE)
    with db.atomic():
        db.table("a").insert({"k": 2})
        db.table("b").insert({"k": 3})
    db.flush()
    db.close(snapshot=False)
    journal = data / JOURNAL_FILE
    full = written(journal)
    # a kill after the first record of the batch reached the disk, but before the rest
    first_record_end = full.index(b"\n", len(saved)) + 1
    journal.write_bytes(full[:first_record_end])
    assert reopened(data) == {"a": {1: {"k": 1}}}


def test_last_batch_with_a_hole_from_a_power_loss_is_dropped_not_refused(data: Path) -> None:
    db = Database.open(data)
    db.table("a").insert({"k": 1})
    db.flush()
    saved = written(data / JOURNAL_FILE)
    db.table("a").insert({"k": 2})
    db.table("b").insert({"k": 3})
    db.flush()
    db.close(snapshot=False)
    journal = data / JOURNAL_FILE
    full = bytearray(written(journal))
    # the disk kept the end of the unsynced batch (valid lines, its end line) but not a
    # block in its middle
    full[len(saved) + 4 : len(saved) + 40] = bytes(36)
    journal.write_bytes(bytes(full))
    assert reopened(data) == {"a": {1: {"k": 1}}}


def test_damaged_record_before_valid_ones_is_refused_naming_the_file(data: Path) -> None:
    with Database.open(data) as db:
        for i in range(3):
            db.table("t").insert({"k": i})
            db.flush()
        db.close(snapshot=False)
    journal = data / JOURNAL_FILE
    raw = bytearray(journal.read_bytes())
    raw[raw.index(b'"k":1') + 4] = ord("7")
    journal.write_bytes(bytes(raw))
    before = file_bytes(data)
    with pytest.raises(StoreCorrupt, match=r"store\.journal is damaged \(damaged record at byte"):
        Database.open(data)
    assert file_bytes(data) == before


def test_damaged_snapshot_is_refused(data: Path) -> None:
    with Database.open(data) as db:
        db.table("t").insert({"k": 1})
    snapshot = data / SNAPSHOT_FILE
    snapshot.write_bytes(snapshot.read_bytes().replace(b'"k":1', b'"k":2'))
    with pytest.raises(StoreCorrupt, match=r"store\.snapshot is damaged"):
        Database.open(data)


def _set_schema(path: Path, schema: int) -> None:
    """Rewrite a file's header as a future scorecard-bot would (valid CRC)."""
    raw = path.read_bytes()
    nl = raw.index(b"\n")
    header = orjson.loads(raw[11:nl])
    header["schema"] = schema
    body = b"H\t" + orjson.dumps(header)
    path.write_bytes(b"%08x\t%b\n" % (zlib.crc32(body), body) + raw[nl + 1 :])


@pytest.mark.parametrize("file", [SNAPSHOT_FILE, JOURNAL_FILE])
def test_store_from_a_newer_version_is_refused_and_left_untouched(data: Path, file: str) -> None:
    with Database.open(data) as db:
        db.table("t").insert({"k": 1})
    _set_schema(data / file, SCHEMA_VERSION + 1)
    (data / JOURNAL_FILE).write_bytes((data / JOURNAL_FILE).read_bytes() + b"torn")
    before = file_bytes(data)
    with pytest.raises(SchemaTooNew) as info:
        Database.open(data)
    assert str(info.value) == (
        f"{data / file} was written by a newer scorecard-bot (schema {SCHEMA_VERSION + 1}; "
        f"this one understands {SCHEMA_VERSION}). Upgrade scorecard-bot; the data was not touched."
    )
    assert file_bytes(data) == before


def test_second_process_is_refused_while_the_first_holds_the_directory(db: Database) -> None:
    probe = (
        "import sys; from pathlib import Path\n"
        "from storage.engine import Database\n"
        "from storage.errors import StoreLocked\n"
        "try:\n    Database.open(Path(sys.argv[1]))\n"
        "except StoreLocked as exc:\n    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, str(db.path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert f"is already used by another scorecard-bot (pid {os.getpid()})" in out.stdout


def test_lock_refuses_a_second_open_until_close(data: Path) -> None:
    first = Database.open(data)
    with pytest.raises(StoreLocked, match=f"{data} is already used"):
        Database.open(data)
    first.close()
    Database.open(data).close()


def test_atomic_block_that_raises_leaves_tables_and_pending_as_before(
    db: Database, data: Path
) -> None:
    t = db.table("t")
    t.insert_multiple([{"k": 1, "tags": ["a"]}, {"k": 2}])
    db.table("keep").insert({"k": 0})
    db.flush()
    t.update({"k": 3}, doc_ids=[2])  # pending before the block
    before, pending = state(db), db.stats().pending_records
    assert t.search(Q.k == 1)  # fill the query cache
    with pytest.raises(ZeroDivisionError), db.atomic():
        t.update({"k": 10, "tags": ["b"]}, Q.k == 1)
        t.remove(doc_ids=[2])
        db.drop_table("keep")
        db.table("fresh").insert({"k": 4})
        assert t.search(Q.k == 10)
        _ = 1 / 0
    assert state(db) == before
    assert db.stats().pending_records == pending
    assert t.search(Q.k == 1) and not t.search(Q.k == 10)
    db.close(snapshot=False)
    assert reopened(data) == before


def test_nested_atomic_rolls_back_only_the_inner_block(db: Database) -> None:
    t = db.table("t")
    with db.atomic():
        t.insert({"k": 1})
        with pytest.raises(KeyError), db.atomic():
            t.insert({"k": 2})
            raise KeyError("inner")
        t.insert({"k": 3})
    assert [d["k"] for d in t.all()] == [1, 3]


def test_failed_update_halfway_leaves_the_table_unchanged(db: Database) -> None:
    t = db.table("t")
    t.insert_multiple([{"k": i} for i in range(5)])
    before = state(db)

    def bump(doc: MutableMapping[str, Any]) -> None:
        if doc["k"] == 3:
            raise ValueError("bad document")
        doc["k"] += 100

    with pytest.raises(ValueError, match="bad document"):
        t.update(bump)
    assert state(db) == before


def test_values_json_would_change_are_refused_and_the_table_unchanged(db: Database) -> None:
    t = db.table("t")
    t.insert({"k": 1})
    before = state(db)
    with pytest.raises(TypeError, match=r"table 't': cannot store a datetime"):
        t.update({"at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)})
    with pytest.raises(TypeError, match="cannot store"):
        t.insert({"k": {1, 2}})
    assert state(db) == before


WRITE_MODES = {"loop": DEFAULT_INLINE_FSYNC_BELOW, "writer-thread": 0.0}


@pytest.mark.parametrize("inline_below", WRITE_MODES.values(), ids=WRITE_MODES.keys())
async def test_200_concurrent_writers_each_committing_are_all_saved(
    data: Path, inline_below: float
) -> None:
    db = Database.open(data, inline_fsync_below=inline_below)

    async def writer(i: int) -> None:
        db.table(f"m:{i % 7}").insert({"i": i})
        db.table("config").upsert({"w": i % 3, "last": i}, Q.w == i % 3)
        await db.commit()

    await asyncio.gather(*(writer(i) for i in range(200)))
    assert db.stats().syncs < 20  # callers that arrive during a write share the next one
    db.close(snapshot=False)
    saved = reopened(data)
    assert sorted(d["i"] for name, t in saved.items() if name[0] == "m" for d in t.values()) == (
        list(range(200))
    )
    assert len(saved["config"]) == 3


@pytest.mark.parametrize("inline_below", WRITE_MODES.values(), ids=WRITE_MODES.keys())
async def test_cancelled_commit_does_not_stall_later_commits(
    data: Path, inline_below: float
) -> None:
    db = Database.open(data, inline_fsync_below=inline_below)
    db.table("t").insert({"k": 1})
    first = asyncio.ensure_future(db.commit())
    await asyncio.sleep(0)  # let it hand the batch to the writer
    first.cancel()
    db.table("t").insert({"k": 2})
    await db.commit()
    assert on_disk(data) == {"t": {1: {"k": 1}, 2: {"k": 2}}}
    db.close()


def on_disk(data: Path) -> State:
    """What the journal holds right now, read without the lock (the owner is still open)."""
    journal = data / JOURNAL_FILE
    raw = journal.read_bytes()
    _, start = engine._parse_header(journal, raw, "journal")
    records, _ = engine._read_records(journal, raw, start, tail_ok=True)
    tables: State = {}
    batch: list[bytes] = []
    for line in records:
        if engine._commit_count(journal, line) is None:
            batch.append(line)
            continue
        for record in batch:
            kind, name = engine._record_name(journal, record)
            if kind == b"P":
                tables[name] = {int(i): doc for i, doc in engine._docs_of(record).items()}
            else:
                tables.pop(name, None)
        batch = []
    return tables


def test_compaction_keeps_everything_and_starts_a_fresh_journal(data: Path) -> None:
    db = Database.open(data, compact_bytes=2_000)
    for i in range(60):
        db.table(f"m:{i % 4}").insert({"i": i, "note": "x" * 40})
        db.flush()
    stats = db.stats()
    assert stats.compactions >= 3 and stats.generation == stats.compactions
    assert stats.journal_bytes < 2_000 + 1_000
    expected = state(db)
    db.close()
    assert (data / JOURNAL_FILE).read_bytes().count(b"\n") == 1  # header only
    assert sorted(p.name for p in data.iterdir()) == [JOURNAL_FILE, LOCK_FILE, SNAPSHOT_FILE]
    assert reopened(data) == expected


def test_journal_older_than_the_snapshot_is_ignored(data: Path) -> None:
    db = Database.open(data)
    db.table("t").insert({"v": "old"})
    db.flush()
    old_journal = (data / JOURNAL_FILE).read_bytes()
    db.table("t").update({"v": "new"})
    db.close()
    # a kill between the snapshot rename and the journal rename leaves exactly this
    (data / JOURNAL_FILE).write_bytes(old_journal)
    (data / (SNAPSHOT_FILE + ".tmp")).write_bytes(b"half a snapshot")
    assert reopened(data) == {"t": {1: {"v": "new"}}}
    assert not (data / (SNAPSHOT_FILE + ".tmp")).exists()


async def test_aclose_saves_a_snapshot_and_releases_the_directory(data: Path) -> None:
    db = Database.open(data)
    db.table("t").insert({"k": 1})
    await db.aclose()
    assert written(data / JOURNAL_FILE).count(b"\n") == 1  # all in the snapshot
    assert reopened(data) == {"t": {1: {"k": 1}}}


async def test_slow_disk_moves_fsync_off_the_loop(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    append = engine._Files.append

    def spy(self: engine._Files, records: list[bytes]) -> None:
        threads.append(threading.current_thread().name)
        append(self, records)
        self.sync_seconds = 0.5 if len(threads) == 1 else 0.0  # the first fsync was slow

    monkeypatch.setattr(engine._Files, "append", spy)
    for k in range(3):
        db.table("t").insert({"k": k})
        await db.commit()
    assert threads[0] == threading.current_thread().name  # fast until measured otherwise
    assert threads[1].startswith("store-writer")
    assert threads[2] == threading.current_thread().name  # fast again


def test_stored_schema_reports_what_the_files_say(data: Path) -> None:
    with Database.open(data) as db:
        assert db.stored_schema == SCHEMA_VERSION
        db.table("t").insert({"k": 1})


def test_in_memory_store_writes_no_files_and_still_rolls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    db = Database.open(None)
    db.table("t").insert({"k": 1})
    asyncio.run(db.commit())
    db.flush()
    with pytest.raises(RuntimeError), db.atomic():
        db.table("t").insert({"k": 2})
        raise RuntimeError
    assert state(db) == {"t": {1: {"k": 1}}}
    assert db.stats().tables == 1
    db.close()
    assert list(tmp_path.iterdir()) == []


async def test_commit_inside_atomic_is_refused(db: Database) -> None:
    with db.atomic():
        db.table("t").insert({"k": 1})
        with pytest.raises(RuntimeError, match="atomic"):
            await db.commit()


def test_closed_store_refuses_reads_and_writes(data: Path) -> None:
    db = Database.open(data)
    t = db.table("t")
    db.close()
    with pytest.raises(StoreError, match="closed"):
        t.insert({"k": 1})
    with pytest.raises(StoreError, match="closed"):
        t.all()
    with pytest.raises(StoreError, match="closed"):
        db.flush()


@pytest.mark.parametrize("inline_below", WRITE_MODES.values(), ids=WRITE_MODES.keys())
async def test_disk_failure_is_reported_and_stops_further_saves(
    data: Path, monkeypatch: pytest.MonkeyPatch, inline_below: float
) -> None:
    db = Database.open(data, inline_fsync_below=inline_below)
    db.table("t").insert({"k": 1})
    await db.commit()

    def broken(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fdatasync", broken)
    db.table("t").insert({"k": 2})
    with pytest.raises(StoreFailed, match="Restart scorecard-bot"):
        await db.commit()
    with pytest.raises(StoreFailed):
        db.table("t").insert({"k": 3})
    assert len(db.table("t")) == 2  # reads keep working
    monkeypatch.undo()
    db.close()
    assert reopened(data)["t"][1] == {"k": 1}
