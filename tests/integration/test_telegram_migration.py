"""A Telegram group upgraded to a supergroup keeps its scorecard under the new chat id.

The real router, a file-backed store, the outbox worker and the scheduler behind the
real PTB Application and the fake Bot API on 127.0.0.1. Telegram reports the upgrade
with a service message in each chat and, to a bot still sending to the old id, with a
ChatMigrated error; any of them moves the data, once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.adapters import telegram_format as tg_fmt
from bot.adapters.base import MemorySeenLog
from bot.adapters.telegram import TelegramAdapter
from bot.app import Core, build_core
from handlers.contract import Actor, ChatRef
from handlers.parsing import command_from_text
from storage.moves import chat_tables
from tests.alerts.support import FakeSleep
from tests.fakes.telegram_api import (
    TOKEN,
    FakeTelegramAPI,
    basic_group,
    message,
    migration_updates,
    user,
)
from tests.integration.harness import Recorder
from tests.support import FakeTime, FixedClock

OLD = -4001
NEW = -1004001
OLD_REF = ChatRef(platform="telegram", chat_id=str(OLD))
NEW_REF = ChatRef(platform="telegram", chat_id=str(NEW))
ANNA = user("Anna", username="anna", user_id=5001)
SEED = (
    "/alerts set group=0",  # each alert goes out at once
    "/scorecard apply content-marketing",
    "/kpi set traffic 15000",
    "/kpi set conversion 2.5",
    "/okr cycle 2026Q4",
    '/okr add delight "Delight our customers" cycle=2026Q4',
    '/okr kr delight nps "Raise NPS" start=30 target=50',
    "/okr checkin nps 38",
    "/timezone Europe/Berlin",
    "/digest every mon 09:00",
)

CPL = '/kpi add cpl "Cost per lead" baseline=120 target=80 unit=$ perspective=finance'


@asynccontextmanager
async def running_bot(
    api: FakeTelegramAPI,
    data: Path,
    clock: FixedClock,
    *,
    schedule: bool = True,
    before_start: tuple[str, ...] = (),
) -> AsyncIterator[tuple[Core, Recorder]]:
    """The whole bot; `before_start` commands run in the old group before delivery starts."""
    core = build_core(data, clock=clock)
    await seed(core, clock, *before_start)
    recorder = Recorder(core.dispatch)
    time = FakeTime()
    adapter = TelegramAdapter(
        TOKEN,
        recorder,
        base_url=api.base_url,
        seen=MemorySeenLog(),
        clock=clock,
        on_chat_moved=core.move_chat,  # as bot/run.py wires it
        poll_timeout=1,
        monotonic=time.monotonic,
        sleep=time.sleep,
    )
    await adapter.start()
    try:
        await core.start([adapter], schedule=schedule, sleep=FakeSleep(clock))
        try:
            yield core, recorder
        finally:
            await core.stop()
    finally:
        await adapter.stop()
        core.close()


async def seed(core: Core, clock: FixedClock, *texts: str) -> None:
    """Commands of the old group, straight through the router (no group rate limit)."""
    actor = Actor(platform="telegram", user_id="5001", display_name="Anna", handle="@anna")
    for text in texts:
        cmd = command_from_text(text, actor=actor, chat=OLD_REF, received_at=clock())
        assert cmd is not None
        replies = await core.dispatch(cmd)
        assert all(r.kind != "error" for r in replies), [r.plain() for r in replies]


async def ask(api: FakeTelegramAPI, recorder: Recorder, chat: dict[str, object], text: str) -> str:
    """Type `text` in `chat`; the bot's answer, once Telegram has shown it there."""
    sent = message(text, chat=chat, sender=ANNA)
    api.push_update({"message": sent})
    _, [reply] = await recorder.wait_for(
        lambda cmd: (
            cmd.chat.chat_id == str(chat["id"]) and cmd.message_id == str(sent["message_id"])
        )
    )
    html = tg_fmt.render_reply(reply, str)[0].html
    await api.wait_until(
        lambda: any(
            c.ok and c.params["chat_id"] == str(chat["id"]) and c.params.get("text") == html
            for c in api.calls_of("sendMessage")
        )
    )
    return reply.plain()


def supergroup(chat_id: int = NEW) -> dict[str, object]:
    return {"id": chat_id, "type": "supergroup", "title": "Marketing"}


async def test_service_messages_move_the_scorecard_to_the_supergroup(
    tmp_path: Path, clock: FixedClock
) -> None:
    async with FakeTelegramAPI() as api, running_bot(api, tmp_path, clock) as (core, recorder):
        await seed(core, clock, *SEED)
        before = await ask(api, recorder, basic_group(OLD), "/kpi")
        assert "Blog visitors" in before and "15 000" in before
        okrs = await ask(api, recorder, basic_group(OLD), "/okr")
        assert core.scheduler is not None
        assert f"digest:{OLD_REF.key}" in core.scheduler.job_ids()

        for update in migration_updates(OLD, NEW):  # both arrive: the second does nothing
            api.push_update(update)
        assert await ask(api, recorder, supergroup(), "/kpi") == before

        assert await ask(api, recorder, supergroup(), "/okr") == okrs
        assert "Europe/Berlin" in await ask(api, recorder, supergroup(), "/timezone")
        assert chat_tables(core.store.db, OLD_REF.key, with_data=False) == []
        jobs = core.scheduler.job_ids()
        assert f"digest:{NEW_REF.key}" in jobs and f"okr-checkin:{NEW_REF.key}" in jobs
        assert not [job for job in jobs if OLD_REF.key in job]
        assert "20 000" in await ask(api, recorder, supergroup(), "/kpi set traffic 20000")

    # durable: a restart reads the scorecard under the supergroup's id
    async with FakeTelegramAPI() as api, running_bot(api, tmp_path, clock) as (core, recorder):
        assert "20 000" in await ask(api, recorder, supergroup(), "/kpi")
        assert "Blog visitors" not in await ask(api, recorder, basic_group(OLD), "/kpi")


async def test_a_send_refused_with_chat_migrated_moves_the_scorecard_and_its_alert(
    tmp_path: Path, clock: FixedClock
) -> None:
    # Alerts of the old group wait in the outbox; the bot has not seen the service
    # messages, so its first send to the old id fails with ChatMigrated.
    commands = (*SEED, CPL, "/kpi set cpl 130")
    bot = running_bot(api := FakeTelegramAPI(), tmp_path, clock, before_start=commands)
    async with api:
        api.fail_next("sendMessage", "migrated", chat_id=OLD, migrate_to_chat_id=NEW)
        async with bot as (core, recorder):
            assert core.delivery is not None
            await core.delivery.wait_idle()

            sent = [(c.params["chat_id"], c.ok) for c in api.calls_of("sendMessage")]
            outbox = core.store.outbox
            delivered = outbox.entries(NEW_REF.key)
            assert len(delivered) >= 3  # traffic and conversion yellow, cpl red, …
            assert [e.status for e in delivered] == ["delivered"] * len(delivered)
            assert outbox.pending(OLD_REF.key) == outbox.entries(OLD_REF.key) == []
            # one refused send, then each message exactly once, in order, to the supergroup
            assert sent == [(str(OLD), False)] + [(str(NEW), True)] * len(delivered)
            red = [
                c
                for c in api.calls_of("sendMessage", ok=True)
                if "Cost per lead is red" in str(c.params.get("text"))
            ]
            assert len(red) == 1

            kpis = await ask(api, recorder, supergroup(), "/kpi")
            assert "130 $" in kpis and "Cost per lead" in kpis and "Blog visitors" in kpis
            # the service messages arriving late change nothing
            for update in migration_updates(OLD, NEW):
                api.push_update(update)
            assert await ask(api, recorder, supergroup(), "/kpi") == kpis
            assert len(outbox.entries(NEW_REF.key)) == len(delivered)
