"""A command is never told its write (or the unsaved write it read) is saved when a failed
commit threw it away, however many commits fail or succeed before it asks (disk full:
every commit fails until space returns, and a command may await between its change and
its commit, e.g. for a picture)."""

from __future__ import annotations

import asyncio
import errno

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.engine import Database, Seen
from storage.errors import StoreFailed
from storage.port import Batch, MemoryBackend


class FullDisk(MemoryBackend):
    """The memory backend, refusing every batch while `full`."""

    def __init__(self) -> None:
        super().__init__()
        self.full = False

    def commit(self, batch: Batch) -> None:
        if self.full:
            raise OSError(errno.ENOSPC, "No space left on device")
        super().commit(batch)


async def _failed_write(db: Database, table: str) -> None:
    """Another command's write, refused by the full disk."""
    db.table(table).insert({"k": 1})
    with pytest.raises(StoreFailed):
        await db.commit()


async def test_a_write_lost_in_one_failed_commit_is_not_acknowledged_after_another_fails() -> None:
    disk = FullDisk()
    db = Database(disk)
    with db.observing() as seen:
        db.table("mine").insert({"k": 1})  # then the command awaits something
    disk.full = True
    await _failed_write(db, "other")  # carries (and loses) "mine" too
    await _failed_write(db, "third")
    disk.full = False
    with pytest.raises(StoreFailed):
        await db.commit(seen)
    assert db.table("mine").all() == []


async def test_a_lost_write_is_not_acknowledged_after_a_success_and_another_failure() -> None:
    disk = FullDisk()
    db = Database(disk)
    with db.observing() as seen:
        db.table("mine").insert({"k": 1})
    disk.full = True
    await _failed_write(db, "other")
    disk.full = False
    db.table("saved").insert({"k": 1})
    await db.commit()
    disk.full = True
    await _failed_write(db, "third")
    with pytest.raises(StoreFailed):
        await db.commit(seen)


async def test_a_read_of_a_lost_unsaved_write_is_not_acknowledged_after_later_failures() -> None:
    disk = FullDisk()
    db = Database(disk)
    db.table("other").insert({"k": 1})  # another command's change, not yet saved
    with db.observing() as seen:
        assert db.table("other").all() == [{"k": 1}]  # read unsaved, then e.g. drawn
    disk.full = True
    with pytest.raises(StoreFailed):
        await db.commit()
    for n in range(3):
        await _failed_write(db, f"t{n}")
    with pytest.raises(StoreFailed):
        await db.commit(seen)


async def test_writes_made_after_the_failures_are_acknowledged() -> None:
    disk = FullDisk()
    db = Database(disk)
    disk.full = True
    for n in range(3):
        await _failed_write(db, f"t{n}")
    disk.full = False
    with db.observing() as seen:
        db.table("mine").insert({"k": 1})
    await db.commit(seen)
    assert db.table("mine").all() == [{"k": 1}]


def test_failures_in_a_row_are_remembered_as_one_range() -> None:
    """A disk full for a long time does not pile up a record per failed commit."""
    disk = FullDisk()
    db = Database(disk)
    disk.full = True
    for n in range(50):
        db.table(f"t{n}").insert({"k": 1})
        with pytest.raises(StoreFailed):
            db.flush()
    assert len(db._lost_upto) == 1  # the bound is the point


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["write", "read", "commit", "disk", "command"]), st.integers(0, 5)
        ),
        max_size=40,
    )
)
def test_a_commit_is_acknowledged_exactly_when_what_the_command_made_or_read_is_on_disk(
    actions: list[tuple[str, int]],
) -> None:
    """Commands write their own tables, read others' unsaved ones, and commit in any order
    while the disk fills and empties: a commit returns iff every table the command wrote
    or read unsaved is stored with what it saw."""
    asyncio.run(_run_commands(actions))


async def _run_commands(actions: list[tuple[str, int]]) -> None:
    disk = FullDisk()
    db = Database(disk)
    pending: dict[int, tuple[Seen, set[str]]] = {}
    for made, (action, n) in enumerate(actions):
        if action == "disk":
            disk.full = not disk.full
        elif action in ("write", "command"):
            with db.observing() as seen:
                db.table(f"w{made}").insert({"v": made})
            pending[made] = (seen, {f"w{made}"})
        elif action == "read":
            unsaved = sorted(name for name in db.table_names() if disk.load(name) is None)
            if unsaved:
                name = unsaved[n % len(unsaved)]
                with db.observing() as seen:
                    db.table(name).all()
                pending[made] = (seen, {name})
        if action in ("commit", "command") and pending:
            # "command" commits its own write at once; "commit": one waiting, newest first
            key = made if action == "command" else sorted(pending)[-1 - n % len(pending)]
            seen, needs = pending.pop(key)
            try:
                await db.commit(seen)
            except StoreFailed:
                assert any(disk.load(name) is None for name in needs)
            else:
                assert all(disk.load(name) is not None for name in needs)
