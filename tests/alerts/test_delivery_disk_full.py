"""The outbox worker while the disk refuses writes: a message the platform accepted is not
sent again because its "delivered" mark could not be saved, the worker does not spin, and
delivery resumes by itself (recording what arrived) once the disk takes writes again."""

from __future__ import annotations

import asyncio
import errno
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.adapters.base import DeliveryError
from bot.delivery import STORE_RETRY_S, Delivery, StoreOutbox
from handlers.contract import ChatRef, Reply
from storage import Store, open_store
from storage.port import Batch
from tests.alerts.support import RecordingAdapter
from tests.support import FixedClock

TEAM = ChatRef(platform="console", chat_id="team")


def _full(batch: Batch) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(tmp_path / "data")
    yield opened
    opened.close()


class Disk:
    """Switches the store's backend between refusing every commit and taking them."""

    def __init__(self, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
        self._backend = store.db.backend
        self._monkeypatch = monkeypatch

    def fill(self) -> None:
        self._monkeypatch.setattr(self._backend, "commit", _full)

    def free(self) -> None:
        self._monkeypatch.undo()


class Stalled:
    """An injected sleep that never ends by itself: the worker moves only when woken, so
    every send it makes meanwhile is one it chose to make at once."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        await asyncio.Event().wait()


async def _queued(store: Store, clock: FixedClock, *texts: str) -> None:
    for text in texts:
        StoreOutbox(store, clock).put(Reply(text=text, to=TEAM, kind="alert"), key=text)
    await store.commit()


async def test_a_message_sent_while_the_disk_is_full_is_not_sent_again(
    store: Store, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _queued(store, clock, "CAC is red", "Leads are green")
    adapter = RecordingAdapter()
    worker = Delivery(store, [adapter], clock=clock, sleep=Stalled())
    disk = Disk(store, monkeypatch)
    disk.fill()
    await worker.start()
    await worker.drain()  # a hot loop re-sending at every turn never settles
    assert [r.text for r in adapter.sent] == ["CAC is red"]  # the lane stops at the failure
    assert {e.status for e in store.outbox.entries("console:team")} == {"pending"}

    disk.free()
    clock.advance(seconds=STORE_RETRY_S)
    worker.wake()
    await worker.wait_idle()
    await worker.stop()
    assert [r.text for r in adapter.sent] == ["CAC is red", "Leads are green"]
    assert {e.status for e in store.outbox.entries("console:team")} == {"delivered"}


async def test_while_the_disk_is_full_the_worker_waits_and_says_so_once(
    store: Store,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await _queued(store, clock, "CAC is red")
    adapter = RecordingAdapter()
    adapter.fail_next(*[DeliveryError("503", permanent=False)] * 3)
    sleep = Stalled()
    worker = Delivery(store, [adapter], clock=clock, sleep=sleep)
    Disk(store, monkeypatch).fill()
    caplog.set_level(logging.INFO, logger="bot.delivery")
    await worker.start()
    await worker.drain()
    await worker.stop()
    # the failed try's retry mark was refused too: the next try waits for the store, not
    # for nothing (each retried at once would be three tries in these turns)
    assert adapter.attempts == 1
    assert sleep.asked == [STORE_RETRY_S]
    refusals = [r for r in caplog.records if "refuses writes" in r.getMessage()]
    assert len(refusals) == 1
    assert not [r for r in caplog.records if r.exc_info]  # no traceback per turn


class PartsAdapter(RecordingAdapter):
    """Records how many parts of each message every try was told had arrived before."""

    def __init__(self) -> None:
        super().__init__()
        self.skips: list[int] = []

    async def send(self, reply: Reply, skip: int = 0) -> None:
        self.skips.append(skip)
        await super().send(reply, skip)


async def test_parts_that_arrived_while_the_disk_was_full_are_not_sent_again(
    store: Store, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _queued(store, clock, "Weekly digest")
    adapter = PartsAdapter()
    cut = DeliveryError("503 on the second part", permanent=False)
    cut.sent_parts = 1  # the first part arrived
    adapter.fail_next(cut, DeliveryError("503 again", permanent=False))
    worker = Delivery(store, [adapter], clock=clock, sleep=Stalled(), backoff=lambda _: 60)
    disk = Disk(store, monkeypatch)
    disk.fill()
    await worker.start()
    await worker.drain()  # the retry's record (one part arrived) was refused with it

    disk.free()
    clock.advance(seconds=STORE_RETRY_S)
    worker.wake()
    await worker.drain()  # the rest failed again: the record saved now says one arrived
    clock.advance(seconds=60)
    worker.wake()
    await worker.wait_idle()
    await worker.stop()
    assert adapter.skips == [0, 1, 1]
    assert {e.status for e in store.outbox.entries("console:team")} == {"delivered"}
