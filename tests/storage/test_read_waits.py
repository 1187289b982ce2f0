"""What a command's `commit(seen)` waits for: its own changes and the unsaved ones it read,
never another command's write it did not look at (issue 8: no read pause behind a commit)."""

from __future__ import annotations

import asyncio
import errno
import threading
from collections.abc import Iterator

import pytest

from storage.engine import Database, Seen
from storage.errors import StoreFailed
from storage.port import Batch, MemoryBackend


class GatedBackend(MemoryBackend):
    """A durable backend whose commits (on the writer thread) wait until the gate opens."""

    durable = True

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.gate.set()
        self.full = False

    def commit(self, batch: Batch) -> None:
        self.gate.wait(timeout=10)
        if self.full:
            raise OSError(errno.ENOSPC, "No space left on device")
        super().commit(batch)


@pytest.fixture
def gated() -> GatedBackend:
    return GatedBackend()


@pytest.fixture
def db(gated: GatedBackend) -> Iterator[Database]:
    opened = Database(gated)
    opened.table("saved").insert({"k": 1})
    opened.flush()
    yield opened
    gated.gate.set()
    opened.close()


async def _write_waiting(db: Database, gated: GatedBackend) -> asyncio.Task[None]:
    """Another command's write, stuck in its commit until the gate opens."""
    gated.gate.clear()
    with db.observing() as seen:
        db.table("other").insert({"k": 2})
    task = asyncio.ensure_future(db.commit(seen))
    await asyncio.sleep(0.01)
    assert not task.done()
    return task


async def _settles(task: asyncio.Future[None]) -> bool:
    """Whether `task` finishes within a short while (without failing the test)."""
    done, _ = await asyncio.wait([task], timeout=0.2)
    return task in done


async def test_a_read_of_saved_data_replies_while_another_commands_write_is_in_flight(
    db: Database, gated: GatedBackend
) -> None:
    write = await _write_waiting(db, gated)
    with db.observing() as seen:
        assert db.table("saved").all() == [{"k": 1}]
        assert db.table("missing").all() == []
    await asyncio.wait_for(db.commit(seen), timeout=1)
    assert not write.done()
    gated.gate.set()
    await write


@pytest.mark.parametrize(
    "look",
    [
        lambda db: db.table("other").all(),
        lambda db: db.table_names(),
        lambda db: db.docs("other"),
    ],
    ids=["documents", "table names", "raw docs"],
)
async def test_a_read_that_saw_an_unsaved_change_waits_until_it_is_durable(
    db: Database, gated: GatedBackend, look: object
) -> None:
    write = await _write_waiting(db, gated)
    with db.observing() as seen:
        assert callable(look)
        look(db)
    read = asyncio.ensure_future(db.commit(seen))
    assert not await _settles(read)
    gated.gate.set()
    await read
    await write


async def test_a_read_of_a_change_not_yet_handed_to_the_writer_waits_for_it(
    db: Database, gated: GatedBackend
) -> None:
    write = await _write_waiting(db, gated)
    db.table("later").insert({"k": 3})  # unsaved, queued behind the stuck batch
    with db.observing() as seen:
        assert db.table("later").all() == [{"k": 3}]
    read = asyncio.ensure_future(db.commit(seen))
    assert not await _settles(read)
    gated.gate.set()
    await asyncio.wait_for(read, timeout=2)
    await write
    assert gated.load("later") is not None


async def test_a_read_that_saw_a_change_the_disk_refused_fails_like_the_write(
    db: Database, gated: GatedBackend
) -> None:
    gated.full = True
    write = await _write_waiting(db, gated)
    with db.observing() as seen:
        assert db.table("other").all() == [{"k": 2}]
    read = asyncio.ensure_future(db.commit(seen))
    gated.gate.set()
    with pytest.raises(StoreFailed):
        await write
    with pytest.raises(StoreFailed):
        await read


async def test_a_nested_command_hands_what_it_saw_to_the_outer_one(
    db: Database, gated: GatedBackend
) -> None:
    write = await _write_waiting(db, gated)
    with db.observing() as outer:
        with db.observing() as inner:
            db.table("other").all()
        assert inner.upto > 0
    assert outer.upto == inner.upto
    gated.gate.set()
    await db.commit(outer)
    await write


async def test_without_observing_commit_still_waits_for_every_change(
    db: Database, gated: GatedBackend
) -> None:
    write = await _write_waiting(db, gated)
    read = asyncio.ensure_future(db.commit())
    assert not await _settles(read)
    gated.gate.set()
    await read
    await write
    assert Seen().upto == 0
