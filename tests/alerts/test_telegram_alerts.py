"""Alerts end to end through the real PTB adapter and the fake Bot API on 127.0.0.1.

The real router, a file-backed store, the outbox worker and TelegramAdapter.send; time
for retries and pacing is fake (it advances instantly), so nothing sleeps.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.adapters.base import MemorySeenLog
from bot.adapters.policy import MAYBE_DELIVERED, TELEGRAM, DeliveryPolicy
from bot.adapters.telegram import TelegramAdapter
from bot.app import Core, build_core
from handlers.contract import Actor, ChatRef
from handlers.parsing import command_from_text
from tests.alerts.support import FakeSleep
from tests.fakes.telegram_api import TOKEN, Call, FakeTelegramAPI, group_message, user
from tests.support import FakeTime, FixedClock

GROUP = -1001234567890
CHAT = ChatRef(platform="telegram", chat_id=str(GROUP))
ANNA = Actor(platform="telegram", user_id="5001", display_name="Anna", handle="@anna")
SETUP = (
    '/kpi add cac "Customer acquisition cost" baseline=120 target=80 unit=$ perspective=finance',
    "/alerts set group=0",
)


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI() as fake:
        yield fake


async def start_bot(
    api: FakeTelegramAPI,
    data: Path,
    clock: FixedClock,
    policy: DeliveryPolicy = TELEGRAM,
    sleep: FakeSleep | None = None,
) -> Core:
    core = build_core(data, clock=clock)
    time = FakeTime()
    adapter = TelegramAdapter(
        TOKEN,
        core.dispatch,
        base_url=api.base_url,
        seen=MemorySeenLog(),
        clock=clock,
        poll_timeout=1,
        policy=policy,
        monotonic=time.monotonic,
        sleep=time.sleep,
    )
    await adapter.start()
    await core.start([adapter], schedule=False, sleep=sleep or FakeSleep(clock))
    _ADAPTERS[id(core)] = adapter
    return core


_ADAPTERS: dict[int, TelegramAdapter] = {}


async def stop_bot(core: Core) -> None:
    """Stop in reverse order: scheduler and delivery, then the adapter, then the store."""
    await core.stop()
    await _ADAPTERS.pop(id(core)).stop()
    core.close()


async def say(core: Core, text: str, clock: FixedClock) -> None:
    cmd = command_from_text(text, actor=ANNA, chat=CHAT, received_at=clock())
    assert cmd is not None
    [reply] = await core.dispatch(cmd)
    assert reply.kind != "error", reply.plain()


def alerts(api: FakeTelegramAPI, *, ok: bool | None = True) -> list[Call]:
    return [
        c
        for c in api.calls_of("sendMessage", ok=ok)
        if "acquisition cost is red" in str(c.params.get("text"))
    ]


async def idle(core: Core) -> None:
    assert core.delivery is not None
    await core.delivery.wait_idle()


async def test_a_value_crossing_a_threshold_sends_exactly_one_telegram_message(
    api: FakeTelegramAPI, tmp_path: Path, clock: FixedClock
) -> None:
    core = await start_bot(api, tmp_path, clock)
    try:
        anna = user("Anna", username="anna", user_id=5001)
        for n, text in enumerate((*SETUP, "/kpi set cac 130"), start=1):
            api.push_update(group_message(text, chat_id=GROUP, sender=anna))
            await api.wait_for("sendMessage", count=n)
        await api.wait_for("sendMessage", count=4)  # three answers and the alert
        await idle(core)
        [alert] = alerts(api)
        assert alert.params["chat_id"] == str(GROUP)
        text = alert.params["text"]
        assert "yellow" not in text and "first reading is red" in text
        assert "130 $ vs target 80 $" in text and "logged by @anna" in text
        assert len(api.calls_of("sendMessage")) == 4
    finally:
        await stop_bot(core)


async def test_two_server_errors_then_success_still_deliver_exactly_one_message(
    api: FakeTelegramAPI, tmp_path: Path, clock: FixedClock
) -> None:
    core = await start_bot(api, tmp_path, clock)
    try:
        for text in SETUP:
            await say(core, text, clock)
        api.fail_next("sendMessage", "server_error", 2, chat_id=GROUP)
        await say(core, "/kpi set cac 130", clock)
        await api.wait_for("sendMessage", count=3)
        await idle(core)
        assert len(alerts(api, ok=False)) == 2
        assert len(alerts(api, ok=True)) == 1
        [entry] = core.store.outbox.entries(CHAT.key)
        assert (entry.status, entry.attempts) == ("delivered", 3)
    finally:
        await stop_bot(core)


async def test_a_restart_with_an_undelivered_outbox_entry_delivers_it_once(
    api: FakeTelegramAPI, tmp_path: Path, clock: FixedClock
) -> None:
    core = build_core(tmp_path, clock=clock)  # no adapter running: the alert stays queued
    for text in (*SETUP, "/kpi set cac 130"):
        await say(core, text, clock)
    assert len(core.store.outbox.pending(CHAT.key)) == 1
    core.close()

    for _ in range(2):
        core = await start_bot(api, tmp_path, clock)
        try:
            await idle(core)
        finally:
            await stop_bot(core)
        assert len(alerts(api)) == 1
    assert len(api.calls_of("sendMessage")) == 1


async def cross_threshold(core: Core, clock: FixedClock, fault: Callable[[], None]) -> None:
    """Set the KPI up, inject `fault` into the fake, turn CAC red, let delivery finish."""
    for text in SETUP:
        await say(core, text, clock)
    fault()
    await say(core, "/kpi set cac 130", clock)
    await idle(core)


async def test_an_accept_slower_than_before_but_within_the_read_timeout_is_one_alert(
    api: FakeTelegramAPI, tmp_path: Path, clock: FixedClock
) -> None:
    # Scaled down: Telegram accepting after 8 s against a 20 s read timeout.
    core = await start_bot(api, tmp_path, clock, dataclasses.replace(TELEGRAM, read_timeout=1.0))
    try:
        await cross_threshold(core, clock, lambda: api.answer_late("sendMessage", 0.4))
        assert len(api.calls_of("sendMessage")) == 1
        [entry] = core.store.outbox.entries(CHAT.key)
        assert (entry.status, entry.attempts) == ("delivered", 1)
    finally:
        await stop_bot(core)


async def test_an_alert_that_may_have_arrived_is_sent_again_once_at_most(
    api: FakeTelegramAPI, tmp_path: Path, clock: FixedClock
) -> None:
    core = await start_bot(api, tmp_path, clock, dataclasses.replace(TELEGRAM, read_timeout=0.3))
    try:
        # accepted every time, answered after the read timeout
        await cross_threshold(core, clock, lambda: api.answer_late("sendMessage", 0.6, count=5))
        assert len(alerts(api)) == 2  # the first send and its one resend, never more
        [entry] = core.store.outbox.entries(CHAT.key)
        assert entry.status == "failed" and entry.last_error.startswith(MAYBE_DELIVERED)
    finally:
        await stop_bot(core)


async def test_a_flood_wait_over_a_minute_is_waited_out_by_the_outbox_then_delivered(
    api: FakeTelegramAPI, tmp_path: Path, clock: FixedClock
) -> None:
    sleep = FakeSleep(clock)
    core = await start_bot(api, tmp_path, clock, sleep=sleep)
    try:
        await cross_threshold(
            core,
            clock,
            lambda: api.fail_next("sendMessage", "retry_after", retry_after=117, chat_id=GROUP),
        )
        assert len(alerts(api, ok=False)) == 1 and len(alerts(api, ok=True)) == 1
        assert max(sleep.sleeps) == pytest.approx(117)  # the outbox waited, not the adapter
    finally:
        await stop_bot(core)
