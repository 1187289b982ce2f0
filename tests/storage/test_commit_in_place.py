"""A commit that finds nothing else to run on the loop waits for its transaction in place,
the loop held for at most `HOLD_S` (or until a timer is due): a usual transaction then
costs no wake of the loop from the writer thread, no loop turn and no resume of the
command's coroutines. A longer one lets the loop run on and wakes it as before; whichever
way the writer's end and the wait's end meet, the command hears its outcome once."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from storage import engine, gc_policy
from storage.engine import Database
from storage.errors import StoreFailed
from storage.port import Batch, MemoryBackend
from tests.storage.test_writer_thread import GatedDisk, _started


def _count_wakes(loop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The callbacks other threads hand to `loop` from now on."""
    handed: list[Any] = []
    threadsafe = loop.call_soon_threadsafe

    def recorded(callback: Callable[..., object], *args: Any, **kwargs: Any) -> asyncio.Handle:
        handed.append(callback)
        return threadsafe(callback, *args, **kwargs)

    monkeypatch.setattr(loop, "call_soon_threadsafe", recorded)
    return handed


def _store(monkeypatch: pytest.MonkeyPatch, hold: float) -> tuple[GatedDisk, Database]:
    """A store on a gated disk whose commits wait in place for at most `hold` s."""
    monkeypatch.setattr(engine, "HOLD_S", hold)
    disk = GatedDisk()
    return disk, Database(disk)


async def test_a_lone_commit_on_an_idle_loop_is_over_without_suspending_or_a_wake(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    disk, db = _store(monkeypatch, 10.0)  # any transaction ends within the wait
    handed = _count_wakes(asyncio.get_running_loop(), monkeypatch)
    for n in range(20):
        db.table("t").insert({"n": n})
        commit = db.commit()
        with pytest.raises(StopIteration):  # not one suspension
            commit.send(None)
    assert disk.transactions == 20 and handed == []
    assert len(disk.load("t") or b"") > 0
    db.close()


async def test_a_transaction_outlasting_the_wait_lets_the_loop_run_and_wakes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    disk, db = _store(monkeypatch, 0.001)
    disk.gate.clear()
    handed = _count_wakes(asyncio.get_running_loop(), monkeypatch)
    db.table("t").insert({"n": 1})
    started = time.perf_counter()
    commit = db.commit()
    waiting = commit.send(None)
    assert isinstance(waiting, asyncio.Future)  # suspended: the loop is free again
    assert time.perf_counter() - started < 1.0  # not the 10 s the gate would hold it
    await _started(disk)  # the loop ran meanwhile (this waits on it)
    assert not waiting.done()
    disk.gate.set()
    await asyncio.wait({waiting})  # (the commit itself awaits it; the test only waits)
    with pytest.raises(StopIteration):
        commit.send(None)
    assert handed.count(db._written) == 1  # the writer thread woke the loop, once
    db.close()


async def test_a_failed_transaction_waited_for_in_place_fails_its_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    disk, db = _store(monkeypatch, 10.0)
    disk.full = True
    db.table("t").insert({"n": 1})
    with pytest.raises(StoreFailed):
        await db.commit()
    assert db.table_names() == set()  # rolled back in memory too
    disk.full = False
    db.table("t").insert({"n": 2})
    await db.commit()
    assert db.table("t").all() == [{"n": 2}]
    db.close()


async def test_a_wait_that_ends_as_the_writer_is_done_settles_the_job_itself() -> None:
    """The writer released its job and is done with it, deciding on no wake since the loop
    waited in place, but the wait ran out just before: nobody would wake the loop, so the
    wait must take the outcome itself (suspending there would leave the command hanging)."""
    db = Database(GatedDisk())
    db.table("t").insert({"n": 1})
    job = db._job = db._take_job()
    job.loop = asyncio.get_running_loop()
    job.running.acquire()  # as if the wait timed out before the writer's release
    job.in_place = job.finished = True  # …which came before the writer's decision
    assert db._hold(job, 0.0005)
    assert (db.commits, db._durable) == (1, job.upto)  # settled
    job.running.release()
    db.close()


class _Jittery(MemoryBackend):
    """A durable backend whose transactions take about as long as the wait, either way."""

    durable = True

    def __init__(self, seed: int) -> None:
        super().__init__()
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def commit(self, batch: Batch) -> None:
        with self._lock:
            pause = self._random.uniform(0.0, 2 * engine.HOLD_S)
        time.sleep(pause)
        super().commit(batch)


@pytest.mark.parametrize("seed", range(3))
async def test_commits_ending_around_the_waits_end_are_each_answered_once(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "HOLD_S", 0.0005)
    disk = _Jittery(seed)
    db = Database(disk)
    for n in range(150):
        db.table(f"t{n % 7}").insert({"n": n})
        await asyncio.wait_for(db.commit(), 5.0)  # a lost wake would hang here
    assert db.commits == 150 and db._job is None
    db.close()
    assert all(disk.load(f"t{k}") is not None for k in range(7))


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
