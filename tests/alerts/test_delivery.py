"""The outbox worker with a recording adapter and a fake sleep: nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.base import DeliveryError
from bot.app import build_core
from bot.delivery import Delivery, StoreOutbox, decode_reply, encode_reply
from handlers.contract import ChatRef, Image, Reply
from storage import Store, open_store
from tests.alerts.support import FakeSleep, RecordingAdapter
from tests.support import FixedClock

TEAM = ChatRef(platform="console", chat_id="team")
OTHER = ChatRef(platform="console", chat_id="other")


def put(store: Store, clock: FixedClock, text: str, to: ChatRef = TEAM) -> None:
    StoreOutbox(store, clock).put(Reply(text=text, to=to, kind="alert"), key=text)


@pytest.fixture
def store() -> Store:
    return open_store(None)


@pytest.fixture
def adapter() -> RecordingAdapter:
    return RecordingAdapter()


@pytest.fixture
async def delivery(
    store: Store, clock: FixedClock, adapter: RecordingAdapter
) -> AsyncIterator[Delivery]:
    worker = Delivery(store, [adapter], clock=clock, sleep=FakeSleep(clock), max_attempts=4)
    await worker.start()
    yield worker
    await worker.stop()


async def test_messages_go_out_once_in_order_per_chat(
    store: Store, clock: FixedClock, adapter: RecordingAdapter, delivery: Delivery
) -> None:
    for text in ("one", "two", "three"):
        put(store, clock, text)
    put(store, clock, "elsewhere", OTHER)
    delivery.wake()
    await delivery.wait_idle()
    team = [r.text for r in adapter.sent if r.to == TEAM]
    assert team == ["one", "two", "three"]
    assert len(adapter.sent) == 4
    assert {e.status for e in store.outbox.entries("console:team")} == {"delivered"}
    assert all(e.body is None for e in store.outbox.entries("console:team"))
    delivery.wake()
    await delivery.wait_idle()
    assert len(adapter.sent) == 4


async def test_an_idempotency_key_queues_a_message_once(store: Store, clock: FixedClock) -> None:
    outbox = StoreOutbox(store, clock)
    reply = Reply(text="digest", to=TEAM, kind="digest")
    assert outbox.put(reply, key="digest:2026-11-23T09:00")
    assert not outbox.put(reply, key="digest:2026-11-23T09:00")
    assert len(store.outbox.pending("console:team")) == 1


async def test_transient_errors_are_retried_with_backoff_and_delivered_once(
    store: Store, clock: FixedClock, adapter: RecordingAdapter, delivery: Delivery
) -> None:
    adapter.fail_next(
        DeliveryError("network: 500", permanent=False),
        DeliveryError("network: timeout", permanent=False),
    )
    put(store, clock, "alert")
    put(store, clock, "after it")
    delivery.wake()
    await delivery.wait_idle()
    assert [r.text for r in adapter.sent] == ["alert", "after it"], "order kept behind retries"
    assert adapter.attempts == 4
    [first, second] = store.outbox.entries("console:team")
    assert first.status == "delivered" and first.attempts == 3
    assert second.attempts == 1


async def test_retry_after_is_honoured(
    store: Store, clock: FixedClock, adapter: RecordingAdapter
) -> None:
    sleep = FakeSleep(clock)
    worker = Delivery(store, [adapter], clock=clock, sleep=sleep)
    adapter.fail_next(DeliveryError("flood", permanent=False, retry_after=42.0))
    put(store, clock, "alert")
    await worker.start()
    try:
        await worker.wait_idle()
    finally:
        await worker.stop()
    assert sleep.sleeps == [42.0]
    assert [r.text for r in adapter.sent] == ["alert"]


async def test_permanent_errors_are_recorded_and_later_messages_still_go(
    store: Store, clock: FixedClock, adapter: RecordingAdapter, delivery: Delivery
) -> None:
    adapter.fail_next(DeliveryError("forbidden: bot was kicked", permanent=True))
    put(store, clock, "lost")
    put(store, clock, "next")
    delivery.wake()
    await delivery.wait_idle()
    [failure] = store.outbox.failures("console:team")
    assert failure.summary == "lost" and failure.last_error == "forbidden: bot was kicked"
    assert [r.text for r in adapter.sent] == ["next"]


async def test_retries_give_up_after_the_last_attempt(
    store: Store, clock: FixedClock, adapter: RecordingAdapter, delivery: Delivery
) -> None:
    adapter.fail_next(*(DeliveryError("network: 502", permanent=False) for _ in range(4)))
    put(store, clock, "doomed")
    delivery.wake()
    await delivery.wait_idle()
    [failure] = store.outbox.failures("console:team")
    assert failure.last_error == "gave up after 4 attempts: network: 502"
    assert adapter.sent == []


async def test_messages_for_a_platform_that_is_not_running_wait(
    store: Store, clock: FixedClock, adapter: RecordingAdapter, delivery: Delivery
) -> None:
    put(store, clock, "for telegram", ChatRef(platform="telegram", chat_id="-100"))
    delivery.wake()
    await delivery.wait_idle()
    assert adapter.sent == []
    assert len(store.outbox.pending("telegram:-100")) == 1
    telegram = RecordingAdapter("telegram")
    delivery.add_adapter(telegram)
    await delivery.wait_idle()
    assert [r.text for r in telegram.sent] == ["for telegram"]


async def test_a_restart_delivers_what_was_pending_once(tmp_path: Path, clock: FixedClock) -> None:
    core = build_core(tmp_path, clock=clock)
    put(core.store, clock, "left behind")
    await core.store.commit()
    core.close()  # crashed before delivery

    for _ in range(2):
        adapter = RecordingAdapter()
        core = build_core(tmp_path, clock=clock)
        try:
            await core.start([adapter], schedule=False, sleep=FakeSleep(clock))
            assert core.delivery is not None
            await core.delivery.wait_idle()
            await core.stop()
        finally:
            core.close()
        sent = [r.text for r in adapter.sent]
        if _ == 0:
            assert sent == ["left behind"]
        else:
            assert sent == [], "delivered before: never again"


async def test_pictures_survive_the_outbox() -> None:
    reply = Reply(
        title="chart", image=Image(data=bytes(range(256)), filename="cac.png", alt="CAC"), to=TEAM
    )
    assert decode_reply(encode_reply(reply)) == reply


async def test_stopping_does_not_wait_for_a_retry_due_later(clock: FixedClock) -> None:
    async def long_backoff(seconds: float) -> None:
        await asyncio.Event().wait()  # a retry an hour away: never comes in this test

    core = build_core(None, clock=clock)
    adapter = RecordingAdapter()
    adapter.fail_next(DeliveryError("network: 503", permanent=False))
    put(core.store, clock, "later")
    await core.start([adapter], schedule=False, sleep=long_backoff)
    async with asyncio.timeout(2):
        assert core.delivery is not None
        await core.delivery.drain()
        await core.stop()
    [entry] = core.store.outbox.pending("console:team")
    assert (entry.attempts, entry.last_error) == (1, "network: 503")
    core.close()


class GatedAdapter(RecordingAdapter):
    """Holds each send until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.waiting = asyncio.Event()

    async def send(self, reply: Reply, skip: int = 0) -> None:
        self.waiting.set()
        await self.gate.wait()
        await super().send(reply, skip)


async def test_a_chat_moved_while_its_message_is_in_flight_gets_each_message_once(
    store: Store, clock: FixedClock
) -> None:
    adapter = GatedAdapter()
    delivery = Delivery(store, [adapter], clock=clock, sleep=FakeSleep(clock))
    await delivery.start()
    try:
        for text in ("one", "two", "three"):
            put(store, clock, text)
        delivery.wake()
        await adapter.waiting.wait()  # "one" is being sent to console:team

        assert store.move_chat("console:team", "console:moved")  # e.g. a group upgrade
        delivery.chat_moved("console:team", "console:moved")
        for _ in range(20):  # the worker looks at the outbox again meanwhile
            await asyncio.sleep(0)
        adapter.gate.set()
        await delivery.wait_idle()

        assert [r.text for r in adapter.sent] == ["one", "two", "three"]
        assert [r.to for r in adapter.sent][1:] == [
            ChatRef(platform="console", chat_id="moved")
        ] * 2
        entries = store.outbox.entries("console:moved")
        assert [(e.summary, e.status) for e in entries] == [
            ("one", "delivered"),
            ("two", "delivered"),
            ("three", "delivered"),
        ]
        assert store.outbox.entries("console:team") == []
    finally:
        await delivery.stop()
