"""A command whose commit finds nothing else ready to run on the loop hands its batch to the
writer at once: no other command could join it in a loop turn, and the turn cost a whole
loop step at every closed-loop `/kpi set`. Commands ready in the same turn still share one
transaction (`test_writer_thread`). (A lone commit on a quiet loop then runs the transaction
itself: `test_commit_in_place`; here `HOLD_S` = 0 leaves it to the writer, to see its first
suspension.)"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from storage import engine
from storage.engine import Database


async def test_a_lone_commands_commit_first_waits_for_the_writer_not_for_a_loop_turn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "HOLD_S", 0.0)
    db = Database.open(tmp_path)
    db.table("t").insert({"n": 1})
    commit = db.commit()
    waiting = commit.send(None)  # up to its first suspension
    assert isinstance(waiting, asyncio.Future)  # sleep(0) would have yielded None
    await asyncio.wait({waiting})  # (the commit itself awaits it; the test only waits)
    with pytest.raises(StopIteration):
        commit.send(None)
    db.close()
    with Database.open(tmp_path) as again:
        assert again.table("t").all() == [{"n": 1}]


async def test_commands_ready_in_the_same_loop_turn_share_one_transaction(
    tmp_path: Path,
) -> None:
    db = Database.open(tmp_path)

    async def command(n: int) -> None:
        db.table(f"t{n}").insert({"n": n})
        await db.commit()

    await asyncio.gather(*(command(n) for n in range(5)))
    assert db.commits == 1
    db.close()
