"""`/kpi set`s arriving together share one SQLite transaction (issue 8: "group commit if it
pays"), and none of them is answered before the transaction holding its value is on disk."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from bot.app import build_core
from storage.port import Batch
from tests.support import FakeChat, FixedClock

KPIS = 8


async def test_sets_arriving_together_commit_together_and_reply_only_once_on_disk(
    tmp_path: Path,
) -> None:
    core = build_core(tmp_path / "data", clock=FixedClock(datetime(2026, 11, 2, tzinfo=UTC)))
    chat = FakeChat(core)
    for i in range(KPIS):
        await chat.ok(f'/kpi add k{i} "KPI {i}" baseline=0 target=100 perspective=finance')
    backend = core.store.db.backend
    on_disk: set[str] = set()  # tables whose transaction has finished
    transactions = 0
    commit = backend.commit

    def commit_and_note(batch: Batch) -> None:
        nonlocal transactions
        commit(batch)  # the writer thread: SQLite's COMMIT (fsync) has returned
        transactions += 1
        on_disk.update(batch.tables)

    backend.commit = commit_and_note  # type: ignore[method-assign]  # a spy on the writer

    async def set_value(i: int) -> None:
        reply = await chat.ok(f"/kpi set k{i} {10 * i}")
        assert reply.startswith(f"Saved KPI {i} = {10 * i}")
        # the reply exists only now: the value's month shard must already be on disk
        assert any(name.endswith(f":k{i}:2026-11") for name in on_disk), reply

    await asyncio.gather(*(set_value(i) for i in range(KPIS)))
    assert 1 <= transactions < KPIS  # they shared transactions
    core.close()
    reopened = build_core(tmp_path / "data")
    assert [
        m.value for i in range(KPIS) for m in reopened.store.kpis.latest("console:team", f"k{i}")
    ] == [10.0 * i for i in range(KPIS)]
    reopened.close()
