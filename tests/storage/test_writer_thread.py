"""The hand-off to the writer thread of a durable store: every command waiting for a
transaction hears its outcome once it is over, and only then; cancelling one waiting
command cancels no other's; a transaction handed over by a loop that has ended is
settled by the next commit or the close."""

from __future__ import annotations

import asyncio
import threading

import pytest

from storage.engine import Database
from storage.errors import StoreFailed
from storage.port import Batch
from tests.storage.test_read_waits import GatedBackend


class GatedDisk(GatedBackend):
    """The gated durable backend, telling when a transaction started and counting them."""

    def __init__(self) -> None:
        super().__init__()
        self.started = threading.Event()
        self.transactions = 0

    def commit(self, batch: Batch) -> None:
        self.started.set()
        super().commit(batch)
        self.transactions += 1


async def _started(disk: GatedDisk) -> None:
    """Until the writer thread is inside the backend's transaction."""
    assert await asyncio.to_thread(disk.started.wait, 10)


async def test_commands_sharing_a_transaction_are_answered_only_once_it_is_over() -> None:
    disk = GatedDisk()
    disk.gate.clear()
    db = Database(disk)
    answered: list[int] = []

    async def command(n: int) -> None:
        db.table(f"t{n}").insert({"n": n})
        await db.commit()
        answered.append(n)

    tasks = [asyncio.ensure_future(command(n)) for n in range(5)]
    await _started(disk)
    for _ in range(10):  # loop turns in which an early answer would come
        await asyncio.sleep(0)
    assert answered == []  # the transaction is still running
    disk.gate.set()
    await asyncio.gather(*tasks)
    assert sorted(answered) == list(range(5))
    assert disk.transactions == 1
    db.close()


async def test_a_cancelled_command_cancels_no_other_waiting_for_the_same_transaction() -> None:
    disk = GatedDisk()
    disk.gate.clear()
    db = Database(disk)
    db.table("a").insert({"n": 1})
    first = asyncio.ensure_future(db.commit())
    db.table("b").insert({"n": 2})
    second = asyncio.ensure_future(db.commit())
    await _started(disk)
    first.cancel()
    disk.gate.set()
    await second  # answered, not cancelled
    assert first.cancelled()
    assert db.table("a").all() == [{"n": 1}]
    db.close()
    assert disk.load("a") is not None and disk.load("b") is not None


async def test_every_command_of_a_refused_transaction_fails_and_the_next_one_writes() -> None:
    disk = GatedDisk()
    disk.full = True
    db = Database(disk)

    async def command(n: int) -> None:
        db.table(f"t{n}").insert({"n": n})
        await db.commit()

    results = await asyncio.gather(*(command(n) for n in range(3)), return_exceptions=True)
    assert all(isinstance(r, StoreFailed) for r in results), results
    assert db.table_names() == set()  # rolled back in memory too
    disk.full = False
    await command(9)
    db.close()
    assert disk.load("t9") is not None


def test_a_transaction_handed_over_by_a_loop_that_ended_is_settled_by_the_next() -> None:
    disk = GatedDisk()
    disk.gate.clear()
    db = Database(disk)

    async def hand_over() -> None:
        db.table("a").insert({"n": 1})
        pending = asyncio.ensure_future(db.commit())
        await _started(disk)
        pending.cancel()  # the loop ends with the transaction still running
        with pytest.raises(asyncio.CancelledError):
            await pending

    asyncio.run(hand_over())
    disk.gate.set()

    async def next_command() -> None:
        db.table("b").insert({"n": 2})
        await db.commit()

    asyncio.run(next_command())
    assert db.commits == 2
    db.close()
    assert disk.load("a") is not None and disk.load("b") is not None
