"""Repositories keep each chat's data apart, shard history, and survive a restart."""

from __future__ import annotations

import errno
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import build_core
from scoring.alert_rules import AlertState
from scoring.models import Kpi, Measurement, ProgressLog, Status
from storage import Store, open_store
from storage.engine import Database
from storage.errors import StoreLocked
from storage.port import Batch, MemoryBackend
from tests.storage.test_engine import SpyBackend
from tests.support import FakeChat, FixedClock

ROOT = Path(__file__).resolve().parents[2]

AT = datetime(2026, 11, 21, tzinfo=UTC)


def _store(kind: str, path: Path) -> Store:
    """A store over the port: the in-memory backend or SQLite in a directory."""
    return open_store(None if kind == "memory" else path)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The repositories over each backend of the storage port."""
    opened = _store(str(request.param), tmp_path / "a")
    yield opened
    opened.close()


@pytest.fixture
def other(store: Store, tmp_path: Path) -> Iterator[Store]:
    """A second store over the same kind of backend."""
    opened = _store("memory" if store.db.path is None else "sqlite", tmp_path / "b")
    yield opened
    opened.close()


def _kpi(key: str = "v") -> Kpi:
    return Kpi(key=key, name="Visits", objective="o", target=100)


def _m(day: date, value: float, key: str = "v") -> Measurement:
    return Measurement(kpi=key, value=value, day=day, at=AT)


def test_measurements_are_sharded_per_kpi_and_month(store: Store) -> None:
    store.kpis.put("c", _kpi())
    for i in range(70):
        store.kpis.record("c", _m(date(2026, 9, 1) + timedelta(days=i), i))
    shards = store.db.table_names("m:c:v:")
    assert shards == {"m:c:v:2026-09", "m:c:v:2026-10", "m:c:v:2026-11"}
    assert store.kpis.count("c", "v") == 70
    assert [m.value for m in store.kpis.latest("c", "v")] == [68, 69]
    assert [m.value for m in store.kpis.history("c", "v", limit=3)] == [67, 68, 69]
    assert len(store.kpis.history("c", "v")) == 70


def test_backdated_value_does_not_become_latest(store: Store) -> None:
    store.kpis.record("c", _m(date(2026, 11, 20), 5))
    store.kpis.record("c", _m(date(2026, 10, 1), 1))
    assert [m.value for m in store.kpis.latest("c", "v")] == [1, 5]
    assert store.kpis.latest("c", "v")[-1].day == date(2026, 11, 20)


def test_purge_drops_every_shard_and_the_index(store: Store) -> None:
    store.kpis.put("c", _kpi())
    store.kpis.record("c", _m(date(2026, 10, 1), 1))
    store.kpis.record("c", _m(date(2026, 11, 1), 2))
    assert store.kpis.purge("c", "v") == 2
    assert not store.db.table_names("m:c:v") and not store.db.table_names("mix:c:v")
    assert store.kpis.get("c", "v") is None


def test_one_chat_never_sees_anothers_kpis(store: Store) -> None:
    store.kpis.put("a", _kpi())
    assert store.kpis.all("b") == [] and store.kpis.get("b", "v") is None


async def test_everything_said_saved_survives_a_restart(tmp_path: Path) -> None:
    clock = FixedClock()
    core = build_core(tmp_path, clock=clock)
    chat = FakeChat(core)
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 perspective=finance')
    await chat.ok("/kpi set cac 100")
    await chat.ok('/okr add d "Delight"')
    await chat.ok('/okr kr d nps "NPS" start=30 target=50')
    await chat.ok("/okr checkin nps 40")
    await chat.ok('/initiative add articles "Articles" cadence=4/month')
    await chat.ok("/log articles +2")
    await chat.ok("/timezone Europe/Moscow")
    before = [await chat.ok(c) for c in ("/kpi", "/okr", "/initiatives", "/map", "/scorecard")]
    core.close()

    again = build_core(tmp_path, clock=clock)
    chat2 = FakeChat(again)
    after = [await chat2.ok(c) for c in ("/kpi", "/okr", "/initiatives", "/map", "/scorecard")]
    again.close()
    assert after == before


async def test_concurrent_commands_never_lose_each_others_updates(tmp_path: Path) -> None:
    import asyncio

    core = build_core(tmp_path, clock=FixedClock())
    chats = [FakeChat(core, chat_id=f"team{i}") for i in range(5)]
    await asyncio.gather(
        *(
            c.ok(f'/kpi add v{i} "V" target=100 perspective=finance')
            for c in chats
            for i in range(4)
        )
    )
    await asyncio.gather(*(c.ok(f"/kpi set v{i} {i + 1}") for c in chats for i in range(4)))
    core.close()
    store = open_store(tmp_path)
    for c in chats:
        assert len(store.kpis.all(c.chat.key)) == 4
        for i in range(4):
            assert store.kpis.latest(c.chat.key, f"v{i}")[-1].value == i + 1
    store.close()


def test_second_process_on_the_same_data_directory_is_refused(tmp_path: Path) -> None:
    import subprocess
    import sys

    store = open_store(tmp_path)
    try:
        code = (
            "import sys, pathlib; from storage import open_store; "
            "open_store(pathlib.Path(sys.argv[1]))"
        )
        result = subprocess.run(
            [sys.executable, "-c", code, str(tmp_path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode != 0 and "StoreLocked" in result.stderr
    finally:
        store.close()
    with pytest.raises(StoreLocked):
        first = open_store(tmp_path)
        try:
            open_store(tmp_path)
        finally:
            first.close()


def test_bulk_import_matches_one_by_one_recording(store: Store, other: Store) -> None:
    one, bulk = store, other
    values = [_m(date(2026, 8, 1) + timedelta(days=i), i % 17) for i in range(100)]
    for m in values:
        one.kpis.record("c", m)
    bulk.kpis.record("c", values[0])
    assert bulk.kpis.record_many("c", "v", values) == 99
    assert bulk.kpis.history("c", "v") == one.kpis.history("c", "v")
    assert bulk.kpis.latest("c", "v") == one.kpis.latest("c", "v")
    assert bulk.kpis.count("c", "v") == one.kpis.count("c", "v") == 100


def test_seen_update_ids_are_remembered_across_a_restart(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    assert store.seen.first_time("telegram:1001")
    assert not store.seen.first_time("telegram:1001")
    store.close()
    again = open_store(tmp_path)
    assert not again.seen.first_time("telegram:1001")
    assert again.seen.first_time("telegram:1002")
    again.close()


def test_chats_that_never_set_a_timezone_use_the_configured_default() -> None:
    store = open_store(None, default_timezone="Europe/Copenhagen")
    assert store.chats.settings("c").timezone == "Europe/Copenhagen"


def _state(kpi: str, status: Status = Status.GREEN, value: float = 1) -> AlertState:
    return AlertState(kpi=kpi, status=status, value=value, performance=0.5, reading_at=AT)


def _spied() -> tuple[Store, SpyBackend]:
    spy = SpyBackend()
    return Store(Database(spy)), spy


def test_a_write_costs_one_small_shard_whatever_the_history() -> None:
    store, spy = _spied()
    for i in range(2000):
        at = AT + timedelta(minutes=i)
        store.initiatives.log("c", ProgressLog(initiative="articles", amount=1, at=at, note="x"))
        store.okrs._check_ins("c", "kr").append([{"kr": "kr", "value": i, "at": at.isoformat()}])
        store.kpis.record("c", _m(date(2020, 1, 1) + timedelta(days=i), i))
    for kpi in range(50):
        store.alerts.put_state("c", _state(f"k{kpi}"), test=False)
    # one more log, so the newest block has room whatever the block's size divides
    store.initiatives.log("c", ProgressLog(initiative="articles", amount=1, at=AT, note="x"))
    store.db.flush()

    def written(change: Callable[[], object]) -> tuple[set[str], int]:
        change()
        store.db.flush()
        batch = spy.batches[-1]
        return {n.split(":")[0] for n in batch}, sum(len(b or b"") for b in batch.values())

    later = AT + timedelta(days=30)
    kinds, size = written(
        lambda: store.initiatives.log("c", ProgressLog(initiative="articles", amount=1, at=later))
    )
    # the newest block alone: its index is written when a block opens, and the entry's
    # number follows from the newest entries (the mark is written before a removal)
    assert kinds == {"ilog"} and size < 16_000
    kinds, size = written(lambda: store.kpis.record("c", _m(date(2026, 11, 30), 1)))
    assert kinds == {"m", "mix"} and size < 8_000
    kinds, size = written(
        lambda: store.alerts.put_state("c", _state("k7", Status.YELLOW), test=False)
    )
    assert kinds == {"al"} and size < 4_000  # one bucket of the 50 states
    kinds, size = written(
        lambda: store.alerts.put_state("c", _state("k7", Status.RED), test=False)
    )
    assert kinds == {"abook", "al"} and size < 4_000  # red: from its bucket to the book
    kinds, size = written(
        lambda: store.alerts.put_state("c", _state("k7", Status.RED, 2), test=False)
    )
    assert kinds == {"abook"} and size < 1_000  # the book, saying rows may now exist
    for kpi in range(50):  # every one red: a big book
        store.alerts.put_state("c", _state(f"k{kpi}", Status.RED), test=False)
    store.alerts.put_state("c", _state("k7", Status.RED, 3), test=False)
    store.db.flush()
    kinds, size = written(
        lambda: store.alerts.put_state("c", _state("k7", Status.RED, 4), test=False)
    )
    assert kinds == {"ared"} and size < 500  # a red one's row alone, whatever its book
    assert len(store.initiatives.logs("c", "articles")) == 2002
    assert store.initiatives.progress_total("c", "articles", later) == 1


def test_documents_and_models_handed_out_cannot_change_the_store(store: Store) -> None:
    store.outbox.put(
        chat="c",
        platform="console",
        kind="alert",
        key="k",
        body={"lines": ["a"]},
        summary="s",
        now=AT,
    )
    entry = store.outbox.entries("c")[0]
    assert entry.body is not None
    entry.body["lines"].append("changed")  # a caller mutating what it was given
    store.db.flush()
    assert store.outbox.entries("c")[0].body == {"lines": ["a"]}
    kpi = _kpi()
    store.kpis.put("c", kpi)
    first = store.kpis.all("c")
    first.clear()  # lists are the caller's; models are frozen
    assert store.kpis.all("c") == [kpi]


def test_each_table_name_is_spelled_by_one_module() -> None:
    prefix = re.compile(r'f?"([a-z]+):(?:\{|")|AppendLog\(self\._db, "([a-z]+)"')
    owners: dict[str, set[str]] = {}
    for path in (ROOT / "storage").glob("*.py"):
        if path.name in {"migrations.py", "moves.py"}:  # they handle every layout by design
            continue
        for named, logged in prefix.findall(path.read_text()):
            owners.setdefault(named or logged, set()).add(path.name)
    shared = {kind: files for kind, files in owners.items() if len(files) > 1}
    assert not shared
    assert owners["kpi"] == {"kpis.py"} and owners["ilog"] == {"initiatives.py"}


async def test_a_full_disk_refuses_a_change_in_one_line_while_reads_go_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    core = build_core(None)
    chat = FakeChat(core)
    await chat.ok('/kpi add cac "Customer acquisition cost" target=80 perspective=finance')
    await chat.ok("/kpi set cac 95")
    saved = MemoryBackend.commit
    full = True

    def commit(backend: MemoryBackend, batch: Batch) -> None:
        if full:
            raise OSError(errno.ENOSPC, "No space left on device")
        saved(backend, batch)

    monkeypatch.setattr(MemoryBackend, "commit", commit)
    for _ in range(3):
        assert await chat.error("/kpi set cac 90") == (
            "Could not save to memory (No space left on device), so nothing of this change "
            "was kept. Reading still works, and saving resumes by itself once the disk is fixed."
        )
    listing = await chat.ok("/kpi")  # reads go on; the refused value is not there
    assert " 95 " in listing and " 90 " not in listing
    full = False
    assert "= 90" in await chat.ok("/kpi set cac 90")  # space is back: saving resumes
    core.close()


async def test_commands_arriving_together_share_one_fsync_and_answer_only_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    core = build_core(tmp_path, clock=FixedClock())
    chats = [FakeChat(core, chat_id=f"team{i}") for i in range(4)]
    for c in chats:
        await c.ok('/kpi add v "V" target=100 perspective=finance')
        await c.ok('/initiative add articles "Articles" cadence=4/month')
    backend = core.store.db.backend
    transactions: list[int] = []
    write = backend.commit

    def counted(batch: Batch) -> None:
        write(batch)
        transactions.append(len(batch.tables))

    monkeypatch.setattr(backend, "commit", counted)
    seen_at_reply: list[int] = []

    async def command(chat: FakeChat, text: str) -> None:
        await chat.ok(text)
        seen_at_reply.append(len(transactions))

    # All eight arrive in the same loop iteration (one getUpdates batch, say).
    await asyncio.gather(
        *(command(c, "/kpi set v 5") for c in chats),
        *(command(c, "#articles +1 published the guide") for c in chats),
    )
    assert len(transactions) == 1  # one transaction, one fsync for all eight
    assert seen_at_reply == [1] * 8  # and every reply waited for it
    core.close()
