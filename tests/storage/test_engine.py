"""The document layer over the port: what is saved, when, what rolls back, what is refused."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import errno
import gc
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict
from tinydb import Query

from storage import engine
from storage.engine import Database
from storage.errors import StoreCorrupt, StoreError, StoreFailed, StoreLocked
from storage.port import Batch, MemoryBackend
from storage.sqlite import DB_FILE, SqliteBackend

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
    """The state a fresh process would see."""
    db = Database.open(path)
    try:
        return state(db)
    finally:
        db.close()


class SpyBackend(MemoryBackend):
    """The memory backend, recording each batch and able to fail like a full disk."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[dict[str, bytes | None]] = []
        self.loads = 0
        self.full = False

    def load(self, name: str) -> bytes | None:
        self.loads += 1
        return super().load(name)

    def commit(self, batch: Batch) -> None:
        if self.full:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.batches.append(dict(batch.tables))
        super().commit(batch)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture(params=["memory", "sqlite"])
def db(request: pytest.FixtureRequest, data: Path) -> Iterator[Database]:
    """The database over each backend of the port."""
    opened = Database.open(None if request.param == "memory" else data)
    yield opened
    opened.close()


@pytest.fixture
def spy() -> SpyBackend:
    return SpyBackend()


@pytest.fixture
def spied(spy: SpyBackend) -> Database:
    return Database(spy)


def test_a_range_of_tables_stops_before_the_bound_on_each_backend(db: Database) -> None:
    """`load_after` with `before` answers the names between the two, in order (a preload
    walks one kind without reading the next kinds' tables)."""
    for name in ("a:1", "a:2", "a:3", "ab:1", "b:1"):
        db.put_table(name, {1: {"v": name}})
    asyncio.run(db.commit())
    assert [n for n, _ in db.backend.load_after("a:", 2, "a;")] == ["a:1", "a:2"]
    assert [n for n, _ in db.backend.load_after("a:2", 5, "a;")] == ["a:3"]
    assert db.backend.load_after("aa:", 5, "aa;") == []
    assert [n for n, _ in db.backend.load_after("a:3", 2)] == ["ab:1", "b:1"]


def test_documents_survive_close_and_reopen(data: Path) -> None:
    with Database.open(data) as db:
        db.table("kpis").insert({"key": "cac", "name": "Customer acquisition cost"})
        db.table("m:c1:cac:2026-11").insert_multiple(
            [{"day": "2026-11-01", "value": 95.5}, {"day": "2026-11-02", "value": None}]
        )
        before = state(db)
    assert (data / DB_FILE).exists()
    assert reopened(data) == before
    assert before["m:c1:cac:2026-11"][2] == {"day": "2026-11-02", "value": None}


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
    "put_table": lambda db: db.put_table("t", {5: {"k": 5}}),
}


@pytest.mark.parametrize("op", WRITE_PATHS)
def test_every_tinydb_write_path_is_saved(data: Path, op: str) -> None:
    with Database.open(data) as db:
        db.table("t").insert_multiple([{"k": 1}, {"k": 2}])
        db.table("other").insert({"k": 3})
        db.flush()
        WRITE_PATHS[op](db)
        assert db.stats().dirty_tables == 1
        expected = state(db)
    assert reopened(data) == expected


def test_a_commit_writes_only_the_tables_it_changed(spied: Database, spy: SpyBackend) -> None:
    for n in range(5):
        spied.table(f"t{n}").insert({"k": n})
    spied.flush()
    spied.table("t3").update({"k": 30})
    spied.table("t3").insert({"k": 31})
    spied.drop_table("t4")
    spied.flush()
    assert list(spy.batches[-1]) == ["t3", "t4"] and spy.batches[-1]["t4"] is None


def test_an_update_that_changes_nothing_writes_nothing(spied: Database, spy: SpyBackend) -> None:
    spied.table("t").insert({"k": 1})
    spied.flush()
    spied.table("t").update({"k": 1})
    assert spied.stats().dirty_tables == 0
    spied.flush()
    assert len(spy.batches) == 1


async def test_reads_never_commit(spied: Database, spy: SpyBackend) -> None:
    spied.table("t").insert({"k": 1})
    await spied.commit()
    commits = spy.commits
    for _ in range(3):
        assert spied.table("t").all() == [{"k": 1}]
        assert spied.table("missing").all() == []
        await spied.commit()
    assert spy.commits == commits


async def test_lazy_tables_do_not_make_a_read_wait_but_ride_with_the_next_write(
    spied: Database, spy: SpyBackend
) -> None:
    spied.mark_lazy("seen:")
    spied.table("seen:1").insert({"keys": ["u1"]})
    await spied.commit()
    assert spy.commits == 0  # a read-only command with an update-id mark: no disk write
    spied.table("kpi:c").insert({"key": "cac"})
    await spied.commit()
    assert set(spy.batches[-1]) == {"seen:1", "kpi:c"}  # one transaction carries both


def test_lazy_changes_are_saved_at_close(data: Path) -> None:
    db = Database.open(data)
    db.mark_lazy("seen:")
    db.table("seen:1").insert({"keys": ["u1"]})
    db.close()
    assert reopened(data) == {"seen:1": {1: {"keys": ["u1"]}}}


def test_documents_handed_out_are_copies(db: Database) -> None:
    db.table("t").insert({"k": 1, "tags": ["a"], "nested": {"x": [1]}})
    doc = db.table("t").all()[0]
    doc["tags"].append("b")
    doc["nested"]["x"].append(2)
    found = db.table("t").search(Q.k == 1)[0]
    found["tags"].clear()
    assert db.table("t").all() == [{"k": 1, "tags": ["a"], "nested": {"x": [1]}}]


class Item(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    value: int


def test_models_are_validated_once_per_table_version(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    db.table("t").insert_multiple([{"key": "a", "value": 1}, {"key": "b", "value": 2}])
    calls: list[object] = []
    validate = Item.model_validate

    def counting(obj: Any, **kwargs: Any) -> Item:
        calls.append(obj)
        return validate(obj, **kwargs)

    monkeypatch.setattr(Item, "model_validate", counting)
    first = db.models("t", Item)
    assert db.models("t", Item) == first and len(calls) == 2  # the second read: no validation
    db.table("t").update({"value": 3}, Q.key == "a")
    assert [i.value for i in db.models("t", Item)] == [3, 2] and len(calls) == 4


def test_the_table_cache_stays_bounded(
    spied: Database, spy: SpyBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "CACHE_TABLES", 50)
    monkeypatch.setattr(engine, "CACHE_BYTES", 4_000)
    for n in range(300):
        spied.table(f"m:{n}").insert({"n": n, "note": "x" * 50})
    spied.flush()
    stats = spied.stats()
    assert stats.cached_tables <= 50 and stats.cached_bytes <= 4_000
    loads = spy.loads
    assert spied.table("m:3").all() == [{"n": 3, "note": "x" * 50}]  # evicted: loaded again
    assert spy.loads == loads + 1


def test_atomic_block_that_raises_leaves_everything_as_before(db: Database) -> None:
    t = db.table("t")
    t.insert_multiple([{"k": 1, "tags": ["a"]}, {"k": 2}])
    db.table("keep").insert({"k": 0})
    db.flush()
    t.update({"k": 3}, doc_ids=[2])  # unsaved before the block
    before = state(db)
    with pytest.raises(ZeroDivisionError), db.atomic():
        t.update({"k": 10, "tags": ["b"]}, Q.k == 1)
        t.remove(doc_ids=[2])
        db.drop_table("keep")
        db.table("fresh").insert({"k": 4})
        assert t.search(Q.k == 10)
        _ = 1 / 0
    assert state(db) == before
    assert db.stats().dirty_tables == 1
    db.flush()
    if db.path is not None:
        db.close()
        assert reopened(db.path) == before


def test_nested_atomic_rolls_back_only_the_inner_block(db: Database) -> None:
    t = db.table("t")
    with db.atomic():
        t.insert({"k": 1})
        with pytest.raises(KeyError), db.atomic():
            t.insert({"k": 2})
            raise KeyError("inner")
        t.insert({"k": 3})
    assert [d["k"] for d in t.all()] == [1, 3]


def test_an_outer_atomic_rolls_back_what_it_wrote_after_an_inner_block_of_nothing(
    db: Database,
) -> None:
    """Both blocks' savepoints were empty, so equal: leaving the inner one removed the
    outer's (list.remove compares by value), and the outer's later writes went unrecorded."""
    t = db.table("t")
    with pytest.raises(KeyError), db.atomic():
        with db.atomic():
            pass
        t.insert({"k": 1})
        raise KeyError("outer")
    assert t.all() == []
    with pytest.raises(KeyError), db.atomic():
        with pytest.raises(ValueError), db.atomic():
            raise ValueError("inner, having written nothing")
        t.insert({"k": 2})
        raise KeyError("outer")
    assert t.all() == []


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


async def test_200_concurrent_writers_each_committing_are_all_saved(data: Path) -> None:
    db = Database.open(data)

    async def writer(i: int) -> None:
        db.table(f"m:{i % 7}").insert({"i": i})
        db.table("config").upsert({"w": i % 3, "last": i}, Q.w == i % 3)
        await db.commit()

    await asyncio.gather(*(writer(i) for i in range(200)))
    assert db.commits < 20  # callers that arrive during a write share the next one
    db.close()
    saved = reopened(data)
    assert sorted(d["i"] for name, t in saved.items() if name[0] == "m" for d in t.values()) == (
        list(range(200))
    )
    assert len(saved["config"]) == 3


async def test_cancelled_commit_does_not_stall_later_commits(data: Path) -> None:
    db = Database.open(data)
    db.table("t").insert({"k": 1})
    first = asyncio.ensure_future(db.commit())
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    first.cancel()
    db.table("t").insert({"k": 2})
    await db.commit()
    db.close()
    assert reopened(data) == {"t": {1: {"k": 1}, 2: {"k": 2}}}


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


def test_second_process_is_refused_while_the_first_holds_the_directory(data: Path) -> None:
    probe = (
        "import sys; from pathlib import Path\n"
        "from storage.engine import Database\n"
        "from storage.errors import StoreLocked\n"
        "try:\n    Database.open(Path(sys.argv[1]))\n"
        "except StoreLocked as exc:\n    print(exc)\n"
    )
    with Database.open(data):
        out = subprocess.run(
            [sys.executable, "-c", probe, str(data)],
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


# disk full ----------------------------------------------------------------------------


async def test_disk_full_fails_writes_with_one_line_reads_go_on_and_writes_resume(
    spied: Database, spy: SpyBackend
) -> None:
    spied.table("t").insert({"k": 1})
    await spied.commit()
    spy.full = True
    errors = []
    for n in range(50):
        spied.table("t").insert({"k": 100 + n})
        with pytest.raises(StoreFailed) as caught:
            await spied.commit()
        errors.append(caught.value)
        assert spied.table("t").all() == [{"k": 1}]  # the refused change is gone, reads go on
        assert spied.stats().dirty_tables == 0  # nothing piles up in memory
    assert "No space left on device" in str(errors[-1])
    assert str(errors[0]) == str(errors[-1]) and "\n" not in str(errors[-1])
    assert errors[-1].__context__ is None or errors[-1].__context__ is not errors[0]
    spy.full = False  # space returns: the next write just works
    spied.table("t").insert({"k": 2})
    await spied.commit()
    assert [d["k"] for d in spied.table("t").all()] == [1, 2]


def _mount_tmpfs(where: Path, size: str) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


def _fill(path: Path) -> None:
    """Write zeros to `path` until the disk is full."""
    with open(path, "wb") as f, contextlib.suppress(OSError):
        while True:
            f.write(b"\0" * 65536)
            f.flush()


async def test_a_really_full_disk_refuses_writes_and_recovers(tmp_path: Path) -> None:
    mount = tmp_path / "small"
    if not _mount_tmpfs(mount, "2m"):
        pytest.skip("cannot mount a tmpfs here; the injected ENOSPC test covers this")
    try:
        db = Database.open(mount / "data")
        db.table("t").insert({"k": 0})
        await db.commit()
        _fill(mount / "filler")
        refused = 0
        for n in range(20):
            db.table(f"big:{n}").insert({"blob": "x" * 200_000})
            try:
                await db.commit()
            except StoreFailed:
                refused += 1
        assert refused > 0
        assert db.table("t").all() == [{"k": 0}]  # reads go on
        (mount / "filler").unlink()
        db.table("t").insert({"k": 1})
        await db.commit()  # space is back: writes resume by themselves
        db.close()
        assert reopened(mount / "data")["t"] == {1: {"k": 0}, 2: {"k": 1}}
    finally:
        _unmount(mount)


def _unmount(mount: Path) -> None:
    subprocess.run(["umount", "-l", str(mount)], check=False)


# damage -------------------------------------------------------------------------------


def test_a_flipped_bit_in_a_table_is_reported_naming_it(data: Path) -> None:
    with Database.open(data) as db:
        db.table("kpi:c").insert({"key": "cac", "name": "Customer acquisition cost"})
    backend = SqliteBackend(data)
    backend.lock()
    con = backend._writer
    assert con is not None
    (body,) = con.execute("SELECT body FROM tables WHERE name='kpi:c'").fetchone()
    flipped = bytes(body).replace(b"Customer", b"Cuctomer")  # one bit: s -> c is 0x73 -> 0x63
    con.execute("UPDATE tables SET body=? WHERE name='kpi:c'", (flipped,))
    backend.close()
    with Database.open(data) as db, pytest.raises(StoreCorrupt, match="'kpi:c' fails its"):
        db.table("kpi:c").all()


WRITER = """
import sys, os
from pathlib import Path
from storage.engine import Database
db = Database.open(Path(sys.argv[1]))
for n in range(int(sys.argv[2])):
    db.table("t").insert({"n": n})
    db.flush()
os._exit(0)  # like kill -9: no close, no checkpoint
"""


def _write_and_die(data: Path, commits: int) -> None:
    subprocess.run(
        [sys.executable, "-c", WRITER, str(data), str(commits)], cwd=ROOT, check=True, timeout=60
    )


@pytest.mark.parametrize("damage", ["deleted", "cut at a frame"])
def test_losing_acknowledged_commits_is_never_silent(data: Path, damage: str) -> None:
    with Database.open(data) as db:
        db.table("t").insert({"n": -1})
    _write_and_die(data, 5)
    wal = data / (DB_FILE + "-wal")
    assert wal.exists()
    if damage == "deleted":
        wal.unlink()
    else:
        frame = 24 + 4096  # WAL header, then frames of (24-byte header + one page)
        with open(wal, "r+b") as f:
            f.truncate(32 + 2 * frame)
    with pytest.raises(StoreCorrupt, match="saved changes are missing"):
        Database.open(data)
    (data / "store.lock").unlink()  # the operator accepts the loss
    with Database.open(data) as db:
        assert db.table("t").all()[0] == {"n": -1}


def test_a_crash_without_close_loses_nothing(data: Path) -> None:
    _write_and_die(data, 5)
    assert [d["n"] for d in reopened(data)["t"].values()] == [0, 1, 2, 3, 4]


def test_prefetch_loads_a_chats_tables_in_one_query_and_knows_what_is_missing(
    spied: Database, spy: SpyBackend
) -> None:
    for n in range(5):
        spied.table(f"mix:c:k{n}").insert({"n": n})
    spied.table("mix:d:k0").insert({"n": 9})
    spied.flush()
    fresh = Database(spy)
    fresh.prefetch("mix:c:")
    loads = spy.loads
    assert [fresh.table(f"mix:c:k{n}").all() for n in range(5)] == [[{"n": n}] for n in range(5)]
    assert fresh.table("mix:c:k9").all() == []  # known missing: no query
    assert spy.loads == loads
    fresh.table("mix:c:k9").insert({"n": 10})  # a change under the prefix stays visible
    assert fresh.table("mix:c:k9").all() == [{"n": 10}]
    assert fresh.table("mix:d:k0").all() == [{"n": 9}]


@pytest.mark.parametrize("cache_tables", [1000, 4])
def test_prefetch_after_unsaved_changes_sees_them_even_when_they_left_the_cache(
    spy: SpyBackend, monkeypatch: pytest.MonkeyPatch, cache_tables: int
) -> None:
    first = Database(spy)
    for name in ("mix:c:kept", "mix:c:gone", "mix:c:edited"):
        first.table(name).insert({"n": name})
    first.flush()
    monkeypatch.setattr(engine, "CACHE_TABLES", cache_tables)  # 4: changed tables evicted
    db = Database(spy)
    db.table("mix:c:new").insert({"n": "new"})
    db.drop_table("mix:c:gone")
    db.table("mix:c:edited").insert({"n": "more"})
    for n in range(5):  # unsaved changes under other prefixes (a sweep's other chats)
        db.table(f"mix:d:{n}").insert({"n": n})
    db.prefetch("mix:c:")
    assert db.table("mix:c:new").all() == [{"n": "new"}]
    assert db.table("mix:c:gone").all() == []
    assert [d["n"] for d in db.table("mix:c:edited").all()] == ["mix:c:edited", "more"]
    assert db.table("mix:c:kept").all() == [{"n": "mix:c:kept"}]


class _Keyed(BaseModel):
    model_config = ConfigDict(frozen=True)
    key: str
    n: int


def test_a_model_by_key_validates_only_that_document_until_the_tables_models_are_built(
    spied: Database,
) -> None:
    spied.table("defs:c").insert_multiple([{"key": "a", "n": 1}, {"key": "b", "n": "x"}])
    assert spied.model_by_key("defs:c", _Keyed, "a") == _Keyed(key="a", n=1)  # b never read
    assert spied.model_by_key("defs:c", _Keyed, "zz") is None
    assert spied.model_by_key("defs:none", _Keyed, "a") is None
    spied.table("defs:d").insert_multiple([{"key": "a", "n": 1}, {"key": "b", "n": 2}])
    built = spied.models("defs:d", _Keyed)
    assert spied.model_by_key("defs:d", _Keyed, "b") is built[1]


# --- warming the cache after start-up ---------------------------------------------------------


def _stored(names: list[str]) -> tuple[Database, SpyBackend]:
    """A database reopened over a backend holding one document in each of `names`."""
    spy = SpyBackend()
    first = Database(spy)
    for name in names:
        first.table(name).insert({"n": name})
    first.flush()
    return Database(spy), spy


async def test_after_warming_reads_of_stored_and_missing_tables_skip_the_backend() -> None:
    db, spy = _stored([f"t:{i}" for i in range(250)])
    frozen = gc.get_freeze_count()
    assert await db.warm(step=100) == 250
    assert gc.get_freeze_count() > frozen  # the loaded cache is kept out of full collections
    spy.loads = 0
    assert db.table("t:7").all() == [{"n": "t:7"}]
    assert db.table("never:made").all() == []
    assert spy.loads == 0


async def test_warming_keeps_changes_not_yet_saved_and_their_new_tables() -> None:
    db, spy = _stored(["t:a", "t:b"])
    db.table("t:b").insert({"n": "unsaved"})
    db.table("t:new").insert({"n": "new"})
    await db.warm(step=1)
    spy.loads = 0
    assert [d["n"] for d in db.table("t:b").all()] == ["t:b", "unsaved"]
    assert db.table("t:new").all() == [{"n": "new"}]
    await db.commit()
    assert [d["n"] for d in Database(spy).table("t:b").all()] == ["t:b", "unsaved"]


async def test_warming_stops_at_its_share_and_only_names_past_where_it_got_are_asked_for() -> None:
    db, spy = _stored([f"t:{i}" for i in range(10)])
    loaded = await db.warm(share=4 / engine.CACHE_TABLES)
    assert loaded == 4  # t:0 … t:3, in name order
    spy.loads = 0
    assert db.table("never:made").all() == []  # named before t:3: known not to exist
    assert db.table("t:2b").all() == []
    assert spy.loads == 0
    assert db.table("t:4").all() == [{"n": "t:4"}]  # past where the warm got: asked
    assert db.table("u:made").all() == []
    assert spy.loads == 2


def test_opening_a_store_leaves_the_interpreters_switch_interval_as_it_was(data: Path) -> None:
    """A process-wide setting is the bot's start-up's to make (bot/runtime.py), not a side
    effect of a library opening a store in a test, a tool or a benchmark's baseline."""
    before = sys.getswitchinterval()
    with Database.open(None), Database.open(data):
        assert sys.getswitchinterval() == before
