"""A commit that finds nothing else to run on the loop runs its transaction in place, on the
loop's thread (the backend's `commit_now`): no hand-off to the writer thread, no wake of
the loop, no loop turn and no resume of the command's coroutines. The writer thread takes
the transaction when the backend cannot start it at once (its idle rewind holds the write
connection), when others are ready to join it, when it holds many tables, and after a
transaction slower than `HOLD_S` until `QUICK_AGAIN` in a row were quick, so a disk stall
holds the loop for one transaction at most, and a run of them for its first. Whichever
way, a command hears its outcome once, and a failure is told alike."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest

from storage import engine, gc_policy
from storage.engine import Database
from storage.errors import StoreFailed
from storage.port import Batch, CommitsNow
from tests.storage.test_writer_thread import GatedDisk, _started


class NowDisk(GatedDisk):
    """The gated disk, offering to commit on the caller's thread (`CommitsNow`): it
    declines while `busy` (as SQLite's backend does while its idle rewind runs), says when
    upkeep is `due`, and counts the threads its transactions ran on and its idle calls."""

    def __init__(self) -> None:
        super().__init__()
        self.busy = False
        self.due = False
        self.threads: list[int] = []
        self.idled = threading.Event()
        self.idles = 0

    def commit(self, batch: Batch) -> None:
        self.threads.append(threading.get_ident())
        super().commit(batch)

    def commit_now(self, batch: Batch) -> bool:
        if self.busy:
            return False
        self.commit(batch)
        return True

    def upkeep_due(self) -> bool:
        return self.due

    def idle(self) -> None:
        self.idles += 1
        self.due = False
        self.idled.set()


def _count_wakes(loop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The callbacks other threads hand to `loop` from now on."""
    handed: list[Any] = []
    threadsafe = loop.call_soon_threadsafe

    def recorded(callback: Callable[..., object], *args: Any, **kwargs: Any) -> asyncio.Handle:
        handed.append(callback)
        return threadsafe(callback, *args, **kwargs)

    monkeypatch.setattr(loop, "call_soon_threadsafe", recorded)
    return handed


def test_a_backend_offering_commits_now_is_told_by_its_methods() -> None:
    assert isinstance(NowDisk(), CommitsNow)
    assert not isinstance(GatedDisk(), CommitsNow)  # a test double needs none of it


async def test_a_lone_commit_on_an_idle_loop_runs_on_the_loop_without_suspending_or_a_wake(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    disk = NowDisk()
    db = Database(disk)
    handed = _count_wakes(asyncio.get_running_loop(), monkeypatch)
    for n in range(20):
        db.table("t").insert({"n": n})
        commit = db.commit()
        with pytest.raises(StopIteration):  # not one suspension
            commit.send(None)
    assert disk.transactions == 20 and handed == []
    assert set(disk.threads) == {threading.get_ident()}  # all on the loop's thread
    assert db._writer is None  # never needed: no upkeep was due
    assert len(disk.load("t") or b"") > 0
    db.close()


async def test_a_backend_that_cannot_start_at_once_hands_the_transaction_to_the_writer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    disk = NowDisk()
    disk.busy = True  # its idle rewind holds the write connection
    disk.gate.clear()
    db = Database(disk)
    handed = _count_wakes(asyncio.get_running_loop(), monkeypatch)
    db.table("t").insert({"n": 1})
    commit = db.commit()
    waiting = commit.send(None)
    assert isinstance(waiting, asyncio.Future)  # suspended: the loop is free again
    await _started(disk)  # the loop ran meanwhile (this waits on it)
    assert not waiting.done()
    disk.gate.set()
    await asyncio.wait({waiting})  # (the commit itself awaits it; the test only waits)
    with pytest.raises(StopIteration):
        commit.send(None)
    assert handed.count(db._written) == 1  # the writer thread woke the loop, once
    assert disk.threads[0] != threading.get_ident()
    db.close()


async def test_after_a_slow_transaction_commits_go_to_the_writer_until_enough_are_quick(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A disk stall holds the loop for one transaction; the next ones leave the loop free
    until the writer thread found the disk quick `QUICK_AGAIN` times in a row: a slow
    disk's stalls come in runs, and one quick transaction between two did not end one."""
    disk = NowDisk()
    db = Database(disk)
    loop_thread = threading.get_ident()

    async def commits(n: int) -> list[bool]:
        """Whether each of `n` lone commits ran on the loop's thread."""
        ran = len(disk.threads)
        for i in range(n):
            db.table("t").insert({"n": i})
            await db.commit()
        return [t == loop_thread for t in disk.threads[ran:]]

    again = engine.QUICK_AGAIN
    assert again > 1
    monkeypatch.setattr(engine, "HOLD_S", 1e-9)  # every transaction is "slow"
    assert await commits(3) == [True, False, False]
    monkeypatch.setattr(engine, "HOLD_S", 10.0)  # quick again
    assert await commits(again + 2) == [False] * again + [True, True]
    # a slow one among quick ones starts the count afresh
    monkeypatch.setattr(engine, "HOLD_S", 1e-9)
    assert await commits(1) == [True]
    monkeypatch.setattr(engine, "HOLD_S", 10.0)
    assert await commits(again - 1) == [False] * (again - 1)
    monkeypatch.setattr(engine, "HOLD_S", 1e-9)
    assert await commits(1) == [False]
    monkeypatch.setattr(engine, "HOLD_S", 10.0)
    assert await commits(again + 1) == [False] * again + [True]
    db.close()


async def test_a_lone_commit_of_many_tables_goes_to_the_writer_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A batch of more than `INLINE_TABLES` tables leaves the loop free while it is written
    (a busy sweep's commit: 1 000 alert books, 31 ms on a quiet disk), however lone."""
    disk = NowDisk()
    db = Database(disk)
    loop_thread = threading.get_ident()
    most = engine.INLINE_TABLES
    for tables in (most, most + 1, 1):
        for n in range(tables):
            db.table(f"t{n}").insert({"n": tables})
        await db.commit()
    assert [t == loop_thread for t in disk.threads] == [True, False, True]
    db.close()


async def test_commands_ready_to_join_share_one_transaction_on_the_writer_thread() -> None:
    disk = NowDisk()
    db = Database(disk)

    async def command(n: int) -> None:
        db.table(f"t{n}").insert({"n": n})
        await db.commit()

    await asyncio.gather(*(command(n) for n in range(5)))
    assert disk.transactions == 1 and disk.threads[0] != threading.get_ident()
    db.close()


async def test_a_failed_transaction_on_the_loop_fails_its_command_as_on_the_writer() -> None:
    disk = NowDisk()
    disk.full = True
    db = Database(disk)
    db.table("t").insert({"n": 1})
    with pytest.raises(StoreFailed):
        await db.commit()
    assert db.table_names() == set()  # rolled back in memory too
    assert disk.threads == [threading.get_ident()]  # tried on the loop
    assert db._writer is None  # no upkeep after a failure
    disk.full = False
    db.table("t").insert({"n": 2})
    await db.commit()
    assert db.table("t").all() == [{"n": 2}]
    db.close()


async def test_upkeep_due_after_a_transaction_on_the_loop_gets_the_writers_idle_moment() -> None:
    """The WAL's rewind stays off the commands' path: the writer thread is asked for its
    idle moment only when the backend has upkeep waiting, never per commit."""
    disk = NowDisk()
    db = Database(disk)
    for n in range(5):
        db.table("t").insert({"n": n})
        await db.commit()
    assert db._writer is None and disk.idles == 0
    disk.due = True
    db.table("t").insert({"n": 5})
    await db.commit()
    assert await asyncio.to_thread(disk.idled.wait, 10)
    for n in range(5):
        db.table("t").insert({"n": n})
        await db.commit()
    db.close()
    assert disk.idles == 1 and set(disk.threads) == {threading.get_ident()}


async def test_the_wait_is_bounded_by_the_loops_next_timer_and_ready_callbacks() -> None:
    loop = asyncio.get_running_loop()
    assert gc_policy.quiet_for(loop, 0.002) == 0.002
    timer = loop.call_later(0.0005, lambda: None)
    assert 0.0 < gc_policy.quiet_for(loop, 0.002) <= 0.0005
    timer.cancel()
    ready = loop.call_soon(lambda: None)
    assert gc_policy.quiet_for(loop, 0.002) == 0.0
    ready.cancel()
    await asyncio.sleep(0)


def test_a_loop_that_keeps_its_callbacks_elsewhere_is_not_waited_on() -> None:
    class Foreign:
        def __init__(self) -> None:
            self._ready: list[object] = []  # but no timers where asyncio's loop keeps them

    assert gc_policy.quiet_for(Foreign(), 0.002) == 0.0  # type: ignore[arg-type]
