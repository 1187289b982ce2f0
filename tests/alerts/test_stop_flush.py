"""`Core.stop` flushes alerts still waiting for their group before it stops delivery: a
flush that fails (it reads a damaged table) must not leave delivery running (reread10
finding 4, pct10)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.app import Core
from storage.errors import StoreCorrupt
from tests.alerts.support import FakeSleep, RecordingAdapter
from tests.support import FixedClock


async def test_a_flush_that_fails_at_stop_still_stops_delivery_and_is_said_once(
    core: Core,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The damaged table is raised after delivery has stopped (the CLI says it as its one
    exit line), not from the middle of stopping with the outbox worker still running, and
    nothing else is logged beside it (no traceback)."""
    await core.start([RecordingAdapter()], schedule=False, sleep=FakeSleep(clock))
    delivery = core.delivery
    assert delivery is not None
    damaged = StoreCorrupt(Path("data/alerts.db"), "table 'alerts' fails its checksum")

    def read_damaged() -> list[str]:
        raise damaged

    monkeypatch.setattr(core.store.alerts, "chats_with_queued_alerts", read_damaged)
    with pytest.raises(StoreCorrupt) as raised:
        await core.stop()
    assert raised.value is damaged
    assert core.delivery is None
    assert delivery._task is None  # the outbox worker was stopped, not left running
    assert "\n" not in str(damaged)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
