"""Whichever path each transaction takes (run on the loop, or handed to the writer thread
because the backend could not start it at once, because others were ready to join, or
because the last transaction was slow), every change a command was told is saved is there
after a reopen, and every change it was told is lost is not: random runs of lone and
concurrent commands, full disks and slow transactions on a real SQLite store."""

from __future__ import annotations

import asyncio
import errno
import tempfile
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage import engine
from storage.engine import Database
from storage.errors import StoreFailed
from storage.port import Batch
from storage.sqlite import SqliteBackend


class _Disk(SqliteBackend):
    """SQLite whose transactions fail while `full`, and which declines to commit on the
    caller's thread while `busy` (as while its idle rewind holds the connection)."""

    full = False
    busy = False
    now = 0  # transactions run on the caller's thread

    def _commit(self, batch: Batch) -> None:
        if self.full:
            raise OSError(errno.ENOSPC, "No space left on device")
        super()._commit(batch)

    def commit_now(self, batch: Batch) -> bool:
        if self.busy or not super().commit_now(batch):
            return False
        self.now += 1
        return True


# one step: (the waits of each command before it writes, disk full, busy, slow)
_STEP = st.tuples(
    st.lists(st.integers(0, 3), min_size=1, max_size=4),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)


async def _run(root: Path, steps: list[tuple[list[int], bool, bool, bool]]) -> None:
    disk = _Disk(root)
    disk.lock()
    db = Database(disk, root)
    saved: set[int] = set()
    lost: set[int] = set()
    count = 0

    async def command(n: int, waits: int) -> None:
        for _ in range(waits):
            await asyncio.sleep(0)
        db.table(f"c{n}").insert({"n": n})
        try:
            await db.commit()
        except StoreFailed:
            lost.add(n)
        else:
            saved.add(n)

    for waits, full, busy, slow in steps:
        disk.full, disk.busy = full, busy
        with mock.patch.object(engine, "HOLD_S", 1e-9 if slow else 10.0):
            await asyncio.gather(*(command(count + k, w) for k, w in enumerate(waits)))
        count += len(waits)
    disk.full = False
    db.close()
    assert saved | lost == set(range(count)) and not saved & lost
    with Database.open(root) as again:
        for n in range(count):
            found = again.table(f"c{n}").all()
            assert found == ([{"n": n}] if n in saved else []), (n, n in saved)


@settings(max_examples=40, deadline=None)
@given(st.lists(_STEP, min_size=1, max_size=12))
def test_every_acknowledged_change_is_durable_and_no_lost_one_is_reported_saved(
    steps: list[tuple[list[int], bool, bool, bool]],
) -> None:
    with tempfile.TemporaryDirectory() as root:
        asyncio.run(_run(Path(root), steps))


def test_the_runs_take_both_paths(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A lone command on a quiet loop commits on it; a group, a busy backend, or the first
    transaction since the store was opened, on the writer thread (so the property above
    sees both)."""
    monkeypatch.setattr(engine, "HOLD_S", 10.0)
    disk = _Disk(tmp_path)
    disk.lock()
    db = Database(disk, tmp_path)

    async def run() -> None:
        async def command(n: int) -> None:
            db.table(f"c{n}").insert({"n": n})
            await db.commit()

        await command(0)  # it starts the WAL
        await command(1)
        await asyncio.gather(command(2), command(3))
        disk.busy = True
        await command(4)

    asyncio.run(run())
    db.close()
    assert disk.now == 1 and disk.commits == 5  # 4 transactions, the first numbered 2
