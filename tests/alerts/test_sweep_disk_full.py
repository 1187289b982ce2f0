"""A sweep whose commit the disk refused: what it would have sent is tried again at the
next sweep, not when the lost step said the chat would next need a look; so are held
alerts whose flush timer's commit the disk refused."""

from __future__ import annotations

import errno
from typing import Any

import pytest

from bot.app import Core
from bot.scheduler import Scheduler
from handlers.contract import Context
from handlers.jobs import sweeper
from handlers.jobs.sweeper import SweepReport
from storage.errors import StoreFailed
from storage.port import Batch
from tests.alerts.support import queued_text
from tests.support import FakeChat, FixedClock


def _full(batch: Batch) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


CAC = '/kpi add cac "CAC" baseline=120 target=80 unit=$ perspective=finance every=week'


async def test_a_reminder_lost_to_a_full_disk_goes_out_at_the_next_sweep(
    chat: FakeChat, core: Core, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await chat.ok(CAC)
    await chat.ok("/alerts set group=0 repeat=1d")
    await chat.ok("/kpi set cac 130")  # red, told now
    scheduler = Scheduler(core.ctx, after_run=core.after_commit)
    await scheduler.run_sweep()  # nothing due; the chat's next look is in a day
    clock.advance(days=1)
    backend = core.store.db.backend
    saved = backend.commit

    monkeypatch.setattr(backend, "commit", _full)
    with pytest.raises(StoreFailed):
        await scheduler.run_sweep()  # the reminder is queued, then lost with the commit
    assert not any("still red" in text for text in queued_text(core))
    monkeypatch.setattr(backend, "commit", saved)  # space is back
    clock.advance(minutes=5)
    report = await scheduler.run_sweep()
    assert report.reminders == 1
    assert "is still red" in queued_text(core)[-1]
    clock.advance(minutes=5)
    assert (await scheduler.run_sweep()).chats == 0  # told once: trusted again till tomorrow


async def test_a_sweep_lost_with_another_commands_failed_commit_is_looked_at_again(
    chat: FakeChat, core: Core, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep's own commit finds nothing left to save (a command's commit carried its
    changes to the full disk, and they were rolled back): it must not trust its looks."""
    await chat.ok(CAC)
    await chat.ok("/alerts set group=0 repeat=1d")
    await chat.ok("/kpi set cac 130")
    scheduler = Scheduler(core.ctx, after_run=core.after_commit)
    await scheduler.run_sweep()
    clock.advance(days=1)
    backend = core.store.db.backend
    saved = backend.commit
    real_sweep = sweeper.sweep

    async def sweep_then_a_command_on_a_full_disk(ctx: Context, **kwargs: Any) -> SweepReport:
        report = await real_sweep(ctx, **kwargs)
        monkeypatch.setattr(backend, "commit", _full)
        assert "Could not save" in await chat.ask("/kpi set cac 131")
        monkeypatch.setattr(backend, "commit", saved)
        return report

    monkeypatch.setattr(sweeper, "sweep", sweep_then_a_command_on_a_full_disk)
    assert (await scheduler.run_sweep()).reminders == 1  # queued, then lost
    monkeypatch.setattr(sweeper, "sweep", real_sweep)
    assert not any("still red" in text for text in queued_text(core))
    clock.advance(minutes=5)
    assert (await scheduler.run_sweep()).reminders == 1
    assert "is still red" in queued_text(core)[-1]


async def test_held_alerts_whose_flush_the_disk_refused_go_out_at_the_next_sweep(
    chat: FakeChat, core: Core, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The flush timer is a one-off: when its commit fails, the waiting alerts are still
    waiting, and the sweep must look at the chat at once rather than at its next daily look
    (here the alert was held by a step that did not touch the sweep's memory, as a /source
    pull's)."""
    await chat.ok(CAC)
    scheduler = Scheduler(core.ctx, after_run=core.after_commit)
    await scheduler.run_sweep()  # nothing red: the next look is a day away
    key = chat.chat.key
    await chat.ok("/kpi set cac 130")  # red: held for the group window
    assert queued_text(core, key) == []
    clock.advance(minutes=1)
    backend = core.store.db.backend
    saved = backend.commit
    monkeypatch.setattr(backend, "commit", _full)
    with pytest.raises(StoreFailed):
        await scheduler.run_chat_job("flush", key)
    assert queued_text(core, key) == []
    monkeypatch.setattr(backend, "commit", saved)  # space is back
    clock.advance(minutes=5)  # the next sweep
    assert (await scheduler.run_sweep()).flushed == 1
    [alert] = queued_text(core, key)
    assert alert.startswith("🔴 CAC is red")
